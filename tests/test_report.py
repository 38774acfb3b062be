"""`geosim report DIR`: one self-contained HTML page for a run, a comparison and a sweep, and
the comparison's tables over seeds (units in the headers, intervals, decisions, figures).

The page in a real browser (no request leaves the page) is tested in test_report_browser.py.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from geosim.cli import main

ROOT = Path(__file__).resolve().parents[1]
HEADER = "status: {status}\nsources: [test]\nend: 2028\n"
# A description that would fetch an image and run a script if the page did not escape it.
HOSTILE = "Hypothetical <img src=http://example.com/x.png> <script>document.title='x'</script>"
SWEEP = """\
name: tiny
scenario: short_pivot
reference: short_base
sampler: lhs
samples: 4
seed: 5
parameters:
  gamma: {}
  events.us_programme.budget_bn: {low: 2, high: 30}
outcomes:
  china_share_vs_reference: {metric: china_trade_share, of: region, reduce: final,
                             vs_reference: true}
  real_gdp_vs_reference: {metric: real_gdp_index, of: region, reduce: final, vs_reference: true}
series: [region.china_trade_share]
"""


def make_outputs(folder: Path) -> dict[str, Path]:
    """A run, a comparison over two seeds with its decomposition, and an analysed sweep, of
    pivot and the baseline cut to 2023-2028 (the programme ends with the horizon)."""
    for name in ("baseline", "usmca_expansion", "pivot"):  # the parents, beside the children
        (folder / f"{name}.yaml").write_text((ROOT / "scenarios" / f"{name}.yaml").read_text())
    (folder / "short_base.yaml").write_text(
        f"description: the baseline to 2028\n{HEADER.format(status='historical')}"
        "extends: baseline\n")
    (folder / "short_pivot.yaml").write_text(
        f"description: \"{HOSTILE}\"\n{HEADER.format(status='hypothetical')}extends: pivot\n"
        "events:\n  - {id: us_programme, until: 2028}\n")
    (folder / "tiny.yaml").write_text(SWEEP)
    out = {"run": folder / "run", "comparison": folder / "cmp", "sweep": folder / "sweep"}
    assert main(["run", str(folder / "short_pivot.yaml"), "--seed", "1", "--quiet",
                 "--out", str(out["run"])]) == 0
    assert main(["compare", str(folder / "short_base.yaml"), str(folder / "short_pivot.yaml"),
                 "--seeds", "1", "2", "--decompose", "--out", str(out["comparison"])]) == 0
    assert main(["sweep", str(folder / "tiny.yaml"), "--workers", "1", "--quiet",
                 "--out", str(out["sweep"])]) == 0
    assert main(["analyze", str(out["sweep"])]) == 0
    for kind, path in list(out.items()):
        assert main(["report", str(path), "--out", str(folder / f"report_{kind}")]) == 0
        out[f"report_{kind}"] = folder / f"report_{kind}" / "report.html"
    return out


@pytest.fixture(scope="module")
def outputs(tmp_path_factory, monkeypatch_module):
    folder = tmp_path_factory.mktemp("report")
    monkeypatch_module.setenv("GEOSIM_SCENARIOS", str(folder))  # the sweep's base scenario
    return make_outputs(folder)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


class _Page(HTMLParser):
    """Tags, attributes and text of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


