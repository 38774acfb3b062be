"""Exogenous drivers: the China × Latin America trend's closed form, observed output paths and
the endowment adjustment that meets them."""

from __future__ import annotations

import numpy as np
import pytest

from geosim import drivers, trade
from geosim.data import load_world, observed_gdp
from geosim.parameters import resolve
from geosim.runner import simulate


@pytest.mark.parametrize("fade, years", [(0.9, 5), (1.0, 3), (0.0, 4), (0.5, 0)])
def test_trend_factor_is_the_faded_sum_of_rates(fade, years):
    world = load_world()
    china = world.index("CHN")
    params = resolve({"china_lac_trend": 0.06, "trend_fade": fade, "sigma": 4.0})
    total = sum(0.06 * fade**k for k in range(years))  # 0.06 (1 - f^k) / (1 - f)
    factor = drivers.trend_factor(world, china, params, years)
    expected = np.exp(-total / 3.0)
    lac = np.flatnonzero(world.is_lac)
    np.testing.assert_allclose(factor[china, lac], expected)
    np.testing.assert_allclose(factor[lac, china], expected)
    others = np.ones_like(factor, dtype=bool)
    others[china, lac] = others[lac, china] = False
    assert (factor[others] == 1.0).all()


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
