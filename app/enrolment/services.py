"""The enrolment state machine: one function per move.

open mode:      enrol ──► accepted | waitlisted (full)
approval mode:  apply ──► pending ──► accepted | waitlisted (full) | rejected
waitlisted ──► accepted                         (a place frees: first in, first promoted)
accepted | pending | waitlisted ──► withdrawn   (participant, before the deadline)
any active ──► cancelled                        (staff, with a reason; or the course is cancelled)

Each move checks it is allowed, writes an audit event and queues an email in the
participant's language. Nothing here commits: the caller owns the transaction.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

from app.accounts.models import User
from app.accounts.services import require_verified
from app.audit.services import record
from app.catalogue import signals as catalogue_signals
from app.catalogue.models import Course, CourseStatus, EnrolmentMode
from app.catalogue.seats import lock_course, release_seat, take_seat
from app.catalogue.services import enrolment_window
from app.core.cas import compare_and_set
from app.core.errors import Conflict, DomainError, NotFound
from app.core.types import utcnow
from app.enrolment import signals
from app.enrolment.models import ACTIVE, HOLDS_PLACE, Enrolment, EnrolmentStatus
from app.extensions import db
from app.notifications.services import queue_email

S = EnrolmentStatus
T = TypeVar("T")
CLOSED = (S.WITHDRAWN, S.REJECTED, S.CANCELLED)
# States a staff decision or the person's own move put the enrolment in.
DECIDED = (S.ACCEPTED, S.WAITLISTED, S.REJECTED, S.CANCELLED, S.WITHDRAWN, S.COMPLETED, S.NOT_COMPLETED)


class EnrolmentError(DomainError):
    pass


# --- queries ------------------------------------------------------------------------

def get_enrolment(course_id: int, user_id: int) -> Enrolment | None:
    return db.session.scalar(
        sa.select(Enrolment).where(Enrolment.course_id == course_id, Enrolment.user_id == user_id)
    )


def _positions(course_ids: list[int], enrolment_ids: list[int] | None = None) -> dict[int, int]:
    """The one waiting-list rule: per course, first in line first (by the time put on
    the list, then by id), 1 for the first. Positions of the courses' waiting enrolments
    (or of `enrolment_ids` among them), in one query."""
    ranked = (
        sa.select(Enrolment.id.label("id"), sa.func.row_number().over(
            partition_by=Enrolment.course_id, order_by=(Enrolment.waitlisted_at, Enrolment.id)).label("position"))
        .where(Enrolment.course_id.in_(course_ids), Enrolment.status == S.WAITLISTED)
        .subquery()
    )
    stmt = sa.select(ranked.c.id, ranked.c.position)
    if enrolment_ids is not None:
        stmt = stmt.where(ranked.c.id.in_(enrolment_ids))
    return {row.id: row.position for row in db.session.execute(stmt)}


def waitlist_position(enrolment: Enrolment) -> int | None:
    """1 for the first in line; None when not on the waiting list."""
    if enrolment.status is not S.WAITLISTED:
        return None
    return _positions([enrolment.course_id], [enrolment.id]).get(enrolment.id)


def positions_of(enrolments: Sequence[Enrolment]) -> dict[int, int]:
    """Waiting-list positions of some enrolments (of any courses), in one query."""
    waiting = [e for e in enrolments if e.status is S.WAITLISTED]
    if not waiting:
        return {}
    return _positions(sorted({e.course_id for e in waiting}), [e.id for e in waiting])


def waitlist_positions(course_id: int) -> dict[int, int]:
    """Every waiting enrolment's position, in one query."""
    return _positions([course_id])


def waitlist_length(course_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).where(Enrolment.course_id == course_id, Enrolment.status == S.WAITLISTED)
    ) or 0


def status_counts(course_id: int, *, cohort_id: int | None = None) -> dict[EnrolmentStatus, int]:
    """How many enrolments of the course (of one cohort, when given) are in each status."""
    stmt = sa.select(Enrolment.status, sa.func.count()).where(Enrolment.course_id == course_id)
    if cohort_id is not None:
        stmt = stmt.where(Enrolment.cohort_id == cohort_id)
    rows = db.session.execute(stmt.group_by(Enrolment.status)).all()
    return {status: n for status, n in rows}


# --- rules --------------------------------------------------------------------------

def can_withdraw(enrolment: Enrolment, now: dt.datetime | None = None) -> bool:
    now = now or utcnow()
    if enrolment.status not in ACTIVE:
        return False
    deadline = enrolment.course.withdrawal_deadline
    return deadline is None or now < deadline


