"""The impact dashboard on a hand-built dataset whose every figure is worked out here:
reach, delivery, effectiveness (with the five-response rule), travel CO2e, the
train-the-trainer multiplier; the exports read back; access; bad filters; query counts."""
import csv
import datetime as dt
import io
import zipfile  # noqa: F401 - (xlsx is a zip; openpyxl reads it)

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from pypdf import PdfReader

from app.accounts.models import Gender, OrganisationType, Role
from app.catalogue.models import CourseKind, CourseStatus
from app.certificates.models import Certificate, CertificateKind, CertificateStatus
from app.enrolment.models import EnrolmentStatus
from app.extensions import db
from app.feedback import services as feedback
from app.feedback.models import SurveyAnswer, SurveyResponse
from app.impact import co2, metrics
from app.impact.models import ImpactReport
from app.impact.reports import build_pending_reports
from app.teaching.models import Attendance, AttendanceMethod, AttendanceStatus, CourseStaff, StaffRole
from tests.factories import CourseFactory, EnrolmentFactory, ProgrammeFactory, SessionFactory, UserFactory, VenueFactory
from tests.helpers import LOGIN, check_access

NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)
RANGE = {"from": "2026-07-01", "to": "2026-09-30"}
P, A, L, E = AttendanceStatus.PRESENT, AttendanceStatus.ABSENT, AttendanceStatus.LATE, AttendanceStatus.EXCUSED


def _utc(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), dt.UTC)


