from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from app.core.forms import Form, strip
from app.core.labels import label
from app.teaching.models import StaffRole


class CohortForm(Form):
    name = StringField(_l("Name"), filters=[strip], validators=[DataRequired(), Length(max=100)])
    submit = SubmitField(_l("Save"))


class BalanceForm(Form):
    by_country = BooleanField(_l("Keep people of one country together"))
    submit = SubmitField(_l("Balance automatically"))


class EmailCohortForm(Form):
    cohort_id = SelectField(_l("To"), coerce=int, validators=[Optional()])
    subject = StringField(_l("Subject"), filters=[strip], validators=[DataRequired(), Length(max=150)])
    body = TextAreaField(_l("Message"), filters=[strip], validators=[DataRequired(), Length(max=10000)])
    submit = SubmitField(_l("Send"))


class CheckinForm(Form):
    code = StringField(_l("Check-in code"), filters=[strip], validators=[DataRequired(), Length(max=20)],
                       render_kw={"inputmode": "numeric", "autocomplete": "one-time-code"})
    submit = SubmitField(_l("Check in"))


class StaffForm(Form):
    email = EmailField(_l("Email of the person's account"), filters=[strip], validators=[DataRequired(), Email(), Length(max=254)])
    role = SelectField(_l("Role"), validators=[DataRequired()])
    cohort_id = SelectField(_l("For"), coerce=int, validators=[Optional()])
    submit = SubmitField(_l("Add to staff"))

    def fill_choices(self, cohorts) -> None:  # noqa: ANN001
        self.role.choices = [(r.value, label(r)) for r in StaffRole]
        self.cohort_id.choices = [(0, _l("The whole course"))] + [(c.id, c.name) for c in cohorts]
