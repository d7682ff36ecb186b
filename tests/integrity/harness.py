"""Racing real requests: signed-in test clients in threads, released together by a
barrier, against the real database (a SQLite file, or PostgreSQL under READ COMMITTED).
Each request runs in its own app context, database session and connection, exactly as
in a gunicorn worker. After a race, `flask doctor` must find nothing."""
from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.extensions import db
from app.notifications.models import OutboxMessage
from tests.factories import PASSWORD

TWINS = 8


@dataclass
class Shot:
    client: object
    path: str
    data: dict = field(default_factory=dict)
    method: str = "POST"


def signed_in(app, email: str):  # noqa: ANN001
    client = app.test_client()
    response = client.post("/auth/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, email
    return client


def twins(app, email: str, n: int = TWINS) -> list:  # noqa: ANN001
    """n browser tabs of one signed-in person: the same login cookie, sent at once."""
    first = signed_in(app, email)
    cookie = first.get_cookie("ponte_session").value
    clients = [first]
    for _ in range(n - 1):
        c = app.test_client()
        c.set_cookie("ponte_session", cookie)
        clients.append(c)
    return clients


def race(shots: list[Shot]) -> list[int]:
    """Fire every shot at once; the status codes, in order. Any exception fails."""
    barrier = threading.Barrier(len(shots))
    codes: list[int | None] = [None] * len(shots)
    errors: list[BaseException] = []

    def fire(i: int, shot: Shot) -> None:
        try:
            barrier.wait(timeout=30)
            codes[i] = shot.client.open(shot.path, method=shot.method, data=shot.data).status_code
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=fire, args=(i, s)) for i, s in enumerate(shots)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == [], errors
    return codes  # type: ignore[return-value]


def same(shot: Shot, clients: list) -> list[Shot]:
    return [Shot(c, shot.path, dict(shot.data), shot.method) for c in clients]


def outcome(codes: list[int]) -> Counter:
    return Counter(codes)


def no_5xx(codes: list[int]) -> None:
    assert all(code < 500 for code in codes), codes


def audits(action: str) -> int:
    return db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == action))


def emails(template: str, recipient: str | None = None, **where) -> int:  # noqa: ANN003
    stmt = sa.select(sa.func.count()).where(OutboxMessage.template == template)
    if recipient is not None:
        stmt = stmt.where(OutboxMessage.recipient == recipient)
    return db.session.scalar(stmt)


def assert_doctor_clean(app) -> None:  # noqa: ANN001
    """`flask doctor`, run as an operator would, exits 0."""
    result = app.test_cli_runner().invoke(args=["doctor"])
    assert result.exit_code == 0, (result.output, result.exception)
