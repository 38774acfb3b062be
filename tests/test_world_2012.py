"""The shipped 2012 world: same economies as 2023, balanced, calibrated to the 2012 reports."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geosim.cli import main as cli_main
from geosim.data import SOURCES_DIR, WORLD_2012_DIR, load_world
from geosim.data.build import largest_lac


@pytest.fixture(scope="module")
def world():
    return load_world(2012)


def test_same_economies_and_order_as_2023(world):
    w23 = load_world()
    assert world.iso3 == w23.iso3 and world.name == w23.name
    assert world.base_year == 2012 and w23.base_year == 2023
    assert load_world(2012) is world and load_world() is w23  # cached per year
    with pytest.raises(ValueError, match="2012"):
        load_world(1999)


def test_balanced_complete_matrix(world):
    x = world.flows
    assert np.isfinite(x).all() and (x >= 0).all() and (np.diag(x) > 0).all()
    assert (np.diag(world.provenance) == "domestic").all()
    c = pd.read_csv(WORLD_2012_DIR / "countries.csv")
    off = x * (1 - np.eye(world.n))
    assert np.allclose(off.sum(axis=1), c.exports_usd) and np.allclose(off.sum(axis=0),
                                                                       c.imports_usd)
    assert c.exports_usd.sum() == pytest.approx(c.imports_usd.sum(), rel=1e-12)
    share = np.diag(x) / x.sum(axis=0)
    assert (share >= 0.6 - 1e-9).all() and (share <= 0.9 + 1e-9).all()
    # every LAC economy exports and imports something
    assert (off.sum(axis=1) > 0).all() and (off.sum(axis=0) > 0).all()


def test_gdp_is_world_bank_2012(world):
    gdp = pd.read_csv(SOURCES_DIR / "gdp_current_usd_2010_2023.csv")
    g12 = gdp[gdp.year == 2012].set_index("iso3").gdp_usd
    for c in ("BRA", "MEX", "USA", "CHN", "VEN", "CUB", "EUU"):
        assert world.gdp[world.index(c)] == pytest.approx(g12[c], rel=1e-9), c
    assert set(gdp.iso3) == set(world.iso3)


def test_implausible_report_replaced_by_mirror(world):
    ven, usa = world.index("VEN"), world.index("USA")
    assert world.flows[ven, usa] == pytest.approx(38.7e9)
    assert world.provenance[ven, usa] == "mirror"


def test_agreements_and_tariffs_in_force_in_2012(world):
    m = world.memberships
    tau = world.tariff
    idx = world.index
    # in force in 2012: zero tariffs
    assert tau[idx("PER"), idx("CHN")] == 0 and tau[idx("USA"), idx("PER")] == 0  # 2010, 2009
    assert tau[idx("MEX"), idx("USA")] == 0  # NAFTA, replaced by USMCA only in 2020
    nafta = m[m.bloc == "NAFTA"]
    assert nafta.preferential.all() and (nafta.status == "in force").all()
    usmca = m[m.bloc == "USMCA"]
    assert not usmca.preferential.any() and (usmca.status == "in force").all()  # scheduled
    # Pacific Alliance (2016) and Mexico - Panama (2015) enter later: MFN in 2012
    assert tau[idx("PAN"), idx("MEX")] > 0
    assert tau[idx("CHN"), idx("USA")] == pytest.approx(tau[idx("BRA"), idx("USA")])  # no 301
    hnd = m[(m.bloc == "Mexico - Central America") & (m.iso3 == "HND")]
    assert int(hnd.entry_year.iloc[0]) == 2013 and not hnd.preferential.any()


def observed_export_shares() -> pd.DataFrame:
    """Each exporter's own 2012 report (total incl. ROW), straight from the shipped source."""
    m = pd.read_csv(SOURCES_DIR / "trade_matrix_2012.csv")
    fix = pd.read_csv(SOURCES_DIR / "trade_corrections_2012.csv")
    for r in fix.itertuples():  # VEN->USA: the US Census mirror, the difference out of ROW
        sel = (m.exporter == r.exporter) & (m.importer == r.importer)
        delta = r.value_usd - m.loc[sel, "exports_usd"].sum()
        m.loc[sel, "exports_usd"] = r.value_usd
        m.loc[(m.exporter == r.exporter) & (m.importer == r.absorbed_by), "exports_usd"] -= delta
    total = m.groupby("exporter").exports_usd.sum()
    out = m[m.importer.isin(["CHN", "USA"])].assign(share=lambda d: d.exports_usd /
                                                     d.exporter.map(total))
    return out.pivot(index="exporter", columns="importer", values="share").fillna(0.0)


def test_calibration_2012_china_us_export_shares(world):
    """China and US shares of exports, 20 largest LAC by 2012 GDP: within ±3 pp of the reports."""
    top = largest_lac(world)
    assert len(top) == 20 and {"BRA", "MEX", "ARG", "VEN", "CHL", "PER", "CUB"} <= set(top)
    obs = observed_export_shares()
    x = world.flows * (1 - np.eye(world.n))
    rows = []
    for c in top:
        if c not in obs.index:  # no 2012 report (CUB): imputed, nothing to compare
            continue
        i = world.index(c)
        for partner in ("CHN", "USA"):
            model = x[i, world.index(partner)] / x[i].sum()
            rows.append((c, partner, obs.loc[c, partner], model,
                         abs(model - obs.loc[c, partner]) * 100))
    cal = pd.DataFrame(rows, columns=["iso3", "partner", "observed", "model", "miss_pp"])
    print("\nworst 2012 misses (pp):\n"
          + cal.sort_values("miss_pp", ascending=False).head(5).to_string(index=False))
    assert len(cal) >= 36
    assert (cal.miss_pp <= 3.0).all(), cal[cal.miss_pp > 3].to_string()
    chl = cal.set_index(["iso3", "partner"]).observed
    assert 0.20 < chl["CHL", "CHN"] < 0.28  # Chile -> China ≈ 24% in 2012 (issue 9)


def test_rebuild_2012_reproduces_shipped_files(tmp_path, capsys):
    out = tmp_path / "w12"
    assert cli_main(["data", "build", "--year", "2012", "--out", str(out)]) == 0
    assert "2012 world" in capsys.readouterr().out
    shipped = sorted(p.name for p in WORLD_2012_DIR.iterdir() if p.is_file())
    assert sorted(p.name for p in out.iterdir() if p.name != ".geosim.json") == shipped
    for name in shipped:
        assert (out / name).read_bytes() == (WORLD_2012_DIR / name).read_bytes(), name


def test_cli_rejects_an_unknown_year(capsys):
    assert cli_main(["data", "build", "--year", "1999"]) == 2
    assert "--year" in capsys.readouterr().err
