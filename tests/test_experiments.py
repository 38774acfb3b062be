"""Sweep files, samplers and sensitivity analysis: sizes, bounds, determinism, known answers."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geosim.cli import main as cli
from geosim.experiments import SweepError, design, load_sweep, run_seed, run_sweep
from geosim.experiments.analysis import analyze, main_effects, prim
from geosim.experiments.evaluate import reduce
from geosim.experiments.samplers import design_size, runs, seed_block
from geosim.experiments.spec import OutcomeSpec, ParameterSpec, SweepSpec, parse_sweep

ROOT = Path(__file__).resolve().parents[1]

SWEEP = """\
name: t
scenario: baseline
sampler: {sampler}
{samples}
replications: 2
seed: 11
parameters:
  sigma: {{low: 3.5, high: 7}}
  kappa: {{distribution: triangular, low: 0.05, mode: 0.1, high: 0.3}}
  gamma: {{distribution: normal, mean: 0.1, sd: 0.05, low: 0, high: 0.3}}
  events.usmca_accession.year: {{low: 2025, high: 2030}}
  events.usmca_accession.countries:
    levels: {{pacific: [CHL, COL, PER], central: [CRI, PAN]}}
outcomes:
  share: {{metric: china_trade_share, of: region, reduce: final}}
"""


def sweep(sampler: str, samples: int | None = 16, text: str = SWEEP) -> SweepSpec:
    return parse_sweep(text.format(sampler=sampler,
                                   samples=f"samples: {samples}" if samples else ""), "t.yaml")


GRID = """\
scenario: baseline
sampler: grid
parameters:
  sigma: [4, 5, 6]
  beta_rta: {low: 0.3, high: 0.9, points: 4}
  events.usmca_accession.countries: {levels: {a: [CHL], b: [CHL, PER]}}
outcomes:
  share: {metric: china_trade_share}
