"""Sessions and series in local time, daylight saving, conflicts, bad input, notifications."""
import datetime as dt

import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.audit.models import AuditEvent
from app.core.errors import NotFound
from app.enrolment.models import EnrolmentStatus as S
from app.extensions import db
from app.notifications.models import OutboxMessage
from app.schedule import services
from app.schedule.models import CourseSession, SessionKind, SessionStatus
from app.schedule.services import ScheduleConflict, ScheduleError, SessionData
from app.schedule.signups import cancel_signup, sign_up
from app.schedule.timetable import overlaps_with_my_courses, personal_sessions
from tests.factories import CourseFactory, EnrolmentFactory, UserFactory, VenueFactory

pytestmark = pytest.mark.usefixtures("app_ctx")
UTC = dt.UTC


def _data(day, start=(9, 0), end=(10, 30), **kw):
    return SessionData(title=kw.pop("title", "Lecture"), kind=SessionKind.LECTURE, day=day,
                       start=dt.time(*start), end=dt.time(*end), **kw)


def _rome_course(**kw):
    return CourseFactory(timezone="Europe/Rome", starts_on=kw.pop("starts_on", dt.date(2027, 10, 1)),
                         ends_on=kw.pop("ends_on", dt.date(2027, 11, 30)), **kw)


def test_weekly_series_keeps_0900_across_the_end_of_daylight_saving_in_rome():
    course = _rome_course()
    admin = UserFactory(role=Role.ADMIN)
    sessions = services.create_sessions(course, _data(dt.date(2027, 10, 21)), admin, repeat="weekly",
                                        weekdays=[3], until=dt.date(2027, 11, 4))
    assert [s.starts_at.astimezone(UTC).hour for s in sessions] == [7, 7, 8]  # clocks go back on 31 October
    assert {s.starts_at.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Rome")).hour for s in sessions} == {9}
    assert len({s.series_id for s in sessions}) == 1 and sessions[0].series_id


def test_march_change_in_rome_and_china_without_daylight_saving():
    course = _rome_course(starts_on=dt.date(2027, 3, 20), ends_on=dt.date(2027, 4, 10))
    admin = UserFactory(role=Role.ADMIN)
    before, after = services.create_sessions(course, _data(dt.date(2027, 3, 26), (9, 30), (11, 0)), admin,
                                             repeat="weekly", weekdays=[4], until=dt.date(2027, 4, 2))
    from app.core.timezones import to_local

    assert [to_local(s.starts_at, "Asia/Shanghai").strftime("%H:%M") for s in (before, after)] == ["16:30", "15:30"]


def test_a_time_the_clocks_skip_is_refused():
    course = _rome_course(starts_on=dt.date(2027, 3, 20), ends_on=dt.date(2027, 4, 10))
    with pytest.raises(ScheduleError, match="does not exist"):
        services.create_sessions(course, _data(dt.date(2027, 3, 28), (2, 30), (3, 30)), UserFactory())


@pytest.mark.parametrize("data,message", [
    (lambda: _data(dt.date(2027, 10, 5), (11, 0), (10, 0)), "must end after it starts"),
    (lambda: _data(dt.date(2027, 10, 5), (10, 0), (10, 0)), "must end after it starts"),
    (lambda: _data(dt.date(2027, 10, 5), (19, 0), (8, 0)), "past midnight can last at most 12 hours"),
    (lambda: _data(dt.date(2027, 9, 30)), "within the course dates"),
    (lambda: _data(dt.date(2027, 12, 1)), "within the course dates"),
    (lambda: _data(dt.date(2027, 11, 30), (22, 0), (1, 0)), "within the course dates"),
    (lambda: _data(dt.date(2027, 10, 5), capacity=0), "at least 1"),
])
def test_bad_sessions_are_refused(data, message):
    course = _rome_course()
    with pytest.raises(ScheduleError, match=message):
        services.create_sessions(course, data(), UserFactory())
    assert db.session.scalar(sa.select(sa.func.count(CourseSession.id))) == 0


def test_an_evening_session_may_run_past_midnight():
    course = _rome_course()
    [s] = services.create_sessions(course, _data(dt.date(2027, 10, 5), (22, 0), (1, 0)), UserFactory())
    assert s.ends_at - s.starts_at == dt.timedelta(hours=3)


def test_unknown_venue_instructor_or_cohort_is_not_found():
    course = _rome_course()
    for kw in ({"venue_id": 999999}, {"instructor_ids": [999999]}, {"cohort_id": 999999}):
        with pytest.raises(NotFound):
            services.create_sessions(course, _data(dt.date(2027, 10, 5), **kw), UserFactory())


@pytest.mark.parametrize("repeat,weekdays,until,expected", [
    ("daily", [], dt.date(2027, 10, 7), 3),
    ("weekly", [0, 2, 4], dt.date(2027, 10, 18), 6),
    ("weekly", [], dt.date(2027, 10, 19), 3),  # no weekday chosen: the first day's
])
def test_series_expansion(repeat, weekdays, until, expected):
    course = _rome_course()
    made = services.create_sessions(course, _data(dt.date(2027, 10, 5)), UserFactory(), repeat=repeat,
                                    weekdays=weekdays, until=until)
    assert len(made) == expected


@pytest.mark.parametrize("repeat,until,message", [
    ("weekly", None, "needs an end date"), ("daily", dt.date(2027, 10, 1), "needs an end date"),
    ("daily", dt.date(2027, 12, 31), "past the course's last day"), ("monthly", dt.date(2027, 10, 9), "Unknown repetition"),
])
def test_bad_series(repeat, until, message):
    course = _rome_course()
    with pytest.raises(ScheduleError, match=message):
        services.create_sessions(course, _data(dt.date(2027, 10, 5)), UserFactory(), repeat=repeat, until=until)


def test_venue_double_booking_is_refused_naming_the_clash_and_override_is_audited():
    room = VenueFactory(name="Sala Verde")
    a, b = _rome_course(title="Circular Economy"), _rome_course(title="Green Finance")
    admin = UserFactory(role=Role.ADMIN)
    services.create_sessions(a, _data(dt.date(2027, 10, 5), title="Opening", venue_id=room.id), admin)
    with pytest.raises(ScheduleConflict) as info:
        services.create_sessions(b, _data(dt.date(2027, 10, 5), (10, 0), (11, 0), venue_id=room.id), admin)
    assert "Sala Verde is already booked for “Opening” (Circular Economy)" in info.value.message
    made = services.create_sessions(b, _data(dt.date(2027, 10, 5), (10, 0), (11, 0), venue_id=room.id), admin,
                                    override_reason="Two small groups share the room")
    assert len(made) == 1
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "session.conflict_overridden"))
    assert event.details["reason"] == "Two small groups share the room"


