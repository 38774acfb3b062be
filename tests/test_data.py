"""Tests for geosim.data: the shipped 2023 world, its rebuild, calibration and synthetic worlds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geosim.cli import main as cli_main
from geosim.data import (
    INDICATORS,
    PROVENANCES,
    SOURCES_DIR,
    WORLD_DIR,
    load_world,
    synthetic_world,
)
from geosim.data.build import build, calibration, largest_lac

LAC_33 = (
    "ARG BOL BRA CHL COL ECU GUY PRY PER SUR URY VEN MEX BLZ CRI SLV GTM HND NIC PAN "
    "ATG BHS BRB CUB DMA DOM GRD HTI JAM KNA LCA VCT TTO"
).split()
PARTNERS = ["USA", "CAN", "CHN", "EUU", "JPN", "KOR", "IND", "ROW"]


@pytest.fixture(scope="module")
def world():
    return load_world()


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory):
    """Rebuild the world from the shipped sources once; returns the folder."""
    out = tmp_path_factory.mktemp("world")
    build(out)
    return out


def off_diagonal(x: np.ndarray) -> np.ndarray:
    return x * (1 - np.eye(len(x)))


# --- the shipped world ----------------------------------------------------------------------


def test_economies_and_shapes(world):
    assert set(world.iso3) == set(LAC_33) | set(PARTNERS)
    assert world.n == 41 and world.base_year == 2023
    assert {world.iso3[i] for i in np.flatnonzero(world.is_lac)} == set(LAC_33)
    assert world.lac == [c for c in world.iso3 if c in set(LAC_33)]  # in the world's order
    for key in ("gdp", "population", "lat", "lon", "growth", "is_lac"):
        assert getattr(world, key).shape == (41,), key
    for key in ("distance_km", "flows", "provenance", "tariff"):
        assert getattr(world, key).shape == (41, 41), key
    assert load_world() is world  # cached
    assert (world.gdp > 0).all() and (world.population > 0).all()
    assert np.isfinite(world.growth).all() and (np.abs(world.growth) < 0.25).all()


def test_arrays_are_read_only(world):
    with pytest.raises(ValueError):
        world.flows[0, 0] = 1.0
    with pytest.raises(ValueError):
        world.gdp[0] = 1.0


def test_index_and_error_message(world):
    assert world.iso3[world.index("BRA")] == "BRA"
    with pytest.raises(KeyError) as err:
        world.index("XXX")
    assert "XXX" in str(err.value) and "BRA" in str(err.value) and "ROW" in str(err.value)


def test_distances(world):
    d = world.distance_km
    assert np.allclose(d, d.T) and (np.diag(d) == 0).all()
    off = ~np.eye(world.n, dtype=bool)
    assert (d[off] > 50).all() and (d[off] < 20_100).all()
    assert 6_000 < d[world.index("USA"), world.index("BRA")] < 7_000


def test_flows_non_negative_and_domestic_positive(world):
    x = world.flows
    assert np.isfinite(x).all() and (x >= 0).all()
    assert (np.diag(x) > 0).all()


def test_balance_against_totals(world):
    """Flows add up to the stored totals and to the official goods totals of the partners."""
    c = pd.read_csv(WORLD_DIR / "countries.csv")
    x = world.flows
    exports, imports = off_diagonal(x).sum(axis=1), off_diagonal(x).sum(axis=0)
    assert np.allclose(x.sum(axis=1), c.exports_usd + c.domestic_usd, rtol=1e-9)
    assert np.allclose(imports, c.imports_usd, rtol=1e-9)
    assert np.isclose(c.exports_usd.sum(), c.imports_usd.sum(), rtol=1e-9)
    official = pd.read_csv(SOURCES_DIR / "goods_totals_added.csv")
    for r in official.itertuples():
        model = (exports if r.flow == "export" else imports)[world.index(r.iso3)]
        assert model == pytest.approx(r.value_usd, rel=1e-9), (r.iso3, r.flow)


def test_domestic_share_of_absorption(world):
    share = np.diag(world.flows) / world.flows.sum(axis=0)
    assert (share >= 0.6 - 1e-9).all() and (share <= 0.9 + 1e-9).all()


def test_provenance_coverage(world):
    p = world.provenance
    assert set(np.unique(p)) <= set(PROVENANCES)
    assert (np.diag(p) == "domestic").all()
    assert (p[~np.eye(world.n, dtype=bool)] != "domestic").all()
    counts = pd.Series(p.ravel()).value_counts()
    for kind in ("observed", "mirror", "share-derived", "imputed"):
        assert counts.get(kind, 0) > 0, kind
    residual = {(world.iso3[i], world.iso3[j]) for i, j in zip(*np.nonzero(p == "residual"),
                                                               strict=True)}
    assert residual == {("USA", "ROW"), ("ROW", "USA"), ("CHN", "ROW"), ("ROW", "CHN")}


def test_us_china_cells_match_own_reports(world):
    """One reporter per share: LAC cells with the US and China are the LAC country's reports."""
    m = pd.read_csv(SOURCES_DIR / "major_partner_flows.csv")
    m = m[m.partner.isin(["USA", "CHN"]) & m.note.str.contains("side=LAC")]
    assert len(m) > 100
    for r in m.itertuples():
        i, j = world.index(r.reporter), world.index(r.partner)
        cell = (i, j) if r.flow == "export" else (j, i)
        assert world.flows[cell] == pytest.approx(r.value_usd, abs=1.0)
        assert world.provenance[cell] == "observed"


