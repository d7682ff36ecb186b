"""Enrolment rush: 500 distinct signed-in users at one course with 50 places.

Run:  .venv/bin/python bench/enrol_rush.py   (or `make bench`; BENCH_USERS, BENCH_PLACES)

Production configuration, gunicorn with 2 workers, SQLite (WAL) in a throw-away folder, or
PostgreSQL with BENCH_DATABASE_URL. Each user's login is older than the last-seen interval,
as in real life, so the request also writes its "last seen". Every user posts the Enrol
form once (its own session cookie and CSRF token), 16 at a time, sent by wrk (see
bench/_load.py). Prints accepted / waitlisted / errors, requests per second, p50 and p95,
and the ratio to a bare Flask "hello" measured in the same run.
"""
from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._load import WRK, Gunicorn, bare_flask, load, warm  # noqa: E402
from bench.pages import environment, signed_in_cookie  # noqa: E402

USERS = int(os.environ.get("BENCH_USERS", "500"))
PLACES = int(os.environ.get("BENCH_PLACES", "50"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))


def main() -> None:
    import subprocess

    from bench._load import PYTHON_BIN, ROOT

    tmp = Path(tempfile.mkdtemp(prefix="ponte-bench-rush-"))
    env = environment(tmp)
    os.environ.update(env)
    if env["DATABASE_URL"].startswith("postgresql"):
        _empty_postgresql(env["DATABASE_URL"])
    subprocess.run([str(PYTHON_BIN / "flask"), "db", "upgrade"], cwd=ROOT, env={**os.environ, **env}, check=True,
                   capture_output=True)
    requests = prepare()
    database = "PostgreSQL" if env["DATABASE_URL"].startswith("postgresql") else "SQLite (WAL)"
    with Gunicorn("wsgi:app", env) as server:
        warm(server.port, [("/courses", "")])
        rush = load(server.port, "enrol (POST, each user once)", "/", requests=requests, expect=302, once=True,
                    connections=CONNECTIONS)
    bare = bare_flask(SECONDS, CONNECTIONS)
    accepted, waitlisted, seats = count()
    generator = "wrk" if WRK else "the Python generator (install wrk for comparable figures)"
    print(f"Enrolment rush: {USERS} users, {PLACES} places, production config, {database}, gunicorn -w 2, "
          f"{CONNECTIONS} connections, load from {generator}")
    print(f"  accepted {accepted}, waitlisted {waitlisted}, errors {rush.bad}, seats_taken {seats}")
    print("  " + bare.line())
    print("  " + rush.line(bare))
    ok = accepted == PLACES and waitlisted == USERS - PLACES and rush.bad == 0 and seats == PLACES
    print("  result:", "OK" if ok else "UNEXPECTED")
    sys.exit(0 if ok else 1)


def _empty_postgresql(url: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def prepare() -> list[tuple[str, str, str, str]]:
    """The course, the users, and per user one signed-in cookie (a login ten minutes old)
    with the CSRF token its session carries: (method, path, cookie, body) for wrk."""
    from flask import session
    from flask_wtf.csrf import generate_csrf

    from app import create_app
    from app.accounts.models import User
    from app.catalogue.models import Course, CourseKind, CourseStatus
    from app.core.types import utcnow
    from app.extensions import db

    app = create_app()
    with app.app_context():
        today = utcnow().date()
        db.session.add(Course(slug="rush", title="Winter School Rush", kind=CourseKind.WINTER_SCHOOL,
                              timezone="Asia/Shanghai", starts_on=today + dt.timedelta(days=30),
                              ends_on=today + dt.timedelta(days=35), capacity=PLACES, status=CourseStatus.PUBLISHED))
        db.session.add_all([User(email=f"rush{i}@example.org", password_hash="x", full_name=f"Rush User {i}",
                                 email_verified_at=utcnow(), privacy_version=app.config["PONTE_PRIVACY_VERSION"])
                            for i in range(USERS)])
        db.session.commit()
    requests = []
    serializer = app.session_interface.get_signing_serializer(app)
    for i in range(USERS):
        cookie = signed_in_cookie(app, f"rush{i}@example.org", seen_minutes_ago=10)
        data = serializer.loads(cookie.split("=", 1)[1])
        with app.test_request_context():
            session.update(data)
            token = generate_csrf()
            cookie = f"{app.config['SESSION_COOKIE_NAME']}={serializer.dumps(dict(session))}"
        requests.append(("POST", "/courses/rush/enrol", cookie, urlencode({"csrf_token": token})))
    return requests


def count() -> tuple[int, int, int]:
    import sqlalchemy as sa

    from app import create_app
    from app.catalogue.models import Course
    from app.enrolment.models import Enrolment, EnrolmentStatus
    from app.extensions import db

    app = create_app()
    with app.app_context():
        course = db.session.scalar(sa.select(Course).where(Course.slug == "rush"))
        statuses = db.session.scalars(sa.select(Enrolment.status).where(Enrolment.course_id == course.id)).all()
        return statuses.count(EnrolmentStatus.ACCEPTED), statuses.count(EnrolmentStatus.WAITLISTED), course.seats_taken


if __name__ == "__main__":
    main()