"""


# --------------------------------------------------------------------------- samplers


@pytest.mark.parametrize("sampler, samples, expected", [
    ("random", 20, 20), ("lhs", 20, 20),
    ("sobol", 16, 16 * (2 * 5 + 2)),   # Saltelli: N(2D+2) with second-order indices
    ("morris", 6, 6 * (5 + 1)),        # Morris: r(D+1)
])
def test_design_sizes(sampler, samples, expected):
    spec = sweep(sampler, samples)
    d = design(spec)
    assert len(d) == design_size(spec) == expected
    assert d.unit.shape == (expected, 5)
    assert len(list(runs(spec, len(d)))) == 2 * expected


def test_sobol_without_second_order_has_n_d_plus_2_rows():
    spec = sweep("sobol", 8, SWEEP.replace("seed: 11", "seed: 11\noptions: {{calc_second_order: "
                                           "false}}"))
    assert len(design(spec)) == 8 * (5 + 2)


@pytest.mark.parametrize("sampler", ["random", "lhs", "sobol", "morris"])
def test_values_stay_in_bounds_and_levels(sampler):
    d = design(sweep(sampler, 32))
    v = pd.DataFrame(d.values)
    assert v["sigma"].between(3.5, 7).all()
    assert v["kappa"].between(0.05, 0.3).all()
    assert v["gamma"].between(0, 0.3).all()
    years = v["events.usmca_accession.year"]
    assert years.between(2025, 2030).all() and all(isinstance(y, int) for y in years)
    assert set(map(tuple, v["events.usmca_accession.countries"])) <= {("CHL", "COL", "PER"),
                                                                      ("CRI", "PAN")}
    labels = pd.DataFrame(d.labels)["events.usmca_accession.countries"]
    assert set(labels) <= {"pacific", "central"}


@pytest.mark.parametrize("sampler", ["random", "lhs", "sobol", "morris"])
def test_designs_are_deterministic_in_the_root_seed(sampler):
    a, b = design(sweep(sampler)), design(sweep(sampler))
    assert a.values == b.values
    other = design(sweep(sampler, text=SWEEP.replace("seed: 11", "seed: 12")))
    assert other.values != a.values


def test_random_draws_follow_their_distributions():
    d = pd.DataFrame(design(sweep("random", 4000)).values)
    assert d["sigma"].mean() == pytest.approx(5.25, abs=0.05)               # uniform midpoint
    assert d["kappa"].mean() == pytest.approx((0.05 + 0.1 + 0.3) / 3, abs=0.005)  # triangular
    assert d["gamma"].mean() == pytest.approx(0.1, abs=0.005)
    counts = d["events.usmca_accession.year"].value_counts()
    assert sorted(counts.index) == list(range(2025, 2031))                  # every year drawn
    assert counts.min() > 4000 / 6 * 0.8                                     # about equally


def test_latin_hypercube_hits_every_stratum_once():
    n = 50
    d = design(sweep("lhs", n))
    for j in range(d.unit.shape[1]):
        assert sorted((d.unit[:, j] * n).astype(int)) == list(range(n))


def test_grid_is_the_product_of_levels():
    spec = parse_sweep(GRID, "grid.yaml")
    d = design(spec)
    assert len(d) == design_size(spec) == 3 * 4 * 2
    assert {(x["sigma"], round(x["beta_rta"], 6), x["events.usmca_accession.countries"])
            for x in d.labels} == {(s, b, c) for s in (4, 5, 6) for b in (0.3, 0.5, 0.7, 0.9)
                                   for c in "ab"}
    assert d.values[0]["events.usmca_accession.countries"] == ("CHL",)
    assert d.unit is None


def test_run_seeds_are_stable_distinct_and_independent_of_order():
    seeds = {run_seed(7, s, r) for s in range(200) for r in range(5)}
    assert len(seeds) == 1000 and all(0 <= x < 2**63 for x in seeds)
    assert run_seed(7, 3, 1) == run_seed(7, 3, 1) != run_seed(8, 3, 1)
    spec = sweep("random", 4)
    listed = list(runs(spec, 4))
    assert [r[0] for r in listed] == list(range(8))          # run_id = sample × R + replicate
    assert listed[5] == (5, 2, 1, run_seed(11, 2, 1))
    # a Morris trajectory (D + 1 = 6 samples) and a Sobol base row (2D + 2 = 12) share seeds
    for sampler, block in (("morris", 6), ("sobol", 12)):
        spec = sweep(sampler, 2)
        n = design_size(spec)
        listed = list(runs(spec, n))
        assert n == 2 * block and seed_block(spec) == block
        assert [r[3] for r in listed] == [run_seed(11, s // block, r)
                                          for s in range(n) for r in range(2)]
        assert "seeds" in spec.design() and "seeds" not in sweep("lhs").design()


def test_integer_uniform_covers_both_ends_of_the_range():
    p = ParameterSpec("events.x.year", "uniform", low=2025, high=2027, integer=True)
    assert [v for v, _ in p.from_unit(np.array([0.0, 0.34, 0.67, 0.999999, 1.0]))] == \
        [2025, 2026, 2027, 2027, 2027]


# --------------------------------------------------------------------------- sweep files


@pytest.mark.parametrize("edit, message", [
    (("sampler: grid", "sampler: grid\nsamplr: 3"), "line 3: samplr: unknown key (did you mean "
     "'sampler'?)"),
    (("sigma: [4, 5, 6]", "sigmaa: [4, 5, 6]"), "parameters.sigmaa: unknown parameter (did you "
     "mean 'sigma'?); model parameters are sigma, beta_rta"),
    (("low: 0.3, high: 0.9", "low: 0.9, high: 0.3"), "line 5: parameters.beta_rta.high: expected "
     "high > low, got low=0.9, high=0.3"),
    (("sampler: grid", "sampler: saltelli"), "line 2: sampler: unknown sampler 'saltelli'; "
     "expected one of grid, random, lhs, sobol, morris"),
    (("{metric: china_trade_share}", "{metric: china_share}"), "outcomes.share.metric: not a "
     "numeric column of the region table (did you mean 'china_trade_share'?)"),
    (("sampler: grid", "sampler: grid\nsamples: 10"), "samples: a grid's size is the product"),
    (("beta_rta: {low: 0.3, high: 0.9, points: 4}", "beta_rta: {low: 0.3, high: 0.9}"),
     "parameters.beta_rta: a grid needs 'levels', or a range with 'points'"),
    (("beta_rta: {", "beta_rta: {distribution: beta, "), "parameters.beta_rta.distribution: "
     "unknown distribution 'beta'"),
    (("sigma: [4, 5, 6]", "events.usmca_accession: [1]"), "parameters.events.usmca_accession: a "
     "scenario field is addressed as events.<event id>.<field>"),
])
def test_bad_sweep_files_name_file_line_and_field(tmp_path, capsys, edit, message):
    path = tmp_path / "bad.yaml"
    path.write_text(GRID.replace(*edit))
    with pytest.raises(SweepError, match="^" + str(path).replace(".", r"\.")) as err:
        load_sweep(path)
    assert message in str(err.value)
    assert cli(["sweep", str(path), "--out", str(tmp_path / "out")]) == 2
    stderr = capsys.readouterr().err
    assert stderr.startswith("error: ") and message in stderr and "Traceback" not in stderr
    assert not (tmp_path / "out").exists()


def test_sobol_needs_a_power_of_two():
    with pytest.raises(SweepError, match=r"samples: the Sobol sequence needs a power of two, "
                       r"got 12 \(try 16\)"):
        sweep("sobol", 12)


def test_a_value_the_scenario_refuses_is_reported_before_any_run(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text(GRID.replace("events.usmca_accession.countries", "events.nope.countries"))
    assert cli(["sweep", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml, line 6: parameters.events.nope.countries: the value 'a' is refused by " \
           "scenario 'baseline'" in err and "no event with id 'nope'" in err


def test_unknown_sweep_name_is_a_user_error(capsys):
    assert cli(["sweep", "no_such_sweep"]) == 2
    assert "no_such_sweep: no such sweep file" in capsys.readouterr().err


SHIPPED_SWEEPS = sorted(p.stem for p in (ROOT / "experiments").glob("*.yaml"))


@pytest.mark.parametrize("name", SHIPPED_SWEEPS)
def test_shipped_sweeps_are_valid_and_sized_to_run(name):
    from geosim.experiments import prepare

    spec = load_sweep(ROOT / "experiments" / f"{name}.yaml")
    prepare(spec)  # every range end and level accepted by the base scenario
    total = design_size(spec) * spec.replications
    # pivot_sensitivity is research-scale (N = 2048, first-order and total indices): no more
    # runs than the N = 1024 second-order design the sweep benchmark holds to 15 minutes
    assert 20 <= total <= (32_768 if name == "pivot_sensitivity" else 4096)
    if name == "pivot_sensitivity":
        assert spec.sampler == "sobol" and set(spec.parameter_names) >= {
            "sigma", "beta_rta", "kappa", "gamma", "events.usmca_accession.year",
            "events.us_programme.budget_bn", "events.china_response.factor"}


def test_baseline_trend_sweep_draws_the_trend_from_its_estimate():
    """The trend's distribution is the shipped PPML estimate and its SE, truncated at the
    parameter table's ± 2 SE range."""
    from geosim.parameters import PARAMETERS

    spec = load_sweep(ROOT / "experiments" / "baseline_trend.yaml")
    trend = next(p for p in spec.parameters if p.name == "china_lac_trend")
    estimate = pd.read_csv(ROOT / "src/geosim/data/sources/history/china_lac_trend.csv")
    pooled = estimate.set_index("spec").loc["pooled"]
    assert trend.distribution == "normal"
    assert trend.mean == pytest.approx(pooled["estimate"], abs=5e-5)
    assert trend.sd == pytest.approx(pooled["se"], abs=5e-5)
    table = PARAMETERS["china_lac_trend"]
    assert (trend.low, trend.high) == (table.low, table.high)


