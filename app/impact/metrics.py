"""Every figure of the impact dashboard, for one filter. Read-only. A fixed number of
queries whatever the number of courses (grouped in SQL, or one pass over the rows of
the courses in range); each section also gives the tables behind its charts, which the
CSV, XLSX and PDF exports print as they are.

Scope: published or archived courses (not drafts, not cancelled ones) whose dates meet
the range, of the programme, kind and city chosen; for an instructor, their own courses.
People: those who held a place (accepted, passed or not passed)."""
from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import gettext as _, lazy_gettext as _l

from app.accounts.models import OrganisationType, User
from app.catalogue.models import Course, CourseKind, CourseStatus
from app.certificates.models import Certificate, CertificateStatus
from app.core.labels import label
from app.core.types import utcnow
from app.enrolment.models import HOLDS_PLACE, Enrolment, EnrolmentStatus
from app.extensions import db
from app.feedback.models import Survey, SurveyAnswer, SurveyQuestion, SurveyResponse
from app.feedback.results import nps as net_promoter_score
from app.feedback.services import MIN_RESPONSES
from app.impact import co2
from app.schedule.models import CourseSession, SessionKind, SessionStatus, Venue
from app.teaching.models import Attendance, AttendanceStatus, CourseStaff

ATTENDED = (AttendanceStatus.PRESENT, AttendanceStatus.LATE)
MAX_RANGE_DAYS = 366 * 20


@dataclass(frozen=True)
class Filters:
    date_from: dt.date
    date_to: dt.date
    programme_id: int | None = None
    kind: CourseKind | None = None
    city: str | None = None
    staff_id: int | None = None  # an instructor: only courses they are on the staff of

    def as_dict(self) -> dict:
        return {"from": self.date_from.isoformat(), "to": self.date_to.isoformat(), "programme": self.programme_id,
                "kind": self.kind.value if self.kind else None, "city": self.city, "staff": self.staff_id}

    @classmethod
    def from_dict(cls, data: dict) -> Filters:
        return cls(date_from=dt.date.fromisoformat(data["from"]), date_to=dt.date.fromisoformat(data["to"]),
                   programme_id=data.get("programme"), kind=CourseKind(data["kind"]) if data.get("kind") else None,
                   city=data.get("city"), staff_id=data.get("staff"))


def default_filters(today: dt.date | None = None) -> Filters:
    today = today or utcnow().date()
    return Filters(date_from=today - dt.timedelta(days=365), date_to=today)


@dataclass
class Table:
    """A table as the exports print it: a key (file and sheet name), a title, column
    headings and rows of plain values (str, int, float, None)."""
    key: str
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    note: str = ""


@dataclass
class Report:
    filters: Filters
    courses: int = 0
    figures: dict[str, dict] = field(default_factory=dict)  # section → name → value
    tables: dict[str, Table] = field(default_factory=dict)


def courses_in_scope(f: Filters) -> sa.Select:
    stmt = sa.select(Course.id).where(
        Course.status.in_((CourseStatus.PUBLISHED, CourseStatus.ARCHIVED)),
        Course.starts_on <= f.date_to, Course.ends_on >= f.date_from)
    if f.programme_id:
        stmt = stmt.where(Course.programme_id == f.programme_id)
    if f.kind:
        stmt = stmt.where(Course.kind == f.kind)
    if f.city:
        city = f.city.strip().lower()
        stmt = stmt.where(sa.or_(sa.func.lower(Course.city) == city,
                                 Course.venue_id.in_(sa.select(Venue.id).where(sa.func.lower(Venue.city) == city))))
    if f.staff_id:
        stmt = stmt.where(Course.id.in_(sa.select(CourseStaff.course_id).where(CourseStaff.user_id == f.staff_id)))
    return stmt


def _pct(part: float, whole: float) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def build(f: Filters, now: dt.datetime | None = None) -> Report:
    now = now or utcnow()
    report = Report(filters=f)
    scope = courses_in_scope(f).subquery()
    course_rows = db.session.execute(
        sa.select(Course.id, Course.title, Course.is_online, Course.city, Course.country, Course.ends_on,
                  Course.starts_on, Course.train_the_trainer, Venue.city.label("venue_city"),
                  Venue.country.label("venue_country"), Venue.is_online.label("venue_online"))
        .outerjoin(Venue, Venue.id == Course.venue_id).where(Course.id.in_(sa.select(scope.c.id)))).all()
    courses = {c.id: c for c in course_rows}
    report.courses = len(courses)
    people = db.session.execute(
        sa.select(Enrolment.id, Enrolment.course_id, Enrolment.user_id, Enrolment.status, Enrolment.cohort_id,
                  User.organisation, User.organisation_type, User.country, User.gender, User.city,
                  User.email)
        .join(User, User.id == Enrolment.user_id)
        .where(Enrolment.course_id.in_(sa.select(scope.c.id)), Enrolment.status.in_(HOLDS_PLACE))).all()
    _reach(report, f, people, courses)
    attended = _delivery(report, scope, people, courses, now)
    _effectiveness(report, scope, courses)
    _environment(report, scope, people, courses, attended)
    _multiplier(report, f, scope, courses)
    return report


