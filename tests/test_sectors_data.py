"""Tests for the sector worlds (geosim.data.sectors; issue 17 sections 1-2)."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from geosim.cli import main as cli_main
from geosim.data import (
    SECTOR_PROVENANCES,
    WORLD_2012_DIR,
    WORLD_DIR,
    load_world,
    read_world,
    synthetic_world,
)
from geosim.data.sectors import (
    FINAL_DEMAND_FLOOR,
    cap_intermediate,
    checks,
    export_composition,
    price_move,
    sectors,
    specifications,
    theta,
)

SECTOR_FILES = ("sectors.csv", "sector_flows.csv", "io.csv", "value_added.csv")
# Known misses of the independent checks, with the side they miss on (docs/data.md, "Sectors"):
# the ICIO mix applied to Mexico's customs total (ICIO's MEX->USA is 74 % of customs: maquila
# value re-allocated) overstates vehicles against the WTO-based figure.
KNOWN_MISSES = {(2023, "MEX->USA VEH (vehicles and parts)"): "high"}


@pytest.fixture(scope="module", params=[2023, 2012])
def world(request):
    return load_world(request.param)


def test_sector_fields_have_the_contract_shapes(world):
    n, j = world.n, len(world.sectors)
    assert world.sectors == ("AGR", "ENE", "MIN", "MAC", "VEH", "MAN", "SRV")
    assert world.sector_flows.shape == (j, n, n)
    assert world.sector_provenance.shape == (j, n, n)
    assert world.io.shape == (n, j, j)
    assert world.value_added_share.shape == (n, j)
    assert world.theta.shape == (j,)
    assert world.sector_tariff.shape == (j, n, n)
    assert (world.sector_flows >= 0).all()
    np.testing.assert_array_equal(world.theta, theta("CP"))


def test_sectors_sum_to_the_one_sector_flows(world):
    total = world.sector_flows.sum(axis=0)
    scale = np.maximum(np.abs(world.flows), 1.0)
    assert (np.abs(total - world.flows) / scale).max() <= 1e-6
    # the calibration targets are computed from flows, so they hold unchanged; the check
    # above covers the diagonal (domestic) too
    assert np.abs(np.diag(total) - np.diag(world.flows)).max() <= 1e-6 * np.diag(world.flows).max()


def test_services_are_domestic_only(world):
    srv = world.sectors.index("SRV")
    off = world.sector_flows[srv] * (1 - np.eye(world.n))
    assert off.max() == 0.0
    assert (np.diag(world.sector_flows[srv]) > 0).all()


def test_provenance_values_are_known_and_consistent(world):
    prov = world.sector_provenance
    assert set(np.unique(prov)) <= set(SECTOR_PROVENANCES)
    idx = np.arange(world.n)
    assert set(np.unique(prov[:, idx, idx])) <= {"domestic", "domestic_proxy"}
    assert (world.sector_flows[prov == "zero"] == 0).all()
    # ICIO pairs: both economies explicit in ICIO
    i, j = world.index("BRA"), world.index("CHN")
    assert set(prov[:-1, i, j]) == {"icio_split"}
    i, j = world.index("ECU"), world.index("USA")
    assert set(prov[:-1, i, j]) == {"imputed"}


def test_io_and_value_added_sum_to_one(world):
    total = world.value_added_share + world.io.sum(axis=1)
    np.testing.assert_allclose(total, 1.0, atol=1e-9)
    assert (world.io >= 0).all() and (world.value_added_share > 0).all()


def test_final_demand_is_positive(world):
    y = world.sector_flows.sum(axis=2).T  # gross output (n, J)
    x = world.sector_flows.sum(axis=1).T  # absorption (n, J)
    m = np.einsum("ikj,ij->ik", world.io, y)
    assert (m <= (1 - FINAL_DEMAND_FLOOR) * x * (1 + 1e-12)).all()
    assert (x - m > 0).all()
    assert ((world.value_added_share * y).sum(axis=1) > 0).all()


def test_sector_tariff_is_the_goods_tariff(world):
    srv = world.sectors.index("SRV")
    assert (world.sector_tariff[srv] == 0).all()
    for k in range(srv):
        np.testing.assert_array_equal(world.sector_tariff[k], world.tariff)


def test_independent_checks(world):
    """Each figure within its band (sources/sectors/sector_checks.csv gives the reasons);
    the known misses miss on their documented side."""
    cal = checks(world.sector_flows, list(world.iso3), world.base_year)
    assert len(cal) >= 4
    for r in cal.itertuples():
        side = KNOWN_MISSES.get((world.base_year, r.check))
        if side == "high":
            assert r.ratio > r.high and r.ratio < 1.6, r
        else:
            assert r.ok, r


def test_copper_and_oil_economies_export_their_commodity(world):
    """Shares of the whole row: Chile's and Peru's exports to China are mostly metals and ores,
    Ecuador's and Colombia's exports mostly energy in 2012 (oil prices above 100 $/bbl)."""
    s = {c: k for k, c in enumerate(world.sectors)}

    def share(exp: str, imp: str | None, sector: str) -> float:
        i = world.index(exp)
        cols = [world.index(imp)] if imp else [k for k in range(world.n) if k != i]
        return world.sector_flows[s[sector], i, cols].sum() / world.flows[i, cols].sum()

    assert share("CHL", "CHN", "MIN") > 0.6
    assert share("PER", "CHN", "MIN") > 0.6
    assert share("MEX", "USA", "MAC") + share("MEX", "USA", "VEH") > 0.5
    if world.base_year == 2012:
        assert share("ECU", None, "ENE") > 0.45
        assert share("VEN", None, "ENE") > 0.8
    else:
        assert share("GUY", None, "ENE") > 0.7  # oil from 2020 (WDI fuel share 2022: 88 %)
        assert share("PAN", "CHN", "MIN") > 0.5  # Cobre Panamá


# --- the pieces -----------------------------------------------------------------------------


def test_theta_per_specification():
    assert {"CP", "FGO"} <= set(specifications())
    cp, fgo = theta("CP"), theta("FGO")
    assert cp.shape == fgo.shape == (len(sectors()),)
    assert not np.allclose(cp, fgo)
    # trade-weighted means of the ICIO sectors' values lie within their range (CP 2015: VEH
    # all 1.115; ENE between crude's 13.53 and refined products' 64.85)
    assert cp[sectors().index("VEH")] == pytest.approx(1.115)
    assert 13.53 < cp[sectors().index("ENE")] < 64.85
    with pytest.raises(ValueError, match="unknown elasticity specification 'XYZ'.*CP"):
        theta("XYZ")


def test_price_move_is_the_index_ratio():
    p = pd.read_csv(WORLD_DIR.parent / "sources/sectors/prices.csv").set_index(["index", "year"])
    move = price_move(2022, 2023)
    energy = p.value["Energy", 2023] / p.value["Energy", 2022]
    assert move[sectors().index("ENE")] == pytest.approx(energy)
    assert move[sectors().index("MAN")] == 1.0
    np.testing.assert_allclose(price_move(2012, 2012), 1.0)


def test_export_composition_rules():
    sub = {"GUY": "South America", "ECU": "South America", "ATG": "Caribbean",
           "JAM": "Caribbean", "BRB": "Caribbean"}
    ecu = export_composition("ECU", 2012, sub)
    assert ecu.how == "WITS 2012" and ecu.shares.sum() == pytest.approx(1.0)
    guy = export_composition("GUY", 2023, sub)
    assert "WDI fuel share 87.8%" in guy.how
    atg = export_composition("ATG", 2023, sub)
    assert atg.how.startswith("no WITS data: mean of 2 Caribbean")
    pan = export_composition("PAN", 2023, sub | {"PAN": "Central America"})
    assert pan.how.startswith("override") and pan.shares[sectors().index("MIN")] == 0.7


def test_cap_intermediate_scales_only_violating_rows():
    flows = np.zeros((2, 1, 1))
    flows[:, 0, 0] = [10.0, 90.0]  # absorption = output: 10 of sector 0, 90 of sector 1
    io = np.array([[[0.5, 0.5], [0.1, 0.1]]])  # demand for input 0: 0.5*10 + 0.5*90 = 50 > 9.5
    new, scaled = cap_intermediate(io, flows, floor=0.05)
    assert scaled == [(0, 0, pytest.approx(9.5 / 50))]
    np.testing.assert_allclose(new[0, 0], io[0, 0] * 9.5 / 50)
    np.testing.assert_array_equal(new[0, 1], io[0, 1])


def test_synthetic_world_has_sectors():
    w = synthetic_world(15, seed=4)
    assert w.sectors == ("AGR", "ENE", "MIN", "MAN", "SRV")
    np.testing.assert_allclose(w.sector_flows.sum(axis=0), w.flows, rtol=1e-12)
    np.testing.assert_allclose(w.value_added_share + w.io.sum(axis=1), 1.0, atol=1e-12)
    y, x = w.sector_flows.sum(axis=2).T, w.sector_flows.sum(axis=1).T
    assert (np.einsum("ikj,ij->ik", w.io, y) < x).all()
    again = synthetic_world(15, seed=4)
    np.testing.assert_array_equal(w.sector_flows, again.sector_flows)
    assert not np.array_equal(w.sector_flows, synthetic_world(15, seed=5).sector_flows)


def test_load_world_stays_fast():
    start = time.perf_counter()
    read_world(WORLD_DIR)
    assert time.perf_counter() - start < 1.0
    assert load_world(2023) is load_world(2023)


def test_world_rejects_wrong_sector_shapes():
    import dataclasses

    w = synthetic_world(5, seed=1)
    with pytest.raises(ValueError, match="World.io must have shape"):
        dataclasses.replace(w, io=w.io[:, :2])


# --- reproducibility --------------------------------------------------------------------------


@pytest.mark.parametrize("year,shipped", [(2023, WORLD_DIR), (2012, WORLD_2012_DIR)])
def test_data_build_writes_the_sector_tables_byte_for_byte(year, shipped, tmp_path, capsys):
    out = tmp_path / f"w{year}"
    assert cli_main(["data", "build", "--year", str(year), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "sector checks:" in printed and "sectors: AGR, ENE, MIN" in printed
    for name in (*SECTOR_FILES, "BUILD_REPORT.md"):
        assert (out / name).read_bytes() == (shipped / name).read_bytes(), name


def test_docs_check_table_matches_the_build():
    """docs/data.md's table of independent checks: each row's model value and ratio are the
    shipped worlds' (rounded as printed)."""
    from pathlib import Path

    text = (Path(__file__).parents[1] / "docs/data.md").read_text()
    rows = [line.split("|")[1:-1] for line in text.splitlines()
            if line.startswith("| 2023 |") or line.startswith("| 2012 |")]
    names = {"vehicles and parts": "VEH", "metals & ores": "MIN", "agriculture & food": "AGR",
             "energy": "ENE"}
    seen = 0
    for year, check, figure, model, ratio, _band in rows:
        pair, _, rest = check.strip().partition(" ")
        sector = next(code for label, code in names.items() if rest.startswith(label))
        exporter, importer = pair.replace("world", "WLD").split("→")
        w = load_world(int(year))
        cal = checks(w.sector_flows, list(w.iso3), w.base_year)
        hit = cal[cal.check.str.startswith(f"{exporter}->{importer} {sector} ")]
        assert len(hit) == 1, check
        assert float(model) == pytest.approx(hit.model_bn.iloc[0], abs=0.051), check
        assert float(ratio) == pytest.approx(hit.ratio.iloc[0], abs=0.0051), check
        assert float(figure) == pytest.approx(hit.figure_bn.iloc[0], abs=0.051), check
        seen += 1
    assert seen == 11
