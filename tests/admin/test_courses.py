import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.catalogue.models import Course, CourseStatus
from app.enrolment.models import Enrolment
from app.enrolment.models import EnrolmentStatus as S
from app.extensions import db
from tests.factories import CourseFactory, EnrolmentFactory, ProgrammeFactory, UserFactory

pytestmark = pytest.mark.usefixtures("app_ctx")

GOOD = {
    "title": "Winter School on Low-Carbon Cities", "slug": "", "kind": "winter_school", "programme_id": "0",
    "summary": "A week in Shanghai.", "description": "Long text", "language": "en", "venue_id": "0", "city": "Shanghai",
    "country": "CN", "timezone": "Asia/Shanghai", "starts_on": "2027-01-18", "ends_on": "2027-01-22", "capacity": "25",
    "enrolment_mode": "open", "application_questions": "", "enrolment_opens_at": "2026-12-01T09:00",
    "enrolment_closes_at": "2027-01-10T18:00", "withdrawal_deadline": "2027-01-15T12:00",
}


@pytest.fixture
def admin(auth):
    UserFactory(email="admin@example.org", role=Role.ADMIN)
    auth.login("admin@example.org")


def _course():
    db.session.rollback()
    return db.session.scalar(sa.select(Course))


def test_create_course_as_draft_with_times_in_its_zone(client, admin):
    response = client.post("/admin/courses/new", data=GOOD)
    assert response.status_code == 302
    course = _course()
    assert course.slug == "winter-school-on-low-carbon-cities" and course.status is CourseStatus.DRAFT
    assert course.capacity == 25
    # 18:00 in Shanghai is 10:00 UTC
    assert course.enrolment_closes_at.isoformat() == "2027-01-10T10:00:00+00:00"
    assert client.get(f"/courses/{course.slug}").status_code == 404  # drafts are not public
    assert client.post(f"/admin/courses/{course.id}/publish").status_code == 302
    assert client.get(f"/courses/{course.slug}").status_code == 200


@pytest.mark.parametrize("changes,message", [
    ({"ends_on": "2027-01-17"}, "cannot end before it starts"),
    ({"enrolment_closes_at": "2027-01-23T00:01"}, "close before the course ends"),
    ({"enrolment_opens_at": "2027-01-11T00:00"}, "open before it closes"),
    ({"withdrawal_deadline": "2027-02-01T00:00"}, "withdrawal deadline must be before"),
    ({"timezone": "Asia/Beijing"}, "Unknown time zone"),
    ({"timezone": "Europe/Rome", "enrolment_opens_at": "2026-03-29T02:30"}, "does not exist"),
    ({"slug": "Not A Slug!"}, "lower-case letters"),
    ({"capacity": "-3"}, "Number must be between"),
    ({"capacity": "many"}, "Not a valid integer"),
    ({"starts_on": "2027-02-30"}, "Not a valid date"),
    ({"title": ""}, "This field is required"),
    ({"title": "x" * 10000}, "cannot be longer than 200"),
    ({"kind": "party"}, "Not a valid choice"),
])
def test_course_validation(client, admin, changes, message):
    response = client.post("/admin/courses/new", data=dict(GOOD, **changes))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _course() is None


def test_slug_must_be_unique(client, admin):
    CourseFactory(slug="taken")
    response = client.post("/admin/courses/new", data=dict(GOOD, slug="taken"))
    assert response.status_code == 400 and "already uses this address" in response.get_data(as_text=True)


