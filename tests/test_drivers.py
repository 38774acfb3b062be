"""Exogenous drivers: the China × Latin America trend's closed form, observed output paths and
the endowment adjustment that meets them."""

from __future__ import annotations

import numpy as np
import pytest

from geosim import drivers, trade
from geosim.data import load_world, observed_gdp
from geosim.parameters import resolve
from geosim.runner import simulate


@pytest.mark.parametrize("fade, base, years", [(0.9, 2012, 5), (1.0, 2012, 3), (0.0, 2012, 4),
                                               (0.5, 2012, 0), (0.9, 2023, 5), (1.0, 2023, 3),
                                               (0.0, 2023, 4)])
def test_trend_factor_is_the_faded_sum_of_rates_from_2012(fade, base, years):
    """The rate fades from the end of the estimation window (2013 = the full rate) whatever the
    base year: a projection from 2023 continues where the back-test's path is in 2024."""
    world = load_world()
    china = world.index("CHN")
    params = resolve({"china_lac_trend": 0.06, "trend_fade": fade, "sigma": 4.0})
    first = base - 2012  # years of fading before the base year's next year
    total = sum(0.06 * fade**k for k in range(first, first + years))
    factor = drivers.trend_factor(world, china, params, base, base + years)
    expected = np.exp(-total / 3.0)
    lac = np.flatnonzero(world.is_lac)
    np.testing.assert_allclose(factor[china, lac], expected)
    np.testing.assert_allclose(factor[lac, china], expected)
    others = np.ones_like(factor, dtype=bool)
    others[china, lac] = others[lac, china] = False
    assert (factor[others] == 1.0).all()


def test_projection_and_back_test_share_one_trend_path():
    """From 2012 to 2040 in one go equals 2012 to 2023 times 2023 to 2040 (the back-test's path
    continued by the projection), at any fade; the rate in 2013 is the estimate."""
    world = load_world()
    china, lac = world.index("CHN"), np.flatnonzero(world.is_lac)[0]
    for fade in (0.0, 0.6, 0.9, 1.0):
        params = resolve({"trend_fade": fade})
        whole = drivers.trend_factor(world, china, params, 2012, 2040)[china, lac]
        parts = (drivers.trend_factor(world, china, params, 2012, 2023)
                 * drivers.trend_factor(world, china, params, 2023, 2040))[china, lac]
        assert whole == pytest.approx(parts, rel=1e-12)
        assert drivers.trend_rate(params, 2013) == params["china_lac_trend"]
        assert drivers.trend_rate(params, 2012) == 0.0


def test_output_targets_are_observed_gdp_relative_to_the_start_year():
    world = load_world(2012)
    paths = drivers.OutputPaths(world, 2012)
    assert paths.targets(2015) == {}
    usa, ven = world.index("USA"), world.index("VEN")
    paths.add([usa, ven], until=2020)
    gdp = observed_gdp()
    targets = paths.targets(2016)
    assert targets[usa] == pytest.approx(gdp[("USA", 2016)] / gdp[("USA", 2012)])
    assert ven not in targets  # no World Bank figure for Venezuela in 2016: on its projection
    assert paths.targets(2021) == {}  # the path ended in 2020


def test_meet_output_targets_reaches_them_and_leaves_the_others():
    world = load_world()
    endowment = np.ones(len(world.iso3))
    solve = lambda q, warm: trade.solve(world.flows, 5.0, None, q, reference=0,  # noqa: E731
                                        initial_price=warm.price)
    eq = trade.solve(world.flows, 5.0, None, endowment, reference=0)
    chl, bra = world.index("CHL"), world.index("BRA")
    eq, applied = drivers.meet_output_targets(solve, eq, endowment, {chl: 1.3, bra: 0.9}, 5.0)
    assert eq.output[chl] == pytest.approx(1.3, rel=1e-8)
    assert eq.output[bra] == pytest.approx(0.9, rel=1e-8)
    untouched = np.ones(len(applied), dtype=bool)
    untouched[[chl, bra]] = False
    assert (applied[untouched] == 1.0).all() and applied[chl] > 1.0 > applied[bra]


def test_the_history_scenario_meets_world_bank_gdp_every_year():
    """Invariant of the back-test: nominal GDP of every economy with an observation equals the
    World Bank's (current USD) in each year 2013-2016."""
    sim = simulate("history_2012_2023", seed=1, until=2016)
    gdp = observed_gdp()
    rows = sim.countries[sim.countries["year"] > 2012]
    checked = 0
    for r in rows.itertuples():
        if (r.iso3, r.year) in gdp and (r.iso3, 2012) in gdp:
            assert r.gdp == pytest.approx(gdp[(r.iso3, r.year)], rel=1e-6), (r.iso3, r.year)
            checked += 1
    assert checked >= 4 * 40


def test_demand_diagnostic_rescales_only_the_chosen_paths():
    """docs/diagnostics/backtest_demand.py (quoted in docs/validation.md): the chosen economies'
    GDP grows like the world's, the others keep theirs, and it patches what the model reads."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[1] / "docs" / "diagnostics" / "backtest_demand.py"
    spec = importlib.util.spec_from_file_location("backtest_demand", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    gdp = observed_gdp()
    world = {y: sum(v for (_, yy), v in gdp.items() if yy == y) for y in (2012, 2023)}
    like = module.world_like(("USA",))
    assert like[("USA", 2023)] / like[("USA", 2012)] == pytest.approx(world[2023] / world[2012])
    assert like[("CHN", 2023)] == gdp[("CHN", 2023)]
    assert hasattr(drivers, "observed_gdp")  # the name the diagnostic patches
