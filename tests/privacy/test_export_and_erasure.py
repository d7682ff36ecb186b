"""A person downloads everything Ponte holds about them, and erases their account.

The export is checked against a person built here, with a second person whose data must
not appear in it. After erasure no text column of any table holds their name, email or
organisation (in any spelling JSON may give it), the course counts are unchanged, and
their certificate answers "withdrawn" with no name."""
from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile

import pytest
import sqlalchemy as sa
import time_machine

from app.accounts.models import Role, User
from app.audit.models import AuditEvent
from app.audit.services import record
from app.catalogue.models import Course
from app.certificates import services as certificates
from app.certificates.models import CertificateKind
from app.core.types import utcnow
from app.enrolment.models import Enrolment
from app.enrolment.models import EnrolmentStatus as S
from app.extensions import db, limiter
from app.notifications.services import deliver_pending
from app.privacy.export import build_pending_exports
from app.privacy.models import DataExport
from app.privacy.retention import apply_retention
from app.teaching.models import Attendance, AttendanceMethod, CourseStaff, StaffRole
from app.teaching.models import AttendanceStatus as A
from tests.factories import PASSWORD, CourseFactory, EnrolmentFactory, SessionFactory, UserFactory
from tests.integrity.harness import Shot, assert_doctor_clean, audits, no_5xx, outcome, race, same, twins

NAME, NATIVE, EMAIL, ORG = "Wang Wei", "王伟", "wang.wei@example.cn", "SinoGreen Tech Co."


@pytest.fixture
def person(app):
    """Wang Wei, with an enrolment, attendance, a certificate, a login and audit events;
    and Giulia Rossi, enrolled in the same course, whose data must stay hers."""
    with app.app_context():
        wang = UserFactory(email=EMAIL, full_name=NAME, native_name=NATIVE, organisation=ORG, country="CN")
        giulia = UserFactory(email="giulia@example.org", full_name="Giulia Rossi", organisation="Comune di Roma")
        admin = UserFactory(email="admin@example.org", role=Role.ADMIN)
        today = utcnow().date()
        course = CourseFactory(title="Green Finance", starts_on=today - dt.timedelta(days=10),
                               ends_on=today - dt.timedelta(days=9))
        start = dt.datetime.combine(course.starts_on, dt.time(8), dt.UTC)
        session = SessionFactory(course=course, starts_at=start, ends_at=start + dt.timedelta(hours=3))
        mine = EnrolmentFactory(course=course, user=wang, status=S.COMPLETED,
                                motivation=f"I am {NAME} and I build solar farms.")
        theirs = EnrolmentFactory(course=course, user=giulia, status=S.COMPLETED, motivation="Procurement in Rome.")
        course.seats_taken = 2
        for e in (mine, theirs):
            db.session.add(Attendance(session_id=session.id, enrolment_id=e.id, status=A.PRESENT,
                                      method=AttendanceMethod.SHEET, note=f"seen {e.user.full_name}"))
        db.session.flush()
        record("enrolment.accepted", mine, actor=admin, email=EMAIL, name=NATIVE)
        certificate = certificates.issue(mine, CertificateKind.ATTENDANCE, admin)
        certificates.issue(theirs, CertificateKind.ATTENDANCE, admin)
        db.session.commit()
        return {"course_id": course.id, "public_id": certificate.public_id, "serial": certificate.serial}


def _login(client, email: str = EMAIL):  # noqa: ANN001
    assert client.post("/auth/login", data={"email": email, "password": PASSWORD}).status_code == 302


def _export_link(mail) -> str:  # noqa: ANN001
    return re.search(r"https?://\S+(/auth/export/\S+)", mail[-1].get_body(("plain",)).get_content()).group(1)


def test_a_person_downloads_everything_about_them_and_nothing_of_anyone_else(app, client, person, mail):
    _login(client)
    assert client.post("/auth/export").status_code == 302
    again = client.post("/auth/export")
    assert again.status_code == 409  # one copy is prepared at a time
    with app.app_context():
        assert build_pending_exports() == {"built": 1, "failed": 0}
        assert deliver_pending()["sent"] >= 1  # the scheduler sends the link (and what else waited)
    link = _export_link(mail)
    response = client.get(link)
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    data = json.loads(archive.read("ponte-data.json"))
    assert data["profile"]["email"] == EMAIL and data["profile"]["native_name"] == NATIVE
    assert data["consents"]["transfer_to_italy"]["version"]  # PIPL consent, with its version
    [enrolment] = data["enrolments"]
    assert enrolment["activity"] == "Green Finance" and "solar farms" in enrolment["motivation"]
    assert [h["action"] for h in enrolment["history"]] == ["enrolment.accepted"]
    assert data["attendance"][0]["status"] == "present" and len(data["attendance"]) == 1
    assert [c["serial"] for c in data["certificates"]] == [person["serial"]]
    assert archive.read(f"certificates/{person['serial']}.pdf").startswith(b"%PDF")
    assert data["login_sessions"] and any(e["action"] == "privacy.export_requested" for e in data["audit_events"])
    everything = b"".join(archive.read(name) for name in archive.namelist())
    assert b"Giulia" not in everything and b"giulia@example.org" not in everything and b"Rome." not in everything
    other = app.test_client()
    _login(other, "giulia@example.org")
    assert other.get(link).status_code == 404  # the link is for its owner only
    with time_machine.travel(utcnow() + dt.timedelta(hours=25)):
        assert client.get(link).status_code == 404
        with app.app_context():
            assert apply_retention()["exports_deleted"] == 1
            assert db.session.scalar(sa.select(sa.func.count(DataExport.id))) == 0


