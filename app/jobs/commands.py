from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

scheduler_cli = AppGroup("scheduler", help="The background scheduler (exactly one per deployment).")


@scheduler_cli.command("run")
def run() -> None:
    """Run the scheduler in this process until SIGTERM or SIGINT."""
    from app.jobs.scheduler import run_forever

    click.echo("Ponte scheduler running (UTC). Stop with Ctrl-C.")
    run_forever(current_app._get_current_object())  # type: ignore[attr-defined]


@scheduler_cli.command("run-once")
@click.argument("jobs", nargs=-1)
def run_once(jobs: tuple[str, ...]) -> None:
    """Run the named jobs (or all) once, recorded like scheduled runs, then exit."""
    from app.jobs.scheduler import run_recorded
    from app.jobs.table import job_table

    table = job_table()
    unknown = [j for j in jobs if j not in table]
    if unknown:
        raise click.ClickException(f"Unknown job(s): {', '.join(unknown)}. Known: {', '.join(table)}.")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    from app.jobs.requests import take_requests

    take_requests(list(jobs or table))  # a waiting "Run now" of these jobs is answered by this run
    for job_id in jobs or table:
        run_recorded(app, job_id, table[job_id][0])
        click.echo(f"ran {job_id}")


@click.command("doctor")
@with_appcontext
def doctor_command() -> None:
    """Check the invariants (places, certificates, waiting lists, outbox, batches).
    Reads only; exits 1 naming every violation."""
    from app.jobs.doctor import examine

    failed = 0
    for name, problems in examine().items():
        click.echo(("FAIL " if problems else "ok   ") + name)
        for problem in problems:
            click.echo(f"       {problem}")
        failed += len(problems)
    if failed:
        raise SystemExit(1)
    click.echo("All invariants hold.")
