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
from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

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
MIN_PEOPLE = 5  # the smallest group of people shown by gender
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
        names = same_city(f.city)
        stmt = stmt.where(sa.or_(sa.func.lower(Course.city).in_(names),
                                 Course.venue_id.in_(sa.select(Venue.id).where(sa.func.lower(Venue.city).in_(names)))))
    if f.staff_id:
        stmt = stmt.where(Course.id.in_(sa.select(CourseStaff.course_id).where(CourseStaff.user_id == f.staff_id)))
    return stmt


def same_city(typed: str) -> list[str]:
    """The spellings, as activities store them, of the city typed: "Roma", "罗马" and
    "Rome" are one place (GeoNames); an unknown name matches itself only."""
    typed = typed.strip()
    names = {typed.lower()}
    where = co2.locate(typed)
    if where is None:
        return sorted(names)
    stored: Sequence[sa.Row] = db.session.execute(sa.union(
        sa.select(Course.city, Course.country).where(Course.city.is_not(None)).distinct(),
        sa.select(Venue.city, Venue.country).where(Venue.city != "").distinct())).all()
    for name, country in stored:
        if name and co2.locate(name, country) == where:
            names.add(name.lower())
    return sorted(names)


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
    placed = sa.select(Enrolment.id).where(Enrolment.course_id.in_(sa.select(scope.c.id)),
                                           Enrolment.status.in_(HOLDS_PLACE))
    # Places by course, cohort and status: a few rows a course, whatever the numbers.
    places = db.session.execute(
        sa.select(Enrolment.course_id, Enrolment.cohort_id, Enrolment.status, sa.func.count(Enrolment.id))
        .where(Enrolment.id.in_(placed)).group_by(Enrolment.course_id, Enrolment.cohort_id, Enrolment.status)).all()
    _reach(report, f, scope, placed)
    _delivery(report, scope, places, courses, now)
    _effectiveness(report, scope, courses)
    _environment(report, scope, placed, courses)
    _multiplier(report, f, scope, courses)
    return report


# --- social reach ------------------------------------------------------------------------

def _reach(report: Report, f: Filters, scope, placed: sa.Select) -> None:  # noqa: ANN001
    from app.accounts.models import Gender

    people = sa.select(Enrolment.user_id).where(Enrolment.id.in_(placed))
    groups = db.session.execute(
        sa.select(User.country, User.organisation_type, User.gender, sa.func.count(User.id))
        .where(User.id.in_(people)).group_by(User.country, User.organisation_type, User.gender)).all()
    organisations = db.session.scalar(
        sa.select(sa.func.count(sa.distinct(sa.func.lower(sa.func.trim(User.organisation)))))
        .where(User.id.in_(people), sa.func.trim(User.organisation) != "")) or 0
    # Returning: held a place in a course that started before this person's first course in range.
    firsts = (sa.select(Enrolment.user_id.label("user_id"), sa.func.min(Course.starts_on).label("first"))
              .join(Course, Course.id == Enrolment.course_id).where(Enrolment.id.in_(placed))
              .group_by(Enrolment.user_id).subquery())
    earlier = so.aliased(Enrolment)
    earlier_course = so.aliased(Course)
    returning = db.session.scalar(sa.select(sa.func.count()).select_from(firsts).where(sa.exists().where(
        earlier.user_id == firsts.c.user_id, earlier.status.in_(HOLDS_PLACE),
        earlier_course.id == earlier.course_id, earlier_course.starts_on < firsts.c.first,
        earlier_course.status.in_((CourseStatus.PUBLISHED, CourseStatus.ARCHIVED))))) or 0
    countries: Counter[str] = Counter()
    types: Counter[str] = Counter()
    genders: Counter[str] = Counter()
    for country, otype, gender, n in groups:
        countries[country or ""] += n
        types[otype.value if otype else ""] += n
        genders[gender.value if gender else ""] += n
    n = sum(countries.values())
    report.figures["reach"] = {
        "people": n, "organisations": organisations, "countries": len([c for c in countries if c]),
        "smes": types.get(OrganisationType.SME.value, 0),
        "public_administrations": types.get(OrganisationType.PUBLIC_ADMINISTRATION.value, 0),
        "first_time": n - returning, "returning": returning,
    }
    not_stated = str(_("Not stated"))
    report.tables["countries"] = Table(
        "countries", str(_("People by country")), [str(_("Country")), str(_("People")), "%"],
        [[_country_name(c) or not_stated, k, _pct(k, n)]
         for c, k in sorted(countries.items(), key=lambda kv: (-kv[1], kv[0] == "", kv[0]))])
    report.tables["organisation_types"] = Table(
        "organisation_types", str(_("People by type of organisation")), [str(_("Type")), str(_("People")), "%"],
        [[label(OrganisationType(t)) if t else not_stated, types.get(t, 0), _pct(types.get(t, 0), n)]
         for t in [m.value for m in OrganisationType] + [""] if types.get(t, 0)])
    # Gender is sensitive: a group of one to four people is not shown (a filter can narrow
    # the range to one small activity whose roster the reader knows).
    few = str(_l("fewer than %(num)d", num=MIN_PEOPLE))
    report.tables["gender"] = Table(
        "gender", str(_("People by gender (self-declared)")), [str(_("Gender")), str(_("People")), "%"],
        [[label(Gender(g)) if g else not_stated, *((few, None) if 0 < genders.get(g, 0) < MIN_PEOPLE
                                                   else (genders.get(g, 0), _pct(genders.get(g, 0), n)))]
         for g in [m.value for m in Gender] + [""]],
        note=str(_("Groups of fewer than %(num)d people are not shown.", num=MIN_PEOPLE)))
    report.tables["returning"] = Table("returning", str(_("First-time and returning participants")),
                                       [str(_("Participants")), str(_("People")), "%"],
                                       [[str(_("First time")), n - returning, _pct(n - returning, n)],
                                        [str(_("Returning")), returning, _pct(returning, n)]],
                                       note=str(_("Returning: held a place in an activity that started before "
                                                  "their first activity in this range.")))


