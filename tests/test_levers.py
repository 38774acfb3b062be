"""Levers (policies chosen) crossed with uncertainties (parameters sampled): the design, the
common seeds across settings, and the robustness table of each setting across the worlds."""

from __future__ import annotations

import pandas as pd
import pytest

from geosim.cli import main
from geosim.experiments import SweepError, design, load
from geosim.experiments.samplers import design_size, runs
from geosim.experiments.spec import count_runs, parse_sweep

SWEEP = """\
name: levers
scenario: pivot
reference: baseline
sampler: {sampler}
samples: 4
seed: 2
until: 2027
levers:
  events.us_programme.budget_bn: [0, 30]
  events.china_response.factor: {{levels: {{none: 1, five_fold: 5}}}}
parameters:
  gamma: {{}}
outcomes:
  china_vs_base: {{metric: china_trade_share, of: region, reduce: final, vs_reference: true}}
"""


def test_levers_cross_every_world_with_the_same_seeds():
    spec = parse_sweep(SWEEP.format(sampler="lhs"), "levers.yaml")
    assert spec.lever_names == ["events.us_programme.budget_bn", "events.china_response.factor"]
    assert spec.input_names[:2] == spec.lever_names and spec.parameter_names == ["gamma"]
    d = design(spec)
    assert len(d) == design_size(spec) == 4 * 4
    assert count_runs(spec) == 16 * 2  # with the paired reference runs
    worlds = [v["gamma"] for v in d.values]
    assert worlds[:4] * 4 == worlds  # every setting sees the same four worlds
    settings = {(v["events.us_programme.budget_bn"], v["events.china_response.factor"])
                for v in d.values}
    assert settings == {(0, 1), (0, 5), (30, 1), (30, 5)}
    assert {lab["events.china_response.factor"] for lab in d.labels} == {"none", "five_fold"}
    seeds = [r[3] for r in runs(spec, len(d))]
    assert seeds[:4] * 4 == seeds and len(set(seeds)) == 4  # common random numbers
    assert "levers" in spec.design()
    plain = parse_sweep(SWEEP.format(sampler="lhs").split("levers:")[0]
                        + "parameters:" + SWEEP.split("parameters:")[1].format(), "p.yaml")
    assert "levers" not in plain.design()  # sweeps without levers keep their design hash


@pytest.mark.parametrize("edit, words", [
    (lambda t: t.format(sampler="sobol"), "levers are crossed with samples of the parameters"),
    (lambda t: t.format(sampler="lhs").replace("  gamma: {}", "  gamma: {}\n"
                                               "  events.us_programme.budget_bn: {low: 1, "
                                               "high: 2}"), "is also under 'parameters'"),
    (lambda t: t.format(sampler="lhs").replace("[0, 30]", "{low: 0, high: 30}"),
     "a grid needs 'levels'"),
])
def test_bad_levers_are_errors_naming_the_field(edit, words):
    with pytest.raises(SweepError, match="levers") as info:
        parse_sweep(edit(SWEEP), "levers.yaml")
    assert words in str(info.value)


def test_analyze_reports_each_settings_robustness_across_worlds(tmp_path, capsys):
    (tmp_path / "levers.yaml").write_text(SWEEP.format(sampler="random"))
    out = tmp_path / "sweep"
    assert main(["sweep", str(tmp_path / "levers.yaml"), "--workers", "1", "--quiet",
                 "--out", str(out)]) == 0
    assert main(["analyze", str(out), "--target", "none", "--no-figures"]) == 0
    assert "Robustness of each lever setting" in capsys.readouterr().out
    table = pd.read_csv(out / "analysis" / "robustness.csv")
    assert len(table) == 4 and set(table["unit"]) == {"pp"}
    assert table["share_lowest"].sum() == pytest.approx(1.0)
    assert table["share_highest"].sum() == pytest.approx(1.0)
    runs_ = load(out)
    more = runs_[(runs_["events.us_programme.budget_bn"] == 30)
                 & (runs_["events.china_response.factor"] == "five_fold")]
    row = table[table["setting"] == "events.us_programme.budget_bn=30, "
                                    "events.china_response.factor=five_fold"].iloc[0]
    assert row["worlds"] == 4
    assert row["mean"] == pytest.approx(100 * more["china_vs_base"].mean())
