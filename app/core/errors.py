from __future__ import annotations


class DomainError(Exception):
    """A business rule said no. `message` is already translated for the user."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409

