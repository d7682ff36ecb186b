"""Who teaches a course and in which cohort: staff (lead, instructor, assistant, bound to
one cohort or not) and cohorts (create, rename, delete when unused, assign, balance).
Nothing here commits: the caller owns the transaction."""
from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _
from flask_babel import ngettext

from app.accounts.models import Role, User
from app.accounts.services import require_verified
from app.audit.services import record
from app.catalogue.models import Course
from app.catalogue.seats import lock_course
from app.catalogue.services import has_ended
from app.core.cas import changed_rows, compare_and_set
from app.core.errors import Conflict, NotFound
from app.enrolment.models import HOLDS_PLACE, Enrolment
from app.extensions import db
from app.schedule.models import CourseSession, SessionStatus
from app.teaching.models import Cohort, CourseStaff, StaffRole
from app.teaching.services import TeachingError

# --- staff ----------------------------------------------------------------------------

def add_staff(course: Course, email: str, role: StaffRole, cohort_id: int | None, actor: User) -> CourseStaff:
    from app.accounts.services import find_user_by_email

    user = find_user_by_email(email)
    if user is None:
        raise TeachingError(_("There is no account with this email. Ask the person to register first."), field="email")
    require_verified(user, own=False)
    if cohort_id is not None and db.session.scalar(
            sa.select(Cohort.id).where(Cohort.id == cohort_id, Cohort.course_id == course.id)) is None:
        raise NotFound(_("Unknown cohort."))
    existing = db.session.scalar(sa.select(CourseStaff).where(CourseStaff.course_id == course.id, CourseStaff.user_id == user.id))
    if existing is not None:
        raise Conflict(_("%(name)s is already on the staff of this course.", name=user.full_name))
    staff = CourseStaff(course_id=course.id, user_id=user.id, role=role, cohort_id=cohort_id)
    db.session.add(staff)
    if user.role is Role.PARTICIPANT:
        user.role = Role.INSTRUCTOR  # staff need the instructor's area
    db.session.flush()
    record("course_staff.added", course, actor=actor, user=user.id, role=role.value, cohort=cohort_id)
    return staff


def instructor_choices(course: Course, actor: User) -> list[tuple[User, bool]]:
    """Whom a session form offers, as (person, already on the staff): the course staff,
    and for an admin every instructor too (choosing one adds them to the staff)."""
    staff = [s.user for s in db.session.scalars(
        sa.select(CourseStaff).where(CourseStaff.course_id == course.id).order_by(CourseStaff.role, CourseStaff.id)
        .options(so.joinedload(CourseStaff.user)))]
    offered = [(user, True) for user in staff]
    if actor.is_admin:
        known = {user.id for user in staff}
        offered += [(user, False) for user in db.session.scalars(
            sa.select(User).where(User.role == Role.INSTRUCTOR, User.is_active_account.is_(True)).order_by(User.full_name))
            if user.id not in known]
    return offered


def join_staff_to_teach(course: Course, user_ids: list[int], actor: User) -> None:
    """Instructors chosen for a session who are not on the course staff join it as
    instructors. Only an admin may choose them; anyone else's choice is unknown (404)."""
    on_staff = set(db.session.scalars(sa.select(CourseStaff.user_id).where(CourseStaff.course_id == course.id)))
    missing = sorted(set(user_ids) - on_staff)
    if not missing:
        return
    if not actor.is_admin:
        raise NotFound(_("Unknown instructor."))
    users = db.session.scalars(sa.select(User).where(User.id.in_(missing), User.role == Role.INSTRUCTOR)).all()
    if len(users) != len(missing):
        raise NotFound(_("Unknown instructor."))
    for user in users:
        require_verified(user, own=False)
    for user in users:
        try:
            with db.session.begin_nested():  # another admin may add them at the same moment
                db.session.add(CourseStaff(course_id=course.id, user_id=user.id, role=StaffRole.INSTRUCTOR))
        except sa.exc.IntegrityError:
            continue
        record("course_staff.added", course, actor=actor, user=user.id, role=StaffRole.INSTRUCTOR.value, cohort=None)


