"""Once the password is set — through one reset link, or by changing it on the profile —
every other unused reset link of that account stops working (one UPDATE marks them used).
Other people's links are untouched."""
import re

import sqlalchemy as sa

from app.accounts import services
from app.accounts.models import PasswordResetToken, User
from app.extensions import db
from tests.factories import PASSWORD, UserFactory


def _links(client, mail, email: str, n: int) -> list[str]:
    for _ in range(n):
        assert client.post("/auth/reset", data={"email": email}).status_code == 302
    bodies = [m.get_body(preferencelist=("plain",)).get_content() for m in mail if email in m["To"]]
    return [re.search(r"http://[^/\s]+(/auth/reset/\S+)", body).group(1) for body in bodies][-n:]


def _use(client, link: str, password: str):
    return client.post(link, data={"password": password, "confirm": password})


def _unused(app, email: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(PasswordResetToken).join(User).where(
            User.email == email, PasswordResetToken.used_at.is_(None)))


def test_using_one_link_voids_the_others(app, client, mail):
    with app.app_context():
        UserFactory(email="sara@example.org")
        UserFactory(email="luca@example.org")
    first, second, third = _links(client, mail, "sara@example.org", 3)
    [lucas] = _links(client, mail, "luca@example.org", 1)
    assert _use(client, second, "brand-new-password").headers["Location"] == "/auth/login"
    assert _unused(app, "sara@example.org") == 0
    for old in (first, third):
        assert client.get(old).headers["Location"] == "/auth/reset"
        response = _use(client, old, "someone-elses-password")
        assert response.status_code == 302 and response.headers["Location"] == "/auth/reset"
    login = client.post("/auth/login", data={"email": "sara@example.org", "password": "brand-new-password"})
    assert login.status_code == 302
    client.post("/auth/logout")
    assert _unused(app, "luca@example.org") == 1  # another account's link still works
    assert _use(client, lucas, "lucas-new-password").headers["Location"] == "/auth/login"


def test_changing_the_password_voids_every_unused_link(app, client, mail):
    with app.app_context():
        UserFactory(email="sara@example.org")
    links = _links(client, mail, "sara@example.org", 2)
    assert client.post("/auth/login", data={"email": "sara@example.org", "password": PASSWORD}).status_code == 302
    response = client.post("/auth/password", data={
        "pw-current_password": PASSWORD, "pw-password": "new-password-123", "pw-confirm": "new-password-123"})
    assert response.status_code == 302
    client.post("/auth/logout")
    assert _unused(app, "sara@example.org") == 0
    for link in links:
        assert _use(client, link, "an-attackers-password").headers["Location"] == "/auth/reset"
    assert client.post("/auth/login", data={"email": "sara@example.org", "password": "new-password-123"}).status_code == 302


def test_a_wrong_current_password_voids_nothing(app, client, mail):
    with app.app_context():
        UserFactory(email="sara@example.org")
    _links(client, mail, "sara@example.org", 1)
    assert client.post("/auth/login", data={"email": "sara@example.org", "password": PASSWORD}).status_code == 302
    response = client.post("/auth/password", data={
        "pw-current_password": "wrong-password", "pw-password": "new-password-123", "pw-confirm": "new-password-123"})
    assert response.status_code == 400
    assert _unused(app, "sara@example.org") == 1


def test_the_other_links_go_in_one_update(app, client, mail):
    with app.app_context():
        UserFactory(email="sara@example.org")
    links = _links(client, mail, "sara@example.org", 4)
    token = links[0].rsplit("/", 1)[-1]
    statements = []

    def remember(_conn, _cursor, statement, *_args):  # noqa: ANN001
        statements.append(statement)

    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", remember)
        try:
            services.reset_password(token, "brand-new-password")
            db.session.commit()
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", remember)
    updates = [s for s in statements if s.lstrip().upper().startswith("UPDATE PASSWORD_RESET_TOKEN")]
    assert len(updates) == 2  # this link (compare-and-set), then the three others at once
    assert _unused(app, "sara@example.org") == 0
