"""Browser journeys: Playwright driving Debian's chromium against a live server."""
from __future__ import annotations

import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db
from tests.conftest import Config, FreshContextClient, _empty_all_tables, _join_background_batches

CHROMIUM = os.environ.get("PONTE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        message = f"chromium not found at {CHROMIUM}: install Debian's chromium package"
        pytest.fail(message)  # `make test` installs it; a test that cannot run fails
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


class LiveConfig(Config):
    WTF_CSRF_ENABLED = True


@pytest.fixture
def live_server(_schema):
    app = create_app(LiveConfig)
    app.test_client_class = FreshContextClient
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["LIVE_URL"] = f"http://127.0.0.1:{server.server_port}"
    yield app
    server.shutdown()
    thread.join(timeout=10)
    _join_background_batches()
    from app.extensions import limiter

    limiter.reset()
    with app.app_context():
        db.session.remove()
        _empty_all_tables()
        db.engine.dispose()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.config["LIVE_URL"], locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def confirmation_link(live_server, email: str) -> str:  # noqa: ANN001
    """The path of the last confirmation link emailed to `email` by the live server."""
    import re

    from app.notifications.backends import get_backend

    with live_server.app_context():
        message = [m for m in get_backend().sent if m["To"].endswith(f"<{email}>")][-1]
    return re.search(r"https?://\S+(/auth/verify/\S+)", message.get_body(("plain",)).get_content()).group(1)
