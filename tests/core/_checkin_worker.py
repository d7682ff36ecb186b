"""One web worker for test_shared_rate_limits.py, run as its own process (`python -m
tests.core._checkin_worker STORAGE_URI EMAIL POSTS`, with PONTE_TEST_DATABASE_URI set):
its own create_app, so its own rate-limit storage object, as in a gunicorn worker. It
logs in, POSTs /checkin POSTS times and prints the status codes as JSON."""
from __future__ import annotations

import json
import os
import sys


def main(storage_uri: str, email: str, posts: int) -> list[int]:
    os.environ["PONTE_CONFIG"] = "testing"
    from app import create_app
    from config import TestingConfig
    from tests.factories import PASSWORD

    config = type("WorkerConfig", (TestingConfig,), {
        "SQLALCHEMY_DATABASE_URI": os.environ["PONTE_TEST_DATABASE_URI"], "RATELIMIT_STORAGE_URI": storage_uri})
    client = create_app(config).test_client()
    login = client.post("/auth/login", data={"email": email, "password": PASSWORD})
    if login.status_code != 302:
        raise SystemExit(f"login failed: {login.status_code}")
    return [client.post("/checkin", data={"code": "000000"}).status_code for _ in range(posts)]


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2], int(sys.argv[3]))))
