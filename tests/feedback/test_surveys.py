"""Surveys: the default survey, the emailed one-click link (once, race-safe, closed after
21 days), reminders, editing until sent, and results that never name anyone nor break
down fewer than five answers."""
import datetime as dt
import re

import sqlalchemy as sa
import time_machine

from app.accounts.models import Role
from app.extensions import db
from app.feedback import services
from app.feedback.models import QuestionKind, Survey, SurveyAnswer, SurveyQuestion, SurveyResponse
from app.notifications.models import OutboxMessage
from app.teaching.models import Attendance, AttendanceMethod, AttendanceStatus, CourseStaff, StaffRole
from tests.factories import CourseFactory, EnrolmentFactory, SessionFactory, UserFactory
from tests.helpers import LOGIN, ROLES, build_world, check_access, login_as
from tests.integrity.harness import Shot, assert_doctor_clean, no_5xx, outcome, race, same

ENDED = dt.date(2026, 7, 10)
AFTER = dt.datetime(2026, 7, 11, 9, 0, tzinfo=dt.UTC)  # the day after, in Rome


def _ended_course(people: int = 6, *, attended: int | None = None, online: bool = False, **kwargs):
    course = CourseFactory(starts_on=ENDED - dt.timedelta(days=2), ends_on=ENDED, is_online=online, **kwargs)
    lead = UserFactory(role=Role.INSTRUCTOR, full_name="Lucia Verdi")
    db.session.add(CourseStaff(course_id=course.id, user_id=lead.id, role=StaffRole.LEAD))
    session = SessionFactory(course=course)
    enrolments = [EnrolmentFactory(course=course) for _ in range(people)]
    course.seats_taken = people
    for e in enrolments[: people if attended is None else attended]:
        db.session.add(Attendance(session_id=session.id, enrolment_id=e.id, status=AttendanceStatus.PRESENT,
                                  method=AttendanceMethod.SHEET))
    db.session.commit()
    return course, enrolments


def _link(message: OutboxMessage) -> str:
    from app.notifications.services import _render, _revive

    body = message.body_text or _render(message.template, message.language, _revive(message.context))[1]
    return re.search(r"/surveys/([^\s?]+)", body).group(1)


def _invitations(course_id: int) -> list[OutboxMessage]:
    return db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.template == "survey_invitation")
                              .order_by(OutboxMessage.id)).all()


def _answers(survey: Survey, **by_key) -> dict:
    data = {}
    for q in survey.questions:
        if q.key in by_key:
            data[f"q{q.id}"] = by_key[q.key]
    return data


def _full(survey: Survey) -> dict:
    return _answers(survey, satisfaction="5", relevance="4", nps="9", instructor="5")


def test_the_default_survey_has_every_question_in_three_languages(app_ctx):
    course, _ = _ended_course()
    survey = services.survey_for(course)
    db.session.commit()
    keys = [q.key for q in survey.questions]
    assert keys == ["satisfaction", "relevance", "organisation", "instructor", "nps", "knowledge_before",
                    "knowledge_after", "apply", "travel_mode", "travel_city"]
    assert all(set(q.text) == {"en", "it", "zh"} and all(q.text.values()) for q in survey.questions)
    instructor = next(q for q in survey.questions if q.key == "instructor")
    assert "Lucia Verdi" in instructor.text["zh"]
    modes = next(q for q in survey.questions if q.key == "travel_mode")
    assert [c["value"] for c in modes.choices] == ["plane", "train", "car", "bus", "local"]
    # Asking twice gives the same survey (one per course).
    assert services.survey_for(course).id == survey.id
    assert db.session.scalar(sa.select(sa.func.count(Survey.id))) == 1


