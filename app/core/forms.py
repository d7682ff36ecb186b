"""Form fields and validators shared by every domain."""
from __future__ import annotations

import unicodedata

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SubmitField
from wtforms.validators import ValidationError

from app.core.http import has_control_chars
from app.core.timezones import COMMON_ZONES, all_zones, is_valid_zone


class Form(FlaskForm):
    """Every Ponte form. Before any other check (some reach the database), text with
    control characters is refused with a message on its field: PostgreSQL cannot store
    NUL, and nothing a person types contains them."""

    def validate(self, extra_validators=None) -> bool:  # noqa: ANN001
        refused = False
        for field in self:
            values = field.data if isinstance(field.data, list | tuple) else [field.data]
            if any(isinstance(v, str) and has_control_chars(v) for v in values):
                field.errors = [_l("This text contains characters that are not allowed.")]
                refused = True
        if refused:
            return False
        return super().validate(extra_validators)

_NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ", "XK"}


def country_choices() -> list[tuple[str, str]]:
    locale = get_locale()
    names = locale.territories if locale else {}
    choices = [(code, name) for code, name in names.items() if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES]
    choices.sort(key=lambda item: item[1])
    return [("", _l("— choose —"))] + choices


def timezone_choices() -> list[tuple[str, str]]:
    common = [(z, z.replace("_", " ")) for z in COMMON_ZONES]
    rest = [(z, z.replace("_", " ")) for z in all_zones() if z not in COMMON_ZONES]
    return common + rest


LANGUAGE_CHOICES = [("en", "English"), ("it", "Italiano"), ("zh", "中文（简体）")]


class TimezoneField(SelectField):
    def __init__(self, label=None, validators=None, **kwargs):  # noqa: ANN001
        super().__init__(label, validators, choices=[], validate_choice=False, **kwargs)

    def pre_validate(self, form) -> None:  # noqa: ANN001
        if not is_valid_zone(self.data):
            raise ValidationError(_l("Unknown time zone."))


class CountryField(SelectField):
    def __init__(self, label=None, validators=None, **kwargs):  # noqa: ANN001
        super().__init__(label, validators, choices=[], validate_choice=False, **kwargs)

    def pre_validate(self, form) -> None:  # noqa: ANN001
        if self.data and self.data not in {code for code, _name in country_choices()}:
            raise ValidationError(_l("Unknown country."))


def latin_script(form, field) -> None:  # noqa: ANN001
    """Letters of the Latin script (with accents), spaces, hyphens, apostrophes and dots."""
    for char in field.data or "":
        if char in " -'.’":
            continue
        if char.isalpha() and "LATIN" in unicodedata.name(char, ""):
            continue
        if not char.isalpha():  # "<b>", digits, emoji: not a matter of script
            raise ValidationError(_l("A name may hold letters, spaces, hyphens, apostrophes and dots only."))
        raise ValidationError(
            _l("Please write this name in Latin letters; there is a separate field for your name in another script.")
        )


def strip(value):  # noqa: ANN001
    return value.strip() if isinstance(value, str) else value


class ConfirmForm(Form):
    """A button with a CSRF token: enrol, withdraw, approve, send the link again."""

    submit = SubmitField()
