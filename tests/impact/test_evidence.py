"""Evidence for funders: attendance lists, participants lists and the ZIP of a course's
lists, read back with pypdf; who may download them; the queries they cost; and the
programme's funding statement and logo, set through the admin form with CSRF on."""
from __future__ import annotations

import datetime as dt
import html
import io
import os
import re
import zipfile

import pytest
import sqlalchemy as sa
from PIL import Image
from pypdf import PdfReader

from app.accounts.models import Role, User
from app.catalogue.models import Course, Programme
from app.enrolment.models import EnrolmentStatus as S
from app.extensions import db
from app.schedule.models import SessionStatus
from app.teaching.models import Attendance, Cohort, CourseStaff, StaffRole
from app.teaching.models import AttendanceMethod as M
from app.teaching.models import AttendanceStatus as A
from tests.factories import PASSWORD, CourseFactory, EnrolmentFactory, ProgrammeFactory, SessionFactory, UserFactory
from tests.helpers import LOGIN, check_access
from tests.integrity.test_forms_with_csrf import form
from tests.integrity.test_forms_with_csrf import login as login_with_token

UTC = dt.UTC
STATEMENT = "Funded by the Ministry of the Environment — 由意大利环境部资助"
DUMP = os.environ.get("EVIDENCE_DUMP")  # a folder: the PDFs are written there to be looked at


def _at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 7, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def world(app):
    """A July course in Rome (UTC+2) with a Rome and a Shanghai cohort, an instructor bound
    to Rome, and sessions that have all been held:
    whole course 6 July 07:30 UTC (09:30 in Rome): Wang checked in himself at 09:34,
        Anna was marked late on the sheet by Giulia Verdi, Marco has no row;
    Rome 7 July: Anna excused; Shanghai 7 July: Wang absent; Rome 8 July: Anna and
    Marco present; a cancelled session on 9 July."""
    with app.app_context():
        programme = ProgrammeFactory(funding_statement=STATEMENT)
        course = CourseFactory(programme=programme, starts_on=dt.date(2026, 7, 6), ends_on=dt.date(2026, 7, 10),
                               timezone="Europe/Rome", title="Circular economy for SMEs")
        other_course = CourseFactory()
        rome, shanghai = Cohort(course=course, name="Rome"), Cohort(course=course, name="Shanghai")
        db.session.add_all([rome, shanghai])
        db.session.flush()
        lead = UserFactory(email="instructor@example.org", full_name="Giulia Verdi", role=Role.INSTRUCTOR)
        bound = UserFactory(email="bound@example.org", role=Role.INSTRUCTOR)
        other_instructor = UserFactory(email="other.instructor@example.org", role=Role.INSTRUCTOR)
        UserFactory(email="admin@example.org", role=Role.ADMIN)
        wang = UserFactory(email="participant@example.org", full_name="Wang Xiaoming", native_name="王小明",
                           organisation="Tongji University", country="CN")
        anna = UserFactory(full_name="Anna <b>& Bianchi", organisation="Rossi & Figli <S.p.A.>", country="IT")
        marco = UserFactory(full_name="Marco Neri", organisation="Comune di Roma", country="IT")
        db.session.add_all([
            CourseStaff(course_id=course.id, user_id=lead.id, role=StaffRole.LEAD),
            CourseStaff(course_id=course.id, user_id=bound.id, role=StaffRole.INSTRUCTOR, cohort_id=rome.id),
            CourseStaff(course_id=other_course.id, user_id=other_instructor.id, role=StaffRole.LEAD),
        ])
        e_wang = EnrolmentFactory(course=course, user=wang, cohort_id=shanghai.id)
        e_anna = EnrolmentFactory(course=course, user=anna, cohort_id=rome.id)
        e_marco = EnrolmentFactory(course=course, user=marco, cohort_id=rome.id)
        EnrolmentFactory(course=course, status=S.WITHDRAWN)  # holds no place: on no list
        course.seats_taken = 3
        everyone = SessionFactory(course=course, title="Opening lecture", starts_at=_at(6, 7, 30), ends_at=_at(6, 9, 30))
        everyone.instructors.append(lead)
        in_rome = SessionFactory(course=course, cohort_id=rome.id, starts_at=_at(7, 7), ends_at=_at(7, 9))
        in_shanghai = SessionFactory(course=course, cohort_id=shanghai.id, starts_at=_at(7, 7), ends_at=_at(7, 9))
        in_rome_2 = SessionFactory(course=course, cohort_id=rome.id, starts_at=_at(8, 12), ends_at=_at(8, 14))
        cancelled = SessionFactory(course=course, status=SessionStatus.CANCELLED, starts_at=_at(9, 7), ends_at=_at(9, 9))
        elsewhere = SessionFactory(course=other_course)
        db.session.add_all([
            Attendance(session_id=everyone.id, enrolment_id=e_wang.id, status=A.PRESENT, method=M.SELF_CHECKIN,
                       recorded_by_id=wang.id, recorded_at=_at(6, 7, 34)),
            Attendance(session_id=everyone.id, enrolment_id=e_anna.id, status=A.LATE, method=M.SHEET,
                       recorded_by_id=lead.id, recorded_at=_at(6, 8)),
            Attendance(session_id=in_rome.id, enrolment_id=e_anna.id, status=A.EXCUSED, method=M.SHEET,
                       recorded_by_id=lead.id),
            Attendance(session_id=in_shanghai.id, enrolment_id=e_wang.id, status=A.ABSENT, method=M.IMPORT),
            Attendance(session_id=in_rome_2.id, enrolment_id=e_anna.id, status=A.PRESENT, method=M.SHEET,
                       recorded_by_id=lead.id),
            Attendance(session_id=in_rome_2.id, enrolment_id=e_marco.id, status=A.PRESENT, method=M.SHEET,
                       recorded_by_id=lead.id),
        ])
        db.session.commit()
        ids = dict(slug=course.slug, other=other_course.slug, course=course.id, programme=programme.id,
                   everyone=everyone.id, in_rome=in_rome.id, in_shanghai=in_shanghai.id, in_rome_2=in_rome_2.id,
                   cancelled=cancelled.id, elsewhere=elsewhere.id)
        db.session.remove()
    return ids