def test_invitations_go_to_those_who_attended_once_the_course_has_ended_where_it_took_place(app_ctx):
    course, enrolments = _ended_course(people=6, attended=4)
    # 23:30 UTC on the last day is already the next day in Rome... but not in UTC: Rome decides.
    with time_machine.travel(dt.datetime(2026, 7, 10, 21, 30, tzinfo=dt.UTC), tick=False):
        assert services.send_invitations()["invitations"] == 0  # 23:30 in Rome: still the last day
    with time_machine.travel(dt.datetime(2026, 7, 10, 22, 30, tzinfo=dt.UTC), tick=False):
        counts = services.send_invitations()
    assert counts == {"surveys": 1, "invitations": 4}
    messages = _invitations(course.id)
    assert sorted(m.user_id for m in messages) == sorted(e.user_id for e in enrolments[:4])
    survey = services.survey_of(course.id)
    assert survey.invited_count == 4
    assert survey.closes_at == dt.datetime(2026, 7, 10, 22, 30, tzinfo=dt.UTC) + dt.timedelta(days=21)
    # Again: nothing more.
    with time_machine.travel(AFTER, tick=False):
        assert services.send_invitations() == {"surveys": 0, "invitations": 0}
    assert len(_invitations(course.id)) == 4


def test_a_reminder_after_three_days_to_those_who_have_not_answered_only(app_ctx, client):
    course, enrolments = _ended_course(people=3)
    with time_machine.travel(AFTER, tick=False):
        services.send_invitations()
        token = services.token_for(services.survey_of(course.id), enrolments[0].id)
        survey = services.survey_of(course.id)
        assert client.post(f"/surveys/{token}", data=_full(survey)).status_code == 302
    with time_machine.travel(AFTER + dt.timedelta(days=2, hours=23), tick=False):
        assert services.send_reminders() == {"reminders": 0}
    with time_machine.travel(AFTER + dt.timedelta(days=3), tick=False):
        assert services.send_reminders() == {"reminders": 2}
        assert services.send_reminders() == {"reminders": 0}
    db.session.rollback()
    reminded = db.session.scalars(sa.select(OutboxMessage.user_id).where(
        OutboxMessage.dedupe_key.like("survey-reminder:%"))).all()
    assert sorted(reminded) == sorted(e.user_id for e in enrolments[1:])


def test_the_link_opens_the_survey_without_login_in_the_persons_language_and_works_once(app_ctx, client):
    course, enrolments = _ended_course(people=1)
    enrolments[0].user.locale = "zh"
    db.session.commit()
    with time_machine.travel(AFTER, tick=False):
        services.send_invitations()
        message = _invitations(course.id)[0]
        assert message.language == "zh"
        token = _link(message)
        page = client.get(f"/surveys/{token}?lang=zh")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "总体而言" in html and "飞机" in html  # the questions in Chinese, travel asked (in person)
        survey = services.survey_of(course.id)
        data = _answers(survey, satisfaction="4", relevance="5", nps="10", knowledge_before="2", knowledge_after="4",
                        apply="节能审计 <script>x</script>", travel_mode="train", travel_city="Milano")
        response = client.post(f"/surveys/{token}", data=data)
        assert response.status_code == 302 and response.headers["Location"].endswith(f"/surveys/{token}/thanks")
        again = client.post(f"/surveys/{token}", data=data)
        assert again.status_code == 409 and "您已填写过此问卷" in again.get_data(as_text=True)  # in Chinese, chosen by the link
        assert client.get(f"/surveys/{token}").status_code == 200  # says thank you, no form
    db.session.rollback()  # a fresh snapshot: the requests committed in their own sessions
    saved = db.session.scalar(sa.select(SurveyResponse))
    assert saved.enrolment_id == enrolments[0].id and saved.language == "zh"
    by_key = {a.question.key: a for a in saved.answers}
    assert by_key["satisfaction"].number == 4 and by_key["travel_mode"].text == "train"
    assert by_key["apply"].text == "节能审计 <script>x</script>"  # kept as typed, escaped when shown


