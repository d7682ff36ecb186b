from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.accounts.models import User
from app.catalogue.models import Course
from app.core.types import UTCDateTime, enum_column, utcnow
from app.enrolment.models import Enrolment
from app.extensions import Model


class QuestionKind(enum.Enum):
    LIKERT = "likert"      # 1–5
    SCALE = "scale"        # 0–10
    SINGLE = "single"      # one of the choices
    MULTIPLE = "multiple"  # any of the choices
    TEXT = "text"          # free text


class Survey(Model):
    """The survey of one course. Questions may change until the invitations go out
    (`invited_at`); it takes answers until `closes_at`."""

    __tablename__ = "survey"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    course_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"), unique=True)
    invited_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime(), index=True)
    reminded_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime())
    closes_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime())
    invited_count: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    updated_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    course: so.Mapped[Course] = so.relationship()
    questions: so.Mapped[list[SurveyQuestion]] = so.relationship(
        order_by="SurveyQuestion.position", cascade="all, delete-orphan", back_populates="survey")

    def is_open(self, now: dt.datetime) -> bool:
        return self.invited_at is not None and self.closes_at is not None and now < self.closes_at


class SurveyQuestion(Model):
    """One question, its text in every language ({"en": …, "it": …, "zh": …}) and, for
    choices, [{"value": …, "en": …, "it": …, "zh": …}]. `key` marks the questions the
    impact report reads (satisfaction, relevance, nps, knowledge_before, travel_mode …)."""

    __tablename__ = "survey_question"
    __table_args__ = (sa.UniqueConstraint("survey_id", "key", "instructor_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    survey_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    position: so.Mapped[int] = so.mapped_column(default=0)
    key: so.Mapped[str | None] = so.mapped_column(sa.String(40))
    kind: so.Mapped[QuestionKind] = so.mapped_column(enum_column(QuestionKind, "question_kind"))
    text: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    choices: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    required: so.Mapped[bool] = so.mapped_column(default=False)
    in_person_only: so.Mapped[bool] = so.mapped_column(default=False)
    # "Rate each instructor": one question per instructor, kept if the person leaves.
    instructor_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))

    survey: so.Mapped[Survey] = so.relationship(back_populates="questions")
    instructor: so.Mapped[User | None] = so.relationship()


class SurveyResponse(Model):
    """One person's answers. The enrolment is kept only so that a person answers once and
    finds their answers in their data export; no staff screen, report or export reads it."""

    __tablename__ = "survey_response"
    __table_args__ = (sa.UniqueConstraint("survey_id", "enrolment_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    survey_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    enrolment_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("enrolment.id", ondelete="CASCADE"), index=True)
    language: so.Mapped[str] = so.mapped_column(sa.String(5), default="en")
    submitted_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime(), default=utcnow)

    survey: so.Mapped[Survey] = so.relationship()
    enrolment: so.Mapped[Enrolment] = so.relationship()
    answers: so.Mapped[list[SurveyAnswer]] = so.relationship(cascade="all, delete-orphan", back_populates="response")


class SurveyAnswer(Model):
    __tablename__ = "survey_answer"
    __table_args__ = (sa.UniqueConstraint("response_id", "question_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    response_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("survey_response.id", ondelete="CASCADE"))
    question_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("survey_question.id", ondelete="CASCADE"),
                                                   index=True)
    number: so.Mapped[int | None] = so.mapped_column()        # Likert and scale
    text: so.Mapped[str | None] = so.mapped_column(sa.Text)    # free text, single choice value
    choices: so.Mapped[list | None] = so.mapped_column(sa.JSON)  # multiple choice values

    response: so.Mapped[SurveyResponse] = so.relationship(back_populates="answers")
    question: so.Mapped[SurveyQuestion] = so.relationship()
