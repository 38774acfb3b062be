"""The shipped worlds (2023, the default, and 2012): `World`, `load_world()`, `synthetic_world()`.

Owns reading the built tables in `world/` (2023) and `world_2012/`; `build.py` and
`build_2012.py` make them from `sources/` (`agreements.py`: the agreement table),
`synthetic.py` makes random gravity-shaped worlds for tests and benchmarks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

WORLD_DIR = Path(__file__).parent / "world"
WORLD_2012_DIR = Path(__file__).parent / "world_2012"
WORLD_DIRS = {2023: WORLD_DIR, 2012: WORLD_2012_DIR}  # base year -> shipped folder
SOURCES_DIR = Path(__file__).parent / "sources"

PROVENANCES = ("observed", "mirror", "share-derived", "imputed", "domestic", "residual")
INDICATORS = ("china_export_share", "us_export_share", "china_import_share", "us_import_share")


@dataclass(frozen=True, eq=False)
class World:
    """A calibrated world of n economies; every array is indexed in the order of `iso3`.

    Attributes:
        iso3: ISO3 codes (EUU = EU-27, ROW = rest of world).
        name: display names.
        is_lac: True for Latin American and Caribbean economies.
        gdp: GDP in current USD.
        population: population (persons).
        lat, lon: capital coordinates in degrees (ROW: a nominal point, see docs/data.md).
        distance_km: n×n great-circle distances between capitals (0 on the diagonal).
        flows: n×n goods flows X[exporter, importer] in USD, domestic sales on the diagonal.
        provenance: n×n cell provenance (observed / mirror / share-derived / imputed /
            domestic / residual).
        tariff: n×n applied ad-valorem rate (fraction) charged by importer j on goods from i.
        memberships: agreements (bloc, bloc_type, iso3, entry_year, status, preferential, ...).
        investment: base-year stocks (source, host, kind, value_usd, note).
        growth: baseline real GDP growth per year (fraction).
        targets: calibration targets (iso3, indicator, value, bound).
        base_year: the calibration year.
    """

    iso3: tuple[str, ...]
    name: tuple[str, ...]
    is_lac: np.ndarray
    gdp: np.ndarray
    population: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    distance_km: np.ndarray
    flows: np.ndarray
    provenance: np.ndarray
    tariff: np.ndarray
    memberships: pd.DataFrame
    investment: pd.DataFrame
    growth: np.ndarray
    targets: pd.DataFrame
    base_year: int = 2023
    _position: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n = len(self.iso3)
        if len(set(self.iso3)) != n or len(self.name) != n:
            raise ValueError("iso3 codes must be unique and match the names")
        for key in ("is_lac", "gdp", "population", "lat", "lon", "growth"):
            if getattr(self, key).shape != (n,):
                raise ValueError(f"World.{key} must have shape ({n},)")
        for key in ("distance_km", "flows", "provenance", "tariff"):
            if getattr(self, key).shape != (n, n):
                raise ValueError(f"World.{key} must have shape ({n}, {n})")
            getattr(self, key).setflags(write=False)
        for key in ("is_lac", "gdp", "population", "lat", "lon", "growth"):
            getattr(self, key).setflags(write=False)
        object.__setattr__(self, "_position", {code: i for i, code in enumerate(self.iso3)})

    @property
    def n(self) -> int:
        """Number of economies."""
        return len(self.iso3)

    @property
    def lac(self) -> list[str]:
        """ISO3 codes of the Latin American and Caribbean economies, in the world's order."""
        return [code for code, lac in zip(self.iso3, self.is_lac, strict=True) if lac]

    def index(self, iso3: str) -> int:
        """Return the array position of an economy.

        Args:
            iso3: the economy's code, e.g. "BRA".

        Raises:
            KeyError: the code is not in this world (the message lists the valid codes).
        """
        try:
            return self._position[iso3]
        except KeyError:
            raise KeyError(
                f"unknown economy {iso3!r}; valid codes: {', '.join(self.iso3)}"
            ) from None


