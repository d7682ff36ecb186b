"""Exactly once, proven with real processes: two schedulers at once (a deploy overlap)
deliver each message once and queue each reminder once; SIGTERM stops one cleanly."""
import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from app.extensions import db
from app.jobs.models import JobRun
from app.notifications import services as outbox
from app.notifications.models import OutboxMessage, OutboxStatus
from tests.conftest import Config
from tests.factories import CourseFactory, EnrolmentFactory, SessionFactory, UserFactory
from tests.integrity.harness import assert_doctor_clean

ROOT = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).parent / "flask")


def _env(smtp_port: int) -> dict:
    env = dict(os.environ)
    env.update({
        "FLASK_APP": "wsgi.py", "PONTE_CONFIG": "development", "DATABASE_URL": Config.SQLALCHEMY_DATABASE_URI,
        "SECRET_KEY": "testing-only-not-secret", "MAIL_BACKEND": "smtp", "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp_port), "PONTE_INSTANCE_DIR": os.environ["PONTE_INSTANCE_DIR"],
    })
    return env


def test_two_schedulers_at_once_send_every_message_and_reminder_exactly_once(app, smtp_server):
    now = dt.datetime.now(dt.UTC)
    with app.app_context():
        for i in range(40):
            outbox.queue_email(UserFactory(), "password_reset", token=f"t{i}", minutes=60)
        course = CourseFactory(starts_on=now.date(), ends_on=now.date() + dt.timedelta(days=2))
        for _ in range(10):
            EnrolmentFactory(course=course)
        course.seats_taken = 10  # the factory enrols directly: count their places
        SessionFactory(course=course, starts_at=now + dt.timedelta(hours=5), ends_at=now + dt.timedelta(hours=7))
        db.session.commit()
        db.session.remove()
    env = _env(smtp_server.port)
    for _round in range(3):
        procs = [subprocess.Popen([FLASK, "scheduler", "run-once", "session_reminders", "deliver_outbox"], cwd=ROOT,
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(2)]
        outputs = [p.communicate(timeout=120)[0].decode() for p in procs]
        assert [p.returncode for p in procs] == [0, 0], outputs
    with app.app_context():
        statuses = db.session.scalars(sa.select(OutboxMessage.status)).all()
        reminders = db.session.scalar(sa.select(sa.func.count()).where(OutboxMessage.template == "session_reminder"))
        runs = db.session.scalar(sa.select(sa.func.count(JobRun.id)))
    assert reminders == 10  # one per participant, however many schedulers ran
    assert statuses.count(OutboxStatus.SENT) == 50 and len(statuses) == 50
    assert len(smtp_server.messages) == 50
    assert len({m["Message-ID"] for m in smtp_server.messages}) == 50
    assert runs == 12
    assert_doctor_clean(app)  # the invariants hold after the race


def test_the_scheduler_process_starts_and_stops_cleanly_on_sigterm(app, smtp_server):
    proc = subprocess.Popen([FLASK, "scheduler", "run"], cwd=ROOT, env=_env(smtp_server.port),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in proc.stdout:  # wait for it to say it started: no sleeping
        lines.append(line)
        if "scheduler started with jobs" in line:
            break
    assert "deliver_outbox" in lines[-1] and "session_reminders" in lines[-1]
    proc.send_signal(signal.SIGTERM)
    rest = proc.communicate(timeout=60)[0]
    assert proc.returncode == 0, rest
    assert "scheduler stopped" in rest


def test_job_settings_and_run_now_requests(app):
    from app.accounts.models import Role
    from app.jobs.requests import request_run
    from app.jobs.scheduler import build_scheduler, run_requested

    scheduler = build_scheduler(app)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) >= {"deliver_outbox", "session_reminders", "certificate_batches", "auto_issue_certificates",
                         "promote_waitlists", "expire_reset_tokens", "run_requested"}
    assert str(scheduler.timezone) == "UTC"
    assert scheduler._job_defaults == {"max_instances": 1, "coalesce": True, "misfire_grace_time": 60}
    with app.app_context():
        request_run("promote_waitlists", UserFactory(role=Role.ADMIN))
        db.session.commit()
    run_requested(app)
    run_requested(app)  # taken once
    with app.app_context():
        runs = db.session.scalars(sa.select(JobRun.job_id)).all()
    assert runs == ["promote_waitlists"]


def test_admin_jobs_page_run_now_and_resend(app, client):
    from app.accounts.models import Role
    from app.jobs.models import JobRequest

    with app.app_context():
        UserFactory(email="admin@example.org", role=Role.ADMIN)
        UserFactory(email="p@example.org")
        message = outbox.queue_email(UserFactory(), "password_reset", token="t", minutes=60)
        message.status = OutboxStatus.FAILED
        message.last_error = "SMTPServerDisconnected: gone"
        message_id = message.id
        db.session.commit()
    client.post("/auth/login", data={"email": "p@example.org", "password": "correct-horse-battery"})
    assert client.get("/admin/jobs").status_code == 404
    assert client.post("/admin/jobs/deliver_outbox/run").status_code == 404
    client.post("/auth/logout")
    client.post("/auth/login", data={"email": "admin@example.org", "password": "correct-horse-battery"})
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert "SMTPServerDisconnected: gone" in page and "session_reminders" in page
    assert client.post("/admin/jobs/deliver_outbox/run").status_code == 302
    assert client.post("/admin/jobs/no_such_job/run").status_code == 404
    assert client.get("/admin/jobs?job=nope").status_code == 404
    assert client.post(f"/admin/outbox/{message_id}/resend").status_code == 302
    assert client.post("/admin/outbox/999999/resend").status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(JobRequest.job_id)) == "deliver_outbox"
        assert db.session.get(OutboxMessage, message_id).status is OutboxStatus.PENDING
