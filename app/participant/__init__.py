"""The participant's own area (/me): spans enrolments, timetable and certificates, so it
sits at the top of the import order beside `admin`."""
