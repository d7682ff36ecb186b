import datetime as dt

import sqlalchemy as sa
import time_machine

from app.accounts.models import Role
from app.extensions import db
from app.jobs import services as jobs
from app.notifications import services as outbox
from app.notifications.models import OutboxMessage, OutboxStatus
from app.schedule import services as schedule
from tests.factories import CourseFactory, EnrolmentFactory, SessionFactory, UserFactory

UTC = dt.UTC


def _queue(n=3):
    for i in range(n):
        outbox.queue_email(UserFactory(locale=["en", "it", "zh"][i % 3]), "password_reset", token=f"t{i}", minutes=60)
    db.session.commit()


def test_delivers_through_a_real_smtp_server_once(smtp_app, smtp_server):
    with smtp_app.app_context():
        _queue(3)
        assert outbox.deliver_pending() == {"sent": 3, "failed": 0, "retry": 0}
        assert outbox.deliver_pending() == {"sent": 0, "failed": 0, "retry": 0}
        statuses = db.session.scalars(sa.select(OutboxMessage.status)).all()
    assert statuses == [OutboxStatus.SENT] * 3
    assert len(smtp_server.messages) == 3
    subjects = sorted(m["Subject"] for m in smtp_server.messages)
    assert subjects == sorted(["Reset your Ponte password", "Reimposta la password di Ponte", "重置您的 Ponte 密码"])
    assert all(m["Message-ID"].startswith("<ponte-outbox-") for m in smtp_server.messages)


def test_with_the_server_down_messages_wait_and_go_out_when_it_returns(smtp_app, smtp_server):
    smtp_server.stop()
    start = dt.datetime.now(UTC)
    with smtp_app.app_context(), time_machine.travel(start, tick=False) as traveller:
        _queue(2)
        assert outbox.deliver_pending() == {"sent": 0, "failed": 0, "retry": 2}
        rows = db.session.scalars(sa.select(OutboxMessage)).all()
        assert {r.status for r in rows} == {OutboxStatus.PENDING} and all("Error" in r.last_error for r in rows)
        assert outbox.deliver_pending() == {"sent": 0, "failed": 0, "retry": 0}  # backing off: not due yet
        smtp_server.start()
        traveller.shift(dt.timedelta(seconds=31))
        assert outbox.deliver_pending() == {"sent": 2, "failed": 0, "retry": 0}
    assert len(smtp_server.messages) == 2


def test_each_persons_emails_leave_in_the_order_they_were_queued(smtp_app, smtp_server):
    """Found by a tester: a message backing off after a failure left after a newer one to the
    same person ("you have a place" before "you are on the waiting list"). A newer message
    now waits for the older; other people's mail is not held up."""
    smtp_server.stop()
    start = dt.datetime.now(UTC)
    with smtp_app.app_context(), time_machine.travel(start, tick=False) as traveller:
        wang, giulia = UserFactory(email="wang@example.cn"), UserFactory(email="giulia@example.org")
        for token in ("first", "second", "third"):
            outbox.queue_email(wang, "password_reset", token=token, minutes=60)
        db.session.commit()
        assert outbox.deliver_pending() == {"sent": 0, "failed": 0, "retry": 1}  # only the oldest was tried
        smtp_server.start()
        outbox.queue_email(giulia, "password_reset", token="hers", minutes=60)
        db.session.commit()
        assert outbox.deliver_pending() == {"sent": 1, "failed": 0, "retry": 0}  # Giulia's; Wang's wait
        assert ["giulia@example.org" in m["To"] for m in smtp_server.messages] == [True]
        traveller.shift(dt.timedelta(seconds=31))
        assert outbox.deliver_pending() == {"sent": 3, "failed": 0, "retry": 0}
    bodies = [m.get_body(("plain",)).get_content() for m in smtp_server.messages[1:]]
    assert [next(t for t in ("first", "second", "third") if f"/{t}" in b) for b in bodies] == ["first", "second", "third"]


