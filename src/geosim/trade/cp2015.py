"""Caliendo & Parro (2015), subsection 5.1: NAFTA's tariff reductions, on the paper's own data.

Owns reading the copy shipped in `geosim/data/sources/cp2015/` (31 regions, 40 sectors, 1993
tariffs and the NAFTA counterfactual; origin in its README) into an `Economy`, and the two-step
procedure of the paper's zero-deficit table: first impose zero aggregate deficits with 1993
tariffs, then move NAFTA members' tariffs on each other to their 2005 level.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geosim.trade.economy import Economy
from geosim.trade.solver import SectorEquilibrium, Shock, solve_sectors

DATA = Path(__file__).resolve().parents[1] / "data" / "sources" / "cp2015"

#: The paper's zero-deficit figures for the NAFTA members (%), as tabulated by the R package
#: paulofelipe/cp2015 (README) from the paper's Table 3: welfare, terms of trade, volume of trade.
PUBLISHED = pd.DataFrame(
    {
        "region": ["Canada", "Mexico", "USA"],
        "welfare_change_pct": [-0.0638, 1.31, 0.0848],
        "terms_of_trade_pct": [-0.108, -0.412, 0.0435],
        "volume_of_trade_pct": [0.0443, 1.72, 0.0412],
        "real_wage_change_pct": [0.323, 1.72, 0.112],
    }
)

#: ISO 3166 codes of the paper's regions ("Row" = the rest of the world).
ISO3 = {
    "Argentina": "ARG", "Australia": "AUS", "Austria": "AUT", "Brazil": "BRA", "Canada": "CAN",
    "Chile": "CHL", "China": "CHN", "Denmark": "DNK", "Finland": "FIN", "France": "FRA",
    "Germany": "DEU", "Greece": "GRC", "Hungary": "HUN", "India": "IND", "Indonesia": "IDN",
    "Ireland": "IRL", "Italy": "ITA", "Japan": "JPN", "Korea": "KOR", "Mexico": "MEX",
    "Netherlands": "NLD", "New Zealand": "NZL", "Norway": "NOR", "Portugal": "PRT",
    "South Africa": "ZAF", "Spain": "ESP", "Sweden": "SWE", "Turkey": "TUR", "UK": "GBR",
    "USA": "USA", "Row": "ROW",
}


@dataclass(frozen=True)
class Case:
    """The NAFTA case: the 1993 economy, the counterfactual tariffs and the sets' names."""

    economy: Economy
    tariff_nafta: np.ndarray  # τ'[j, i, n]
    regions: tuple[str, ...]
    sectors: tuple[str, ...]


def load(data: Path = DATA) -> Case:
    """Read the shipped data into an Economy (sector, exporter, importer order of the files).

    Value-added shares and input coefficients are the paper's (intermediate use and value added
    over their sum, tariff-inclusive as in the data); final-demand shares come from its final
    consumption; factor income is its value added; deficits its D.
    """
    regions = tuple(pd.read_csv(data / "regions.csv.gz")["region"])
    sectors = tuple(pd.read_csv(data / "sectors.csv.gz")["sector"])
    r = {name: k for k, name in enumerate(regions)}
    s = {name: k for k, name in enumerate(sectors)}
    n, n_sectors = len(regions), len(sectors)

    trade = pd.read_csv(data / "trade.csv.gz")
    j, i, m = trade["sector"].map(s), trade["exporter"].map(r), trade["importer"].map(r)
    flows, tariff, nafta = (np.zeros((n_sectors, n, n)) for _ in range(3))
    flows[j, i, m] = trade["value"]
    tariff[j, i, m] = trade["tariff_bln"]
    nafta[j, i, m] = trade["tariff_cfl"]

    def by_region_sector(frame: pd.DataFrame) -> np.ndarray:
        out = np.zeros((n, n_sectors))
        out[frame["region"].map(r), frame["sector"].map(s)] = frame["value"]
        return out

    value_added = by_region_sector(pd.read_csv(data / "value_added.csv.gz"))
    use = pd.read_csv(data / "intermediate_consumption.csv.gz")
    inputs = np.zeros((n, n_sectors, n_sectors))  # [region, input, user]
    # one entry is negative (Canada, Other → Basic metals, −$9.5 m): set to zero
    inputs[use["region"].map(r), use["input"].map(s), use["sector"].map(s)] = use["value"].clip(0)
    gross = value_added + inputs.sum(axis=1)
    final = by_region_sector(pd.read_csv(data / "final_consumption.csv.gz"))
    deficit = pd.read_csv(data / "deficit.csv.gz").set_index("region")["D"].reindex(regions)
    theta = pd.read_csv(data / "theta.csv.gz").set_index("sector")["value"].reindex(sectors)
    economy = Economy.build(
        flows, theta.to_numpy(), tariff=tariff, va_share=value_added / gross,
        io=inputs / gross[:, None, :], final_share=final / final.sum(axis=1, keepdims=True),
        factor_income=value_added.sum(axis=1), deficit=deficit.to_numpy(dtype=float),
    )
    return Case(economy, nafta, regions, sectors)


def run(case: Case | None = None, *, zero_deficits: bool = True,
        tol: float = 1e-12) -> tuple[SectorEquilibrium, SectorEquilibrium]:
    """NAFTA's tariff reductions; returns (the baseline it is measured from, the NAFTA solution).

    With ``zero_deficits`` the baseline is the 1993 world with deficits set to zero (the paper's
    and the R package's first step); otherwise the 1993 world itself with deficits held fixed.
    """
    case = case or load()
    base = solve_sectors(case.economy, imbalance="zero" if zero_deficits else "world_share",
                         tol=tol)
    start = base.rebased()
    nafta = solve_sectors(start, Shock(tariff=case.tariff_nafta), tol=tol)
    return base, nafta


def results(case: Case, nafta: SectorEquilibrium) -> pd.DataFrame:
    """One row per region: welfare and its decomposition (%), real wage, real income (exact)."""
    return pd.DataFrame(
        {
            "region": case.regions,
            "iso3": [ISO3.get(name, name) for name in case.regions],
            "welfare_change_pct": nafta.welfare_decomposed,
            "terms_of_trade_pct": nafta.terms_of_trade,
            "volume_of_trade_pct": nafta.volume_of_trade,
            "real_wage_change_pct": 100.0 * (nafta.wage / nafta.price_index - 1.0),
            "real_income_change_pct": 100.0 * (nafta.welfare - 1.0),
        }
    )