def _login(client, email: str) -> None:  # noqa: ANN001
    assert client.post("/auth/login", data={"email": email, "password": PASSWORD}).status_code == 302


def _as(app, email: str):  # noqa: ANN001
    client = app.test_client()
    _login(client, email)
    return client


def _pdf(response, name: str | None = None) -> PdfReader:  # noqa: ANN001
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    if DUMP:
        os.makedirs(DUMP, exist_ok=True)
        with open(os.path.join(DUMP, name or "list.pdf"), "wb") as fh:
            fh.write(response.data)
    return PdfReader(io.BytesIO(response.data))


def _text(reader: PdfReader) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def _page_texts(reader: PdfReader) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in reader.pages]


def _fonts(reader: PdfReader) -> list:
    fonts = []
    for page in reader.pages:
        for ref in page["/Resources"]["/Font"].values():
            fonts.append(ref.get_object())
    return fonts


def _images(reader: PdfReader) -> list:
    found = []
    for page in reader.pages:
        xobjects = page["/Resources"].get("/XObject") or {}
        found += [x for x in (ref.get_object() for ref in xobjects.values()) if x.get("/Subtype") == "/Image"]
    return found


# --- what the lists say ---------------------------------------------------------------------

def test_the_attendance_list_names_people_in_both_scripts_and_how_attendance_was_taken(app, world):
    client = _as(app, "instructor@example.org")
    response = client.get(f"/teach/courses/{world['slug']}/sessions/{world['everyone']}/attendance.pdf")
    assert response.headers["Content-Disposition"] == \
        f'attachment; filename="attendance-2026-07-06-0930-{world["everyone"]}.pdf"'
    reader = _pdf(response, "attendance.pdf")
    text = _text(reader)
    for expected in ("Attendance list", "Circular economy for SMEs", "Opening lecture", "Monday, July 6, 2026",
                     "09:30–11:30 (Europe/Rome)",  # 07:30 UTC is 09:30 in Rome in summer
                     "Wang Xiaoming", "王小明", "Tongji University", "China",
                     "Self check-in at 09:34",  # the check-in time, in the course's zone
                     "Anna <b>& Bianchi", "Rossi & Figli <S.p.A.>", "Late",  # printed as typed, not obeyed
                     "Attendance sheet, recorded by Giulia Verdi", "Marco Neri", "Not recorded", "Signature",
                     "Instructors Giulia Verdi", STATEMENT, "1 / 1"):
        assert expected in text, expected
    assert "07:30" not in text
    # The CJK font is embedded (a TrueType file in the PDF), not merely named.
    embedded = [f for f in _fonts(reader) if "/FontDescriptor" in f and "/FontFile2" in f["/FontDescriptor"]]
    assert embedded and all("WenQuanYi" in str(f["/BaseFont"]) for f in embedded)
    assert not _images(reader)  # no logo set


