import csv
import datetime as dt
import io

import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.catalogue.models import CourseStatus, EnrolmentMode
from app.core.types import utcnow
from app.enrolment.models import Enrolment
from app.enrolment.models import EnrolmentStatus as S
from app.extensions import db
from app.teaching.models import CourseStaff, StaffRole
from tests.factories import CourseFactory, EnrolmentFactory, UserFactory

pytestmark = pytest.mark.usefixtures("app_ctx")


def _status(enrolment_id):
    db.session.rollback()  # end the test's read snapshot: see what the requests committed
    return db.session.get(Enrolment, enrolment_id).status


def test_enrol_then_see_it_on_me_then_withdraw(client, auth, mail):
    course = CourseFactory(title="Green Finance", capacity=3)
    UserFactory(email="p@example.org")
    auth.login("p@example.org")
    response = client.post(f"/courses/{course.slug}/enrol", follow_redirects=True)
    assert "You are enrolled in Green Finance" in response.get_data(as_text=True)
    assert mail[-1]["Subject"] == "Your place is confirmed: Green Finance"
    me = client.get("/me").get_data(as_text=True)
    assert "Green Finance" in me and "Accepted" in me and "Withdraw" in me
    response = client.post(f"/courses/{course.slug}/withdraw", follow_redirects=True)
    assert "You have withdrawn from Green Finance" in response.get_data(as_text=True)
    assert "Withdrawn" in client.get("/me").get_data(as_text=True)


@pytest.mark.parametrize(("locale", "label"), [("en", "Withdraw from this course"), ("it", "Ritirati dal corso"),
                                               ("zh", "退出课程")])
def test_withdrawing_asks_first_and_says_what_it_means(client, auth, locale, label):
    course = CourseFactory(title="Green Finance", capacity=3)
    user = UserFactory(email="p@example.org", locale=locale)
    enrolment = EnrolmentFactory(course=course, user=user)
    db.session.commit()
    auth.login("p@example.org")
    assert label in client.get("/me").get_data(as_text=True)
    page = client.get(f"/courses/{course.slug}/withdraw")
    assert page.status_code == 200
    assert label in page.get_data(as_text=True)
    assert _status(enrolment.id) is S.ACCEPTED  # asking changes nothing


def test_the_withdraw_question_is_only_for_the_enrolled(client, auth):
    course = CourseFactory(capacity=3)
    UserFactory(email="p@example.org")
    db.session.commit()
    assert client.get(f"/courses/{course.slug}/withdraw").status_code == 302  # log in first
    auth.login("p@example.org")
    assert client.get(f"/courses/{course.slug}/withdraw").status_code == 404


def test_full_course_puts_you_on_the_waiting_list_with_position(client, auth):
    course = CourseFactory(capacity=0)
    UserFactory(email="p@example.org")
    auth.login("p@example.org")
    html = client.post(f"/courses/{course.slug}/enrol", follow_redirects=True).get_data(as_text=True)
    assert "in position 1" in html
    assert "Position on the waiting list: 1" in client.get("/me").get_data(as_text=True)


@pytest.mark.parametrize("make,status,message", [
    (lambda: CourseFactory(status=CourseStatus.CANCELLED), 400, "has been cancelled"),
    (lambda: CourseFactory(enrolment_closes_at=utcnow() - dt.timedelta(hours=1)), 400, "Enrolment is closed"),
    (lambda: CourseFactory(enrolment_opens_at=utcnow() + dt.timedelta(days=2)), 400, "not opened yet"),
    (lambda: CourseFactory(starts_on=utcnow().date() - dt.timedelta(days=10),
                           ends_on=utcnow().date() - dt.timedelta(days=5), enrolment_closes_at=None), 400, "already ended"),
])
def test_enrolment_refusals_are_clear_4xx_and_save_nothing(client, auth, make, status, message):
    course = make()
    UserFactory(email="p@example.org")
    auth.login("p@example.org")
    response = client.post(f"/courses/{course.slug}/enrol")
    assert response.status_code == status and message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Enrolment.id))) == 0


