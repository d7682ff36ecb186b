from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from app.core.forms import ConfirmForm, Form, strip  # noqa: F401 - ConfirmForm is used from here too


class ApplicationForm(Form):
    motivation = TextAreaField(
        _l("Why do you want to take part?"),
        filters=[strip],
        validators=[DataRequired(), Length(min=20, max=4000)],
        description=_l("A few sentences on your work and what you hope to learn (20 to 4000 characters)."),
    )
    submit = SubmitField(_l("Send application"))


def application_form_for(questions: list[str], formdata=None) -> ApplicationForm:  # noqa: ANN001
    """The application form with one answer field per question the course asks."""

    class _Form(ApplicationForm):
        pass

    for i, question in enumerate(questions):
        setattr(_Form, f"answer_{i}", TextAreaField(
            question, filters=[strip], validators=[DataRequired(), Length(max=2000)]))
    return _Form(formdata=formdata) if formdata is not None else _Form()


class ReasonForm(Form):
    reason = TextAreaField(
        _l("Reason (sent to the participant)"),
        filters=[strip],
        validators=[DataRequired(), Length(max=2000)],
    )
    submit = SubmitField()


class AddParticipantForm(Form):
    email = EmailField(_l("Email of the participant's account"), filters=[strip],
                       validators=[DataRequired(), Length(max=254), Email()])
    submit = SubmitField(_l("Add participant"))


class BulkForm(Form):
    action = SelectField(choices=[("approve", _l("Approve")), ("reject", _l("Reject"))], validators=[DataRequired()])
    reason = TextAreaField(_l("Reason for rejections"), filters=[strip], validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Apply to selected"))


class EnrolmentFilterForm(Form):
    class Meta:
        csrf = False

    status = SelectField(validators=[Optional()], validate_choice=False)
    q = StringField(filters=[strip], validators=[Optional(), Length(max=100)])
