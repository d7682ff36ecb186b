"""Cost that stays flat: p50 and p95 of the pages people use as ten years pile up.

Run:  .venv/bin/python bench/scale.py          (or `make bench`)
      BENCH_FACTORS=1,10,100  BENCH_SECONDS=3  BENCH_DATABASE_URL=postgresql://…  (optional)

For each factor: a fresh database (a SQLite file, or the PostgreSQL database of
BENCH_DATABASE_URL emptied), migrations, the demo data, `flask seed scale --factor F`
and a 200-person roster; then gunicorn (production configuration, 2 workers) and, page
by page, wrk on one connection so that latency is the page's own cost, not queueing.
Each page's p95 at the largest factor is compared with its p95 at the smallest, in the
same run: issue 12 asks for at most 1.5 times.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._load import PYTHON_BIN, ROOT, WRK, Gunicorn, load, status_of, warm  # noqa: E402
from bench.pages import add_roster, environment, signed_in_cookie  # noqa: E402

FACTORS = [float(f) for f in os.environ.get("BENCH_FACTORS", "1,10,100").split(",")]
SECONDS = float(os.environ.get("BENCH_SECONDS", "3"))
ROSTER = int(os.environ.get("BENCH_ROSTER", "200"))
LIMIT = 1.5

# (label, who, path); {token} is the participant's calendar token
PAGES = [
    ("/courses", "participant", "/courses"),
    ("/courses filtered", "participant", "/courses?kind=seminar&place=Rome&open=1&q=energy"),
    ("/courses, past included", "participant", "/courses?past=1&page=3"),
    ("/courses/<slug>", "participant", "/courses/winter-school-shanghai"),
    ("/me", "participant", "/me"),
    ("/me/timetable", "participant", "/me/timetable"),
    ("calendar feed", "", "/me/calendar/{token}.ics"),
    ("/api/v1/courses", "participant", "/api/v1/courses"),
    ("/teach", "instructor", "/teach/"),
    (f"/teach roster ({ROSTER} people)", "instructor", "/teach/courses/bench-roster/roster"),
    ("/admin", "admin", "/admin/"),
    ("/admin/courses", "admin", "/admin/courses"),
    ("/admin/courses, searched", "admin", "/admin/courses?q=energy&status=published"),
    ("/admin/impact (12 months)", "admin", "/admin/impact"),
]


def _empty_postgresql(url: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def _build(factor: float, tmp: Path) -> dict[str, str]:
    env = environment(tmp)
    if os.environ.get("BENCH_DATABASE_URL"):
        _empty_postgresql(env["DATABASE_URL"])
    flask = str(PYTHON_BIN / "flask")
    development = {**os.environ, **env, "PONTE_CONFIG": "development"}
    subprocess.run([flask, "db", "upgrade"], cwd=ROOT, env={**os.environ, **env}, check=True, capture_output=True)
    subprocess.run([flask, "seed", "demo"], cwd=ROOT, env=development, check=True, capture_output=True)
    started = time.perf_counter()
    out = subprocess.run([flask, "seed", "scale", "--factor", f"{factor:g}"], cwd=ROOT, env=development, check=True,
                         capture_output=True, text=True).stdout.strip()
    print(f"  {out} ({time.perf_counter() - started:.0f} s)", flush=True)
    return env


def measure(factor: float) -> dict[str, tuple[float, float, int]]:
    tmp = Path(tempfile.mkdtemp(prefix=f"ponte-bench-scale-{factor:g}-"))
    env = _build(factor, tmp)
    os.environ.update(env)
    from app import create_app
    from app.accounts.models import User
    from app.extensions import db

    app = create_app()
    add_roster(app, ROSTER)
    cookies = {who: signed_in_cookie(app, f"{who}@example.org") for who in ("participant", "instructor", "admin")}
    cookies[""] = ""
    with app.app_context():
        token = db.session.scalar(db.select(User.calendar_token).where(User.email == "participant@example.org"))
        admin = db.session.scalar(db.select(User).where(User.email == "admin@example.org"))
        admin.totp_secret, admin.totp_enabled_at = "JBSWY3DPEHPK3PXP", admin.created_at  # admins have it, as in production
        db.session.commit()
        db.engine.dispose()
    figures = {}
    with Gunicorn("wsgi:app", env) as server:
        pages = [(label, cookies[who], path.format(token=token)) for label, who, path in PAGES]
        warm(server.port, [(path, cookie) for _label, cookie, path in pages])
        for label, cookie, path in pages:  # a redirect (to a consent or set-up page) would measure the wrong page
            status = status_of(server.port, path, cookie)
            if status != 200:
                raise SystemExit(f"{label}: {path} answers {status}, not 200")
        for label, cookie, path in pages:
            figure = load(server.port, label, path, cookie=cookie, seconds=SECONDS, connections=1)
            figures[label] = (figure.p50, figure.p95, figure.bad)
    return figures


def main() -> None:
    database = "PostgreSQL" if os.environ.get("BENCH_DATABASE_URL") else "SQLite (WAL)"
    generator = "wrk" if WRK else "the Python generator (install wrk for comparable figures)"
    print(f"Scale: p50 / p95 in ms by factor; {database}, production config, gunicorn -w 2, one connection, "
          f"{SECONDS:g} s a page, load from {generator}", flush=True)
    results = {}
    for factor in FACTORS:
        print(f"factor {factor:g}:", flush=True)
        results[factor] = measure(factor)
    low, high = FACTORS[0], FACTORS[-1]
    header = "".join(f"{'×' + format(f, 'g'):>18}" for f in FACTORS)
    print(f"\n  {'page':<30}{header}   p95 ×{high:g} / ×{low:g}")
    failed = 0
    for label, _who, _path in PAGES:
        cells = "".join(f"{results[f][label][0]:>8.1f} /{results[f][label][1]:>7.1f}" for f in FACTORS)
        ratio = results[high][label][1] / results[low][label][1]
        bad = sum(results[f][label][2] for f in FACTORS)
        verdict = "flat" if ratio <= LIMIT else f"GROWS (limit {LIMIT:g})"
        failed += ratio > LIMIT or bad > 0
        print(f"  {label:<30}{cells}   {ratio:>5.2f}  {verdict}{f'  {bad} bad answers' if bad else ''}")
    print(f"\n{len(PAGES) - failed} of {len(PAGES)} pages flat from factor {low:g} to {high:g}.")


if __name__ == "__main__":
    main()
