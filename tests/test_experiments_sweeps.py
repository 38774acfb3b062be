"""Sweeps of the real model: the ledger survives crashes, resumes exactly, and engines agree.

Small samples and short horizons keep the file to well under a minute on 2 cores.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import pandas as pd
import pytest

from geosim import references
from geosim.cli import main as cli
from geosim.experiments import (
    SweepError,
    design,
    load,
    load_series,
    load_sweep,
    prepare,
    run_seed,
    run_sweep,
)
from geosim.experiments.evaluate import evaluate
from geosim.experiments.plots import fan, new_axes
from test_experiments_hooks import exit_on_seed, raise_on_sample

ROOT = Path(__file__).resolve().parents[1]

SWEEP = """\
name: small
description: a short random sweep of the pivot
scenario: pivot
reference: baseline
sampler: random
samples: 30
replications: 2
seed: 5
until: 2029
parameters:
  sigma: {low: 3.5, high: 7}
  kappa: {}
  events.usmca_accession.year: {low: 2024, high: 2028}
  events.usmca_accession.countries:
    levels: {pacific: [CHL, COL, PER], central: [CRI, PAN, DOM]}
outcomes:
  china_share: {metric: china_trade_share, of: region, reduce: final}
  china_change: {metric: china_trade_share, of: region, reduce: change}
  chl_china: {metric: china_import_share, of: CHL, reduce: mean}
  china_vs_base: {metric: china_trade_share, of: region, reduce: final, vs_reference: true}