def test_bad_answers_are_refused_with_a_message_and_nothing_saved(app_ctx, client):
    course, enrolments = _ended_course(people=1)
    with time_machine.travel(AFTER, tick=False):
        services.send_invitations()
        survey = services.survey_of(course.id)
        token = services.token_for(survey, enrolments[0].id)
        for bad in ({**_full(survey), **_answers(survey, satisfaction="6")},
                    {**_full(survey), **_answers(survey, nps="ten")},
                    {**_full(survey), **_answers(survey, travel_mode="rocket")},
                    {**_full(survey), **_answers(survey, apply="x" * 2001)},
                    _answers(survey, relevance="3")):  # the required ones missing
            response = client.post(f"/surveys/{token}", data=bad)
            assert response.status_code == 400
            assert "text-danger" in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(SurveyResponse.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(SurveyAnswer.id))) == 0


def test_a_tampered_link_another_courses_enrolment_and_a_closed_survey_get_clear_pages(app_ctx, client):
    course, enrolments = _ended_course(people=1)
    other, other_people = _ended_course(people=1)
    with time_machine.travel(AFTER, tick=False):
        services.send_invitations()
        survey = services.survey_of(course.id)
        token = services.token_for(survey, enrolments[0].id)
        assert client.get(f"/surveys/{token[:-2]}xx").status_code == 404
        # A genuine signature over another course's enrolment opens nothing.
        crossed = services.token_for(survey, other_people[0].id)
        page = client.get(f"/surveys/{crossed}")
        assert page.status_code == 404 and "not valid" in page.get_data(as_text=True)
        assert client.post(f"/surveys/{crossed}", data=_full(survey)).status_code == 404
        assert client.get("/surveys/" + "a" * 500).status_code == 404
    with time_machine.travel(AFTER + dt.timedelta(days=21, seconds=1), tick=False):
        closed = client.post(f"/surveys/{token}", data=_full(survey))
        assert closed.status_code == 410 and "closed" in closed.get_data(as_text=True)
        assert client.get(f"/surveys/{token}").status_code == 410
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(SurveyResponse.id))) == 0


def test_online_activities_do_not_ask_about_travel(app_ctx, client):
    course, enrolments = _ended_course(people=1, online=True)
    with time_machine.travel(AFTER, tick=False):
        services.send_invitations()
        token = services.token_for(services.survey_of(course.id), enrolments[0].id)
        html = client.get(f"/surveys/{token}").get_data(as_text=True)
    assert "Overall, how satisfied" in html and "How did you travel" not in html


def test_eight_submissions_of_one_link_at_once_save_one_response(app):
    with app.app_context():
        course, enrolments = _ended_course(people=1)
        with time_machine.travel(AFTER, tick=False):
            services.send_invitations()
        survey = services.survey_of(course.id)
        token, data = services.token_for(survey, enrolments[0].id), _full(survey)
        db.session.remove()
    with time_machine.travel(AFTER + dt.timedelta(hours=1), tick=True):
        codes = race(same(Shot(None, f"/surveys/{token}", data), [app.test_client() for _ in range(8)]))
    no_5xx(codes)
    assert outcome(codes) == {302: 1, 409: 7}
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(SurveyResponse.id))) == 1
    assert_doctor_clean(app)


def test_results_hide_everything_below_five_responses_and_never_show_names(app_ctx, client):
    world = build_world()
    course, enrolments = _ended_course(people=5)
    names = [e.user.full_name for e in enrolments]
    with time_machine.travel(AFTER, tick=False):
        services.send_invitations()
        survey = services.survey_of(course.id)
        for i, e in enumerate(enrolments[:4]):
            token = services.token_for(survey, e.id)
            assert client.post(f"/surveys/{token}", data={
                **_answers(survey, satisfaction=str(5 - i % 2), relevance="4", nps=str(10 - i), instructor="5"),
                **_answers(survey, apply=f"Comment number {i}")}).status_code == 302
        login_as(client, world, "admin")
        four = client.get(f"/admin/courses/{course.id}/survey/results").get_data(as_text=True)
        assert 'id="too-few"' in four and "Comment number" not in four and "average" not in four
        client.post("/auth/logout")
        token = services.token_for(survey, enrolments[4].id)
        assert client.post(f"/surveys/{token}", data={
            **_answers(survey, satisfaction="3", relevance="4", nps="6", instructor="4"),
            **_answers(survey, apply="Comment number 4")}).status_code == 302
        login_as(client, world, "admin")
        five = client.get(f"/admin/courses/{course.id}/survey/results").get_data(as_text=True)
    assert 'id="too-few"' not in five
    assert all(f"Comment number {i}" in five for i in range(5))
    # 5,4,5,4,3 → 4.2; NPS: promoters 10,9 (2), detractors 6 (1) of 5 → 20
    assert "average 4.2" in five and "NPS 20" in five
    assert not any(name in five for name in names)
    # The organisation question got no answers: not broken down.
    assert "Fewer than 5 answers: not shown." in five