def test_calibration_20_largest_lac(world):
    """China and US shares of exports and imports: ±3 pp ('=') or below the bound ('<')."""
    top = largest_lac(world)
    assert len(top) == 20 and {"BRA", "MEX", "ARG", "COL", "CHL", "PER"} <= set(top)
    cal = calibration(world)
    cal = cal[cal.iso3.isin(top)]
    assert len(cal) == 80
    worst = cal.sort_values("miss_pp", ascending=False).head(5)
    print("\nworst calibration misses (pp):\n" + worst.to_string(index=False))
    assert cal.ok.all(), cal[~cal.ok].to_string()


def test_calibration_uses_shares_not_tolerance_gaming(world):
    """The model shares are computed from the matrix: e.g. Brazil's China export share ≈ 30.7%."""
    x = off_diagonal(world.flows)
    bra, chn = world.index("BRA"), world.index("CHN")
    assert x[bra, chn] / x[bra].sum() == pytest.approx(104.32e9 / 339.70e9, rel=1e-3)


def test_targets_table(world):
    t = world.targets
    assert list(t.columns[:4]) == ["iso3", "indicator", "value", "bound"]
    assert len(t) == 33 * 4 and set(t.iso3) == set(LAC_33)
    assert set(t.indicator) == set(INDICATORS) and set(t.bound) <= {"=", "<"}
    assert ((t.value > 0) & (t.value < 1)).all()


def test_tariffs(world):
    tau = world.tariff
    assert (np.diag(tau) == 0).all() and (tau >= 0).all() and (tau < 0.5).all()
    usa, mex, chn, bra, arg = (world.index(c) for c in ("USA", "MEX", "CHN", "BRA", "ARG"))
    assert tau[mex, usa] == 0 and tau[usa, mex] == 0  # USMCA
    assert tau[bra, arg] == 0  # Mercosur
    assert tau[chn, usa] == pytest.approx(0.193)  # Section 301 override
    assert tau[usa, bra] == pytest.approx(0.111)  # Brazil's MFN average on US goods


