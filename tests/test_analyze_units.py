"""`geosim analyze`: one unit per outcome everywhere (shares in %, their differences in pp), a
target outside an outcome's range is an error, `--out` keeps earlier analyses, and `--prim-box`
reports a chosen step of PRIM's peeling trajectory."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from geosim.cli import main
from geosim.experiments import load

SWEEP = """\
name: units
scenario: baseline
sampler: random
samples: 12
seed: 3
until: 2025
parameters:
  sigma: {low: 3.5, high: 7.0}
  china_lac_trend: {}
outcomes:
  share: {metric: china_trade_share, of: region, reduce: final}
  moved: {metric: china_trade_share, of: region, reduce: change}
  gdp: {metric: real_gdp_index, of: region, reduce: final}
"""


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("units")
    (folder / "units.yaml").write_text(SWEEP)
    out = folder / "sweep"
    assert main(["sweep", str(folder / "units.yaml"), "--workers", "1", "--quiet",
                 "--out", str(out)]) == 0
    return out


def test_every_table_and_the_target_use_the_outcomes_unit(sweep, capsys):
    raw = load(sweep)
    median_pp = 100 * raw["moved"].median()
    assert main(["analyze", str(sweep), "--target", f"moved<{median_pp}"]) == 0
    printed = capsys.readouterr().out
    assert f"moved<{median_pp:g} pp" in printed
    a = sweep / "analysis"
    summary = pd.read_csv(a / "summary.csv").set_index("outcome")
    assert summary.loc[["share", "moved", "gdp"], "unit"].tolist() == [
        "%", "pp", "index (start = 100)"]
    assert summary.loc["moved", "mean"] == pytest.approx(100 * raw["moved"].mean())
    assert summary.loc["gdp", "mean"] == pytest.approx(100 * raw["gdp"].mean())
    effects = pd.read_csv(a / "main_effects.csv")
    assert set(effects["unit"]) == {"%", "pp", "index (start = 100)"}
    moved = effects[effects["outcome"] == "moved"]
    assert moved["high_mean"].abs().max() > 0.5  # pp of a share that grows by points, not 0.00x
    by_sample = pd.read_csv(a / "by_sample.csv")
    assert {"share_mean_pct", "moved_p95_pp", "gdp_sd_index"} <= set(by_sample.columns)
    box = pd.read_csv(a / "prim_box.csv")
    assert (box["target_unit"] == "pp").all() if len(box) else True
    # the PRIM target, typed in pp, selects half the runs (the median), not none
    trajectory = pd.read_csv(a / "prim_trajectory.csv")
    assert 0.3 < trajectory.loc[0, "density"] < 0.7


def test_a_target_outside_the_outcomes_range_is_an_error_naming_it(sweep, capsys):
    raw = load(sweep)
    before = sorted(p.name for p in (sweep / "analysis").iterdir()) \
        if (sweep / "analysis").exists() else None
    for target in ("moved<-0.5", f"moved>{100 * raw['moved'].max() + 1}"):
        assert main(["analyze", str(sweep), "--target", target]) == 2
        err = capsys.readouterr().err
        lo, hi = 100 * raw["moved"].min(), 100 * raw["moved"].max()
        assert f"moved ranges from {lo:.4g} to {hi:.4g} pp" in err
        assert "selects none" in err
    after = sorted(p.name for p in (sweep / "analysis").iterdir()) \
        if (sweep / "analysis").exists() else None
    assert before == after  # nothing written or deleted


def test_out_keeps_earlier_analyses_and_prim_box_chooses_a_step(sweep, capsys):
    assert main(["analyze", str(sweep), "--target", "none"]) == 0
    first = sorted(p.name for p in (sweep / "analysis").iterdir())
    other = sweep / "analysis_step1"
    share = 100 * load(sweep)["share"].median()
    assert main(["analyze", str(sweep), "--target", f"share<{share}", "--prim-box", "1",
                 "--no-figures", "--out", str(other)]) == 0
    printed = capsys.readouterr().out
    assert "Peeling trajectory" in printed
    assert sorted(p.name for p in (sweep / "analysis").iterdir()) == first  # untouched
    trajectory = pd.read_csv(other / "prim_trajectory.csv")
    assert trajectory["chosen"].tolist().index(True) == 1
    box = pd.read_csv(other / "prim_box.csv")
    assert box["mass"].iloc[0] == pytest.approx(trajectory.loc[1, "mass"])
    assert main(["analyze", str(sweep), "--target", f"share<{share}", "--prim-box", "99",
                 "--out", str(other)]) == 2
    assert "the peeling trajectory has steps 0 to" in capsys.readouterr().err
    assert main(["analyze", str(sweep), "--out", str(sweep)]) == 2
    assert "the sweep's own folder" in capsys.readouterr().err
