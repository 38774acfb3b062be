"""Back-test scoring (skill table, scored economies, summary, Markdown) and `geosim backtest`."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geosim.backtest import (
    SKILL_COLUMNS,
    scored_economies,
    skill_markdown,
    skill_summary,
    skill_table,
)
from geosim.data import INDICATORS, World, load_world, synthetic_world


def _worlds(n: int = 10) -> tuple[World, World]:
    """A synthetic "2012" world and a "2023" one in which every flow to China doubled."""
    first = dataclasses.replace(synthetic_world(n, seed=4), base_year=2012)
    flows = first.flows.copy()
    flows[:, 1] *= 2.0
    flows[1, 1] = first.flows[1, 1]
    return first, dataclasses.replace(first, flows=flows, base_year=2023)


def _shares_by_hand(world: World, code: str) -> dict[str, float]:
    i, chn, usa = world.index(code), world.index("CHN"), world.index("USA")
    f = world.flows.copy()
    np.fill_diagonal(f, 0.0)
    return {"china_export_share": f[i, chn] / f[i].sum(), "us_export_share": f[i, usa] / f[i].sum(),
            "china_import_share": f[chn, i] / f[:, i].sum(),
            "us_import_share": f[usa, i] / f[:, i].sum()}


def _simulated(world: World, economies: list[str], year: int, shift: float = 0.0) -> pd.DataFrame:
    rows = [{"year": year, "iso3": c,
             **{k: v + shift for k, v in _shares_by_hand(world, c).items()}} for c in economies]
    return pd.DataFrame(rows)


def test_skill_table_has_the_contract_columns_and_known_errors() -> None:
    first, last = _worlds()
    economies = first.lac[:4]
    table = skill_table(_simulated(last, economies, 2023, shift=0.01), first, last, economies)
    assert tuple(table.columns) == SKILL_COLUMNS
    assert len(table) == 4 * len(INDICATORS)
    for r in table.itertuples():
        assert r.observed_2012 == pytest.approx(_shares_by_hand(first, r.iso3)[r.indicator])
        assert r.observed_2023 == pytest.approx(_shares_by_hand(last, r.iso3)[r.indicator])
        assert r.error_pp == pytest.approx(1.0)  # simulated = observed 2023 + 1 pp
        assert r.persistence_error_pp == pytest.approx(
            100 * abs(r.observed_2012 - r.observed_2023))
    china = table[table["indicator"] == "china_export_share"]
    assert (china["observed_2023"] > china["observed_2012"]).all()  # flows to China doubled


def test_persistence_as_the_simulation_scores_exactly_like_persistence() -> None:
    first, last = _worlds()
    economies = first.lac
    table = skill_table(_simulated(first, economies, 2023), first, last, economies)
    np.testing.assert_allclose(table["error_pp"], table["persistence_error_pp"], atol=1e-9)
    summary = skill_summary(table)
    assert not summary["beats_persistence"].any()  # a tie is not a win


def test_skill_table_names_what_is_missing() -> None:
    first, last = _worlds()
    sim = _simulated(last, first.lac, 2020)
    with pytest.raises(ValueError, match="no rows for year 2023"):
        skill_table(sim, first, last, first.lac)
    with pytest.raises(ValueError, match="economies not found: XYZ"):
        skill_table(sim, first, last, ["XYZ"], year=2020)
    with pytest.raises(ValueError, match="missing column.*us_import_share"):
        skill_table(sim.drop(columns="us_import_share"), first, last, first.lac, year=2020)


def test_scored_economies_are_the_largest_lac_with_observed_exports() -> None:
    first, last = _worlds(30)
    usa, chn = first.index("USA"), first.index("CHN")
    lac = first.lac
    good = set(lac[::2])  # every other LAC economy reports its exports to China and the US
    prov = first.provenance.copy()
    for code in good:
        prov[first.index(code), [usa, chn]] = "observed"
    first = dataclasses.replace(first, provenance=prov)
    last = dataclasses.replace(last, provenance=prov)
    scored = scored_economies(first, last, n=5)
    by_gdp = sorted(good, key=lambda c: -first.gdp[first.index(c)])
    assert scored == by_gdp[:5]
    # a mirrored 2023 export flow disqualifies an economy
    prov23 = prov.copy()
    prov23[first.index(by_gdp[0]), chn] = "mirror"
    assert by_gdp[0] not in scored_economies(first, dataclasses.replace(last, provenance=prov23))


def test_summary_averages_over_the_given_economies() -> None:
    table = pd.DataFrame([
        ("A", ind, 0.1, 0.2, 0.2 + 0.01 * k, 100 * 0.01 * k, 10.0)
        for k, ind in enumerate(INDICATORS)
    ] + [("B", ind, 0.1, 0.2, 0.9, 70.0, 10.0) for ind in INDICATORS], columns=SKILL_COLUMNS)
    only_a = skill_summary(table, ["A"]).set_index("indicator")
    assert list(only_a["model_mae_pp"]) == pytest.approx([0.0, 1.0, 2.0, 3.0])
    assert only_a["beats_persistence"].all()
    both = skill_summary(table).set_index("indicator")
    assert both.loc["china_export_share", "model_mae_pp"] == pytest.approx(35.0)
    assert not both["beats_persistence"].any()
    with pytest.raises(ValueError, match="not found: C"):
        skill_summary(table, ["A", "C"])


def test_markdown_renders_summary_and_rows_in_percent() -> None:
    first, last = _worlds()
    table = skill_table(_simulated(last, first.lac[:2], 2023), first, last, first.lac[:2])
    text = skill_markdown(table, skill_summary(table))
    assert "| indicator | economies | model MAE (pp) | persistence MAE (pp)" in text
    r = table.iloc[0]
    assert (f"| {r.iso3} | China, exports | {100 * r.observed_2012:.1f} | "
            f"{100 * r.observed_2023:.1f} | {100 * r.simulated_2023:.1f} | 0.0 |") in text
    lines = text.splitlines()
    assert sum(line.startswith("|") for line in lines) == 2 + len(INDICATORS) + 2 + len(table)


def test_backtest_command_runs_2012_to_2023_and_writes_run_files_score_and_plot(tmp_path, capsys
                                                                               ) -> None:
    """The real back-test (2012 world, history scenario, about 5 s): the usual run files with
    every year 2012-2023, the skill table, the plot; it beats persistence on China's share of
    exports (docs/validation.md reports it, and that it loses on the US share)."""
    from geosim.cli import main

    out = tmp_path / "bt"
    assert main(["backtest", "--seed", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    for name in ("countries.parquet", "region.parquet", "flows.parquet", "decisions.csv",
                 "manifest.json", "backtest.csv", "plots/backtest.png"):
        assert (out / name).is_file(), name
    assert json.loads((out / "manifest.json").read_text())["seed"] == 1
    years = pd.read_parquet(out / "countries.parquet")["year"].unique()
    assert sorted(years) == list(range(2012, 2024))
    table = pd.read_csv(out / "backtest.csv")
    assert tuple(table.columns) == SKILL_COLUMNS
    first, last = load_world(2012), load_world()
    assert set(table["iso3"]) == set(first.lac)
    scored = scored_economies(first, last)
    assert len(scored) == 12 and "VEN" not in scored and "HTI" not in scored
    summary = skill_summary(table, scored).set_index("indicator")
    for r in summary.reset_index().itertuples():
        assert f"{r.indicator:<20} {r.model_mae_pp:>7.2f} {r.persistence_mae_pp:>12.2f}" in printed
    china = summary.loc["china_export_share"]
    assert china["model_mae_pp"] < china["persistence_mae_pp"]
    assert summary.loc["us_export_share", "persistence_mae_pp"] == pytest.approx(7.08, abs=0.01)
    # docs/validation.md and the README quote this run: its summary table must still be true
    fresh = skill_markdown(table, skill_summary(table, scored)).split("\n\n")[0]
    doc = (Path(__file__).parents[1] / "docs" / "validation.md").read_text()
    assert fresh in doc, f"docs/validation.md: the skill summary is out of date; now\n{fresh}"


def test_backtest_writes_nothing_when_scoring_fails(tmp_path) -> None:
    from geosim.reports import backtest
    from geosim.runner import simulate

    first, last = _worlds()  # synthetic codes: the real simulation's economies are not in them
    with pytest.raises(ValueError, match="not found"):
        backtest(tmp_path / "bt", until=2024, worlds=(first, last),
                 simulate=lambda s, **kw: simulate("baseline", seed=0, until=2024))
    assert not (tmp_path / "bt").exists()


def test_backtest_param_runs_a_sensitivity_variant(tmp_path, capsys) -> None:
    """`geosim backtest --param china_lac_trend=0` (docs/validation.md's sensitivity table):
    without the trend China's simulated share of Chile's exports is lower, and the manifest says
    which parameters were used."""
    from geosim.cli import main

    shares = {}
    for label, extra in (("trend", []), ("none", ["--param", "china_lac_trend=0"])):
        out = tmp_path / label
        assert main(["backtest", "--seed", "1", "--until", "2016", "--out", str(out)] + extra) == 0
        table = pd.read_csv(out / "backtest.csv").set_index(["iso3", "indicator"])
        shares[label] = table.loc[("CHL", "china_export_share"), "simulated_2023"]
        used = json.loads((out / "manifest.json").read_text())["parameters"]["china_lac_trend"]
        assert (used == 0.0) == (label == "none")
    assert shares["none"] < shares["trend"] - 0.01
