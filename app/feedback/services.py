"""Survey rules: the default survey of a course, editing until it is sent, the signed
one-click link, answering once, the invitation and reminder jobs, and results in
aggregate only (never fewer than MIN_RESPONSES answers broken down)."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer

from app.accounts.models import User
from app.audit.services import record
from app.catalogue.models import Course, CourseStatus
from app.core.cas import compare_and_set
from app.core.db import begin_write
from app.core.errors import Conflict, DomainError, NotFound
from app.core.http import has_control_chars
from app.core.timezones import local_date
from app.core.types import utcnow
from app.enrolment.models import HOLDS_PLACE, Enrolment
from app.extensions import db
from app.feedback.models import QuestionKind, Survey, SurveyAnswer, SurveyQuestion, SurveyResponse
from app.feedback.template import DEFAULT_QUESTIONS, INSTRUCTOR_TEXT
from app.notifications.services import queue_email
from app.schedule.models import CourseSession
from app.teaching.models import Attendance, AttendanceStatus, CourseStaff, StaffRole

MIN_RESPONSES = 5            # no breakdown of fewer answers, anywhere
REMIND_AFTER = dt.timedelta(days=3)
OPEN_FOR = dt.timedelta(days=21)
# A course that ended longer ago than this when surveys were first switched on is not surveyed.
SEND_WITHIN = dt.timedelta(days=7)
LANGS = ("en", "it", "zh")
MAX_TEXT = 2000


class SurveyError(DomainError):
    pass


class SurveyLocked(Conflict):
    pass


# --- the survey of a course ---------------------------------------------------------

def survey_of(course_id: int) -> Survey | None:
    return db.session.scalar(sa.select(Survey).where(Survey.course_id == course_id)
                             .options(so.selectinload(Survey.questions)))


def survey_for(course: Course) -> Survey:
    """The course's survey, created from the default template the first time it is
    needed. Two requests at once create one (the unique course_id decides)."""
    found = survey_of(course.id)
    if found is not None:
        return found
    survey = Survey(course_id=course.id)
    try:
        with db.session.begin_nested():
            db.session.add(survey)
            db.session.flush()
            for position, (key, kind, text, required, in_person, choices) in enumerate(DEFAULT_QUESTIONS):
                db.session.add(SurveyQuestion(survey_id=survey.id, position=position * 10, key=key, kind=kind,
                                              text=dict(text), choices=[dict(c) for c in choices],
                                              required=required, in_person_only=in_person))
            db.session.flush()
    except sa.exc.IntegrityError:
        found = survey_of(course.id)
        if found is None:
            raise
        return found
    _sync_instructors(survey)
    db.session.refresh(survey)
    return survey


def _instructors(course_id: int, joined_after: dt.datetime | None = None) -> list[User]:
    stmt = (sa.select(User).join(CourseStaff, CourseStaff.user_id == User.id)
            .where(CourseStaff.course_id == course_id, CourseStaff.role.in_((StaffRole.LEAD, StaffRole.INSTRUCTOR)))
            .order_by(User.full_name, User.id))
    if joined_after is not None:
        stmt = stmt.where(CourseStaff.created_at > joined_after)
    return list(db.session.scalars(stmt))


def _sync_instructors(survey: Survey, *, joined_after: dt.datetime | None = None) -> None:
    """One "rate the instructor" question per lead or instructor on the staff. When the
    survey goes out, only people who joined the staff after it was created are added: a
    question the admin removed stays removed."""
    have = set(db.session.scalars(sa.select(SurveyQuestion.instructor_id).where(
        SurveyQuestion.survey_id == survey.id, SurveyQuestion.key == "instructor")))
    after_org = db.session.scalar(sa.select(SurveyQuestion.position).where(
        SurveyQuestion.survey_id == survey.id, SurveyQuestion.key == "organisation")) or 20
    for n, person in enumerate(_instructors(survey.course_id, joined_after)):
        if person.id in have:
            continue
        db.session.add(SurveyQuestion(
            survey_id=survey.id, position=after_org + 1 + n, key="instructor", kind=QuestionKind.LIKERT,
            instructor_id=person.id, text={lang: t.format(name=person.full_name) for lang, t in INSTRUCTOR_TEXT.items()}))
    db.session.flush()


def _editable(survey: Survey) -> None:
    if survey.invited_at is not None:
        raise SurveyLocked(_("The survey has been sent: its questions can no longer change."))


def _texts(texts: dict) -> dict:
    clean = {lang: (texts.get(lang) or "").strip() for lang in LANGS}
    if not clean["en"]:
        raise SurveyError(_("Write the question in English at least."), field="text_en")
    for lang in LANGS:
        if len(clean[lang]) > 500:
            raise SurveyError(_("A question has at most 500 characters."), field=f"text_{lang}")
        clean[lang] = clean[lang] or clean["en"]
    return clean


def parse_choices(lines: str) -> list[dict]:
    """Choices typed one per line as "English | Italiano | 中文" (the two others optional)."""
    choices, seen = [], set()
    for n, line in enumerate(x for x in (lines or "").splitlines() if x.strip()):
        parts = [p.strip() for p in line.split("|")]
        if len(parts) > 3:
            raise SurveyError(_("A choice has at most three texts: English | Italiano | 中文."), field="choices")
        en = parts[0]
        if not en or len(line) > 300:
            raise SurveyError(_("Each choice needs an English text of at most 300 characters."), field="choices")
        if en.casefold() in seen:
            raise SurveyError(_("Two choices have the same text."), field="choices")
        seen.add(en.casefold())
        choices.append({"value": f"c{n + 1}", "en": en, "it": (parts[1:2] or [""])[0] or en,
                        "zh": (parts[2:3] or [""])[0] or en})
    if len(choices) > 20:
        raise SurveyError(_("A question has at most 20 choices."), field="choices")
    return choices


def choices_as_text(question: SurveyQuestion) -> str:
    return "\n".join(" | ".join((c.get("en", ""), c.get("it", ""), c.get("zh", ""))) for c in question.choices)


def add_question(survey: Survey, actor: User, *, kind: QuestionKind, texts: dict, choices: str = "",
                 required: bool = False) -> SurveyQuestion:
    _editable(survey)
    parsed = parse_choices(choices) if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE) else []
    if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE) and len(parsed) < 2:
        raise SurveyError(_("A choice question needs at least two choices, one per line."), field="choices")
    last = db.session.scalar(sa.select(sa.func.max(SurveyQuestion.position)).where(SurveyQuestion.survey_id == survey.id))
    question = SurveyQuestion(survey_id=survey.id, position=(last or 0) + 10, kind=kind, text=_texts(texts),
                              choices=parsed, required=required)
    db.session.add(question)
    db.session.flush()
    record("survey.question_added", survey.course, actor=actor, question=question.id)
    return question


def update_question(survey: Survey, question: SurveyQuestion, actor: User, *, texts: dict, choices: str | None = None,
                    required: bool = False) -> None:
    _editable(survey)
    question.text = _texts(texts)
    question.required = required
    if question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE) and choices is not None:
        parsed = parse_choices(choices)
        if len(parsed) < 2:
            raise SurveyError(_("A choice question needs at least two choices, one per line."), field="choices")
        if question.key == "travel_mode":  # the impact report reads these values
            if [c["value"] for c in parsed] != [c["value"] for c in question.choices]:
                raise SurveyError(_("The travel choices can be reworded, not added or removed."), field="choices")
            parsed = [dict(c, value=old["value"]) for c, old in zip(parsed, question.choices, strict=True)]
        question.choices = parsed
    record("survey.question_changed", survey.course, actor=actor, question=question.id)


def remove_question(survey: Survey, question: SurveyQuestion, actor: User) -> None:
    _editable(survey)
    db.session.delete(question)
    db.session.flush()
    record("survey.question_removed", survey.course, actor=actor, question=question.id)


def move_question(survey: Survey, question: SurveyQuestion, actor: User, *, up: bool) -> None:
    _editable(survey)
    ordered = sorted(survey.questions, key=lambda q: (q.position, q.id))
    i = ordered.index(question)
    j = i - 1 if up else i + 1
    if 0 <= j < len(ordered):
        ordered[i], ordered[j] = ordered[j], ordered[i]
        for n, q in enumerate(ordered):
            q.position = n * 10
    db.session.flush()


def question_of(survey: Survey, question_id: int) -> SurveyQuestion:
    found = next((q for q in survey.questions if q.id == question_id), None)
    if found is None:
        raise NotFound(_("No such question."))
    return found


def asked(survey: Survey, course: Course) -> list[SurveyQuestion]:
    """The questions a person sees: travel only for activities in person."""
    return [q for q in sorted(survey.questions, key=lambda q: (q.position, q.id))
            if not (q.in_person_only and course.is_online)]


def text_of(value: dict, lang: str) -> str:
    return value.get(lang) or value.get("en") or ""


# --- the link -------------------------------------------------------------------------

def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="ponte-survey")


def token_for(survey: Survey, enrolment_id: int) -> str:
    return _serializer().dumps([survey.id, enrolment_id])


def read_token(token: str) -> tuple[int, int] | None:
    """(survey id, enrolment id) of a genuine link, else None. The link is the person's
    key: it works without signing in, once."""
    if len(token) > 200:
        return None
    try:
        value = _serializer().loads(token)
    except BadSignature:
        return None
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value)):
        return None
    return value[0], value[1]


def attended_enrolments(course_id: int) -> sa.Select:
    """Enrolments of people who held a place and were present (or late) at least once."""
    return (sa.select(Enrolment.id).where(
        Enrolment.course_id == course_id, Enrolment.status.in_(HOLDS_PLACE),
        sa.exists().where(Attendance.enrolment_id == Enrolment.id,
                          Attendance.status.in_((AttendanceStatus.PRESENT, AttendanceStatus.LATE)),
                          Attendance.session_id == CourseSession.id, CourseSession.course_id == course_id)))


def invitation(token: str, now: dt.datetime | None = None) -> tuple[Survey, Enrolment]:
    """The survey and enrolment a link opens, or a DomainError saying why not."""
    now = now or utcnow()
    ids = read_token(token)
    survey = db.session.get(Survey, ids[0]) if ids else None
    enrolment = db.session.get(Enrolment, ids[1]) if ids else None
    if survey is None or enrolment is None or enrolment.course_id != survey.course_id:
        raise NotFound(_("This survey link is not valid. Please use the link in your email as it is."))
    if survey.invited_at is None or enrolment.user.is_erased:
        raise NotFound(_("This survey link is not valid. Please use the link in your email as it is."))
    return survey, enrolment


def already_answered(survey: Survey, enrolment: Enrolment) -> bool:
    return db.session.scalar(sa.select(SurveyResponse.id).where(
        SurveyResponse.survey_id == survey.id, SurveyResponse.enrolment_id == enrolment.id)) is not None


class AlreadyAnswered(Conflict):
    pass


class SurveyClosed(DomainError):
    status_code = 410


class Problems(DomainError):
    """Answers that break a rule: `errors` maps question id → message. Nothing is saved."""

    def __init__(self) -> None:
        super().__init__(_("Some answers need another look."))
        self.errors: dict[int, str] = {}


def submit(token: str, raw: dict[int, list[str]], *, language: str, now: dt.datetime | None = None) -> SurveyResponse:
    """Save one person's answers, once. `raw`: question id → the submitted values."""
    now = now or utcnow()
    survey, enrolment = invitation(token, now)
    if not survey.is_open(now):
        raise SurveyClosed(_("This survey closed on %(date)s. Thank you all the same.",
                             date=local_date(survey.closes_at or now, enrolment.user.timezone).isoformat()))
    questions = asked(survey, survey.course)
    problems = Problems()
    answers = []
    for q in questions:
        values = [v.strip() for v in raw.get(q.id, []) if v is not None and v.strip()]
        if not values:
            if q.required:
                problems.errors[q.id] = _("Please answer this question.")
            continue
        answer = SurveyAnswer(question_id=q.id)
        if q.kind in (QuestionKind.LIKERT, QuestionKind.SCALE):
            low, high = (1, 5) if q.kind is QuestionKind.LIKERT else (0, 10)
            try:
                number = int(values[0])
            except ValueError:
                number = None
            if number is None or not low <= number <= high or len(values) > 1:
                problems.errors[q.id] = _("Choose a number from %(low)d to %(high)d.", low=low, high=high)
                continue
            answer.number = number
        elif q.kind is QuestionKind.SINGLE:
            allowed = {c["value"] for c in q.choices}
            if len(values) > 1 or values[0] not in allowed:
                problems.errors[q.id] = _("Choose one of the options.")
                continue
            answer.text = values[0]
        elif q.kind is QuestionKind.MULTIPLE:
            offered = [c["value"] for c in q.choices]
            if any(v not in offered for v in values):
                problems.errors[q.id] = _("Choose among the options.")
                continue
            answer.choices = [v for v in allowed if v in values]
        else:
            if len(values[0]) > MAX_TEXT:
                problems.errors[q.id] = _("At most %(max)d characters, please.", max=MAX_TEXT)
                continue
            if has_control_chars(values[0]):
                problems.errors[q.id] = _("This text contains characters that are not allowed.")
                continue
            answer.text = values[0]
        answers.append(answer)
    if problems.errors:
        raise problems
    response = SurveyResponse(survey_id=survey.id, enrolment_id=enrolment.id, language=language, submitted_at=now,
                              answers=answers)
    try:
        with db.session.begin_nested():
            db.session.add(response)
            db.session.flush()
    except sa.exc.IntegrityError:
        raise AlreadyAnswered(_("You have already answered this survey. Thank you!")) from None
    return response


