"""History estimates: the China × Latin America trend and the trade-investment tie — recovery on
synthetic gravity panels, missing data, the stored estimates behind the parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geosim.estimation import (
    TIE_PATH,
    TREND_PATH,
    aggregate_eu,
    estimate_china_lac_trend,
    estimate_tie_terms,
    estimate_trend_terms,
    investment_stocks,
    load_panel,
    read_tie_estimate,
    read_trend_estimate,
    tie_table,
    trend_table,
)
from geosim.parameters import PARAMETERS

LAC = [f"L{k:02d}" for k in range(14)]
OTHERS = ["USA", "CAN", "JPN"] + [f"O{k:02d}" for k in range(11)]


def synthetic_panel(trend: float, seed: int = 0, beta_rta: float = 0.4) -> pd.DataFrame:
    """Poisson flows from known exporter-year, importer-year and pair effects plus the trend."""
    rng = np.random.default_rng(seed)
    codes = ["CHN", *LAC, *OTHERS]
    years = (2000, 2004, 2008, 2012)
    a = {(c, y): rng.normal(0, 0.8) for c in codes for y in years}
    b = {(c, y): rng.normal(0, 0.8) for c in codes for y in years}
    rows = []
    for i in codes:
        for j in codes:
            if i == j:
                continue
            pair = rng.normal(5.0, 1.0)
            rta_from = rng.choice([2004, 2008, 2012, 9999])
            for y in years:
                chn_lac = (i == "CHN" and j in LAC) or (j == "CHN" and i in LAC)
                rta = y >= rta_from
                mu = np.exp(a[i, y] + b[j, y] + pair + beta_rta * rta
                            + trend * (y - 2000) * chn_lac)
                rows.append((i, j, y, float(rng.poisson(mu)) * 1e6, "X - Y" if rta else ""))
    return pd.DataFrame(rows, columns=["exporter", "importer", "year", "exports_usd", "agreement"])


@pytest.mark.parametrize("trend", [0.06, -0.03])
def test_recovers_a_known_trend_within_its_standard_error(trend: float) -> None:
    est = estimate_china_lac_trend(synthetic_panel(trend), lac=LAC)
    assert est.se < 0.01  # precise enough that the check below means something
    assert abs(est.estimate - trend) < 2 * est.se, est
    assert est.n_obs == 29 * 28 * 4


def test_no_trend_is_not_found_where_there_is_none() -> None:
    est = estimate_china_lac_trend(synthetic_panel(0.0, seed=3), lac=LAC)
    assert abs(est.estimate) < 2 * est.se


def test_directions_are_estimated_separately() -> None:
    terms = estimate_trend_terms(synthetic_panel(0.05, seed=1), "direction", lac=LAC)
    assert [t.term for t in terms] == ["chn_to_lac", "lac_to_chn"]
    for t in terms:
        assert abs(t.estimate - 0.05) < 2.5 * t.se


def test_years_after_2012_are_not_used() -> None:
    panel = synthetic_panel(0.05, seed=2)
    later = panel[panel["year"] == 2012].assign(year=2016)
    later.loc[later["exporter"] == "CHN", "exports_usd"] *= 100.0  # would swamp the trend
    with_later = estimate_china_lac_trend(pd.concat([panel, later]), lac=LAC)
    assert with_later == estimate_china_lac_trend(panel, lac=LAC)


def test_bad_panels_are_rejected_with_the_field_named() -> None:
    panel = synthetic_panel(0.0)
    with pytest.raises(ValueError, match="missing column.*agreement"):
        estimate_china_lac_trend(panel.drop(columns="agreement"), lac=LAC)
    panel.loc[0, "exports_usd"] = -1.0
    with pytest.raises(ValueError, match="exports_usd: negative"):
        estimate_china_lac_trend(panel, lac=LAC)
    with pytest.raises(ValueError, match="unknown specification"):
        estimate_trend_terms(panel, "by_sector", lac=LAC)


def assert_same_estimates(stored, fresh) -> None:
    """A stored estimate table equals a fresh estimate (terms, counts, estimates, SEs)."""
    assert list(stored["term"]) == list(fresh["term"])
    assert list(stored["n_obs"]) == list(fresh["n_obs"])
    np.testing.assert_allclose(stored["estimate"], fresh["estimate"], atol=1e-6)
    np.testing.assert_allclose(stored["se"], fresh["se"], atol=1e-6)


def test_stored_estimate_equals_a_fresh_one() -> None:
    assert_same_estimates(read_trend_estimate(TREND_PATH), trend_table(load_panel()))


def test_parameter_default_is_the_stored_pooled_estimate() -> None:
    stored = read_trend_estimate(TREND_PATH).set_index("term")
    p = PARAMETERS["china_lac_trend"]
    assert p.default == pytest.approx(stored.loc["chn_lac", "estimate"], abs=5e-4)
    se = stored.loc["chn_lac", "se"]
    assert p.low == pytest.approx(p.default - 2 * se, abs=1e-3)
    assert p.high == pytest.approx(p.default + 2 * se, abs=1e-3)
    assert f"SE {se:.3f}" in p.source
    assert p.se == pytest.approx(se, abs=1e-4)


def test_eu_aggregation_sums_members_and_drops_intra_eu_flows() -> None:
    panel = pd.DataFrame([
        ("DEU", "MEX", 2012, 10.0, "EU - Mexico"), ("POL", "MEX", 2012, 2.0, ""),
        ("DEU", "FRA", 2012, 50.0, "EC/EU"), ("MEX", "DEU", 2012, 4.0, "EU - Mexico"),
        ("MEX", "CHN", 2012, 3.0, ""),
    ], columns=["exporter", "importer", "year", "exports_usd", "agreement"])
    out = aggregate_eu(panel).set_index(["exporter", "importer"])
    assert out.loc[("EUU", "MEX"), "exports_usd"] == 12.0
    assert out.loc[("EUU", "MEX"), "agreement"] == "EU - Mexico"  # the largest member flow's
    assert out.loc[("MEX", "EUU"), "exports_usd"] == 4.0
    assert ("EUU", "EUU") not in out.index and len(out) == 3


def test_trend_fade_is_a_share() -> None:
    from geosim.parameters import ParameterError, resolve

    assert resolve({"trend_fade": 1.0})["trend_fade"] == 1.0
    for bad in (-0.1, 1.5):
        with pytest.raises(ParameterError, match="'trend_fade' must be in \\[0, 1\\]"):
            resolve({"trend_fade": bad})


# --- the trade-investment tie -------------------------------------------------------------------

def tie_world(gamma: float, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A Poisson panel whose US <-> region and China <-> region pairs carry γ·ln(1 + K/Y), with
    the stocks and GDP that generated it."""
    rng = np.random.default_rng(seed)
    codes = ["CHN", *LAC, *OTHERS]
    years = (2000, 2004, 2008, 2012)
    a = {(c, y): rng.normal(0, 0.8) for c in codes for y in years}
    b = {(c, y): rng.normal(0, 0.8) for c in codes for y in years}
    gdp = pd.DataFrame([(h, y, 1e11) for h in LAC for y in years],
                       columns=["iso3", "year", "gdp_usd"])
    stock_rows, share = [], {}
    for h in LAC:
        for source, kinds in (("USA", ["us_fdi"]), ("CHN", ["china_official_mining_energy",
                                                            "china_official_other",
                                                            "china_deals"])):
            level = rng.uniform(0.0, 0.4)
            for y in years:
                s = level * (1 + (y - 2000) / 12 * rng.uniform(0, 3))  # stock/GDP rising unevenly
                share[source, h, y] = s
                for k in kinds:
                    stock_rows.append((source, k, h, y, s * 1e11 / len(kinds)))
    stocks = pd.DataFrame(stock_rows, columns=["source", "kind", "host", "year", "value_usd"])
    rows = []
    for i in codes:
        for j in codes:
            if i == j:
                continue
            pair = rng.normal(5.0, 1.0)
            for y in years:
                tie = 0.0
                for src, host in ((i, j), (j, i)):
                    if (src, host, y) in share:
                        tie = np.log1p(share[src, host, y])
                mu = np.exp(a[i, y] + b[j, y] + pair + gamma * tie)
                rows.append((i, j, y, float(rng.poisson(mu)) * 1e6, ""))
    panel = pd.DataFrame(rows, columns=["exporter", "importer", "year", "exports_usd",
                                        "agreement"])
    return panel, stocks, gdp