def test_export_and_erasure_need_a_login(client):
    for path in ("/auth/export", "/auth/erase", "/auth/export/whatever"):
        assert "/auth/login" in client.get(path).headers["Location"]


def _every_text(app) -> str:
    """Every text and JSON value of every table, as one string (the database as a whole)."""
    chunks = []
    with app.app_context():
        for table in db.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, (sa.String, sa.Text, sa.JSON))]
            if columns:
                for row in db.session.execute(sa.select(*columns)):
                    chunks.extend(json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else str(v)
                                  for v in row if v is not None)
    return "\n".join(chunks)


def test_erasure_leaves_no_trace_keeps_the_counts_and_withdraws_the_certificate(app, client, person):
    with app.app_context():
        counts = (db.session.scalar(sa.select(sa.func.count(Enrolment.id)).where(Enrolment.course_id == person["course_id"])),
                  db.session.scalar(sa.select(sa.func.count(Attendance.id))))
    before = _every_text(app)
    assert EMAIL in before and NATIVE in before
    _login(client)
    assert client.post("/auth/erase", data={"password": "wrong", "confirm": "ERASE"}).status_code == 400
    assert client.post("/auth/erase", data={"password": PASSWORD, "confirm": "yes"}).status_code == 400
    done = client.post("/auth/erase", data={"password": PASSWORD, "confirm": "ERASE"})
    assert done.status_code == 302 and client.get("/me").status_code == 302  # signed out
    assert app.test_client().post("/auth/login", data={"email": EMAIL, "password": PASSWORD}).status_code == 400
    after = _every_text(app)
    for trace in (NAME, NATIVE, EMAIL, ORG, "solar farms", json.dumps(NATIVE)[1:-1]):
        assert trace not in after, trace
    assert "Giulia Rossi" in after and "Procurement in Rome." in after  # the others' data stay
    with app.app_context():
        assert counts == (db.session.scalar(sa.select(sa.func.count(Enrolment.id)).where(
            Enrolment.course_id == person["course_id"])), db.session.scalar(sa.select(sa.func.count(Attendance.id))))
        assert audits("user.erased") == 1
    page = client.get(f"/verify/{person['public_id']}").get_data(as_text=True)
    assert "withdrawn at the holder" in page.lower() and NAME not in page
    admin = app.test_client()
    _login(admin, "admin@example.org")
    assert admin.get(f"/certificates/{person['public_id']}.pdf").status_code == 404  # no longer served


def test_the_only_lead_of_a_running_course_cannot_vanish_from_it(app, client):
    with app.app_context():
        lead = UserFactory(email="lead@example.org", role=Role.INSTRUCTOR)
        today = utcnow().date()
        course = CourseFactory(title="Water Week", starts_on=today, ends_on=today + dt.timedelta(days=3))
        db.session.add(CourseStaff(course_id=course.id, user_id=lead.id, role=StaffRole.LEAD))
        db.session.commit()
    _login(client, "lead@example.org")
    assert "Water Week" in client.get("/auth/erase").get_data(as_text=True)
    refused = client.post("/auth/erase", data={"password": PASSWORD, "confirm": "ERASE"})
    assert refused.status_code == 409 and "only lead instructor of Water Week" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(User.full_name).where(User.email == "lead@example.org"))


def test_an_admin_erases_a_person_on_request_and_it_is_audited(app, client, person):
    admin = app.test_client()
    _login(admin, "admin@example.org")
    with app.app_context():
        wang_id = db.session.scalar(sa.select(User.id).where(User.email == EMAIL))
        admin_id = db.session.scalar(sa.select(User.id).where(User.email == "admin@example.org"))
    for who in ("giulia@example.org",):
        other = app.test_client()
        _login(other, who)
        assert other.post(f"/admin/users/{wang_id}/erase").status_code == 404
    assert admin.post(f"/admin/users/{admin_id}/erase").status_code == 400  # not oneself, from here
    assert admin.post(f"/admin/users/{wang_id}/erase").status_code == 302
    with app.app_context():
        assert db.session.get(User, wang_id).email == f"erased-{wang_id}@erased.invalid"
        assert audits("user.erased") == 1
    assert admin.post(f"/admin/users/{wang_id}/erase").status_code == 409  # already erased


