from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from app.catalogue.models import CourseKind, Programme
from app.extensions import db

impact_cli = AppGroup("impact", help="Impact reports.")


def _date(_ctx, _param, value: str | None) -> dt.date | None:  # noqa: ANN001
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("write dates as YYYY-MM-DD") from None


@impact_cli.command("report")
@click.option("--programme", "programme_slug", help="A programme's address (slug); all programmes when left out.")
@click.option("--from", "date_from", callback=_date, help="First day (YYYY-MM-DD); a year ago when left out.")
@click.option("--to", "date_to", callback=_date, help="Last day (YYYY-MM-DD); today when left out.")
@click.option("--kind", type=click.Choice([k.value for k in CourseKind]), help="Only activities of this kind.")
@click.option("--city", help="Only activities in this city.")
@click.option("--lang", type=click.Choice(["en", "it", "zh"]), default="en", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="Where to write the PDF.")
def report(programme_slug: str | None, date_from: dt.date | None, date_to: dt.date | None, kind: str | None,
           city: str | None, lang: str, output: str | None) -> None:
    """Write the PDF impact report, as the dashboard's "PDF report" button does."""
    from app.impact import metrics
    from app.impact.reports import render

    base = metrics.default_filters()
    programme_id = None
    if programme_slug:
        programme_id = db.session.scalar(sa.select(Programme.id).where(Programme.slug == programme_slug))
        if programme_id is None:
            raise click.ClickException(f"No programme with the address {programme_slug!r}.")
    f = metrics.Filters(date_from or base.date_from, date_to or base.date_to, programme_id,
                        CourseKind(kind) if kind else None, city)
    if f.date_to < f.date_from:
        raise click.ClickException("--to is before --from.")
    with click.progressbar(length=100, label="Building the impact report") as bar:
        state = {"done": 0}

        def progress(percent: int) -> None:
            bar.update(percent - state["done"])
            state["done"] = percent

        pdf = render(f, lang, progress=progress)
        progress(100)
    path = Path(output or f"impact-report-{f.date_from}-{f.date_to}-{lang}.pdf")
    path.write_bytes(pdf)
    click.echo(f"Wrote {path} ({len(pdf):,} bytes).")