def test_instructor_double_booking_and_touching_sessions():
    teacher = UserFactory(full_name="Paolo Esposito", role=Role.INSTRUCTOR)
    a, b = _rome_course(), _rome_course()
    services.create_sessions(a, _data(dt.date(2027, 10, 5), instructor_ids=[teacher.id]), UserFactory())
    with pytest.raises(ScheduleConflict, match="Paolo Esposito already teaches"):
        services.create_sessions(b, _data(dt.date(2027, 10, 5), (10, 0), (12, 0), instructor_ids=[teacher.id]), UserFactory())
    # back to back is not a clash
    services.create_sessions(b, _data(dt.date(2027, 10, 5), (10, 30), (12, 0), instructor_ids=[teacher.id]), UserFactory())


def test_online_rooms_and_cancelled_sessions_do_not_clash():
    online = VenueFactory(name="Online", is_online=True)
    course = _rome_course()
    [s] = services.create_sessions(course, _data(dt.date(2027, 10, 5), venue_id=online.id), UserFactory())
    services.create_sessions(course, _data(dt.date(2027, 10, 5), venue_id=online.id), UserFactory())
    room = VenueFactory()
    [t] = services.create_sessions(course, _data(dt.date(2027, 10, 6), venue_id=room.id), UserFactory())
    services.cancel_sessions(t, UserFactory())
    services.create_sessions(course, _data(dt.date(2027, 10, 6), venue_id=room.id), UserFactory())


