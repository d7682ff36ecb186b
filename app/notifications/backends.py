"""Mail backends: `smtp` (production), `file` (development, .eml files), `memory` (tests)."""
from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path

from flask import Flask, current_app


class MailBackend:
    def send(self, message: EmailMessage) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class MemoryBackend(MailBackend):
    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> None:
        self.sent.append(message)


class FileBackend(MailBackend):
    def __init__(self, directory: str) -> None:
        self.directory = Path(directory)

    def send(self, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = message["Message-ID"].strip("<>").replace("@", "_").replace("/", "_")
        path = self.directory / f"{name}.eml"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(bytes(message))
        tmp.replace(path)


class SMTPBackend(MailBackend):
    def __init__(self, app: Flask) -> None:
        self.config = app.config

    def send(self, message: EmailMessage) -> None:
        c = self.config
        timeout = c["MAIL_TIMEOUT"]
        if c["MAIL_USE_SSL"]:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                c["MAIL_SERVER"], c["MAIL_PORT"], timeout=timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(c["MAIL_SERVER"], c["MAIL_PORT"], timeout=timeout)
        with client:
            if c["MAIL_USE_TLS"] and not c["MAIL_USE_SSL"]:
                client.starttls(context=ssl.create_default_context())
            if c["MAIL_USERNAME"]:
                client.login(c["MAIL_USERNAME"], c["MAIL_PASSWORD"] or "")
            client.send_message(message)


def get_backend() -> MailBackend:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    backend = app.extensions.get("ponte_mail")
    if backend is None:
        name = app.config["MAIL_BACKEND"]
        if name == "memory":
            backend = MemoryBackend()
        elif name == "file":
            backend = FileBackend(app.config["MAIL_OUTBOX_DIR"])
        elif name == "smtp":
            backend = SMTPBackend(app)
        else:
            raise RuntimeError(f"MAIL_BACKEND must be smtp, file or memory, not {name!r}")
        app.extensions["ponte_mail"] = backend
    return backend
