"""Every allowed and every forbidden move, with its email and its audit event."""
import datetime as dt

import pytest
import sqlalchemy as sa
import time_machine

from app.audit.models import AuditEvent
from app.catalogue import services as catalogue
from app.catalogue.models import Course, CourseStatus, EnrolmentMode
from app.core.errors import Conflict, DomainError, NotFound
from app.enrolment import services
from app.enrolment.models import Enrolment
from app.enrolment.models import EnrolmentStatus as S
from app.extensions import db
from app.notifications.models import OutboxMessage
from tests.factories import CourseFactory, UserFactory

pytestmark = pytest.mark.usefixtures("app_ctx")


def _mails(user):
    return db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.recipient == user.email)
                              .order_by(OutboxMessage.id)).all()


def _actions(enrolment):
    return db.session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.object_type == "enrolment", AuditEvent.object_id == enrolment.id).order_by(AuditEvent.id)).all()


def _seats(course):
    db.session.expire(course)
    return course.seats_taken


def test_open_mode_enrol_accepts_takes_a_place_emails_and_audits():
    course = CourseFactory(capacity=2)
    user = UserFactory(locale="it")
    e = services.enrol(course.id, user)
    assert e.status is S.ACCEPTED and _seats(course) == 1
    [mail] = _mails(user)
    assert mail.language == "it" and mail.subject.startswith("Il tuo posto è confermato")
    assert _actions(e) == ["enrolment.accepted"]


def test_open_mode_enrol_when_full_waitlists_with_position():
    course = CourseFactory(capacity=1)
    services.enrol(course.id, UserFactory())
    second, third = UserFactory(), UserFactory(locale="zh")
    e2 = services.enrol(course.id, second)
    e3 = services.enrol(course.id, third)
    assert (e2.status, e3.status) == (S.WAITLISTED, S.WAITLISTED)
    assert services.waitlist_position(e2) == 1 and services.waitlist_position(e3) == 2
    assert _seats(course) == 1
    assert "2" in _mails(third)[0].body_text and "候补" in _mails(third)[0].subject
    assert _actions(e3) == ["enrolment.waitlisted"]


def test_unlimited_capacity_always_accepts():
    course = CourseFactory(capacity=None)
    for _ in range(5):
        assert services.enrol(course.id, UserFactory()).status is S.ACCEPTED
    assert _seats(course) == 5


def test_approval_mode_apply_is_pending_and_takes_no_place():
    course = CourseFactory(enrolment_mode=EnrolmentMode.APPROVAL, capacity=1)
    user = UserFactory()
    e = services.enrol(course.id, user, motivation="I run the energy office of my town.", answers={"Q?": "A"})
    assert e.status is S.PENDING and _seats(course) == 0 and e.answers == {"Q?": "A"}
    assert _mails(user)[0].subject.startswith("Application received")
    assert _actions(e) == ["enrolment.pending"]


def test_approve_accepts_or_waitlists_when_full():
    course = CourseFactory(enrolment_mode=EnrolmentMode.APPROVAL, capacity=1)
    staff = UserFactory()
    a = services.enrol(course.id, UserFactory(), motivation="m" * 30)
    b = services.enrol(course.id, UserFactory(), motivation="m" * 30)
    assert services.approve(a, staff) is S.ACCEPTED
    assert services.approve(b, staff) is S.WAITLISTED
    assert _seats(course) == 1
    assert a.decided_by_id == staff.id
    with pytest.raises(DomainError):
        services.approve(a, staff)  # only pending can be approved


def test_reject_needs_a_reason_and_emails_it():
    course = CourseFactory(enrolment_mode=EnrolmentMode.APPROVAL)
    user, staff = UserFactory(), UserFactory()
    e = services.enrol(course.id, user, motivation="m" * 30)
    with pytest.raises(DomainError, match="reason"):
        services.reject(e, staff, "   ")
    services.reject(e, staff, "The school is for public officers <b>only</b>.")
    assert e.status is S.REJECTED and e.decision_reason.startswith("The school")
    mail = _mails(user)[-1]
    assert "public officers <b>only</b>" in mail.body_text
    assert "&lt;b&gt;only&lt;/b&gt;" in mail.body_html and "<b>only</b>" not in mail.body_html
    assert _actions(e)[-1] == "enrolment.rejected"


def test_rejecting_an_accepted_enrolment_frees_the_place_and_promotes():
    course = CourseFactory(enrolment_mode=EnrolmentMode.APPROVAL, capacity=1)
    staff = UserFactory()
    a = services.enrol(course.id, UserFactory(), motivation="m" * 30)
    b = services.enrol(course.id, UserFactory(), motivation="m" * 30)
    services.approve(a, staff)
    services.approve(b, staff)
    services.reject(a, staff, "Duplicate registration")
    db.session.refresh(b)
    assert b.status is S.ACCEPTED and _seats(course) == 1
    assert "enrolment.promoted" in _actions(b)