def test_back_off_grows_then_the_message_fails_and_an_admin_can_resend(smtp_app, smtp_server):
    smtp_server.stop()
    start = dt.datetime.now(UTC)
    with smtp_app.app_context(), time_machine.travel(start, tick=False) as traveller:
        _queue(1)
        delays = []
        for _ in range(outbox.MAX_ATTEMPTS):
            outbox.deliver_pending()
            message = db.session.scalar(sa.select(OutboxMessage))
            if message.status is OutboxStatus.FAILED:
                break
            delays.append((message.next_attempt_at - dt.datetime.now(UTC)).total_seconds())
            traveller.shift(dt.timedelta(seconds=delays[-1] + 1))
        assert message.status is OutboxStatus.FAILED and message.attempts == outbox.MAX_ATTEMPTS
        assert delays == sorted(delays) and delays[0] == 30
        smtp_server.start()
        outbox.resend(message.id, UserFactory(role=Role.ADMIN))
        db.session.commit()
        assert outbox.deliver_pending()["sent"] == 1


def test_a_sender_killed_mid_send_loses_nothing_and_sends_once(smtp_app, smtp_server):
    start = dt.datetime.now(UTC)
    with smtp_app.app_context(), time_machine.travel(start, tick=False) as traveller:
        _queue(1)
        message = db.session.scalar(sa.select(OutboxMessage))
        assert outbox.claim(message.id, "dead-worker:1")  # then the process died
        assert outbox.deliver_pending()["sent"] == 0  # still claimed by the dead one
        traveller.shift(outbox.CLAIM_TIMEOUT + dt.timedelta(seconds=1))
        assert outbox.deliver_pending()["sent"] == 1
        assert outbox.deliver_pending()["sent"] == 0
    assert len(smtp_server.messages) == 1


def _session_in(course, hours):
    start = dt.datetime(2027, 3, 10, 9, 0, tzinfo=UTC)
    return SessionFactory(course=course, starts_at=start, ends_at=start + dt.timedelta(hours=hours))


def test_reminders_24h_and_1h_once_each_cohort_aware_in_language_and_zone(app):
    start = dt.datetime(2027, 3, 10, 9, 0, tzinfo=UTC)
    with app.app_context():
        course = CourseFactory(starts_on=dt.date(2027, 3, 8), ends_on=dt.date(2027, 3, 12), timezone="Europe/Rome")
        teacher = UserFactory(role=Role.INSTRUCTOR, locale="it", timezone="Europe/Rome")
        li = UserFactory(locale="zh", timezone="Asia/Shanghai")
        EnrolmentFactory(course=course, user=li)
        session = SessionFactory(course=course, starts_at=start, ends_at=start + dt.timedelta(hours=2),
                                 join_url="https://meet.example/x")
        session.instructors.append(teacher)
        db.session.commit()
        with time_machine.travel(start - dt.timedelta(hours=25), tick=False):
            assert jobs.send_session_reminders() == {"queued": 0}
        with time_machine.travel(start - dt.timedelta(hours=23), tick=False):
            assert jobs.send_session_reminders() == {"queued": 2}
            assert jobs.send_session_reminders() == {"queued": 0}  # twice: nobody gets it twice
        with time_machine.travel(start - dt.timedelta(minutes=59), tick=False):
            assert jobs.send_session_reminders() == {"queued": 2}
            assert jobs.send_session_reminders() == {"queued": 0}
        mails = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.recipient == li.email)
                                   .order_by(OutboxMessage.id)).all()
        assert [m.subject for m in mails] == [f"明天：{session.title}", f"一小时后：{session.title}"]
        assert "17:00–19:00" in mails[0].body_text and "https://meet.example/x" in mails[0].body_text
        assert mails[0].attachment_kind == "session_ics"
        # the .ics attachment is built when the message is sent
        name, content, maintype, subtype = outbox._attachments(mails[0])[0]
        assert (maintype, subtype) == ("text", "calendar") and b"BEGIN:VEVENT" in content and b"TZID=Europe/Rome" in content


def test_a_moved_session_gets_a_fresh_reminder_and_cancelled_ones_none(app):
    start = dt.datetime(2027, 3, 10, 9, 0, tzinfo=UTC)
    with app.app_context():
        course = CourseFactory(starts_on=dt.date(2027, 3, 8), ends_on=dt.date(2027, 3, 12))
        EnrolmentFactory(course=course)
        session = SessionFactory(course=course, starts_at=start, ends_at=start + dt.timedelta(hours=2))
        other = SessionFactory(course=course, starts_at=start, ends_at=start + dt.timedelta(hours=2))
        db.session.commit()
        with time_machine.travel(start - dt.timedelta(hours=20), tick=False):
            assert jobs.send_session_reminders() == {"queued": 2}
            data = schedule.data_of(session)
            data.start, data.end = dt.time(7, 0), dt.time(8, 0)  # earlier the same day: still within 24 h
            schedule.update_sessions(session, data, UserFactory())
            schedule.cancel_sessions(other, UserFactory())
            db.session.commit()
            assert jobs.send_session_reminders() == {"queued": 1}


