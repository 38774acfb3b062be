"""The model on the world by sector (`engine_sectors = 1`, geosim.engine): the mapping of the
model's levers onto a sector shock, tariff events by sector, outputs by sector."""

from __future__ import annotations

import numpy as np
import pytest

from geosim.data import load_world
from geosim.engine import SectorEngine, engine_for, sector_shares
from geosim.model import GeoModel
from geosim.runner import simulate
from geosim.scenario import ScenarioError, load_scenario

SECTORS = {"engine_sectors": 1}


@pytest.fixture(scope="module")
def engine() -> SectorEngine:
    return engine_for(load_world())


def test_non_tariff_costs_move_every_goods_sectors_trade_by_the_same_log_points(engine):
    """d̂_j^(−θ_j) = t̂^(1−σ) on goods, nothing on services; tariffs are the applied ones."""
    world = engine.world
    n = len(world.iso3)
    rng = np.random.default_rng(0)
    cost = rng.uniform(0.8, 1.2, (n, n))
    tariff = world.tariff * rng.uniform(0.0, 2.0, (n, n))
    np.fill_diagonal(tariff, 0.0)
    total = cost * (1 + tariff) / (1 + world.tariff)  # the model's t̂ includes the tariff part
    shock = engine.shock(total, tariff, 5.0, np.ones(n))
    goods = engine.goods
    theta = engine.economy.theta
    off = ~np.eye(n, dtype=bool)
    for j in np.flatnonzero(goods):
        np.testing.assert_allclose(shock.cost_factor[j][off] ** -theta[j], cost[off] ** -4.0,
                                   rtol=1e-12)
        np.testing.assert_allclose(shock.tariff[j], tariff, atol=1e-15)
    assert np.all(shock.cost_factor[~goods] == 1.0) and np.all(shock.tariff[~goods] == 0.0)


def test_sector_shares_add_up_to_one_on_traded_pairs():
    world = load_world()
    shares = sector_shares(world)
    traded = world.flows > 0
    np.fill_diagonal(traded, False)
    np.testing.assert_allclose(shares.sum(axis=0)[traded], 1.0, rtol=1e-12)
    assert np.all(shares[list(world.sectors).index("SRV")][traded] == 0.0)


def test_a_sector_run_without_shocks_keeps_the_base_year_and_records_sectors():
    model = GeoModel("baseline", seed=1, parameters=SECTORS)
    frame = model.sectors_frame()
    world = model.world
    first = frame[(frame.year == 2023) & (frame.iso3 != "LAC")]
    exports = first.groupby("iso3", sort=False)["exports"].sum().reindex(world.iso3)
    foreign = world.flows.sum(axis=1) - np.diag(world.flows)
    np.testing.assert_allclose(exports.to_numpy(), foreign, rtol=1e-9)
    model.step()
    eq = model.sector_equilibrium
    np.testing.assert_allclose(eq.flows.sum(axis=0), model.flows, rtol=1e-12)
    region = model.sectors_frame().query("iso3 == 'LAC' and year == 2024").set_index("sector")
    lac = np.asarray(world.is_lac)
    z = eq.flows * (1 - np.eye(len(lac)))[None]
    china = world.index("CHN")
    goods = [s != "SRV" for s in world.sectors]  # services have no foreign sales
    z = z[goods]
    expected = z[:, lac][:, :, china].sum(axis=1) / z[:, lac].sum(axis=(1, 2))
    np.testing.assert_allclose(region["china_export_share"].to_numpy()[goods], expected,
                               rtol=1e-12)


def test_a_tariff_on_one_sector_moves_that_sector(tmp_path):
    """China's 25 pp on US agriculture only: US agricultural sales to China fall, Brazil's rise,
    US machinery to China barely moves; a new agreement between them would remove it."""
    path = tmp_path / "retaliation.yaml"
    path.write_text(
        "description: 'Hypothetical: China raises its tariff on US agriculture only'\n"
        "status: hypothetical\nsources: ['test']\nextends: baseline\n"
        "events:\n  - {id: soy, type: tariff_change, year: 2024, importers: [CHN], "
        "exporters: [USA], change_pp: 25, trade_sectors: [AGR]}\n")
    base = simulate("baseline", seed=1, parameters=SECTORS, until=2024, keep_flows=False)
    hit = simulate(str(path), seed=1, parameters=SECTORS, until=2024, keep_flows=False)

    def to_china(sim, iso3, sector):
        row = sim.sectors.query(f"year == 2024 and iso3 == '{iso3}' and sector == '{sector}'")
        return float((row.exports * row.china_export_share).iloc[0])

    assert to_china(hit, "USA", "AGR") < 0.5 * to_china(base, "USA", "AGR")
    assert to_china(hit, "BRA", "AGR") > to_china(base, "BRA", "AGR")
    assert to_china(hit, "USA", "MAC") == pytest.approx(to_china(base, "USA", "MAC"), rel=0.05)


def test_a_sector_tariff_in_the_one_sector_engine_is_trade_weighted():
    model = GeoModel("baseline", seed=1)
    world = model.world
    usa, chn = world.index("USA"), world.index("CHN")
    before = model.tariff[usa, chn]
    model.set_tariffs(["CHN"], ["USA"], None, 25.0, ["AGR"])
    share = sector_shares(world)[list(world.sectors).index("AGR"), usa, chn]
    assert model.tariff[usa, chn] == pytest.approx(before + 0.25 * share)
    assert 0 < share < 1


