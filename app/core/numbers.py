"""Numbers as each language writes them: "66,7%" and "0,8" in Italian, "66.7%" in English.
One decimal at most, none when it is zero.

A roster formats hundreds of numbers: the locale and the parsed patterns are looked up
once (cached), not parsed again for every number as `babel.numbers.format_*` would."""
from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.numbers import NumberPattern, parse_pattern
from flask_babel import get_locale


@lru_cache(maxsize=8)
def _locale(identifier: str) -> Locale:
    return Locale.parse(identifier)


@lru_cache(maxsize=16)
def _percent_pattern(locale: Locale) -> NumberPattern:
    return parse_pattern(locale.percent_formats[None])


DECIMAL = parse_pattern("#,##0.#")


def _current() -> Locale:
    return _locale(str(get_locale() or "en"))


def percent(rate: float | None) -> str:
    """A rate given in percent (66.666 → "66.7%", "66,7%")."""
    locale = _current()
    return _percent_pattern(locale).apply(Decimal(str(round((rate or 0) / 100, 3))), locale, decimal_quantization=False)


def decimal(value: float | None) -> str:
    """Hours and the like, to one decimal (0.75 → "0.8", "0,8"; 9.0 → "9")."""
    return DECIMAL.apply(Decimal(str(value or 0)), _current())
