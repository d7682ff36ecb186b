"""factory_boy factories. They commit, so that requests made by the test client see the rows."""
from __future__ import annotations

import datetime as dt
from functools import lru_cache

import factory
from factory.alchemy import SQLAlchemyModelFactory

from app.accounts.models import Role, User
from app.accounts.passwords import hash_password
from app.catalogue.models import Course, CourseKind, CourseStatus, EnrolmentMode, Programme
from app.core.types import utcnow
from app.enrolment.models import Enrolment, EnrolmentStatus
from app.extensions import db
from app.schedule.models import CourseSession, SessionKind, Venue
from config import Config

PASSWORD = "correct-horse-battery"


@lru_cache(maxsize=1)
def _password_hash() -> str:
    return hash_password(PASSWORD)


class Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"


class UserFactory(Base):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    password_hash = factory.LazyFunction(_password_hash)
    full_name = factory.Sequence(lambda n: f"Test User {n}")
    locale = "en"
    timezone = "Europe/Rome"
    role = Role.PARTICIPANT
    country = "IT"
    privacy_consent_at = factory.LazyFunction(utcnow)
    email_verified_at = factory.LazyFunction(utcnow)  # UserFactory(email_verified_at=None): not confirmed yet
    privacy_version = Config.PONTE_PRIVACY_VERSION  # agreed to the current notice
    transfer_version = factory.LazyAttribute(lambda u: Config.PONTE_PRIVACY_VERSION if u.country == "CN" else None)


class ProgrammeFactory(Base):
    class Meta:
        model = Programme

    slug = factory.Sequence(lambda n: f"programme-{n}")
    title = factory.Sequence(lambda n: f"Programme {n}")


class VenueFactory(Base):
    class Meta:
        model = Venue

    name = factory.Sequence(lambda n: f"Room {n}")
    city = "Rome"
    country = "IT"
    timezone = "Europe/Rome"
    capacity = 50


class CourseFactory(Base):
    class Meta:
        model = Course

    slug = factory.Sequence(lambda n: f"course-{n}")
    title = factory.Sequence(lambda n: f"Course {n}")
    summary = "A course about sustainability."
    kind = CourseKind.COURSE
    timezone = "Europe/Rome"
    city = "Rome"
    starts_on = factory.LazyFunction(lambda: utcnow().date() + dt.timedelta(days=30))
    ends_on = factory.LazyAttribute(lambda o: o.starts_on + dt.timedelta(days=4))
    capacity = 10
    enrolment_mode = EnrolmentMode.OPEN
    status = CourseStatus.PUBLISHED
    enrolment_opens_at = factory.LazyFunction(lambda: utcnow() - dt.timedelta(days=10))
    enrolment_closes_at = factory.LazyAttribute(
        lambda o: dt.datetime.combine(o.starts_on, dt.time(0), dt.UTC)
    )
    withdrawal_deadline = factory.LazyAttribute(
        lambda o: dt.datetime.combine(o.starts_on - dt.timedelta(days=2), dt.time(0), dt.UTC)
    )


class SessionFactory(Base):
    class Meta:
        model = CourseSession

    course = factory.SubFactory(CourseFactory)
    title = factory.Sequence(lambda n: f"Session {n}")
    kind = SessionKind.LECTURE
    starts_at = factory.LazyAttribute(
        lambda o: dt.datetime.combine(o.course.starts_on, dt.time(8, 0), dt.UTC)
    )
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + dt.timedelta(hours=2))


class EnrolmentFactory(Base):
    class Meta:
        model = Enrolment

    course = factory.SubFactory(CourseFactory)
    user = factory.SubFactory(UserFactory)
    status = EnrolmentStatus.ACCEPTED