@pytest.mark.parametrize("kind", ["run", "comparison", "sweep"])
def test_report_is_self_contained_with_every_section(outputs, kind):
    page = parse(outputs[f"report_{kind}"])
    tags = [t for t, _ in page.tags]
    assert "script" not in tags and "link" not in tags and "iframe" not in tags
    csp = [a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv")]
    assert csp and "default-src 'none'" in csp[0]
    images = [a["src"] for t, a in page.tags if t == "img"]
    assert images and all(src.startswith("data:image/png;base64,") for src in images)
    ids = [a.get("id") for t, a in page.tags if t == "section"]
    assert ids == ["what_was_run", "headline", *(["countries_2028"] if kind == "run" else
                   ["countries_latin_america_and_caribbean"] if kind == "comparison" else
                   ["analysis"]), "figures", "decisions", "caveats"]
    text = "".join(page.text)
    assert "<script>" in text and "example.com" in text  # the description, shown as text
    assert "short_pivot is hypothetical" in text
    assert "logit_temperature" in text and "are assumptions, not estimates" in text
    assert "gamma" in text


def test_run_report_states_what_was_run_and_its_numbers(outputs):
    text = "".join(parse(outputs["report_run"]).text)
    manifest = json.loads((outputs["run"] / "manifest.json").read_text())
    region = pd.read_parquet(outputs["run"] / "region.parquet").set_index("year")
    assert manifest["scenario_text"].splitlines()[1] in text  # the scenario file itself
    assert f"{100 * region.loc[2028, 'china_trade_share']:.4g}" in text
    assert "One seed: no interval" in text
    decisions = pd.read_csv(outputs["run"] / "decisions.csv")
    assert decisions["reason"].iloc[0] in text
    assert "China share of trade 2028 (%)" in text and "debt to China 2028 (% of GDP)" in text


def test_comparison_report_gives_the_interval_and_the_decomposition(outputs):
    text = "".join(parse(outputs["report_comparison"]).text)
    effects = pd.read_csv(outputs["comparison"] / "effects_region.csv").set_index("outcome")
    row = effects.loc["china_trade_share_pp"]
    for value in (row["mean"], row["ci_low"], row["ci_high"]):
        assert f"{value:.4g}" in text
    assert "mean over 2 seed(s) with its 95 % interval" in text
    assert "Shapley decomposition" in text and "usmca_accession" in text
    assert "A: short_base (historical)" in text and "B: short_pivot (hypothetical)" in text


def test_sweep_report_shows_the_design_and_the_analysis(outputs):
    text = "".join(parse(outputs["report_sweep"]).text)
    assert "4 done, 0 failed, of 4" in text
    assert "events.us_programme.budget_bn: {low: 2, high: 30}" in text  # the sweep file
    assert "Main effects" in text and "PRIM box" in text
    # a varied parameter is not listed among the fixed assumptions
    caveats = text[text.index("Caveats"):]
    assert "gamma =" not in caveats and "logit_temperature =" in caveats


def test_report_refuses_what_it_cannot_describe_and_writes_nothing(outputs, tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "holds no geosim output" in capsys.readouterr().err
    analysis = outputs["sweep"] / "analysis"
    assert main(["report", str(analysis), "--out", str(tmp_path / "r")]) == 2
    assert "holds a geosim analysis" in capsys.readouterr().err
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "thesis.txt").write_text("mine")
    assert main(["report", str(outputs["run"]), "--out", str(busy)]) == 2
    assert "not a geosim output" in capsys.readouterr().err
    assert [p.name for p in busy.iterdir()] == ["thesis.txt"]
    # a previous report is replaced whole
    again = outputs["report_run"].parent
    assert main(["report", str(outputs["run"]), "--out", str(again)]) == 0
    assert "replacing the previous geosim report" in capsys.readouterr().err


def test_comparison_over_seeds_writes_change_tables_with_units_and_intervals(outputs):
    cmp = outputs["comparison"]
    for name in ("countries_change.csv", "region_change.csv", "effects_region.csv",
                 "effects_countries.csv", "decomposition.csv", "decisions.csv",
                 "comparison.json", "region_shares.png", "china_share_change.png",
                 "decomposition.png"):
        assert (cmp / name).is_file(), name
    region = pd.read_csv(cmp / "region_change.csv")
    assert region["year"].tolist() == list(range(2023, 2029))
    assert {"china_trade_share_a_pct", "china_trade_share_b_pct", "china_trade_share_change_pp",
            "china_trade_share_change_pp_low", "china_trade_share_change_pp_high",
            "real_gdp_change_pct"} <= set(region.columns)
    last = region.iloc[-1]
    assert last["china_trade_share_change_pp_low"] <= last["china_trade_share_change_pp"] \
        <= last["china_trade_share_change_pp_high"]
    effects = pd.read_csv(cmp / "effects_region.csv").set_index("outcome")
    assert set(effects.index) >= {"china_trade_share_pp", "us_trade_share_pp", "real_gdp_pct"}
    assert (effects["year"] == 2028).all() and effects["n"].dtype.kind == "i"
    assert re.search(r",2\n", (cmp / "effects_region.csv").read_text())  # n printed as 2
    # the region's final-year change equals the effects table's mean (one definition)
    assert last["china_trade_share_change_pp"] == pytest.approx(
        effects.loc["china_trade_share_pp", "mean"], abs=1e-9)
    countries = pd.read_csv(cmp / "countries_change.csv")
    per = pd.read_csv(cmp / "effects_countries.csv")
    ury = per[(per["iso3"] == "URY") & (per["outcome"] == "china_trade_share_pp")]
    assert countries.set_index("iso3").loc["URY", "china_trade_share_change_pp"] == \
        pytest.approx(float(ury["mean"].iloc[0]), abs=1e-9)
    about = json.loads((cmp / "comparison.json").read_text())
    assert about["seeds"] == [1, 2]
    assert about["sides"]["b"]["status"] == "hypothetical"
    assert about["sides"]["b"]["parameters"]["sigma"] == 5.0
    decisions = pd.read_csv(cmp / "decisions.csv")
    assert set(decisions["seed"]) == {1, 2}


def test_compare_figures_draw_the_reference_dashed_and_the_scenario_solid(outputs):
    import matplotlib.pyplot as plt

    from geosim import plotting

    region = pd.read_csv(outputs["comparison"] / "region_change.csv")
    fig, axes = plt.subplots(1, 2)
    plotting.compare_region_change(region, ("short_base", "short_pivot"), axes)
    styles = {line.get_label(): line.get_linestyle() for line in axes[0].get_lines()}
    assert styles["China, short_base"] == "--" and styles["China, short_pivot"] == "-"
    assert len(axes[1].collections) == 2  # interval bands of the China and US differences
    plt.close(fig)
    fig, ax = plt.subplots()
    a = region.rename(columns={"china_trade_share_a_pct": "china_trade_share",
                               "us_trade_share_a_pct": "us_trade_share"}) / 100
    a["year"] = region["year"]
    plotting.compare_region(a, a, ("baseline", "pivot"), ax)
    styles = {line.get_label(): line.get_linestyle() for line in ax.get_lines()}
    assert styles["US, baseline"] == "--" and styles["US, pivot"] == "-"
    plt.close(fig)


def test_run_map_rings_usmca_members_and_panels_have_few_year_ticks(outputs):
    import matplotlib.pyplot as plt

    from geosim import plotting
    from geosim.data import load_world

    decisions = pd.read_csv(outputs["run"] / "decisions.csv")
    joined = set(decisions.loc[decisions["joined"] & (decisions["bloc"] == "USMCA"), "country"])
    members = plotting.usmca_members(load_world(), decisions)
    assert {"USA", "CAN", "MEX"} | joined == members and joined
    countries = pd.read_parquet(outputs["run"] / "countries.parquet")
    long = pd.concat([countries.assign(year=countries["year"] + k * 6) for k in range(3)])
    fig, ax = plt.subplots(figsize=(4, 3.5))  # one of the 2 x 4 panels, 2023-2040
    plotting.shares_over_time(long, "BRA", ax)
    ticks = [t for t in ax.get_xticks() if long["year"].min() <= t <= long["year"].max()]
    assert 2 <= len(ticks) <= 5
    plt.close(fig)