def remove_staff(staff: CourseStaff, actor: User) -> None:
    """Take someone off a course's staff; never the last lead of an activity not yet
    ended (as erasure refuses: someone must be in charge). The course row is locked
    first, so that two admins removing its two leads at once cannot both find the other
    one still there; the row's deletion decides a double click."""
    lock_course(staff.course_id)
    if staff.role is StaffRole.LEAD and not has_ended(staff.course) and not db.session.scalar(
            sa.select(CourseStaff.id).join(User, User.id == CourseStaff.user_id).where(  # an erased lead leads nothing
                CourseStaff.course_id == staff.course_id, CourseStaff.role == StaffRole.LEAD, CourseStaff.id != staff.id,
                ~User.is_erased_sql()).limit(1)):
        raise TeachingError(_("%(name)s is the only lead instructor of this activity: add another lead first.",
                              name=staff.user.display_name))
    if changed_rows(sa.delete(CourseStaff).where(CourseStaff.id == staff.id)) != 1:
        raise NotFound(_("This person is no longer on the staff of this course."))
    record("course_staff.removed", staff.course, actor=actor, user=staff.user_id, role=staff.role.value)


# --- cohorts --------------------------------------------------------------------------

def save_cohort(course: Course, cohort: Cohort | None, name: str, actor: User) -> Cohort:
    name = (name or "").strip()
    if not name:
        raise TeachingError(_("A cohort needs a name."), field="name")
    clash = db.session.scalar(sa.select(Cohort.id).where(
        Cohort.course_id == course.id, sa.func.lower(Cohort.name) == name.lower(), Cohort.id != (cohort.id if cohort else 0)))
    if clash:
        raise Conflict(_("This course already has a cohort with that name."), field="name")
    if cohort is not None:
        try:
            with db.session.begin_nested():  # the unique (course, lower(name)) decides between two renames
                renamed = compare_and_set(cohort, Cohort.name != name, name=name)
        except sa.exc.IntegrityError:
            raise Conflict(_("This course already has a cohort with that name."), field="name") from None
        if renamed:
            record("cohort.renamed", cohort, actor=actor, name=name)
        return cohort  # unchanged when it was already so named (a twin request): nothing recorded
    cohort = Cohort(course_id=course.id, name=name)
    try:
        with db.session.begin_nested():  # the unique (course, name) lets one of two twins create it
            db.session.add(cohort)
            db.session.flush()
    except sa.exc.IntegrityError:
        raise Conflict(_("This course already has a cohort with that name."), field="name") from None
    record("cohort.created", cohort, actor=actor, name=name)
    return cohort


def delete_cohort(cohort: Cohort, actor: User) -> None:
    """Delete an empty cohort. Refused while people, sessions or staff belong to it:
    deleting the cohort of someone bound to it must never widen their access."""
    counts = _cohort_use(cohort.id)
    if any(counts.values()):
        parts = [text for n, text in (
            (counts["members"], ngettext("%(num)d participant", "%(num)d participants", counts["members"])),
            (counts["sessions"], ngettext("%(num)d scheduled session", "%(num)d scheduled sessions", counts["sessions"])),
            (counts["staff"], ngettext("%(num)d staff member bound to it", "%(num)d staff members bound to it",
                                       counts["staff"]))) if n]
        raise TeachingError(_("Only an empty cohort can be deleted; it still has %(what)s.", what=", ".join(parts)))
    # Conditional on still being empty, so that a move into it meanwhile wins.
    course, cohort_id, name = cohort.course, cohort.id, cohort.name
    if changed_rows(sa.delete(Cohort).where(Cohort.id == cohort_id, *_empty(Cohort.id))) != 1:
        raise Conflict(_("This cohort has just changed; look again before deleting it."))
    db.session.expunge(cohort)
    record("cohort.deleted", course, actor=actor, cohort=cohort_id, name=name)


