"""Numbers as each language writes them: "66,7%" and "0,8" in Italian, "66.7%" in English.
One decimal at most, none when it is zero."""
from __future__ import annotations

from babel.numbers import format_decimal, format_percent
from flask_babel import get_locale


def _locale() -> str:
    return str(get_locale() or "en")


def percent(rate: float | None) -> str:
    """A rate given in percent (66.666 → "66.7%", "66,7%")."""
    return format_percent(round((rate or 0) / 100, 3), locale=_locale(), decimal_quantization=False)


def decimal(value: float | None) -> str:
    """Hours and the like, to one decimal (0.75 → "0.8", "0,8"; 9.0 → "9")."""
    return format_decimal(value or 0, "#,##0.#", locale=_locale())
