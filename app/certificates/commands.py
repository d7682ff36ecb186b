from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from app.catalogue.models import Course
from app.extensions import db

certificates_cli = AppGroup("certificates", help="Certificates.")


@certificates_cli.command("issue")
@click.argument("slug")
def issue_course(slug: str) -> None:
    """Issue every certificate a course's participants qualify for and lack (idempotent)."""
    from app.certificates.services import issue_all
    from app.notifications.services import deliver_pending

    course = db.session.scalar(sa.select(Course).where(Course.slug == slug))
    if course is None:
        raise click.ClickException(f"No course with the address {slug!r}.")
    with click.progressbar(length=1, label=f"Issuing certificates for {course.title}") as bar:
        state = {"done": 0}

        def progress(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - state["done"])
            state["done"] = done
            db.session.commit()

        issued, considered = issue_all(course, None, on_progress=progress)
    db.session.commit()
    deliver_pending()
    click.echo(f"{issued} certificate(s) issued; {considered - issued} were issued meanwhile by someone else.")
