import pytest

from app.extensions import db
from tests.e2e.conftest import confirmation_link
from tests.factories import CourseFactory

pytestmark = pytest.mark.e2e


def test_register_logout_login_switch_to_chinese_and_browse(page, live_server, tmp_path):
    with live_server.app_context():
        CourseFactory(title="Winter School on Low-Carbon Cities", slug="winter-school")
        db.session.remove()

    page.goto("/")
    page.get_by_role("link", name="Create account").click()
    page.get_by_label("Email").fill("wang.wei@example.cn")
    page.get_by_label("Full name (Latin letters)").fill("Wang Wei")
    page.get_by_label("Password (at least 10 characters)").fill("a-long-password-1")
    page.get_by_label("Repeat the password").fill("a-long-password-1")
    page.get_by_label("Name in native script (optional)").fill("王伟")
    page.get_by_label("Country").select_option("CN")
    page.get_by_label("Time zone").select_option("Asia/Shanghai")
    page.get_by_label("I agree that Ponte keeps").check()
    page.get_by_label("I live in China and agree").check()  # PIPL: a separate consent to the transfer
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/auth/register/sent")
    assert page.get_by_role("heading", name="Check your inbox").is_visible()
    page.goto(confirmation_link(live_server, "wang.wei@example.cn"))
    page.wait_for_url("**/me")
    assert "your email address is confirmed. Welcome to Ponte, Wang Wei!" in page.content()

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(live_server.config["LIVE_URL"] + "/")
    assert page.get_by_role("link", name="Log in").is_visible()

    page.get_by_role("link", name="Log in").click()
    page.get_by_label("Email").fill("wang.wei@example.cn")
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_text("Email or password is not correct.").is_visible()
    page.get_by_label("Password").fill("a-long-password-1")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/me")

    page.locator("#lang-menu").click()
    page.get_by_role("button", name="中文").click()
    page.get_by_role("link", name="活动").first.click()
    page.wait_for_url("**/courses")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert page.get_by_role("heading", name="活动").is_visible()
    assert page.get_by_role("link", name="Winter School on Low-Carbon Cities").is_visible()
    page.screenshot(path=str(tmp_path / "catalogue-zh.png"), full_page=True)
