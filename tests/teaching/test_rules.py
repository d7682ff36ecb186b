"""Attendance rate, check-in windows and codes, cohorts, completion."""
import datetime as dt

import pytest
import sqlalchemy as sa
import time_machine

from app.accounts.models import Role
from app.core.errors import Conflict, NotFound
from app.enrolment.models import EnrolmentStatus as S
from app.extensions import db
from app.schedule.models import SessionStatus
from app.teaching import services, staffing
from app.teaching.models import Attendance, Cohort
from app.teaching.models import AttendanceStatus as A
from app.teaching.services import TeachingError
from tests.factories import CourseFactory, EnrolmentFactory, SessionFactory, UserFactory

pytestmark = pytest.mark.usefixtures("app_ctx")
UTC = dt.UTC
T0 = dt.datetime(2027, 1, 18, 9, 0, tzinfo=UTC)


def _course():
    return CourseFactory(starts_on=dt.date(2027, 1, 18), ends_on=dt.date(2027, 1, 22))


def _s(course, day_offset, hours=2, **kw):
    start = T0 + dt.timedelta(days=day_offset)
    return SessionFactory(course=course, starts_at=start, ends_at=start + dt.timedelta(hours=hours), **kw)


def _mark(session, enrolment, status):
    db.session.add(Attendance(session_id=session.id, enrolment_id=enrolment.id, status=status, method="sheet"))
    db.session.flush()


def test_attendance_rate_counts_hours_with_late_excused_cohort_cancelled_and_future():
    course = _course()
    rome = Cohort(course=course, name="Rome")
    db.session.add(rome)
    db.session.flush()
    e = EnrolmentFactory(course=course, cohort_id=rome.id)
    present = _s(course, 0, hours=3)
    late = _s(course, 1, hours=1)
    _absent = _s(course, 2, hours=2, is_mandatory=True, title="Opening")
    excused = _s(course, 3, hours=4)
    other_cohort = _s(course, 3, hours=5)
    other_cohort.cohort_id = db.session.scalar(sa.insert(Cohort).values(course_id=course.id, name="Shanghai").returning(Cohort.id))
    _cancelled = _s(course, 3, hours=6, status=SessionStatus.CANCELLED)
    _not_counting = _s(course, 3, hours=7, counts_for_attendance=False)
    _future = _s(course, 10, hours=2)
    _mark(present, e, A.PRESENT)
    _mark(late, e, A.LATE)
    _mark(excused, e, A.EXCUSED)
    p = services.progress_for(course, [e], now=T0 + dt.timedelta(days=5))[e.id]
    # held that count: present 3 + late 1 + absent 2 = 6 (excused, other cohort, cancelled, not counting left out)
    assert (p.attended_hours, p.held_hours, p.rate) == (4, 6, 66.7)
    assert [s.title for s in p.mandatory_missed] == ["Opening"]
    assert p.remaining_hours == 2
    assert services.progress_for(course, [e], now=T0 - dt.timedelta(days=1))[e.id].rate is None


def test_checkin_codes_rotate_every_minute_with_one_step_of_grace():
    course = _course()
    s = _s(course, 0)
    e = EnrolmentFactory(course=course)
    at = T0 + dt.timedelta(minutes=5, seconds=10)
    code = services.code_at(s, at)
    assert len(code) == 6 and code.isdigit()
    assert services.code_at(s, at + dt.timedelta(seconds=5)) == code
    assert services.code_at(s, at + dt.timedelta(seconds=60)) != code
    other = _s(course, 0)
    assert services.code_at(other, at) != code  # each session its own secret
    # grace: the previous code still works during the next minute, not after
    with pytest.raises(TeachingError, match="wrong or has expired"):
        services.check_in(e.user, code, now=at + dt.timedelta(seconds=125))
    with time_machine.travel(at + dt.timedelta(seconds=55), tick=False):
        services.check_in(e.user, code, now=at + dt.timedelta(seconds=55))
    row = db.session.scalar(sa.select(Attendance))
    assert row.status is A.PRESENT and row.method.value == "self_checkin"


@pytest.mark.parametrize("offset,ok,message", [
    (dt.timedelta(minutes=-16), False, "not opened yet"),
    (dt.timedelta(minutes=-15), True, None),
    (dt.timedelta(minutes=10), True, None),
    (dt.timedelta(minutes=119), True, None),
    (dt.timedelta(minutes=120), False, "ended"),
])
def test_checkin_window_from_15_minutes_before_to_the_end(offset, ok, message):
    course = _course()
    s = _s(course, 0)
    e = EnrolmentFactory(course=course)
    now = T0 + offset
    with time_machine.travel(now, tick=False):
        code = services.code_at(s, now)
        if ok:
            services.check_in(e.user, code, now=now)
        else:
            with pytest.raises(TeachingError, match=message):
                services.check_in(e.user, code, now=now)


def test_late_after_15_minutes_and_no_double_checkin():
    course = _course()
    s = _s(course, 0)
    e = EnrolmentFactory(course=course)
    now = T0 + dt.timedelta(minutes=20)
    with time_machine.travel(now, tick=False):
        services.check_in(e.user, services.code_at(s, now), now=now)
        assert db.session.scalar(sa.select(Attendance.status)) is A.LATE
        with pytest.raises(Conflict, match="already checked in"):
            services.check_in(e.user, services.code_at(s, now), now=now)