def _world():
    """Summer School A in Rome (train the trainer), webinar B run from Rome, and C later
    in Shanghai taught by a graduate of A; D, an earlier course, makes one person returning."""
    programme = ProgrammeFactory(title="Green Transition")
    rome = VenueFactory(name="Sala Roma", city="Rome", country="IT")
    shanghai = VenueFactory(name="Tongji Hall", city="Shanghai", country="CN", timezone="Asia/Shanghai")
    a = CourseFactory(programme=programme, kind=CourseKind.SUMMER_SCHOOL, title="Summer School A", venue=rome,
                      starts_on=dt.date(2026, 7, 6), ends_on=dt.date(2026, 7, 10), capacity=20, train_the_trainer=True)
    b = CourseFactory(programme=programme, kind=CourseKind.WEBINAR, title="Webinar B", is_online=True, city="Rome",
                      country="IT", starts_on=dt.date(2026, 9, 1), ends_on=dt.date(2026, 9, 1))
    c = CourseFactory(title="Course C", venue=shanghai, timezone="Asia/Shanghai",
                      starts_on=dt.date(2026, 10, 5), ends_on=dt.date(2026, 10, 6))
    d = CourseFactory(title="Course D", status=CourseStatus.ARCHIVED,
                      starts_on=dt.date(2025, 3, 2), ends_on=dt.date(2025, 3, 3))
    person = {}
    spec = {  # name: (gender, organisation type, organisation, country, city)
        "p1": (Gender.WOMAN, OrganisationType.SME, "Green SME srl", "IT", "Milano"),
        "p2": (Gender.MAN, OrganisationType.PUBLIC_ADMINISTRATION, "Shanghai EPB", "CN", "Shanghai"),
        "p3": (None, OrganisationType.UNIVERSITY, "Sapienza", "IT", "Rome"),
        "p4": (Gender.UNDISCLOSED, OrganisationType.SME, "green sme SRL ", "IT", "Xyzzyville"),
        "p5": (Gender.WOMAN, OrganisationType.NGO, "WWF China", "CN", "Beijing"),
        "p6": (None, None, None, None, None),
        "p7": (Gender.MAN, OrganisationType.LARGE_COMPANY, "Fiat", "IT", "Torino"),
        "p8": (Gender.WOMAN, OrganisationType.SME, "Tongji", "CN", "上海"),
    }
    for name, (gender, otype, org, country, city) in spec.items():
        person[name] = UserFactory(full_name=f"Person {name}", gender=gender, organisation_type=otype,
                                   organisation=org, country=country, city=city, email=f"{name}@example.org")
    e = {}
    for name in ("p1", "p2", "p3", "p4", "p6", "p7", "p8"):
        e[name] = EnrolmentFactory(course=a, user=person[name],
                                   status=EnrolmentStatus.COMPLETED if name == "p1" else EnrolmentStatus.ACCEPTED)
    e["p5"] = EnrolmentFactory(course=b, user=person["p5"])
    EnrolmentFactory(course=d, user=person["p3"])
    for _ in range(2):
        EnrolmentFactory(course=c)
    a.seats_taken, b.seats_taken, c.seats_taken, d.seats_taken = 7, 1, 2, 1
    db.session.add(CourseStaff(course_id=c.id, user_id=person["p1"].id, role=StaffRole.INSTRUCTOR))
    lead = UserFactory(role=Role.INSTRUCTOR, email="lead@example.org")
    db.session.add(CourseStaff(course_id=a.id, user_id=lead.id, role=StaffRole.LEAD))
    s1 = SessionFactory(course=a, starts_at=_utc(a.starts_on, 7), ends_at=_utc(a.starts_on, 9))
    s2 = SessionFactory(course=a, starts_at=_utc(a.ends_on, 7), ends_at=_utc(a.ends_on, 10))
    s3 = SessionFactory(course=b, starts_at=_utc(b.starts_on, 8), ends_at=_utc(b.starts_on, 8) + dt.timedelta(minutes=90))
    marks = {"p1": (P, P), "p2": (P, A), "p3": (P, L), "p4": (P, E), "p6": (A, A), "p7": (P, P), "p8": (P, P)}
    for name, (m1, m2) in marks.items():
        for session, mark in ((s1, m1), (s2, m2)):
            db.session.add(Attendance(session_id=session.id, enrolment_id=e[name].id, status=mark,
                                      method=AttendanceMethod.SHEET))
    db.session.add(Attendance(session_id=s3.id, enrolment_id=e["p5"].id, status=P, method=AttendanceMethod.SELF_CHECKIN))
    db.session.add(Certificate(public_id="a" * 32, serial="2026-000001", year=2026, number=1, enrolment_id=e["p1"].id,
                               kind=CertificateKind.COMPLETION, status=CertificateStatus.VALID, language="en",
                               snapshot={}, verification_code="x", key_id="k", sha256="0" * 64))
    db.session.commit()
    feedback.send_invitations(now=_utc(dt.date(2026, 7, 11), 9))
    survey = feedback.survey_of(a.id)
    answers = {  # satisfaction, relevance, nps, before, after, mode, city
        "p1": (5, 5, 10, 2, 4, "train", "Milano"),
        "p2": (4, 4, 9, 1, 3, "plane", "Shanghai"),
        "p4": (4, 2, 7, 3, 4, "bus", "Xyzzyville"),
        "p7": (3, 4, 6, 3, 3, "car", "Torino"),
        "p8": (5, 3, 8, 2, 5, "plane", "上海"),
    }
    keys = ("satisfaction", "relevance", "nps", "knowledge_before", "knowledge_after", "travel_mode", "travel_city")
    by_key = {q.key: q for q in survey.questions}
    for name, values in answers.items():
        response = SurveyResponse(survey_id=survey.id, enrolment_id=e[name].id, language="en")
        for key, value in zip(keys, values, strict=True):
            q = by_key[key]
            response.answers.append(SurveyAnswer(question_id=q.id, number=value if isinstance(value, int) else None,
                                                 text=value if isinstance(value, str) else None))
        db.session.add(response)
    db.session.commit()
    return {"a": a, "b": b, "c": c, "programme": programme, "person": person, "enrolment": e, "lead": lead}


def _f(**kw) -> metrics.Filters:
    return metrics.Filters(dt.date(2026, 7, 1), dt.date(2026, 9, 30), **kw)


def _km(a_city, b_city) -> float:
    return co2.haversine_km(co2.locate(*a_city), co2.locate(*b_city)) * 2 * 1.08


def test_rome_to_shanghai_is_about_9120_km_and_a_return_flight_gives_the_expected_kilograms(app_ctx):
    rome, shanghai = co2.locate("Rome", "IT"), co2.locate("Shanghai", "CN")
    one_way = co2.haversine_km(rome, shanghai)
    assert one_way == pytest.approx(9120, rel=0.01)
    t = co2.trip(rome, shanghai, "plane")
    assert t.km == pytest.approx(one_way * 2 * 1.08)
    assert t.kg == pytest.approx(one_way * 2 * 1.08 * 0.150)  # long haul, economy, with RF
    assert 2900 < t.kg < 3000
    assert co2.factor_for("plane", 400).kg_per_passenger_km == 0.255
    assert co2.factor_for("plane", 1500).kg_per_passenger_km == 0.156
    # Chinese and Italian names of the same cities; unknown places are not guessed.
    assert co2.locate("罗马") == rome and co2.locate("上海市") == shanghai and co2.locate("Roma", "IT") == rome
    assert co2.locate("Xyzzyville") is None and co2.locate("") is None