def test_the_editor_adds_changes_moves_removes_and_locks_once_sent(app_ctx, client):
    world = build_world()
    course, enrolments = _ended_course(people=1)
    login_as(client, world, "admin")
    assert client.get(f"/admin/courses/{course.id}/survey").status_code == 200
    db.session.rollback()
    survey = services.survey_of(course.id)
    n = len(survey.questions)
    added = client.post(f"/admin/courses/{course.id}/survey", data={
        "kind": "multiple", "text_en": "Which topics helped?", "text_zh": "哪些主题有帮助？",
        "choices": "Energy audits | Audit energetici | 能源审计\nProcurement\n", "required": "y"})
    assert added.status_code == 302
    db.session.rollback()
    q = db.session.scalar(sa.select(SurveyQuestion).where(SurveyQuestion.text["en"].as_string() == "Which topics helped?"))
    assert q.kind is QuestionKind.MULTIPLE and q.text["it"] == "Which topics helped?"  # falls back to English
    assert [c["zh"] for c in q.choices] == ["能源审计", "Procurement"]
    bad = client.post(f"/admin/courses/{course.id}/survey", data={"kind": "single", "text_en": "One?", "choices": "Only"})
    assert bad.status_code == 400 and "at least two choices" in bad.get_data(as_text=True)
    assert client.post(f"/admin/courses/{course.id}/survey", data={"kind": "bogus", "text_en": "x"}).status_code == 400
    changed = client.post(f"/admin/courses/{course.id}/survey/{q.id}", data={
        f"q{q.id}-text_en": "Which topics helped you most?", f"q{q.id}-choices": "A\nB\nC"})
    assert changed.status_code == 302
    db.session.rollback()
    assert q.text["en"] == "Which topics helped you most?" and len(q.choices) == 3 and q.required is False
    assert client.post(f"/admin/courses/{course.id}/survey/{q.id}/move", data={"direction": "up"}).status_code == 302
    db.session.rollback()
    ordered = [x.id for x in services.survey_of(course.id).questions]
    assert ordered.index(q.id) == n - 1
    assert client.post(f"/admin/courses/{course.id}/survey/{q.id}/move", data={"direction": "sideways"}).status_code == 400
    assert client.post(f"/admin/courses/{course.id}/survey/999999/remove").status_code == 404
    assert client.post(f"/admin/courses/{course.id}/survey/{q.id}/remove").status_code == 302
    db.session.rollback()
    assert len(services.survey_of(course.id).questions) == n
    with time_machine.travel(AFTER, tick=False):
        services.send_invitations()
    db.session.commit()
    first = services.survey_of(course.id).questions[0]
    locked = client.post(f"/admin/courses/{course.id}/survey/{first.id}", data={f"q{first.id}-text_en": "Changed"})
    assert locked.status_code == 409 and "can no longer change" in locked.get_data(as_text=True)
    db.session.rollback()
    assert first.text["en"] != "Changed"