def test_checkin_refusals_not_enrolled_other_cohort_future_session_and_bad_codes():
    course = _course()
    s = _s(course, 0)
    tomorrow = _s(course, 1)
    now = T0 + dt.timedelta(minutes=1)
    stranger = UserFactory()
    waiting = EnrolmentFactory(course=course, status=S.WAITLISTED).user
    with time_machine.travel(now, tick=False):
        # A code is looked for only among the sessions the person may check in to:
        # for anyone else it is just a wrong code (it reveals no other course).
        for user in (stranger, waiting):
            with pytest.raises(TeachingError, match="wrong or has expired"):
                services.check_in(user, services.code_at(s, now), now=now)
        rome = Cohort(course=course, name="Rome")
        db.session.add(rome)
        db.session.flush()
        s.cohort_id = rome.id
        other = EnrolmentFactory(course=course).user
        with pytest.raises(TeachingError, match="wrong or has expired"):
            services.check_in(other, services.code_at(s, now), now=now)
        me = EnrolmentFactory(course=course).user
        with pytest.raises(TeachingError, match="not opened yet"):
            services.check_in(me, services.code_at(tomorrow, now), now=now)
        for bad in ("", "12345", "abcdef", "1234567", "<b>1</b>"):
            with pytest.raises(TeachingError):
                services.check_in(me, bad, now=now)


def test_sheet_saves_audits_and_refuses_strangers_and_future_sessions():
    course = _course()
    s = _s(course, 0)
    e1, e2 = EnrolmentFactory(course=course), EnrolmentFactory(course=course)
    staff = UserFactory(role=Role.INSTRUCTOR)
    with time_machine.travel(T0 + dt.timedelta(minutes=30), tick=False):
        assert services.save_sheet(s, {e1.id: (A.PRESENT, ""), e2.id: (A.EXCUSED, "Visa delay")}, staff) == 2
        assert services.save_sheet(s, {e1.id: (A.PRESENT, "")}, staff) == 0
        assert services.save_sheet(s, {e1.id: (A.LATE, "train")}, staff) == 1
        stranger = EnrolmentFactory(status=S.ACCEPTED)
        with pytest.raises(NotFound):
            services.save_sheet(s, {stranger.id: (A.PRESENT, "")}, staff)
        history = services.attendance_history(s)
        assert [(h.details.get("old"), h.details["new"]) for h in history] == [
            ("present", "late"), (None, "excused"), (None, "present")]
        later = _s(course, 2)
        with pytest.raises(TeachingError, match="15 minutes before"):
            services.save_sheet(later, {e1.id: (A.PRESENT, "")}, staff)
        e3 = EnrolmentFactory(course=course)
        assert services.mark_all_present(s, staff) == 1
        assert db.session.scalar(sa.select(Attendance.status).where(Attendance.enrolment_id == e3.id)) is A.PRESENT


def test_cohorts_create_rename_delete_only_when_empty_and_balance():
    course = _course()
    staff = UserFactory()
    a = staffing.save_cohort(course, None, "Rome cohort", staff)
    b = staffing.save_cohort(course, None, "Shanghai cohort", staff)
    with pytest.raises(Conflict):
        staffing.save_cohort(course, None, "rome COHORT", staff)
    staffing.save_cohort(course, a, "Roma", staff)
    people = [EnrolmentFactory(course=course, user=UserFactory(country=c)) for c in ["IT", "CN", "IT", "CN", "IT"]]
    EnrolmentFactory(course=course, status=S.WAITLISTED)
    sizes = staffing.balance_cohorts(course, staff)
    assert sorted(sizes.values()) == [2, 3]
    with pytest.raises(TeachingError, match="Only an empty cohort"):
        staffing.delete_cohort(a, staff)
    staffing.balance_cohorts(course, staff, by_country=True)
    italians = {e.cohort_id for e in people if e.user.country == "IT"}
    assert len(italians) == 1  # three Italians fit in the larger cohort together
    staffing.assign_cohort(course, [e.id for e in people], b.id, staff)
    staffing.delete_cohort(a, staff)
    assert db.session.get(Cohort, a.id) is None


def test_completion_only_after_the_end_and_only_for_places():
    course = _course()
    e = EnrolmentFactory(course=course)
    staff = UserFactory()
    with pytest.raises(TeachingError, match="once the course has ended"):
        services.record_completion(e, True, "", staff, now=T0)
    services.record_completion(e, True, "Great project", staff, now=T0 + dt.timedelta(days=10))
    assert e.status is S.COMPLETED and e.completion_note == "Great project"
    services.record_completion(e, False, "", staff, now=T0 + dt.timedelta(days=10))
    assert e.status is S.NOT_COMPLETED
    waiting = EnrolmentFactory(course=course, status=S.WAITLISTED)
    with pytest.raises(TeachingError):
        services.record_completion(waiting, True, "", staff, now=T0 + dt.timedelta(days=10))
