"""The personal calendar feed is rate-limited per address token (120 an hour), not per
client address: the subscribers of a whole office behind one NAT do not lock each other out."""
import datetime as dt

import pytest
import time_machine

from app.core.types import utcnow
from app.extensions import db
from tests.factories import UserFactory

OFFICE = "192.0.2.10"  # one NAT address for everyone
LIMIT = 120


def _feed(client, token: str) -> int:
    return client.get(f"/me/calendar/{token}.ics", environ_base={"REMOTE_ADDR": OFFICE}).status_code


@pytest.mark.usefixtures("app_ctx")
def test_many_subscribers_behind_one_address_all_get_their_feed(client):
    tokens = [UserFactory().calendar_token for _ in range(3)]
    db.session.remove()
    # 3 × 45 = 135 requests from one address, more than one token's hourly allowance
    statuses = [_feed(client, token) for _ in range(45) for token in tokens]
    assert statuses == [200] * len(statuses)


@pytest.mark.usefixtures("app_ctx")
def test_one_token_over_its_limit_is_refused_and_others_are_not(client):
    busy, quiet = UserFactory().calendar_token, UserFactory().calendar_token
    db.session.remove()
    with time_machine.travel(utcnow(), tick=False) as traveller:
        assert [_feed(client, busy) for _ in range(LIMIT)] == [200] * LIMIT
        assert _feed(client, busy) == 429
        assert _feed(client, quiet) == 200
        traveller.shift(dt.timedelta(hours=1, seconds=1))
        assert _feed(client, busy) == 200  # a new hour, a new allowance
