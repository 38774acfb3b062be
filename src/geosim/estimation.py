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

The trade-investment tie (parameter `gamma`, stored in `data/sources/history/investment_tie.csv`)
adds to the same specification γ·ln(1 + K_sht / Y_ht) on the pairs source s -> host h and
h -> s, where K_sht is the source's stock in the host and Y_ht the host's GDP (both current USD):
γ is the change of ln t^(1−σ) per unit of ln(1 + stock/GDP), the form `investment.tie_factor`
applies. See `estimate_tie_terms`.
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


# -- the trade-investment tie ----------------------------------------------------------------

FDI_PATH = SOURCES_DIR / "history" / "unctad_fdi_instock_lac_2001_2012.csv"
AIDDATA_PATH = SOURCES_DIR / "history" / "aiddata_geocoded_lac_by_sector_2000_2014.csv"
AEI_PATH = SOURCES_DIR / "aei_cgit_lac_2005_2018.csv"
GDP_HISTORY_PATH = SOURCES_DIR / "history" / "gdp_growth_lab_2000_2024.csv"
TIE_PATH = SOURCES_DIR / "history" / "investment_tie.csv"
# Flows (AidData commitments, AEI deals) become stocks by perpetual inventory at the model's
# default depreciation (parameter delta).
STOCK_DEPRECIATION = 0.05
# Stock kinds: (source economy, the shipped data behind it).
STOCK_KINDS = {
    "us_fdi": ("USA", "UNCTAD bilateral FDI inward stock (host-reported)"),
    "china_fdi": ("CHN", "UNCTAD bilateral FDI inward stock (host-reported; sparse)"),
    "china_official_mining_energy": ("CHN", "AidData geocoded official finance, energy "
                                     "generation and supply; industry, mining, construction"),
    "china_official_other": ("CHN", "AidData geocoded official finance, every other sector"),
    "china_deals": ("CHN", "AEI China Global Investment Tracker, deals >= $100m (from 2005)"),
}
# Each specification: regressor name -> the stock kinds it sums (per source, per pair).
TIE_SPECIFICATIONS: dict[str, dict[str, tuple[str, ...]]] = {
    # One rule for every source: US FDI on US pairs, Chinese official finance and deals on
    # China's pairs (UNCTAD's Chinese stocks are too sparse and offshore-routed; AEI counts
    # Chinese FDI instead).
    "pooled": {"tie": ("us_fdi", "china_official_mining_energy", "china_official_other",
                       "china_deals")},
    "source": {"tie_us_fdi": ("us_fdi",),
               "tie_china_official": ("china_official_mining_energy", "china_official_other"),
               "tie_china_deals": ("china_deals",)},
    "sector": {"tie_us_fdi": ("us_fdi",),
               "tie_china_official_mining_energy": ("china_official_mining_energy",),
               "tie_china_official_other": ("china_official_other",),
               "tie_china_deals": ("china_deals",)},
    "china_fdi_unctad": {"tie_us_fdi": ("us_fdi",), "tie_china_fdi": ("china_fdi",)},
}
TIE_METHOD = ("PPML (pyfixest fepois), exporter-year, importer-year and pair fixed effects, RTA, "
              "partial-scope and China x Latin America trend terms, SE clustered by pair (CRV1); "
              "tie = ln(1 + stock/host GDP) on source <-> host pairs; UN Comtrade 2000, 2004, "
              "2008, 2012")


def _perpetual_inventory(flows: pd.DataFrame, hosts: Iterable[str], years: Iterable[int]
                         ) -> pd.DataFrame:
    """Stocks (host, year, value_usd) at the end of each year from yearly flows (host, year,
    usd), depreciating at `STOCK_DEPRECIATION`; a host without a flow has a zero stock."""
    rows = []
    for host in hosts:
        f = flows[flows["host"] == host]
        for year in years:
            past = f[f["year"] <= year]
            value = (past["usd"] * (1 - STOCK_DEPRECIATION) ** (year - past["year"])).sum()
            rows.append((host, year, float(value)))
    return pd.DataFrame(rows, columns=["host", "year", "value_usd"])