def test_capacity_not_below_places_taken_and_raising_promotes(client, admin, mail):
    course = CourseFactory(capacity=2, seats_taken=2, starts_on=__import__("datetime").date(2027, 1, 18),
                           ends_on=__import__("datetime").date(2027, 1, 22), timezone="Asia/Shanghai")
    EnrolmentFactory.create_batch(2, course=course, status=S.ACCEPTED)
    waiting = EnrolmentFactory(course=course, status=S.WAITLISTED, waitlisted_at=course.created_at)
    data = dict(GOOD, slug=course.slug, capacity="1")
    response = client.post(f"/admin/courses/{course.id}/edit", data=data)
    assert response.status_code == 400
    assert "cannot be lower than the 2 places already taken" in response.get_data(as_text=True)
    assert client.post(f"/admin/courses/{course.id}/edit", data=dict(data, capacity="3")).status_code == 302
    db.session.rollback()
    assert db.session.get(Enrolment, waiting.id).status is S.ACCEPTED
    assert any("A place has freed up" in m["Subject"] for m in mail)


def test_cancel_course_needs_a_reason_and_emails_everyone(client, admin, mail):
    course = CourseFactory()
    for status in (S.ACCEPTED, S.WAITLISTED, S.PENDING):
        EnrolmentFactory(course=course, status=status, waitlisted_at=course.created_at)
    course.seats_taken = 1
    db.session.commit()
    assert client.post(f"/admin/courses/{course.id}/cancel", data={"reason": ""}).status_code == 400
    assert client.post(f"/admin/courses/{course.id}/cancel", data={"reason": "Typhoon warning"}).status_code == 302
    db.session.rollback()
    assert db.session.get(Course, course.id).status is CourseStatus.CANCELLED
    assert db.session.get(Course, course.id).seats_taken == 0
    assert len([m for m in mail if "Typhoon warning" in m.get_body(("plain",)).get_content()]) == 3
    page = client.get(f"/courses/{course.slug}").get_data(as_text=True)
    assert "This activity has been cancelled." in page


def test_archive_rules(client, admin):
    running = CourseFactory()
    response = client.post(f"/admin/courses/{running.id}/archive")
    assert response.status_code == 400 and "once it has ended" in response.get_data(as_text=True)
    draft = CourseFactory(status=CourseStatus.DRAFT)
    assert client.post(f"/admin/courses/{draft.id}/archive").status_code == 302
    assert client.post(f"/admin/courses/{draft.id}/publish").status_code == 400


def test_a_second_publish_or_archive_is_a_conflict_that_says_so(client, admin):
    draft = CourseFactory(status=CourseStatus.DRAFT)
    assert client.post(f"/admin/courses/{draft.id}/publish").status_code == 302
    again = client.post(f"/admin/courses/{draft.id}/publish")
    assert again.status_code == 409 and "already published" in again.get_data(as_text=True)
    db.session.rollback()  # end the test's read before writing again (SQLite)
    other = CourseFactory(status=CourseStatus.DRAFT)
    assert client.post(f"/admin/courses/{other.id}/archive").status_code == 302
    twice = client.post(f"/admin/courses/{other.id}/archive")
    assert twice.status_code == 409 and "already archived" in twice.get_data(as_text=True)


def test_the_last_lead_of_a_coming_activity_cannot_be_removed(client, admin):
    from app.teaching.models import CourseStaff, StaffRole

    course = CourseFactory()
    lead = CourseStaff(course_id=course.id, user_id=UserFactory(full_name="Li Na").id, role=StaffRole.LEAD)
    db.session.add(lead)
    db.session.commit()
    course_id, lead_id = course.id, lead.id
    db.session.rollback()
    refused = client.post(f"/admin/courses/{course_id}/staff/{lead_id}/remove")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "Li Na is the only lead instructor" in page
    assert "This field is required" not in page  # the add-staff form is not taken for posted
    db.session.rollback()
    assert db.session.get(CourseStaff, lead_id) is not None
    db.session.rollback()
    db.session.add(CourseStaff(course_id=course_id, user_id=UserFactory().id, role=StaffRole.LEAD))
    db.session.commit()
    assert client.post(f"/admin/courses/{course_id}/staff/{lead_id}/remove").status_code == 302
    db.session.rollback()
    assert db.session.get(CourseStaff, lead_id) is None


