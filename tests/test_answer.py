"""Issue 19, items 4-6: the effect over parameter draws (`compare --draws`), trade in dollars with
the exact split of a share's change, and the customs-union rule of a faithful pivot."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from geosim import metrics, uncertainty
from geosim.cli import main
from geosim.data import apep_members, load_world
from geosim.experiments.samplers import run_seed
from geosim.metrics import region_dollars
from geosim.model import GeoModel
from geosim.parameters import PARAMETERS, hard_limits
from geosim.scenario import ScenarioError, load_scenario, scenario_from_dict
from test_mechanisms import HEADER, write_scenario  # the same helpers

WORLD = load_world()


# --- 5. Dollars and the decomposition of a share's change ----------------------------------------


def test_share_change_parts_add_up_and_know_their_cause():
    rng = np.random.default_rng(3)
    part_a, part_b = rng.uniform(1, 10, 50), rng.uniform(1, 10, 50)
    total_a, total_b = part_a + rng.uniform(5, 50, 50), part_b + rng.uniform(5, 50, 50)
    own, denominator = metrics.share_change_parts(part_a, total_a, part_b, total_b)
    np.testing.assert_allclose(own + denominator, part_b / total_b - part_a / total_a,
                               rtol=0, atol=1e-15)
    # only the part moves: all of the change is "the part changed", and the reverse
    own, denominator = metrics.share_change_parts(10.0, 100.0, 20.0, 100.0)
    assert own == pytest.approx(0.1) and denominator == 0.0
    own, denominator = metrics.share_change_parts(10.0, 100.0, 10.0, 50.0)
    assert own == 0.0 and denominator == pytest.approx(0.1)
    # both grow alike: the share stays, the parts cancel
    own, denominator = metrics.share_change_parts(10.0, 100.0, 12.0, 120.0)
    assert own == pytest.approx(-denominator) and own == pytest.approx(0.1 * np.log(1.2))


def test_region_outcomes_carry_the_dollars_behind_the_shares():
    model = GeoModel(scenario_from_dict({**HEADER, "end": 2024}), seed=0)
    model.step()
    region = model.region_frame().iloc[-1]
    off = metrics.international(model.flows)
    lac, chn, usa = WORLD.is_lac, WORLD.index("CHN"), WORLD.index("USA")
    assert region["total_trade"] == pytest.approx(off[lac].sum() + off[:, lac].sum())
    assert region["trade_with_us"] == pytest.approx(off[lac, usa].sum() + off[usa, lac].sum())
    assert region["trade_with_china"] == pytest.approx(off[lac, chn].sum() + off[chn, lac].sum())
    assert region["intra_region_trade"] == pytest.approx(off[np.ix_(lac, lac)].sum())
    assert region["china_trade_share"] == pytest.approx(
        region["trade_with_china"] / region["total_trade"], rel=1e-12)
    assert region["us_trade_share"] == pytest.approx(
        region["trade_with_us"] / region["total_trade"], rel=1e-12)


def test_compare_reports_dollars_and_a_split_that_adds_up(tmp_path):
    base = write_scenario(tmp_path, "base", [], end=2026)
    hike = write_scenario(tmp_path, "hike", [{"type": "tariff_change", "year": 2025,
                                              "importers": ["USA"], "exporters": ["CHN"],
                                              "rate_pct": 60, "reciprocal": True}], end=2026)
    for name, path in (("a", base), ("b", hike)):
        assert main(["run", path, "--seed", "1", "--out", str(tmp_path / name), "--quiet"]) == 0
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--out",
                 str(tmp_path / "cmp")]) == 0
    region = pd.read_csv(tmp_path / "cmp" / "region_change.csv").set_index("year")
    for share, part in (("china_trade_share", "trade_with_china"),
                        ("us_trade_share", "trade_with_us")):
        parts = (region[f"{share}_change_from_{part}_pp"]
                 + region[f"{share}_change_from_total_trade_pp"])
        np.testing.assert_allclose(parts, region[f"{share}_change_pp"], atol=1e-10)
    last = region.loc[2026]
    # a 60 % tariff on China's goods in the US diverts China's exports to the region: trade
    # with China grows in dollars while the share moves by both parts
    assert last["trade_with_china_b_bn_usd"] > last["trade_with_china_a_bn_usd"]
    assert last["trade_with_china_change_pct"] == pytest.approx(
        100 * (last["trade_with_china_b_bn_usd"] / last["trade_with_china_a_bn_usd"] - 1))
    assert region.loc[2023, "china_trade_share_change_from_trade_with_china_pp"] == 0
    a_region = pd.read_parquet(tmp_path / "a" / "region.parquet").set_index("year")
    assert last["total_trade_a_bn_usd"] == pytest.approx(a_region.loc[2026, "total_trade"] / 1e9)


def test_region_dollars_is_empty_for_runs_without_the_columns():
    old = pd.DataFrame({"year": [2023], "china_trade_share": [0.2]}).set_index("year")
    assert region_dollars(old, old).empty


# --- 4. The effect over parameter draws ----------------------------------------------------------


def test_draws_follow_the_documented_distributions():
    specs = {s.name: s for s in uncertainty.distributions()}
    assert set(uncertainty.NOT_DRAWN) == {"china_lending_bn", "china_fdi_bn", "us_public_bn",
                                          "us_private_bn", "eu_private_bn", "engine_sectors",
                                          "sector_elasticities", "commodity_prices",
                                          "commodity_demand_elasticity", "import_nest"}
    assert set(specs) == set(PARAMETERS) - set(uncertainty.NOT_DRAWN)
    for name, spec in specs.items():
        p = PARAMETERS[name]
        if p.se:
            lo, hi = hard_limits(name)
            assert spec.distribution == "normal" and (spec.mean, spec.sd) == (p.default, p.se)
            assert (spec.low, spec.high) == (None if np.isinf(lo) else lo,
                                             None if np.isinf(hi) else hi)
        else:
            assert spec.distribution == "uniform" and (spec.low, spec.high) == (p.low, p.high)
        assert spec.integer == p.integer
    assert "gamma" not in {s.name for s in uncertainty.distributions(("gamma",))}


def test_an_estimate_is_drawn_from_its_standard_error(monkeypatch):
    trend = PARAMETERS["china_lac_trend"]
    monkeypatch.setitem(PARAMETERS, "china_lac_trend", dataclasses.replace(trend, se=0.011))
    specs = uncertainty.distributions()
    d = uncertainty.design(specs, 2000, root=4)
    x = np.array([v["china_lac_trend"] for v in d.values])
    assert x.mean() == pytest.approx(trend.default, abs=0.001)
    assert x.std() == pytest.approx(0.011, rel=0.05)
    assert x.min() < trend.low and x.max() > trend.high  # beyond ±2 SE: not clipped to the range


def test_the_design_is_a_seeded_latin_hypercube_or_saltelli_when_n_allows():
    specs = uncertainty.distributions()
    d = uncertainty.design(specs, 200, root=7)
    assert d.method == "lhs" and len(d.values) == 200
    assert d.seeds == [run_seed(7, i, 0) for i in range(200)]
    strata = np.floor(d.unit * 200).astype(int)
    assert all(sorted(col) == list(range(200)) for col in strata.T)  # one draw per stratum
    again = uncertainty.design(specs, 200, root=7)
    assert again.values == d.values and not np.array_equal(
        uncertainty.design(specs, 200, root=8).unit, d.unit)
    for s in specs:
        x = np.array([v[s.name] for v in d.values])
        if s.distribution == "uniform":
            assert s.low <= x.min() and x.max() <= s.high
    small = specs[:2]  # D = 2: 64·(D + 2) = 256 draws allow a Saltelli design of N' = 64
    assert uncertainty.design(small, 255, root=1).method == "lhs"
    saltelli = uncertainty.design(small, 300, root=1)
    assert saltelli.method == "saltelli" and len(saltelli.values) == 64 * 4
    assert saltelli.seeds == [run_seed(1, i // 4, 0) for i in range(256)]  # a base row's seeds
    with pytest.raises(ScenarioError, match="at least 80 draws"):
        uncertainty.design(specs, 79, root=1)


def test_common_draws_and_seeds_make_a_against_itself_exactly_zero(tmp_path):
    a = load_scenario(write_scenario(tmp_path, "short", [], end=2025))
    draws = uncertainty.run_draws(a, a, 80, root=3, workers=1, quiet=True)
    table = draws.table
    assert (table["status"] == "done").all() and len(table) == 80
    for column in uncertainty.EFFECTS:
        assert (table[column] == 0).all(), column
    assert table["seed"].nunique() == 80


def test_compare_draws_writes_the_draws_and_their_summary(tmp_path, capsys):
    a = write_scenario(tmp_path, "a", [], end=2025)
    b = write_scenario(tmp_path, "b", [{"id": "hike", "type": "tariff_change", "year": 2024,
                                        "importers": ["USA"], "exporters": ["CHN"],
                                        "rate_pct": 60, "reciprocal": True}], end=2025)
    out = tmp_path / "cmp"
    assert main(["compare", a, b, "--draws", "80", "--seeds", "1", "2", "--workers", "1",
                 "--param", "gamma=0.5", "--out", str(out)]) == 0  # beyond 0-0.3: allowed
    draws = pd.read_csv(out / "draws.csv")
    summary = pd.read_csv(out / "draws_summary.csv").set_index("outcome")
    sobol = pd.read_csv(out / "draws_sobol.csv")
    assert len(draws) == 80 and (draws["gamma"] == 0.5).all()  # --param fixes, not drawn
    assert (draws["status"] == "done").all() and "gamma" not in set(sobol["parameter"])
    effect = draws["china_trade_share_pp"]
    row = summary.loc["china_trade_share_pp"]
    assert row["p_negative"] == pytest.approx((effect < 0).mean())
    assert row["median"] == pytest.approx(effect.median())
    assert row["p05"] == pytest.approx(effect.quantile(0.05))
    np.testing.assert_allclose(draws["china_share_from_china_trade_pp"]
                               + draws["china_share_from_total_trade_pp"], effect, atol=1e-9)
    assert set(pd.read_csv(out / "effects_region.csv")["n"]) == {2}  # the seed interval
    printed = capsys.readouterr().out
    assert "over 80 parameter draws" in printed and "P(decrease)" in printed


# --- 6. A faithful pivot -------------------------------------------------------------------------


def test_the_applicants_are_apep_minus_usmca():
    usmca = set(WORLD.memberships.loc[WORLD.memberships["bloc"] == "USMCA", "iso3"])
    assert usmca == {"USA", "CAN", "MEX"}
    assert set(apep_members()) == {"BRB", "CAN", "CHL", "COL", "CRI", "DOM", "ECU", "MEX", "PAN",
                                   "PER", "URY", "USA"}
    for name in ("usmca_expansion", "pivot"):
        (event,) = [e for e in load_scenario(name).events if e.type == "bloc_accession"]
        assert set(event.countries) == set(apep_members()) - usmca
    variant = load_scenario("pivot_with_mercosur")
    (event,) = [e for e in variant.events if e.type == "bloc_accession"]
    assert {"BRA", "ARG"} <= set(event.countries) and event.customs_union == "bloc"
    programme = [e for e in load_scenario("pivot").events if e.type == "investment_programme"]
    assert programme[0].until == load_scenario("pivot").end  # as long as China's response


def test_a_mercosur_member_cannot_join_alone_and_decisions_csv_says_so(tmp_path):
    alone = write_scenario(tmp_path, "alone", [
        {"type": "bloc_accession", "year": 2025, "bloc": "USMCA", "countries": ["URY", "ECU"]},
        {"type": "fta", "year": 2025, "countries": ["CHN", "URY"]}], end=2026)
    assert main(["run", alone, "--seed", "1", "--out", str(tmp_path / "r"), "--quiet"]) == 0
    decisions = pd.read_csv(tmp_path / "r" / "decisions.csv")
    ury = decisions[decisions["country"] == "URY"].set_index("bloc")
    assert not ury["joined"].any()
    assert ury.loc["USMCA", "customs_union"] == "refused: member of Mercosur"
    assert "cannot join USMCA alone" in ury.loc["USMCA", "reason"]
    fta = ury[ury.index != "USMCA"]  # the China-Uruguay FTA: refused the same way
    assert len(fta) == 1 and "cannot join" in fta["reason"].iloc[0]
    assert pd.isna(decisions.set_index("country").loc["ECU", "customs_union"])  # not in a union
    model = GeoModel(load_scenario(alone), seed=1).run()
    assert "URY" not in model.blocs["USMCA"].members
    chn, ury_i = WORLD.index("CHN"), WORLD.index("URY")
    assert model.tariff[chn, ury_i] == WORLD.tariff[chn, ury_i]  # no China-Uruguay FTA either


def test_a_customs_union_joins_whole_or_not_at_all():
    join = {"type": "bloc_accession", "year": 2025, "bloc": "USMCA", "countries": ["BRA"],
            "customs_union": "bloc"}
    model = GeoModel(scenario_from_dict({**HEADER, "events": [join], "end": 2026}), seed=0).run()
    mercosur = set(model.blocs["Mercosur"].members)  # in 2025: ARG, BOL (2024), BRA, PRY, URY
    assert {"ARG", "BOL", "BRA", "PRY", "URY"} <= mercosur
    decided = {d["country"]: d for d in model.decisions}
    assert set(decided) == mercosur  # Brazil's application brings in the whole union
    assert all(d["customs_union"].startswith("with Mercosur") for d in decided.values())
    joined = {c for c, d in decided.items() if d["joined"]}
    assert joined in (set(), mercosur)
    # with a threshold no member reaches, none joins and the record says the union did not
    strict = GeoModel(scenario_from_dict({
        **HEADER, "events": [join], "end": 2026, "parameters": {"accept_threshold_pct": 0.3}}),
        seed=0).run()
    gains = {d["country"]: d["score_pct"] for d in strict.decisions}
    assert min(gains.values()) < 0.3 <= max(gains.values())  # some would, some would not
    assert not any(d["joined"] for d in strict.decisions)
    assert not mercosur & set(strict.blocs["USMCA"].members)
    assert all("not joined" in d["customs_union"] for d in strict.decisions)


def test_too_few_draws_is_refused_before_anything_runs(tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["compare", "baseline", "pivot", "--draws", "10", "--out", str(out)]) == 2
    assert "--draws: at least 80 draws" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("draws", [200, 1024])  # Latin hypercube + RBD-FAST; Saltelli (D = 2)
def test_the_attribution_recovers_known_sobol_indices(draws):
    """y = 3·u1 + u2 with independent uniform inputs: S1 = 9/10 and 1/10 (closed form)."""
    specs = uncertainty.distributions()[:2]
    design = uncertainty.design(specs, draws, root=5)
    assert design.method == ("lhs" if draws == 200 else "saltelli")
    y = 3 * design.unit[:, 0] + design.unit[:, 1]
    table = pd.DataFrame({"status": "done", "y": y})
    result = uncertainty.attribution(uncertainty.Draws(table, design, specs, 2040), ("y",))
    s1 = result.set_index("parameter")["S1"]
    assert s1[specs[0].name] == pytest.approx(0.9, abs=0.08)
    assert s1[specs[1].name] == pytest.approx(0.1, abs=0.08)
    if design.method == "saltelli":  # no interactions: total indices equal first-order ones
        st = result.set_index("parameter")["ST"]
        assert st[specs[0].name] == pytest.approx(0.9, abs=0.08)
