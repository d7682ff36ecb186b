"""What web workers share through Redis. Rate limits: two processes, each with its own
create_app (two gunicorn workers), against a throw-away redis-server share one check-in
limit of 10 a minute; with the default memory:// storage each process counts on its own.
The anonymous page cache: one worker's cached page is served by the other."""
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from app.extensions import db
from tests.conftest import Config
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 10  # /checkin: "10 per minute;60 per hour" per user (app/teaching/checkin.py)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def redis_url(tmp_path):
    """A redis-server of its own on a free port, keeping nothing on disk; stopped after."""
    server = shutil.which("redis-server")
    if server is None:
        message = "redis-server missing: install Debian's redis-server"
        pytest.fail(message)  # `make test` installs it; a test that cannot run fails
    port = _free_port()
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path), "--loglevel", "notice"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        seen = []
        for line in proc.stdout:  # wait until it says it is ready: no sleeping
            seen.append(line)
            if "Ready to accept connections" in line:
                break
        else:
            pytest.fail("redis-server did not start:\n" + "".join(seen))
        yield f"redis://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def _participant(app) -> str:
    with app.app_context():
        email = UserFactory(email="p@example.org").email
        db.session.remove()
    return email


def _worker(storage_uri: str, email: str, posts: int) -> list[int]:
    """Run one worker process to the end; the status codes of its POSTs to /checkin."""
    env = dict(os.environ, PONTE_TEST_DATABASE_URI=Config.SQLALCHEMY_DATABASE_URI)
    done = subprocess.run([sys.executable, "-m", "tests.core._checkin_worker", storage_uri, email, str(posts)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _let_through(codes: list[int]) -> int:
    return sum(code != 429 for code in codes)


def test_two_workers_with_redis_share_one_limit(app, redis_url):
    email = _participant(app)
    first = _worker(redis_url, email, 7)
    second = _worker(redis_url, email, 7)
    assert _let_through(first) == 7
    assert _let_through(second) == LIMIT - 7 and second[LIMIT - 7:] == [429] * (14 - LIMIT)
    assert 500 not in first + second


def test_two_workers_with_memory_storage_each_count_alone(app):
    """The single-machine default: a limit per process, so N workers let up to N times through."""
    email = _participant(app)
    first = _worker("memory://", email, 7)
    second = _worker("memory://", email, 7)
    assert _let_through(first) == _let_through(second) == 7  # 14 in all, over the limit of 10


def test_the_page_cache_is_shared_by_workers_through_redis(app, client, redis_url):
    """With PONTE_CACHE_REDIS_URL, the cached page lives in Redis: another app (another
    worker process) serves it, and it expires after PONTE_PAGE_CACHE_SECONDS."""
    import redis

    from app import create_app
    from app.extensions import db
    from tests.conftest import Config
    from tests.factories import CourseFactory

    class RedisConfig(Config):
        PONTE_PAGE_CACHE_SECONDS = 30
        CACHE_TYPE = "RedisCache"
        CACHE_REDIS_URL = redis_url

    one, two = create_app(RedisConfig), create_app(RedisConfig)
    with one.app_context():
        CourseFactory(title="Shared School")
        db.session.commit()
        db.session.remove()
    assert "Shared School" in one.test_client().get("/courses").get_data(as_text=True)
    with one.app_context():
        CourseFactory(title="Later School")
        db.session.commit()
        db.session.remove()
    page = two.test_client().get("/courses").get_data(as_text=True)
    assert "Shared School" in page and "Later School" not in page  # the first worker's copy
    keys = redis.Redis.from_url(redis_url).keys("ponte:page:*")
    assert len(keys) == 1 and 0 < redis.Redis.from_url(redis_url).ttl(keys[0]) <= 30
    redis.Redis.from_url(redis_url).flushall()  # as if the 30 s were over
    assert "Later School" in two.test_client().get("/courses").get_data(as_text=True)
