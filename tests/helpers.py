"""Helpers shared by tests: the six roles of the access matrix."""
from __future__ import annotations

from dataclasses import dataclass

from app.accounts.models import Role
from app.extensions import db
from app.teaching.models import CourseStaff, StaffRole
from tests.factories import PASSWORD, CourseFactory, EnrolmentFactory, UserFactory

ROLES = ("anonymous", "participant", "other_participant", "other_instructor", "instructor", "admin")


@dataclass
class World:
    course_id: int
    slug: str
    other_slug: str
    enrolment_id: int
    emails: dict[str, str]


def build_world(**course_kwargs) -> World:
    """A course with an enrolled participant and its instructor; another course with its own."""
    course = CourseFactory(**course_kwargs)
    other_course = CourseFactory()
    participant = UserFactory(email="participant@example.org")
    other = UserFactory(email="other@example.org")
    instructor = UserFactory(email="instructor@example.org", role=Role.INSTRUCTOR)
    other_instructor = UserFactory(email="other.instructor@example.org", role=Role.INSTRUCTOR)
    admin = UserFactory(email="admin@example.org", role=Role.ADMIN)
    db.session.add_all([
        CourseStaff(course_id=course.id, user_id=instructor.id, role=StaffRole.LEAD),
        CourseStaff(course_id=other_course.id, user_id=other_instructor.id, role=StaffRole.LEAD),
    ])
    enrolment = EnrolmentFactory(course=course, user=participant)
    course.seats_taken = 1
    db.session.commit()
    return World(course.id, course.slug, other_course.slug, enrolment.id, {
        "participant": participant.email, "other_participant": other.email, "instructor": instructor.email,
        "other_instructor": other_instructor.email, "admin": admin.email,
    })


def login_as(client, world: World, role: str) -> None:  # noqa: ANN001
    if role == "anonymous":
        return
    response = client.post("/auth/login", data={"email": world.emails[role], "password": PASSWORD})
    assert response.status_code == 302, role


LOGIN = "login"


def check_access(client, method: str, path: str, want) -> None:  # noqa: ANN001
    """One cell of an access matrix: `want` is a status code, or LOGIN for a redirect to log in."""
    response = client.open(path, method=method, data={})
    if want == LOGIN:
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"], path
    else:
        assert response.status_code == want, (path, response.status_code)


def check_world_access(app, role: str, method: str, template: str, want) -> None:  # noqa: ANN001
    """One cell of an access matrix over `build_world()`: {slug}, {other}, {eid}, {cid}."""
    with app.app_context():
        world = build_world()
    client = app.test_client()
    login_as(client, world, role)
    path = template.format(slug=world.slug, other=world.other_slug, eid=world.enrolment_id, cid=world.course_id)
    # An empty POST: CSRF is off in this app, so once access is granted a form that needs
    # fields fails validation (400), and a bare button goes through (302).
    check_access(client, method, path, want)