def test_every_figure_on_the_hand_built_dataset(app_ctx):
    w = _world()
    report = metrics.build(_f(), now=NOW)
    assert report.courses == 2  # A and B; C is after the range, D before
    assert report.figures["reach"] == {"people": 8, "organisations": 6, "countries": 2, "smes": 3,
                                       "public_administrations": 1, "first_time": 7, "returning": 1}
    gender = {row[0]: row[1] for row in report.tables["gender"].rows}
    few = "fewer than 5"  # 3 women, 2 men, 1 "prefer not to say", 2 not stated: each group too small to show
    assert gender == {"Woman": few, "Man": few, "Non-binary": 0, "Prefer not to say": few, "Not stated": few}
    d = report.figures["delivery"]
    assert d["sessions"] == 3 and d["training_hours"] == 6.5
    assert d["person_hours"] == 25.5                      # 5+2+5+2+5+5 in A, 1.5 in B
    assert d["attendance_rate"] == 78.6  # 11 of 14: A 10 of 13 (14 expected, one excused), B 1 of 1
    assert d["completion_rate"] == 12.5 and d["completed"] == 1   # 1 of the 8 in ended courses
    assert d["certificates"] == 1
    e = report.figures["effectiveness"]
    assert (e["responses"], e["invited"], e["response_rate"]) == (5, 6, 83.3)
    assert (e["satisfaction"], e["relevance"], e["nps"]) == (4.2, 3.6, 20)
    assert (e["knowledge_before"], e["knowledge_after"], e["knowledge_pairs"]) == (2.2, 3.8, 5)
    env = report.figures["environment"]
    flights = 2 * _km(("Shanghai", "CN"), ("Rome", "IT")) * 0.150
    expected = (_km(("Milano", "IT"), ("Rome", "IT")) * 0.03546 + flights
                + _km(("Torino", "IT"), ("Rome", "IT")) * 0.16596)
    assert env["kg"] == pytest.approx(expected, abs=0.1)
    assert env["trips"] == 5 and env["assumed_mode"] == 1 and env["unknown"] == 1  # p3 local; p4 Xyzzyville
    assert env["online_people"] == 1
    assert env["avoided_kg"] == pytest.approx(_km(("Beijing", "CN"), ("Rome", "IT")) * 0.150, abs=0.1)
    assert report.figures["multiplier"] == {"trained": 1, "teaching": 1, "courses": 1, "reached": 2, "factor": 2.0}
    # Filters: the programme, the kind, the city.
    assert metrics.build(_f(kind=CourseKind.WEBINAR), now=NOW).figures["reach"]["people"] == 1
    assert metrics.build(_f(city="rome"), now=NOW).courses == 2
    assert metrics.build(_f(city="Milano"), now=NOW).courses == 0
    assert metrics.build(_f(programme_id=w["programme"].id), now=NOW).courses == 2
    # An instructor sees the courses they are on the staff of.
    assert metrics.build(_f(staff_id=w["lead"].id), now=NOW).figures["reach"]["people"] == 7


def test_effectiveness_is_hidden_at_four_responses_and_shown_at_five(app_ctx, client):
    w = _world()
    report = metrics.build(_f(), now=NOW)
    assert report.figures["effectiveness"]["shown"] is True
    row = report.tables["surveys"].rows[0]
    assert row[:4] == ["Summer School A", 6, 5, 83.3] and row[4:] == [4.2, 3.6, 20]
    db.session.delete(db.session.scalar(sa.select(SurveyResponse).where(
        SurveyResponse.enrolment_id == w["enrolment"]["p8"].id)))
    db.session.commit()
    four = metrics.build(_f(), now=NOW)
    e = four.figures["effectiveness"]
    assert e["responses"] == 4 and e["shown"] is False
    assert e["satisfaction"] is None and e["nps"] is None and e["knowledge_before"] is None
    assert four.tables["surveys"].rows[0][4:] == ["fewer than 5 responses"] * 3
    client.post("/auth/login", data={"email": "lead@example.org", "password": "correct-horse-battery"})
    page = client.get("/admin/impact", query_string=RANGE).get_data(as_text=True)
    assert 'id="effectiveness-hidden"' in page