def test_draft_unknown_and_forged_courses_are_404(client, auth):
    draft = CourseFactory(status=CourseStatus.DRAFT)
    UserFactory(email="p@example.org")
    auth.login("p@example.org")
    assert client.post(f"/courses/{draft.slug}/enrol").status_code == 404
    assert client.post("/courses/no-such-course/enrol").status_code == 404
    assert client.post("/courses/%3Cscript%3E/enrol").status_code == 404
    assert client.get("/courses/" + "x" * 5000).status_code == 404


def test_withdraw_after_deadline_is_refused_with_message(client, auth):
    course = CourseFactory(withdrawal_deadline=utcnow() - dt.timedelta(minutes=5))
    user = UserFactory(email="p@example.org")
    e = EnrolmentFactory(course=course, user=user)
    auth.login("p@example.org")
    response = client.post(f"/courses/{course.slug}/withdraw")
    assert response.status_code == 400 and "withdrawal deadline has passed" in response.get_data(as_text=True)
    assert _status(e.id) is S.ACCEPTED


@pytest.mark.csrf
def test_tampered_enrol_form_is_refused(client, auth):
    course = CourseFactory()
    UserFactory(email="p@example.org")
    # log in through the form, as CSRF is on
    import re

    html = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    client.post("/auth/login", data={"csrf_token": token, "email": "p@example.org", "password": "correct-horse-battery"})
    assert client.post(f"/courses/{course.slug}/enrol", data={"csrf_token": "forged"}).status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(Enrolment.id))) == 0


def test_apply_with_questions_and_bad_input(client, auth):
    course = CourseFactory(enrolment_mode=EnrolmentMode.APPROVAL,
                           application_questions="What is your role?\nWhich city do you work in?")
    UserFactory(email="p@example.org")
    auth.login("p@example.org")
    page = client.get(f"/courses/{course.slug}/apply").get_data(as_text=True)
    assert "What is your role?" in page and "Which city do you work in?" in page
    short = client.post(f"/courses/{course.slug}/apply", data={"motivation": "too short", "answer_0": "x", "answer_1": "y"})
    assert short.status_code == 400 and "between 20 and 4000" in short.get_data(as_text=True)
    missing = client.post(f"/courses/{course.slug}/apply", data={"motivation": "m" * 30, "answer_0": "Officer"})
    assert missing.status_code == 400
    huge = client.post(f"/courses/{course.slug}/apply", data={"motivation": "m" * 10000, "answer_0": "a", "answer_1": "b"})
    assert huge.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(Enrolment.id))) == 0
    ok = client.post(f"/courses/{course.slug}/apply", data={
        "motivation": "I lead the 绿色 procurement office 🌱 <b>here</b>.", "answer_0": "Officer", "answer_1": "上海"})
    assert ok.status_code == 302
    db.session.rollback()
    e = db.session.scalar(sa.select(Enrolment))
    assert e.status is S.PENDING and e.answers == {"What is your role?": "Officer", "Which city do you work in?": "上海"}


def test_applying_again_from_an_older_tab_says_so_once(client, auth):
    """Two tabs on the apply form: the second submission is refused with 409, and the page
    says once that the application is already in (found by a tester: banner and alert)."""
    course = CourseFactory(enrolment_mode=EnrolmentMode.APPROVAL, title="Summer School")
    UserFactory(email="p@example.org")
    auth.login("p@example.org")
    data = {"motivation": "I run the energy desk of a small firm in Suzhou."}
    assert client.post(f"/courses/{course.slug}/apply", data=data).status_code == 302
    again = client.post(f"/courses/{course.slug}/apply", data=data)
    page = again.get_data(as_text=True)
    assert again.status_code == 409
    assert page.count("already") == 1 and "You have already applied" in page
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Enrolment.id))) == 1


def _staff_world():
    course = CourseFactory(enrolment_mode=EnrolmentMode.APPROVAL, capacity=1, title="Summer School")
    lead = UserFactory(email="lead@example.org", role=Role.INSTRUCTOR)
    assistant = UserFactory(email="assistant@example.org", role=Role.INSTRUCTOR)
    db.session.add_all([CourseStaff(course_id=course.id, user_id=lead.id, role=StaffRole.LEAD),
                        CourseStaff(course_id=course.id, user_id=assistant.id, role=StaffRole.ASSISTANT)])
    db.session.commit()
    return course