def test_move_pending_to_waitlist():
    course = CourseFactory(enrolment_mode=EnrolmentMode.APPROVAL)
    e = services.enrol(course.id, UserFactory(), motivation="m" * 30)
    services.move_to_waitlist(e, UserFactory())
    assert e.status is S.WAITLISTED and services.waitlist_position(e) == 1
    with pytest.raises(DomainError):
        services.move_to_waitlist(e, UserFactory())


@pytest.mark.parametrize("start", [S.ACCEPTED, S.WAITLISTED, S.PENDING])
def test_withdraw_from_every_active_state(start):
    mode = EnrolmentMode.APPROVAL if start is S.PENDING else EnrolmentMode.OPEN
    course = CourseFactory(capacity=1 if start is S.WAITLISTED else 5, enrolment_mode=mode)
    if start is S.WAITLISTED:
        services.enrol(course.id, UserFactory())
    user = UserFactory()
    e = services.enrol(course.id, user, motivation="m" * 30)
    assert e.status is start
    before = _seats(course)
    services.withdraw(e, user)
    assert e.status is S.WITHDRAWN
    assert _seats(course) == before - (1 if start is S.ACCEPTED else 0)
    assert _mails(user)[-1].subject.startswith("You have withdrawn")
    assert _actions(e)[-1] == "enrolment.withdrawn"


def test_withdrawal_promotes_the_first_waitlisted_in_order():
    course = CourseFactory(capacity=1)
    first_user = UserFactory()
    first = services.enrol(course.id, first_user)
    w1 = services.enrol(course.id, UserFactory())
    w2 = services.enrol(course.id, UserFactory())
    services.withdraw(first, first_user)
    db.session.refresh(w1)
    db.session.refresh(w2)
    assert (w1.status, w2.status) == (S.ACCEPTED, S.WAITLISTED)
    assert services.waitlist_position(w2) == 1
    assert _mails(w1.user)[-1].subject.startswith("A place has freed up")
    assert _seats(course) == 1


def test_withdraw_after_the_deadline_is_refused():
    course = CourseFactory()
    user = UserFactory()
    e = services.enrol(course.id, user)
    later = course.withdrawal_deadline + dt.timedelta(minutes=1)
    with pytest.raises(DomainError, match="deadline"):
        services.withdraw(e, user, now=later)
    assert e.status is S.ACCEPTED


def test_someone_else_cannot_withdraw_my_enrolment():
    course = CourseFactory()
    e = services.enrol(course.id, UserFactory())
    with pytest.raises(NotFound):
        services.withdraw(e, UserFactory())


@pytest.mark.parametrize("final", [S.WITHDRAWN, S.REJECTED, S.CANCELLED, S.COMPLETED])
def test_no_withdrawal_from_a_final_state(final):
    course = CourseFactory()
    user = UserFactory()
    e = Enrolment(course=course, user=user, status=final)
    db.session.add(e)
    db.session.flush()
    with pytest.raises(DomainError):
        services.withdraw(e, user)


def test_cancel_by_staff_from_each_active_state_frees_places():
    course = CourseFactory(capacity=1)
    staff = UserFactory()
    a = services.enrol(course.id, UserFactory())
    w = services.enrol(course.id, UserFactory())
    services.cancel(w, staff, "Registered twice")
    assert w.status is S.CANCELLED and _seats(course) == 1
    services.cancel(a, staff, "Visa refused")
    assert _seats(course) == 0
    assert "Visa refused" in _mails(a.user)[-1].body_text
    with pytest.raises(DomainError):
        services.cancel(a, staff, "again")


def test_re_enrolling_after_withdrawal_reuses_the_row():
    course = CourseFactory()
    user = UserFactory()
    e = services.enrol(course.id, user)
    services.withdraw(e, user)
    again = services.enrol(course.id, user)
    assert again.id == e.id and again.status is S.ACCEPTED
    assert db.session.scalar(sa.select(sa.func.count(Enrolment.id))) == 1


def test_enrolling_twice_is_a_conflict_with_a_message():
    course = CourseFactory()
    user = UserFactory()
    services.enrol(course.id, user)
    with pytest.raises(Conflict, match="already enrolled"):
        services.enrol(course.id, user)
    assert _seats(course) == 1