def _country_name(code: str) -> str:
    if not code:
        return ""
    from flask_babel import get_locale

    locale = get_locale()
    return (locale.territories.get(code) if locale else None) or code


# --- delivery ------------------------------------------------------------------------------

def _delivery(report: Report, scope, places: Sequence, courses: dict, now: dt.datetime) -> None:  # noqa: ANN001
    sessions = db.session.execute(
        sa.select(CourseSession.id, CourseSession.course_id, CourseSession.cohort_id, CourseSession.starts_at,
                  CourseSession.ends_at, CourseSession.counts_for_attendance)
        .where(CourseSession.course_id.in_(sa.select(scope.c.id)), CourseSession.status == SessionStatus.SCHEDULED,
               CourseSession.kind != SessionKind.BREAK, CourseSession.ends_at <= now)).all()
    hours = {s.id: (s.ends_at - s.starts_at).total_seconds() / 3600 for s in sessions}
    # Counts by session and mark (a few rows a session, whatever the number of people),
    # of people who hold a place.
    # Every mark recorded at the sessions in range (someone who came and withdrew later did
    # come), read through the session index: a few rows a session, whatever the numbers.
    in_scope = sa.select(CourseSession.id).where(CourseSession.course_id.in_(sa.select(scope.c.id)))
    marks = db.session.execute(
        sa.select(Attendance.session_id, Attendance.status, sa.func.count(Attendance.id))
        .where(Attendance.session_id.in_(in_scope))
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
    # Expected attendances: each session counting for attendance × the people of its cohort (or course).
    by_course_cohort: Counter[tuple[int, int | None]] = Counter()
    by_course: Counter[int] = Counter()
    for course_id, cohort_id, _status, n in places:
        by_course_cohort[(course_id, cohort_id)] += n
        by_course[course_id] += n
    expected = sum((by_course[s.course_id] if s.cohort_id is None else by_course_cohort[(s.course_id, s.cohort_id)])
                   for s in sessions if s.counts_for_attendance)
    ended = sum(n for course_id, _c, _s, n in places if courses[course_id].ends_on < now.date())
    completed = sum(n for course_id, _c, status, n in places
                    if courses[course_id].ends_on < now.date() and status is EnrolmentStatus.COMPLETED)
    certificates = db.session.scalar(
        sa.select(sa.func.count(Certificate.id)).join(Enrolment, Enrolment.id == Certificate.enrolment_id)
        .where(Enrolment.course_id.in_(sa.select(scope.c.id)), Certificate.status == CertificateStatus.VALID))
    report.figures["delivery"] = {
        "sessions": len(sessions), "training_hours": round(sum(hours.values()), 1),
        "person_hours": round(person_hours, 1),
        "attendance_rate": _pct(present, max(expected - excused, 0)),
        "completion_rate": _pct(completed, ended), "completed": completed, "certificates": certificates or 0,
    }
    per_course: dict[int, list] = {cid: [0, 0.0, 0] for cid in courses}
    for s in sessions:
        per_course[s.course_id][0] += 1
        per_course[s.course_id][1] += hours[s.id]
    for course_id, n in by_course.items():
        per_course[course_id][2] += n
    report.tables["courses"] = Table(
        "courses", str(_("Activities in range")),
        [str(_("Activity")), str(_("Starts")), str(_("People")), str(_("Sessions held")), str(_("Training hours"))],
        [[courses[cid].title, courses[cid].starts_on.isoformat(), v[2], v[0], round(v[1], 1)]
         for cid, v in sorted(per_course.items(), key=lambda kv: (courses[kv[0]].starts_on, kv[0]))])


# --- effectiveness ------------------------------------------------------------------------

def _effectiveness(report: Report, scope, courses: dict) -> None:  # noqa: ANN001
    surveys = db.session.execute(sa.select(Survey.id, Survey.course_id, Survey.invited_count).where(
        Survey.course_id.in_(sa.select(scope.c.id)), Survey.invited_at.is_not(None))).all()
    in_range = sa.select(Survey.id).where(Survey.course_id.in_(sa.select(scope.c.id)), Survey.invited_at.is_not(None))
    responses: dict[int, int] = dict(db.session.execute(
        sa.select(SurveyResponse.survey_id, sa.func.count(SurveyResponse.id))
        .where(SurveyResponse.survey_id.in_(in_range)).group_by(SurveyResponse.survey_id)).tuples().all())
    # Answers counted by survey, question and value: at most eleven rows a question.
    counts = db.session.execute(
        sa.select(SurveyQuestion.survey_id, SurveyQuestion.key, SurveyAnswer.number, sa.func.count(SurveyAnswer.id))
        .join(SurveyAnswer, SurveyAnswer.question_id == SurveyQuestion.id)
        .where(SurveyQuestion.survey_id.in_(in_range), SurveyQuestion.key.in_(("satisfaction", "relevance", "nps")),
               SurveyAnswer.number.is_not(None))
        .group_by(SurveyQuestion.survey_id, SurveyQuestion.key, SurveyAnswer.number)).all()
    before, after = so.aliased(SurveyAnswer), so.aliased(SurveyAnswer)
    q_before, q_after = so.aliased(SurveyQuestion), so.aliased(SurveyQuestion)
    pairs = db.session.execute(
        sa.select(before.number, after.number, sa.func.count())
        .join(q_before, sa.and_(q_before.id == before.question_id, q_before.key == "knowledge_before"))
        .join(after, after.response_id == before.response_id)
        .join(q_after, sa.and_(q_after.id == after.question_id, q_after.key == "knowledge_after"))
        .where(q_before.survey_id.in_(in_range), before.number.is_not(None), after.number.is_not(None))
        .group_by(before.number, after.number)).all()
    total = sum(responses.values())
    invited = sum(s.invited_count for s in surveys)
    values: dict[str, Counter] = defaultdict(Counter)
    by_survey: dict[int, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    for survey_id, key, number, n in counts:
        values[key][number] += n
        by_survey[survey_id][key][number] += n
    n_pairs = sum(n for _b, _a, n in pairs)
    shown = total >= MIN_RESPONSES

    def mean(c: Counter) -> float | None:
        n = sum(c.values())
        return round(sum(v * k for v, k in c.items()) / n, 2) if n >= MIN_RESPONSES else None

    def promoters(c: Counter) -> int | None:
        return net_promoter_score(list(c.elements())) if sum(c.values()) >= MIN_RESPONSES else None

    knowledge_before = Counter({b: 0 for b, _a, _n in pairs})
    knowledge_after = Counter({a: 0 for _b, a, _n in pairs})
    for b, a, n in pairs:
        knowledge_before[b] += n
        knowledge_after[a] += n
    report.figures["effectiveness"] = {
        "responses": total, "invited": invited, "response_rate": _pct(total, invited), "shown": shown,
        "satisfaction": mean(values["satisfaction"]) if shown else None,
        "relevance": mean(values["relevance"]) if shown else None,
        "nps": promoters(values["nps"]) if shown else None,
        "knowledge_before": mean(knowledge_before) if shown else None,
        "knowledge_after": mean(knowledge_after) if shown else None,
        "knowledge_pairs": n_pairs,
    }
    hidden = str(_l("fewer than %(num)d responses", num=MIN_RESPONSES))
    rows = []
    for s in sorted(surveys, key=lambda s: (courses[s.course_id].starts_on, s.id)):
        n = responses.get(s.id, 0)
        v = by_survey[s.id]
        if n >= MIN_RESPONSES:
            rows.append([courses[s.course_id].title, s.invited_count, n, _pct(n, s.invited_count),
                         mean(v["satisfaction"]), mean(v["relevance"]), promoters(v["nps"])])
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
        [[str(_("Before")), report.figures["effectiveness"]["knowledge_before"], n_pairs],
         [str(_("After")), report.figures["effectiveness"]["knowledge_after"], n_pairs]])


# --- environment --------------------------------------------------------------------------

def _environment(report: Report, scope, placed: sa.Select, courses: dict) -> None:  # noqa: ANN001
    """For each person who attended an activity in person at least once: a return trip from
    their city (the survey's answer, else their profile) to the venue, by the mode they
    named (else assumed from the distance). For online activities, the trip they did not
    make. Read as counts of (course, cities, mode): one row per distinct journey."""
    def answer_to(key: str):  # noqa: ANN202
        return (sa.select(SurveyAnswer.response_id, SurveyAnswer.text)
                .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
                .where(SurveyQuestion.key == key, SurveyQuestion.survey_id.in_(
                    sa.select(Survey.id).where(Survey.course_id.in_(sa.select(scope.c.id))))).subquery())

    mode, city = answer_to("travel_mode"), answer_to("travel_city")
    journeys = db.session.execute(
        sa.select(Enrolment.course_id, User.city, User.country, mode.c.text, city.c.text, sa.func.count(Enrolment.id))
        .join(User, User.id == Enrolment.user_id)
        .outerjoin(SurveyResponse, SurveyResponse.enrolment_id == Enrolment.id)
        .outerjoin(mode, mode.c.response_id == SurveyResponse.id)
        .outerjoin(city, city.c.response_id == SurveyResponse.id)
        .where(Enrolment.id.in_(placed), sa.exists().where(Attendance.enrolment_id == Enrolment.id,
                                                           Attendance.status.in_(ATTENDED)))
        .group_by(Enrolment.course_id, User.city, User.country, mode.c.text, city.c.text)).all()
    places: dict[tuple, tuple[float, float] | None] = {}

    def where(name: str | None, country: str | None) -> tuple[float, float] | None:
        key = (name, country)
        if key not in places:
            places[key] = co2.locate(name, country)
        return places[key]

    by_mode: dict[str, list] = {m: [0, 0.0, 0.0] for m in co2.MODES}  # trips, km, kg
    avoided = [0, 0.0, 0.0]
    unknown = assumed = 0
    for course_id, home, country, said_mode, said_city, n in journeys:
        c = courses[course_id]
        online = c.is_online or bool(c.venue_online)
        dest = where(c.venue_city or c.city, c.venue_country or c.country)
        origin = (where(said_city, country) if said_city else None) or where(home, country)
        if dest is None or origin is None:
            unknown += n
            continue
        if online:
            t = co2.trip(origin, dest, None)
            avoided[0] += n
            avoided[1] += t.km * n
            avoided[2] += t.kg * n
            continue
        t = co2.trip(origin, dest, said_mode)
        assumed += n if t.assumed else 0
        row = by_mode[t.mode]
        row[0] += n
        row[1] += t.km * n
        row[2] += t.kg * n
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


def key_figures(report: Report) -> list[tuple[str, float | int | None, str]]:
    """(label, value, unit) of the headline figures, for the PDF and the XLSX summary."""
    r, d, e, env, m = (report.figures[k] for k in ("reach", "delivery", "effectiveness", "environment", "multiplier"))
    return [
        (_("Activities"), report.courses, ""),
        (_("People reached"), r["people"], ""),
        (_("Organisations"), r["organisations"], ""),
        (_("Countries"), r["countries"], ""),
        (_("Small and medium enterprises"), r["smes"], ""),
        (_("Public administrations"), r["public_administrations"], ""),
        (_("First time"), r["first_time"], ""),
        (_("Returning"), r["returning"], ""),
        (_("Sessions held"), d["sessions"], ""),
        (_("Training hours delivered"), d["training_hours"], ""),
        (_("Person-hours attended"), d["person_hours"], ""),
        (_("Attendance rate"), d["attendance_rate"], "%"),
        (_("Completion rate"), d["completion_rate"], "%"),
        (_("Certificates issued"), d["certificates"], ""),
        (_("Survey responses"), e["responses"], ""),
        (_("Invited"), e["invited"], ""),
        (_("Response rate"), e["response_rate"], "%"),
        (_("Average satisfaction (1–5)"), e["satisfaction"], ""),
        (_("Average relevance (1–5)"), e["relevance"], ""),
        ("NPS", e["nps"], ""),
        (_("Estimated travel emissions"), env["kg"], "kg CO2e"),
        (_("Emissions avoided by joining online"), env["avoided_kg"], "kg CO2e"),
        (_("People trained as trainers"), m["trained"], ""),
        (_("People reached by those trainers"), m["reached"], ""),
    ]


def describe(f: Filters) -> list[tuple[str, str]]:
    """The filter in words, for the exports."""
    from app.catalogue.models import Programme

    out = [(_("From"), f.date_from.isoformat()), (_("To"), f.date_to.isoformat())]
    if f.programme_id:
        programme = db.session.get(Programme, f.programme_id)
        out.append((_("Programme"), programme.title if programme else str(f.programme_id)))
    if f.kind:
        out.append((_("Kind"), label(f.kind)))
    if f.city:
        out.append((_("City of the activity"), f.city))
    return out