series: [region.china_trade_share]
"""
RUNS = 60
COMPARED = ["run_id", "sample_id", "replicate", "seed", "status", "sigma", "kappa",
            "events.usmca_accession.year", "events.usmca_accession.countries", "china_share",
            "china_change", "chl_china", "china_vs_base"]


@pytest.fixture(scope="module")
def sweep_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sweep") / "small.yaml"
    path.write_text(SWEEP)
    return path


@pytest.fixture(scope="module")
def reference(sweep_file, tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    """The sweep run once, uninterrupted, on 2 local workers."""
    out = tmp_path_factory.mktemp("reference")
    report = run_sweep(sweep_file, out, workers=2, quiet=True)
    assert (report.runs, report.done, report.failed) == (RUNS, RUNS, 0)
    return out, load(out)


def ledger_rows(out: Path) -> tuple[int, int]:
    """(rows, distinct run ids) in a ledger, read while a sweep may be writing it."""
    try:
        with sqlite3.connect(f"file:{out / 'ledger.sqlite'}?mode=ro", uri=True, timeout=5) as c:
            return c.execute("SELECT count(*), count(DISTINCT run_id) FROM runs").fetchone()
    except sqlite3.OperationalError:  # not created yet
        return 0, 0


def test_load_returns_one_row_per_run_with_parameters_and_outcomes(reference, sweep_file):
    out, df = reference
    assert list(df.columns[:5]) == ["run_id", "sample_id", "replicate", "seed", "status"]
    assert set(COMPARED) <= set(df.columns)
    assert len(df) == RUNS and df["run_id"].is_unique and (df["status"] == "done").all()
    assert df["seed"].tolist() == [run_seed(5, s, r) for s in range(30) for r in range(2)]
    assert set(df["events.usmca_accession.countries"]) == {"pacific", "central"}
    assert df["china_share"].between(0, 1).all()
    assert (df["china_change"] != 0).any()
    # the Parquet export holds the same table
    pd.testing.assert_frame_equal(pd.read_parquet(out / "runs.parquet")[COMPARED], df[COMPARED])
    series = load_series(out)
    assert set(series["name"]) == {"region.china_trade_share"}
    assert series.groupby("run_id")["year"].agg(["min", "max"]).eq([2023, 2029]).all().all()
    final = series[series["year"] == 2029].set_index("run_id")["value"]
    assert (final == df.set_index("run_id")["china_share"]).all()


def test_the_same_seed_gives_the_same_outcomes_and_seeds_matter(reference, sweep_file,
                                                                 monkeypatch):
    _, df = reference
    by_sample = df.groupby("sample_id")
    assert (by_sample["seed"].nunique() == 2).all()
    # the same sample with the same seed, run again here (another process, other runs before
    # it), gives exactly the outcomes the sweep's workers recorded
    spec = load_sweep(sweep_file)
    context, values = prepare(spec).context, design(spec).values
    outcomes = ["china_share", "china_change", "chl_china", "china_vs_base"]
    for row in df.iloc[[0, 1, 17, 58]].itertuples():
        again, _ = evaluate(context, values[row.sample_id], int(row.seed))
        assert [again[o] for o in outcomes] == [getattr(row, o) for o in outcomes]
    # the paired baseline reused from the run's reference equals a baseline simulated anew
    with monkeypatch.context() as m:
        m.setattr(references, "held", lambda *a, **k: None)
        row = df.iloc[17]
        plain, _ = evaluate(context, values[row["sample_id"]], int(row["seed"]))
    assert plain["china_vs_base"] == row["china_vs_base"] and plain["china_vs_base"] != 0
    # the same sample with another seed gives other outcomes
    other, _ = evaluate(context, values[0], int(df["seed"].iloc[0]) + 1)
    assert other["china_share"] != df["china_share"].iloc[0]
    # replicates of one sample differ only by seed; the design is what moves the outcome most
    assert (by_sample["china_share"].nunique() == 2).any()
    assert df["china_share"].std() > by_sample["china_share"].std().mean()


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_a_killed_driver_resumes_without_losing_or_duplicating_runs(reference, sweep_file,
                                                                    tmp_path):
    import psutil

    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "geosim", "sweep", str(sweep_file), "--out", str(out),
           "--workers", "2", "--quiet"]
    driver = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while ledger_rows(out)[0] < 10:
        assert driver.poll() is None, driver.communicate()
        assert time.monotonic() < deadline, "no run recorded in 120 s"
        time.sleep(0.02)
    workers = psutil.Process(driver.pid).children(recursive=True)
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    partial_rows = ledger_rows(out)
    assert 10 <= partial_rows[0] < RUNS, "the sweep was not interrupted mid-way"
    # workers notice their driver is gone and exit: no orphans left computing
    gone, alive = psutil.wait_procs(workers, timeout=20)
    assert not alive

    rerun = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert rerun.returncode == 0, rerun.stderr
    assert f"({partial_rows[0]} done before this session" in rerun.stdout
    assert ledger_rows(out) == (RUNS, RUNS)  # every run exactly once
    resumed = load(out)
    pd.testing.assert_frame_equal(resumed[COMPARED], reference[1][COMPARED])


def test_resuming_a_finished_sweep_runs_nothing(reference, sweep_file, tmp_path):
    out = tmp_path / "out"
    run_sweep(sweep_file, out, workers=2, quiet=True)
    first = load(out)
    edited = tmp_path / "small.yaml"
    edited.write_text(SWEEP.replace("a short random sweep", "new words, same design"))
    report = run_sweep(edited, out, workers=2, quiet=True)
    assert (report.skipped, report.done) == (RUNS, RUNS)
    pd.testing.assert_frame_equal(load(out), first)


def test_a_changed_design_is_refused_on_resume(reference, tmp_path, capsys):
    out, _ = reference
    changed = tmp_path / "small.yaml"
    changed.write_text(SWEEP.replace("sigma: {low: 3.5, high: 7}", "sigma: {low: 3.5, high: 6}"))
    assert cli(["sweep", str(changed), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "holds results of a different design of sweep 'small' (changed: parameters)" in err
    assert "choose another --out directory" in err
    assert ledger_rows(out) == (RUNS, RUNS)


def test_a_run_that_raises_is_recorded_failed_and_the_sweep_goes_on(reference, sweep_file,
                                                                    tmp_path):
    out = tmp_path / "out"
    hook = partial(raise_on_sample, key="sigma", bad=6.0)
    report = run_sweep(sweep_file, out, workers=2, quiet=True, simulate=hook)
    df = load(out)
    bad = df["sigma"] > 6.0
    assert 0 < bad.sum() < RUNS and report.failed == bad.sum() and report.done == (~bad).sum()
    assert (df.loc[bad, "status"] == "failed").all()
    assert df.loc[bad, "error"].str.startswith("ValueError: injected failure: sigma=").all()
    assert df.loc[bad, "china_share"].isna().all()
    ref = reference[1][~bad]
    pd.testing.assert_frame_equal(df.loc[~bad, COMPARED], ref[COMPARED])


def test_a_worker_that_dies_is_replaced_and_its_runs_retried(reference, sweep_file, tmp_path):
    df_ref = reference[1]
    once, always = int(df_ref["seed"][7]), int(df_ref["seed"][20])
    out = tmp_path / "out"
    (tmp_path / "markers").mkdir()
    hook = partial(exit_on_seed, once=(once,), always=(always,), markers=str(tmp_path / "markers"))
    report = run_sweep(sweep_file, out, workers=2, quiet=True, simulate=hook, max_attempts=2)
    df = load(out).set_index("run_id")
    assert (report.done, report.failed) == (RUNS - 1, 1)
    assert df.loc[20, "status"] == "failed" and "worker process died 2 times" in df.loc[20, "error"]
    assert df.loc[7, "status"] == "done" and df.loc[7, "attempts"] in (1, 2)
    assert (tmp_path / "markers" / str(once)).exists()
    ok = df_ref.set_index("run_id").drop(index=20)
    pd.testing.assert_frame_equal(df.drop(index=20)[COMPARED[1:]], ok[COMPARED[1:]])
    assert ledger_rows(out) == (RUNS, RUNS)


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_a_dask_cluster_gives_bit_identical_results(reference, sweep_file, tmp_path):
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        out = tmp_path / "dask"
        code = cli(["sweep", str(sweep_file), "--out", str(out), "--quiet", "--scheduler",
                    cluster.scheduler_address])
        assert code == 0
    df = load(out)
    pd.testing.assert_frame_equal(df[COMPARED], reference[1][COMPARED])  # exact floats


def test_an_unreachable_scheduler_is_a_user_error(sweep_file, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("geosim.experiments.engines.CONNECT_TIMEOUT", 2.0)
    code = cli(["sweep", str(sweep_file), "--out", str(tmp_path / "o"), "--scheduler",
                "tcp://127.0.0.1:9"])
    assert code == 2
    assert "--scheduler tcp://127.0.0.1:9: cannot reach a Dask scheduler" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()  # nothing written before the engine is up


def test_two_drivers_never_write_one_ledger(reference, sweep_file):
    from geosim.experiments.store import Ledger

    out, _ = reference
    with Ledger.open(out, writer=True):
        with pytest.raises(SweepError, match="another sweep is writing here"):
            run_sweep(sweep_file, out, workers=1, quiet=True)


def test_analyze_writes_tables_and_figures(reference, capsys):
    out, df = reference
    assert cli(["analyze", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "china_share" in printed and "Scenario discovery (PRIM)" in printed
    a = out / "analysis"
    summary = pd.read_csv(a / "summary.csv").set_index("outcome")
    assert summary.loc["china_share", "mean"] == pytest.approx(100 * df["china_share"].mean())
    assert summary.loc["china_share", "unit"] == "%"  # a share, in percent in every table
    assert summary.loc["china_share", "p05"] <= summary.loc["china_share", "median"] <= \
        summary.loc["china_share", "p95"]
    by_sample = pd.read_csv(a / "by_sample.csv")
    assert len(by_sample) == 30 and (by_sample["replicates"] == 2).all()
    for name in ("distributions.png", "tornado_china_share.png", "prim.png",
                 "fan_region.china_trade_share.png", "main_effects.csv", "prim_box.csv"):
        assert (a / name).stat().st_size > 0, name
    assert not (a / "sensitivity.csv").exists()  # a random sweep has no Sobol indices
    ax = new_axes()
    assert fan(load_series(out), ax=ax) is ax


def test_analyze_of_a_missing_directory_is_a_user_error(tmp_path, capsys):
    assert cli(["analyze", str(tmp_path / "nothing")]) == 2
    assert "no sweep results here" in capsys.readouterr().err


def test_importing_the_sweep_modules_changes_no_global_state():
    code = ("import multiprocessing, geosim.cli.sweep, geosim.cli.analyze, geosim.experiments."
            "engines, geosim.experiments.analysis; print(multiprocessing.get_start_method("
            "allow_none=True))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "None"


def test_vs_reference_outcomes_are_the_run_minus_its_paired_reference(tmp_path):
    from geosim.runner import simulate
    from geosim.scenario import load_scenario

    path = tmp_path / "paired.yaml"
    path.write_text(SWEEP.replace("name: small", "name: paired").replace(
        "samples: 30", "samples: 3").replace("replications: 2", "replications: 1")
        .replace("outcomes:\n", "outcomes:\n  china_vs: {metric: china_trade_share, "
                 "reduce: final, vs_reference: true}\n"))
    run_sweep(path, tmp_path / "out", workers=1, quiet=True)
    table = load(tmp_path / "out")
    row = table.iloc[0]
    overrides = {"sigma": row["sigma"], "kappa": row["kappa"],
                 "events.usmca_accession.year": int(row["events.usmca_accession.year"]),
                 "events.usmca_accession.countries": list(
                     {"pacific": ["CHL", "COL", "PER"], "central": ["CRI", "PAN", "DOM"]}[
                         row["events.usmca_accession.countries"]])}
    seed = int(row["seed"])
    pivot = simulate(load_scenario("pivot").with_overrides(overrides), seed=seed, until=2029)
    base = simulate(load_scenario("baseline").with_overrides(
        {"sigma": row["sigma"], "kappa": row["kappa"]}), seed=seed, until=2029)
    expected = (pivot.region["china_trade_share"].iloc[-1]
                - base.region["china_trade_share"].iloc[-1])
    assert row["china_vs"] == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert row["china_vs"] != 0


def test_vs_reference_needs_a_reference(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text(SWEEP.replace("reference: baseline\n", "").replace(
        "outcomes:\n", "outcomes:\n  china_vs: {metric: china_trade_share, vs_reference: true}\n"))
    assert cli(["sweep", str(path), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "vs_reference" in err and "reference" in err


SOBOL = """\
name: blocks
scenario: pivot
reference: baseline
sampler: sobol
samples: 2
options: {calc_second_order: false}
seed: 3
until: 2026
parameters:
  sigma: {low: 3.5, high: 7}
  events.usmca_accession.year: {low: 2024, high: 2026}
