"""Catalogue queries: what the public may see, and the filters of /courses and the API."""
from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import has_request_context, request
from flask_babel import gettext as _

from app.accounts.models import User
from app.audit.services import record
from app.catalogue import signals
from app.catalogue.models import Course, CourseKind, CourseStatus, Programme
from app.catalogue.seats import lock_course, refresh_counts
from app.core.cas import compare_and_set, rowcount
from app.core.db import contains
from app.core.errors import Conflict, DomainError
from app.core.timeline import CALENDAR_YEARS
from app.core.timezones import is_valid_zone, local_date, zone
from app.core.types import utcnow
from app.extensions import db


class FilterError(ValueError):
    """A filter value that cannot be understood (answered with 400)."""


def public_courses(loader=so.joinedload) -> sa.Select:  # noqa: ANN001 - a loader option
    """Published (and cancelled, so people learn of it) courses; never drafts or archives.

    Lists pass `so.selectinload`: a page of rows then reads its programmes and venues by
    key, instead of joining every candidate row before the sort (the archive at ten years:
    18 → 1 ms on SQLite)."""
    return (
        sa.select(Course)
        .where(Course.status.in_((CourseStatus.PUBLISHED, CourseStatus.CANCELLED)))
        .options(loader(Course.programme), loader(Course.venue))
    )


def not_ended(now: dt.datetime) -> sa.ColumnElement[bool]:
    """The course's last day is not over in its own zone (DESIGN.md rule 3), as an SQL
    condition, so that "not ended yet" means the same in a query as on the course page.

    Every zone's date lies within a day of the UTC date, so a course that ended before
    yesterday (UTC) has ended everywhere: the first, plain bound lets the database read
    only recent and coming courses through the `ends_on` index, however many years of
    history lie behind them; a CASE over the zones of those few courses decides the rest."""
    earliest = now.date() - dt.timedelta(days=1)
    zones = _zones_of_courses_ending_from(earliest)
    if not zones:
        return Course.ends_on >= earliest
    today = sa.case({z: sa.literal(local_date(now, z), sa.Date) for z in zones}, value=Course.timezone,
                    else_=sa.literal(now.date(), sa.Date))
    return sa.and_(Course.ends_on >= earliest, Course.ends_on >= today)


def _zones_of_courses_ending_from(day: dt.date) -> list[str]:
    """The zones of courses ending on `day` or later: one query a request (kept on it)."""
    memo = {}
    if has_request_context():
        memo = request.__dict__.setdefault("ponte_course_zones", {})
    if day not in memo:
        memo[day] = db.session.scalars(sa.select(Course.timezone).where(Course.ends_on >= day).distinct()).all()
    return memo[day]


def has_ended(course: Course, now: dt.datetime | None = None) -> bool:
    """The course's last day is over in its own zone."""
    return course.ends_on < local_date(now or utcnow(), course.timezone)


def upcoming_courses(limit: int | None = None, now: dt.datetime | None = None) -> sa.Select:
    now = now or utcnow()
    stmt = (
        public_courses()
        .where(Course.status == CourseStatus.PUBLISHED, not_ended(now))
        .order_by(Course.starts_on, Course.id)
    )
    return stmt.limit(limit) if limit else stmt


def open_now_clause(now: dt.datetime) -> sa.ColumnElement[bool]:
    return sa.and_(
        Course.status == CourseStatus.PUBLISHED,
        not_ended(now),
        sa.or_(Course.enrolment_opens_at.is_(None), Course.enrolment_opens_at <= now),
        sa.or_(Course.enrolment_closes_at.is_(None), Course.enrolment_closes_at > now),
    )


@dataclass(frozen=True)
class Window:
    """Whether people may enrol now; if not, why (a sentence) and a short badge. Cards,
    course pages, the enrolment panel and the API all read this one rule."""
    open: bool
    reason: str | None = None
    badge: str | None = None


