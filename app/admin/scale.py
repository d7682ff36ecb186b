"""`flask seed scale --factor N`: a decade of programmes, sized by N, to measure how the
pages' cost grows with history (bench/scale.py) and to read query plans on a database
that looks like ten years of use.

At factor 1 it adds about 50 courses, 400 people, 2,000 enrolments, 500 sessions and
10,000 attendance rows; every figure grows linearly with N (100 gives 5,000 courses and
a million attendance rows). The spread is a foundation's: most activities are in the
past, a few large Summer and Winter Schools, many seminars and webinars, some running
and some upcoming, a few cancelled or archived, drafts in the future. People belong to
a few courses each, instructors lead a few a year, so a person's own pages stay the
size they are while the tables around them grow.

Rows are written with bulk INSERTs in chunks, ids assigned here (sequences are moved on
afterwards on PostgreSQL); counters such as `seats_taken` agree with the rows, so
`flask doctor` stays clean.
"""
from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field
from typing import Any, cast

import sqlalchemy as sa
from flask import current_app

from app.accounts.models import Gender, OrganisationType, Role, User
from app.accounts.passwords import hash_password
from app.catalogue.models import Course, CourseKind, CourseStatus, EnrolmentMode, Programme
from app.core.timezones import localize
from app.core.types import utcnow
from app.enrolment.models import HOLDS_PLACE, Enrolment
from app.enrolment.models import EnrolmentStatus as S
from app.extensions import db
from app.schedule.models import CourseSession, SessionKind, SessionStatus, Venue, session_instructor
from app.teaching.models import Attendance, AttendanceMethod, CourseStaff, StaffRole
from app.teaching.models import AttendanceStatus as A

MARKER = "scale-person-1@example.net"  # present once the scale data is loaded
CHUNK = 20_000

# (kind, share of courses, days, sessions per day, capacity range, share of capacity taken)
KINDS = [
    (CourseKind.SUMMER_SCHOOL, 0.03, (8, 12), 4, (150, 300), (0.8, 1.0)),
    (CourseKind.WINTER_SCHOOL, 0.03, (5, 8), 4, (100, 200), (0.8, 1.0)),
    (CourseKind.COURSE, 0.22, (4, 5), 4, (20, 40), (0.6, 1.0)),
    (CourseKind.SEMINAR, 0.22, (1, 1), 4, (20, 40), (0.5, 1.0)),
    (CourseKind.WORKSHOP, 0.14, (1, 2), 4, (15, 30), (0.5, 1.0)),
    (CourseKind.FORUM, 0.08, (2, 3), 5, (60, 120), (0.4, 0.9)),
    (CourseKind.SITE_VISIT, 0.08, (1, 1), 2, (15, 30), (0.6, 1.0)),
    (CourseKind.WEBINAR, 0.20, (1, 3), 1, (None, None), (0.0, 0.0)),
]
ZONES = [("Europe/Rome", "Rome", "IT"), ("Asia/Shanghai", "Shanghai", "CN"), ("Europe/Rome", "Milan", "IT"),
         ("Asia/Shanghai", "Suzhou", "CN"), ("Europe/Rome", "Turin", "IT")]
TOPICS = ["Circular Economy", "Green Public Procurement", "Renewable Energy", "Water Management", "Sustainable Cities",
          "Climate Finance", "Low-Carbon Transport", "Biodiversity", "Green Buildings", "Waste to Resource",
          "Smart Grids", "Sustainable Agriculture", "Carbon Markets", "Air Quality", "Ecodesign"]
FIRST = ["Giulia", "Marco", "Chiara", "Luca", "Sara", "Wei", "Na", "Min", "Yang", "Jing", "Elena", "Hao", "Li", "Matteo"]
LAST = ["Rossi", "Bianchi", "Ricci", "Wang", "Li", "Zhang", "Liu", "Chen", "Romano", "Greco", "Zhao", "Huang"]