@pytest.mark.parametrize("final", [S.REJECTED, S.CANCELLED])
def test_no_re_enrolment_after_rejection_or_cancellation(final):
    course = CourseFactory()
    user = UserFactory()
    db.session.add(Enrolment(course=course, user=user, status=final))
    db.session.flush()
    with pytest.raises(DomainError, match="cannot enrol"):
        services.enrol(course.id, user)


@pytest.mark.parametrize("status,message", [
    (CourseStatus.CANCELLED, "cancelled"), (CourseStatus.ARCHIVED, "not open for enrolment"),
])
def test_no_enrolment_into_a_cancelled_or_archived_course(status, message):
    course = CourseFactory(status=status)
    with pytest.raises(DomainError, match=message):
        services.enrol(course.id, UserFactory())


def test_drafts_and_unknown_courses_are_not_found():
    draft = CourseFactory(status=CourseStatus.DRAFT)
    with pytest.raises(NotFound):
        services.enrol(draft.id, UserFactory())
    with pytest.raises(NotFound):
        services.enrol(999999, UserFactory())


def test_enrolment_window_with_time_travel():
    course = CourseFactory(
        starts_on=dt.date(2027, 3, 1), ends_on=dt.date(2027, 3, 5),
        enrolment_opens_at=dt.datetime(2027, 1, 10, 8, tzinfo=dt.UTC),
        enrolment_closes_at=dt.datetime(2027, 2, 20, 23, tzinfo=dt.UTC),
    )
    with time_machine.travel(dt.datetime(2027, 1, 10, 7, 59, tzinfo=dt.UTC), tick=False), pytest.raises(DomainError, match="not opened yet"):
        services.enrol(course.id, UserFactory())
    with time_machine.travel(dt.datetime(2027, 1, 10, 8, 0, tzinfo=dt.UTC), tick=False):
        assert services.enrol(course.id, UserFactory()).status is S.ACCEPTED
    with time_machine.travel(dt.datetime(2027, 2, 20, 23, 0, tzinfo=dt.UTC), tick=False), pytest.raises(DomainError, match="closed"):
        services.enrol(course.id, UserFactory())
    course.enrolment_closes_at = None
    with time_machine.travel(dt.datetime(2027, 3, 6, 0, 1, tzinfo=dt.UTC), tick=False), pytest.raises(DomainError, match="already ended"):
        services.enrol(course.id, UserFactory())


def test_raising_capacity_promotes_and_lowering_below_taken_is_refused():
    course = CourseFactory(capacity=1)
    admin = UserFactory()
    services.enrol(course.id, UserFactory())
    w1 = services.enrol(course.id, UserFactory())
    w2 = services.enrol(course.id, UserFactory())
    catalogue.change_capacity(course, 2, admin)  # enrolment fills the new place (a signal)
    assert (w1.status, w2.status) == (S.ACCEPTED, S.WAITLISTED)
    with pytest.raises(DomainError, match="2 places already taken"):
        catalogue.change_capacity(course, 1, admin)
    catalogue.change_capacity(course, None, admin)
    assert w2.status is S.ACCEPTED
    assert _seats(course) == 3


def test_cancelling_a_course_cancels_and_emails_everyone_without_promoting():
    course = CourseFactory(capacity=1)
    admin = UserFactory()
    a = services.enrol(course.id, UserFactory(locale="zh"))
    w = services.enrol(course.id, UserFactory())
    assert services.cancel_course(course, admin, "The venue flooded") == 2
    assert course.status is CourseStatus.CANCELLED
    assert {a.status, w.status} == {S.CANCELLED}
    assert _seats(course) == 0
    assert "The venue flooded" in _mails(a.user)[-1].body_text
    assert _mails(a.user)[-1].language == "zh"
    with pytest.raises(DomainError):
        services.cancel_course(course, admin, "again")


def test_add_participant_by_email():
    course = CourseFactory(capacity=1)
    staff = UserFactory()
    UserFactory(email="added@example.org")
    e = services.add_participant(course.id, "ADDED@example.org", staff)
    assert e.status is S.ACCEPTED
    with pytest.raises(Conflict):
        services.add_participant(course.id, "added@example.org", staff)
    with pytest.raises(DomainError, match="no account"):
        services.add_participant(course.id, "nobody@example.org", staff)
    other = UserFactory()
    assert services.add_participant(course.id, other.email, staff).status is S.WAITLISTED
    assert "enrolment.added_by_staff" in _actions(e)


def test_the_seat_counter_cannot_go_below_zero_or_above_capacity():
    course = CourseFactory(capacity=1, seats_taken=1)
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.execute(sa.update(Course).where(Course.id == course.id).values(seats_taken=2))
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.execute(sa.update(Course).where(Course.id == course.id).values(seats_taken=-1))
