"""No overbooking, ever: real threads released together against a real database file
(or PostgreSQL), through the real enrol view. The conditional UPDATE of
app/catalogue/seats.py is what makes this pass; count-then-insert fails it."""
import sqlalchemy as sa

from app.catalogue.models import Course
from app.enrolment.models import Enrolment
from app.enrolment.models import EnrolmentStatus as S
from app.extensions import db
from tests.factories import CourseFactory, UserFactory
from tests.integrity.harness import Shot, assert_doctor_clean, race

USERS = 32
PLACES = 10
ROUNDS = 5


def _logged_in_clients(app, emails):
    clients = []
    for email in emails:
        c = app.test_client()
        assert c.post("/auth/login", data={"email": email, "password": "correct-horse-battery"}).status_code == 302
        clients.append(c)
    return clients


def _rush(clients, path):
    """Every client POSTs `path` at once (tests.integrity.harness.race); codes, errors."""
    return race([Shot(c, path) for c in clients]), []


def test_32_people_rush_10_places_five_rounds(app):
    app.config["RATELIMIT_ENABLED"] = False
    with app.app_context():
        users = [UserFactory().email for _ in range(USERS)]
        slugs = [CourseFactory(capacity=PLACES).slug for _ in range(ROUNDS)]
        db.session.remove()
    clients = _logged_in_clients(app, users)
    for slug in slugs:
        results, errors = _rush(clients, f"/courses/{slug}/enrol")
        assert errors == []
        assert results == [302] * USERS  # everyone gets an answer: accepted or waitlisted
        with app.app_context():
            course = db.session.scalar(sa.select(Course).where(Course.slug == slug))
            rows = db.session.scalars(sa.select(Enrolment).where(Enrolment.course_id == course.id)).all()
            accepted = [e for e in rows if e.status is S.ACCEPTED]
            waiting = sorted((e for e in rows if e.status is S.WAITLISTED), key=lambda e: (e.waitlisted_at, e.id))
            assert len(rows) == USERS
            assert len(accepted) == PLACES
            assert len(waiting) == USERS - PLACES
            assert course.seats_taken == PLACES
            # every accepted person enrolled before anyone was put on the list
            assert max(e.created_at for e in accepted) <= min(e.waitlisted_at for e in waiting)
            db.session.remove()
    assert_doctor_clean(app)  # the invariants hold after the race


def test_a_double_click_gives_one_row_and_a_message(app):
    with app.app_context():
        user = UserFactory().email
        slug = CourseFactory(capacity=PLACES).slug
        db.session.remove()
    clients = _logged_in_clients(app, [user])
    twin = app.test_client()
    twin.set_cookie("ponte_session", clients[0].get_cookie("ponte_session").value)
    for _ in range(3):
        results, errors = _rush([clients[0], twin], f"/courses/{slug}/enrol")
        assert errors == []
        assert sorted(results) in ([302, 409], [409, 409])
    with app.app_context():
        course = db.session.scalar(sa.select(Course).where(Course.slug == slug))
        assert db.session.scalar(sa.select(sa.func.count(Enrolment.id))) == 1
        assert course.seats_taken == 1
    page = clients[0].post(f"/courses/{slug}/enrol")
    assert page.status_code == 409 and b"already enrolled" in page.data
    assert_doctor_clean(app)  # the invariants hold after the race


def test_withdrawals_racing_promote_each_waiting_person_once(app):
    app.config["RATELIMIT_ENABLED"] = False
    with app.app_context():
        holders = [UserFactory().email for _ in range(4)]
        waiting = [UserFactory() for _ in range(6)]
        waiting_ids = [u.id for u in waiting]
        waiting = [u.email for u in waiting]
        slug = CourseFactory(capacity=4).slug
        db.session.remove()
    holder_clients = _logged_in_clients(app, holders)
    for c in holder_clients:
        assert c.post(f"/courses/{slug}/enrol").status_code == 302
    for c in _logged_in_clients(app, waiting):
        assert c.post(f"/courses/{slug}/enrol").status_code == 302
    results, errors = _rush(holder_clients, f"/courses/{slug}/withdraw")
    assert errors == [] and results == [302] * 4
    with app.app_context():
        course = db.session.scalar(sa.select(Course).where(Course.slug == slug))
        statuses = db.session.execute(
            sa.select(Enrolment.user_id, Enrolment.status).where(Enrolment.course_id == course.id)).all()
        by_user = dict(statuses)
        assert course.seats_taken == 4
        assert [by_user[i] for i in waiting_ids] == [S.ACCEPTED] * 4 + [S.WAITLISTED] * 2
    assert_doctor_clean(app)  # the invariants hold after the race