def enrolment_window(course: Course, now: dt.datetime | None = None) -> Window:
    """Whether people may enrol now, and if not, why (already translated)."""
    now = now or utcnow()
    if course.status is CourseStatus.CANCELLED:
        return Window(False, _("This activity has been cancelled."), _("Cancelled"))
    if course.status is not CourseStatus.PUBLISHED:
        return Window(False, _("This activity is not open for enrolment."), _("Not open for enrolment"))
    if has_ended(course, now):
        return Window(False, _("This activity has already ended."), _("Ended"))
    if course.enrolment_opens_at and now < course.enrolment_opens_at:
        return Window(False, _("Enrolment has not opened yet."), _("Enrolment not open yet"))
    if course.enrolment_closes_at and now >= course.enrolment_closes_at:
        return Window(False, _("Enrolment is closed."), _("Enrolment closed"))
    return Window(True)


def enrolment_open(course: Course, now: dt.datetime | None = None) -> bool:
    return enrolment_window(course, now).open


@dataclass
class CourseFilters:
    q: str = ""
    kind: str = ""
    programme: str = ""
    place: str = ""  # a city, or "online"
    language: str = ""
    month: str = ""  # YYYY-MM
    open_now: bool = False
    include_past: bool = False

    @classmethod
    def from_args(cls, args) -> CourseFilters:  # noqa: ANN001 - a MultiDict
        def get(name: str, limit: int = 100) -> str:
            return (args.get(name) or "").strip()[:limit]

        return cls(
            q=get("q"), kind=get("kind", 30), programme=get("programme", 80), place=get("place"),
            language=get("language", 5), month=get("month", 7),
            open_now=get("open", 5) in {"1", "true", "yes", "on"}, include_past=get("past", 5) in {"1", "true"},
        )

    def as_args(self) -> dict[str, str]:
        out = {k: v for k, v in (("q", self.q), ("kind", self.kind), ("programme", self.programme),
                                  ("place", self.place), ("language", self.language), ("month", self.month)) if v}
        if self.open_now:
            out["open"] = "1"
        if self.include_past:
            out["past"] = "1"
        return out


def filtered_courses(f: CourseFilters, now: dt.datetime | None = None) -> sa.Select:
    now = now or utcnow()
    stmt = public_courses(so.selectinload)
    if not f.include_past and not f.open_now:  # open now includes not ended
        stmt = stmt.where(not_ended(now))
    if f.q:
        like = contains(f.q)
        stmt = stmt.where(sa.or_(
            sa.func.lower(Course.title).like(like, escape="\\"),
            sa.func.lower(Course.summary).like(like, escape="\\"),
            sa.func.lower(Course.description).like(like, escape="\\"),
        ))
    if f.kind:
        try:
            stmt = stmt.where(Course.kind == CourseKind(f.kind))
        except ValueError:
            raise FilterError(f"unknown kind {f.kind!r}") from None
    if f.programme:
        stmt = stmt.where(Course.programme.has(Programme.slug == f.programme))
    if f.place == "online":
        stmt = stmt.where(Course.is_online.is_(True))
    elif f.place:
        stmt = stmt.where(sa.func.lower(Course.city) == f.place.lower())
    if f.language:
        stmt = stmt.where(Course.language == f.language)
    if f.month:
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", f.month):
            raise FilterError(f"month must be YYYY-MM, not {f.month!r}")
        year, month = int(f.month[:4]), int(f.month[5:])
        if year not in CALENDAR_YEARS:
            raise FilterError(f"month must be between {CALENDAR_YEARS.start} and {CALENDAR_YEARS.stop - 1}, not {f.month!r}")
        first = dt.date(year, month, 1)
        last = dt.date(year, month, calendar.monthrange(year, month)[1])
        stmt = stmt.where(Course.starts_on <= last, Course.ends_on >= first)
    if f.open_now:
        stmt = stmt.where(open_now_clause(now))
    if f.include_past:  # the archive reads newest first
        return stmt.order_by(Course.starts_on.desc(), Course.id.desc())
    return stmt.order_by(Course.starts_on, Course.id)