def test_edit_this_and_following_shifts_the_rest_of_the_series_and_raises_sequence():
    course = _rome_course()
    made = services.create_sessions(course, _data(dt.date(2027, 10, 4)), UserFactory(), repeat="weekly",
                                    weekdays=[0], until=dt.date(2027, 10, 25))
    second = made[1]
    changed = services.update_sessions(second, _data(dt.date(2027, 10, 12), (14, 0), (15, 30), title="Moved"),
                                       UserFactory(), scope="following")
    assert [s.id for s in changed] == [s.id for s in made[1:]]
    from app.core.timezones import to_local

    local = [to_local(s.starts_at, "Europe/Rome") for s in made]
    assert [d.strftime("%a %H:%M") for d in local] == ["Mon 09:00", "Tue 14:00", "Tue 14:00", "Tue 14:00"]
    assert [s.sequence for s in made] == [0, 1, 1, 1]
    assert made[0].title == "Lecture" and made[3].title == "Moved"


def test_moving_and_cancelling_emails_participants_and_instructors_in_their_language_and_zone():
    teacher = UserFactory(role=Role.INSTRUCTOR, locale="it", timezone="Europe/Rome")
    course = _rome_course(title="Economia Circolare")
    li = EnrolmentFactory(course=course, user=UserFactory(locale="zh", timezone="Asia/Shanghai")).user
    EnrolmentFactory(course=course, status=S.WAITLISTED)  # not told: no place
    [s] = services.create_sessions(course, _data(dt.date(2027, 10, 5), instructor_ids=[teacher.id]), teacher)
    services.update_sessions(s, _data(dt.date(2027, 10, 5), (10, 0), (11, 30), instructor_ids=[teacher.id]), teacher)
    mails = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert sorted(m.recipient for m in mails) == sorted([teacher.email, li.email])
    chinese = next(m for m in mails if m.recipient == li.email)
    assert chinese.language == "zh" and "15:00–16:30" in chinese.body_text and "16:00–17:30" in chinese.body_text  # Shanghai
    italian = next(m for m in mails if m.recipient == teacher.email)
    assert "10:00" in italian.body_text and italian.subject.startswith("Nuovo orario")
    services.cancel_sessions(s, teacher, reason="Sciopero dei trasporti")
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 4
    assert s.status is SessionStatus.CANCELLED and s.sequence == 2


def test_cohort_sessions_reach_only_that_cohort():
    from app.teaching.models import Cohort

    course = _rome_course()
    rome, shanghai = Cohort(course=course, name="Rome"), Cohort(course=course, name="Shanghai")
    db.session.add_all([rome, shanghai])
    db.session.flush()
    a = EnrolmentFactory(course=course, cohort_id=rome.id).user
    b = EnrolmentFactory(course=course, cohort_id=shanghai.id).user
    [s] = services.create_sessions(course, _data(dt.date(2027, 10, 5), cohort_id=rome.id), UserFactory())
    assert [x.id for x in personal_sessions(a)] == [s.id]
    assert personal_sessions(b) == []
    assert {p.id for p in services.affected_people(s)} == {a.id}


def test_session_places_sign_up_full_and_cancel():
    course = _rome_course(starts_on=dt.date.today() + dt.timedelta(days=5), ends_on=dt.date.today() + dt.timedelta(days=9))
    [bus] = services.create_sessions(course, _data(course.starts_on, capacity=1, title="Bus"), UserFactory())
    first, second = EnrolmentFactory(course=course).user, EnrolmentFactory(course=course).user
    waiting = EnrolmentFactory(course=course, status=S.WAITLISTED).user
    sign_up(bus, first)
    with pytest.raises(services.Conflict, match="already signed up"):
        sign_up(bus, first)
    with pytest.raises(services.Conflict, match="full"):
        sign_up(bus, second)
    with pytest.raises(NotFound):
        sign_up(bus, waiting)
    cancel_signup(bus, first)
    sign_up(bus, second)
    db.session.refresh(bus)
    assert bus.seats_taken == 1


def test_overlap_warning_for_a_participant():
    me = UserFactory()
    mine = _rome_course(title="Mine")
    EnrolmentFactory(course=mine, user=me)
    services.create_sessions(mine, _data(dt.date(2027, 10, 5)), UserFactory())
    other = _rome_course(title="Other")
    services.create_sessions(other, _data(dt.date(2027, 10, 5), (10, 0), (11, 0)), UserFactory())
    from flask_login import AnonymousUserMixin

    class Me:
        is_authenticated = True
        id = me.id

    pairs = overlaps_with_my_courses(other, Me())
    assert len(pairs) == 1 and pairs[0][1].course.title == "Mine"
    assert overlaps_with_my_courses(other, AnonymousUserMixin()) == []