def test_the_participants_list_counts_sessions_attended_of_those_counted(app, world):
    client = _as(app, "admin@example.org")
    response = client.get(f"/teach/courses/{world['slug']}/participants.pdf")
    assert response.headers["Content-Disposition"] == f'attachment; filename="participants-{world["slug"]}.pdf"'
    text = _text(_pdf(response, "participants.pdf"))
    for expected in ("Participants list", "Wang Xiaoming", "王小明", "Tongji University", "Anna <b>& Bianchi",
                     "Marco Neri", "Accepted", STATEMENT):
        assert expected in text, expected
    # Wang: present at the opening, absent in Shanghai → 1 / 2. Anna: late, excused (left
    # out), present → 2 / 2. Marco: no row at the opening, none in Rome, present → 1 / 3.
    assert re.search(r"Wang Xiaoming.*?1 / 2", text) and re.search(r"Bianchi.*?2 / 2", text)
    assert re.search(r"Marco Neri.*?1 / 3", text)
    assert len(re.findall(r"Test User", text)) == 0  # the withdrawn person holds no place


def test_a_long_list_repeats_its_header_and_the_funding_statement_on_every_page(app, world):
    with app.app_context():
        course = db.session.get(Course, world["course"])
        for n in range(40):
            EnrolmentFactory(course=course, user=UserFactory(
                full_name=f"Participant number {n} with a rather long family name Abcdefghijklmnopqrstuvwxyz",
                native_name="欧阳娜娜" if n % 2 else None, organisation="A very long organisation name " * 3))
    client = _as(app, "instructor@example.org")
    reader = _pdf(client.get(f"/teach/courses/{world['slug']}/sessions/{world['everyone']}/attendance.pdf"),
                  "attendance-long.pdf")
    pages = _page_texts(reader)
    assert len(pages) >= 3
    for number, text in enumerate(pages, 1):
        assert STATEMENT in text and f"{number} / {len(pages)}" in text
        assert "Participant Organisation Country Attendance Signature" in text  # the table's header, each page


def test_the_zip_holds_every_list_and_each_opens(app, world):
    client = _as(app, "instructor@example.org")
    response = client.get(f"/teach/courses/{world['slug']}/lists.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"] == f'attachment; filename="lists-{world["slug"]}.zip"'
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert archive.namelist() == [  # the cancelled session has no list
        f"participants-{world['slug']}.pdf",
        f"attendance-2026-07-06-0930-{world['everyone']}.pdf",
        f"attendance-2026-07-07-0900-{world['in_rome']}.pdf",
        f"attendance-2026-07-07-0900-{world['in_shanghai']}.pdf",
        f"attendance-2026-07-08-1400-{world['in_rome_2']}.pdf",
    ]
    for name in archive.namelist():
        reader = PdfReader(io.BytesIO(archive.read(name)))
        assert len(reader.pages) >= 1 and STATEMENT in _text(reader)
    shanghai = _text(PdfReader(io.BytesIO(archive.read(f"attendance-2026-07-07-0900-{world['in_shanghai']}.pdf"))))
    assert "Wang Xiaoming" in shanghai and "Imported" in shanghai and "Marco Neri" not in shanghai