def read_world(directory: Path | str = WORLD_DIR, base_year: int = 2023) -> World:
    """Read a built world from its CSV tables (see `geosim.data.build`).

    Args:
        directory: folder with countries.csv, flows.csv, tariffs.csv, distances.csv,
            memberships.csv, investment.csv and targets.csv.
        base_year: the year the tables describe (2023 for `world/`, 2012 for `world_2012/`).
    """
    d = Path(directory)
    countries = pd.read_csv(d / "countries.csv", keep_default_na=False)
    iso3 = tuple(countries["iso3"])
    pos = {code: i for i, code in enumerate(iso3)}
    n = len(iso3)

    def square(table: str, row: str, col: str, value: str, fill: object, dtype: object):
        frame = pd.read_csv(d / table, keep_default_na=False)
        out = np.full((n, n), fill, dtype=dtype)
        out[frame[row].map(pos).to_numpy(), frame[col].map(pos).to_numpy()] = frame[value]
        return out

    flows = square("flows.csv", "exporter", "importer", "value_usd", 0.0, float)
    provenance = square("flows.csv", "exporter", "importer", "provenance", "", "<U13")
    tariff = square("tariffs.csv", "exporter", "importer", "rate", 0.0, float)
    distance = square("distances.csv", "origin", "destination", "distance_km", 0.0, float)
    distance = np.maximum(distance, distance.T)
    return World(
        iso3=iso3,
        name=tuple(countries["name"]),
        is_lac=countries["is_lac"].to_numpy(bool),
        gdp=countries["gdp_usd"].to_numpy(float),
        population=countries["population"].to_numpy(float),
        lat=countries["lat"].to_numpy(float),
        lon=countries["lon"].to_numpy(float),
        distance_km=distance,
        flows=flows,
        provenance=provenance,
        tariff=tariff,
        memberships=pd.read_csv(d / "memberships.csv", keep_default_na=False,
                                dtype={"entry_year": "Int64", "exit_year": "Int64",
                                       "wto_rta_id": "Int64"},
                                na_values={c: [""] for c in ("entry_year", "exit_year",
                                                             "wto_rta_id")}),
        investment=pd.read_csv(d / "investment.csv", keep_default_na=False),
        growth=countries["growth"].to_numpy(float),
        targets=pd.read_csv(d / "targets.csv", keep_default_na=False),
        base_year=base_year,
    )


def load_world(year: int = 2023) -> World:
    """Return an embedded world: 2023 (default) or 2012 (read once per year, then cached: the
    same object for the same year).

    Raises:
        ValueError: no world is shipped for `year` (the message lists the years).
    """
    if year not in WORLD_DIRS:
        raise ValueError(f"no shipped world for {year}; available: "
                         f"{', '.join(str(y) for y in sorted(WORLD_DIRS))}")
    return _read_shipped(year)


@cache
def _read_shipped(year: int) -> World:
    return read_world(WORLD_DIRS[year], base_year=year)


from geosim.data.synthetic import synthetic_world  # noqa: E402  (needs World)

__all__ = ["INDICATORS", "PROVENANCES", "WORLD_2012_DIR", "WORLD_DIR", "World", "load_world",
           "observed_gdp", "read_world", "synthetic_world"]


@cache
def observed_gdp() -> dict[tuple[str, int], float]:
    """Observed GDP (World Bank, current USD) by (iso3, year), 2010-2023, from the shipped
    sources; economies without an observation in a year are absent."""
    table = pd.read_csv(SOURCES_DIR / "gdp_current_usd_2010_2023.csv").dropna(subset=["gdp_usd"])
    return {(r.iso3, int(r.year)): float(r.gdp_usd) for r in table.itertuples()}


@cache
def apep_members() -> tuple[str, ...]:
    """Members of the Americas Partnership for Economic Prosperity (APEP leaders' declaration,
    3 November 2023), ISO3 codes, from the shipped sources."""
    return tuple(pd.read_csv(SOURCES_DIR / "apep_members.csv")["iso3"])


@cache
def joint_negotiation_unions() -> frozenset[str]:
    """Customs unions whose members may not enter another trade agreement alone (e.g.
    Mercosur, CMC Decision 32/00), from the shipped sources (`customs_unions.csv`)."""
    table = pd.read_csv(SOURCES_DIR / "customs_unions.csv")
    return frozenset(table.loc[table["joint_negotiation"] == "yes", "bloc"])