# --- the jobs -------------------------------------------------------------------------

def send_invitations(now: dt.datetime | None = None) -> dict[str, int]:
    """When a course has ended (in its own zone), email everyone who attended a link to
    its survey, once. A compare-and-set on `invited_at` lets one scheduler send."""
    now = now or utcnow()
    today_utc = now.date()
    candidates = db.session.scalars(sa.select(Course.id).where(
        Course.status.in_((CourseStatus.PUBLISHED, CourseStatus.ARCHIVED)),
        Course.ends_on < today_utc + dt.timedelta(days=1),
        Course.ends_on >= today_utc - SEND_WITHIN,
        ~sa.exists().where(Survey.course_id == Course.id, Survey.invited_at.is_not(None)))).all()
    surveys = sent = 0
    for course_id in candidates:
        begin_write()
        course = db.session.get_one(Course, course_id)
        if local_date(now, course.timezone) <= course.ends_on:
            db.session.rollback()
            continue  # not over yet where it takes place
        people = db.session.scalars(sa.select(Enrolment).where(Enrolment.id.in_(attended_enrolments(course.id)))
                                    .options(so.joinedload(Enrolment.user))).all()
        survey = survey_for(course)
        _sync_instructors(survey, joined_after=survey.created_at)
        if not compare_and_set(survey, Survey.invited_at.is_(None), invited_at=now, closes_at=now + OPEN_FOR,
                               invited_count=len(people)):
            db.session.rollback()
            continue
        for e in people:
            if e.user.is_erased:
                continue
            if queue_email(e.user, "survey_invitation", dedupe_key=f"survey:{survey.id}:{e.id}", course=course,
                           token=token_for(survey, e.id), closes_at=survey.closes_at, reminder=False):
                sent += 1
        record("survey.sent", course, actor=None, people=len(people))
        surveys += 1
        db.session.commit()
    return {"surveys": surveys, "invitations": sent}


