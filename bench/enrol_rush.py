"""Enrolment rush: 500 distinct users, one course with 50 places, gunicorn with 2 workers.

Run:  .venv/bin/python bench/enrol_rush.py   (or `make bench`)

Prints accepted / waitlisted / errors, requests per second and p50/p95 latency of the
rush, then the catalogue page and a bare Flask 'hello' under the same load in the same
run, and the ratios between them. Not a test: figures vary by machine; ratios less so.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._load import PYTHON_BIN, ROOT, Gunicorn, run  # noqa: E402

USERS = int(os.environ.get("BENCH_USERS", "500"))
PLACES = int(os.environ.get("BENCH_PLACES", "50"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "16"))


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="ponte-bench-"))
    env = {
        "PONTE_CONFIG": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
        "MAIL_BACKEND": "file",
        "MAIL_OUTBOX_DIR": str(tmp / "outbox"),
        "PONTE_DELIVER_AFTER_COMMIT": "false",  # the scheduler delivers; the rush measures enrolment
        "RATELIMIT_STORAGE_URI": "memory://",
        "PONTE_INSTANCE_DIR": str(tmp),
        "FLASK_APP": "wsgi.py",
    }
    os.environ.update(env)
    subprocess.run([str(PYTHON_BIN / "flask"), "db", "upgrade"], cwd=ROOT, check=True, capture_output=True)
    slug, cookies = prepare(env)

    with Gunicorn("wsgi:app", env) as server:
        run(server.port, [("GET", "/courses", {}, None)] * 50, CONCURRENCY)  # warm up both workers
        rush = run(server.port, [
            ("POST", f"/courses/{slug}/enrol",
             {"Cookie": f"ponte_session={cookie}", "Content-Type": "application/x-www-form-urlencoded"},
             urlencode({"csrf_token": csrf}).encode())
            for cookie, csrf in cookies
        ], CONCURRENCY)
        catalogue = run(server.port, [("GET", "/courses", {}, None)] * USERS, CONCURRENCY)

    with Gunicorn("bench.bare_app:app", {}) as bare_server:
        run(bare_server.port, [("GET", "/", {}, None)] * 50, CONCURRENCY)
        bare = run(bare_server.port, [("GET", "/", {}, None)] * USERS, CONCURRENCY)

    accepted, waitlisted, seats = count(slug)
    errors = sum(1 for s in rush.statuses if s != 302)
    print(f"Enrolment rush: {USERS} users, {PLACES} places, gunicorn -w 2, {CONCURRENCY} concurrent clients, SQLite (WAL)")
    print(f"  accepted {accepted}, waitlisted {waitlisted}, errors {errors}, seats_taken {seats}")
    print("  " + rush.line("enrol (POST)"))
    print("  " + catalogue.line("catalogue /courses (GET)"))
    print("  " + bare.line("bare Flask hello (GET)"))
    print(f"  ratio catalogue / bare Flask: {catalogue.rps / bare.rps:.0%}")
    print(f"  ratio enrol / bare Flask:     {rush.rps / bare.rps:.0%}")
    ok = accepted == PLACES and waitlisted == USERS - PLACES and errors == 0 and seats == PLACES
    print("  result:", "OK" if ok else "UNEXPECTED")
    sys.exit(0 if ok else 1)


def prepare(env: dict[str, str]) -> tuple[str, list[tuple[str, str]]]:
    """Users, the course, and a signed-in session cookie (with its CSRF token) per user."""
    from flask import session
    from flask_wtf.csrf import generate_csrf

    from app import create_app
    from app.accounts.models import LoginSession, User
    from app.accounts.passwords import hash_password
    from app.catalogue.models import Course, CourseKind, CourseStatus
    from app.core.types import utcnow
    from app.extensions import db

    app = create_app()
    cookies = []
    with app.app_context():
        today = utcnow().date()
        course = Course(slug="rush", title="Winter School Rush", kind=CourseKind.WINTER_SCHOOL, timezone="Asia/Shanghai",
                        starts_on=today + dt.timedelta(days=30), ends_on=today + dt.timedelta(days=35), capacity=PLACES,
                        status=CourseStatus.PUBLISHED)
        db.session.add(course)
        for i in range(20):
            db.session.add(Course(slug=f"other-{i}", title=f"Seminar {i}", kind=CourseKind.SEMINAR, timezone="Europe/Rome",
                                  starts_on=today + dt.timedelta(days=i + 1), ends_on=today + dt.timedelta(days=i + 1),
                                  capacity=30, status=CourseStatus.PUBLISHED, city="Rome"))
        pw = hash_password("bench-password-1")
        users = [User(email=f"rush{i}@example.org", password_hash=pw, full_name=f"Rush User {i}") for i in range(USERS)]
        db.session.add_all(users)
        db.session.flush()
        serializer = app.session_interface.get_signing_serializer(app)
        for user in users:
            token = secrets.token_urlsafe(32)
            db.session.add(LoginSession(user_id=user.id, token_hash=hashlib.sha256(token.encode()).hexdigest()))
            # a fresh app context each time: Flask-WTF caches the token on `g`
            with app.app_context(), app.test_request_context():
                session.update({"sid": token, "sv": user.session_version, "_user_id": str(user.id), "_fresh": True})
                csrf = generate_csrf()
                cookies.append((serializer.dumps(dict(session)), csrf))
        db.session.commit()
    return "rush", cookies


def count(slug: str) -> tuple[int, int, int]:
    import sqlalchemy as sa

    from app import create_app
    from app.catalogue.models import Course
    from app.enrolment.models import Enrolment, EnrolmentStatus
    from app.extensions import db

    app = create_app()
    with app.app_context():
        course = db.session.scalar(sa.select(Course).where(Course.slug == slug))
        statuses = db.session.scalars(sa.select(Enrolment.status).where(Enrolment.course_id == course.id)).all()
        return statuses.count(EnrolmentStatus.ACCEPTED), statuses.count(EnrolmentStatus.WAITLISTED), course.seats_taken


if __name__ == "__main__":
    main()
