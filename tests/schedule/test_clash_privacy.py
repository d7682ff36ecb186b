"""A refused double booking names the clashing session and course only to someone who may
see that course (an admin, its staff, or anyone once it is published); to anyone else it
is "another activity", with the time still given — a draft's confidential title stays put."""
import datetime as dt

import pytest

from app.accounts.models import Role
from app.catalogue.models import CourseStatus
from app.core.timezones import format_range, localize
from app.extensions import db
from app.schedule import services
from app.schedule.models import SessionKind
from app.schedule.services import ScheduleConflict, SessionData
from app.teaching.models import CourseStaff, StaffRole
from tests.factories import CourseFactory, UserFactory, VenueFactory

pytestmark = pytest.mark.usefixtures("app_ctx")
DAY = dt.date(2027, 10, 5)
SECRET = "Confidential Merger Talks"


def _data(start, end, **kw):
    return SessionData(title=kw.pop("title", "Lecture"), kind=SessionKind.LECTURE, day=DAY,
                       start=dt.time(*start), end=dt.time(*end), **kw)


def _course(**kw):
    return CourseFactory(timezone="Europe/Rome", starts_on=dt.date(2027, 10, 1), ends_on=dt.date(2027, 11, 30), **kw)


def _staff(course, role=Role.INSTRUCTOR):
    user = UserFactory(role=role)
    db.session.add(CourseStaff(course_id=course.id, user_id=user.id, role=StaffRole.LEAD))
    db.session.commit()
    return user


def _when() -> str:
    """The booked time as the message gives it: 09:00–10:30 in Rome, in the locale's format."""
    start, end = (localize(dt.datetime.combine(DAY, dt.time(*t)), "Europe/Rome") for t in ((9, 0), (10, 30)))
    return format_range(start, end, "Europe/Rome", None)


def _refusal(course, data, actor) -> str:
    with pytest.raises(ScheduleConflict) as info:
        services.create_sessions(course, data, actor)
    db.session.rollback()
    return info.value.message


@pytest.fixture
def world():
    """Course A (published, with its instructor) and a draft course B that already holds
    Sala Verde and a guest speaker from 09:00 to 10:30 on DAY."""
    room, speaker = VenueFactory(name="Sala Verde"), UserFactory(full_name="Paolo Esposito", role=Role.INSTRUCTOR)
    mine, secret = _course(title="Circular Economy"), _course(title=SECRET, status=CourseStatus.DRAFT)
    services.create_sessions(secret, _data((9, 0), (10, 30), title="Board briefing", venue_id=room.id,
                                           instructor_ids=[speaker.id]), UserFactory(role=Role.ADMIN))
    db.session.commit()
    return {"room": room, "speaker": speaker, "mine": mine, "secret": secret, "teacher": _staff(mine)}


def test_an_instructor_learns_when_the_room_is_taken_but_not_by_what(world):
    message = _refusal(world["mine"], _data((10, 0), (11, 0), venue_id=world["room"].id), world["teacher"])
    assert message.startswith(f"Sala Verde is already booked for another activity on Oct 5, 2027, {_when()}.")
    assert "Rome." in message
    assert SECRET not in message and "Board briefing" not in message


def test_an_instructor_learns_when_a_person_is_busy_but_not_where(world):
    message = _refusal(world["mine"], _data((10, 0), (11, 0), instructor_ids=[world["speaker"].id]), world["teacher"])
    assert message.startswith(f"Paolo Esposito already teaches another activity on Oct 5, 2027, {_when()}.")
    assert SECRET not in message and "Board briefing" not in message


def test_an_admin_and_the_drafts_own_staff_see_the_title(world):
    data = _data((10, 0), (11, 0), venue_id=world["room"].id)
    named = "Sala Verde is already booked for “Board briefing” (Confidential Merger Talks) on Oct 5, 2027"
    assert _refusal(world["mine"], data, UserFactory(role=Role.ADMIN)).startswith(named)
    both = _staff(world["mine"])
    db.session.add(CourseStaff(course_id=world["secret"].id, user_id=both.id, role=StaffRole.ASSISTANT))
    db.session.commit()
    assert _refusal(world["mine"], data, both).startswith(named)


def test_once_the_course_is_published_its_session_is_named(world):
    world["secret"].status = CourseStatus.PUBLISHED
    db.session.commit()
    message = _refusal(world["mine"], _data((10, 0), (11, 0), venue_id=world["room"].id), world["teacher"])
    assert "“Board briefing” (Confidential Merger Talks)" in message
