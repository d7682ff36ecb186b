import sqlalchemy as sa

from app.accounts.models import Role, User
from app.catalogue.models import Course
from app.enrolment.models import Enrolment
from app.extensions import db
from tests.factories import UserFactory


def test_create_admin(runner, app):
    result = runner.invoke(args=["users", "create-admin", "Boss@Example.org", "--password", "a-strong-password"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(sa.select(User))
        assert user.email == "boss@example.org" and user.role is Role.ADMIN


def test_create_admin_promotes_an_existing_user(runner, app, app_ctx):
    UserFactory(email="anna@example.org")
    result = runner.invoke(args=["users", "create-admin", "anna@example.org"])
    assert result.exit_code == 0 and "now an admin" in result.output
    db.session.expire_all()
    assert db.session.scalar(sa.select(User.role)) is Role.ADMIN


def test_create_admin_refuses_a_short_password(runner, app):
    result = runner.invoke(args=["users", "create-admin", "boss@example.org", "--password", "short"])
    assert result.exit_code != 0 and "at least 10" in result.output


def test_seed_demo_is_idempotent_and_prints_logins(runner, app):
    first = runner.invoke(args=["seed", "demo"])
    assert first.exit_code == 0, first.output
    assert "admin@example.org" in first.output and "ponte-demo-2026" in first.output
    with app.app_context():
        counts = (db.session.scalar(sa.select(sa.func.count(User.id))), db.session.scalar(sa.select(sa.func.count(Course.id))))
        assert counts[0] >= 43 and counts[1] == 8
        for course in db.session.scalars(sa.select(Course)):
            holders = db.session.scalar(sa.select(sa.func.count()).where(
                Enrolment.course_id == course.id, Enrolment.status.in_(("accepted", "completed", "not_completed"))))
            assert holders == course.seats_taken
    second = runner.invoke(args=["seed", "demo"])
    assert second.exit_code == 0 and "already present" in second.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == counts[0]


def test_demo_logins_work(runner, client):
    runner.invoke(args=["seed", "demo"])
    for email in ("admin@example.org", "instructor@example.org", "participant@example.org"):
        response = client.post("/auth/login", data={"email": email, "password": "ponte-demo-2026"})
        assert response.status_code == 302, email
        client.post("/auth/logout")


def test_seed_demo_refused_in_production(runner, app):
    app.config["PONTE_ENV"] = "production"
    result = runner.invoke(args=["seed", "demo"])
    assert result.exit_code != 0 and "never loaded under the production" in result.output


def test_demo_activities_are_dated_in_their_seasons_all_year_round():
    """Whatever the day the demo is loaded: the Summer School in early July, the Winter
    School from December to February, and always something upcoming, running and finished."""
    import datetime as dt

    from app.admin.demo import demo_calendar

    day = dt.date(2026, 1, 1)
    while day < dt.date(2028, 1, 1):
        cal = demo_calendar(day)
        summer, summer_days = cal["summer-school-rome"]
        winter, winter_days = cal["winter-school-shanghai"]
        assert summer.month == 7 and summer > day, day
        assert all((winter + dt.timedelta(days=i)).month in (12, 1, 2) for i in range(winter_days)), day
        assert winter + dt.timedelta(days=winter_days) > day, day  # the current or the next winter
        spans = [(first, first + dt.timedelta(days=n - 1)) for first, n in cal.values()]
        assert any(first > day for first, _last in spans), day
        assert any(first <= day <= last for first, last in spans), day
        assert any(last < day for _first, last in spans), day
        day += dt.timedelta(days=1)
