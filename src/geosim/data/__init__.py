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
# Provenance of a sector-flow cell (docs/data.md, "Sectors").
SECTOR_PROVENANCES = ("icio_split", "imputed", "domestic", "domestic_proxy", "not_traded", "zero")
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
        sectors: sector codes (J; goods first, services "SRV" last); empty for a world built
            without sectors.
        sector_flows: (J, n, n) flows by [sector, exporter, importer] in USD; every pair sums
            over sectors to `flows`.
        sector_provenance: (J, n, n) cell provenance (`SECTOR_PROVENANCES`).
        io: (n, J, J) input-output coefficients io[i, k, j]: input k (all origins) per unit of
            sector j's gross output in economy i.
        value_added_share: (n, J) value added / gross output; va + sum over k of io = 1.
        theta: (J,) trade elasticity per sector (default specification: Caliendo-Parro 2015).
        sector_tariff: (J, n, n) the one-sector tariff on every goods sector, 0 on services.
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
    sectors: tuple[str, ...] = ()
    sector_flows: np.ndarray | None = None
    sector_provenance: np.ndarray | None = None
    io: np.ndarray | None = None
    value_added_share: np.ndarray | None = None
    theta: np.ndarray | None = None
    sector_tariff: np.ndarray | None = None
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
        self._check_sectors(n)
        object.__setattr__(self, "_position", {code: i for i, code in enumerate(self.iso3)})

    def _check_sectors(self, n: int) -> None:
        j = len(self.sectors)
        shapes = {"sector_flows": (j, n, n), "sector_provenance": (j, n, n), "io": (n, j, j),
                  "value_added_share": (n, j), "theta": (j,), "sector_tariff": (j, n, n)}
        for key, shape in shapes.items():
            value = getattr(self, key)
            if j == 0 and value is None:
                continue
            if value is None or value.shape != shape:
                raise ValueError(f"World.{key} must have shape {shape}")
            value.setflags(write=False)

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
    sector_fields = _read_sectors(d, iso3, tariff) if (d / "sectors.csv").exists() else {}
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
        **sector_fields,
    )


def _read_sectors(d: Path, iso3: tuple[str, ...], tariff: np.ndarray) -> dict:
    """The sector fields of a world folder (sectors.csv, sector_flows.csv, io.csv,
    value_added.csv); sector tariffs = the one-sector tariff on goods, 0 on services."""
    table = pd.read_csv(d / "sectors.csv", keep_default_na=False)
    secs = tuple(table.sector)
    j, n = len(secs), len(iso3)
    pos = {code: i for i, code in enumerate(iso3)}
    spos = {s: k for k, s in enumerate(secs)}
    flows = pd.read_csv(d / "sector_flows.csv", keep_default_na=False)
    at = (flows.sector.map(spos).to_numpy(), flows.exporter.map(pos).to_numpy(),
          flows.importer.map(pos).to_numpy())
    values = np.zeros((j, n, n))
    values[at] = flows.value.to_numpy(float)
    provenance = np.full((j, n, n), "", dtype="<U14")
    provenance[at] = flows.provenance.to_numpy(str)
    io_table = pd.read_csv(d / "io.csv", keep_default_na=False)
    io = np.zeros((n, j, j))
    io[io_table.iso3.map(pos), io_table.input_sector.map(spos),
       io_table.user_sector.map(spos)] = io_table.coefficient
    va_table = pd.read_csv(d / "value_added.csv", keep_default_na=False)
    va = np.zeros((n, j))
    va[va_table.iso3.map(pos), va_table.sector.map(spos)] = va_table.va_share
    goods = np.array([s != "SRV" for s in secs])
    return {"sectors": secs, "sector_flows": values, "sector_provenance": provenance, "io": io,
            "value_added_share": va, "theta": table.theta.to_numpy(float),
            "sector_tariff": goods[:, None, None] * tariff[None, :, :]}


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

__all__ = ["INDICATORS", "PROVENANCES", "SECTOR_PROVENANCES", "WORLD_2012_DIR", "WORLD_DIR",
           "World", "load_world", "observed_gdp", "read_world", "synthetic_world"]


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