def _load_course_for_enrolment(course_id: int) -> Course:
    course = db.session.get(Course, course_id)
    if course is None or course.status is CourseStatus.DRAFT:
        raise NotFound(_("This activity does not exist."))
    return course


def _notify(enrolment: Enrolment, move: str, **context: Any) -> None:
    queue_email(enrolment.user, "enrolment", move=move, enrolment=enrolment, course=enrolment.course, **context)


def _lock(enrolment: Enrolment, seen: EnrolmentStatus | None = None) -> None:
    """Queue behind any other move on this course, then see the enrolment as it is now.
    `seen` is the status the person acting saw on their page: when it has changed
    since, their decision was about something else, and nothing is done."""
    lock_course(enrolment.course_id)
    db.session.refresh(enrolment)
    if seen is not None and enrolment.status is not seen:
        raise changed_meanwhile(enrolment)


def changed_meanwhile(enrolment: Enrolment) -> Conflict:
    """The answer to a move that lost its race: nothing done, and how it stands now."""
    return Conflict(_("Nothing was changed: this enrolment has just become %(status)s.", status=_status_text(enrolment)))


def _move(enrolment: Enrolment, status: EnrolmentStatus, *, actor: User | None, reason: str | None = None) -> EnrolmentStatus:
    """Move the enrolment from the status it had when read to `status`, as one
    compare-and-set, then write the audit event. Returns the old status. When another
    request moved it first, nothing is written and Conflict says how it stands now."""
    old = enrolment.status
    now = utcnow()
    values: dict[str, object] = {"status": status}
    if status is S.WAITLISTED:
        values["waitlisted_at"] = now
    if actor is not None and actor.id != enrolment.user_id:
        values.update(decided_by_id=actor.id, decided_at=now)
    if reason is not None:
        values["decision_reason"] = reason
    if not compare_and_set(enrolment, Enrolment.status == old, **values):
        raise changed_meanwhile(enrolment)
    record(
        f"enrolment.{status.value}", enrolment, actor=actor,
        course=enrolment.course.slug, user=enrolment.user_id, old=old.value if old else None, reason=reason,
    )
    return old


def _place_lost(enrolment: Enrolment) -> None:
    """The enrolment no longer holds a place: free it, and whatever hangs on it (the
    session places of a site visit, through the signal)."""
    release_seat(enrolment.course_id)
    signals.place_lost.send(enrolment)


def _accept_or_waitlist(enrolment: Enrolment, *, actor: User | None) -> EnrolmentStatus:
    """Give the enrolment a place if one is free, else put it on the waiting list.
    The caller has locked the course."""
    took = take_seat(enrolment.course_id)
    try:
        _move(enrolment, S.ACCEPTED if took else S.WAITLISTED, actor=actor)
    except Conflict:
        if took:
            release_seat(enrolment.course_id)
        raise
    if took:
        _notify(enrolment, "accepted")
    else:
        _notify(enrolment, "waitlisted", position=waitlist_position(enrolment))
    return enrolment.status


# --- moves --------------------------------------------------------------------------

def enrol(course_id: int, user: User, *, motivation: str = "", answers: dict | None = None,
          now: dt.datetime | None = None) -> Enrolment:
    """Enrol (open mode) or apply (approval mode). Safe under any concurrency."""
    require_verified(user)
    course = _load_course_for_enrolment(course_id)
    window = enrolment_window(course, now)
    if not window.open:
        raise EnrolmentError(str(window.reason))
    lock_course(course.id)
    existing = get_enrolment(course.id, user.id)
    if existing is not None:
        if existing.status in ACTIVE or existing.status in HOLDS_PLACE:
            raise Conflict(_("You are already enrolled in this activity (%(status)s).", status=_status_text(existing)))
        if existing.status is not S.WITHDRAWN:
            raise EnrolmentError(_("You cannot enrol in this activity again. Please contact the organisers."))
        # Re-enrolling after a withdrawal reuses the row; claimed conditionally so that
        # two tabs cannot both re-enrol.
        if not compare_and_set(existing, Enrolment.status == S.WITHDRAWN, status=S.PENDING,
                               motivation=motivation, answers=answers or {}):
            raise Conflict(_("You are already enrolled in this activity."))
        enrolment = existing
    else:
        enrolment = Enrolment(course_id=course.id, user_id=user.id, status=S.PENDING,
                              motivation=motivation, answers=answers or {})
        try:
            with db.session.begin_nested():
                db.session.add(enrolment)
                db.session.flush()
        except sa.exc.IntegrityError:
            # A double click or a second tab: the other request inserted the row first.
            raise Conflict(_("You are already enrolled in this activity.")) from None
    enrolment.course = course
    enrolment.user = user
    if course.enrolment_mode is EnrolmentMode.APPROVAL:
        _move(enrolment, S.PENDING, actor=user)
        _notify(enrolment, "received")
    else:
        _accept_or_waitlist(enrolment, actor=user)
    return enrolment


