from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    FieldList,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.core.forms import LANGUAGE_CHOICES, Form, strip


class SignatoryForm(Form):
    class Meta:
        csrf = False

    name = StringField(_l("Name"), filters=[strip], validators=[Optional(), Length(max=120)])
    title = StringField(_l("Title"), filters=[strip], validators=[Optional(), Length(max=120)])
    image = FileField(_l("Signature image (PNG or JPEG, up to 512 KB)"))
    remove_image = BooleanField(_l("Remove the image"))


class CertificateSettingsForm(Form):
    offers_attendance_certificate = BooleanField(_l("Offer a certificate of attendance"))
    offers_completion_certificate = BooleanField(_l("Offer a certificate of completion"))
    min_attendance_rate = IntegerField(_l("Minimum attendance for completion (%)"),
                                       validators=[InputRequired(), NumberRange(min=0, max=100)])
    auto_issue_after_days = IntegerField(_l("Issue automatically this many days after the end"),
                                         validators=[Optional(), NumberRange(min=0, max=365)],
                                         description=_l("Empty: only by hand."))
    signatories = FieldList(FormField(SignatoryForm), min_entries=3, max_entries=3)
    submit = SubmitField(_l("Save"))


class IssueForm(Form):
    enrolment_id = IntegerField(validators=[InputRequired(), NumberRange(min=1, max=2**31 - 1)])
    kind = SelectField(choices=[("attendance", ""), ("completion", "")], validators=[DataRequired()])
    language = SelectField(_l("Language"), choices=[("", _l("The holder's language"))] + LANGUAGE_CHOICES,
                           validators=[Optional()])
    submit = SubmitField(_l("Issue"))


class RevokeForm(Form):
    reason = TextAreaField(_l("Reason (shown on the verification page)"), filters=[strip],
                           validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField(_l("Revoke"))


class VerifyForm(Form):
    class Meta:
        csrf = False  # a public lookup that changes nothing

    serial = StringField(_l("Serial"), filters=[strip], validators=[DataRequired(), Length(max=32)],
                         render_kw={"placeholder": "PONTE-2026-000042"})
    code = StringField(_l("Verification code"), filters=[strip], validators=[DataRequired(), Length(max=40)],
                       render_kw={"placeholder": "K1-XXXX-XXXX-XXXX-XXXX"})
    submit = SubmitField(_l("Verify"))