def test_staff_approve_reject_and_waitlist(client, auth, mail):
    course = _staff_world()
    a = EnrolmentFactory(course=course, status=S.PENDING, user=UserFactory(full_name="Giulia Rossi"))
    b = EnrolmentFactory(course=course, status=S.PENDING)
    c = EnrolmentFactory(course=course, status=S.PENDING)
    auth.login("lead@example.org")
    base = f"/teach/courses/{course.slug}/enrolments"
    assert "Giulia Rossi" in client.get(base).get_data(as_text=True)
    assert client.post(f"{base}/{a.id}/approve").status_code == 302
    assert client.post(f"{base}/{b.id}/approve", follow_redirects=True).status_code == 200
    assert (_status(a.id), _status(b.id)) == (S.ACCEPTED, S.WAITLISTED)
    refused = client.post(f"{base}/{c.id}/reject", data={"reason": ""})
    assert refused.status_code == 400 and _status(c.id) is S.PENDING
    assert client.post(f"{base}/{c.id}/reject", data={"reason": "Not eligible"}).status_code == 302
    assert _status(c.id) is S.REJECTED
    again = client.post(f"{base}/{a.id}/approve")
    assert again.status_code == 409 and "Only applications under review" in again.get_data(as_text=True)


def test_assistant_can_read_but_not_decide(client, auth):
    course = _staff_world()
    e = EnrolmentFactory(course=course, status=S.PENDING)
    auth.login("assistant@example.org")
    assert client.get(f"/teach/courses/{course.slug}/enrolments").status_code == 200
    assert client.post(f"/teach/courses/{course.slug}/enrolments/{e.id}/approve").status_code == 404
    assert _status(e.id) is S.PENDING


def test_bulk_is_all_or_nothing(client, auth):
    course = _staff_world()
    course.capacity = 10
    db.session.commit()
    pending = [EnrolmentFactory(course=course, status=S.PENDING) for _ in range(3)]
    accepted = EnrolmentFactory(course=course, status=S.ACCEPTED)
    auth.login("lead@example.org")
    base = f"/teach/courses/{course.slug}/enrolments"
    ids = [e.id for e in pending] + [accepted.id]
    response = client.post(f"{base}/bulk", data={"action": "approve", "ids": ids})
    assert response.status_code == 409 and "Nothing was changed" in response.get_data(as_text=True)
    assert [_status(e.id) for e in pending] == [S.PENDING] * 3
    assert client.post(f"{base}/bulk", data={"action": "reject", "ids": [pending[0].id]}).status_code == 400
    assert client.post(f"{base}/bulk", data={"action": "approve", "ids": ["x"]}).status_code == 400
    assert client.post(f"{base}/bulk", data={"action": "approve", "ids": [999999]}).status_code == 404
    assert client.post(f"{base}/bulk", data={"action": "approve", "ids": [e.id for e in pending]}).status_code == 302
    assert [_status(e.id) for e in pending] == [S.ACCEPTED] * 3


def test_bulk_approval_on_a_full_course_says_who_went_on_the_waiting_list(client, auth):
    course = _staff_world()
    course.capacity = 1
    db.session.commit()
    pending = [EnrolmentFactory(course=course, status=S.PENDING) for _ in range(3)]
    auth.login("lead@example.org")
    base = f"/teach/courses/{course.slug}/enrolments"
    page = client.post(f"{base}/bulk", data={"action": "approve", "ids": [e.id for e in pending]},
                       follow_redirects=True).get_data(as_text=True)
    assert "3 enrolments updated." in page and "2 of them went on the waiting list: the activity is full." in page
    assert sorted(_status(e.id).value for e in pending) == ["accepted", "waitlisted", "waitlisted"]


def test_the_withdraw_page_of_a_withdrawn_enrolment_says_so(client, auth):
    course = CourseFactory()
    EnrolmentFactory(course=course, status=S.WITHDRAWN, user=UserFactory(email="gone@example.org"))
    db.session.commit()
    auth.login("gone@example.org")
    page = client.get(f"/courses/{course.slug}/withdraw").get_data(as_text=True)
    assert "There is nothing to withdraw from: this enrolment is withdrawn." in page
    assert "no longer withdraw online" not in page


