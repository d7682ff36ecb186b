from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, ValidationError

from app.accounts.models import Gender, OrganisationType, Sector
from app.core.forms import (
    LANGUAGE_CHOICES,
    CountryField,
    Form,
    TimezoneField,
    country_choices,
    latin_script,
    strip,
    timezone_choices,
)

ORGANISATION_TYPE_LABELS = {
    OrganisationType.SME: _l("Small or medium enterprise"),
    OrganisationType.LARGE_COMPANY: _l("Large company"),
    OrganisationType.PUBLIC_ADMINISTRATION: _l("Public administration"),
    OrganisationType.UNIVERSITY: _l("University or research"),
    OrganisationType.NGO: _l("NGO"),
    OrganisationType.OTHER: _l("Other"),
}


def _password_field(label):  # noqa: ANN001
    return PasswordField(label, validators=[DataRequired(), Length(min=10, max=200)])


def _enum_choices(enum_cls) -> list[tuple[str, str]]:  # noqa: ANN001
    from app.core.labels import _BY_ENUM

    labels = _BY_ENUM[enum_cls.__name__]
    return [("", _l("— not stated —"))] + [(m.value, labels[m.value]) for m in enum_cls]


class _ReportingFields:
    """Optional, self-declared: the foundation reports whom its programmes reach (by
    gender, sector, role) and estimates travel from the city. Never shown to others."""

    city = StringField(_l("City"), filters=[strip], validators=[Optional(), Length(max=100)],
                       description=_l("Where you usually live or work, e.g. Milano or 上海."))
    gender = SelectField(_l("Gender"), choices=_enum_choices(Gender), validators=[Optional()])
    sector = SelectField(_l("Sector you work in"), choices=_enum_choices(Sector), validators=[Optional()])
    job_role = StringField(_l("Job role"), filters=[strip], validators=[Optional(), Length(max=120)],
                           description=_l("For example energy manager, procurement officer, PhD student."))

    def reporting_values(self) -> dict:
        return {"city": self.city.data, "job_role": self.job_role.data,
                "gender": Gender(self.gender.data) if self.gender.data else None,
                "sector": Sector(self.sector.data) if self.sector.data else None}

    def fill_reporting(self, user) -> None:  # noqa: ANN001
        self.gender.data = user.gender.value if user.gender else ""
        self.sector.data = user.sector.value if user.sector else ""


class ReportingForm(_ReportingFields, Form):
    submit = SubmitField(_l("Save"))
    dismiss = SubmitField(_l("Not now, don't ask again"))


class _ProfileFields(_ReportingFields):
    full_name = StringField(
        _l("Full name (Latin letters)"),
        filters=[strip],
        validators=[DataRequired(), Length(max=120), latin_script],
        description=_l("As it should appear on certificates, e.g. Wang Wei or Giulia Rossi."),
    )
    native_name = StringField(
        _l("Name in native script (optional)"),
        filters=[strip],
        validators=[Optional(), Length(max=120)],
        description=_l("For example 王伟."),
    )
    organisation = StringField(
        _l("Organisation"), filters=[strip], validators=[Optional(), Length(max=200)]
    )
    organisation_type = SelectField(
        _l("Type of organisation"),
        choices=[("", _l("— choose —"))] + [(k.value, v) for k, v in ORGANISATION_TYPE_LABELS.items()],
        validators=[Optional()],
    )
    country = CountryField(_l("Country"), validators=[Optional()])
    locale = SelectField(_l("Language"), choices=LANGUAGE_CHOICES, validators=[DataRequired()])
    timezone = TimezoneField(_l("Time zone"), validators=[DataRequired()])

    def fill_choices(self) -> None:
        self.country.choices = country_choices()
        self.timezone.choices = timezone_choices()


def _sendable(form, field) -> None:  # noqa: ANN001
    if not field.data.isascii():
        raise ValidationError(_l("Ponte cannot send email to addresses with characters other than Latin letters yet; "
                                 "please use another address."))


class RegisterForm(_ProfileFields, Form):
    email = EmailField(_l("Email"), filters=[strip], validators=[DataRequired(), Length(max=254), Email(), _sendable])
    password = _password_field(_l("Password (at least 10 characters)"))
    confirm = PasswordField(
        _l("Repeat the password"), validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))]
    )
    privacy_consent = BooleanField(
        _l("I agree that Ponte keeps my data to run the programmes I take part in."),
        validators=[DataRequired(message=_l("Please accept the privacy notice to create an account."))],
    )
    transfer_consent = BooleanField(
        _l("I live in China and agree that my data are transferred to the foundation in Italy to run the programmes "
           "(needed from people in China)."),
    )
    submit = SubmitField(_l("Create account"))


class LoginForm(Form):
    email = EmailField(_l("Email"), filters=[strip], validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    submit = SubmitField(_l("Log in"))


class ResetRequestForm(Form):
    email = EmailField(_l("Email"), filters=[strip], validators=[DataRequired(), Length(max=254), Email()])
    submit = SubmitField(_l("Send me a reset link"))


class ResetForm(Form):
    password = _password_field(_l("New password (at least 10 characters)"))
    confirm = PasswordField(
        _l("Repeat the password"), validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))]
    )
    submit = SubmitField(_l("Set new password"))


class ProfileForm(_ProfileFields, Form):
    submit = SubmitField(_l("Save profile"))


class PasswordChangeForm(Form):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=200)])
    password = _password_field(_l("New password (at least 10 characters)"))
    confirm = PasswordField(
        _l("Repeat the password"), validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))]
    )
    submit = SubmitField(_l("Change password"))


class LogoutEverywhereForm(Form):
    submit = SubmitField(_l("Log out on every other device"))


class LanguageForm(Form):
    lang = SelectField(choices=LANGUAGE_CHOICES)


class CodeForm(Form):
    """A code from the authenticator app (six digits) or, where allowed, a recovery code."""

    code = StringField(_l("Code"), filters=[strip], validators=[DataRequired(), Length(max=20)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True})
    submit = SubmitField(_l("Continue"))


class ConsentForm(Form):
    privacy = BooleanField(_l("I have read the privacy notice and agree that Ponte keeps my data as it describes."))
    transfer = BooleanField(_l("I agree that my personal data are transferred from China to the foundation in Italy, "
                               "which keeps them as the notice describes."))
    submit = SubmitField(_l("Agree and continue"))