# --------------------------------------------------------------------------- analysis


def test_reductions():
    v = np.array([0.2, 0.25, 0.1, 0.15])
    assert reduce(v, "final") == 0.15 and reduce(v, "start") == 0.2
    assert reduce(v, "change") == pytest.approx(-0.05)
    assert reduce(v, "pct_change") == pytest.approx(-25)
    assert (reduce(v, "mean"), reduce(v, "min"), reduce(v, "max")) == pytest.approx((0.175, 0.1,
                                                                                     0.25))


def ishigami(x1: float, x2: float, x3: float, a: float = 7.0, b: float = 0.1) -> float:
    return math.sin(x1) + a * math.sin(x2) ** 2 + b * x3**4 * math.sin(x1)


def test_sobol_indices_of_the_ishigami_function(tmp_path):
    """Known answer (Ishigami & Homma 1990): S1 = (0.314, 0.442, 0), ST = (0.558, 0.442, 0.244)."""
    from test_experiments_hooks import ToyScenario, ishigami_simulate  # noqa: F401 (workers)

    names = ("x1", "x2", "x3")
    spec = SweepSpec(
        name="ishigami", scenario="toy", sampler="sobol", samples=1024, seed=3,
        options={"calc_second_order": False}, replications=1,
        parameters=tuple(ParameterSpec(n, "uniform", low=-math.pi, high=math.pi) for n in names),
        outcomes=(OutcomeSpec("y", "china_trade_share"),),
    )
    report = run_sweep(spec, tmp_path, workers=2, quiet=True, scenario=ToyScenario(domains=None),
                       simulate="test_experiments_hooks:ishigami_simulate",
                       world="test_experiments_hooks:toy_world")
    assert report.done == 1024 * 5
    res = analyze(tmp_path, target="none", figures=False)
    s = res.sensitivity.set_index("parameter")
    assert s.loc[list(names), "S1"].to_numpy() == pytest.approx([0.314, 0.442, 0.0], abs=0.04)
    assert s.loc[list(names), "ST"].to_numpy() == pytest.approx([0.558, 0.442, 0.244], abs=0.04)
    assert list(s.sort_values("rank").index) == ["x1", "x2", "x3"]  # ranked by ST
    written = pd.read_csv(tmp_path / "analysis" / "sensitivity.csv")
    assert set(written.columns) >= {"outcome", "parameter", "S1", "S1_conf", "ST", "ST_conf"}