def test_eight_export_requests_and_eight_erasures_at_once_each_happen_once(app, person):
    tabs = twins(app, EMAIL)
    limiter.enabled = False  # the daily limit (5) would answer the last three 429
    try:
        codes = race(same(Shot(None, "/auth/export"), tabs))
    finally:
        limiter.enabled = True
    no_5xx(codes)
    assert outcome(codes) == {302: 1, 409: 7}
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(DataExport.id))) == 1
        wang_id = db.session.scalar(sa.select(User.id).where(User.email == EMAIL))
    codes = race(same(Shot(None, f"/admin/users/{wang_id}/erase"), twins(app, "admin@example.org")))
    no_5xx(codes)
    assert outcome(codes) == {302: 1, 409: 7}
    with app.app_context():
        assert audits("user.erased") == 1
    assert_doctor_clean(app)


def test_an_erased_account_stays_erased(app, client, person, mail):
    """Found by a tester: the admin could reactivate, promote, send a reset link to and
    issue a certificate for an erased person."""
    _login(client)
    assert client.post("/auth/erase", data={"password": PASSWORD, "confirm": "erase"}).status_code == 302
    admin = app.test_client()
    _login(admin, "admin@example.org")
    with app.app_context():
        erased = db.session.scalar(sa.select(User).where(User.full_name == "Erased person"))
        enrolment_id = db.session.scalar(sa.select(Enrolment.id).where(Enrolment.user_id == erased.id))
        user_id = erased.id
    for action, data in (("reactivate", {}), ("role", {"role": "admin"}), ("reset", {}), ("verification", {})):
        response = admin.post(f"/admin/users/{user_id}/{action}", data=data)
        assert response.status_code in (400, 409), action
        assert "has been erased" in response.get_data(as_text=True), action  # the page says why, not a bare redirect
    with app.app_context():
        user = db.session.get(User, user_id)
        assert (user.is_active_account, user.role) == (False, Role.PARTICIPANT)
        with pytest.raises(certificates.CertificateError, match="erased"):
            certificates.issue(db.session.get(Enrolment, enrolment_id), CertificateKind.COMPLETION, None)
        course = db.session.get(Course, person["course_id"])
        assert all(e.user_id != user_id for e, _kind in certificates.due_certificates(course)[0])
        assert db.session.scalar(sa.select(AuditEvent.ip).where(AuditEvent.action == "user.erased")) is None


@pytest.mark.parametrize(("locale", "name"), [("it", "Persona cancellata"), ("zh", "已删除的用户")])
def test_an_erased_person_is_named_in_the_readers_language(app, client, person, locale, name):
    """What erasure leaves of a name is a placeholder, and it reads in the reader's language
    on the person's page, the roster and the course's enrolments."""
    _login(client)
    assert client.post("/auth/erase", data={"password": PASSWORD, "confirm": "erase"}).status_code == 302
    with app.app_context():
        db.session.execute(sa.update(User).where(User.email == "admin@example.org").values(locale=locale))
        db.session.commit()
        user_id = db.session.scalar(sa.select(User.id).where(User.full_name == "Erased person"))
        slug = db.session.get(Course, person["course_id"]).slug
    admin = app.test_client()
    _login(admin, "admin@example.org")
    for path in (f"/admin/users/{user_id}", f"/teach/courses/{slug}/roster", f"/teach/courses/{slug}/enrolments"):
        page = admin.get(path)
        assert page.status_code == 200, path
        text = page.get_data(as_text=True)
        assert name in text and "Erased person" not in text, path
        assert "Giulia Rossi" in text or path.startswith("/admin/users"), path


