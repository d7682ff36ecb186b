"""Job runs are kept PONTE_JOB_RUN_RETENTION_DAYS days (30 by default) and pruned by a
nightly job, itself recorded like every other."""
import datetime as dt

import sqlalchemy as sa
import time_machine

from app.extensions import db
from app.jobs import services as jobs
from app.jobs.models import JobRun
from app.jobs.scheduler import build_scheduler, run_recorded
from app.jobs.table import job_table

UTC = dt.UTC
START = dt.datetime(2027, 3, 1, 2, 0, tzinfo=UTC)


def _runs(app) -> list[tuple[str, dt.datetime]]:
    with app.app_context():
        return [(r.job_id, r.started_at) for r in db.session.scalars(sa.select(JobRun).order_by(JobRun.id))]


def test_runs_older_than_30_days_are_pruned_and_the_rest_kept(app):
    with time_machine.travel(START, tick=False) as traveller:
        run_recorded(app, "promote_waitlists", jobs.promote_waitlists)  # day 0
        traveller.shift(dt.timedelta(days=29))
        run_recorded(app, "promote_waitlists", jobs.promote_waitlists)  # day 29
        traveller.shift(dt.timedelta(days=1, seconds=1))  # day 30 and a second: the first is 30 days old
        run_recorded(app, "prune_job_runs", jobs.prune_job_runs)
        kept = _runs(app)
        assert kept == [("promote_waitlists", START + dt.timedelta(days=29)),
                        ("prune_job_runs", START + dt.timedelta(days=30, seconds=1))]
        with app.app_context():
            pruning = db.session.scalar(sa.select(JobRun).where(JobRun.job_id == "prune_job_runs"))
            assert pruning.counts == {"deleted": 1} and pruning.outcome.value == "success"
        run_recorded(app, "prune_job_runs", jobs.prune_job_runs)  # again at once: nothing more to do
        assert len(_runs(app)) == 3


def test_the_retention_is_configurable(app):
    app.config["PONTE_JOB_RUN_RETENTION_DAYS"] = 7
    with time_machine.travel(START, tick=False) as traveller:
        run_recorded(app, "promote_waitlists", jobs.promote_waitlists)
        traveller.shift(dt.timedelta(days=6, hours=23))
        with app.app_context():
            assert jobs.prune_job_runs() == {"deleted": 0}
        traveller.shift(dt.timedelta(hours=2))
        with app.app_context():
            assert jobs.prune_job_runs() == {"deleted": 1}
    assert _runs(app) == []


def test_pruning_is_a_nightly_job_with_the_usual_settings(app):
    assert job_table()["prune_job_runs"][0] is jobs.prune_job_runs
    scheduler = build_scheduler(app)
    job = scheduler.get_job("prune_job_runs")
    assert job.name == "prune_job_runs" and job.func is run_recorded  # recorded like the others
    assert scheduler._job_defaults == {"max_instances": 1, "coalesce": True, "misfire_grace_time": 60}
    fire_times = [job.trigger.get_next_fire_time(None, START + dt.timedelta(days=d)) for d in range(3)]
    assert [t - fire_times[0] for t in fire_times] == [dt.timedelta(days=d) for d in range(3)]  # once a day
    assert all(t.hour == 3 and t.minute == 40 and t.utcoffset() == dt.timedelta(0) for t in fire_times)