def filter_choices(include_past: bool = False, now: dt.datetime | None = None) -> dict[str, list[tuple[str, str]]]:
    """Programmes and cities of the public courses listed (those not ended, unless the
    past is included): two queries, whatever the rows."""
    listed: sa.ColumnElement[bool] = Course.status.in_((CourseStatus.PUBLISHED, CourseStatus.CANCELLED))
    if not include_past:
        listed = sa.and_(listed, not_ended(now or utcnow()))
    # Coming courses are few: collect their programmes. The archive is all of history: ask
    # each programme (a few dozen) whether it has one, through the programme's index.
    has_listed = (sa.exists().where(Course.programme_id == Programme.id, listed) if include_past
                  else Programme.id.in_(sa.select(Course.programme_id).where(listed)))
    programmes = db.session.execute(
        sa.select(Programme.slug, Programme.title).where(has_listed).order_by(Programme.title)
    ).all()
    cities = db.session.scalars(
        sa.select(Course.city).where(listed, Course.city.is_not(None), Course.is_online.is_(False))
        .distinct().order_by(Course.city)
    ).all()
    return {"programmes": [tuple(p) for p in programmes], "cities": [(c, c) for c in cities if c]}


# --- administration -----------------------------------------------------------------

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:70] or "course"


def save_programme(programme: Programme | None, *, title: str, slug: str, description: str, actor,  # noqa: ANN001
                   funding_statement: str = "", logo: bytes | None = None, remove_logo: bool = False) -> Programme:
    """Create or edit a programme. The funding statement and logo (checked by the form:
    PNG or JPEG, at most 1 MB) print on the attendance and participants lists."""
    slug = slug or slugify(title)
    if not SLUG_RE.match(slug):
        raise DomainError(_("Use lower-case letters, digits and hyphens only."), field="slug")
    if db.session.scalar(sa.select(Programme.id).where(Programme.slug == slug, Programme.id != (programme.id if programme else 0))):
        raise DomainError(_("Another programme already uses this address."), field="slug")
    created = programme is None
    programme = programme or Programme()
    programme.title, programme.slug, programme.description = title, slug, description or ""
    programme.funding_statement = funding_statement or ""
    if remove_logo:
        programme.funding_logo = None
    elif logo is not None:
        programme.funding_logo = logo
    db.session.add(programme)
    db.session.flush()
    record("programme.created" if created else "programme.updated", programme, actor=actor)
    return programme


COURSE_FIELDS = (
    "title", "slug", "summary", "description", "kind", "programme_id", "language", "venue_id", "is_online", "train_the_trainer", "city",
    "country", "timezone", "starts_on", "ends_on", "enrolment_mode", "application_questions", "enrolment_opens_at",
    "enrolment_closes_at", "withdrawal_deadline",
)


def save_course(course: Course | None, fields: dict, actor) -> Course:  # noqa: ANN001
    """Create or edit a course's fields (capacity aside: `edit_course` sets both).

    Rules: the end is not before the start; the enrolment window opens before it
    closes and closes before the course ends; the slug is unique; the zone is known.
    """

    unknown = set(fields) - set(COURSE_FIELDS) - {"capacity"}
    if unknown:
        raise ValueError(f"unknown course fields {unknown}")
    if not is_valid_zone(fields["timezone"]):
        raise DomainError(_("Unknown time zone."), field="timezone")
    if fields["ends_on"] < fields["starts_on"]:
        raise DomainError(_("The course cannot end before it starts."), field="ends_on")
    end_of_course = dt.datetime.combine(fields["ends_on"] + dt.timedelta(days=1), dt.time(0), zone(fields["timezone"]))
    opens, closes = fields.get("enrolment_opens_at"), fields.get("enrolment_closes_at")
    if opens and closes and closes <= opens:
        raise DomainError(_("Enrolment must open before it closes."), field="enrolment_closes_at")
    if closes and closes > end_of_course:
        raise DomainError(_("Enrolment must close before the course ends."), field="enrolment_closes_at")
    deadline = fields.get("withdrawal_deadline")
    if deadline and deadline > end_of_course:
        raise DomainError(_("The withdrawal deadline must be before the course ends."), field="withdrawal_deadline")
    slug = fields.get("slug") or slugify(fields["title"])
    if not SLUG_RE.match(slug):
        raise DomainError(_("Use lower-case letters, digits and hyphens only."), field="slug")
    if db.session.scalar(sa.select(Course.id).where(Course.slug == slug, Course.id != (course.id if course else 0))):
        raise DomainError(_("Another course already uses this address."), field="slug")
    fields = dict(fields, slug=slug)
    created = course is None
    if course is None:
        course = Course(status=CourseStatus.DRAFT, capacity=fields.get("capacity"))
        db.session.add(course)
    changed = [name for name in COURSE_FIELDS if name in fields and getattr(course, name, None) != fields[name]]
    for name in changed:
        setattr(course, name, fields[name])
    db.session.flush()
    record("course.created" if created else "course.updated", course, actor=actor, fields=changed)
    return course


