import pytest

from app.extensions import db
from app.notifications.backends import get_backend
from tests.factories import PASSWORD, CourseFactory, UserFactory

pytestmark = pytest.mark.e2e


def _login(page, email):
    page.goto("/auth/login")
    page.locator("#email").fill(email)  # by id: the labels are in the browser's language
    page.locator("#password").fill(PASSWORD)
    page.locator("#submit").click()
    page.wait_for_url(lambda url: "/auth/login" not in url)  # each role lands on its own start page


def test_find_enrol_waitlist_withdraw_and_promotion(browser, live_server, tmp_path):
    with live_server.app_context():
        CourseFactory(title="Winter School on Low-Carbon Cities", slug="winter-school", capacity=1,
                      timezone="Asia/Shanghai", city="Shanghai")
        CourseFactory(title="Seminar on Green Finance", slug="seminar")
        UserFactory(email="giulia@example.org", full_name="Giulia Rossi")
        UserFactory(email="wang@example.cn", full_name="Wang Wei", native_name="王伟", locale="zh", timezone="Asia/Shanghai")
        db.session.remove()
    base = live_server.config["LIVE_URL"]
    giulia = browser.new_context(base_url=base, locale="en-GB").new_page()
    wang = browser.new_context(base_url=base, locale="zh-CN").new_page()

    # Giulia finds the Winter School by searching and takes the only place.
    _login(giulia, "giulia@example.org")
    giulia.goto("/courses")
    giulia.get_by_label("Search", exact=True).fill("winter")
    giulia.get_by_role("button", name="Search").click()
    assert not giulia.get_by_text("Seminar on Green Finance").is_visible()
    giulia.get_by_role("link", name="Winter School on Low-Carbon Cities").click()
    assert giulia.get_by_text("1 place left").is_visible()
    giulia.get_by_role("button", name="Enrol").click()
    assert giulia.get_by_text("You are enrolled in Winter School on Low-Carbon Cities").is_visible()

    # Wang finds it full and joins the waiting list (in Chinese).
    _login(wang, "wang@example.cn")
    wang.goto("/courses/winter-school")
    wang.get_by_role("button", name="加入候补名单").click()
    assert wang.get_by_text("候补名单中的位置：1").is_visible()
    wang.screenshot(path=str(tmp_path / "waitlist-zh.png"), full_page=True)

    # Giulia withdraws from /me; Wang is promoted and told by email.
    giulia.goto("/me")
    assert giulia.locator("#my-activities").get_by_text("Accepted").is_visible()
    giulia.get_by_role("link", name="Withdraw from this course").click()
    assert giulia.get_by_role("heading", name="Withdraw from Winter School on Low-Carbon Cities?").is_visible()
    giulia.get_by_role("button", name="Withdraw from this course").click()
    assert giulia.get_by_text("You have withdrawn from Winter School on Low-Carbon Cities").is_visible()
    wang.goto("/me")
    assert wang.locator("#my-activities").get_by_text("已录取").is_visible()
    with live_server.app_context():
        subjects = [m["Subject"] for m in get_backend().sent if "wang@example.cn" in m["To"]]
    assert subjects[-1] == "有名额为您空出：Winter School on Low-Carbon Cities"
    assert len(subjects) == 2