# --- who may have them ---------------------------------------------------------------------

ROUTES = ["/teach/courses/{slug}/sessions/{everyone}/attendance.pdf", "/teach/courses/{slug}/participants.pdf",
          "/teach/courses/{slug}/lists.zip"]
EMAILS = {"participant": "participant@example.org", "other_instructor": "other.instructor@example.org",
          "instructor": "instructor@example.org", "admin": "admin@example.org", "bound": "bound@example.org"}
MATRIX = {"anonymous": LOGIN, "participant": 404, "other_instructor": 404, "instructor": 200, "admin": 200, "bound": 200}


@pytest.mark.parametrize("template", ROUTES)
@pytest.mark.parametrize("role", list(MATRIX))
def test_access(app, world, role, template):
    client = app.test_client()
    if role != "anonymous":
        _login(client, EMAILS[role])
    check_access(client, "GET", template.format(**world), MATRIX[role])


@pytest.mark.parametrize("role", ["instructor", "admin"])
def test_a_session_of_another_course_or_none_is_404(app, world, role):
    client = _as(app, EMAILS[role])
    assert client.get(f"/teach/courses/{world['slug']}/sessions/{world['elsewhere']}/attendance.pdf").status_code == 404
    assert client.get(f"/teach/courses/{world['slug']}/sessions/999999/attendance.pdf").status_code == 404
    assert client.get("/teach/courses/no-such-course/participants.pdf").status_code == 404


def test_staff_bound_to_a_cohort_get_their_cohort_only(app, world):
    client = _as(app, "bound@example.org")
    base = f"/teach/courses/{world['slug']}"
    assert client.get(f"{base}/sessions/{world['in_shanghai']}/attendance.pdf").status_code == 404
    rome = _text(_pdf(client.get(f"{base}/sessions/{world['in_rome']}/attendance.pdf")))
    assert "Anna <b>& Bianchi" in rome and "Excused" in rome and "Wang Xiaoming" not in rome
    everyone = _text(_pdf(client.get(f"{base}/sessions/{world['everyone']}/attendance.pdf")))
    assert "Anna <b>& Bianchi" in everyone and "Marco Neri" in everyone and "Wang Xiaoming" not in everyone
    assert "Cohort Rome" in everyone  # the list says whose it is
    people = _text(_pdf(client.get(f"{base}/participants.pdf")))
    assert "Marco Neri" in people and "Wang Xiaoming" not in people and "王小明" not in people
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"{base}/lists.zip").data))
    assert archive.namelist() == [
        f"participants-{world['slug']}.pdf",
        f"attendance-2026-07-06-0930-{world['everyone']}.pdf",
        f"attendance-2026-07-07-0900-{world['in_rome']}.pdf",
        f"attendance-2026-07-08-1400-{world['in_rome_2']}.pdf",
    ]
    assert all("Wang Xiaoming" not in _text(PdfReader(io.BytesIO(archive.read(n)))) for n in archive.namelist())


def test_the_teaching_pages_link_to_the_lists(app, world):
    client = _as(app, "instructor@example.org")
    base = f"/teach/courses/{world['slug']}"
    sheet = client.get(f"{base}/sessions/{world['everyone']}/attendance").get_data(as_text=True)
    assert f'href="{base}/sessions/{world["everyone"]}/attendance.pdf"' in sheet and "Attendance list (PDF)" in sheet
    roster = client.get(f"{base}/roster").get_data(as_text=True)
    assert f'href="{base}/participants.pdf"' in roster and f'href="{base}/lists.zip"' in roster


# --- the cost ------------------------------------------------------------------------------

