"""What schedule asks of teaching, which it may not import: whether a cohort is one of a
course's, and whether someone is on a course's staff. Teaching answers (its receivers
live in `teaching.access`); with nobody answering, the answer is no."""
from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: Sent with a course id as sender and `cohort_id`; a receiver returns whether that cohort
#: belongs to the course.
cohort_of_course = _signals.signal("cohort-of-course")

#: Sent with a course id as sender and `user_id`; a receiver returns whether that user is
#: on the course's staff (any role, any cohort).
on_course_staff = _signals.signal("on-course-staff")


def cohort_belongs(cohort_id: int, course_id: int) -> bool:
    return any(answer for _receiver, answer in cohort_of_course.send(course_id, cohort_id=cohort_id))


def on_staff(course_id: int, user_id: int) -> bool:
    return any(answer for _receiver, answer in on_course_staff.send(course_id, user_id=user_id))