# --- social reach ------------------------------------------------------------------------

def _reach(report: Report, f: Filters, people: list, courses: dict) -> None:
    users = {}
    for p in people:
        users[p.user_id] = p
    organisations = {p.organisation.strip().casefold() for p in users.values() if p.organisation and p.organisation.strip()}
    countries = Counter(p.country or "" for p in users.values())
    types = Counter(p.organisation_type.value if p.organisation_type else "" for p in users.values())
    genders = Counter(p.gender.value if p.gender else "" for p in users.values())
    # Returning: held a place in a course that started before this person's first course in range.
    first_in_range: dict[int, dt.date] = {}
    for p in people:
        start = courses[p.course_id].starts_on
        if p.user_id not in first_in_range or start < first_in_range[p.user_id]:
            first_in_range[p.user_id] = start
    earliest = dict(db.session.execute(
        sa.select(Enrolment.user_id, sa.func.min(Course.starts_on)).join(Course, Course.id == Enrolment.course_id)
        .where(Enrolment.user_id.in_(sa.select(Enrolment.user_id).where(
                   Enrolment.course_id.in_(courses_in_scope(f)), Enrolment.status.in_(HOLDS_PLACE))),
               Enrolment.status.in_(HOLDS_PLACE),
               Course.status.in_((CourseStatus.PUBLISHED, CourseStatus.ARCHIVED)))
        .group_by(Enrolment.user_id)).all())
    returning = sum(1 for uid, first in first_in_range.items() if earliest.get(uid, first) < first)
    n = len(users)
    report.figures["reach"] = {
        "people": n, "organisations": len(organisations), "countries": len([c for c in countries if c]),
        "smes": types.get(OrganisationType.SME.value, 0),
        "public_administrations": types.get(OrganisationType.PUBLIC_ADMINISTRATION.value, 0),
        "first_time": n - returning, "returning": returning,
    }
    not_stated = str(_("Not stated"))
    report.tables["countries"] = Table("countries", str(_("People by country")), [str(_("Country")), str(_("People")), "%"],
                                       [[_country_name(c) or not_stated, k, _pct(k, n)] for c, k in countries.most_common()])
    report.tables["organisation_types"] = Table(
        "organisation_types", str(_("People by type of organisation")), [str(_("Type")), str(_("People")), "%"],
        [[label(OrganisationType(t)) if t else not_stated, types.get(t, 0), _pct(types.get(t, 0), n)]
         for t in [m.value for m in OrganisationType] + [""] if types.get(t, 0)])
    from app.accounts.models import Gender

    report.tables["gender"] = Table("gender", str(_("People by gender (self-declared)")),
                                    [str(_("Gender")), str(_("People")), "%"],
                                    [[label(Gender(g)) if g else not_stated, genders.get(g, 0), _pct(genders.get(g, 0), n)]
                                     for g in [m.value for m in Gender] + [""]])
    report.tables["returning"] = Table("returning", str(_("First-time and returning participants")),
                                       [str(_("Participants")), str(_("People")), "%"],
                                       [[str(_("First time")), n - returning, _pct(n - returning, n)],
                                        [str(_("Returning")), returning, _pct(returning, n)]])


def _country_name(code: str) -> str:
    if not code:
        return ""
    from flask_babel import get_locale

    locale = get_locale()
    return (locale.territories.get(code) if locale else None) or code


# --- delivery ------------------------------------------------------------------------------

