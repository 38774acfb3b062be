"""World commodity prices in the sector model (issue 17 §3): the shipped Pink Sheet indices and
MUV deflator, the driver (observed to 2024, held after), the engine's spending shift
δ̂ = p̂^(1−ε) on a priced economy, its parameters and their validation."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from geosim import drivers, trade
from geosim.cli import main as cli_main
from geosim.data import load_world
from geosim.data.sectors import SECTOR_SOURCES, real_prices
from geosim.engine import (
    VALUE_ADDED_FLOOR,
    SectorEngine,
    engine_for,
    priced_economy,
    spending_shift,
)
from geosim.model import GeoModel
from geosim.parameters import ParameterError, defaults, resolve
from geosim.scenario import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parents[1]
SECTORS = ("AGR", "ENE", "MIN", "MAC", "VEH", "MAN", "SRV")


@pytest.fixture(scope="module")
def engine() -> SectorEngine:
    return engine_for(load_world())


def _no_shock(engine: SectorEngine) -> trade.Shock:
    n = len(engine.world.iso3)
    return engine.shock(np.ones((n, n)), engine.world.tariff, 5.0, np.ones(n))


# --- data and driver ------------------------------------------------------------------------


def test_real_prices_are_the_pink_sheets_own_real_series():
    """Nominal index / MUV reproduces the World Bank's own real (2010 USD) energy series,
    121.675108 in 2012 and 88.205032 in 2024 (pinksheet, basis real_2010usd), to the shipped
    four decimals' rounding and the source's (0.01 %)."""
    table = real_prices()
    assert list(table.columns) == list(SECTORS)
    assert table.loc[2012, "ENE"] == pytest.approx(1.21675108, rel=1e-4)
    assert table.loc[2024, "ENE"] == pytest.approx(0.88205032, rel=1e-4)
    assert table.loc[2010].tolist() == pytest.approx([1.0] * len(SECTORS))
    assert (table[["MAC", "VEH", "MAN", "SRV"]] == 1.0).all().all()
    assert table.index.min() == 1999 and table.index.max() == 2024


def test_commodity_prices_are_observed_to_2024_then_held():
    p = real_prices()
    assert np.all(drivers.commodity_prices(SECTORS, 2012, 2012) == 1.0)
    move = drivers.commodity_prices(SECTORS, 2012, 2016)
    assert move[1] == pytest.approx(p.loc[2016, "ENE"] / p.loc[2012, "ENE"], rel=1e-14)
    assert move[1] < 0.6  # the 2014-2016 oil price collapse
    for base in (2012, 2023):
        last = drivers.commodity_prices(SECTORS, base, 2024)
        for year in (2025, 2030, 2050):
            np.testing.assert_array_equal(drivers.commodity_prices(SECTORS, base, year), last)
    assert not np.all(drivers.commodity_prices(SECTORS, 2023, 2024) == 1.0)
    with pytest.raises(ValueError, match="before the first observed year 1999"):
        drivers.commodity_prices(SECTORS, 1990, 2000)
    with pytest.raises(ValueError, match="unknown sector"):
        drivers.commodity_prices(("SOY",), 2012, 2013)


def test_price_table_rebuild_is_byte_identical():
    """tools/curate_sectors.py reproduces the shipped prices.csv (MUV rows included)."""
    shared = ROOT.parent / "shared/data/sectors/prices/pinksheet_annual_1960_2024.csv"
    if not shared.exists():
        pytest.skip("the gathered data (../shared) is not here")
    spec = importlib.util.spec_from_file_location("curate", ROOT / "tools/curate_sectors.py")
    curate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(curate)
    curate.SHARED = shared.parents[1]  # not the command line's argument (pytest's here)
    text = curate.prices().to_csv(index=False, lineterminator="\n")
    assert text.encode() == (SECTOR_SOURCES / "prices.csv").read_bytes()
    assert "MUV Index" in text


# --- the rule ---------------------------------------------------------------------------------


def test_spending_shift_is_the_price_to_the_one_minus_epsilon():
    p_hat = np.array([1.2, 0.5, 1.0])
    np.testing.assert_allclose(spending_shift(p_hat, 0.2), p_hat**0.8, rtol=1e-15)
    assert np.all(spending_shift(p_hat, 1.0) == 1.0)  # unit elasticity: spending unchanged
    with pytest.raises(ValueError, match="positive and finite"):
        spending_shift(np.array([1.0, 0.0]), 0.2)


def test_no_price_move_returns_the_same_economy_and_equilibrium(engine):
    eco = engine.economy
    assert priced_economy(eco, np.ones(len(SECTORS))) is eco
    assert engine.priced(None) is eco and engine.priced(np.ones(len(SECTORS))) is eco
    shock = _no_shock(engine)
    plain, _ = engine.solve(shock, reference=0, initial_price=None)
    same, _ = engine.solve(shock, reference=0, initial_price=None, delta=np.ones(len(SECTORS)))
    for name in ("price", "output", "flows", "welfare"):
        np.testing.assert_array_equal(getattr(same, name), getattr(plain, name))


def test_unit_elasticity_nests_the_model_without_prices():
    """ε = 1 makes δ̂ = 1 in every year: the run is exactly the one without commodity prices."""
    off = GeoModel("baseline", seed=1, parameters={"engine_sectors": 1, "commodity_prices": 0})
    unit = GeoModel("baseline", seed=1, parameters={"engine_sectors": 1,
                                                    "commodity_demand_elasticity": 1.0})
    on = GeoModel("baseline", seed=1, parameters={"engine_sectors": 1})
    for model in (off, unit, on):
        model.step()
    np.testing.assert_array_equal(unit.flows, off.flows)
    assert not np.allclose(on.flows, off.flows, rtol=1e-6)  # 2024's prices differ from 2023's


@pytest.mark.parametrize("delta", [
    np.array([1.3, 2.0, 0.7, 1, 1, 1, 1]),
    np.array([0.5, 0.3, 1.5, 1, 1, 1, 1]),
    np.array([1.0, 50.0, 1.0, 1, 1, 1, 1]),  # far beyond history: the value-added floor binds
])
def test_priced_shares_still_add_up(engine, delta):
    eco = engine.economy
    new = priced_economy(eco, delta)
    np.testing.assert_allclose(new.final_share.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(new.va_share + new.io.sum(axis=1), 1.0, rtol=1e-12)
    assert np.all((new.va_share > 0) & (new.va_share <= 1))
    assert np.all(new.va_share >= np.minimum(eco.va_share, VALUE_ADDED_FLOOR) - 1e-15)
    # α′ ∝ α δ̂ within every buyer; G′ = G δ̂ wherever the floor does not bind
    ratio = new.final_share / np.where(eco.final_share > 0, eco.final_share, 1.0)
    ok = eco.final_share > 0
    for n in range(eco.shape[0]):
        r = ratio[n][ok[n]] / delta[ok[n]]
        np.testing.assert_allclose(r, r[0], rtol=1e-10)
    free = new.va_share > np.minimum(eco.va_share, VALUE_ADDED_FLOOR)
    np.testing.assert_allclose((new.io / np.where(eco.io > 0, eco.io, 1.0))[
        np.broadcast_to(free[:, None, :], eco.io.shape) & (eco.io > 0)],
        np.broadcast_to(delta[None, :, None], eco.io.shape)[
        np.broadcast_to(free[:, None, :], eco.io.shape) & (eco.io > 0)], rtol=1e-12)
    if delta[1] == 50.0:
        assert not free.all()
    assert engine.priced(delta) is engine.priced(delta.copy())  # built once per δ̂


def test_a_higher_energy_price_raises_energy_exporters_sales(engine):
    """With inelastic demand (ε = 0.2) a 50 % real rise in energy raises what the world spends
    on energy: Ecuador's and Colombia's energy output and exports rise against no price move,
    and energy takes a larger share of their exports."""
    world = engine.world
    ene = list(world.sectors).index("ENE")
    p_hat = np.ones(len(world.sectors))
    p_hat[ene] = 1.5
    shock = _no_shock(engine)
    usa = world.index("USA")
    _, base = engine.solve(shock, reference=usa, initial_price=None)
    _, high = engine.solve(shock, reference=usa, initial_price=None,
                           delta=spending_shift(p_hat, defaults()["commodity_demand_elasticity"]))
    off = 1.0 - np.eye(len(world.iso3))

    def energy(eq, iso3):
        i = world.index(iso3)
        return eq.output[i, ene], (eq.flows[ene] * off)[i].sum()

    def exports(eq, iso3):
        return (eq.flows * off[None])[:, world.index(iso3)].sum()

    for iso3 in ("ECU", "COL"):
        (out0, exp0), (out1, exp1) = energy(base, iso3), energy(high, iso3)
        assert out1 > 1.05 * out0 and exp1 > 1.05 * exp0, iso3
        assert exp1 / exports(high, iso3) > exp0 / exports(base, iso3), iso3


def test_demand_shift_follows_the_switch(engine):
    params = defaults()
    assert engine.demand_shift(2030, {**params, "commodity_prices": 0}) is None
    shift = engine.demand_shift(2030, params)  # against the world's base year, 2023
    expected = drivers.commodity_prices(engine.sectors, 2023, 2024) ** 0.8
    np.testing.assert_allclose(shift, expected, rtol=1e-15)


# --- parameters -------------------------------------------------------------------------------


def test_parameters_default_on_and_are_validated():
    p = defaults()
    assert p["commodity_prices"] == 1 and p["commodity_demand_elasticity"] == 0.2
    with pytest.raises(ParameterError, match="'commodity_prices' must be 0 .off. or 1 .on."):
        resolve({"commodity_prices": 0.5})
    with pytest.raises(ParameterError, match="'commodity_demand_elasticity' must be in"):
        resolve({"commodity_demand_elasticity": -0.1})
    with pytest.raises(ParameterError, match="'commodity_demand_elasticity' must be in"):
        resolve({"commodity_demand_elasticity": 1.5})


@pytest.mark.parametrize("field, value, words", [
    ("commodity_demand_elasticity", "0.7", "documented range 0.1..0.5"),
    ("commodity_demand_elasticity", "cheap", "finite number"),
    ("commodity_prices", "2", "must be 0 (off) or 1 (on), got 2"),
    ("commodity_prices", "0.5", "must be 0 (off) or 1 (on)"),
])
def test_bad_scenario_values_name_the_file_and_field(tmp_path, capsys, field, value, words):
    path = tmp_path / "bad.yaml"
    path.write_text("description: x\nstatus: hypothetical\nsources: [x]\nextends: baseline\n"
                    f"parameters:\n  {field}: {value}\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(str(path))
    message = str(err.value)
    assert "bad.yaml" in message and f"parameters.{field}" in message and words in message
    assert cli_main(["validate", str(path)]) == 2
    assert f"parameters.{field}" in capsys.readouterr().err


# --- the back-test ------------------------------------------------------------------------


def test_docs_sector_backtest_table_is_current(tmp_path, capsys):
    """docs/validation.md quotes the sector back-test without and with prices, and with imports
    nested (seed 1): the quoted MAE must be what `geosim backtest` gives now; persistence is the
    same for all."""
    import pandas as pd

    from geosim.backtest import scored_economies, skill_summary

    scored = scored_economies(load_world(2012), load_world())
    columns = {}
    for label, extra in (("off", ["--param", "commodity_prices=0"]), ("on", []),
                         ("nested", ["--param", "import_nest=0.5"])):
        out = tmp_path / label
        assert cli_main(["backtest", "--seed", "1", "--param", "engine_sectors=1",
                         "--out", str(out)] + extra) == 0
        columns[label] = skill_summary(pd.read_csv(out / "backtest.csv"), scored
                                       ).set_index("indicator")
    capsys.readouterr()
    doc = (ROOT / "docs/validation.md").read_text()
    doc = doc[doc.index("| indicator | one sector | by sector, no prices |"):]
    labels = {"china_export_share": "China, exports", "us_export_share": "US, exports",
              "china_import_share": "China, imports", "us_import_share": "US, imports"}
    for indicator, label in labels.items():
        off, on, nested = (columns[k].loc[indicator] for k in ("off", "on", "nested"))
        cells = [f"{off.model_mae_pp:.2f}", f"{on.model_mae_pp:.2f}",
                 f"{nested.model_mae_pp:.2f}", f"{on.persistence_mae_pp:.2f}"]
        row = next(line for line in doc.splitlines()
                   if line.startswith(f"| {label} |") and line.count("|") == 7)
        values = [c.strip().strip("*") for c in row.strip("|").split("|")]
        assert values[2:] == cells, f"docs/validation.md, {label}: now {cells}"