def send_reminders(now: dt.datetime | None = None) -> dict[str, int]:
    """Three days after the invitation, one reminder to those who have not answered."""
    now = now or utcnow()
    due = db.session.scalars(sa.select(Survey.id).where(
        Survey.invited_at.is_not(None), Survey.invited_at <= now - REMIND_AFTER, Survey.reminded_at.is_(None),
        Survey.closes_at > now)).all()
    sent = 0
    for survey_id in due:
        begin_write()
        survey = db.session.get_one(Survey, survey_id)
        if not compare_and_set(survey, Survey.reminded_at.is_(None), reminded_at=now):
            db.session.rollback()
            continue
        answered = sa.select(SurveyResponse.enrolment_id).where(SurveyResponse.survey_id == survey.id)
        people = db.session.scalars(sa.select(Enrolment).where(
            Enrolment.id.in_(attended_enrolments(survey.course_id)), Enrolment.id.not_in(answered))
            .options(so.joinedload(Enrolment.user))).all()
        for e in people:
            if e.user.is_erased:
                continue
            if queue_email(e.user, "survey_invitation", dedupe_key=f"survey-reminder:{survey.id}:{e.id}",
                           course=survey.course, token=token_for(survey, e.id), closes_at=survey.closes_at,
                           reminder=True):
                sent += 1
        db.session.commit()
    return {"reminders": sent}


