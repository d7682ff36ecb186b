"""The pages people use, signed in, page cache off, against a bare Flask app in the same run.

Run:  .venv/bin/python bench/pages.py      (or `make bench`; BENCH_SECONDS=5 per page)

Production configuration, SQLite (WAL) in a throw-away folder holding the demo data plus
a course with a 200-person roster, gunicorn with 2 sync workers, load from wrk with 16
connections (see bench/_load.py). Each line gives requests per second, p50 and p95, and
the share of what the same gunicorn serves of a bare Flask "hello" in the same run. The
targets are issue 12's. Anonymous, cached figures are printed last and labelled.
"""
from __future__ import annotations

import hashlib
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._load import PYTHON_BIN, ROOT, WRK, Gunicorn, bare_flask, load, status_of, warm  # noqa: E402

SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
ROSTER = int(os.environ.get("BENCH_ROSTER", "200"))

# (label, who, path, target share of bare Flask)
PAGES = [
    ("/courses", "participant", "/courses", 0.25),
    ("/courses/<slug>", "participant", "/courses/winter-school-shanghai", 0.15),
    ("/me", "participant", "/me", 0.15),
    ("/me/timetable", "participant", "/me/timetable", 0.15),
    (f"/teach roster ({ROSTER} people)", "instructor", "/teach/courses/bench-roster/roster", 0.10),
    ("/api/v1/courses", "participant", "/api/v1/courses", 0.30),
    # no target: a signed-in page that sends no query of its own (only the login look-up)
    # and renders only the layout and fixed text, the floor under every page above
    ("/privacy (the floor)", "participant", "/privacy", None),
]


def environment(tmp: Path, **extra: str) -> dict[str, str]:
    return {
        "PONTE_CONFIG": "production", "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp / 'bench.sqlite3'}",
        "PONTE_BASE_URL": "http://127.0.0.1", "PONTE_CERT_KEYS": f"k1:{secrets.token_hex(32)}",
        "MAIL_BACKEND": "file", "MAIL_OUTBOX_DIR": str(tmp / "outbox"), "PONTE_DELIVER_AFTER_COMMIT": "false",
        "RATELIMIT_STORAGE_URI": "memory://", "PONTE_INSTANCE_DIR": str(tmp), "FLASK_APP": "wsgi.py",
        "PONTE_PAGE_CACHE_SECONDS": "0", **extra,
    }


def migrate_and_seed(env: dict[str, str]) -> None:
    flask = str(PYTHON_BIN / "flask")
    subprocess.run([flask, "db", "upgrade"], cwd=ROOT, env={**os.environ, **env}, check=True, capture_output=True)
    # the demo loader refuses production; the same database, seeded as development
    subprocess.run([flask, "seed", "demo"], cwd=ROOT, env={**os.environ, **env, "PONTE_CONFIG": "development"},
                   check=True, capture_output=True)


def signed_in_cookie(app, email: str, *, seen_minutes_ago: float = 0) -> str:  # noqa: ANN001
    """The session cookie a browser holds after logging in as `email` (a login session
    row of its own, last seen `seen_minutes_ago`)."""
    import datetime as dt

    import sqlalchemy as sa
    from flask import session

    from app.accounts.models import LoginSession, User
    from app.core.types import utcnow
    from app.extensions import db

    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        token = secrets.token_urlsafe(32)
        seen = utcnow() - dt.timedelta(minutes=seen_minutes_ago)
        db.session.add(LoginSession(user_id=user.id, token_hash=hashlib.sha256(token.encode()).hexdigest(),
                                    created_at=seen, last_seen_at=seen))
        db.session.commit()
        with app.test_request_context():
            session.update({"sid": token, "sv": user.session_version, "_user_id": str(user.id), "_fresh": True})
            return f"{app.config['SESSION_COOKIE_NAME']}={app.session_interface.get_signing_serializer(app).dumps(dict(session))}"


def add_roster(app, size: int) -> None:  # noqa: ANN001
    """A course led by the demo instructor with `size` accepted participants."""
    import datetime as dt

    import sqlalchemy as sa

    from app.accounts.models import User
    from app.catalogue.models import Course, CourseKind, CourseStatus
    from app.core.types import utcnow
    from app.enrolment.models import Enrolment, EnrolmentStatus
    from app.extensions import db
    from app.teaching.models import CourseStaff, StaffRole

    with app.app_context():
        today = utcnow().date()
        course = Course(slug="bench-roster", title="Summer School (bench roster)", kind=CourseKind.SUMMER_SCHOOL,
                        timezone="Europe/Rome", city="Rome", starts_on=today + dt.timedelta(days=40),
                        ends_on=today + dt.timedelta(days=49), capacity=size, seats_taken=size,
                        status=CourseStatus.PUBLISHED)
        db.session.add(course)
        lead = db.session.scalar(sa.select(User).where(User.email == "instructor@example.org"))
        db.session.flush()
        db.session.add(CourseStaff(course_id=course.id, user_id=lead.id, role=StaffRole.LEAD))
        people = [User(email=f"roster{i}@example.org", password_hash="x", full_name=f"Roster Person {i}",
                       organisation="Comune di Roma", country="IT") for i in range(size)]
        db.session.add_all(people)
        db.session.flush()
        db.session.add_all([Enrolment(course_id=course.id, user_id=u.id, status=EnrolmentStatus.ACCEPTED) for u in people])
        db.session.commit()


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="ponte-bench-pages-"))
    env = environment(tmp)
    os.environ.update(env)
    migrate_and_seed(env)
    from app import create_app

    app = create_app()
    add_roster(app, ROSTER)
    cookies = {who: signed_in_cookie(app, f"{who}@example.org") for who in ("participant", "instructor")}

    figures = []
    with Gunicorn("wsgi:app", env) as server:
        warm(server.port, [(path, cookies[who]) for _label, who, path, _target in PAGES])
        for label, who, path, _target in PAGES:
            if status_of(server.port, path, cookies[who]) != 200:
                raise SystemExit(f"{label}: {path} does not answer 200")
        for label, who, path, target in PAGES:
            figures.append((load(server.port, f"{label} (signed in)", path, cookie=cookies[who], seconds=SECONDS,
                                 connections=CONNECTIONS), target))
    bare = bare_flask(SECONDS, CONNECTIONS)
    cached_env = {**env, "PONTE_PAGE_CACHE_SECONDS": "5"}
    with Gunicorn("wsgi:app", cached_env) as server:
        warm(server.port, [("/courses", "")])
        cached = load(server.port, "/courses (anonymous, 5 s page cache)", "/courses", seconds=SECONDS,
                      connections=CONNECTIONS)

    generator = "wrk" if WRK else "the Python generator (install wrk for comparable figures)"
    print(f"Pages, signed in, no page cache: production config, SQLite (WAL), gunicorn -w 2, "
          f"{CONNECTIONS} connections, {SECONDS:.0f} s each, load from {generator}")
    print("  " + bare.line())
    misses = 0
    for figure, target in figures:
        if target is None:
            print("  " + figure.line(bare) + "  (reference, no target)")
            continue
        met = figure.rps / bare.rps >= target and figure.bad == 0
        misses += not met
        print("  " + figure.line(bare) + f"  (target {target:.0%}{'' if met else ': MISSED'})")
    print("Cached, anonymous (not a headline figure):")
    print("  " + cached.line(bare))
    sys.exit(0)


if __name__ == "__main__":
    main()
