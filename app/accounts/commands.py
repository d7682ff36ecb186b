from __future__ import annotations

import secrets

import click
from flask.cli import AppGroup

from app.accounts.models import Role
from app.accounts.services import AccountError, Registration, find_user_by_email, register_user, set_role
from app.extensions import db

users_cli = AppGroup("users", help="Manage user accounts.")


@users_cli.command("create-admin")
@click.argument("email")
@click.option("--name", default="Administrator", help="Full name in Latin script.")
@click.option("--password", default=None, help="Prompted for when omitted; use '-' to generate one.")
def create_admin(email: str, name: str, password: str | None) -> None:
    """Create an admin account, or make an existing account admin."""
    user = find_user_by_email(email)
    if user is not None:
        set_role(user, Role.ADMIN, actor=None)
        db.session.commit()
        click.echo(f"{user.email} is now an admin.")
        return
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    elif password == "-":
        password = secrets.token_urlsafe(12)
        click.echo(f"Generated password: {password}")
    if len(password) < 10:
        raise click.ClickException("The password needs at least 10 characters.")
    try:
        user = register_user(
            Registration(email=email, password=password, full_name=name, privacy_consent=True), role=Role.ADMIN,
            verified=True,  # made by an operator on the server: the address is vouched for
        )
    except AccountError as exc:
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"Admin {user.email} created.")
