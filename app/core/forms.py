"""Form fields and validators shared by every domain."""
from __future__ import annotations

import unicodedata

from flask_babel import get_locale, lazy_gettext as _l
from wtforms import SelectField
from wtforms.validators import ValidationError

from app.core.timezones import COMMON_ZONES, all_zones, is_valid_zone

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
        raise ValidationError(
            _l("Please write this name in Latin letters; there is a separate field for your name in another script.")
        )


def no_control_chars(form, field) -> None:  # noqa: ANN001
    if field.data and any(unicodedata.category(c) == "Cc" and c not in "\r\n\t" for c in field.data):
        raise ValidationError(_l("This text contains characters that are not allowed."))


def strip(value):  # noqa: ANN001
    return value.strip() if isinstance(value, str) else value