def test_an_agreement_removes_sector_tariffs_too():
    model = GeoModel("baseline", seed=1, parameters=SECTORS)
    model.set_tariffs(["CHN"], ["CHL"], None, 10.0, ["MIN"])
    chl, chn = model.index("CHL"), model.index("CHN")
    assert model.agreements.sector_extra[:, chl, chn].max() == pytest.approx(0.10)
    model.create_agreement("test_fta", ["CHL", "CHN"], None)
    assert np.all(model.agreements.sector_extra[:, chl, chn] == 0.0)


@pytest.mark.parametrize(
    "event, message",
    [
        ("{id: t, type: tariff_change, year: 2024, importers: [CHN], exporters: [USA], "
         "change_pp: 5, trade_sectors: [SOY]}", "goods sectors of the world data"),
        ("{id: t, type: tariff_change, year: 2024, importers: [CHN], exporters: [USA], "
         "rate_pct: 5, trade_sectors: [AGR]}", "'trade_sectors' with 'change_pp'"),
        ("{id: t, type: tariff_change, year: 2024, importers: [CHN], exporters: [USA], "
         "change_pp: 5, trade_sectors: [SRV]}", "unknown: SRV"),
    ],
)
def test_bad_sector_tariff_events_name_the_field(tmp_path, event, message):
    path = tmp_path / "bad.yaml"
    path.write_text("description: x\nstatus: hypothetical\nsources: [x]\nextends: baseline\n"
                    f"events:\n  - {event}\n")
    with pytest.raises(ScenarioError, match=message):
        load_scenario(str(path))


def test_sector_elasticities_choose_the_published_specification():
    from geosim.data import sectors

    fgo = engine_for(load_world(), 1)
    np.testing.assert_allclose(fgo.economy.theta, sectors.theta("FGO"))
    assert engine_for(load_world(), 0).economy.theta[1] == pytest.approx(29.0714)


def test_investment_lands_in_its_sectors_with_a_capital_base_floored_at_the_economy(engine):
    from geosim.engine import CAPITAL_SHARE, SECTOR_FLOOR
    from geosim.policies import SECTORS as INVESTMENT
    n, j = engine.economy.shape
    sectors = list(engine.sectors)
    extra = np.zeros((n, len(INVESTMENT)))
    host = list(engine.world.iso3).index("MEX")
    extra[host, INVESTMENT.index("technology")] = 1e9
    z = engine.productivity(extra, np.ones(n), kappa=0.12)
    raised = {sectors[k] for k in np.nonzero(z[host] > 1.0)[0]}
    assert raised == {"MAC", "SRV"} and np.all(z[np.arange(n) != host] == 1.0)
    # the split follows the host's value added; each part meets max(VA_j, floor × VA)
    va = engine.value_added[host]
    base = np.maximum(va, SECTOR_FLOOR * va.sum())
    mac, srv = sectors.index("MAC"), sectors.index("SRV")
    part = 1e9 * va[[mac, srv]] / va[[mac, srv]].sum()
    expected = (1 + 0.12 * part / (CAPITAL_SHARE * base[[mac, srv]])) ** CAPITAL_SHARE
    np.testing.assert_allclose(z[host, [mac, srv]], expected, rtol=1e-12)
    # a microstate's sector far smaller than its economy is measured against the floor
    tiny = int(np.argmin(engine.value_added[:, mac] / engine.value_added.sum(axis=1)))
    extra[:] = 0.0
    extra[tiny, INVESTMENT.index("technology")] = 5e7
    z = engine.productivity(extra, np.ones(n), kappa=0.12)
    va = engine.value_added[tiny]
    part = 5e7 * va[mac] / va[[mac, srv]].sum()
    floored = (1 + 0.12 * part / (CAPITAL_SHARE * SECTOR_FLOOR * va.sum())) ** CAPITAL_SHARE
    assert va[mac] < SECTOR_FLOOR * va.sum()
    np.testing.assert_allclose(z[tiny, mac], floored, rtol=1e-12)


def test_the_import_nest_parameter_reaches_the_engine_and_is_checked():
    from geosim.parameters import ParameterError, resolve

    nested = engine_for(load_world(), 0, 0.5)
    np.testing.assert_allclose(nested.economy.nest, 0.5 * nested.economy.theta)
    assert nested.economy.nested and not engine_for(load_world(), 0).economy.nested
    assert resolve()["import_nest"] == 1.0
    for bad in (0.0, 1.5):
        with pytest.raises(ParameterError, match="'import_nest' must be in"):
            resolve({"import_nest": bad})


def test_the_tariff_war_raises_agricultural_exports_to_china_only_with_imports_nested():
    """The 2018-2019 US-China tariffs (the history's events), 2019, the region's agricultural
    exports to China with the tariffs against without them: lower in one nest (China's diverted
    demand goes mostly to its own producers), higher with imports nested at GTAP's rule of two
    (it goes to other import sources: Brazil). docs/validation.md, "The tariff war"."""
    import dataclasses

    spec = load_scenario("history_2012_2023")
    calm = dataclasses.replace(spec, events=tuple(e for e in spec.events
                                                  if e.type != "tariff_change"))

    def agriculture_to_china(scenario, nest):
        sim = simulate(scenario, seed=1, parameters=SECTORS | {"import_nest": nest}, until=2019,
                       keep_flows=False)
        row = sim.sectors.query("year == 2019 and iso3 == 'LAC' and sector == 'AGR'")
        return float((row.exports * row.china_export_share).iloc[0])

    one_nest = agriculture_to_china(spec, 1.0) / agriculture_to_china(calm, 1.0)
    nested = agriculture_to_china(spec, 0.5) / agriculture_to_china(calm, 0.5)
    assert one_nest < 1.0 < nested
