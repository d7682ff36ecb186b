"""Every main page, as each role sees it, at desktop and phone size: axe-core (the npm
package, installed by `make test` into tests/e2e/node_modules, injected from disk) finds no
serious or critical WCAG 2.2 AA violation, each page has one h1, every table a caption, and
no page scrolls sideways at 390 px."""
from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from app.extensions import db

pytestmark = pytest.mark.e2e

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
DEMO_PASSWORD = "ponte-demo-2026"

# 16 pages, each at both sizes: the ones each role lives on, and every page layout.
PAGES = {
    "anonymous": ["/courses", "/courses/summer-school-rome", "/auth/register", "/verify/{certificate}"],
    "participant": ["/me", "/me/timetable", "/auth/profile", "/courses/train-the-trainer-gpp/withdraw"],
    "instructor": ["/teach/", "/teach/courses/{webinar}/roster", "/teach/courses/{webinar}/sessions/{session}/attendance",
                   "/teach/courses/{webinar}/sessions/new"],
    "admin": ["/admin/", "/admin/courses", "/admin/jobs", "/admin/courses/{forum_id}/certificates"],
}
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def demo(live_server):
    from app.admin.demo import load_demo
    from app.catalogue.models import Course
    from app.certificates.models import Certificate
    from app.certificates.services import issue_all
    from app.schedule.models import CourseSession

    if not AXE.exists():
        pytest.fail(f"axe-core missing at {AXE}: `make test` installs it (npm ci --prefix tests/e2e)")
    with live_server.app_context():
        load_demo()
        db.session.commit()
        forum = db.session.scalar(sa.select(Course).where(Course.slug == "forum-water-2026"))
        issue_all(forum, None)
        db.session.commit()
        webinar = db.session.scalar(sa.select(Course).where(Course.slug == "train-the-trainer-gpp"))
        session = db.session.scalar(sa.select(CourseSession).where(CourseSession.course_id == webinar.id)
                                    .order_by(CourseSession.starts_at))
        return {"certificate": db.session.scalar(sa.select(Certificate.public_id).limit(1)), "webinar": webinar.slug,
                "webinar_id": webinar.id, "forum_id": forum.id, "session": session.id}


def _serious(page) -> list[str]:  # noqa: ANN001
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}});
        return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                           .map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
    }""")
    return result


@pytest.mark.parametrize("role", list(PAGES))
def test_main_pages_are_accessible_and_fit_a_phone(browser, live_server, demo, role):
    found = []
    for size, viewport in SIZES.items():
        # bypass_csp lets the test inject axe from disk; the pages keep their CSP for everything else
        context = browser.new_context(base_url=live_server.config["LIVE_URL"], locale="en-GB", viewport=viewport,
                                      bypass_csp=True)
        page = context.new_page()
        page.set_default_timeout(15000)
        if role != "anonymous":
            page.goto("/auth/login")
            page.locator("#email").fill(f"{role}@example.org")
            page.locator("#password").fill(DEMO_PASSWORD)
            page.locator("#submit").click()
            page.wait_for_url(lambda url: "/auth/login" not in url)
        for template in PAGES[role]:
            path = template.format(**demo)
            response = page.goto(path)
            assert response.status == 200, (path, response.status)
            for problem in _serious(page):
                found.append(f"{size} {path}: {problem}")
            uncaptioned = page.locator("table:not(:has(> caption)):not([aria-label])").count()
            if uncaptioned:
                found.append(f"{size} {path}: {uncaptioned} table(s) without a caption or label")
            h1s = page.locator("h1").count()
            if h1s != 1:
                found.append(f"{size} {path}: {h1s} h1 elements")
            if size == "phone":
                width = page.evaluate("document.documentElement.scrollWidth")
                if width > viewport["width"]:
                    found.append(f"{size} {path}: scrolls sideways ({width} px)")
        context.close()
    assert not found, "\n".join(found)