def _delivery(report: Report, scope, people: list, courses: dict, now: dt.datetime) -> set[int]:  # noqa: ANN001
    """Returns the enrolments that attended at least once (present or late), for the environment section."""
    sessions = db.session.execute(
        sa.select(CourseSession.id, CourseSession.course_id, CourseSession.cohort_id, CourseSession.starts_at,
                  CourseSession.ends_at, CourseSession.counts_for_attendance)
        .where(CourseSession.course_id.in_(sa.select(scope.c.id)), CourseSession.status == SessionStatus.SCHEDULED,
               CourseSession.kind != SessionKind.BREAK, CourseSession.ends_at <= now)).all()
    hours = {s.id: (s.ends_at - s.starts_at).total_seconds() / 3600 for s in sessions}
    # Counts by session and mark (a few rows a session, whatever the number of people),
    # of people who hold a place.
    marks = db.session.execute(
        sa.select(Attendance.session_id, Attendance.status, sa.func.count(Attendance.id))
        .join(CourseSession, CourseSession.id == Attendance.session_id)
        .join(Enrolment, Enrolment.id == Attendance.enrolment_id)
        .where(CourseSession.course_id.in_(sa.select(scope.c.id)), Enrolment.status.in_(HOLDS_PLACE))
        .group_by(Attendance.session_id, Attendance.status)).all()
    counting = {s.id for s in sessions if s.counts_for_attendance}
    present = excused = 0  # of sessions that count for attendance
    person_hours = 0.0
    for session_id, status, n in marks:
        if session_id not in hours:
            continue
        if status in ATTENDED:
            person_hours += hours[session_id] * n
            present += n if session_id in counting else 0
        elif status is AttendanceStatus.EXCUSED:
            excused += n if session_id in counting else 0
    attended = set(db.session.scalars(
        sa.select(Attendance.enrolment_id).distinct().join(CourseSession, CourseSession.id == Attendance.session_id)
        .where(CourseSession.course_id.in_(sa.select(scope.c.id)), Attendance.status.in_(ATTENDED),
               CourseSession.status == SessionStatus.SCHEDULED, CourseSession.ends_at <= now)))
    # Expected attendances: each session counting for attendance × the people of its cohort (or course).
    by_course_cohort = Counter((p.course_id, p.cohort_id) for p in people)
    by_course = Counter(p.course_id for p in people)
    expected = sum((by_course[s.course_id] if s.cohort_id is None else by_course_cohort[(s.course_id, s.cohort_id)])
                   for s in sessions if s.counts_for_attendance)
    ended = [p for p in people if courses[p.course_id].ends_on < now.date()]
    completed = sum(1 for p in ended if p.status is EnrolmentStatus.COMPLETED)
    certificates = db.session.scalar(
        sa.select(sa.func.count(Certificate.id)).join(Enrolment, Enrolment.id == Certificate.enrolment_id)
        .where(Enrolment.course_id.in_(sa.select(scope.c.id)), Certificate.status == CertificateStatus.VALID))
    report.figures["delivery"] = {
        "sessions": len(sessions), "training_hours": round(sum(hours.values()), 1),
        "person_hours": round(person_hours, 1),
        "attendance_rate": _pct(present, max(expected - excused, 0)),
        "completion_rate": _pct(completed, len(ended)), "completed": completed, "certificates": certificates or 0,
    }
    per_course: dict[int, list] = {cid: [0, 0.0, 0] for cid in courses}
    for s in sessions:
        per_course[s.course_id][0] += 1
        per_course[s.course_id][1] += hours[s.id]
    for p in people:
        per_course[p.course_id][2] += 1
    report.tables["courses"] = Table(
        "courses", str(_("Activities in range")),
        [str(_("Activity")), str(_("Starts")), str(_("People")), str(_("Sessions held")), str(_("Training hours"))],
        [[courses[cid].title, courses[cid].starts_on.isoformat(), v[2], v[0], round(v[1], 1)]
         for cid, v in sorted(per_course.items(), key=lambda kv: (courses[kv[0]].starts_on, kv[0]))])
    return attended


# --- effectiveness ------------------------------------------------------------------------