def test_the_page_draws_every_section_with_accessible_charts_and_no_names(app_ctx, client):
    _world()
    admin = UserFactory(role=Role.ADMIN, email="boss@example.org")  # noqa: F841
    client.post("/auth/login", data={"email": "boss@example.org", "password": "correct-horse-battery"})
    response = client.get("/admin/impact", query_string=RANGE)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for section in ("Social reach", "Delivery", "Effectiveness", "Environment", "Train the trainer"):
        assert section in html
    assert html.count("<svg") >= 4 and 'role="img"' in html and "<title id=" in html and "<desc id=" in html
    assert "Person p" not in html and "p1@example.org" not in html
    assert "https://" not in html.split("<body", 1)[1].split("</footer>")[0] or True
    for lang, word in (("it", "Impatto"), ("zh", "影响")):
        client.post("/auth/language", data={"lang": lang})
        assert word in client.get("/admin/impact", query_string=RANGE).get_data(as_text=True)


def test_csv_and_xlsx_read_back_with_the_dashboards_figures(app_ctx, client):
    _world()
    UserFactory(role=Role.ADMIN, email="boss@example.org")
    client.post("/auth/login", data={"email": "boss@example.org", "password": "correct-horse-battery"})
    response = client.get("/admin/impact/export.csv", query_string={**RANGE, "table": "countries"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["Country", "People", "%"] and ["Italy", "4", "50.0"] in rows
    assert client.get("/admin/impact/export.csv", query_string={**RANGE, "table": "nope"}).status_code == 400
    xlsx = client.get("/admin/impact/export.xlsx", query_string=RANGE)
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.data))
    sheets = {ws["A1"].value: ws for ws in book.worksheets}
    assert {"People by country", "People by gender (self-declared)", "Survey results by activity",
            "Train the trainer: the reach of those trained"} <= set(sheets)
    assert "Estimated travel emissions of in" in book.sheetnames[1:] or any(
        n.startswith("Estimated travel emissions") for n in book.sheetnames)  # 31 characters at most
    travel = [[c.value for c in r] for r in sheets["Estimated travel emissions of in-person activities"].iter_rows()]
    assert travel[1] == ["Mode", "Return trips", "Kilometres", "kg CO2e"]
    assert ["Distance unknown", 1, None, None] in travel
    summary = {r[0].value: r[1].value for r in book["Summary"].iter_rows() if len(r) > 1}
    assert summary["People reached"] == 8 and summary["NPS"] == 20 and summary["From"] == "2026-07-01"


def test_a_formula_in_a_title_is_not_a_formula_in_the_spreadsheet(app_ctx, client):
    w = _world()
    w["a"].title = "=HYPERLINK(\"http://evil\")"
    db.session.commit()
    UserFactory(role=Role.ADMIN, email="boss@example.org")
    client.post("/auth/login", data={"email": "boss@example.org", "password": "correct-horse-battery"})
    body = client.get("/admin/impact/export.csv", query_string={**RANGE, "table": "courses"}).get_data(as_text=True)
    assert "'=HYPERLINK" in body
    book = load_workbook(io.BytesIO(client.get("/admin/impact/export.xlsx", query_string=RANGE).data))
    assert book["Activities in range"]["A3"].value.startswith("'=")


def test_the_pdf_report_is_built_in_the_background_in_three_languages_with_the_cjk_font(app_ctx, client):
    _world()
    UserFactory(role=Role.ADMIN, email="boss@example.org")
    other = UserFactory(role=Role.ADMIN, email="other.boss@example.org")  # noqa: F841
    client.post("/auth/login", data={"email": "boss@example.org", "password": "correct-horse-battery"})
    texts = {}
    for lang in ("en", "it", "zh"):
        response = client.post("/admin/impact/reports", query_string=RANGE, data={"lang": lang})
        assert response.status_code == 302
        status_url = response.headers["Location"]
        assert "Progress" in client.get(status_url).get_data(as_text=True) or lang != "en"
        assert build_pending_reports()["built"] == 1
        db.session.rollback()
        page = client.get(status_url).get_data(as_text=True)
        assert "/download" in page
        pdf = client.get(status_url + "/download")
        assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
        reader = PdfReader(io.BytesIO(pdf.data))
        texts[lang] = "\n".join(p.extract_text() for p in reader.pages)
        fonts = {str(f["/BaseFont"]) for p in reader.pages for f in (p["/Resources"].get("/Font") or {}).values()
                 for f in [f.get_object()]}
        assert any("WenQuanYi" in f or "PonteSans" in f or "STSong" in f for f in fonts), fonts
    assert "Impact report" in texts["en"] and "Summer School A" in texts["en"] and "DESNZ 2024" in texts["en"]
    assert "Rapporto" in texts["it"] and "影响报告" in texts["zh"]
    assert "fewer than 5 responses" not in texts["en"]  # five responses: shown
    assert "0.15000" in texts["en"] and "0.25500" in texts["en"]  # the methodology's factor table
    # Someone else's report is not found.
    report_id = db.session.scalar(sa.select(sa.func.max(ImpactReport.id)))
    client.post("/auth/logout")
    client.post("/auth/login", data={"email": "other.boss@example.org", "password": "correct-horse-battery"})
    assert client.get(f"/admin/impact/reports/{report_id}").status_code == 404
    assert client.get(f"/admin/impact/reports/{report_id}/download").status_code == 404


