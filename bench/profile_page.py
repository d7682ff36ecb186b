"""Where a page's time goes: cProfile over N requests of one page, signed in, in process.

Run:  .venv/bin/python bench/profile_page.py /me [participant] [N]
      PROFILE_FACTOR=100   (optional: a decade of data, `flask seed scale --factor 100`, first)

Seeds the demo (and the 200-person roster of bench/pages.py) into a throw-away SQLite
file, signs in through the login form, then profiles N GETs of the path and prints the
SQL statements per request and the 25 most expensive functions (own time and cumulative).
"""
from __future__ import annotations

import cProfile
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._load import PYTHON_BIN, ROOT  # noqa: E402
from bench.pages import add_roster, environment, migrate_and_seed  # noqa: E402


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 else "/me"
    who = sys.argv[2] if len(sys.argv) > 2 else "participant"
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    tmp = Path(tempfile.mkdtemp(prefix="ponte-profile-"))
    env = environment(tmp)
    os.environ.update(env)
    migrate_and_seed(env)
    if os.environ.get("PROFILE_FACTOR"):
        subprocess.run([str(PYTHON_BIN / "flask"), "seed", "scale", "--factor", os.environ["PROFILE_FACTOR"]], cwd=ROOT,
                       env={**os.environ, "PONTE_CONFIG": "development"}, check=True, capture_output=True)
    import sqlalchemy as sa

    from app import create_app
    from app.extensions import db

    app = create_app()
    app.config["WTF_CSRF_ENABLED"] = False
    app.config["PONTE_ADMIN_TWO_FACTOR"] = False  # the admin signs in with a password here
    add_roster(app, 200)
    client = app.test_client()
    assert client.post("/auth/login", data={"email": f"{who}@example.org", "password": "ponte-demo-2026"},
                       base_url="https://localhost").status_code == 302
    for _ in range(5):
        assert client.get(path, base_url="https://localhost").status_code == 200
    statements = []
    with app.app_context():
        engine = db.engine
    def record(_conn, _cursor, statement, *_rest):  # noqa: ANN001, ANN002
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    client.get(path, base_url="https://localhost")
    sa.event.remove(engine, "before_cursor_execute", record)
    print(f"{len(statements)} SQL statements for one GET {path}")
    for sql in statements:
        print("   ", " ".join(sql.split())[:160])
    started = time.perf_counter()
    for _ in range(n):
        client.get(path, base_url="https://localhost")
    print(f"\n{(time.perf_counter() - started) * 1000 / n:.2f} ms per request without the profiler ({n} requests)")
    if os.environ.get("PROFILE_TIME_ONLY"):
        return
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(n):
        client.get(path, base_url="https://localhost")
    profile.disable()
    stats = pstats.Stats(profile)
    print(f"\n{n} requests")
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("cumulative").print_stats("/app/", 40)


if __name__ == "__main__":
    main()