def withdraw(enrolment: Enrolment, user: User, *, now: dt.datetime | None = None) -> None:
    """The participant leaves, before the withdrawal deadline."""
    if enrolment.user_id != user.id:
        raise NotFound(_("This enrolment does not exist."))
    _lock(enrolment)
    if enrolment.status is S.WITHDRAWN:
        raise Conflict(_("You have already withdrawn from this activity."))
    if enrolment.status not in ACTIVE:
        raise _refusal(enrolment, _("There is nothing to withdraw from: %(status)s.", status=_status_text(enrolment)))
    if not can_withdraw(enrolment, now):
        raise EnrolmentError(_("The withdrawal deadline has passed. Please contact the organisers."))
    old = _move(enrolment, S.WITHDRAWN, actor=user)
    _notify(enrolment, "withdrawn")
    if old in HOLDS_PLACE:
        _place_lost(enrolment)
        promote_waitlist(enrolment.course_id)


def _refusal(enrolment: Enrolment, message: str) -> DomainError:
    """A move that is no longer possible: a conflict when the enrolment was just decided
    or closed (someone got there first), else the rule's plain refusal."""
    if enrolment.status in DECIDED:
        return Conflict(message)
    return EnrolmentError(message)


def approve(enrolment: Enrolment, actor: User, *, seen: EnrolmentStatus | None = None) -> EnrolmentStatus:
    """Staff accept an application: a place if one is free, else the waiting list."""
    _lock(enrolment, seen)
    if enrolment.status is not S.PENDING:
        raise _refusal(enrolment, _("Only applications under review can be approved; this one is %(status)s.",
                                    status=_status_text(enrolment)))
    return _accept_or_waitlist(enrolment, actor=actor)


def _close_with_reason(enrolment: Enrolment, status: EnrolmentStatus, allowed: tuple, refusal: str,
                       actor: User | None, reason: str, *, promote: bool = True,
                       seen: EnrolmentStatus | None = None) -> None:
    """Reject or cancel: check the move, require a reason, email it, free the place."""
    reason = (reason or "").strip()
    if not reason:
        raise EnrolmentError(_("Please give a reason; the participant will read it."), field="reason")
    _lock(enrolment, seen)
    if enrolment.status not in allowed:
        raise _refusal(enrolment, refusal % {"status": _status_text(enrolment)})
    old = _move(enrolment, status, actor=actor, reason=reason)
    _notify(enrolment, status.value, reason=reason)
    if old in HOLDS_PLACE:
        _place_lost(enrolment)
        if promote:
            promote_waitlist(enrolment.course_id)


def all_or_nothing(enrolments: Sequence[Enrolment], act: Callable[[Enrolment], T]) -> list[T]:
    """`act` on each enrolment, for a decision staff take on several at once: the first
    refusal raises again naming whose it was, with its status (a 409 stays a 409: someone
    decided meanwhile), and the caller rolls every move back."""
    results = []
    for enrolment in enrolments:
        try:
            results.append(act(enrolment))
        except DomainError as error:
            refusal = DomainError(_("Nothing was changed: %(name)s — %(reason)s",
                                    name=enrolment.user.full_name, reason=error.message))
            refusal.status_code = error.status_code
            raise refusal from error
    return results


def decide_applications(enrolments: Sequence[Enrolment], actor: User, *, approving: bool,
                        reason: str = "") -> list[EnrolmentStatus]:
    """Approve or reject several applications under review, all or nothing; each one's
    new status (an approval on a full course goes to the waiting list). Only applications
    under review can be ticked, so each is decided as seen pending."""
    if approving:
        return all_or_nothing(enrolments, lambda e: approve(e, actor, seen=S.PENDING))
    all_or_nothing(enrolments, lambda e: reject(e, actor, reason, seen=S.PENDING))
    return [S.REJECTED] * len(enrolments)


def reject(enrolment: Enrolment, actor: User, reason: str, *, seen: EnrolmentStatus | None = None) -> None:
    """Staff turn down an application (or take back a place, which then frees)."""
    _close_with_reason(enrolment, S.REJECTED, (S.PENDING, S.WAITLISTED, S.ACCEPTED),
                       _("This enrolment cannot be rejected: %(status)s."), actor, reason, seen=seen)