def edit_course(course: Course | None, fields: dict, actor: User) -> Course:
    """Save a course's fields and its capacity (which may promote the waiting list)."""
    capacity = fields.pop("capacity", None)
    if capacity is not None and capacity < 0:
        raise DomainError(_("The capacity cannot be negative."), field="capacity")
    created = course is None
    course = save_course(course, fields, actor)
    if created:
        course.capacity = capacity
        db.session.flush()
    else:
        change_capacity(course, capacity, actor)
    return course


def change_capacity(course: Course, capacity: int | None, actor: User) -> None:
    """Set a new capacity; never below the places taken. Raising it promotes the waiting
    list: enrolment listens to `signals.capacity_changed`, sent in this transaction."""
    lock_course(course.id)
    refresh_counts(course)
    if capacity is not None and capacity < course.seats_taken:
        raise DomainError(
            _("The capacity cannot be lower than the %(taken)d places already taken.", taken=course.seats_taken),
            field="capacity",
        )
    old = course.capacity
    if old == capacity:
        return
    # Conditional again: a place taken meanwhile makes this fail instead of breaking the check.
    stmt = sa.update(Course).where(Course.id == course.id)
    if capacity is not None:
        stmt = stmt.where(Course.seats_taken <= capacity)
    result = db.session.execute(stmt.values(capacity=capacity).execution_options(synchronize_session=False))
    if rowcount(result) != 1:
        raise DomainError(_("Places were taken meanwhile; please try again."), field="capacity")
    refresh_counts(course)
    record("course.capacity_changed", course, actor=actor, old=old, new=capacity)
    signals.capacity_changed.send(course)


def publish_course(course: Course, actor) -> None:  # noqa: ANN001
    """Draft → published, as a compare-and-set: a double click publishes (and audits) once."""
    if course.status is CourseStatus.PUBLISHED:
        raise Conflict(_("This activity is already published."))  # a second click, or a stale page
    if course.status is not CourseStatus.DRAFT:
        raise DomainError(_("Only a draft can be published."))
    if not compare_and_set(course, Course.status == CourseStatus.DRAFT, status=CourseStatus.PUBLISHED):
        raise Conflict(_("Only a draft can be published."))
    record("course.published", course, actor=actor)


def archive_course(course: Course, actor) -> None:  # noqa: ANN001
    """Archive a draft, a cancelled or an ended activity, once."""
    if course.status is CourseStatus.ARCHIVED:
        raise Conflict(_("This activity is already archived."))
    if course.status is CourseStatus.PUBLISHED and not has_ended(course):
        raise DomainError(_("A published activity can be archived once it has ended; cancel it instead."))
    if not compare_and_set(course, Course.status == course.status, status=CourseStatus.ARCHIVED):
        raise Conflict(_("This activity has just changed; look at it again."))
    record("course.archived", course, actor=actor)