# What keeps a cohort from being deleted: people holding a place in it, sessions still
# scheduled for it, staff bound to it. (A cancelled enrolment or session keeps no one;
# the database sets its cohort to none.)
def _in_use(cohort_id: sa.ColumnElement | so.InstrumentedAttribute | int) -> dict[str, sa.ColumnElement[bool]]:
    return {
        "members": sa.and_(Enrolment.cohort_id == cohort_id, Enrolment.status.in_(HOLDS_PLACE)),
        "sessions": sa.and_(CourseSession.cohort_id == cohort_id, CourseSession.status == SessionStatus.SCHEDULED),
        "staff": CourseStaff.cohort_id == cohort_id,
    }


def _cohort_use(cohort_id: int) -> dict[str, int]:
    return {name: db.session.scalar(sa.select(sa.func.count()).where(clause)) or 0
            for name, clause in _in_use(cohort_id).items()}


def _empty(cohort_id: sa.ColumnElement | so.InstrumentedAttribute) -> list[sa.ColumnElement[bool]]:
    return [~sa.exists().where(clause) for clause in _in_use(cohort_id).values()]


def _move_to_cohort(enrolment_ids: list[int], cohort_id: int | None) -> list[int]:
    """Put enrolments in a cohort with one conditional UPDATE each, skipping those
    already there; returns the ids this call moved (a twin request moves nobody twice)."""
    moved = []
    for enrolment_id in enrolment_ids:
        if changed_rows(sa.update(Enrolment).where(
                Enrolment.id == enrolment_id, Enrolment.status.in_(HOLDS_PLACE),
                Enrolment.cohort_id.is_distinct_from(cohort_id)).values(cohort_id=cohort_id)) == 1:
            moved.append(enrolment_id)
    return moved


def assign_cohort(course: Course, enrolment_ids: list[int], cohort_id: int | None, actor: User) -> int:
    """Move accepted participants into a cohort (or out of every cohort). Returns how
    many moved; those already there are left alone and not audited again."""
    if cohort_id is not None and db.session.scalar(
            sa.select(Cohort.id).where(Cohort.id == cohort_id, Cohort.course_id == course.id)) is None:
        raise NotFound(_("Unknown cohort."))
    enrolments = db.session.scalars(sa.select(Enrolment).where(
        Enrolment.course_id == course.id, Enrolment.id.in_(enrolment_ids or [0]))).all()
    if len(enrolments) != len(set(enrolment_ids)):
        raise NotFound(_("This enrolment does not exist."))
    if any(not e.holds_place for e in enrolments):
        raise TeachingError(_("Only accepted participants can be put in a cohort."))
    moved = _move_to_cohort(sorted(set(enrolment_ids)), cohort_id)
    if moved:
        record("cohort.assigned", course, actor=actor, cohort=cohort_id, enrolments=moved)
    return len(moved)


def balance_cohorts(course: Course, actor: User, *, by_country: bool = False) -> dict[int, int]:
    """Spread accepted participants over the course's cohorts in even sizes; with
    `by_country`, people of one country stay together where sizes allow."""
    cohorts = db.session.scalars(sa.select(Cohort).where(Cohort.course_id == course.id).order_by(Cohort.id)).all()
    if not cohorts:
        raise TeachingError(_("Create the cohorts first."))
    people = db.session.execute(
        sa.select(Enrolment.id, User.country).join(User, User.id == Enrolment.user_id)
        .where(Enrolment.course_id == course.id, Enrolment.status.in_(HOLDS_PLACE))
        .order_by(Enrolment.created_at, Enrolment.id)
    ).all()
    n, k = len(people), len(cohorts)
    sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
    if by_country:
        groups: dict[str, list[int]] = defaultdict(list)
        for enrolment_id, country in people:
            groups[country or ""].append(enrolment_id)
        ordered = [e for _country, members in sorted(groups.items(), key=lambda g: (-len(g[1]), g[0])) for e in members]
    else:
        ordered = [enrolment_id for enrolment_id, _country in people]
    counts, moved, i = {}, 0, 0
    for cohort, size in zip(cohorts, sizes, strict=True):
        moved += len(_move_to_cohort(ordered[i:i + size], cohort.id))
        counts[cohort.id] = size
        i += size
    if moved:
        record("cohort.balanced", course, actor=actor, by_country=by_country, sizes=counts, moved=moved)
    return counts