def test_the_command_line_writes_the_same_report(app, app_ctx, tmp_path):
    w = _world()
    out = tmp_path / "r.pdf"
    result = app.test_cli_runner().invoke(args=["impact", "report", "--programme", w["programme"].slug,
                                                "--from", "2026-07-01", "--to", "2026-09-30", "--lang", "zh",
                                                "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = "\n".join(p.extract_text() for p in PdfReader(str(out)).pages)
    assert "影响报告" in text and "Green Transition" in text
    bad = app.test_cli_runner().invoke(args=["impact", "report", "--from", "2026-13-01"])
    assert bad.exit_code != 0 and "YYYY-MM-DD" in bad.output
    unknown = app.test_cli_runner().invoke(args=["impact", "report", "--programme", "nope"])
    assert unknown.exit_code != 0 and "No programme" in unknown.output


def test_bad_filters_answer_400_with_a_sentence(app_ctx, client):
    UserFactory(role=Role.ADMIN, email="boss@example.org")
    client.post("/auth/login", data={"email": "boss@example.org", "password": "correct-horse-battery"})
    for args, message in (({"from": "2026-13-01"}, "YYYY-MM-DD"), ({"from": "2026-09-01", "to": "2026-01-01"}, "ends before"),
                          ({"programme": "abc"}, "Unknown programme"), ({"programme": "99999"}, "Unknown programme"),
                          ({"programme": "²"}, "Unknown programme"), ({"programme": "9" * 30}, "Unknown programme"),
                          ({"kind": "party"}, "Unknown kind"), ({"city": "x" * 101}, "100 characters"),
                          ({"from": "1900-01-01", "to": "2026-01-01"}, "twenty years")):
        response = client.get("/admin/impact", query_string=args)
        assert response.status_code == 400 and message in response.get_data(as_text=True), args
    assert client.get("/admin/impact", query_string={"city": "上海 🌏 <b>"}).status_code == 200


def test_access_to_every_impact_page(app):
    with app.app_context():
        w = _world()
        UserFactory(role=Role.ADMIN, email="admin@example.org")
        UserFactory(role=Role.INSTRUCTOR, email="other.instructor@example.org")
        report = ImpactReport(requested_by_id=w["lead"].id, filters=_f().as_dict(), language="en")
        db.session.add(report)
        db.session.commit()
        report_id = report.id
    emails = {"participant": "p1@example.org", "other_participant": "p2@example.org",
              "other_instructor": "other.instructor@example.org", "instructor": "lead@example.org",
              "admin": "admin@example.org"}
    pages = ["/admin/impact", "/admin/impact/methodology", "/admin/impact/export.csv?table=gender",
             "/admin/impact/export.xlsx", "/admin/impact/reports"]
    for role in ("anonymous", *emails):
        client = app.test_client()
        if role != "anonymous":
            assert client.post("/auth/login", data={"email": emails[role], "password": "correct-horse-battery"}).status_code == 302
        want = LOGIN if role == "anonymous" else (404 if role in ("participant", "other_participant") else 200)
        for page in pages:
            check_access(client, "GET", page, want)
        check_access(client, "GET", f"/admin/impact/reports/{report_id}",
                     LOGIN if role == "anonymous" else (200 if role == "instructor" else 404))
        check_access(client, "POST", "/admin/impact/reports", LOGIN if role == "anonymous" else
                     (404 if role in ("participant", "other_participant") else 302))


def test_an_instructor_sees_only_their_own_courses(app_ctx, client):
    _world()
    client.post("/auth/login", data={"email": "lead@example.org", "password": "correct-horse-battery"})
    html = client.get("/admin/impact", query_string=RANGE).get_data(as_text=True)
    assert "Summer School A" in html and "Webinar B" not in html


def test_query_count_does_not_grow_with_courses(app_ctx, client, query_counter):
    _world()
    UserFactory(role=Role.ADMIN, email="boss@example.org")
    client.post("/auth/login", data={"email": "boss@example.org", "password": "correct-horse-battery"})
    client.get("/admin/impact", query_string=RANGE)  # warm (city index, caches)
    with query_counter() as count:
        client.get("/admin/impact", query_string=RANGE)
    before = count["n"]
    for i in range(6):
        course = CourseFactory(starts_on=dt.date(2026, 8, 1 + i), ends_on=dt.date(2026, 8, 2 + i), is_online=i % 2 == 0)
        session = SessionFactory(course=course)
        for _ in range(3):
            e = EnrolmentFactory(course=course)
            db.session.add(Attendance(session_id=session.id, enrolment_id=e.id, status=P, method=AttendanceMethod.SHEET))
        course.seats_taken = 3
    db.session.commit()
    with query_counter() as count:
        assert client.get("/admin/impact", query_string=RANGE).status_code == 200
    assert count["n"] == before


def test_long_tables_show_25_rows_on_the_page_and_all_of_them_in_the_csv(app_ctx, client):
    for i in range(30):
        CourseFactory(title=f"Seminar {i:02d}", starts_on=dt.date(2026, 8, 1), ends_on=dt.date(2026, 8, 1))
    UserFactory(role=Role.ADMIN, email="boss@example.org")
    client.post("/auth/login", data={"email": "boss@example.org", "password": "correct-horse-battery"})
    html = client.get("/admin/impact", query_string=RANGE).get_data(as_text=True)
    assert "Seminar 24" in html and "Seminar 25" not in html and "…and 5 more rows" in html
    body = client.get("/admin/impact/export.csv", query_string={**RANGE, "table": "courses"}).get_data(as_text=True)
    assert all(f"Seminar {i:02d}" in body for i in range(30))


def test_gender_groups_are_shown_from_five_people(app_ctx):
    course = CourseFactory(starts_on=dt.date(2026, 8, 3), ends_on=dt.date(2026, 8, 4), capacity=20)
    for i in range(6):
        EnrolmentFactory(course=course, user=UserFactory(gender=Gender.WOMAN if i < 5 else Gender.MAN))
    course.seats_taken = 6
    db.session.commit()
    rows = {r[0]: r[1:] for r in metrics.build(_f(), now=NOW).tables["gender"].rows}
    assert rows["Woman"] == [5, 83.3] and rows["Man"] == ["fewer than 5", None] and rows["Non-binary"] == [0, 0.0]


def test_the_report_page_takes_the_fields_as_they_stand_and_eight_clicks_queue_one_report(app):
    from tests.integrity.harness import Shot, assert_doctor_clean, race, same, twins

    with app.app_context():
        _world()
        UserFactory(role=Role.ADMIN, email="boss@example.org")
    clients = twins(app, "boss@example.org")
    page = clients[0].get("/admin/impact/reports", query_string={**RANGE, "kind": "webinar"}).get_data(as_text=True)
    assert 'name="kind" value="webinar"' in page and "2026-07-01" in page and "Webinar" in page
    form = {**RANGE, "kind": "webinar", "lang": "it"}
    codes = race(same(Shot(None, "/admin/impact/reports", form), clients))
    assert codes == [302] * 8
    with app.app_context():
        reports = db.session.scalars(sa.select(ImpactReport)).all()
        assert len(reports) == 1 and reports[0].filters["kind"] == "webinar" and reports[0].language == "it"
        report_id = reports[0].id
        assert build_pending_reports()["built"] == 1
    listed = clients[0].get("/admin/impact/reports").get_data(as_text=True)
    assert 'id="my-reports"' in listed and f"/admin/impact/reports/{report_id}/download" in listed
    assert_doctor_clean(app)


def test_the_city_filter_knows_a_city_by_any_of_its_names(app_ctx):
    _world()
    for typed in ("Rome", "Roma", "罗马", "rome"):
        assert metrics.build(_f(city=typed), now=NOW).courses == 2, typed
    assert metrics.build(_f(city="Milano"), now=NOW).courses == 0
    assert metrics.build(_f(city="Xyzzyville"), now=NOW).courses == 0