def cancel(enrolment: Enrolment, actor: User | None, reason: str, *, promote: bool = True,
           seen: EnrolmentStatus | None = None) -> None:
    """Staff cancel an active enrolment, with a reason."""
    _close_with_reason(enrolment, S.CANCELLED, ACTIVE, _("This enrolment cannot be cancelled: %(status)s."),
                       actor, reason, promote=promote, seen=seen)


def move_to_waitlist(enrolment: Enrolment, actor: User, *, seen: EnrolmentStatus | None = None) -> None:
    """Staff put an application on the waiting list instead of deciding now."""
    _lock(enrolment, seen)
    if enrolment.status is not S.PENDING:
        raise _refusal(enrolment, _("Only applications under review can be moved to the waiting list; this one is "
                                    "%(status)s.", status=_status_text(enrolment)))
    _move(enrolment, S.WAITLISTED, actor=actor)
    _notify(enrolment, "waitlisted", position=waitlist_position(enrolment))


def promote_waitlist(course_id: int) -> list[Enrolment]:
    """Fill free places from the waiting list, first in first promoted."""
    lock_course(course_id)
    promoted: list[Enrolment] = []
    while True:
        candidate = db.session.scalar(
            sa.select(Enrolment)
            .where(Enrolment.course_id == course_id, Enrolment.status == S.WAITLISTED)
            .order_by(Enrolment.waitlisted_at, Enrolment.id)
            .limit(1)
        )
        if candidate is None or not take_seat(course_id):
            break
        # Conditional: two transactions promoting at once never accept the same person twice.
        if not compare_and_set(candidate, Enrolment.status == S.WAITLISTED, status=S.ACCEPTED):
            release_seat(course_id)
            continue
        record("enrolment.promoted", candidate, course=candidate.course.slug, user=candidate.user_id)
        _notify(candidate, "promoted")
        promoted.append(candidate)
    return promoted


def add_participant(course_id: int, email: str, actor: User) -> Enrolment:
    """Staff enrol someone who already has an account: a place if free, else the waiting list."""
    from app.accounts.services import find_user_by_email

    course = _load_course_for_enrolment(course_id)
    if course.status is not CourseStatus.PUBLISHED:
        raise EnrolmentError(_("Participants can only be added to a published activity."))
    user = find_user_by_email(email)
    if user is None:
        raise EnrolmentError(_("There is no account with this email. Ask the person to register first."), field="email")
    require_verified(user, own=False)
    lock_course(course.id)
    existing = get_enrolment(course.id, user.id)
    if existing is not None and existing.status not in CLOSED:
        raise Conflict(_("%(name)s is already enrolled (%(status)s).", name=user.full_name, status=_status_text(existing)))
    if existing is None:
        enrolment = Enrolment(course_id=course.id, user_id=user.id, status=S.PENDING)
        try:
            with db.session.begin_nested():
                db.session.add(enrolment)
                db.session.flush()
        except sa.exc.IntegrityError:
            raise Conflict(_("%(name)s is already enrolled.", name=user.full_name)) from None
    else:
        enrolment = existing
        if not compare_and_set(enrolment, Enrolment.status == existing.status, status=S.PENDING, decision_reason=None):
            raise Conflict(_("%(name)s is already enrolled (%(status)s).", name=user.full_name,
                             status=_status_text(enrolment)))
    enrolment.course = course
    enrolment.user = user
    record("enrolment.added_by_staff", enrolment, actor=actor, course=course.slug, user=user.id)
    _accept_or_waitlist(enrolment, actor=actor)
    return enrolment


def cancel_course(course: Course, actor: User, reason: str) -> int:
    """Cancel a course: every active enrolment is cancelled and emailed. Returns how many."""
    reason = (reason or "").strip()
    if not reason:
        raise EnrolmentError(_("Please give a reason; the participants will read it."), field="reason")
    lock_course(course.id)
    if not compare_and_set(course, Course.status != CourseStatus.CANCELLED, status=CourseStatus.CANCELLED):
        raise Conflict(_("This activity is already cancelled."))
    enrolments = db.session.scalars(
        sa.select(Enrolment)
        .where(Enrolment.course_id == course.id, Enrolment.status.in_(ACTIVE))
        .options(so.joinedload(Enrolment.user))
    ).all()
    for enrolment in enrolments:
        cancel(enrolment, actor, reason, promote=False)
    record("course.cancelled", course, actor=actor, reason=reason, enrolments=len(enrolments))
    return len(enrolments)


def _status_text(enrolment: Enrolment) -> str:
    from app.core.labels import label

    return label(enrolment.status)


@catalogue_signals.capacity_changed.connect
def _fill_new_places(course: Course) -> None:
    """A course's capacity changed: places it freed go to the waiting list, first in first."""
    promote_waitlist(course.id)
