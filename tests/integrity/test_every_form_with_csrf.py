"""Every form on every main page, submitted the way a browser submits it, CSRF on.

Over the demo data, each role logs in through the login form and walks its pages. Each
POST form found there is sent twice: without its token (refused: 400 "This form has
expired…", nothing else), then as the page rendered it, token and hidden fields included
(never refused for CSRF, never a 5xx). Forms that differ only by an id are sent once."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask_babel import force_locale, gettext

from app.extensions import db
from tests.integrity.test_forms_with_csrf import _Forms

pytestmark = pytest.mark.csrf

EXPIRED = "This form has expired or was not sent from Ponte. Please reload the page and try again."
DEMO_PASSWORD = "ponte-demo-2026"
# Forms that carry no token on purpose: /verify changes nothing (a certificate check from
# anywhere), and an anonymous visitor's language is a cookie of their own.
NO_TOKEN = {("anonymous", "/verify"), ("anonymous", "/auth/language")}
# Sent last or not at all: these end the walk's own session.
ENDS_SESSION = ("/auth/logout", "/auth/sessions/revoke-all", "/auth/logout-everywhere")

PAGES = {
    "anonymous": ["/", "/courses", "/courses/summer-school-rome", "/auth/login", "/auth/register", "/auth/reset",
                  "/verify"],
    "participant": ["/me", "/me/timetable", "/auth/profile", "/courses/summer-school-rome",
                    "/courses/site-visit-hydrogen-valley", "/courses/seminar-green-finance",
                    "/courses/train-the-trainer-gpp/withdraw"],
    "instructor": ["/teach/", "/teach/courses/{webinar}/sessions", "/teach/courses/{webinar}/roster",
                   "/teach/courses/{webinar}/enrolments", "/teach/courses/{webinar}/sessions/{session}/attendance",
                   "/teach/courses/{webinar}/completion", "/teach/courses/{webinar}/sessions/new",
                   "/teach/courses/summer-school-rome/cohorts", "/teach/courses/summer-school-rome/enrolments",
                   "/teach/courses/{webinar}/sessions/{session}/edit"],
    "admin": ["/admin/", "/admin/courses", "/admin/courses/{webinar_id}", "/admin/courses/{webinar_id}/staff",
              "/admin/courses/{webinar_id}/edit", "/admin/programmes/new", "/admin/venues/new", "/admin/jobs",
              "/admin/courses/{forum_id}/certificates", "/admin/courses/{forum_id}/certificates/settings",
              "/admin/courses/{webinar_id}/survey", "/admin/impact", "/admin/impact/reports"],
}


@pytest.fixture
def demo(app):
    from app.admin.demo import load_demo
    from app.catalogue.models import Course
    from app.schedule.models import CourseSession

    with app.app_context():
        load_demo()
        db.session.commit()
        webinar = db.session.scalar(sa.select(Course).where(Course.slug == "train-the-trainer-gpp"))
        forum = db.session.scalar(sa.select(Course).where(Course.slug == "forum-water-2026"))
        session = db.session.scalar(sa.select(CourseSession).where(CourseSession.course_id == webinar.id)
                                    .order_by(CourseSession.starts_at))
        return {"webinar": webinar.slug, "webinar_id": webinar.id, "forum_id": forum.id, "session": session.id}


def _forms(html: str) -> list[tuple[str, dict]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def _expired_in_every_language(app) -> list[str]:  # noqa: ANN001
    """The CSRF refusal as each language says it (the instructor of the demo reads Italian)."""
    with app.test_request_context():
        messages = []
        for lang in ("en", "it", "zh"):
            with force_locale(lang):
                messages.append(gettext(EXPIRED))
        return messages


def _signed_in(app, role: str):  # noqa: ANN001
    client = app.test_client()
    if role != "anonymous":
        page = client.get("/auth/login").get_data(as_text=True)
        [(action, fields)] = [f for f in _forms(page) if "email" in f[1]]
        fields.update(email=f"{role}@example.org", password=DEMO_PASSWORD)
        assert client.post(action or "/auth/login", data=fields).status_code == 302, role
    return client


@pytest.mark.parametrize("role", list(PAGES))
def test_every_form_on_every_page_works_with_its_token_and_only_with_it(app, demo, role):
    expired = _expired_in_every_language(app)
    client = _signed_in(app, role)
    seen: set[tuple[str, str]] = set()
    problems: list[str] = []
    sent = 0
    for template in PAGES[role]:
        path = template.format(**demo)
        page = client.get(path)
        assert page.status_code == 200, (role, path, page.status_code)
        for index, (action, fields) in enumerate(_forms(page.get_data(as_text=True))):
            target = action or path
            shape = re.sub(r"\d+", "N", target.split("?")[0])
            if shape.startswith(ENDS_SESSION) or (path, shape) in seen:
                continue
            seen.add((path, shape))
            # 1. without its token: refused as a forged request, nothing else
            bare = {k: v for k, v in fields.items() if not k.endswith("csrf_token")}  # prefixed forms too
            refused = client.post(target, data=bare)
            if (role, shape.split("?")[0]) not in NO_TOKEN and (
                    refused.status_code != 400 or not any(text in refused.get_data(as_text=True) for text in expired)):
                problems.append(f"{path} → {target} without a token: {refused.status_code}")
            # 2. as the browser sends it, with a fresh copy of the page (its own token)
            fresh = _forms(client.get(path).get_data(as_text=True))
            if index < len(fresh):
                fields = fresh[index][1]
            response = client.post(target, data=fields)
            sent += 1
            body = response.get_data(as_text=True)
            if response.status_code >= 500 or any(text in body for text in expired):
                problems.append(f"{path} → {target} with its token: {response.status_code}")
            if role != "anonymous" and client.get("/auth/profile").status_code != 200:
                client = _signed_in(app, role)  # a form ended the session (withdraw, password…): start again
    assert sent >= 3, sent
    assert not problems, "\n".join(problems)


def test_logging_out_is_a_form_with_a_token_too(app, demo):
    client = _signed_in(app, "participant")
    [(action, fields)] = [f for f in _forms(client.get("/me").get_data(as_text=True)) if f[0] == "/auth/logout"]
    refused = client.post(action, data={})
    assert refused.status_code == 400 and EXPIRED in refused.get_data(as_text=True)
    assert client.get("/me").status_code == 200  # still signed in
    assert client.post(action, data=fields).status_code == 302
    assert client.get("/me").status_code == 302  # signed out