def test_access_to_the_editor_and_results(app):
    with app.app_context():
        world = build_world()
        course_id = world.course_id
    editor = {"anonymous": LOGIN, "participant": 404, "other_participant": 404, "other_instructor": 404,
              "instructor": 404, "admin": 200}
    staff = {"anonymous": LOGIN, "participant": 404, "other_participant": 404, "other_instructor": 404,
             "instructor": 200, "admin": 200}
    for role in ROLES:
        client = app.test_client()
        with app.app_context():
            login_as(client, world, role)
        check_access(client, "GET", f"/admin/courses/{course_id}/survey", editor[role])
        check_access(client, "GET", f"/admin/courses/{course_id}/survey/results", editor[role])
        check_access(client, "GET", f"/teach/courses/{world.slug}/survey", staff[role])
        check_access(client, "GET", f"/teach/courses/{world.other_slug}/survey",
                     {"admin": 200, "other_instructor": 200, "anonymous": LOGIN}.get(role, 404))


def test_waiting_surveys_are_listed_on_my_page(app_ctx, client):
    course, enrolments = _ended_course(people=1)
    enrolments[0].user.email = "someone@example.org"
    db.session.commit()
    with time_machine.travel(AFTER, tick=False):
        services.send_invitations()
        client.post("/auth/login", data={"email": "someone@example.org", "password": "correct-horse-battery"})
        page = client.get("/me").get_data(as_text=True)
        assert 'id="surveys-waiting"' in page and course.title in page
        token = services.token_for(services.survey_of(course.id), enrolments[0].id)
        client.post(f"/surveys/{token}", data=_full(services.survey_of(course.id)))
        assert 'id="surveys-waiting"' not in client.get("/me").get_data(as_text=True)


def test_two_schedulers_at_once_invite_each_person_once(app):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from tests.conftest import Config

    today = dt.datetime.now(dt.UTC).date()
    with app.app_context():
        course = CourseFactory(starts_on=today - dt.timedelta(days=3), ends_on=today - dt.timedelta(days=2), capacity=20)
        session = SessionFactory(course=course)
        for _ in range(12):
            e = EnrolmentFactory(course=course)
            db.session.add(Attendance(session_id=session.id, enrolment_id=e.id, status=AttendanceStatus.PRESENT,
                                      method=AttendanceMethod.SELF_CHECKIN))
        course.seats_taken = 12
        db.session.commit()
        db.session.remove()
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "FLASK_APP": "wsgi.py", "PONTE_CONFIG": "development",
           "DATABASE_URL": Config.SQLALCHEMY_DATABASE_URI, "SECRET_KEY": "testing-only-not-secret",
           "MAIL_BACKEND": "memory"}
    flask = str(Path(sys.executable).parent / "flask")
    procs = [subprocess.Popen([flask, "scheduler", "run-once", "survey_mailings"], cwd=root, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    with app.app_context():
        recipients = db.session.scalars(sa.select(OutboxMessage.recipient).where(
            OutboxMessage.template == "survey_invitation")).all()
        assert len(recipients) == 12 and len(set(recipients)) == 12
        assert db.session.scalar(sa.select(sa.func.count(Survey.id))) == 1
    assert_doctor_clean(app)


def test_a_persons_answers_are_in_their_export_and_their_words_go_with_erasure(app_ctx, client):
    from app.privacy.erasure import erase
    from app.privacy.export import person_data

    course, enrolments = _ended_course(people=2)
    admin = UserFactory(role=Role.ADMIN)
    with time_machine.travel(AFTER, tick=False):
        services.send_invitations()
        survey = services.survey_of(course.id)
        for i, e in enumerate(enrolments):
            token = services.token_for(survey, e.id)
            assert client.post(f"/surveys/{token}", data={**_full(survey), **_answers(
                survey, apply=f"My plan number {i}", travel_mode="train")}).status_code == 302
    db.session.rollback()
    mine, _files = person_data(enrolments[0].user, AFTER)
    (answers,) = mine["survey_answers"]
    assert answers["activity"] == course.title
    by_question = {a["question"]: a["answer"] for a in answers["answers"]}
    assert by_question["What will you apply in your work?"] == "My plan number 0"
    assert by_question["How did you travel to the venue (the longest part of the trip)?"] == "Train"
    assert "My plan number 1" not in str(mine)  # nothing of the other person
    erase(enrolments[0].user, actor=admin)
    db.session.commit()
    texts = db.session.scalars(sa.select(SurveyAnswer.text).join(SurveyResponse).where(
        SurveyResponse.enrolment_id == enrolments[0].id)).all()
    assert "My plan number 0" not in texts and "train" in texts  # words gone, choices counted
    numbers = db.session.scalars(sa.select(SurveyAnswer.number).join(SurveyResponse).where(
        SurveyResponse.enrolment_id == enrolments[0].id, SurveyAnswer.number.is_not(None))).all()
    assert sorted(numbers) == [4, 5, 5, 9]



def test_control_characters_long_choice_lines_and_early_thanks_are_refused(app_ctx, client):
    course, enrolments = _ended_course(people=1)
    world = build_world()
    login_as(client, world, "admin")
    bad = client.post(f"/admin/courses/{course.id}/survey", data={
        "kind": "single", "text_en": "Which?", "choices": "a | b | c | d\ne"})
    assert bad.status_code == 400 and "at most three texts" in bad.get_data(as_text=True)
    db.session.rollback()  # a fresh snapshot: the editor created the survey in its own session
    first = services.survey_of(course.id).questions[0]
    empty = client.post(f"/admin/courses/{course.id}/survey/{first.id}", data={f"q{first.id}-text_en": ""})
    assert empty.status_code == 400 and "This field is required" in empty.get_data(as_text=True)
    client.post("/auth/logout")
    with time_machine.travel(AFTER, tick=False):
        services.send_invitations()
        survey = services.survey_of(course.id)
        token = services.token_for(survey, enrolments[0].id)
        early = client.get(f"/surveys/{token}/thanks")
        assert early.status_code == 302 and early.headers["Location"].endswith(f"/surveys/{token}")
        sneaky = client.post(f"/surveys/{token}", data={**_full(survey), **_answers(survey, apply="\u202eevil\x00")})
        assert sneaky.status_code == 400 and "not allowed" in sneaky.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(SurveyResponse.id))) == 0