def _effectiveness(report: Report, scope, courses: dict) -> None:  # noqa: ANN001
    surveys = db.session.execute(sa.select(Survey.id, Survey.course_id, Survey.invited_count).where(
        Survey.course_id.in_(sa.select(scope.c.id)), Survey.invited_at.is_not(None))).all()
    survey_ids = [s.id for s in surveys]
    answers = db.session.execute(
        sa.select(SurveyResponse.id, SurveyResponse.survey_id, SurveyQuestion.key, SurveyAnswer.number)
        .join(SurveyAnswer, SurveyAnswer.response_id == SurveyResponse.id)
        .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
        .where(SurveyResponse.survey_id.in_(survey_ids or [0]),
               SurveyQuestion.key.in_(("satisfaction", "relevance", "nps", "knowledge_before", "knowledge_after")))).all()
    responses = dict(db.session.execute(
        sa.select(SurveyResponse.survey_id, sa.func.count(SurveyResponse.id))
        .where(SurveyResponse.survey_id.in_(survey_ids or [0])).group_by(SurveyResponse.survey_id)).all())
    total = sum(responses.values())
    invited = sum(s.invited_count for s in surveys)
    values: dict[str, list[int]] = defaultdict(list)
    before_after: dict[int, dict[str, int]] = defaultdict(dict)
    for a in answers:
        if a.number is None:
            continue
        values[a.key].append(a.number)
        if a.key in ("knowledge_before", "knowledge_after"):
            before_after[a.id][a.key] = a.number
    pairs = [(v["knowledge_before"], v["knowledge_after"]) for v in before_after.values() if len(v) == 2]
    shown = total >= MIN_RESPONSES

    def mean(xs: list[int]) -> float | None:
        return round(sum(xs) / len(xs), 2) if len(xs) >= MIN_RESPONSES else None

    report.figures["effectiveness"] = {
        "responses": total, "invited": invited, "response_rate": _pct(total, invited), "shown": shown,
        "satisfaction": mean(values["satisfaction"]) if shown else None,
        "relevance": mean(values["relevance"]) if shown else None,
        "nps": net_promoter_score(values["nps"]) if shown and len(values["nps"]) >= MIN_RESPONSES else None,
        "knowledge_before": mean([b for b, _a in pairs]) if shown else None,
        "knowledge_after": mean([a for _b, a in pairs]) if shown else None,
        "knowledge_pairs": len(pairs),
    }
    by_survey: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for a in answers:
        if a.number is not None:
            by_survey[a.survey_id][a.key].append(a.number)
    hidden = str(_l("fewer than %(num)d responses", num=MIN_RESPONSES))
    rows = []
    for s in sorted(surveys, key=lambda s: (courses[s.course_id].starts_on, s.id)):
        n = responses.get(s.id, 0)
        v = by_survey[s.id]
        if n >= MIN_RESPONSES:
            rows.append([courses[s.course_id].title, s.invited_count, n, _pct(n, s.invited_count),
                         mean(v["satisfaction"]), mean(v["relevance"]),
                         net_promoter_score(v["nps"]) if len(v["nps"]) >= MIN_RESPONSES else None])
        else:
            rows.append([courses[s.course_id].title, s.invited_count, n, _pct(n, s.invited_count), hidden, hidden, hidden])
    report.tables["surveys"] = Table(
        "surveys", str(_("Survey results by activity")),
        [str(_("Activity")), str(_("Invited")), str(_("Responses")), str(_("Response rate %")),
         str(_("Satisfaction (1–5)")), str(_("Relevance (1–5)")), "NPS"], rows,
        note=str(_("Results are shown from %(num)d responses, so that nobody can be recognised by their answers.",
                   num=MIN_RESPONSES)))
    report.tables["knowledge"] = Table(
        "knowledge", str(_("Knowledge of the topic, before and after (1–5)")),
        [str(_("Moment")), str(_("Average")), str(_("Answers"))],
        [[str(_("Before")), report.figures["effectiveness"]["knowledge_before"], len(pairs)],
         [str(_("After")), report.figures["effectiveness"]["knowledge_after"], len(pairs)]])


# --- environment --------------------------------------------------------------------------