def test_safety_net_promotes_a_forgotten_waiting_list_and_expires_reset_tokens(app):
    from app.accounts.models import PasswordResetToken
    from app.enrolment.models import Enrolment
    from app.enrolment.models import EnrolmentStatus as S

    with app.app_context():
        course = CourseFactory(capacity=2, seats_taken=1)
        EnrolmentFactory(course=course)
        waiting = EnrolmentFactory(course=course, status=S.WAITLISTED, waitlisted_at=dt.datetime.now(UTC))
        db.session.add(PasswordResetToken(user_id=UserFactory().id, token_hash="a" * 64,
                                          expires_at=dt.datetime.now(UTC) - dt.timedelta(days=3)))
        db.session.commit()
        assert jobs.promote_waitlists() == {"promoted": 1}
        assert db.session.get(Enrolment, waiting.id).status is S.ACCEPTED
        assert jobs.promote_waitlists() == {"promoted": 0}
        assert jobs.expire_reset_tokens() == {"deleted": 1}


def test_automatic_issue_after_n_days_and_one_closing_email(app):
    from app.certificates.models import Certificate
    from app.core.timezones import local_date
    from app.core.types import utcnow
    from app.enrolment.models import EnrolmentStatus as S
    from app.teaching.models import Attendance

    today = local_date(utcnow(), "Europe/Rome")  # the courses' own today (DESIGN.md rule 3)
    with app.app_context():
        course = CourseFactory(starts_on=today - dt.timedelta(days=6), ends_on=today - dt.timedelta(days=5),
                               auto_issue_after_days=3)
        later = CourseFactory(starts_on=today - dt.timedelta(days=3), ends_on=today - dt.timedelta(days=2),
                              auto_issue_after_days=3)
        for c in (course, later):
            s = SessionFactory(course=c)
            e = EnrolmentFactory(course=c, status=S.COMPLETED)
            db.session.add(Attendance(session_id=s.id, enrolment_id=e.id, status="present", method="sheet"))
        db.session.commit()
        assert jobs.auto_issue_certificates() == {"issued": 2, "closing_emails": 1, "courses_done": 1}
        # The course is marked done: it is not scanned again.
        assert jobs.auto_issue_certificates() == {"issued": 0, "closing_emails": 0, "courses_done": 0}
        assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 2
        closing = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.template == "course_closing"))
        assert closing.subject.startswith("Thank you for taking part")


def test_only_those_who_met_the_completion_rule_are_congratulated(app):
    """A forum: 'passed' with 2 of 3 hours (67 % of 75 %) is thanked, not congratulated;
    the one who met the rule is congratulated; the one who never came gets nothing."""
    from app.core.timezones import local_date
    from app.core.types import utcnow
    from app.enrolment.models import EnrolmentStatus as S
    from app.teaching.models import Attendance

    today = local_date(utcnow(), "Europe/Rome")
    with app.app_context():
        forum = CourseFactory(starts_on=today - dt.timedelta(days=6), ends_on=today - dt.timedelta(days=5),
                              auto_issue_after_days=3, min_attendance_rate=75)
        start = dt.datetime.combine(forum.starts_on, dt.time(8), dt.UTC)
        sessions = [SessionFactory(course=forum, starts_at=start + dt.timedelta(hours=2 * i),
                                   ends_at=start + dt.timedelta(hours=2 * i + 1)) for i in range(3)]
        full, partial, absent = (EnrolmentFactory(course=forum, status=S.COMPLETED) for _ in range(3))
        for enrolment, attended in ((full, sessions), (partial, sessions[:2])):
            for s in attended:
                db.session.add(Attendance(session_id=s.id, enrolment_id=enrolment.id, status="present", method="sheet"))
        db.session.commit()
        assert jobs.auto_issue_certificates()["closing_emails"] == 2
        bodies = {m.recipient: m.body_text for m in db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.template == "course_closing"))}
        assert "Congratulations on completing" in bodies[full.user.email]
        assert "Congratulations" not in bodies[partial.user.email]
        assert "Thank you for taking part in" in bodies[partial.user.email]
        assert absent.user.email not in bodies