def test_a_removed_instructor_question_stays_removed_when_the_survey_goes_out(app_ctx):
    course, _people = _ended_course(people=1)
    survey = services.survey_for(course)
    admin = UserFactory(role=Role.ADMIN)
    question = next(q for q in survey.questions if q.key == "instructor")
    services.remove_question(survey, question, admin)
    db.session.commit()
    newcomer = UserFactory(role=Role.INSTRUCTOR, full_name="Wang Fang")
    db.session.add(CourseStaff(course_id=course.id, user_id=newcomer.id, role=StaffRole.INSTRUCTOR,
                               created_at=survey.created_at + dt.timedelta(seconds=1)))
    db.session.commit()
    with time_machine.travel(AFTER, tick=False):
        services.send_invitations()
    db.session.rollback()
    rated = [q.instructor_id for q in services.survey_of(course.id).questions if q.key == "instructor"]
    assert rated == [newcomer.id]  # Lucia Verdi's question is not back; the newcomer's was added


def test_where_people_travelled_from_is_counted_not_listed(app_ctx, client):
    world = build_world()
    course, enrolments = _ended_course(people=5)
    with time_machine.travel(AFTER, tick=False):
        services.send_invitations()
        survey = services.survey_of(course.id)
        for i, e in enumerate(enrolments):
            client.post(f"/surveys/{services.token_for(survey, e.id)}", data={
                **_full(survey), **_answers(survey, travel_city="Milano" if i == 0 else "Shanghai")})
    login_as(client, world, "admin")
    html = client.get(f"/admin/courses/{course.id}/survey/results").get_data(as_text=True)
    assert "Milano" not in html and "Used for the travel estimate only" in html
