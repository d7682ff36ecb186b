"""The instructor's area (/teach): one blueprint, its routes in three modules.

`common` holds the blueprint; `enrolments` (courses, enrolment decisions),
`course_sessions` (a course's sessions and the instructor's timetable) and `attendance`
(rosters, cohorts, attendance sheets, check-in screens, completion) attach their routes
to it when imported here, once, by create_app.
"""
from app.teaching.views import attendance, course_sessions, enrolments  # noqa: F401 - attach their routes
from app.teaching.views.common import bp

__all__ = ["bp"]