@dataclass
class ScaleSummary:
    programmes: int = 0
    courses: int = 0
    people: int = 0
    enrolments: int = 0
    sessions: int = 0
    attendance: int = 0
    counts: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return (f"{self.programmes:,} programmes, {self.courses:,} courses, {self.people:,} people, "
                f"{self.enrolments:,} enrolments, {self.sessions:,} sessions, {self.attendance:,} attendance rows")


class _Rows:
    """Rows for one table, with ids assigned here, inserted in chunks (after the pending
    rows of the tables they refer to)."""

    def __init__(self, table: sa.FromClause, *parents: _Rows) -> None:
        self.table, self.parents = table, parents
        self.next_id = (db.session.scalar(sa.select(sa.func.max(table.c.id))) or 0) + 1 if "id" in table.c else None
        self.pending: list[dict] = []
        self.written = 0

    def add(self, **row) -> int | None:  # noqa: ANN003
        if self.next_id is not None:
            row["id"] = self.next_id
            self.next_id += 1
        self.pending.append(row)
        if len(self.pending) >= CHUNK:
            self.flush()
        return row.get("id")

    def flush(self) -> None:
        for parent in self.parents:
            parent.flush()
        if self.pending:
            db.session.execute(sa.insert(cast(sa.Table, self.table)), self.pending)
            self.written += len(self.pending)
            self.pending = []


