"""Access decorators for whole areas, by role. Object-level rules live with their domain
(e.g. `teaching.access` for course staff)."""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user

from app.accounts.models import Role


def roles_required(*roles: Role):
    """Only users with one of `roles`; anonymous users go to the login page.

    Others get 404, not 403: an area they cannot use is not advertised.
    """

    def decorator(view):  # noqa: ANN001
        @wraps(view)
        def wrapped(*args, **kwargs):  # noqa: ANN002, ANN003
            from app.extensions import login_manager

            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(404)
            return view(*args, **kwargs)

        return wrapped

    return decorator


admin_required = roles_required(Role.ADMIN)
staff_required = roles_required(Role.ADMIN, Role.INSTRUCTOR)