def test_an_erased_lead_leads_nothing(client, admin):
    """Once one of two leads erased their account, the other is the last lead: removing
    them is refused, as erasing the last lead would have been."""
    from app.privacy.erasure import erase
    from app.teaching.models import CourseStaff, StaffRole

    course = CourseFactory()
    gone, staying = UserFactory(), UserFactory(full_name="Chen Jie")
    db.session.add_all([CourseStaff(course_id=course.id, user_id=gone.id, role=StaffRole.LEAD),
                        staying_staff := CourseStaff(course_id=course.id, user_id=staying.id, role=StaffRole.LEAD)])
    db.session.flush()
    erase(gone, gone)
    db.session.commit()
    course_id, staff_id = course.id, staying_staff.id
    db.session.rollback()
    refused = client.post(f"/admin/courses/{course_id}/staff/{staff_id}/remove")
    assert refused.status_code == 400 and "Chen Jie is the only lead instructor" in refused.get_data(as_text=True)


def test_programmes(client, admin):
    assert client.post("/admin/programmes/new", data={"title": "Cooperation 2027 — 合作"}).status_code == 302
    ProgrammeFactory(slug="taken")
    response = client.post("/admin/programmes/new", data={"title": "X", "slug": "taken"})
    assert response.status_code == 400 and "already uses this address" in response.get_data(as_text=True)
    assert "Cooperation 2027 — 合作" in client.get("/admin/programmes").get_data(as_text=True)


def test_unknown_course_ids_are_404(client, admin):
    assert client.get("/admin/courses/999999").status_code == 404
    assert client.get("/admin/courses/999999/edit").status_code == 404
    assert client.post("/admin/courses/999999/publish").status_code == 404


def test_the_admin_home_counts_activities_by_status(app, client):
    from app.catalogue.models import CourseStatus

    with app.app_context():
        for status in (CourseStatus.PUBLISHED, CourseStatus.PUBLISHED, CourseStatus.DRAFT):
            CourseFactory(status=status)
        UserFactory(email="home-admin@example.org", role=Role.ADMIN)
        db.session.commit()
    client.post("/auth/login", data={"email": "home-admin@example.org", "password": "correct-horse-battery"})
    html = client.get("/admin/").get_data(as_text=True)
    import re

    numbers = re.findall(r'<span class="display-6">(\d+)</span>', html)
    assert numbers == ["2", "1", "0", "0"]  # published, draft, cancelled, archived


@pytest.mark.parametrize(("q", "found"), [
    ("energy", ["Renewable Energy School"]), ("ENERGY", ["Renewable Energy School"]), ("可持续", ["可持续发展论坛"]),
    ("100%", ["100% Circular"]), ("_", []), ("<script>", []), ("forum-2026", ["可持续发展论坛"]),
])
def test_admins_search_courses_by_title_or_address(client, admin, q, found):
    titles = ["Renewable Energy School", "可持续发展论坛", "100% Circular", "Water Week"]
    for title, slug in zip(titles, ["res", "forum-2026", "circular", "water"], strict=True):
        CourseFactory(title=title, slug=slug)
    db.session.commit()
    response = client.get("/admin/courses", query_string={"q": q})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert [t for t in titles if f">{t}<" in page.replace("&lt;", "<")] == found
    if not found:
        assert "No course matches" in page and "<script>" not in page


def test_a_course_is_marked_train_the_trainer_on_its_form(client, admin):
    assert client.post("/admin/courses/new", data=dict(GOOD, train_the_trainer="y")).status_code == 302
    course = _course()
    assert course.train_the_trainer is True
    page = client.get(f"/admin/courses/{course.id}/edit").get_data(as_text=True)
    import re

    assert "checked" in re.search(r'<input[^>]*name="train_the_trainer"[^>]*>', page).group(0)
    assert client.post(f"/admin/courses/{course.id}/edit", data=dict(GOOD, slug=course.slug)).status_code == 302
    db.session.rollback()
    assert _course().train_the_trainer is False  # unticked: a browser sends nothing