def load_scale(factor: float, today: dt.date | None = None, seed: int = 2016) -> ScaleSummary:
    """Add the scale data set (refused if it is there already). The caller commits."""
    if factor <= 0 or factor > 1000:
        raise ValueError("the factor must be more than 0 and at most 1000")
    if db.session.scalar(sa.select(User.id).where(User.email == MARKER)):
        raise ValueError("the scale data is already loaded; start from an empty database to load another size")
    today = today or utcnow().date()
    now = utcnow()
    rng = random.Random(seed)
    extra = random.Random(seed + 1)  # reporting fields and surveys: the rest of the decade stays as it was
    n_courses = max(5, round(50 * factor))
    n_people = max(40, round(400 * factor))
    n_instructors = max(4, n_people // 50)
    summary = ScaleSummary()

    users, venues, programmes = _Rows(User.__table__), _Rows(Venue.__table__), _Rows(Programme.__table__)
    courses, staff = _Rows(Course.__table__), _Rows(CourseStaff.__table__)
    sessions, enrolments = _Rows(CourseSession.__table__), _Rows(Enrolment.__table__)
    teaching, attendance = _Rows(session_instructor, sessions), _Rows(Attendance.__table__, sessions, enrolments)

    password = hash_password("scale-" + str(seed))  # nobody signs in as these people
    version = current_app.config["PONTE_PRIVACY_VERSION"]
    people: list[int] = []
    instructors: list[int] = []
    for i in range(1, n_people + n_instructors + 1):
        zone, city, country = rng.choice(ZONES)
        is_instructor = i > n_people
        uid = users.add(
            email=MARKER if i == 1 else f"scale-person-{i}@example.net", password_hash=password,
            full_name=f"{rng.choice(FIRST)} {rng.choice(LAST)} {i}", native_name=None,
            organisation=f"Organisation {i % max(10, n_people // 8)}",
            organisation_type=rng.choice(list(OrganisationType)), country=country, city=city,
            gender=extra.choice([*Gender, None]), reporting_asked_at=now,
            locale=rng.choice(["en", "it", "zh"]), timezone=zone,
            role=Role.INSTRUCTOR if is_instructor else Role.PARTICIPANT, is_active_account=True, session_version=1,
            calendar_token=f"scale-{seed}-{i}-{rng.getrandbits(64):x}", privacy_consent_at=now, email_verified_at=now,
            privacy_version=version, transfer_consent_at=now if country == "CN" else None,
            transfer_version=version if country == "CN" else None,
            created_at=now - dt.timedelta(days=rng.randint(0, 3650)),
        )
        assert uid is not None  # the user table has ids
        (instructors if is_instructor else people).append(uid)
    users.flush()
    summary.people = len(people) + len(instructors)

    venue_ids = {}
    for zone, city, country in ZONES:
        venue_ids[city] = venues.add(name=f"Scale venue, {city}", address="", city=city, country=country,
                                     timezone=zone, capacity=400, is_online=False, created_at=now)
    online_venue = venues.add(name="Scale online room", address="", city="", country=None, timezone="UTC",
                              capacity=None, is_online=True, created_at=now)
    venues.flush()

    first_year, last_year = today.year - 9, today.year + 1
    per_year = max(1, round(math.sqrt(factor)))
    programme_ids = {}
    for year in range(first_year, last_year + 1):
        for k in range(per_year):
            programme_ids[(year, k)] = programmes.add(
                slug=f"scale-{year}-{k + 1}", title=f"Italy–China Sustainability {year} ({k + 1})",
                description="", created_at=now)
    programmes.flush()
    summary.programmes = len(programme_ids)

    kinds = rng.choices([k for k in KINDS], weights=[k[1] for k in KINDS], k=n_courses)
    plan: list[Any] = []  # (course id, kind row, start, days, zone, capacity, status)
    span = (today - dt.date(first_year, 1, 1)).days
    for index, kind_row in enumerate(kinds, start=1):
        kind, _share, (dmin, dmax), _per_day, (cmin, cmax), _taken = kind_row
        # most activities are history; about one in twelve is still to come
        offset = rng.randint(1, 240) if rng.random() < 1 / 12 else -rng.randint(0, span)
        starts_on = today + dt.timedelta(days=offset)
        days = rng.randint(dmin, dmax)
        online = kind is CourseKind.WEBINAR
        zone, city, country = rng.choice(ZONES)
        if starts_on > today:
            status = CourseStatus.DRAFT if rng.random() < 0.1 else CourseStatus.PUBLISHED
        else:
            status = rng.choices([CourseStatus.PUBLISHED, CourseStatus.ARCHIVED, CourseStatus.CANCELLED], [85, 10, 5])[0]
        capacity = rng.randint(cmin, cmax) if cmin and cmax else None
        topic = rng.choice(TOPICS)
        cid = courses.add(
            programme_id=programme_ids.get((starts_on.year, index % per_year)), slug=f"scale-{index}",
            title=f"{topic} {kind.value.replace('_', ' ').title()} {starts_on.year} #{index}",
            summary=f"{topic}: practice and policy between Italy and China.", description="", kind=kind,
            language=rng.choice(["en", "en", "it", "zh"]), venue_id=online_venue if online else venue_ids[city],
            is_online=online, city=None if online else city, country=None if online else country, timezone=zone,
            starts_on=starts_on, ends_on=starts_on + dt.timedelta(days=days - 1), capacity=capacity, seats_taken=0,
            enrolment_mode=EnrolmentMode.APPROVAL if kind in (CourseKind.SUMMER_SCHOOL, CourseKind.WINTER_SCHOOL)
            else EnrolmentMode.OPEN, application_questions="", status=status,
            offers_attendance_certificate=True, offers_completion_certificate=True, min_attendance_rate=75,
            signatories=[], created_at=now, updated_at=now,
        )
        plan.append([cid, kind_row, starts_on, days, zone, capacity, status])
        staff.add(course_id=cid, user_id=rng.choice(instructors), role=StaffRole.LEAD, cohort_id=None, created_at=now)
    courses.flush()
    staff.flush()
    summary.courses = len(plan)

    # enrolments: 40 a course on average, weighted by size (the schools are big)
    weights = [(p[5] or 60) * rng.uniform(*p[1][5]) if p[5] else rng.uniform(20, 80) for p in plan]
    scale_to = (40 * len(plan)) / sum(weights)
    seats = {}
    holders_of = {}
    for p, weight in zip(plan, weights, strict=True):
        cid, kind_row, starts_on, days, zone, capacity, status = p
        wanted = min(len(people), max(1, round(weight * scale_to)))
        if status is CourseStatus.DRAFT:
            wanted = 0
        ended = starts_on + dt.timedelta(days=days) <= today
        chosen = rng.sample(people, wanted)
        holders, taken = [], 0
        for uid in chosen:
            if capacity is not None and taken >= capacity:
                status_e = S.WAITLISTED if not ended else S.WITHDRAWN
            elif status is CourseStatus.CANCELLED:
                status_e = S.CANCELLED
            else:
                roll = rng.random()
                if ended:
                    status_e = S.COMPLETED if roll < 0.75 else S.NOT_COMPLETED if roll < 0.85 else \
                        S.WITHDRAWN if roll < 0.95 else S.REJECTED
                else:
                    status_e = S.ACCEPTED if roll < 0.8 else S.PENDING if roll < 0.9 else S.WITHDRAWN
            created = dt.datetime.combine(starts_on, dt.time(9), dt.UTC) - dt.timedelta(days=rng.randint(7, 90))
            eid = enrolments.add(
                course_id=cid, user_id=uid, status=status_e, cohort_id=None, motivation="", answers={},
                waitlisted_at=created if status_e is S.WAITLISTED else None, decision_reason=None, decided_at=None,
                decided_by_id=None, completion_passed=True if status_e is S.COMPLETED else
                False if status_e is S.NOT_COMPLETED else None, completion_note=None,
                completion_recorded_at=created + dt.timedelta(days=100) if status_e in (S.COMPLETED, S.NOT_COMPLETED)
                else None, created_at=created, updated_at=created)
            if status_e in HOLDS_PLACE:
                taken += 1
                holders.append(eid)
        seats[cid] = taken
        holders_of[cid] = holders
    enrolments.flush()
    summary.enrolments = enrolments.written

    # sessions: about ten a course, by kind; attendance for those held, to about 10,000 at factor 1
    session_plan = []
    for cid, kind_row, starts_on, days, zone, _capacity, status in plan:
        per_day = kind_row[3]
        for day in range(days):
            for slot in range(per_day):
                hour = 9 + slot * 2 if per_day > 1 else 10
                start = localize(dt.datetime.combine(starts_on + dt.timedelta(days=day), dt.time(hour, 0)), zone)
                session_plan.append((cid, start, status))
    target_sessions = max(1, round(500 * factor))
    keep = min(1.0, target_sessions / max(1, len(session_plan)))
    held_pairs = 0
    chosen_sessions = []
    for cid, start, status in session_plan:
        if rng.random() > keep:
            continue
        chosen_sessions.append((cid, start, status))
        if start + dt.timedelta(hours=2) <= now and status is not CourseStatus.CANCELLED:
            held_pairs += len(holders_of[cid])
    record_rate = min(1.0, (10_000 * factor) / max(1, held_pairs))
    for cid, start, status in chosen_sessions:
        lead = rng.choice(instructors)
        sid = sessions.add(
            course_id=cid, cohort_id=None, series_id=None, title="Session", description="",
            kind=rng.choice([SessionKind.LECTURE, SessionKind.WORKSHOP, SessionKind.SEMINAR]),
            status=SessionStatus.CANCELLED if status is CourseStatus.CANCELLED else SessionStatus.SCHEDULED, starts_at=start,
            ends_at=start + dt.timedelta(hours=2), venue_id=None, join_url=None, capacity=None, seats_taken=0,
            is_mandatory=False, counts_for_attendance=True, sequence=0, checkin_secret=f"{rng.getrandbits(128):032x}",
            created_at=now, updated_at=now)
        teaching.add(session_id=sid, user_id=lead)
        if start + dt.timedelta(hours=2) > now or status is CourseStatus.CANCELLED:
            continue
        for eid in holders_of[cid]:
            if rng.random() <= record_rate:
                roll = rng.random()
                attendance.add(session_id=sid, enrolment_id=eid, method=AttendanceMethod.SHEET, note="",
                               status=A.PRESENT if roll < 0.82 else A.LATE if roll < 0.9 else
                               A.EXCUSED if roll < 0.95 else A.ABSENT,
                               recorded_by_id=lead, recorded_at=start + dt.timedelta(hours=2))
    sessions.flush()
    teaching.flush()
    attendance.flush()
    summary.sessions, summary.attendance = sessions.written, attendance.written

    _surveys(extra, plan, holders_of, today, now)

    for cid, taken in seats.items():
        if taken:
            db.session.execute(sa.update(Course).where(Course.id == cid).values(seats_taken=taken))
    _move_sequences_on()
    return summary


def _surveys(rng: random.Random, plan: list, holders_of: dict, today: dt.date, now: dt.datetime) -> None:
    """A survey for each ended course with the questions the impact report reads, and
    answers from about a third of those who held a place."""
    from app.feedback.models import Survey, SurveyAnswer, SurveyQuestion, SurveyResponse
    from app.feedback.template import DEFAULT_QUESTIONS

    surveys, questions = _Rows(Survey.__table__), _Rows(SurveyQuestion.__table__)
    responses = _Rows(SurveyResponse.__table__, surveys)
    answers = _Rows(SurveyAnswer.__table__, responses, questions)
    keyed = [q for q in DEFAULT_QUESTIONS if q[0] in ("satisfaction", "relevance", "nps", "knowledge_before",
                                                      "knowledge_after", "travel_mode")]
    for cid, _kind_row, starts_on, days, _zone, _capacity, status in plan:
        ended = starts_on + dt.timedelta(days=days)
        if ended > today or status not in (CourseStatus.PUBLISHED, CourseStatus.ARCHIVED):
            continue
        invited = dt.datetime.combine(ended, dt.time(9), dt.UTC)
        sid = surveys.add(course_id=cid, invited_at=invited, reminded_at=invited + dt.timedelta(days=3),
                          closes_at=invited + dt.timedelta(days=21), invited_count=len(holders_of[cid]),
                          created_at=invited, updated_at=invited)
        qids = {}
        for position, (key, kind, text, required, in_person, choices) in enumerate(keyed):
            qids[key] = questions.add(survey_id=sid, position=position * 10, key=key, kind=kind, text=text,
                                      choices=choices, required=required, in_person_only=in_person, instructor_id=None)
        for eid in holders_of[cid]:
            if rng.random() > 0.33:
                continue
            rid = responses.add(survey_id=sid, enrolment_id=eid, language="en", submitted_at=invited)
            for key, qid in qids.items():
                if key == "travel_mode":
                    answers.add(response_id=rid, question_id=qid, number=None, choices=None,
                                text=rng.choice(["plane", "train", "train", "car", "bus", "local"]))
                else:
                    low, high = (0, 10) if key == "nps" else (1, 5)
                    answers.add(response_id=rid, question_id=qid, number=rng.randint(low, high), text=None,
                                choices=None)
    answers.flush()


def _move_sequences_on() -> None:
    """Ids were given here: on PostgreSQL each table's sequence moves past them."""
    if db.engine.dialect.name != "postgresql":
        return
    from app.feedback.models import Survey, SurveyAnswer, SurveyQuestion, SurveyResponse

    for table in (User, Venue, Programme, Course, CourseStaff, CourseSession, Enrolment, Attendance,
                  Survey, SurveyQuestion, SurveyResponse, SurveyAnswer):
        name = table.__tablename__
        db.session.execute(sa.text(
            f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), (SELECT max(id) FROM \"{name}\"))"))
