"""`geosim run` and `geosim compare`: the run directory's contract, determinism of the files,
atomic writing, and the comparison tables."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from geosim.cli import main
from geosim.reports import run, write_run
from geosim.results import RunDirError, read_run
from geosim.runner import simulate

COUNTRY_COLUMNS = {"year", "iso3", "gdp", "china_export_share", "china_import_share",
                   "us_export_share", "us_import_share", "partner_hhi_exports",
                   "partner_hhi_imports", "china_fdi_share"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    paths = {}
    for name, seed, label in (("pivot", 7, "a"), ("pivot", 7, "b"), ("baseline", 7, "base")):
        assert main(["run", name, "--seed", str(seed), "--until", "2030", "--out",
                     str(root / label), "--quiet"]) == 0
        paths[label] = root / label
    return paths


def test_run_directory_contract(runs):
    out = runs["a"]
    for name in ("manifest.json", "countries.parquet", "region.parquet", "flows.parquet"):
        assert (out / name).is_file()
    assert len(list((out / "plots").glob("*.png"))) >= 3
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenario"] == "pivot" and manifest["seed"] == 7
    assert len(manifest["scenario_hash"]) == 64 and "usmca_accession" in manifest["scenario_text"]
    assert manifest["parameters"]["sigma"] == 5.0
    assert {"build_s", "simulate_s", "engine_s"} <= set(manifest["timings"])
    countries = pd.read_parquet(out / "countries.parquet")
    assert COUNTRY_COLUMNS <= set(countries.columns)
    assert sorted(countries["year"].unique()) == list(range(2023, 2031))
    flows = pd.read_parquet(out / "flows.parquet")
    assert list(flows.columns) == ["year", "exporter", "importer", "value"]
    assert (flows["value"] >= 0).all()


def test_same_seed_gives_identical_files(runs):
    a, b = runs["a"], runs["b"]
    for name in ("countries.parquet", "region.parquet", "flows.parquet", "decisions.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    ma = json.loads((a / "manifest.json").read_text())
    mb = json.loads((b / "manifest.json").read_text())
    ma.pop("timings"), mb.pop("timings")
    assert ma == mb


def test_write_is_atomic_when_it_fails(tmp_path, monkeypatch):
    sim = simulate("baseline", seed=0, until=2025)
    target = tmp_path / "run"
    write_run(sim, target)
    before = (target / "countries.parquet").read_bytes()

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("geosim.plotting.run_plots", boom)
    with pytest.raises(RuntimeError):
        write_run(simulate("pivot", seed=1, until=2026), target)
    assert (target / "countries.parquet").read_bytes() == before  # old run intact
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no half-written folder left


def test_compare_writes_tables_and_plots(runs, tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["compare", str(runs["base"]), str(runs["a"]), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "region China share of trade" in printed
    per_country = pd.read_csv(out / "countries_change.csv")
    region = pd.read_csv(out / "region_change.csv")
    assert {"iso3", "china_trade_share_change_pp", "real_gdp_change_pct"} <= set(per_country)
    assert region["year"].tolist() == list(range(2023, 2031))
    assert region.loc[0, "china_trade_share_change_pp"] == pytest.approx(0, abs=1e-9)
    assert (out / "region_shares.png").is_file() and (out / "china_share_change.png").is_file()


def test_compare_rejects_a_folder_that_is_not_a_run(tmp_path, capsys):
    assert main(["compare", str(tmp_path), str(tmp_path)]) == 2
    assert "not a geosim run directory" in capsys.readouterr().err
    with pytest.raises(RunDirError):
        read_run(tmp_path)


def test_run_api_returns_path_and_results(tmp_path):
    path, sim = run("tariff_escalation", seed=2, until=2026, out=tmp_path / "t")
    assert path == tmp_path / "t"
    assert sim.region["year"].max() == 2026
    usa, chn = "USA", "CHN"
    flows = sim.flows
    y24 = flows[(flows.year == 2024) & (flows.exporter == chn) & (flows.importer == usa)]
    y26 = flows[(flows.year == 2026) & (flows.exporter == chn) & (flows.importer == usa)]
    assert y26["value"].iloc[0] < 0.5 * y24["value"].iloc[0]  # 60 % tariffs bite


def test_until_outside_the_horizon_is_a_user_error(tmp_path, capsys):
    assert main(["run", "pivot", "--until", "2020", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "until: expected a year after the start (2023)" in err and "pivot.yaml" in err
    assert not (tmp_path / "x").exists()


def test_a_paired_baseline_is_the_runs_reference_reused_with_the_same_tables(monkeypatch):
    import geosim.runner as runner
    from geosim import references
    from geosim.data import load_world
    from geosim.model import GeoModel
    from geosim.scenario import load_scenario

    world, params = load_world(), {"kappa": 0.2, "sigma": 6.0}
    references.forget()
    fresh = simulate("baseline", seed=3, parameters=params, until=2030, world=world)
    assert references._REFERENCES == {}  # a scenario without policies has no reference
    simulate("pivot", seed=3, parameters=params, until=2034, world=world)
    baseline = load_scenario("baseline")
    ref = references.held(baseline, parameters=params, seed=3, world=world)
    assert ref is not None and ref.year == 2034  # stepped along with the pivot
    # another seed, other parameters or a scenario with policies: nothing to share
    assert references.held(baseline, parameters=params, seed=4, world=world) is None
    assert references.held(baseline, parameters={**params, "kappa": 0.21}, seed=3,
                           world=world) is None
    assert references.held(load_scenario("pivot"), parameters=params, seed=3,
                           world=world) is None

    class Unbuildable(GeoModel):
        def __init__(self, *args, **kwargs):
            raise AssertionError("the baseline was simulated again instead of reused")

    monkeypatch.setattr(runner, "GeoModel", Unbuildable)
    reused = simulate("baseline", seed=3, parameters=params, until=2030, world=world)
    # the reference went to 2034; the tables stop at 2030 and equal the fresh run's exactly
    pd.testing.assert_frame_equal(reused.region, fresh.region, check_exact=True)
    pd.testing.assert_frame_equal(reused.countries, fresh.countries, check_exact=True)
    pd.testing.assert_frame_equal(reused.flows, fresh.flows, check_exact=True)
    assert reused.decisions == fresh.decisions
    later = simulate("baseline", seed=3, parameters=params, world=world)  # steps it on to 2040
    assert later.region["year"].max() == 2040
    monkeypatch.undo()
    references.forget()
    pd.testing.assert_frame_equal(
        later.countries, simulate("baseline", seed=3, parameters=params, world=world).countries,
        check_exact=True)


def test_param_overrides_reach_the_model_and_the_manifest(tmp_path):
    """`--param` changes the run (σ = 3 against the default 5 moves the flows) and is recorded."""
    args = ["run", "baseline", "--seed", "3", "--until", "2025", "--quiet"]
    assert main(args + ["--out", str(tmp_path / "d")]) == 0
    assert main(args + ["--out", str(tmp_path / "s"), "--param", "sigma=3",
                        "--param", "trend_fade=0.5"]) == 0
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert manifest["parameters"]["sigma"] == 3.0 and manifest["parameters"]["trend_fade"] == 0.5
    default = pd.read_parquet(tmp_path / "d" / "flows.parquet")
    changed = pd.read_parquet(tmp_path / "s" / "flows.parquet")
    assert not default["value"].equals(changed["value"])


@pytest.mark.parametrize("setting, message", [
    (["--param", "nonsense=1"], "unknown parameter 'nonsense'"),
    (["--param", "sigma"], "expected NAME=VALUE, got 'sigma'"),
    (["--param", "sigma=five"], "parameter 'sigma': expected a number, got 'five'"),
    (["--param", "sigma=0.5"], "parameter 'sigma' must be > 1, got 0.5"),
    (["--param", "sigma=4", "--param", "sigma=6"], "--param sigma given twice"),
])
def test_bad_param_is_a_user_error_and_writes_nothing(tmp_path, capsys, setting, message):
    for command in (["run", "baseline", "--until", "2024"], ["backtest", "--until", "2013"]):
        assert main(command + ["--out", str(tmp_path / "x")] + setting) == 2
        assert message in capsys.readouterr().err
        assert not (tmp_path / "x").exists()


def test_compare_param_reaches_both_sides(tmp_path, capsys):
    """`compare --seeds --param`: both scenarios run under the override. With γ at the top of
    its range (1.28) the US programme ties hosts to the US, so the pivot's effect on the region's
    US share is larger than at the default (γ = 0.228)."""
    effects = {}
    for label, extra in (("default", []), ("gamma", ["--param", "gamma=1.28"])):
        out = tmp_path / label
        assert main(["compare", "baseline", "pivot", "--seeds", "1", "--out", str(out)]
                    + extra) == 0
        region = pd.read_csv(out / "effects_region.csv").set_index("outcome")
        effects[label] = region.loc["us_trade_share_pp", "mean"]
    assert effects["gamma"] > effects["default"] + 0.05


def test_compare_param_without_simulated_runs_is_a_user_error(runs, tmp_path, capsys):
    out = tmp_path / "c"
    assert main(["compare", str(runs["base"]), str(runs["a"]), "--param", "gamma=0.1",
                 "--out", str(out)]) == 2
    assert "--param changes the runs a comparison makes" in capsys.readouterr().err
    assert not out.exists()


def test_param_outside_the_documented_range_is_taken_with_a_note(tmp_path, capsys):
    assert main(["run", "baseline", "--until", "2024", "--quiet", "--out", str(tmp_path / "r"),
                 "--param", "china_lac_trend=0"]) == 0
    assert ("note: --param china_lac_trend=0 is outside its documented range 0.0324..0.0782"
            in capsys.readouterr().err)
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert manifest["parameters"]["china_lac_trend"] == 0.0
