"""Every periodic job, in one table: id to (function, trigger arguments). The scheduler
runs them, run-now requests name them, and the jobs command looks them up."""
from __future__ import annotations

from collections.abc import Callable

from app.certificates.batches import run_queued_batches
from app.feedback.services import survey_mailings
from app.impact.reports import build_pending_reports
from app.jobs import doctor, services
from app.notifications.services import deliver_pending
from app.privacy import export, retention


def job_table() -> dict[str, tuple[Callable[[], dict | None], dict]]:
    """Every periodic job: id → (function, trigger arguments)."""
    return {
        "deliver_outbox": (deliver_pending, {"trigger": "interval", "seconds": 10}),
        "session_reminders": (services.send_session_reminders, {"trigger": "interval", "seconds": 60}),
        "certificate_batches": (run_queued_batches, {"trigger": "interval", "seconds": 15}),
        "auto_issue_certificates": (services.auto_issue_certificates, {"trigger": "interval", "minutes": 30}),
        "promote_waitlists": (services.promote_waitlists, {"trigger": "interval", "minutes": 10}),
        "expire_reset_tokens": (services.expire_reset_tokens, {"trigger": "interval", "hours": 6}),
        "prune_job_runs": (services.prune_job_runs, {"trigger": "cron", "hour": 3, "minute": 40}),
        "purge_unverified_accounts": (services.purge_unverified_accounts, {"trigger": "cron", "hour": 3, "minute": 50}),
        "apply_retention": (retention.apply_retention, {"trigger": "cron", "hour": 3, "minute": 55}),
        "survey_mailings": (survey_mailings, {"trigger": "interval", "minutes": 15}),
        "impact_reports": (build_pending_reports, {"trigger": "interval", "seconds": 30}),
        "build_exports": (export.build_pending_exports, {"trigger": "interval", "seconds": 60}),
        "doctor": (doctor.nightly, {"trigger": "cron", "hour": 4, "minute": 10}),
    }
