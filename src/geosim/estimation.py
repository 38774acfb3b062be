"""Estimates from history: the China × Latin America trade-cost trend, out of sample (2000-2012).

Owns the PPML structural-gravity estimate behind the parameter `china_lac_trend`: the panel it
reads (`data/sources/history/gravity_panel_2000_2012.csv`, a curated copy of UN Comtrade
exporter-reported flows, see SOURCES.md), the specification, and the stored result
(`data/sources/history/china_lac_trend.csv`) that the parameter table cites, and the
robustness checks reported in docs/validation.md.

Specification (Yotov et al. 2016, ch. 1-2): X_ijt = exp(α_it + μ_jt + η_ij + β·trend_ijt +
ρ·RTA_ijt + π·PSA_ijt) · ε, estimated by Poisson pseudo-maximum likelihood with exporter-year,
importer-year and pair fixed effects (pyfixest `fepois`), standard errors clustered by pair.
trend_ijt = (year − 2000) on China → Latin America and Latin America → China pairs, so β is the
yearly change, in log points, of the trade-cost term t^(1−σ) on those pairs relative to China's
and the region's trade with everyone else in the panel (positive: costs falling). Only years up to
2012 enter, so a back-test to 2023 is out of sample.

Data rules: EU members stay separate economies (as reported; their intra-EU pairs carry the EC/EU
agreement dummy); missing rows are missing reports (not zeros) and stay out; reported zeros stay in
(PPML uses them); pairs that are zero in every year, and singleton fixed effects, are dropped by
the estimator (separation). RTA = a deep agreement in force (free-trade area, customs union,
economic integration, EU); PSA = a partial-scope agreement (WTO RTA-IS type PSA: LAIA, GSTP,
APTA, ...), kept apart because it gives few preferences.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geosim.data import SOURCES_DIR, load_world

PANEL_PATH = SOURCES_DIR / "history" / "gravity_panel_2000_2012.csv"
TREND_PATH = SOURCES_DIR / "history" / "china_lac_trend.csv"
TREND_BASE_YEAR = 2000
LAST_YEAR = 2012
PANEL_COLUMNS = ("exporter", "importer", "year", "exports_usd", "agreement")

# Agreements in the panel that the WTO RTA-IS types as partial scope (PSA).
PARTIAL_SCOPE = frozenset({
    "Latin American Integration Association (LAIA)",
    "Global System of Trade Preferences among Developing Countries (GSTP)",
    "Asia Pacific Trade Agreement (APTA) - Accession of China",
    "Chile - India",
    "Southern Common Market (MERCOSUR) - India",
    "El Salvador - Cuba",
    "Panama - Dominican Republic",
})
# South American economies (commodity exporters); the rest of the region is Mexico, Central
# America and the Caribbean.
SOUTH_AMERICA = frozenset({"ARG", "BOL", "BRA", "CHL", "COL", "ECU", "GUY", "PER", "PRY", "SUR",
                           "URY", "VEN"})
SPECIFICATIONS = ("pooled", "direction", "group")
METHOD = ("PPML (pyfixest fepois), exporter-year, importer-year and pair fixed effects, RTA and "
          "partial-scope dummies, SE clustered by pair (CRV1); UN Comtrade exporter-reported "
          "goods flows 2000, 2004, 2008, 2012")


@dataclass(frozen=True)
class TrendEstimate:
    """One estimated trend: log points per year of the trade-cost term t^(1−σ)."""

    estimate: float
    se: float
    n_obs: int
    method: str
    term: str = "chn_lac"


def load_panel(path: Path | str = PANEL_PATH) -> pd.DataFrame:
    """Read the shipped 2000-2012 gravity panel (exporter, importer, year, exports_usd,
    agreement)."""
    return pd.read_csv(path, keep_default_na=False, na_values={"exports_usd": [""]})


def _regressors(panel: pd.DataFrame, lac: Iterable[str], china: str) -> pd.DataFrame:
    """Checked estimation frame with fixed-effect keys, agreement dummies and trend terms."""
    missing = [c for c in PANEL_COLUMNS if c not in panel.columns]
    if missing:
        raise ValueError(f"gravity panel: missing column(s) {', '.join(missing)}; "
                         f"expected {', '.join(PANEL_COLUMNS)}")
    d = panel.loc[panel["year"] <= LAST_YEAR, list(PANEL_COLUMNS)].copy()
    d = d[d["exports_usd"].notna()]
    if (d["exports_usd"] < 0).any():
        bad = d[d["exports_usd"] < 0].iloc[0]
        raise ValueError(f"gravity panel: field exports_usd: negative flow {bad['exports_usd']} "
                         f"for {bad['exporter']}->{bad['importer']} in {bad['year']}")
    if d.empty:
        raise ValueError(f"gravity panel: no rows up to {LAST_YEAR}")
    lac = set(lac)
    agreement = d["agreement"].fillna("").astype(str)
    d["rta"] = ((agreement != "") & ~agreement.isin(PARTIAL_SCOPE)).astype(float)
    d["psa"] = agreement.isin(PARTIAL_SCOPE).astype(float)
    t = (d["year"] - TREND_BASE_YEAR).astype(float)
    to_lac, from_lac = d["importer"].isin(lac), d["exporter"].isin(lac)
    chn_to_lac = (d["exporter"] == china) & to_lac
    lac_to_chn = (d["importer"] == china) & from_lac
    south_dest, south_orig = d["importer"].isin(SOUTH_AMERICA), d["exporter"].isin(SOUTH_AMERICA)
    d["chn_lac"] = t * (chn_to_lac | lac_to_chn)
    d["chn_to_lac"] = t * chn_to_lac
    d["lac_to_chn"] = t * lac_to_chn
    d["chn_to_south_america"] = t * (chn_to_lac & south_dest)
    d["chn_to_mexico_ca_caribbean"] = t * (chn_to_lac & ~south_dest)
    d["south_america_to_chn"] = t * (lac_to_chn & south_orig)
    d["mexico_ca_caribbean_to_chn"] = t * (lac_to_chn & ~south_orig)
    d["y"] = d["exports_usd"] / 1e9  # billions: better conditioned, same coefficients
    d["pair"] = d["exporter"] + "-" + d["importer"]
    d["exporter_year"] = d["exporter"] + d["year"].astype(str)
    d["importer_year"] = d["importer"] + d["year"].astype(str)
    return d


_TERMS = {
    "pooled": ["chn_lac"],
    "direction": ["chn_to_lac", "lac_to_chn"],
    "group": ["chn_to_south_america", "chn_to_mexico_ca_caribbean", "south_america_to_chn",
              "mexico_ca_caribbean_to_chn"],
}


def estimate_trend_terms(panel: pd.DataFrame, spec: str = "pooled",
                         lac: Iterable[str] | None = None, china: str = "CHN"
                         ) -> list[TrendEstimate]:
    """PPML trend terms of one specification: "pooled" (both directions, one rate),
    "direction" (China → region, region → China) or "group" (by direction × South America vs
    Mexico, Central America and the Caribbean).

    Args:
        panel: bilateral flows with columns exporter, importer, year, exports_usd, agreement.
        spec: one of `SPECIFICATIONS`.
        lac: the Latin American and Caribbean codes (default: the 2023 world's).
        china: China's code.

    Raises:
        ValueError: unknown spec, missing columns, negative flows, no rows up to 2012.
    """
    import pyfixest as pf
    from pyfixest.demeaners import MapDemeaner

    if spec not in _TERMS:
        raise ValueError(f"unknown specification {spec!r}; expected one of "
                         f"{', '.join(SPECIFICATIONS)}")
    d = _regressors(panel, load_world().lac if lac is None else lac, china)
    terms = _TERMS[spec]
    formula = f"y ~ {' + '.join(terms)} + rta + psa | exporter_year + importer_year + pair"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # singletons and separation (documented)
        warnings.simplefilter("ignore", FutureWarning)  # pandas deprecations inside pyfixest
        warnings.simplefilter("ignore", DeprecationWarning)
        fit = pf.fepois(formula, data=d, vcov={"CRV1": "pair"}, iwls_tol=1e-10,
                        demeaner=MapDemeaner(fixef_tol=1e-10))
    coef, se = fit.coef(), fit.se()
    n_obs = int(fit._N)
    for term in terms:
        if not np.isfinite(se[term]):
            raise ValueError(f"gravity panel: trend term {term} is not identified (no variation "
                             "within the fixed effects)")
    return [TrendEstimate(float(coef[t]), float(se[t]), n_obs, f"{METHOD}; spec {spec}", t)
            for t in terms]


def estimate_china_lac_trend(panel: pd.DataFrame, lac: Iterable[str] | None = None,
                             china: str = "CHN") -> TrendEstimate:
    """The pooled China ↔ Latin America trend (log points of t^(1−σ) per year) with its SE."""
    return estimate_trend_terms(panel, "pooled", lac=lac, china=china)[0]


def trend_table(panel: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every specification's trend terms (spec, term, estimate, se, n_obs, method)."""
    panel = load_panel() if panel is None else panel
    rows = []
    for spec in SPECIFICATIONS:
        for e in estimate_trend_terms(panel, spec):
            rows.append({"spec": spec, "term": e.term, "estimate": e.estimate, "se": e.se,
                         "n_obs": e.n_obs, "method": e.method})
    return pd.DataFrame(rows)


EU27 = frozenset({"AUT", "BGR", "BLX", "CYP", "CZE", "DEU", "DNK", "ESP", "EST", "FIN", "FRA",
                  "GRC", "HRV", "HUN", "IRL", "ITA", "LTU", "LVA", "MLT", "NLD", "POL", "PRT",
                  "ROM", "SVK", "SVN", "SWE"})


def aggregate_eu(panel: pd.DataFrame, code: str = "EUU") -> pd.DataFrame:
    """The panel with the EU-27 members summed into one economy (intra-EU flows dropped); an
    aggregated pair takes the agreement of its largest member flow."""
    d = panel.copy()
    for side in ("exporter", "importer"):
        d[side] = d[side].where(~d[side].isin(EU27), code)
    d = d[d["exporter"] != d["importer"]].sort_values("exports_usd", ascending=False)
    keys = ["exporter", "importer", "year"]
    out = d.groupby(keys, as_index=False).agg(exports_usd=("exports_usd", "sum"),
                                              agreement=("agreement", "first"))
    return out.sort_values(keys, ignore_index=True)


def robustness_table(panel: pd.DataFrame | None = None) -> pd.DataFrame:
    """The pooled trend under variations of sample and partner (docs/validation.md):
    variant, estimate, se, n_obs. Placebos replace China by another economy."""
    panel = load_panel() if panel is None else panel
    intra_eu = panel["exporter"].isin(EU27) & panel["importer"].isin(EU27)
    no_mex = (panel["exporter"] != "MEX") & (panel["importer"] != "MEX")
    variants = [
        ("baseline", panel, "CHN"),
        ("years 2000-2008 only", panel[panel["year"] <= 2008], "CHN"),
        ("without intra-EU pairs", panel[~intra_eu], "CHN"),
        ("EU-27 aggregated into one economy", aggregate_eu(panel), "CHN"),
        ("without Mexico", panel[no_mex], "CHN"),
        ("placebo: US <-> Latin America", panel, "USA"),
        ("placebo: Japan <-> Latin America", panel, "JPN"),
        ("placebo: Korea <-> Latin America", panel, "KOR"),
    ]
    rows = []
    for label, data, partner in variants:
        e = estimate_china_lac_trend(data, china=partner)
        rows.append({"variant": label, "estimate": e.estimate, "se": e.se, "n_obs": e.n_obs})
    return pd.DataFrame(rows)


def write_trend_estimate(path: Path | str = TREND_PATH,
                         panel: pd.DataFrame | None = None) -> pd.DataFrame:
    """Estimate every specification on the shipped panel and store the table as CSV."""
    table = trend_table(panel)
    table.to_csv(path, index=False, float_format="%.10g")
    return table


def read_trend_estimate(path: Path | str = TREND_PATH) -> pd.DataFrame:
    """The stored trend table (see `write_trend_estimate`)."""
    return pd.read_csv(path)