def survey_mailings(now: dt.datetime | None = None) -> dict[str, int]:
    """The scheduler's job: invitations for courses just ended, then reminders."""
    return {**send_invitations(now), **send_reminders(now)}


def waiting_for(user: User, now: dt.datetime | None = None) -> list[tuple[Course, str]]:
    """Open surveys this person was invited to and has not answered: (course, link token)."""
    now = now or utcnow()
    rows = db.session.execute(
        sa.select(Survey, Enrolment.id).join(Enrolment, Enrolment.course_id == Survey.course_id)
        .where(Enrolment.user_id == user.id, Survey.invited_at.is_not(None), Survey.closes_at > now,
               Enrolment.status.in_(HOLDS_PLACE),
               sa.exists().where(Attendance.enrolment_id == Enrolment.id,
                                 Attendance.status.in_((AttendanceStatus.PRESENT, AttendanceStatus.LATE))),
               ~sa.exists().where(SurveyResponse.survey_id == Survey.id, SurveyResponse.enrolment_id == Enrolment.id))
        .options(so.joinedload(Survey.course))).all()
    return [(survey.course, token_for(survey, enrolment_id)) for survey, enrolment_id in rows]


def response_count(survey_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count(SurveyResponse.id)).where(SurveyResponse.survey_id == survey_id)) or 0
