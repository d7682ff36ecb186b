"""Post-course surveys: a survey per course from a default template, sent and closed by
jobs, answered through a signed one-click link, reported only in aggregate."""
