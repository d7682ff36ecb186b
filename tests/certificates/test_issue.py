import datetime as dt
import io
import re
import zipfile

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from app.accounts.models import Role
from app.certificates import services
from app.certificates.batches import run_batch, start_batch
from app.certificates.models import BatchStatus, Certificate, CertificateBatch, CertificateStatus
from app.certificates.models import CertificateKind as K
from app.certificates.verify import intact, verify_by_code
from app.core.errors import Conflict
from app.enrolment.models import EnrolmentStatus as S
from app.extensions import db
from app.teaching.models import Attendance
from app.teaching.models import AttendanceStatus as A
from tests.factories import CourseFactory, EnrolmentFactory, SessionFactory, UserFactory
from tests.helpers import LOGIN, ROLES, build_world, check_access, login_as

UTC = dt.UTC


def _finished_course(**kw):
    """A course that ended a week ago, with two 2-hour sessions, the first mandatory."""
    today = dt.date.today()
    course = CourseFactory(starts_on=today - dt.timedelta(days=10), ends_on=today - dt.timedelta(days=8), **kw)
    t = dt.datetime.combine(course.starts_on, dt.time(8), UTC)
    first = SessionFactory(course=course, title="Opening", starts_at=t, ends_at=t + dt.timedelta(hours=2), is_mandatory=True)
    second = SessionFactory(course=course, title="Workshop", starts_at=t + dt.timedelta(days=1),
                            ends_at=t + dt.timedelta(days=1, hours=2))
    return course, first, second


def _attend(session, enrolment, status=A.PRESENT):
    db.session.add(Attendance(session_id=session.id, enrolment_id=enrolment.id, status=status, method="sheet"))
    db.session.commit()


@pytest.mark.usefixtures("app_ctx")
def test_eligibility_over_attendance_mandatory_and_completion():
    course, first, second = _finished_course()
    full = EnrolmentFactory(course=course, status=S.COMPLETED, user=UserFactory(full_name="Full"))
    missed_mandatory = EnrolmentFactory(course=course, status=S.COMPLETED)
    half = EnrolmentFactory(course=course, status=S.COMPLETED)
    not_passed = EnrolmentFactory(course=course, status=S.NOT_COMPLETED)
    nothing = EnrolmentFactory(course=course, status=S.ACCEPTED)
    for s in (first, second):
        _attend(s, full)
        _attend(s, not_passed)
    _attend(second, missed_mandatory)
    _attend(second, half)
    _attend(first, half, A.EXCUSED)  # excused: out of both sides, so 100 % but…
    table = services.eligibility(course, [full, missed_mandatory, half, not_passed, nothing])
    assert table[full.id].kinds == [K.ATTENDANCE, K.COMPLETION]
    assert table[missed_mandatory.id].kinds == [K.ATTENDANCE]
    assert any("Opening" in r for r in table[missed_mandatory.id].reasons[K.COMPLETION])
    assert table[half.id].kinds == [K.ATTENDANCE, K.COMPLETION]  # excused mandatory is not "missed"
    assert table[not_passed.id].reasons[K.COMPLETION] == ["Completion not recorded as passed."]
    assert table[nothing.id].kinds == []
    assert "No session attended." in table[nothing.id].reasons[K.ATTENDANCE]


@pytest.mark.usefixtures("app_ctx")
def test_issue_snapshot_serial_code_email_and_one_valid_per_kind(mail):
    course, first, second = _finished_course(title="Winter School")
    e = EnrolmentFactory(course=course, status=S.COMPLETED, user=UserFactory(full_name="Wang Wei", native_name="王伟", locale="zh"))
    _attend(first, e)
    _attend(second, e)
    admin = UserFactory(role=Role.ADMIN)
    c = services.issue(e, K.COMPLETION, admin)
    db.session.commit()
    assert re.fullmatch(r"PONTE-\d{4}-000001", c.serial) and len(c.public_id) == 32
    assert c.snapshot["holder_native_name"] == "王伟" and c.snapshot["hours"] == 4 and c.snapshot["attendance_rate"] == 100.0
    assert intact(c) and c.verification_code.startswith("K1-")
    assert c.sha256 == __import__("hashlib").sha256(services.pdf_bytes(c)).hexdigest()
    with pytest.raises(Conflict):
        services.issue(e, K.COMPLETION, admin)
    second_cert = services.issue(e, K.ATTENDANCE, admin)
    assert second_cert.number == 2
    from app.notifications.services import deliver_pending

    db.session.commit()
    deliver_pending()
    message = mail[0]
    assert message["Subject"].startswith("您的证书")
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == f"{c.serial}.pdf"
    assert "王伟" in PdfReader(io.BytesIO(attachment.get_content())).pages[0].extract_text()