def test_deciding_from_a_filtered_list_comes_back_to_the_same_filter(client, auth):
    course = _staff_world()
    pending = [EnrolmentFactory(course=course, status=S.PENDING) for _ in range(2)]
    auth.login("lead@example.org")
    base = f"/teach/courses/{course.slug}/enrolments"
    page = client.get(f"{base}?status=pending").get_data(as_text=True)
    action = f"{base}/{pending[0].id}/approve?status=pending"
    assert f'action="{action}"' in page and f'action="{base}/bulk?status=pending"' in page
    assert client.post(action, data={"seen": "pending"}).headers["Location"].endswith("/enrolments?status=pending")
    bulk = client.post(f"{base}/bulk?status=pending", data={"action": "approve", "ids": [pending[1].id]})
    assert bulk.headers["Location"].endswith("/enrolments?status=pending")


def test_add_participant_by_email(client, auth):
    course = _staff_world()
    UserFactory(email="friend@example.org")
    auth.login("lead@example.org")
    base = f"/teach/courses/{course.slug}/enrolments"
    assert client.post(f"{base}/add", data={"email": "friend@example.org"}).status_code == 302
    unknown = client.post(f"{base}/add", data={"email": "ghost@example.org"})
    assert unknown.status_code == 400 and "no account with this email" in unknown.get_data(as_text=True)
    assert client.post(f"{base}/add", data={"email": "not an email"}).status_code == 400
    twice = client.post(f"{base}/add", data={"email": "friend@example.org"})
    assert twice.status_code == 409


def test_csv_export_has_bom_chinese_names_filters_and_no_formulas(client, auth):
    course = _staff_world()
    EnrolmentFactory(course=course, status=S.ACCEPTED, user=UserFactory(full_name="Wang Wei", native_name="王伟"))
    EnrolmentFactory(course=course, status=S.PENDING, user=UserFactory(full_name="Evil", organisation="=HYPERLINK(\"x\")"))
    auth.login("lead@example.org")
    response = client.get(f"/teach/courses/{course.slug}/enrolments.csv")
    assert response.mimetype == "text/csv"
    assert response.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][0] == "Full name" and len(rows) == 3
    assert rows[1][:2] == ["Wang Wei", "王伟"]
    assert rows[2][3].startswith("'=")
    only_accepted = client.get(f"/teach/courses/{course.slug}/enrolments.csv?status=accepted")
    assert len(list(csv.reader(io.StringIO(only_accepted.data.decode("utf-8-sig"))))) == 2
    assert client.get(f"/teach/courses/{course.slug}/enrolments.csv?status=bogus").status_code == 400


def test_staff_list_query_count_is_constant(client, auth, query_counter):
    course = _staff_world()
    course.capacity = None
    db.session.commit()
    for _ in range(10):
        EnrolmentFactory(course=course, status=S.WAITLISTED, waitlisted_at=utcnow())
    auth.login("lead@example.org")
    path = f"/teach/courses/{course.slug}/enrolments"
    with query_counter() as small:
        assert client.get(path).status_code == 200
    for _ in range(40):  # one page holds 50
        EnrolmentFactory(course=course, status=S.WAITLISTED, waitlisted_at=utcnow())
    with query_counter() as large:
        assert client.get(path).status_code == 200
    assert small["n"] == large["n"]


def test_me_shows_positions_and_its_query_count_is_constant(client, auth, query_counter):
    me = UserFactory(email="me@example.org")
    courses = [CourseFactory(capacity=1) for _ in range(6)]
    for c in courses:
        EnrolmentFactory(course=c)  # someone holds the place
        c.seats_taken = 1
    db.session.commit()
    auth.login("me@example.org")
    EnrolmentFactory(course=courses[0], status=S.WAITLISTED, waitlisted_at=utcnow() - dt.timedelta(hours=1))
    EnrolmentFactory(course=courses[0], user=me, status=S.WAITLISTED, waitlisted_at=utcnow())
    with query_counter() as small:
        html = client.get("/me").get_data(as_text=True)
    assert "Position on the waiting list: 2" in html
    for c in courses[1:]:
        EnrolmentFactory(course=c, user=me, status=S.WAITLISTED, waitlisted_at=utcnow())
    with query_counter() as large:
        assert client.get("/me").status_code == 200
    assert small["n"] == large["n"]