def _course_with(n: int, instructor_id: int) -> tuple[str, int]:
    course = CourseFactory(programme=ProgrammeFactory(funding_statement="Funded by us"),
                           starts_on=dt.date(2026, 7, 6), ends_on=dt.date(2026, 7, 10))
    db.session.add(CourseStaff(course_id=course.id, user_id=instructor_id, role=StaffRole.LEAD))
    held = SessionFactory(course=course, starts_at=_at(6, 7), ends_at=_at(6, 9))
    SessionFactory(course=course, starts_at=_at(7, 7), ends_at=_at(7, 9))
    for i in range(n):
        e = EnrolmentFactory(course=course, user=UserFactory(native_name="李娜"))
        db.session.add(Attendance(session_id=held.id, enrolment_id=e.id, status=A.PRESENT,
                                  method=M.SHEET if i % 2 else M.SELF_CHECKIN, recorded_by_id=instructor_id))
    db.session.commit()
    return course.slug, held.id


def test_the_queries_do_not_grow_with_the_number_of_participants(app, query_counter):
    with app.app_context():
        teacher = UserFactory(role=Role.INSTRUCTOR)
        small, big = _course_with(3, teacher.id), _course_with(30, teacher.id)
        email = teacher.email
    client = _as(app, email)
    counts = {}
    for size, (slug, session_id) in (("small", small), ("big", big)):
        for path in (f"/teach/courses/{slug}/sessions/{session_id}/attendance.pdf",
                     f"/teach/courses/{slug}/participants.pdf", f"/teach/courses/{slug}/lists.zip"):
            client.get(path)  # warm: fonts registered, labels translated
            with query_counter() as box:
                assert client.get(path).status_code == 200
            counts[(size, path.rsplit("/", 1)[-1])] = box["n"]
    for name in ("attendance.pdf", "participants.pdf", "lists.zip"):
        assert counts[("small", name)] == counts[("big", name)], counts
    assert max(counts.values()) <= 15, counts


# --- the programme form: funding statement and logo (CSRF on, as a browser sends it) ---------