def test_erasure_gives_back_places_in_activities_still_to_come(app, client, person, mail):
    """An erased account takes part in nothing more: its place in a coming course goes to
    the first person waiting (who is told), its seat on a session bus is released; the
    ended course keeps its (anonymised) record."""
    from app.schedule.models import CourseSession, SessionSignup
    from app.schedule.signups import sign_up

    with app.app_context():
        wang = db.session.scalar(sa.select(User).where(User.email == EMAIL))
        today = utcnow().date()
        coming = CourseFactory(title="Circular Economy", capacity=1, starts_on=today + dt.timedelta(days=20),
                               ends_on=today + dt.timedelta(days=22))
        start = dt.datetime.combine(coming.starts_on, dt.time(8), dt.UTC)
        bus = SessionFactory(course=coming, starts_at=start, ends_at=start + dt.timedelta(hours=3), capacity=10)
        mine = EnrolmentFactory(course=coming, user=wang, status=S.ACCEPTED)
        coming.seats_taken = 1
        waiting = EnrolmentFactory(course=coming, status=S.WAITLISTED, waitlisted_at=utcnow(),
                                   user=UserFactory(email="next@example.org"))
        db.session.flush()
        sign_up(db.session.get(CourseSession, bus.id), wang)
        db.session.commit()
        ids = {"coming": coming.id, "mine": mine.id, "waiting": waiting.id, "bus": bus.id}
    _login(client)
    assert client.post("/auth/erase", data={"password": PASSWORD, "confirm": "ERASE"}).status_code == 302
    with app.app_context():
        assert db.session.get(Enrolment, ids["mine"]).status is S.CANCELLED
        assert db.session.get(Enrolment, ids["waiting"]).status is S.ACCEPTED
        assert db.session.get(Course, ids["coming"]).seats_taken == 1
        assert db.session.get(CourseSession, ids["bus"]).seats_taken == 0
        assert db.session.scalar(sa.select(sa.func.count(SessionSignup.id))) == 0
        assert {e.status for e in db.session.scalars(sa.select(Enrolment).where(  # the ended course: as it was
            Enrolment.course_id == person["course_id"]))} == {S.COMPLETED}
    assert any("next@example.org" in m["To"] for m in mail)
    assert_doctor_clean(app)


def test_an_erased_persons_mail_is_never_sent_nor_sent_again(app, client, person, mail):
    """Found by a tester: "Send again" on an erased person's stopped message sent an empty
    email to erased-N@erased.invalid, and the admin home counted those messages as failures."""
    from app.notifications.models import OutboxMessage, OutboxStatus
    from app.notifications.services import deliver_pending, queue_email

    with app.app_context():
        queue_email(db.session.scalar(sa.select(User).where(User.email == EMAIL)), "password_reset", token="t",
                    minutes=60)
        db.session.commit()
    _login(client)
    assert client.post("/auth/erase", data={"password": PASSWORD, "confirm": "erase"}).status_code == 302
    admin = app.test_client()
    _login(admin, "admin@example.org")
    with app.app_context():
        message = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.recipient.endswith("erased.invalid")))
        assert message.status is OutboxStatus.FAILED
        message_id = message.id
    jobs = admin.get("/admin/jobs").get_data(as_text=True)
    assert "Not sent: the account was erased." in jobs and f"/admin/outbox/{message_id}/resend" not in jobs
    refused = admin.post(f"/admin/outbox/{message_id}/resend")
    assert refused.status_code == 409 and "erased their account" in refused.get_data(as_text=True)
    assert "could not be sent" not in admin.get("/admin/").get_data(as_text=True)
    with app.app_context():  # even if it were pending again, it does not leave
        db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.id == message_id)
                           .values(status=OutboxStatus.PENDING))
        db.session.commit()
        deliver_pending()
        assert db.session.get(OutboxMessage, message_id).status is OutboxStatus.PENDING
    assert not any("invalid" in m["To"] for m in mail)


def test_an_erased_instructor_is_no_longer_named_in_survey_questions_nor_on_the_public_page(app, client):
    """Found by a tester: "How would you rate Huang Xiu as an instructor?" kept her name in
    the survey after erasure, and the public course page listed "Erased person"."""
    from app.feedback.models import SurveyQuestion
    from app.feedback.services import survey_for

    with app.app_context():
        course = CourseFactory(title="Carbon Markets")
        teacher = UserFactory(email="huang.xiu@example.cn", full_name="Huang Xiu", role=Role.INSTRUCTOR)
        db.session.add(CourseStaff(course_id=course.id, user_id=teacher.id, role=StaffRole.INSTRUCTOR))
        db.session.flush()
        survey_for(course)
        db.session.commit()
        slug = course.slug
    assert "Huang Xiu" in app.test_client().get(f"/courses/{slug}").get_data(as_text=True)
    _login(client, "huang.xiu@example.cn")
    assert client.post("/auth/erase", data={"password": PASSWORD, "confirm": "erase"}).status_code == 302
    with app.app_context():
        texts = db.session.scalars(sa.select(SurveyQuestion.text)).all()
        question = db.session.scalar(sa.select(SurveyQuestion).where(SurveyQuestion.key == "instructor"))
        assert question.text == {"en": "How would you rate Erased person as an instructor?",
                                 "it": "Come valuti Persona cancellata come docente?",
                                 "zh": "您如何评价讲师已删除的用户？"}
    assert "Huang" not in json.dumps(texts, ensure_ascii=False)
    page = app.test_client().get(f"/courses/{slug}").get_data(as_text=True)
    assert "Huang Xiu" not in page and "Erased person" not in page