def test_memberships(world):
    m = world.memberships
    for col in ("bloc", "bloc_type", "iso3", "entry_year", "exit_year", "status", "preferential",
                "replaced_by", "wto_rta_id", "source"):
        assert col in m.columns
    blocs = set(m.bloc)
    for name in ("USMCA", "NAFTA", "Mercosur", "CAFTA-DR", "Pacific Alliance", "CARICOM", "CPTPP",
                 "Andean Community (CAN)", "Chile - China", "United States - Peru",
                 "EU - CARIFORUM States"):
        assert name in blocs, name
    assert set(m.iso3) <= set(world.iso3) and "ROW" not in set(m.iso3)
    assert m.source.str.match(r"(WTO RTA-IS id \d+|DESTA v2\.3)").all()
    assert not m.source.str.contains("http").any()  # no secondary web pages
    assert set(m.bloc_type) <= {"FTA", "customs union", "economic integration", "partial scope"}
    assert not m[m.bloc_type == "partial scope"].preferential.any()
    # preferential = in the agreement during the base year, never after its exit
    assert not m[m.status == "terminated"].preferential.any()
    assert (m[m.preferential].entry_year <= world.base_year).all()
    assert (m[m.exit_year.notna()].exit_year <= world.base_year).eq(
        m[m.exit_year.notna()].status == "terminated").all()


def test_investment(world):
    inv = world.investment
    assert list(inv.columns) == ["source", "host", "kind", "value_usd", "note"]
    assert (inv.value_usd >= 0).all() and set(inv.kind) == {"fdi", "official_finance"}
    fdi = inv[inv.kind == "fdi"]
    for src in ("USA", "CHN", "EUU"):
        assert set(fdi[fdi.source == src].host) == set(LAC_33), src
    of = inv[inv.kind == "official_finance"].set_index("host").value_usd
    assert set(of.index) == set(LAC_33)
    assert of["ARG"] < 50e9  # AidData's 139bn counts PBoC swap renewals
    assert of["VEN"] > 100e9


# --- reproducibility and the CLI --------------------------------------------------------------


def test_rebuild_reproduces_shipped_files(rebuilt):
    shipped = sorted(p.name for p in WORLD_DIR.iterdir() if p.is_file())
    assert sorted(p.name for p in rebuilt.iterdir()) == shipped
    for name in shipped:
        assert (rebuilt / name).read_bytes() == (WORLD_DIR / name).read_bytes(), name


def test_cli_summary_and_errors(capsys, tmp_path):
    assert cli_main(["data", "build", "--out", str(tmp_path / "w")]) == 0
    out = capsys.readouterr().out
    assert "observed" in out and "80/80" in out and "worst misses" in out
    assert (tmp_path / "w" / "flows.csv").exists()
    not_a_dir = tmp_path / "file.txt"
    not_a_dir.write_text("x")
    assert cli_main(["data", "build", "--out", str(not_a_dir)]) == 2
    assert "not a folder" in capsys.readouterr().err


# --- synthetic worlds -------------------------------------------------------------------------


@pytest.mark.parametrize("n", [2, 12, 200])
def test_synthetic_world_shapes(n):
    w = synthetic_world(n, seed=3)
    assert w.n == n and w.iso3[:2] == ("USA", "CHN") and len(set(w.iso3)) == n
    for key in ("distance_km", "flows", "provenance", "tariff"):
        assert getattr(w, key).shape == (n, n)
    assert w.gdp.argmax() == 0
    assert (w.flows >= 0).all() and (np.diag(w.flows) > 0).all()
    share = np.diag(w.flows) / w.flows.sum(axis=0)
    assert (share >= 0.6 - 1e-12).all() and (share <= 0.9 + 1e-12).all()
    assert np.allclose(w.distance_km, w.distance_km.T)
    if n >= 12:
        assert w.is_lac.sum() > n / 2
    with pytest.raises(ValueError):
        w.flows[0, 1] = 0.0


def test_synthetic_world_is_deterministic():
    a, b, c = synthetic_world(30, seed=7), synthetic_world(30, seed=7), synthetic_world(30, 8)
    assert a.iso3 == b.iso3
    assert np.array_equal(a.flows, b.flows) and np.array_equal(a.tariff, b.tariff)
    assert not np.array_equal(a.flows, c.flows)
    with pytest.raises(ValueError):
        synthetic_world(1)
