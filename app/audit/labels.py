"""What each audit action means, in the reader's language (the admin home lists them)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

ACTIONS = {
    "attendance.marked": _l("Attendance recorded"),
    "certificate.batch_requested": _l("Certificates requested for everyone eligible"),
    "certificate.issued": _l("Certificate issued"),
    "certificate.revoked": _l("Certificate revoked"),
    "cohort.assigned": _l("Participants moved to a cohort"),
    "cohort.balanced": _l("Cohorts balanced"),
    "cohort.created": _l("Cohort created"),
    "cohort.deleted": _l("Cohort deleted"),
    "cohort.emailed": _l("Email sent to participants"),
    "cohort.renamed": _l("Cohort renamed"),
    "course.archived": _l("Activity archived"),
    "course.cancelled": _l("Activity cancelled"),
    "course.capacity_changed": _l("Number of places changed"),
    "course.certificate_settings": _l("Certificate settings changed"),
    "course.created": _l("Activity created"),
    "course.published": _l("Activity published"),
    "course_staff.added": _l("Staff member added"),
    "course_staff.removed": _l("Staff member removed"),
    "enrolment.accepted": _l("Enrolment accepted"),
    "enrolment.added_by_staff": _l("Participant added by staff"),
    "enrolment.cancelled": _l("Enrolment cancelled"),
    "enrolment.completed": _l("Recorded as passed"),
    "enrolment.completion_recorded": _l("Completion recorded"),
    "enrolment.not_completed": _l("Recorded as not passed"),
    "enrolment.pending": _l("Application received"),
    "enrolment.promoted": _l("Promoted from the waiting list"),
    "enrolment.rejected": _l("Application not accepted"),
    "enrolment.waitlisted": _l("Put on the waiting list"),
    "enrolment.withdrawn": _l("Participant withdrew"),
    "job.requested": _l("Background job started by hand"),
    "outbox.resent": _l("Email sent again"),
    "programme.created": _l("Programme created"),
    "session.cancelled": _l("Session cancelled"),
    "session.conflict_overridden": _l("Session booked despite a clash"),
    "session.created": _l("Session created"),
    "session.declined": _l("Participant not coming to a session"),
    "session.signed_up": _l("Place on a session booked"),
    "session.signup_cancelled": _l("Place on a session given back"),
    "session.signup_released": _l("Place on a session released"),
    "session.updated": _l("Session changed"),
    "user.calendar_token_regenerated": _l("Calendar address renewed"),
    "user.password_changed": _l("Password changed"),
    "user.password_reset": _l("Password reset"),
    "user.password_reset_requested": _l("Password reset requested"),
    "user.profile_updated": _l("Profile updated"),
    "user.registered": _l("Account created"),
    "user.role_changed": _l("Role changed"),
    "venue.created": _l("Venue created"),
}


def action_label(action: str) -> str:
    found = ACTIONS.get(action)
    return str(found) if found is not None else action