def test_sobol_intervals_are_the_same_on_every_analysis():
    """The bootstrap is seeded: analysing the same runs twice gives the same intervals (SALib
    ignores a seed of 0, which left them to chance)."""
    from geosim.experiments.analysis import sobol

    rng = np.random.default_rng(0)
    y = rng.normal(size=64 * 5)
    first, second = sobol(["a", "b", "c"], y, calc_second_order=False), \
        sobol(["a", "b", "c"], y, calc_second_order=False)
    pd.testing.assert_frame_equal(first, second)


def test_morris_ranks_the_influential_input_first(tmp_path):
    from test_experiments_hooks import ToyScenario  # noqa: F401

    spec = SweepSpec(
        name="morris", scenario="toy", sampler="morris", samples=20, seed=1, replications=1,
        parameters=tuple(ParameterSpec(n, "uniform", low=-math.pi, high=math.pi)
                         for n in ("x1", "x2", "x3")),
        outcomes=(OutcomeSpec("y", "china_trade_share"),),
    )
    run_sweep(spec, tmp_path, workers=1, quiet=True, scenario=ToyScenario(domains=None),
              simulate="test_experiments_hooks:ishigami_simulate",
              world="test_experiments_hooks:toy_world")
    s = analyze(tmp_path, target="none", figures=False).sensitivity.set_index("parameter")
    assert s["mu_star"].idxmax() in ("x1", "x2") and s["mu_star"].idxmin() == "x3"
    assert (s["sigma"] >= 0).all()


def test_prim_finds_the_box_that_holds_the_cases_of_interest():
    rng = np.random.default_rng(0)
    x = pd.DataFrame({"a": rng.random(2000), "b": rng.random(2000),
                      "c": rng.choice(["p", "q"], 2000)})
    y = (x["a"] > 0.6) & (x["c"] == "p")
    box, trajectory = prim(x, y.to_numpy(), min_coverage=0.8)
    box = box.set_index("parameter")
    assert box.loc["a", "low"] == pytest.approx(0.6, abs=0.05) and "b" not in box.index
    assert box.loc["c", "levels"] == "p"
    assert box.attrs["density"] > 0.9 and box.attrs["coverage"] >= 0.8
    assert trajectory["chosen"].sum() == 1


def test_main_effects_show_the_direction_of_a_parameter():
    x = np.linspace(0, 1, 100)
    runs_ = pd.DataFrame({"status": "done", "sample_id": range(100), "p": x, "q": x[::-1] * 0,
                          "y": 2 * x})
    effects = main_effects(runs_, ["p", "q"], "y").set_index("parameter")
    assert effects.loc["p", "high_mean"] > effects.loc["p", "low_mean"]
    assert effects.loc["p", "swing"] == pytest.approx(1.6, abs=0.05)
    assert effects.loc["q", "swing"] == 0