def _png(size: tuple[int, int] = (240, 80), noise: bool = False) -> bytes:
    if noise:
        image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    else:
        image = Image.new("RGBA", size, (11, 93, 75, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _programme(app, programme_id: int) -> Programme:
    with app.app_context():
        programme = db.session.get(Programme, programme_id)
        db.session.expunge(programme)
        return programme


def _edit_form(client, programme_id: int) -> tuple[str, dict]:  # noqa: ANN001
    path = f"/admin/programmes/{programme_id}/edit"
    page = client.get(path).get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page
    action, fields = form(page, "", having="funding_statement")
    assert fields["csrf_token"]
    for name in ("description", "funding_statement"):  # a browser sends a textarea's text
        found = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', page, re.S)
        fields[name] = html.unescape(found.group(1)).removeprefix("\r\n").removeprefix("\n")
    return action or path, fields


@pytest.mark.csrf
def test_an_admin_sets_the_funding_statement_and_a_png_logo_printed_on_the_lists(app, world):
    client = app.test_client()
    login_with_token(client, "admin@example.org")
    action, fields = _edit_form(client, world["programme"])
    assert fields["funding_statement"] == STATEMENT
    logo = _png()
    fields.update(funding_statement="Co-funded by the EU <Horizon> & the Foundation", logo=(io.BytesIO(logo), "logo.png"))
    assert client.post(action, data=fields, content_type="multipart/form-data").status_code == 302
    saved = _programme(app, world["programme"])
    assert saved.funding_logo == logo and saved.funding_statement == "Co-funded by the EU <Horizon> & the Foundation"
    page = client.get(f"/admin/programmes/{world['programme']}/edit").get_data(as_text=True)
    assert 'src="data:image/png;base64,' in page and 'name="remove_logo"' in page
    reader = _pdf(client.get(f"/teach/courses/{world['slug']}/participants.pdf"), "participants-logo.pdf")
    assert _images(reader) and "Co-funded by the EU <Horizon> & the Foundation" in _text(reader)


@pytest.mark.csrf
@pytest.mark.parametrize("upload,message", [
    ((b"this is plain text, not an image\n" * 10, "logo.png"), "The logo must be a PNG or JPEG image."),
    ((b"GIF89a" + b"\0" * 64, "logo.gif"), "The logo must be a PNG or JPEG image."),
    (None, "The logo must be 1 MB or smaller."),  # a real PNG of more than 1 MB
], ids=["text-renamed-png", "gif", "over-1-MB"])
def test_a_logo_that_is_not_a_small_png_or_jpeg_is_refused_and_nothing_is_saved(app, world, upload, message):
    if upload is None:
        data = _png((620, 620), noise=True)
        assert 1024 * 1024 < len(data) < 2 * 1024 * 1024
        upload = (data, "big.png")
    client = app.test_client()
    login_with_token(client, "admin@example.org")
    action, fields = _edit_form(client, world["programme"])
    fields.update(title="Renamed", funding_statement="Changed", logo=(io.BytesIO(upload[0]), upload[1]))
    response = client.post(action, data=fields, content_type="multipart/form-data")
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    saved = _programme(app, world["programme"])
    assert saved.funding_logo is None and saved.funding_statement == STATEMENT and saved.title != "Renamed"


@pytest.mark.csrf
@pytest.mark.parametrize(("locale", "said"), [("en", "at most 16 MB can be sent at once"),
                                               ("it", "al massimo 16 MB"), ("zh", "16 MB")])
def test_a_file_over_the_upload_limit_is_refused_with_the_limit_in_the_readers_language(app, world, locale, said):
    """Over PONTE_MAX_UPLOAD_LENGTH the form never runs: the 413 page says how much may be sent."""
    client = app.test_client()
    login_with_token(client, "admin@example.org")
    with app.app_context():
        db.session.execute(sa.update(User).where(User.email == "admin@example.org").values(locale=locale))
        db.session.commit()
    action, fields = _edit_form(client, world["programme"])
    fields.update(title="Renamed", logo=(io.BytesIO(b"\x89PNG" + b"\0" * (17 * 1024 * 1024)), "huge.png"))
    response = client.post(action, data=fields, content_type="multipart/form-data")
    assert response.status_code == 413 and said in response.get_data(as_text=True)
    assert _programme(app, world["programme"]).title != "Renamed"


@pytest.mark.csrf
def test_a_logo_of_a_few_megabytes_gets_the_forms_own_limit_and_keeps_what_was_typed(app, world):
    """Found by a tester: a 3 MB logo got a page saying "at most 2 MB", then the form said 1 MB."""
    client = app.test_client()
    login_with_token(client, "admin@example.org")
    action, fields = _edit_form(client, world["programme"])
    fields.update(title="Renamed programme", logo=(io.BytesIO(b"\x89PNG" + b"\0" * (3 * 1024 * 1024)), "big.png"))
    response = client.post(action, data=fields, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "The logo must be 1 MB or smaller." in page
    assert 'value="Renamed programme"' in page  # the rest of the form is kept
    assert _programme(app, world["programme"]).title != "Renamed programme"


@pytest.mark.csrf
def test_a_jpeg_is_accepted_and_remove_the_logo_removes_it(app, world):
    out = io.BytesIO()
    Image.new("RGB", (300, 100), (200, 30, 30)).save(out, "JPEG")
    client = app.test_client()
    login_with_token(client, "admin@example.org")
    action, fields = _edit_form(client, world["programme"])
    assert "remove_logo" not in fields  # nothing to remove yet
    fields["logo"] = (io.BytesIO(out.getvalue()), "logo.jpg")
    assert client.post(action, data=fields, content_type="multipart/form-data").status_code == 302
    assert _programme(app, world["programme"]).funding_logo == out.getvalue()
    assert _images(_pdf(client.get(f"/teach/courses/{world['slug']}/sessions/{world['everyone']}/attendance.pdf")))
    action, fields = _edit_form(client, world["programme"])
    fields["remove_logo"] = "y"
    assert client.post(action, data=fields, content_type="multipart/form-data").status_code == 302
    saved = _programme(app, world["programme"])
    assert saved.funding_logo is None and saved.funding_statement == STATEMENT  # the statement kept
    assert not _images(_pdf(client.get(f"/teach/courses/{world['slug']}/participants.pdf")))
