"""Signals that let higher packages add to catalogue pages without being imported here."""
from blinker import Namespace

_signals = Namespace()

#: Sent while rendering a course page, with `course` and `user`; each receiver returns a
#: dict merged into the template context (enrolment panel, instructors, schedule preview).
course_page = _signals.signal("course-page")

#: Sent, inside the changer's transaction, when a course's capacity changed, with the
#: course as sender. Enrolment fills the new places from the waiting list.
capacity_changed = _signals.signal("capacity-changed")
