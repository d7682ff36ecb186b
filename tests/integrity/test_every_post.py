"""Every route that changes something has an access rule, tested for all six roles.

The matrices live with their domains (enrolment, teaching, schedule, certificates); this
file holds the POST routes they do not cover, and a guard that fails when a POST route
is added without any matrix naming it. Cohort bindings are covered route by route in
tests/teaching/test_cohort_scope.py."""
from __future__ import annotations

import importlib
import re

import pytest

from tests.helpers import LOGIN, ROLES, check_world_access

MATRIX = [
    ("POST", "/admin/courses/{cid}/certificates/settings", [LOGIN, 404, 404, 404, 404, 400]),
    ("POST", "/admin/courses/{cid}/edit", [LOGIN, 404, 404, 404, 404, 400]),
    ("POST", "/admin/courses/{cid}/staff", [LOGIN, 404, 404, 404, 404, 400]),
    ("POST", "/admin/courses/{cid}/staff/999999/remove", [LOGIN, 404, 404, 404, 404, 404]),
    ("POST", "/admin/courses/new", [LOGIN, 404, 404, 404, 404, 400]),
    ("POST", "/admin/jobs/deliver_outbox/run", [LOGIN, 404, 404, 404, 404, 302]),
    ("POST", "/admin/jobs/no_such_job/run", [LOGIN, 404, 404, 404, 404, 404]),
    ("POST", "/admin/outbox/999999/resend", [LOGIN, 404, 404, 404, 404, 404]),
    ("POST", "/admin/programmes/999999/edit", [LOGIN, 404, 404, 404, 404, 404]),
    ("POST", "/admin/programmes/new", [LOGIN, 404, 404, 404, 404, 400]),
    ("POST", "/admin/venues/999999/edit", [LOGIN, 404, 404, 404, 404, 404]),
    ("POST", "/admin/venues/new", [LOGIN, 404, 404, 404, 404, 400]),
    ("POST", "/admin/users/999999/role", [LOGIN, 404, 404, 404, 404, 400]),  # no role chosen
    ("POST", "/admin/users/999999/deactivate", [LOGIN, 404, 404, 404, 404, 404]),
    ("POST", "/admin/users/999999/reactivate", [LOGIN, 404, 404, 404, 404, 404]),
    ("POST", "/admin/users/999999/reset", [LOGIN, 404, 404, 404, 404, 404]),
    ("POST", "/admin/users/999999/verification", [LOGIN, 404, 404, 404, 404, 404]),
    ("POST", "/admin/users/999999/erase", [LOGIN, 404, 404, 404, 404, 404]),
    ("POST", "/auth/language", [400, 400, 400, 400, 400, 400]),
    ("POST", "/auth/login", [400, 302, 302, 302, 302, 302]),  # signed in: nothing to do, go on
    ("POST", "/auth/login/code", [302, 302, 302, 302, 302, 302]),
    ("POST", "/auth/consent", [LOGIN, 302, 302, 302, 302, 302]),  # agreed already: nothing to ask
    ("POST", "/auth/export", [LOGIN, 302, 302, 302, 302, 302]),  # a copy is prepared
    ("POST", "/auth/erase", [LOGIN, 400, 400, 400, 400, 400]),  # no password: nothing erased  # no password given first: back to login
    ("POST", "/auth/two-factor", [LOGIN, 400, 400, 400, 400, 400]),
    ("POST", "/auth/two-factor/recovery-codes", [LOGIN, 400, 400, 400, 400, 400]),
    ("POST", "/auth/two-factor/off", [LOGIN, 400, 400, 400, 400, 400]),
    ("POST", "/auth/verify/resend", [LOGIN, 302, 302, 302, 302, 302]),  # confirmed already: said so
    ("POST", "/auth/logout", [302, 302, 302, 302, 302, 302]),
    ("POST", "/auth/logout-everywhere", [LOGIN, 302, 302, 302, 302, 302]),
    ("POST", "/auth/password", [LOGIN, 400, 400, 400, 400, 400]),
    ("POST", "/auth/profile", [LOGIN, 400, 400, 400, 400, 400]),
    ("POST", "/auth/register", [400, 302, 302, 302, 302, 302]),
    ("POST", "/auth/reset", [400, 400, 400, 400, 400, 400]),
    ("POST", "/auth/reset/not-a-token", [302, 302, 302, 302, 302, 302]),
    ("POST", "/checkin", [LOGIN, 400, 400, 400, 400, 400]),
    ("POST", "/courses/{slug}/apply", [LOGIN, 302, 302, 302, 302, 302]),  # open mode: back to the course
    ("POST", "/sessions/999999/signup/cancel", [LOGIN, 404, 404, 404, 404, 404]),
    ("POST", "/sessions/999999/decline", [LOGIN, 404, 404, 404, 404, 404]),
    ("POST", "/verify", [400, 400, 400, 400, 400, 400]),  # nothing typed: the fields say so
    ("POST", "/me/reporting", [LOGIN, 302, 302, 302, 302, 302]),  # every field optional: saved as empty
    ("POST", "/surveys/not-a-token", [404, 404, 404, 404, 404, 404]),  # the link is the key, no login
    ("POST", "/admin/courses/{cid}/survey", [LOGIN, 404, 404, 404, 404, 400]),  # no question typed
    ("POST", "/admin/courses/{cid}/survey/999999", [LOGIN, 404, 404, 404, 404, 404]),
    ("POST", "/admin/courses/{cid}/survey/999999/remove", [LOGIN, 404, 404, 404, 404, 404]),
    ("POST", "/admin/courses/{cid}/survey/999999/move", [LOGIN, 404, 404, 404, 404, 400]),  # no direction
    ("POST", "/admin/impact/reports", [LOGIN, 404, 404, 302, 302, 302]),  # staff: queued, see its progress
]


@pytest.mark.parametrize("role_index,role", list(enumerate(ROLES)))
@pytest.mark.parametrize("method,template,expected", MATRIX, ids=[f"{m} {t}" for m, t, _ in MATRIX])
def test_access_matrix(app, role_index, role, method, template, expected):
    check_world_access(app, role, method, template, expected[role_index])


MATRIX_MODULES = [
    "tests.enrolment.test_access", "tests.teaching.test_views", "tests.schedule.test_views_and_feeds",
    "tests.certificates.test_issue", "tests.integrity.test_every_post",
]


def _matrix_rows():
    for name in MATRIX_MODULES:
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            if attr.endswith("MATRIX"):
                yield from value


def test_every_post_route_is_in_an_access_matrix(app):
    covered = [re.sub(r"\{[a-z_]+\}|\d{6}|not-a-token|no_such_job|deliver_outbox", "*", template)
               for method, template, _want in _matrix_rows() if method == "POST"]
    missing = []
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods:
            continue
        shape = re.sub(r"<[^>]+>", "*", rule.rule)
        if shape not in covered:
            missing.append(rule.rule)
    assert missing == [], f"POST routes with no access-matrix row: {missing}"