@pytest.mark.parametrize("gamma", [0.8, 0.0])
def test_tie_recovers_a_known_effect_within_its_standard_error(gamma: float) -> None:
    panel, stocks, gdp = tie_world(gamma, seed=4)
    est = estimate_tie_terms(panel, "pooled", stocks=stocks, gdp=gdp, lac=LAC)[0]
    assert est.term == "tie" and est.se < 0.2
    assert abs(est.estimate - gamma) < 2.5 * est.se, est
    by_source = estimate_tie_terms(panel, "source", stocks=stocks, gdp=gdp, lac=LAC)
    assert [t.term for t in by_source] == ["tie_us_fdi", "tie_china_official", "tie_china_deals"]


def test_tie_drops_pair_years_whose_stock_is_missing() -> None:
    panel, stocks, gdp = tie_world(0.5, seed=1)
    full = estimate_tie_terms(panel, "pooled", stocks=stocks, gdp=gdp, lac=LAC)[0]
    gap = stocks[~((stocks["host"] == LAC[0]) & (stocks["kind"] == "us_fdi")
                   & (stocks["year"] == 2004))]
    fewer = estimate_tie_terms(panel, "pooled", stocks=gap, gdp=gdp, lac=LAC)[0]
    assert fewer.n_obs == full.n_obs - 2  # USA -> host and host -> USA in 2004, not zeros
    with pytest.raises(ValueError, match="unknown tie specification"):
        estimate_tie_terms(panel, "by_country", stocks=stocks, gdp=gdp, lac=LAC)


def test_shipped_stocks_missing_is_missing_and_no_deal_is_zero() -> None:
    stocks = investment_stocks()
    us = stocks[stocks["kind"] == "us_fdi"]
    deals = stocks[stocks["kind"] == "china_deals"]
    assert us["value_usd"].notna().all() and len(us) < 4 * 33  # some host-years unreported
    assert len(deals) == 4 * 33 and (deals.loc[deals["year"] == 2004, "value_usd"] == 0).all()
    chl = deals.set_index(["host", "year"])["value_usd"]
    assert chl[("PER", 2012)] > chl[("PER", 2008)] > 0  # AEI deals from 2005, accumulated


def test_stored_tie_estimate_equals_a_fresh_one_and_drives_gamma() -> None:
    stored = read_tie_estimate(TIE_PATH)
    assert_same_estimates(stored, tie_table(load_panel()))
    pooled = stored[(stored["sample"] == "all") & (stored["spec"] == "pooled")].iloc[0]
    p = PARAMETERS["gamma"]
    assert p.default == pytest.approx(pooled["estimate"], abs=5e-4)
    assert p.se == pytest.approx(pooled["se"], abs=5e-4)
    assert p.low == pytest.approx(p.default - 2 * p.se, abs=1e-2)
    assert p.high == pytest.approx(p.default + 2 * p.se, abs=1e-2)
    assert f"SE {pooled['se']:.3f}" in p.source
