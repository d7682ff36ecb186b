from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
    URLField,
    widgets,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from app.core.forms import CountryField, Form, TimezoneField, country_choices, strip, timezone_choices
from app.core.labels import label
from app.schedule.models import SessionKind

WEEKDAYS = [(0, _l("Mon")), (1, _l("Tue")), (2, _l("Wed")), (3, _l("Thu")), (4, _l("Fri")), (5, _l("Sat")), (6, _l("Sun"))]
HTTPS = Regexp(r"^https://[^\s<>\"']+$", message=_l("Give a full https:// address."))


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class SessionForm(Form):
    title = StringField(_l("Title"), filters=[strip], validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), validators=[DataRequired()])
    day = DateField(_l("Day"), validators=[InputRequired()])
    start = TimeField(_l("Starts"), validators=[InputRequired()], description=_l("In the course's time zone."))
    end = TimeField(_l("Ends"), validators=[InputRequired()])
    venue_id = SelectField(_l("Venue"), coerce=int, validators=[Optional()])
    join_url = URLField(_l("Join link (online sessions)"), filters=[strip], validators=[Optional(), Length(max=500), HTTPS],
                        description=_l("Shown only to accepted participants and staff."))
    instructor_ids = SelectMultipleField(_l("Instructors"), coerce=int, validators=[Optional()])
    cohort_id = SelectField(_l("For"), coerce=int, validators=[Optional()])
    capacity = IntegerField(_l("Own places (sign-up needed)"), validators=[Optional(), NumberRange(min=1, max=10000)],
                            description=_l("For a bus or a small room; empty means everyone in the course."))
    is_mandatory = BooleanField(_l("Mandatory for the completion certificate"))
    counts_for_attendance = BooleanField(_l("Counts for attendance"), default=True)
    description = TextAreaField(_l("Description"), filters=[strip], validators=[Optional(), Length(max=10000)])
    repeat = RadioField(_l("Repeat"), choices=[("none", _l("Once")), ("daily", _l("Every day")), ("weekly", _l("Every week on"))],
                        default="none")
    weekdays = MultiCheckboxField(_l("Weekdays"), coerce=int, choices=WEEKDAYS, validators=[Optional()])
    until = DateField(_l("Until"), validators=[Optional()])
    scope = RadioField(_l("Apply to"), choices=[("this", _l("This session only")), ("following", _l("This and the following sessions of the series"))],
                       default="this")
    override_reason = StringField(_l("Book anyway, because…"), filters=[strip], validators=[Optional(), Length(max=500)],
                                  description=_l("Only when the room or an instructor is already booked."))
    # The version of the session the form was opened on: saving from an older tab is refused.
    version = HiddenField(validators=[Optional(), Regexp(r"^\d{1,9}$")])
    submit = SubmitField(_l("Save"))

    def fill_choices(self, venues, instructors, cohorts) -> None:  # noqa: ANN001
        self.kind.choices = [(k.value, label(k)) for k in SessionKind]
        self.venue_id.choices = [(0, _l("— none —"))] + [(v.id, f"{v.name}" + (f" ({v.city})" if v.city else "")) for v in venues]
        self.instructor_ids.choices = [(u.id, u.display_name if on_staff else _l("%(name)s (joins the staff)", name=u.display_name))
                                       for u, on_staff in instructors]
        self.cohort_id.choices = [(0, _l("The whole course"))] + [(c.id, c.name) for c in cohorts]


class CancelSessionForm(Form):
    reason = StringField(_l("Reason (sent to participants)"), filters=[strip], validators=[Optional(), Length(max=500)])
    scope = RadioField(choices=[("this", _l("This session only")), ("following", _l("This and the following sessions of the series"))],
                       default="this")
    submit = SubmitField(_l("Cancel session"))


class VenueForm(Form):
    name = StringField(_l("Name"), filters=[strip], validators=[DataRequired(), Length(max=200)])
    address = StringField(_l("Address"), filters=[strip], validators=[Optional(), Length(max=300)])
    city = StringField(_l("City"), filters=[strip], validators=[Optional(), Length(max=100)])
    country = CountryField(_l("Country"), validators=[Optional()])
    timezone = TimezoneField(_l("Time zone"), validators=[DataRequired()])
    capacity = IntegerField(_l("Capacity"), validators=[Optional(), NumberRange(min=1, max=100000)])
    is_online = BooleanField(_l("Online room"))
    submit = SubmitField(_l("Save"))

    def fill_choices(self) -> None:
        self.country.choices = country_choices()
        self.timezone.choices = timezone_choices()