outcomes:
  china_share: {metric: china_trade_share, of: region, reduce: final}
  china_vs_base: {metric: china_trade_share, of: region, reduce: final, vs_reference: true}
"""


def test_a_sobol_block_shares_seeds_and_grouped_runs_give_each_run_alone(tmp_path):
    from geosim.experiments.samplers import runs, seed_block
    from geosim.experiments.sweep import _shared_reference

    path = tmp_path / "blocks.yaml"
    path.write_text(SOBOL)
    spec = load_sweep(path)
    values = design(spec).values
    block = seed_block(spec)
    assert block == 4 and len(values) == 8  # A, AB_sigma, AB_year, B per base row
    listed = list(runs(spec, len(values)))
    seeds = [run[3] for run in listed]
    assert seeds[:4] == [run_seed(3, 0, 0)] * 4 and seeds[4:] == [run_seed(3, 1, 0)] * 4
    # A and AB_year differ only in the policy field, as AB_sigma and B do: two groups a block,
    # each one business-as-usual reference
    groups = list(_shared_reference(iter(listed), values))
    assert sorted(r[0] for g in groups for r in g) == list(range(8))
    assert groups[:2] == [[listed[0], listed[2]], [listed[1], listed[3]]]
    assert [len(g) for g in groups] == [2, 2, 2, 2]
    run_sweep(path, tmp_path / "out", workers=1, quiet=True)
    table = load(tmp_path / "out").sort_values("run_id")
    assert (table["seed"].tolist() == seeds) and (table["status"] == "done").all()
    context = prepare(spec).context
    for run_id, sample, _, seed in listed:
        references.forget()  # each run alone: nothing shared
        alone, _ = evaluate(context, values[sample], seed)
        row = table.iloc[run_id]
        for name, value in alone.items():
            assert row[name] == pytest.approx(value, rel=1e-12, abs=1e-15), (run_id, name)
    assert table["china_vs_base"].ne(0).any()
