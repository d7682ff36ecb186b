"""Translated labels for enum values, in one place for every template and email."""
from __future__ import annotations

import enum

from flask_babel import get_locale, lazy_pgettext
from flask_babel import lazy_gettext as _l

_LABELS = {
    # course kinds
    "summer_school": _l("Summer School"),
    "winter_school": _l("Winter School"),
    "course": _l("Course"),
    "seminar": _l("Seminar"),
    "forum": _l("Forum"),
    "site_visit": _l("Site visit"),
    "webinar": _l("Webinar"),
    "workshop": _l("Workshop"),
    # session kinds not above
    "lecture": _l("Lecture"),
    "assessment": _l("Assessment"),
    "break": _l("Break"),
    # course status
    "draft": _l("Draft"),
    "published": _l("Published"),
    "cancelled": _l("Cancelled"),
    "archived": _l("Archived"),
    # enrolment
    "open": _l("Open enrolment"),
    "approval": _l("Application reviewed by staff"),
    "pending": _l("Application under review"),
    "accepted": _l("Accepted"),
    "waitlisted": _l("On the waiting list"),
    "rejected": _l("Not accepted"),
    "withdrawn": _l("Withdrawn"),
    "completed": _l("Passed"),  # the instructor's outcome; "completion" is the certificate's rule
    "not_completed": _l("Not passed"),
    # roles
    "participant": _l("Participant"),
    "instructor": _l("Instructor"),
    "admin": _l("Administrator"),
    "lead": _l("Lead instructor"),
    "assistant": _l("Assistant"),
    # organisation types
    "sme": _l("Small or medium enterprise"),
    "large_company": _l("Large company"),
    "public_administration": _l("Public administration"),
    "university": _l("University or research"),
    "ngo": _l("NGO"),
    "other": _l("Other"),
    # attendance
    "present": _l("Present"),
    "late": _l("Late"),
    "absent": _l("Absent"),
    "excused": _l("Excused"),
    # attendance methods
    "sheet": _l("Attendance sheet"),
    "self_checkin": _l("Self check-in"),
    "import": _l("Import"),
    # background work
    "queued": _l("Waiting to start"),
    "running": _l("Running"),
    "done": _l("Done"),
    "failed": _l("Failed"),
    "success": _l("Succeeded"),
    "error": _l("Error"),
    "sent": _l("Sent"),
    "sending": _l("Sending"),
    # certificates
    "attendance": _l("Certificate of attendance"),
    "completion": _l("Certificate of completion"),
    "valid": _l("Valid"),
    "revoked": _l("Revoked"),
    "superseded": _l("Superseded"),
    # languages
    "en": _l("English"),
    "it": _l("Italian"),
    "zh": _l("Chinese"),
}


# Where one value means different things in different enums, the enum's class decides
# (an email "pending" is waiting to be sent, not an application under review).
_BY_ENUM = {
    "OutboxStatus": {
        "pending": _l("Waiting to be sent"),
        "sending": _l("Sending"),
        "sent": _l("Sent"),
        "failed": _l("Failed"),
    },
    "BatchStatus": {"queued": _l("Waiting to start")},
    # The state of an enrolment, not of a person: Italian agrees with "l'iscrizione",
    # never with the participant's gender (context "enrolment status").
    "EnrolmentStatus": {
        "accepted": lazy_pgettext("enrolment status", "Accepted"),
        "rejected": lazy_pgettext("enrolment status", "Not accepted"),
        "withdrawn": lazy_pgettext("enrolment status", "Withdrawn"),
        "cancelled": lazy_pgettext("enrolment status", "Cancelled"),
        "completed": lazy_pgettext("enrolment status", "Passed"),
        "not_completed": lazy_pgettext("enrolment status", "Not passed"),
    },
    "JobOutcome": {"running": _l("Running")},
    # Self-declared, for reports (accounts.models.Gender)
    "Gender": {
        "woman": _l("Woman"),
        "man": _l("Man"),
        "non_binary": _l("Non-binary"),
        "undisclosed": _l("Prefer not to say"),
    },
    "Sector": {
        "energy": _l("Energy"),
        "manufacturing": _l("Manufacturing"),
        "construction": _l("Construction and buildings"),
        "transport": _l("Transport and mobility"),
        "agriculture_food": _l("Agriculture and food"),
        "water_waste": _l("Water and waste"),
        "environment": _l("Environmental services"),
        "finance": _l("Finance"),
        "ict": _l("Information technology"),
        "public_sector": _l("Public sector"),
        "education_research": _l("Education and research"),
        "civil_society": _l("Civil society"),
        "other": _l("Other"),
    },
    "QuestionKind": {
        "likert": _l("Rating 1–5"),
        "scale": _l("Scale 0–10"),
        "single": _l("One choice"),
        "multiple": _l("Several choices"),
        "text": _l("Free text"),
    },
    "TravelMode": {
        "plane": _l("Plane"),
        "train": _l("Train"),
        "car": _l("Car"),
        "bus": _l("Bus or coach"),
        "local": _l("Local (walk, bike, public transport in town)"),
    },
}


def label(value: object) -> str:
    """The translated label of an enum member (or of a bare value). Labels are fixed for
    a language, so each is translated once per language and process (rosters show
    hundreds)."""
    if not isinstance(value, enum.Enum):  # only the finite set of members is kept
        return _label(value)
    key = (str(get_locale() or "en"), type(value).__name__, value.value)
    found = _TRANSLATED.get(key)
    if found is None:
        found = _TRANSLATED[key] = _label(value)
    return found


_TRANSLATED: dict[tuple, str] = {}


def _label(value: object) -> str:
    if isinstance(value, enum.Enum):
        special = _BY_ENUM.get(type(value).__name__, {}).get(str(value.value))
        if special is not None:
            return str(special)
        key = value.value
    else:
        key = value
    found = _LABELS.get(str(key))
    return str(found) if found is not None else str(key)
