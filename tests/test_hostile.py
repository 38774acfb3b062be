"""Hostile input (issue 10): one regression test per case found by hand.

Never a traceback, never a deleted user file, never a write outside `--out`/`results/`: every
case exits 2 with a short message naming the file and field, or exits 0 correctly.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from geosim.cli import main
from geosim.experiments.spec import SweepError, parse_sweep
from geosim.results import RunDirError, atomic_dir, check_out, remove_stale_temps, slug

HEADER = "description: test\nstatus: hypothetical\nsources: [test]\n"
PROGRAMME = ("events:\n  - type: investment_programme\n    investor: us_public\n    year: 2024\n"
             "    until: 2030\n    countries: [LAC]\n    sectors: [transport]\n")


def cli(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    assert len(err) < 4000
    return code, out, err


def scenario(tmp_path: Path, body: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body)
    return path


# -- --out never deletes what geosim did not write ---------------------------------------------


def test_out_refuses_a_folder_with_user_files_and_keeps_them(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.txt").write_text("three years of work")
    code, _, err = cli(["run", "baseline", "--until", "2024", "--out", str(out)], capsys)
    assert code == 2
    assert "not a geosim output" in err and "thesis.txt" in err
    assert (out / "thesis.txt").read_text() == "three years of work"


@pytest.mark.parametrize("target", [".", "..", "CWD", "/", "HOME"])
def test_out_refuses_the_working_folder_its_parents_home_and_root(tmp_path, monkeypatch, capsys,
                                                                  target):
    work = tmp_path / "work"
    work.mkdir()
    (work / "keep.txt").write_text("x")
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    target = {"CWD": str(work), "HOME": str(tmp_path / "home")}.get(target, target)
    code, _, err = cli(["run", "baseline", "--until", "2024", "--out", target], capsys)
    assert code == 2 and "refusing to write there" in err
    assert (work / "keep.txt").is_file()
    assert sorted(p.name for p in work.iterdir()) == ["keep.txt"]


def test_out_replaces_only_a_previous_run_and_says_so(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli(["run", "baseline", "--until", "2024", "--out", str(out), "--quiet"],
               capsys)[0] == 0
    marker = json.loads((out / ".geosim.json").read_text())
    assert marker["kind"] == "run" and "manifest.json" in marker["files"]
    code, _, err = cli(["run", "baseline", "--until", "2024", "--out", str(out), "--quiet"],
                       capsys)
    assert code == 0 and f"replacing the previous geosim run in {out}" in err
    (out / "notes.md").write_text("my notes")  # a file geosim did not write there
    code, _, err = cli(["run", "baseline", "--until", "2024", "--out", str(out), "--quiet"],
                       capsys)
    assert code == 2 and "notes.md" in err and (out / "notes.md").is_file()


def test_a_run_folder_is_not_replaced_by_another_kind_of_output(tmp_path):
    out = tmp_path / "run"
    with atomic_dir(out, "run") as tmp:
        (tmp / "manifest.json").write_text('{"geosim_version": "0"}')
    with pytest.raises(RunDirError, match="holds a geosim run, not a comparison"):
        check_out(out, "comparison")
    assert check_out(out, "run") is True
    assert check_out(tmp_path / "new", "run") is False
    (tmp_path / "file").write_text("x")
    with pytest.raises(RunDirError, match="not a folder"):
        check_out(tmp_path / "file", "run")


def test_compare_analyze_and_data_build_follow_the_same_rule(tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.txt").write_text("x")
    assert cli(["data", "build", "--out", str(mine)], capsys)[0] == 2
    run = tmp_path / "run"
    assert cli(["run", "baseline", "--until", "2024", "--out", str(run), "--quiet"],
               capsys)[0] == 0
    code, _, err = cli(["compare", str(run), str(run), "--out", str(mine)], capsys)
    assert code == 2 and "not a geosim output" in err
    assert (mine / "thesis.txt").is_file() and len(list(mine.iterdir())) == 1


def test_sweep_refuses_a_foreign_folder_before_running(tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.txt").write_text("x")
    sweep = tmp_path / "s.yaml"
    sweep.write_text("scenario: baseline\nsampler: random\nsamples: 1\nparameters: {sigma: {}}\n"
                     "outcomes: {c: {metric: china_trade_share}}\nuntil: 2024\n")
    code, _, err = cli(["sweep", str(sweep), "--out", str(mine), "--workers", "1", "--quiet"],
                       capsys)
    assert code == 2 and "not a geosim output" in err
    assert [p.name for p in mine.iterdir()] == ["thesis.txt"]


# -- paths come from --out or a slug under results/ ---------------------------------------------


@pytest.mark.parametrize("name", ["../../x", "/tmp/abs", "..", "a/b\\c", "  "])
def test_scenario_names_never_choose_a_path(tmp_path, monkeypatch, capsys, name):
    monkeypatch.chdir(tmp_path)
    path = scenario(tmp_path, f"name: {json.dumps(name)}\n")
    code, out, err = cli(["run", str(path), "--until", "2024", "--quiet"], capsys)
    if not name.strip():
        assert code == 2 and "name" in err
        return
    assert code == 0, err
    written = [p for p in tmp_path.rglob("manifest.json")]
    assert len(written) == 1
    assert written[0].resolve().is_relative_to((tmp_path / "results").resolve())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results", "s.yaml"]


def test_slug():
    assert slug("../../x") == "x" and slug("/etc/passwd") == "etc_passwd"
    assert slug("..") == "scenario" and slug("pivot v2") == "pivot_v2"


# -- one loader: bytes, UTF-8, duplicate keys, aliases, depth, extends --------------------------


def test_non_utf8_and_binary_files(tmp_path, capsys):
    latin = tmp_path / "latin.yaml"
    latin.write_bytes((HEADER + "name: S\xe3o Paulo\n").encode("latin-1"))
    code, _, err = cli(["validate", str(latin)], capsys)
    assert code == 2 and "line 4: not UTF-8 text" in err
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\x00\x01\x02PK\x03\x04" * 100)
    code, _, err = cli(["validate", str(binary)], capsys)
    assert code == 2 and "bin.yaml" in err


@pytest.mark.parametrize(("body", "words"), [
    ("\x01name: x\n", ["line 4", "control character 0x0001"]),
    ("start: 2023-02-30\n", ["a value cannot be read", "day is out of range"]),
    ("name: !!python/object:os.system {}\n", ["line 4", "could not determine a constructor"]),
])
def test_unreadable_values_are_yaml_errors(tmp_path, capsys, body, words):
    path = scenario(tmp_path, body)
    code, _, err = cli(["validate", str(path)], capsys)
    assert code == 2
    for word in words:
        assert word in err


def test_a_huge_file_is_refused_by_size(tmp_path, capsys):
    big = tmp_path / "big.yaml"
    big.write_text(HEADER + "# " + "x" * 2_000_000 + "\n")
    code, _, err = cli(["validate", str(big)], capsys)
    assert code == 2 and "larger than 1000 kB" in err


@pytest.mark.parametrize(("tail", "line"), [("status: historical\n", 4),
                                            (PROGRAMME + "    budget_bn: 5\nevents: []\n", 12)])
def test_duplicate_keys_are_refused_with_their_line(tmp_path, capsys, tail, line):
    path = scenario(tmp_path, tail)
    code, _, err = cli(["validate", str(path)], capsys)
    assert code == 2 and f"line {line}: duplicate key" in err and "first on line" in err


def test_billion_laughs_is_refused_fast_with_a_short_message(tmp_path, capsys):
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    path = scenario(tmp_path, "\n".join(lines) + "\n")
    started = time.perf_counter()
    code, _, err = cli(["validate", str(path)], capsys)
    assert code == 2 and "anchors" in err and len(err) < 300
    assert time.perf_counter() - started < 5


def test_deep_nesting_is_refused(tmp_path, capsys):
    path = scenario(tmp_path, "parameters: " + "[" * 1000 + "]" * 1000 + "\n")
    code, _, err = cli(["validate", str(path)], capsys)
    assert code == 2 and "nested more than" in err


def test_a_long_extends_chain_is_refused(tmp_path, capsys):
    for i in range(1500):
        (tmp_path / f"c{i}.yaml").write_text(HEADER + f"extends: c{i + 1}\n")
    (tmp_path / "c1500.yaml").write_text(HEADER)
    code, _, err = cli(["validate", str(tmp_path / "c0.yaml")], capsys)
    assert code == 2 and "chain longer than" in err


def test_extends_looks_beside_the_file_then_in_the_shipped_scenarios(tmp_path, capsys):
    path = scenario(tmp_path, "extends: pivot\n")  # no pivot.yaml here: the shipped one
    code, out, _ = cli(["validate", str(path)], capsys)
    assert code == 0 and "(hypothetical, 3 events, 2023-2040)" in out  # pivot's three events
    (tmp_path / "pivot.yaml").write_text(HEADER)  # one beside the file comes first
    code, out, _ = cli(["validate", str(path)], capsys)
    assert code == 0 and "(hypothetical, 0 events, 2023-2040)" in out
    for bad in ("/etc/passwd", "../scenarios/baseline"):
        path = scenario(tmp_path, f"extends: {bad}\n")
        code, _, err = cli(["validate", str(path)], capsys)
        assert code == 2 and "not a path" in err


# -- validate does every check run does ---------------------------------------------------------


@pytest.mark.parametrize(("body", "words"), [
    (PROGRAMME + "    budget_bn: 1.0e+300\n", ["events[0].budget_bn", "magnitude at most"]),
    (PROGRAMME + "    budget_bn: 1e300\n", ["events[0].budget_bn", "signed exponent"]),
    ("parameters: {sigma: 5e0}\n", ["parameters.sigma", "signed exponent"]),
    (PROGRAMME + "    budget_bn: .inf\n", ["events[0].budget_bn", "finite"]),
    (PROGRAMME + "    budget_bn: .nan\n", ["events[0].budget_bn", "finite"]),
    (PROGRAMME + "    budget_bn: 5\n    incentive: .inf\n", ["events[0].incentive", "finite"]),
    ("events:\n  - {type: investor_budget, investor: us_public, year: 2025, factor: .nan}\n",
     ["events[0].factor", "finite"]),
    ("parameters: {project_size_bn: 1.0e-300}\n", ["parameters.project_size_bn", "range"]),
    ("parameters: {sigma: .inf}\n", ["parameters.sigma", "finite"]),
    ("parameters: {retaliation: 5}\n", ["parameters.retaliation", "0..1",
                                        "allow_out_of_range"]),
    ("parameters: {growth_shift_pp: -200}\n", ["parameters.growth_shift_pp", "-1..1"]),
    ("allow_out_of_range: [growth_shift_pp]\nparameters: {growth_shift_pp: -200}\n",
     ["parameters.growth_shift_pp", "at most 10 widths"]),
    ("allow_out_of_range: [speed]\n", ["allow_out_of_range[0]", "parameter table"]),
    ("sources: ''\n", ["sources"]),
    ("name: []\n", ["name", "non-empty text"]),
])
def test_validate_refuses_what_run_would_fail_on(tmp_path, capsys, body, words):
    text = HEADER.replace("sources: [test]\n", "") + ("" if "sources" in body else
                                                      "sources: [test]\n") + body
    path = tmp_path / "s.yaml"
    path.write_text(text)
    code, _, err = cli(["validate", str(path)], capsys)
    assert code == 2, err
    for word in words:
        assert word in err


def test_allow_out_of_range_admits_a_value_beyond_the_range(tmp_path, capsys):
    path = scenario(tmp_path, "allow_out_of_range: [retaliation]\nparameters: {retaliation: 1.5}\n")
    code, out, err = cli(["validate", str(path)], capsys)
    assert code == 0, err
    assert "(hypothetical, 0 events, 2023-2040)" in out
    code, _, err = cli(["run", str(path), "--until", "2024", "--out", str(tmp_path / "r"),
                        "--quiet"], capsys)
    assert code == 0, err


def test_validate_says_1_event(capsys):
    code, out, _ = cli(["validate", "tariff_escalation"], capsys)
    assert code == 0 and "1 event," in out


def test_an_engine_failure_in_run_exits_2_naming_the_scenario(tmp_path, monkeypatch, capsys):
    from geosim.trade import ConvergenceError

    def fail(*args, **kwargs):
        raise ConvergenceError("not converged in 50 iterations")

    monkeypatch.setattr("geosim.reports.simulate", fail)
    out = tmp_path / "r"
    code, _, err = cli(["run", "pivot", "--out", str(out)], capsys)
    assert code == 2 and "scenario 'pivot'" in err and "not converged" in err
    assert not out.exists()


# -- numeric options ----------------------------------------------------------------------------


@pytest.mark.parametrize(("argv", "words"), [
    (["run", "baseline", "--seed", "-1"], ["--seed", "from 0 to 4294967295"]),
    (["run", "baseline", "--seed", str(2**32)], ["--seed", "from 0 to"]),
    (["run", "baseline", "--seed", "1.5"], ["--seed", "whole number"]),
    (["run", "baseline", "--until", "99999"], ["--until", "year from 1900 to 2100"]),
    (["sweep", "x", "--workers", "0"], ["--workers", ">= 1"]),
    (["ge", "f.csv", "--shock", "s.csv", "--sigma", "nan"], ["--sigma", "finite"]),
    (["ge", "f.csv", "--shock", "s.csv", "--sigma", "5", "--max-iter", "-3"], ["--max-iter"]),
    (["viz", "--port", "70000"], ["--port", "65535"]),
])
def test_numeric_options_are_checked_by_argparse(capsys, argv, words):
    code, _, err = cli(argv, capsys)
    assert code == 2
    for word in words:
        assert word in err


def test_a_huge_sweep_is_refused_before_allocating():
    text = ("scenario: baseline\nsampler: random\nsamples: 1000000000\nparameters: {sigma: {}}\n"
            "outcomes: {c: {metric: china_trade_share}}\n")
    with pytest.raises(SweepError, match="samples: expected an integer from 1 to 1,000,000"):
        parse_sweep(text, "big.yaml")
    text = text.replace("1000000000", "600000").replace("outcomes", "replications: 2\noutcomes")
    with pytest.raises(SweepError, match="1,200,000 runs"):
        parse_sweep(text, "big.yaml")


def test_sweep_files_go_through_the_same_loader(tmp_path):
    with pytest.raises(SweepError, match="duplicate key 'sampler'"):
        parse_sweep("scenario: baseline\nsampler: grid\nsampler: random\n", "d.yaml")
    path = tmp_path / "latin.yaml"
    path.write_bytes(b"scenario: S\xe3o\n")
    from geosim.experiments.spec import load_sweep

    with pytest.raises(SweepError, match="not UTF-8"):
        load_sweep(path)


# -- litter and permissions ---------------------------------------------------------------------


def test_temp_folders_of_an_interrupted_write_are_removed_next_time(tmp_path):
    target = tmp_path / "run"
    legacy = tmp_path / ".run.k3j9x_2a"  # tempfile.mkdtemp's names (older versions)
    dead = tmp_path / ".run.999999999-0123abcd"  # a process that no longer exists
    live = tmp_path / f".run.{os.getpid()}-0123abcd"  # a writer still running
    other = tmp_path / ".other.k3j9x_2a"
    for d in (legacy, dead, live, other):
        d.mkdir()
    with atomic_dir(target, "run") as tmp:
        (tmp / "manifest.json").write_text("{}")
    assert not legacy.exists() and not dead.exists()
    assert live.exists() and other.exists()
    assert remove_stale_temps(target) == []


def test_run_folders_get_normal_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_dir(tmp_path / "run", "run") as tmp:
            (tmp / "x.csv").write_text("a\n")
    finally:
        os.umask(old)
    assert (tmp_path / "run").stat().st_mode & 0o777 == 0o755


# -- small things -------------------------------------------------------------------------------


def test_analyze_puts_shares_in_percent_and_their_differences_in_pp():
    import pandas as pd

    from geosim.experiments.analysis import in_units, outcome_units

    meta = {"design": {"outcomes": [
        {"name": "share", "metric": "china_trade_share", "reduce": "final"},
        {"name": "moved", "metric": "china_trade_share", "reduce": "change"},
        {"name": "gdp", "metric": "real_gdp_index", "reduce": "pct_change"}]}}
    units = outcome_units(meta)
    assert [units[n][1] for n in ("share", "moved", "gdp")] == ["%", "pp", "%"]
    shown = in_units(pd.DataFrame({"share": [0.17], "moved": [-0.01], "gdp": [3.0]}), units)
    assert shown.iloc[0].tolist() == pytest.approx([17.0, -1.0, 3.0])


def test_plots_show_whole_years_and_name_the_run(tmp_path):
    import matplotlib.pyplot as plt

    from geosim import plotting
    from geosim.runner import simulate

    sim = simulate("baseline", until=2026)
    ax = plotting.region_shares(sim.region, plt.figure().gca())
    ax.figure.canvas.draw()
    ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    assert ticks and all(float(t).is_integer() for t in ticks)
    plt.close("all")
    titles = []
    real = plotting.save_figure

    def spy(fig, path):
        titles.extend([fig._suptitle.get_text()] if fig._suptitle else [])
        titles.extend(ax.get_title() for ax in fig.axes)
        return real(fig, path)

    plotting.save_figure, saved = spy, plotting.save_figure
    try:
        plotting.run_plots(sim.countries, sim.region, None, tmp_path, label="baseline, seed 0")
    finally:
        plotting.save_figure = saved
    assert sum("baseline, seed 0" in t for t in titles) >= 2


def test_progress_bar_stays_off_when_not_a_terminal(capsys):
    from geosim.runner import _progress_bar

    bar = _progress_bar(3, "x")
    assert bar.disable
    bar.close()