def _environment(report: Report, scope, people: list, courses: dict, attended: set[int]) -> None:  # noqa: ANN001
    """For each person who attended an activity in person: a return trip from their city
    (the survey's answer, else their profile) to the venue, by the mode they named (else
    assumed from the distance). For online activities, the trip they did not make."""
    travel = db.session.execute(
        sa.select(SurveyResponse.enrolment_id, SurveyQuestion.key, SurveyAnswer.text)
        .join(SurveyAnswer, SurveyAnswer.response_id == SurveyResponse.id)
        .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
        .join(Survey, Survey.id == SurveyResponse.survey_id)
        .where(Survey.course_id.in_(sa.select(scope.c.id)), SurveyQuestion.key.in_(("travel_mode", "travel_city")))).all()
    said: dict[int, dict[str, str]] = defaultdict(dict)
    for t in travel:
        if t.text:
            said[t.enrolment_id][t.key] = t.text
    by_mode: dict[str, list] = {m: [0, 0.0, 0.0] for m in co2.MODES}  # people, km, kg
    avoided = [0, 0.0, 0.0]
    unknown = assumed = 0
    for p in people:
        if p.id not in attended:
            continue
        c = courses[p.course_id]
        online = c.is_online or bool(c.venue_online)
        dest = co2.locate(c.venue_city or c.city, c.venue_country or c.country)
        answer = said.get(p.id, {})
        origin = co2.locate(answer["travel_city"], p.country) if answer.get("travel_city") else None
        origin = origin or co2.locate(p.city, p.country)
        if dest is None or origin is None:
            unknown += 1
            continue
        if online:
            t = co2.trip(origin, dest, None)
            avoided[0] += 1
            avoided[1] += t.km
            avoided[2] += t.kg
            continue
        t = co2.trip(origin, dest, answer.get("travel_mode"))
        assumed += t.assumed
        row = by_mode[t.mode]
        row[0] += 1
        row[1] += t.km
        row[2] += t.kg
    travelled = sum(r[0] for r in by_mode.values())
    kg = sum(r[2] for r in by_mode.values())
    report.figures["environment"] = {
        "trips": travelled, "kg": round(kg, 1), "km": round(sum(r[1] for r in by_mode.values())),
        "per_trip_kg": round(kg / travelled, 1) if travelled else None, "assumed_mode": assumed,
        "unknown": unknown, "online_people": avoided[0], "avoided_kg": round(avoided[2], 1),
    }
    report.tables["travel"] = Table(
        "travel", str(_("Estimated travel emissions of in-person activities")),
        [str(_("Mode")), str(_("Return trips")), str(_("Kilometres")), str(_("kg CO2e"))],
        [[label_mode(m), r[0], round(r[1]), round(r[2], 1)] for m, r in by_mode.items() if r[0]]
        + [[str(_("Distance unknown")), unknown, None, None]],
        note=str(_("Factors: %(version)s. See the methodology.", version=co2.FACTORS_VERSION)))
    report.tables["avoided"] = Table(
        "avoided", str(_("Emissions avoided by joining online")),
        [str(_("People")), str(_("Kilometres not travelled")), str(_("kg CO2e avoided"))],
        [[avoided[0], round(avoided[1]), round(avoided[2], 1)]])


def label_mode(mode: str) -> str:
    from app.core.labels import _BY_ENUM

    return str(_BY_ENUM["TravelMode"][mode])


# --- train the trainer ----------------------------------------------------------------------

def _multiplier(report: Report, f: Filters, scope, courses: dict) -> None:  # noqa: ANN001
    """People who completed a train-the-trainer course in range and later taught (on the
    staff of a course starting after it ended), with the people those courses reached."""
    trained = db.session.execute(
        sa.select(Enrolment.user_id, sa.func.min(Course.ends_on).label("ended"))
        .join(Course, Course.id == Enrolment.course_id)
        .where(Enrolment.course_id.in_(sa.select(scope.c.id)), Course.train_the_trainer.is_(True),
               Enrolment.status == EnrolmentStatus.COMPLETED)
        .group_by(Enrolment.user_id)).all()
    ended = {t.user_id: t.ended for t in trained}
    taught = db.session.execute(
        sa.select(CourseStaff.user_id, Course.id, Course.starts_on)
        .join(Course, Course.id == CourseStaff.course_id)
        .where(CourseStaff.user_id.in_(list(ended) or [0]),
               Course.status.in_((CourseStatus.PUBLISHED, CourseStatus.ARCHIVED)))).all()
    later = [(t.user_id, t.id) for t in taught if t.starts_on > ended[t.user_id]]
    course_ids = sorted({cid for _u, cid in later})
    reached = db.session.scalar(sa.select(sa.func.count(sa.distinct(Enrolment.user_id))).where(
        Enrolment.course_id.in_(course_ids or [0]), Enrolment.status.in_(HOLDS_PLACE))) or 0
    trainers = len({u for u, _c in later})
    report.figures["multiplier"] = {
        "trained": len(ended), "teaching": trainers, "courses": len(course_ids), "reached": reached,
        "factor": round(reached / len(ended), 1) if ended else None,
    }
    report.tables["multiplier"] = Table(
        "multiplier", str(_("Train the trainer: the reach of those trained")),
        [str(_("Measure")), str(_("Number"))],
        [[str(_("People who completed a train-the-trainer activity")), len(ended)],
         [str(_("…of whom went on to teach")), trainers],
         [str(_("Activities they taught")), len(course_ids)],
         [str(_("People those activities reached")), reached]])
