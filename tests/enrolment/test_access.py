"""The access matrix of every enrolment, teaching and admin route of this issue."""
import pytest

from tests.helpers import LOGIN, ROLES, check_world_access

# (method, path template, expected status per role in ROLES order)
MATRIX = [
    ("GET", "/teach/", [LOGIN, 404, 404, 200, 200, 200]),
    ("GET", "/teach/courses/{slug}/enrolments", [LOGIN, 404, 404, 404, 200, 200]),
    ("GET", "/teach/courses/{slug}/enrolments.csv", [LOGIN, 404, 404, 404, 200, 200]),
    ("POST", "/teach/courses/{slug}/enrolments/{eid}/approve", [LOGIN, 404, 404, 404, 409, 409]),
    ("POST", "/teach/courses/{slug}/enrolments/{eid}/waitlist", [LOGIN, 404, 404, 404, 409, 409]),
    ("POST", "/teach/courses/{slug}/enrolments/{eid}/reject", [LOGIN, 404, 404, 404, 400, 400]),
    ("POST", "/teach/courses/{slug}/enrolments/{eid}/cancel", [LOGIN, 404, 404, 404, 400, 400]),
    ("POST", "/teach/courses/{slug}/enrolments/bulk", [LOGIN, 404, 404, 404, 400, 400]),
    ("POST", "/teach/courses/{slug}/enrolments/add", [LOGIN, 404, 404, 404, 400, 400]),
    # another course's enrolment through my course's address: 404 for everyone
    ("POST", "/teach/courses/{other}/enrolments/{eid}/approve", [LOGIN, 404, 404, 404, 404, 404]),
    ("GET", "/admin/", [LOGIN, 404, 404, 404, 404, 200]),
    ("GET", "/admin/courses", [LOGIN, 404, 404, 404, 404, 200]),
    ("GET", "/admin/courses/new", [LOGIN, 404, 404, 404, 404, 200]),
    ("GET", "/admin/courses/{cid}", [LOGIN, 404, 404, 404, 404, 200]),
    ("GET", "/admin/courses/{cid}/edit", [LOGIN, 404, 404, 404, 404, 200]),
    ("POST", "/admin/courses/{cid}/publish", [LOGIN, 404, 404, 404, 404, 409]),  # published already
    ("POST", "/admin/courses/{cid}/archive", [LOGIN, 404, 404, 404, 404, 400]),
    ("POST", "/admin/courses/{cid}/cancel", [LOGIN, 404, 404, 404, 404, 400]),
    ("GET", "/admin/programmes", [LOGIN, 404, 404, 404, 404, 200]),
    ("GET", "/admin/programmes/new", [LOGIN, 404, 404, 404, 404, 200]),
    ("POST", "/courses/{slug}/enrol", [LOGIN, 409, 302, 302, 302, 302]),  # self-service: anyone signed in
    ("GET", "/courses/{slug}/apply", [LOGIN, 302, 302, 302, 302, 302]),
    ("POST", "/courses/{slug}/withdraw", [LOGIN, 302, 404, 404, 404, 404]),  # only ones own enrolment
    ("GET", "/me", [LOGIN, 200, 200, 200, 200, 200]),
]


@pytest.mark.parametrize("role_index,role", list(enumerate(ROLES)))
@pytest.mark.parametrize("method,template,expected", MATRIX, ids=[f"{m} {t}" for m, t, _ in MATRIX])
def test_access_matrix(app, role_index, role, method, template, expected):
    check_world_access(app, role, method, template, expected[role_index])