@pytest.mark.usefixtures("app_ctx")
def test_not_eligible_is_refused_with_the_reason():
    course, first, second = _finished_course()
    e = EnrolmentFactory(course=course, status=S.ACCEPTED)
    with pytest.raises(services.CertificateError, match="No session attended"):
        services.issue(e, K.ATTENDANCE, None)


@pytest.mark.usefixtures("app_ctx")
def test_bulk_issue_twice_issues_once():
    course, first, second = _finished_course()
    people = [EnrolmentFactory(course=course, status=S.COMPLETED) for _ in range(3)]
    for e in people:
        _attend(first, e)
        _attend(second, e)
    admin = UserFactory(role=Role.ADMIN)
    batch = start_batch(course, admin)
    assert start_batch(course, admin).id == batch.id  # an unfinished batch is reused
    db.session.commit()
    assert run_batch(batch.id) is True
    assert run_batch(batch.id) is False  # already taken
    db.session.refresh(batch)
    assert (batch.status, batch.issued_count, batch.done_count, batch.total) == (BatchStatus.DONE, 6, 6, 6)
    # Nobody left: said at once, and no empty batch is started.
    with pytest.raises(services.NothingToIssue, match="Everyone eligible already has a certificate"):
        start_batch(course, admin)
    assert db.session.scalar(sa.select(sa.func.count(CertificateBatch.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 6


def test_cli_issue_is_idempotent(runner, app):
    with app.app_context():
        course, first, second = _finished_course(slug="forum")
        e = EnrolmentFactory(course=course, status=S.COMPLETED)
        _attend(first, e)
        _attend(second, e)
    first_run = runner.invoke(args=["certificates", "issue", "forum"])
    assert first_run.exit_code == 0 and "2 certificate(s) issued" in first_run.output
    assert "0 certificate(s) issued" in runner.invoke(args=["certificates", "issue", "forum"]).output
    assert runner.invoke(args=["certificates", "issue", "nope"]).exit_code != 0


@pytest.mark.usefixtures("app_ctx")
def test_revoke_and_reissue_and_verification_states(client, mail):
    course, first, second = _finished_course(title="Forum")
    user = UserFactory(full_name="Giulia Rosi", email="g@example.org")
    e = EnrolmentFactory(course=course, status=S.COMPLETED, user=user)
    _attend(first, e)
    admin = UserFactory(role=Role.ADMIN)
    c = services.issue(e, K.ATTENDANCE, admin)
    db.session.commit()
    page = client.get(f"/verify/{c.public_id}").get_data(as_text=True)
    assert "Valid certificate" in page and "Giulia Rosi" in page and "g@example.org" not in page
    user.full_name = "Giulia Rossi"  # a typo corrected
    new = services.reissue(c, admin)
    db.session.commit()
    assert c.status is CertificateStatus.SUPERSEDED and c.superseded_by_id == new.id
    old_page = client.get(f"/verify/{c.public_id}").get_data(as_text=True)
    assert "Superseded" in old_page and f"/verify/{new.public_id}" in old_page
    with pytest.raises(services.CertificateError, match="reason"):
        services.revoke(new, " ", admin)
    services.revoke(new, "Issued by mistake", admin)
    db.session.commit()
    page = client.get(f"/verify/{new.public_id}").get_data(as_text=True)
    assert "Revoked" in page and "Issued by mistake" in page
    from app.notifications.models import OutboxMessage

    revoked_mail = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.template == "certificate_revoked"))
    assert revoked_mail.recipient == "g@example.org" and "Issued by mistake" in revoked_mail.body_text
    # /me still lists it, marked revoked with the reason and no download; the superseded one is gone
    client.post("/auth/login", data={"email": "g@example.org", "password": "correct-horse-battery"})
    me = client.get("/me").get_data(as_text=True)
    assert "Revoked on" in me and "Issued by mistake" in me
    assert f"/certificates/{new.public_id}" not in me and new.serial in me and c.serial not in me


@pytest.mark.usefixtures("app_ctx")
def test_verify_by_serial_and_code_and_failures_say_nothing_specific(client):
    course, first, second = _finished_course()
    e = EnrolmentFactory(course=course, status=S.COMPLETED)
    _attend(first, e)
    c = services.issue(e, K.ATTENDANCE, None)
    db.session.commit()
    ok = client.post("/verify", data={"serial": c.serial.lower(), "code": c.verification_code.lower()})
    assert ok.status_code == 302 and ok.headers["Location"].endswith(f"/verify/{c.public_id}")
    # typed as people type it: spaces for dashes, no dashes at all, a full-width keyboard
    spaced = c.verification_code.replace("-", " ")
    for serial, code in ((c.serial, spaced), (c.serial.replace("-", ""), c.verification_code.replace("-", "")),
                         (c.serial.replace("-", " "), "".join(chr(ord(ch) + 0xFEE0) if ch.isalnum() else ch
                                                             for ch in c.verification_code))):
        typed = client.post("/verify", data={"serial": serial, "code": code})
        assert typed.status_code == 302, (serial, code)
    bad = client.post("/verify", data={"serial": "PONTE\x00", "code": c.verification_code})
    assert bad.status_code == 400 and "No certificate matches" not in bad.get_data(as_text=True)
    wrong_code = client.post("/verify", data={"serial": c.serial, "code": "K1-0000-0000-0000-0000"})
    wrong_serial = client.post("/verify", data={"serial": "PONTE-2026-999999", "code": c.verification_code})
    assert wrong_code.status_code == wrong_serial.status_code == 404
    message = "No certificate matches this serial and code."
    assert message in wrong_code.get_data(as_text=True) and message in wrong_serial.get_data(as_text=True)
    for bad in ("0" * 32, "nothex" * 5 + "xx", "x" * 300, "<script>"):
        response = client.get(f"/verify/{bad}")
        assert response.status_code == 404 and "Certificate not found" in response.get_data(as_text=True)
    # a snapshot edited by hand in the database no longer matches its code
    c.snapshot = dict(c.snapshot, holder_name="Someone Else")
    db.session.commit()
    assert "does not match its verification code" in client.get(f"/verify/{c.public_id}").get_data(as_text=True)
    assert verify_by_code(c.serial, c.verification_code) is None


def test_admin_pages_bulk_in_background_zip_and_downloads(app, client):
    app.config["PONTE_BATCH_IN_THREAD"] = False  # the test runs the batch itself, deterministically
    with app.app_context():
        course, first, second = _finished_course()
        people = [EnrolmentFactory(course=course, status=S.COMPLETED) for _ in range(3)]
        for e in people:
            _attend(first, e)
            _attend(second, e)
        UserFactory(email="admin@example.org", role=Role.ADMIN)
        course_id = course.id
        db.session.remove()
    client.post("/auth/login", data={"email": "admin@example.org", "password": "correct-horse-battery"})
    assert client.post(f"/admin/courses/{course_id}/certificates/bulk").status_code == 302
    with app.app_context():
        batch = db.session.scalar(sa.select(CertificateBatch))
        assert batch.status is BatchStatus.QUEUED  # the web did not do the work
        from app.certificates.batches import run_queued_batches

        assert run_queued_batches() == {"batches": 1}
        batch_id = batch.id
    progress = client.get(f"/admin/certificate-batches/{batch_id}.json").json
    assert progress == {"status": "done", "total": 6, "done": 6, "issued": 6, "error": None}
    response = client.get(f"/admin/courses/{course_id}/certificates.zip")
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert len(archive.namelist()) == 6 and all(n.endswith(".pdf") for n in archive.namelist())
    assert archive.read(archive.namelist()[0]).startswith(b"%PDF")
    page = client.get(f"/admin/courses/{course_id}/certificates").get_data(as_text=True)
    assert "PONTE-" in page and "Bulk issue" in page


def test_a_second_worker_for_a_batch_already_taken_does_nothing(app):
    """A second "Issue all eligible" click starts a thread for the batch the first one
    runs: it finds the batch taken and neither issues nor delivers (delivering beside
    the running batch made SQLite say "database is locked")."""
    from app.certificates.batches import run_batch_in_thread
    from app.notifications.models import OutboxMessage, OutboxStatus

    with app.app_context():
        course, first, second = _finished_course()
        e = EnrolmentFactory(course=course, status=S.COMPLETED)
        _attend(first, e)
        _attend(second, e)
        batch = CertificateBatch(course_id=course.id, status=BatchStatus.DONE)
        db.session.add(batch)
        waiting = OutboxMessage(recipient="someone@example.org", template="enrolment", subject="Hello",
                                body_text="Hello", body_html="<p>Hello</p>")
        db.session.add(waiting)
        db.session.commit()
        batch_id, message_id = batch.id, waiting.id
    run_batch_in_thread(app, batch_id).join(timeout=60)
    with app.app_context():
        assert db.session.get(OutboxMessage, message_id).status is OutboxStatus.PENDING
        assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 0


def test_signature_upload_checks_content_and_re_encodes(app, client):
    from PIL import Image

    with app.app_context():
        course = CourseFactory()
        UserFactory(email="admin@example.org", role=Role.ADMIN)
        course_id = course.id
        db.session.remove()
    client.post("/auth/login", data={"email": "admin@example.org", "password": "correct-horse-battery"})
    png = io.BytesIO()
    Image.new("RGB", (800, 300), "white").save(png, "JPEG")
    base = {"offers_attendance_certificate": "y", "min_attendance_rate": "80", "signatories-0-name": "Anna Ferraro",
            "signatories-0-title": "Director"}
    ok = client.post(f"/admin/courses/{course_id}/certificates/settings", data=dict(
        base, **{"signatories-0-image": (io.BytesIO(png.getvalue()), "sig.jpg")}), content_type="multipart/form-data")
    assert ok.status_code == 302
    with app.app_context():
        from app.catalogue.models import Course
        from app.certificates.models import SignatureImage

        course = db.session.get(Course, course_id)
        assert course.min_attendance_rate == 80 and course.offers_completion_certificate is False
        image = db.session.scalar(sa.select(SignatureImage))
        assert image.png.startswith(b"\x89PNG") and Image.open(io.BytesIO(image.png)).size == (533, 200)
        assert course.signatories[0]["image_sha256"] == image.sha256
    for payload, name in ((b"GIF89a" + b"\x00" * 100, "x.png"), (b"<svg onload=alert(1)>", "x.png"),
                          (b"\x89PNG" + b"\x00" * 600_000, "big.png")):
        bad = client.post(f"/admin/courses/{course_id}/certificates/settings", data=dict(
            base, **{"signatories-0-image": (io.BytesIO(payload), name)}), content_type="multipart/form-data")
        assert bad.status_code == 400, name
    assert client.post(f"/admin/courses/{course_id}/certificates/settings", data=dict(base, min_attendance_rate="101")).status_code == 400
    nameless = client.post(f"/admin/courses/{course_id}/certificates/settings",
                           data=dict(base, **{"signatories-1-title": "Rector"}))
    assert nameless.status_code == 400 and "Each signatory needs a name" in nameless.get_data(as_text=True)
    with app.app_context():
        assert [p["name"] for p in db.session.get(Course, course_id).signatories] == ["Anna Ferraro"]


MATRIX = [
    ("GET", "/certificates/{pid}.pdf", [404, 200, 404, 404, 200, 200]),
    ("GET", "/verify/{pid}", [200, 200, 200, 200, 200, 200]),
    ("GET", "/verify", [200, 200, 200, 200, 200, 200]),
    ("GET", "/admin/courses/{cid}/certificates", [LOGIN, 404, 404, 404, 404, 200]),
    ("GET", "/admin/courses/{cid}/certificates/settings", [LOGIN, 404, 404, 404, 404, 200]),
    ("POST", "/admin/courses/{cid}/certificates/issue", [LOGIN, 404, 404, 404, 404, 400]),
    ("POST", "/admin/courses/{cid}/certificates/bulk", [LOGIN, 404, 404, 404, 404, 302]),
    ("GET", "/admin/courses/{cid}/certificates.zip", [LOGIN, 404, 404, 404, 404, 200]),
    ("POST", "/admin/certificates/{pid}/revoke", [LOGIN, 404, 404, 404, 404, 400]),
    ("POST", "/admin/certificates/{pid}/reissue", [LOGIN, 404, 404, 404, 404, 302]),
]


@pytest.mark.parametrize("role_index,role", list(enumerate(ROLES)))
@pytest.mark.parametrize("method,template,expected", MATRIX, ids=[f"{m} {t}" for m, t, _ in MATRIX])
def test_access_matrix(app, role_index, role, method, template, expected):
    app.config["PONTE_BATCH_IN_THREAD"] = False
    with app.app_context():
        world = build_world(starts_on=dt.date.today() - dt.timedelta(days=5), ends_on=dt.date.today() - dt.timedelta(days=4))
        from app.enrolment.models import Enrolment

        e = db.session.get(Enrolment, world.enrolment_id)
        s = SessionFactory(course=e.course)
        _attend(s, e)
        pid = services.issue(e, K.ATTENDANCE, None, email=False).public_id
        db.session.commit()
    client = app.test_client()
    login_as(client, world, role)
    path = template.format(cid=world.course_id, pid=pid)
    check_access(client, method, path, expected[role_index])


@pytest.mark.usefixtures("app_ctx")
def test_participants_see_their_own_eligibility_on_me(client, auth):
    course, first, second = _finished_course(title="Water Forum")
    e = EnrolmentFactory(course=course, status=S.COMPLETED, user=UserFactory(email="me@example.org"))
    _attend(second, e)
    auth.login("me@example.org")
    html = client.get("/me").get_data(as_text=True)
    assert "You qualify for the certificate of attendance." in html
    assert "Missed the mandatory session “Opening”." in html
