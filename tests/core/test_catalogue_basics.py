from app.catalogue.models import CourseStatus
from tests.factories import CourseFactory


def test_home_lists_upcoming_published_courses_only(client, app_ctx):
    CourseFactory(title="Published School")
    CourseFactory(title="Secret Draft", status=CourseStatus.DRAFT)
    html = client.get("/").get_data(as_text=True)
    assert "Published School" in html and "Secret Draft" not in html


def test_draft_course_page_is_404(client, app_ctx):
    CourseFactory(slug="draft-one", status=CourseStatus.DRAFT)
    assert client.get("/courses/draft-one").status_code == 404