def investment_stocks(years: Iterable[int] = (2000, 2004, 2008, 2012),
                      lac: Iterable[str] | None = None) -> pd.DataFrame:
    """Stocks of each kind in `STOCK_KINDS` by host and year (source, kind, host, year,
    value_usd) from the shipped data. UNCTAD stocks are missing (absent) where the host reports
    nothing; a year before 2001 takes UNCTAD's 2001 stock. Deal data (AidData, AEI) count a
    host-year without a deal as no new investment, so every host of ``lac`` has those stocks.
    """
    years = list(years)
    hosts = list(load_world().lac if lac is None else lac)
    fdi = pd.read_csv(FDI_PATH).dropna(subset=["instock_usd_millions"])
    parts = []
    for kind, source in (("us_fdi", "USA"), ("china_fdi", "CHN")):
        f = fdi[fdi["source"] == source]
        first = int(f["year"].min())
        for year in years:
            y = f[f["year"] == max(year, first)]
            parts.append(pd.DataFrame({"source": source, "kind": kind, "host": y["host"],
                                       "year": year,
                                       "value_usd": y["instock_usd_millions"] * 1e6}))
    aid = pd.read_csv(AIDDATA_PATH).rename(columns={"iso3": "host", "usd_current": "usd"})
    for group in ("mining_energy", "other"):
        stock = _perpetual_inventory(aid[aid["sector_group"] == group], hosts, years)
        parts.append(stock.assign(source="CHN", kind=f"china_official_{group}"))
    aei = pd.read_csv(AEI_PATH).rename(columns={"iso3": "host"})
    stock = _perpetual_inventory(aei.assign(usd=aei["usd_millions"] * 1e6), hosts, years)
    parts.append(stock.assign(source="CHN", kind="china_deals"))
    out = pd.concat(parts, ignore_index=True)
    return out[["source", "kind", "host", "year", "value_usd"]]


def _tie_regressors(d: pd.DataFrame, spec: dict[str, tuple[str, ...]], stocks: pd.DataFrame,
                    gdp: pd.DataFrame, lac: Iterable[str]) -> pd.DataFrame:
    """Add each regressor of a tie specification to an estimation frame: ln(1 + K/Y) on the
    source <-> host pairs (host in the region), 0 on every other pair, NaN where a stock part or
    the host's GDP is missing (those pair-years are then dropped)."""
    lac = set(lac)
    gdp_by = gdp.set_index(["iso3", "year"])["gdp_usd"]
    keys = ["source", "host", "year"]
    for name, kinds in spec.items():
        k = stocks[stocks["kind"].isin(kinds)].groupby(keys)["value_usd"]
        parts = pd.Series({s: sum(STOCK_KINDS[kind][0] == s for kind in kinds)
                           for s in stocks["source"].unique()})
        needed = parts.reindex(k.count().index.get_level_values("source")).to_numpy()
        total = k.sum().where(k.count() == needed)  # a missing part makes the sum missing
        hosts = total.index.droplevel("source")  # (host, year)
        y = gdp_by.reindex(hosts.set_names(["iso3", "year"])).to_numpy()
        x = pd.Series(np.log1p(total.to_numpy() / y), index=total.index)
        d[name] = 0.0
        for source in x.index.get_level_values("source").unique():
            xs = x.xs(source, level="source")
            for a, b in (("exporter", "importer"), ("importer", "exporter")):
                on = (d[a] == source) & d[b].isin(lac)
                key = pd.MultiIndex.from_arrays([d.loc[on, b], d.loc[on, "year"]])
                d.loc[on, name] = xs.reindex(key).to_numpy()
    return d


@dataclass(frozen=True)
class TieEstimate:
    """One estimated tie term: change of ln t^(1−σ) per unit of ln(1 + stock/host GDP)."""

    spec: str
    term: str
    estimate: float
    se: float
    n_obs: int
    n_pairs_with_stock: int
    method: str


