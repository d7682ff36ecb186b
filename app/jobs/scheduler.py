"""The one scheduler process: `flask scheduler run`. Web workers never build one."""
from __future__ import annotations

import contextlib
import logging
import signal
import socket
import threading
import traceback
from collections.abc import Callable

from apscheduler.events import EVENT_SCHEDULER_STARTED
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from app.core.db import begin_write, writer_transactions
from app.core.types import utcnow
from app.extensions import db
from app.jobs.models import JobOutcome, JobRun
from app.jobs.requests import take_requests
from app.jobs.table import job_table

log = logging.getLogger("ponte.scheduler")

JOB_DEFAULTS = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 60}


def run_recorded(app: Flask, job_id: str, func: Callable[[], dict | None]) -> None:
    """Run one job inside its own app context, record the run, roll back on error."""
    with app.app_context(), writer_transactions():
        run = JobRun(job_id=job_id, host=f"{socket.gethostname()}"[:100])
        db.session.add(run)
        db.session.commit()
        run_id = run.id
        try:
            counts = func() or {}
        except Exception as exc:  # noqa: BLE001 - recorded, never kills the scheduler
            db.session.rollback()
            begin_write()
            run = db.session.get_one(JobRun, run_id)
            run.outcome = JobOutcome.ERROR
            run.error = "".join(traceback.format_exception(exc))[-4000:]
            log.exception("job %s failed", job_id)
        else:
            db.session.rollback()  # jobs commit their own work; drop anything left half-done
            begin_write()
            run = db.session.get_one(JobRun, run_id)
            run.outcome = JobOutcome.SUCCESS
            run.counts = counts
            if any(counts.values()):
                log.info("job %s: %s", job_id, counts)
        run.finished_at = utcnow()
        db.session.commit()
        db.session.remove()


def run_requested(app: Flask) -> None:
    """Run the jobs an admin asked for ("run now" rows)."""
    with app.app_context():
        requested = take_requests()
        db.session.remove()
    table = job_table()
    for job_id in requested:
        run_recorded(app, job_id, table[job_id][0])


def build_scheduler(app: Flask) -> BlockingScheduler:
    scheduler = BlockingScheduler(timezone="UTC", job_defaults=JOB_DEFAULTS)
    for job_id, (func, trigger) in job_table().items():
        scheduler.add_job(run_recorded, args=(app, job_id, func), id=job_id, name=job_id, replace_existing=True,
                          next_run_time=utcnow(), **trigger)
    scheduler.add_job(run_requested, args=(app,), id="run_requested", name="run_requested", replace_existing=True,
                      trigger="interval", seconds=5)
    return scheduler


def run_forever(app: Flask) -> None:
    """Run until SIGTERM or SIGINT, then let running jobs finish and exit cleanly.

    The signal handler only asks: a helper thread calls shutdown(), which waits for the
    scheduler's loop to let go of its lock (shutting down from inside the handler, in the
    middle of that loop, breaks it). A signal before the loop started is honoured as soon
    as it starts.
    """
    scheduler = build_scheduler(app)
    stop_asked = threading.Event()

    def _shutdown() -> None:
        # Running jobs finish their transaction; not started yet: _started() comes back here.
        with contextlib.suppress(SchedulerNotRunningError):
            scheduler.shutdown(wait=True)

    def _stop(signum, _frame):  # noqa: ANN001
        log.info("signal %s: stopping the scheduler", signum)
        stop_asked.set()
        threading.Thread(target=_shutdown, name="scheduler-shutdown").start()

    def _started(_event) -> None:  # noqa: ANN001
        log.info("scheduler started with jobs: %s", ", ".join(job.id for job in scheduler.get_jobs()))
        if stop_asked.is_set():
            threading.Thread(target=_shutdown, name="scheduler-shutdown").start()

    scheduler.add_listener(_started, EVENT_SCHEDULER_STARTED)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    scheduler.start()  # returns once shut down
    log.info("scheduler stopped")
