"""The periodic jobs. Each scans for due rows, is safe to run twice (or in two processes
at once), and commits once per unit of work; `run_recorded` records every run."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from app.accounts.models import PasswordResetToken
from app.catalogue.models import Course, CourseStatus
from app.core.cas import changed_rows, compare_and_set, rowcount
from app.core.db import begin_write
from app.core.timezones import local_date
from app.core.types import utcnow
from app.enrolment.models import HOLDS_PLACE, Enrolment, EnrolmentStatus
from app.enrolment.services import promote_waitlist
from app.extensions import db
from app.jobs.models import JobRun
from app.notifications.services import queue_email
from app.schedule.models import CourseSession, SessionStatus
from app.schedule.services import affected_people

REMINDER_OFFSETS = {"24h": dt.timedelta(hours=24), "1h": dt.timedelta(hours=1)}
# A reminder is sent when its moment has come, unless the session is already under way.
REMINDER_LATE_LIMIT = dt.timedelta(minutes=50)


def send_session_reminders(now: dt.datetime | None = None) -> dict[str, int]:
    """24 h and 1 h before each session, one reminder per person, offset and session time.

    The dedupe key holds the session's start, so a session moved after its reminder gets
    a fresh one at the new time, and nobody gets the same reminder twice.
    """
    now = now or utcnow()
    queued = 0
    for name, offset in REMINDER_OFFSETS.items():
        begin_write()  # SQLite: take the write lock before reading, or a second scheduler's commit fails ours
        due = db.session.scalars(
            sa.select(CourseSession)
            .where(CourseSession.status == SessionStatus.SCHEDULED,
                   CourseSession.starts_at > now,
                   CourseSession.starts_at <= now + offset,
                   CourseSession.starts_at > now + offset - REMINDER_LATE_LIMIT if name == "1h" else sa.true())
            .join(Course, Course.id == CourseSession.course_id).where(Course.status == CourseStatus.PUBLISHED)
            .options(so.joinedload(CourseSession.course), so.joinedload(CourseSession.venue),
                     so.selectinload(CourseSession.instructors))
        ).unique().all()
        for session in due:
            if name == "24h" and session.starts_at <= now + REMINDER_OFFSETS["1h"]:
                continue  # too close: the 1-hour reminder will do
            for person in affected_people(session):
                key = f"reminder:{session.id}:{person.id}:{name}:{int(session.starts_at.timestamp())}"
                # "Tomorrow" or "Today" on the recipient's own calendar, never the UTC day.
                day = "today" if local_date(session.starts_at, person.timezone) == local_date(now, person.timezone) \
                    else "tomorrow"
                message = queue_email(person, "session_reminder", dedupe_key=key, session=session, course=session.course,
                                      tz=person.timezone, offset=name, day=day,
                                      attachment=("session_ics", f"{session.id}:{person.id}"))
                if message is not None:
                    queued += 1
            db.session.commit()
    return {"queued": queued}


def auto_issue_certificates(now: dt.datetime | None = None) -> dict[str, int]:
    """Courses that ended at least N days ago (in their own zone) and ask for it: issue
    what is due, thank those who completed (once), and mark the course done so that it
    is not scanned again (recording completion later clears the mark)."""
    from app.certificates.services import completion_shortfalls, issue_all
    from app.teaching.services import progress_for

    now = now or utcnow()
    courses = db.session.scalars(sa.select(Course).where(
        Course.auto_issue_after_days.is_not(None), Course.auto_issued_at.is_(None),
        Course.status.in_((CourseStatus.PUBLISHED, CourseStatus.ARCHIVED)))).all()
    issued = closing = done = 0
    for course in courses:
        if course.ends_on + dt.timedelta(days=course.auto_issue_after_days or 0) > local_date(now, course.timezone):
            continue
        begin_write()
        course = db.session.get_one(Course, course.id)
        if course.auto_issued_at is not None:
            db.session.rollback()
            continue  # another scheduler finished it meanwhile
        n, _considered = issue_all(course, None)
        issued += n
        took_part = db.session.scalars(sa.select(Enrolment).where(
            Enrolment.course_id == course.id, Enrolment.status.in_(HOLDS_PLACE))
            .options(so.joinedload(Enrolment.user))).all()
        progress = progress_for(course, took_part, now)
        for e in took_part:
            # congratulations only for those who met the completion rule; thanks to the others who came
            completed = not completion_shortfalls(e, progress[e.id])
            if not completed and progress[e.id].attended_hours <= 0:
                continue
            if queue_email(e.user, "course_closing", course=course, completed=completed,
                           dedupe_key=f"closing:{course.id}:{e.user_id}"):
                closing += 1
        done += compare_and_set(course, Course.auto_issued_at.is_(None), auto_issued_at=now)
        db.session.commit()
    return {"issued": issued, "closing_emails": closing, "courses_done": done}


def promote_waitlists() -> dict[str, int]:
    """Safety net: a course with free places and people waiting promotes them."""
    candidates = db.session.scalars(
        sa.select(Course.id).where(
            Course.status == CourseStatus.PUBLISHED,
            sa.or_(Course.capacity.is_(None), Course.seats_taken < Course.capacity),
            sa.exists().where(Enrolment.course_id == Course.id, Enrolment.status == EnrolmentStatus.WAITLISTED),
        )).all()
    promoted = 0
    for course_id in candidates:
        begin_write()
        promoted += len(promote_waitlist(course_id))
        db.session.commit()
    return {"promoted": promoted}


def expire_reset_tokens(now: dt.datetime | None = None) -> dict[str, int]:
    now = now or utcnow()
    result = db.session.execute(sa.delete(PasswordResetToken).where(sa.or_(
        PasswordResetToken.expires_at < now - dt.timedelta(days=1),
        PasswordResetToken.used_at < now - dt.timedelta(days=1))))
    db.session.commit()
    return {"deleted": rowcount(result)}


def purge_unverified_accounts(now: dt.datetime | None = None) -> dict[str, int]:
    """Delete accounts whose address was never confirmed within PONTE_UNVERIFIED_DAYS (7)."""
    from app.accounts.services import purge_unverified

    deleted = purge_unverified(now)
    db.session.commit()
    return {"deleted": deleted}


def prune_job_runs(now: dt.datetime | None = None) -> dict[str, int]:
    """Forget job runs started more than PONTE_JOB_RUN_RETENTION_DAYS days ago (default 30):
    the admin's jobs page needs the recent ones only, and the table would grow forever."""
    now = now or utcnow()
    days = current_app.config.get("PONTE_JOB_RUN_RETENTION_DAYS", 30)
    deleted = changed_rows(sa.delete(JobRun).where(JobRun.started_at < now - dt.timedelta(days=days)))
    db.session.commit()
    return {"deleted": deleted}