def estimate_tie_terms(panel: pd.DataFrame, spec: str = "pooled",
                       stocks: pd.DataFrame | None = None, gdp: pd.DataFrame | None = None,
                       lac: Iterable[str] | None = None, china: str = "CHN"
                       ) -> list[TieEstimate]:
    """PPML estimate of how a source's stock in a host changes trade between them (both
    directions), net of the China × Latin America trend, agreements and the fixed effects.

    Args:
        panel: bilateral flows (exporter, importer, year, exports_usd, agreement); years after
            2012 are ignored.
        spec: a key of `TIE_SPECIFICATIONS`.
        stocks: source, kind, host, year, value_usd (default `investment_stocks()`).
        gdp: host GDP, iso3, year, gdp_usd (default the shipped Growth Lab series).
        lac: the Latin American and Caribbean codes (default: the 2023 world's).

    Raises:
        ValueError: unknown spec, a bad panel (see `estimate_trend_terms`), or a tie term with no
            variation within the fixed effects.
    """
    import pyfixest as pf
    from pyfixest.demeaners import MapDemeaner

    if spec not in TIE_SPECIFICATIONS:
        raise ValueError(f"unknown tie specification {spec!r}; expected one of "
                         f"{', '.join(TIE_SPECIFICATIONS)}")
    lac = list(load_world().lac if lac is None else lac)
    d = _regressors(panel, lac, china)
    years = sorted(d["year"].unique())
    stocks = investment_stocks(years, lac) if stocks is None else stocks
    gdp = pd.read_csv(GDP_HISTORY_PATH) if gdp is None else gdp
    terms = list(TIE_SPECIFICATIONS[spec])
    d = _tie_regressors(d, TIE_SPECIFICATIONS[spec], stocks, gdp, lac)
    d = d.dropna(subset=terms)
    formula = (f"y ~ {' + '.join(terms)} + chn_lac + rta + psa "
               "| exporter_year + importer_year + pair")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        fit = pf.fepois(formula, data=d, vcov={"CRV1": "pair"}, iwls_tol=1e-10,
                        demeaner=MapDemeaner(fixef_tol=1e-10))
    coef, se = fit.coef(), fit.se()
    out = []
    for term in terms:
        if not np.isfinite(se[term]):
            raise ValueError(f"tie term {term} is not identified (no variation within the "
                             "fixed effects)")
        with_stock = d.loc[d[term] > 0, "pair"].nunique()
        out.append(TieEstimate(spec, term, float(coef[term]), float(se[term]), int(fit._N),
                               int(with_stock), f"{TIE_METHOD}; spec {spec}"))
    return out


# IMF offshore financial centres among the region's economies (IMF 2000 list; Zucman's tables):
# their FDI stocks are mostly holding companies, not plants.
OFFSHORE_CENTRES = frozenset({"ATG", "BHS", "BLZ", "BRB", "DMA", "GRD", "KNA", "LCA", "PAN",
                              "VCT"})
TIE_COLUMNS = ("sample", "spec", "term", "estimate", "se", "n_obs", "n_pairs_with_stock", "method")


def tie_table(panel: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every tie specification on the whole panel, and the pooled and by-source ones without
    the offshore financial centres (columns `TIE_COLUMNS`)."""
    panel = load_panel() if panel is None else panel
    onshore = panel[~panel["exporter"].isin(OFFSHORE_CENTRES)
                    & ~panel["importer"].isin(OFFSHORE_CENTRES)]
    runs = [("all", spec, panel) for spec in TIE_SPECIFICATIONS]
    runs += [("without offshore centres", spec, onshore) for spec in ("pooled", "source")]
    rows = []
    for sample, spec, data in runs:
        for e in estimate_tie_terms(data, spec):
            rows.append({"sample": sample, "spec": spec, "term": e.term, "estimate": e.estimate,
                         "se": e.se, "n_obs": e.n_obs,
                         "n_pairs_with_stock": e.n_pairs_with_stock, "method": e.method})
    return pd.DataFrame(rows, columns=list(TIE_COLUMNS))


def write_tie_estimate(path: Path | str = TIE_PATH,
                       panel: pd.DataFrame | None = None) -> pd.DataFrame:
    """Estimate the tie table on the shipped data and store it as CSV (the parameter `gamma`
    cites its pooled row)."""
    table = tie_table(panel)
    table.to_csv(path, index=False, float_format="%.10g")
    return table


def read_tie_estimate(path: Path | str = TIE_PATH) -> pd.DataFrame:
    """The stored tie table (see `write_tie_estimate`)."""
    return pd.read_csv(path)
