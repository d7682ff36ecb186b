from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

scheduler_cli = AppGroup("scheduler", help="The background scheduler (exactly one per deployment).")


@scheduler_cli.command("run")
def run() -> None:
    """Run the scheduler in this process until SIGTERM or SIGINT."""
    from app.jobs.scheduler import run_forever

    click.echo("Ponte scheduler running (UTC). Stop with Ctrl-C.")
    run_forever(current_app._get_current_object())  # type: ignore[attr-defined]
