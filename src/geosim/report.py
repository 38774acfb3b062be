"""`geosim report DIR`: one self-contained HTML page for a run, a comparison or a sweep folder.

The page says what was run (scenario text, parameters, seed, version), the headline with its
interval, per-country tables with units, the figures, the accession decisions with their
reasons, and the caveats (hypothetical scenarios, parameters that are assumptions rather than
estimates). It needs no network: figures are inline base64 PNGs, styles are inline, there is no
script, and a Content-Security-Policy forbids the page any request. Reads output folders only;
writes through `geosim.results.atomic_dir` (kind "report").
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from geosim import __version__
from geosim.data import load_world
from geosim.parameters import PARAMETERS, defaults
from geosim.results import RunDirError, atomic_dir, output_kind, read_run, slug
from geosim.scenario import ScenarioError, load_scenario

REPORT_FILE = "report.html"
# Labels and units of region outcomes in the tables (shares are printed in %).
SHARE_LABELS = {
    "china_trade_share": "China share of trade", "china_export_share": "China share of exports",
    "china_import_share": "China share of imports", "us_trade_share": "US share of trade",
    "us_export_share": "US share of exports", "us_import_share": "US share of imports",
}
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}
th,td{border:1px solid #ddd;padding:.25em .5em;text-align:right}
th{background:#f3f3f3}td.t,th.t{text-align:left}
pre{background:#f7f7f7;padding:.6em;overflow-x:auto;font-size:.8em}
img{max-width:100%;border:1px solid #eee;margin:.4em 0}
.caveat{background:#fff4e5;border-left:4px solid #e67e22;padding:.4em .8em}
.meta td{text-align:left}.wide{overflow-x:auto}
"""


class ReportError(RunDirError):
    """The folder is not a run, comparison or sweep that a report can describe (user error)."""


def default_out(directory: str | Path) -> Path:
    """results/reports/<name>/: the scenario and seed of a run, else the folder's name."""
    directory = Path(directory)
    name = directory.resolve().name
    if output_kind(directory) == "run":
        try:
            m = json.loads((directory / "manifest.json").read_text())
            name = f"{m['scenario']}_seed{m['seed']}"
        except (OSError, ValueError, KeyError, TypeError):
            pass
    return Path("results") / "reports" / slug(name)


def write_report(directory: str | Path, out: str | Path | None = None) -> Path:
    """Write ``out``/report.html (default `default_out`) atomically; return the page's path.

    Raises:
        ReportError: ``directory`` is not a run, comparison or sweep folder.
        RunDirError: ``out`` may not be written.
    """
    page = build(directory)
    target = Path(out) if out else default_out(directory)
    with atomic_dir(target, "report") as tmp:
        (tmp / REPORT_FILE).write_text(page, encoding="utf-8")
    return target / REPORT_FILE


def build(directory: str | Path) -> str:
    """The report page of a run, comparison or sweep folder, as HTML text."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ReportError(f"{directory}: not a folder (expected a run, comparison or sweep "
                          "folder written by geosim)")
    kind = output_kind(directory)
    builders = {"run": _run_page, "comparison": _comparison_page, "sweep": _sweep_page}
    if kind not in builders:
        found = f"a geosim {kind}" if kind else "no geosim output"
        raise ReportError(f"{directory}: holds {found}; geosim report describes a run, a "
                          "comparison or a sweep folder")
    try:
        title, sections = builders[kind](directory)
    except (OSError, ValueError, KeyError) as exc:
        raise ReportError(f"{directory}: cannot read this {kind} ({exc}); is it damaged?"
                          ) from None
    return _page(title, sections, directory)


# -- the three kinds --------------------------------------------------------------------------


def _run_page(directory: Path) -> tuple[str, list[str]]:
    run = read_run(directory)
    m = run.manifest
    region, countries = run.region.sort_values("year"), run.countries
    first, last = region.iloc[0], region.iloc[-1]
    y0, y1 = int(first["year"]), int(last["year"])
    what = _meta_table([("scenario", m["scenario"]), ("status", m.get("scenario_status", "?")),
                        ("seed", m["seed"]), ("years", f"{m.get('start', y0)}–{m.get('end', y1)}"),
                        ("geosim version", m.get("geosim_version", "?")),
                        ("scenario hash", m.get("scenario_hash", "?"))])
    what += _details("Scenario file (with its parents)", _pre(m.get("scenario_text", "")))
    what += _details("Parameters", _parameter_table(m.get("parameters", {})))
    change = "change (pp for shares, % otherwise)"
    rows = []
    for col, label in SHARE_LABELS.items():
        rows.append({"outcome": f"{label} (%)", str(y0): 100 * first[col],
                     str(y1): 100 * last[col], change: 100 * (last[col] - first[col])})
    for col, label, scale in (("real_gdp_index", "real GDP (index, start = 1)", 1.0),
                              ("trade_with_china", "trade with China (bn USD)", 1e-9),
                              ("intra_americas_trade", "trade within the Americas (bn USD)",
                               1e-9)):
        rows.append({"outcome": label, str(y0): scale * first[col], str(y1): scale * last[col],
                     change: 100 * (last[col] / first[col] - 1)})
    headline = (f"<p>Latin America &amp; the Caribbean (trade-weighted), {y0} and {y1}. One seed: "
                "no interval (<code>geosim compare A B --seeds 1 2 3 4 5</code> gives one over "
                "seeds).</p>" + _table(pd.DataFrame(rows)))
    sections = [_section("What was run", what), _section("Headline", headline),
                _section(f"Countries, {y1}", _country_table(countries, y0, y1)),
                _section("Figures", _images(sorted((directory / "plots").glob("*.png")))),
                _section("Decisions", _decisions(directory / "decisions.csv")),
                _section("Caveats", _caveats([(m["scenario"], m.get("scenario_status"),
                                               _description(m.get("scenario_text", "")))],
                                             m.get("parameters", {}), varied=(), one_seed=True))]
    return f"geosim run: {m['scenario']}, seed {m['seed']}", sections


def _comparison_page(directory: Path) -> tuple[str, list[str]]:
    about = _read_json(directory / "comparison.json")
    sides = about.get("sides", {})
    seeds = about.get("seeds")
    what = ""
    if about:
        what += _meta_table([("B minus A", f"{sides.get('b', {}).get('name', '?')} minus "
                                            f"{sides.get('a', {}).get('name', '?')}"),
                             ("seeds", ", ".join(map(str, seeds or [])) or "?"),
                             ("geosim version", about.get("geosim_version", "?"))])
        for key in ("a", "b"):
            side = sides.get(key, {})
            what += (f"<h3>{key.upper()}: {_e(side.get('name', '?'))} "
                     f"({_e(side.get('status'))})</h3>")
            what += _details("Scenario file (with its parents)", _pre(side.get("text", "")))
            what += _details("Parameters", _parameter_table(side.get("parameters", {})))
    else:
        what = ("<p>Not recorded: this comparison was written by a geosim before "
                "<code>comparison.json</code>; the tables below are all it holds.</p>")
    effects = _read_csv(directory / "effects_region.csv")
    region = _read_csv(directory / "region_change.csv")
    if effects is not None:
        n = int(effects["n"].iloc[0])
        headline = (f"<p>B minus A in the final year, mean over {n} seed(s) with its 95 % "
                    "interval (t over seeds; shares in pp, real GDP in %).</p>"
                    + _table(_effects_rows(effects)))
    elif region is not None:
        last = region.iloc[-1]
        headline = (f"<p>B minus A in {int(last['year'])}, one seed per side: no interval.</p>"
                    + _table(pd.DataFrame(
                        [{"outcome": label, "A (%)": _get(last, f"{c}_a_pct", f"{c}_a"),
                          "B (%)": _get(last, f"{c}_b_pct", f"{c}_b"),
                          "B − A (pp)": last[f"{c}_change_pp"]}
                         for c, label in SHARE_LABELS.items()])))
    else:
        headline = "<p>No region table in this comparison.</p>"
    parts = _read_csv(directory / "decomposition.csv")
    if parts is not None:
        headline += ("<h3>Shapley decomposition by policy (pp, mean and 95 % interval)</h3>"
                     + _table(parts.rename(columns={"mean": "mean (pp)", "ci_low": "low (pp)",
                                                    "ci_high": "high (pp)", "sd": "sd (pp)"})))
    per_country = _read_csv(directory / "countries_change.csv")
    if per_country is not None:
        countries = _table(_lac_only(_change_columns(per_country)))
    else:
        countries = "<p>No country table in this comparison.</p>"
    caveat_sides = [(s.get("name", "?"), s.get("status"), _description(s.get("text", "")))
                    for s in sides.values()]
    params = sides.get("b", {}).get("parameters", {})
    sections = [_section("What was run", what), _section("Headline", headline),
                _section("Countries (Latin America &amp; Caribbean)", countries),
                _section("Figures", _images(sorted(directory.glob("*.png")))),
                _section("Decisions", _decisions(directory / "decisions.csv")),
                _section("Caveats", _caveats(caveat_sides, params, (),
                                             one_seed=effects is None))]
    b, a = sides.get("b", {}).get("name", "B"), sides.get("a", {}).get("name", "A")
    return f"geosim comparison: {b} vs {a}", sections


def _sweep_page(directory: Path) -> tuple[str, list[str]]:
    from geosim.experiments.analysis import outcome_units
    from geosim.experiments.store import load, load_meta

    meta = load_meta(directory)
    design = meta.get("design", {})
    runs = load(directory)
    done = runs[runs["status"] == "done"]
    failed = int((runs["status"] == "failed").sum())
    what = _meta_table([("sweep", meta.get("name", "?")), ("base scenario", design.get("scenario")),
                        ("reference", design.get("reference") or "none"),
                        ("sampler", design.get("sampler")),
                        ("runs", f"{len(done)} done, {failed} failed, of "
                                 f"{meta.get('n_runs', '?')}"),
                        ("root seed", design.get("seed")),
                        ("geosim version", meta.get("geosim_version", "?"))])
    what += _details("Sweep file", _pre(meta.get("sweep_text", "")))
    base = None
    try:
        base = load_scenario(design.get("scenario", ""))
        note = ("" if base.hash == meta.get("scenario_hash") else
                "<p class='caveat'>This scenario file changed since the sweep ran: the text "
                "below is today's.</p>")
        what += _details(f"Base scenario {base.name}", note + _pre(base.text))
    except ScenarioError:
        what += "<p>The base scenario file is not found here; the sweep file names it.</p>"
    units = outcome_units(meta)
    rows = []
    for name in meta.get("outcomes", []):
        scale, unit = units.get(name, (1.0, ""))
        values = scale * done[name].astype(float)
        rows.append({"outcome": name, "unit": unit, "runs": int(values.notna().sum()),
                     "mean": values.mean(), "p05": values.quantile(0.05),
                     "median": values.median(), "p95": values.quantile(0.95)})
    headline = ("<p>Each outcome across the sweep's runs: mean and 5–95 % range "
                "(the spread over the sampled inputs and seeds).</p>" + _table(pd.DataFrame(rows)))
    analysis = directory / "analysis"
    tables = ""
    for name, title in (("robustness.csv", "Robustness of each lever setting across the worlds"),
                        ("sensitivity.csv", "Sensitivity indices"),
                        ("main_effects.csv", "Main effects"), ("prim_box.csv", "PRIM box")):
        frame = _read_csv(analysis / name)
        if frame is not None:
            tables += f"<h3>{title} (<code>analysis/{name}</code>)</h3>" + _table(frame.head(40))
    if not tables:
        tables = (f"<p>No analysis yet: run <code>geosim analyze {_e(str(directory))}</code> "
                  "and report again for sensitivity tables and figures.</p>")
    status = [(base.name, base.status, base.description)] if base else []
    varied = tuple(p["name"] for p in design.get("parameters", []))
    params = {**defaults(), **(base.parameters if base else {})}
    sections = [_section("What was run", what), _section("Headline", headline),
                _section("Analysis", tables),
                _section("Figures", _images(sorted(analysis.glob("*.png")))),
                _section("Decisions", "<p>A sweep records outcomes, not each run's accession "
                         "decisions: <code>geosim run</code> one sample to see them.</p>"),
                _section("Caveats", _caveats(status, params, varied, one_seed=False))]
    return f"geosim sweep: {meta.get('name', directory.name)}", sections


# -- pieces -----------------------------------------------------------------------------------


def _caveats(scenarios: Iterable[tuple[str, str | None, str]], parameters: dict,
             varied: Iterable[str], one_seed: bool) -> str:
    items = []
    for name, status, description in scenarios:
        if status == "hypothetical":
            items.append(f"<b>{_e(name)} is hypothetical</b>: {_e(description)}")
        elif status == "announced":
            items.append(f"{_e(name)} is announced, not in force: {_e(description)}")
    varied = set(varied)
    assumed = [(n, p) for n, p in PARAMETERS.items()
               if "assumption" in p.source.lower() and n not in varied]
    if assumed:
        rows = "".join(f"<li><code>{_e(n)}</code> = {_num(parameters.get(n, p.default))} "
                       f"{_e(p.unit if p.unit != '-' else '')} (range {p.low:g}–{p.high:g}): "
                       f"{_e(p.source)}</li>" for n, p in assumed)
        items.append(f"{len(assumed)} parameters are assumptions, not estimates (their source "
                     f"says so); the results hold at the values used:<ul>{rows}</ul>")
    if one_seed:
        items.append("One seed: the numbers carry no interval over the model's random draws.")
    items.append("A one-sector model of goods trade; shares exclude domestic sales "
                 "(docs/model.md).")
    return "<ul class='caveat'>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"


def _country_table(countries: pd.DataFrame, y0: int, y1: int) -> str:
    lac = set(load_world().lac)
    a = countries[countries["year"] == y0].set_index("iso3")
    b = countries[countries["year"] == y1].set_index("iso3")
    codes = [c for c in b.index if c in lac]
    table = pd.DataFrame({
        "iso3": codes,
        f"China share of trade {y1} (%)": 100 * b.loc[codes, "china_trade_share"].to_numpy(),
        f"change since {y0} (pp)": 100 * (b.loc[codes, "china_trade_share"]
                                          - a.loc[codes, "china_trade_share"]).to_numpy(),
        f"US share of trade {y1} (%)": 100 * b.loc[codes, "us_trade_share"].to_numpy(),
        f"US change since {y0} (pp)": 100 * (b.loc[codes, "us_trade_share"]
                                             - a.loc[codes, "us_trade_share"]).to_numpy(),
        f"real GDP change since {y0} (%)": 100 * (b.loc[codes, "real_gdp_index"]
                                                   / a.loc[codes, "real_gdp_index"] - 1).to_numpy(),
        f"China's share of FDI stock {y1} (%)": 100 * b.loc[codes, "china_fdi_share"].to_numpy(),
        f"debt to China {y1} (% of GDP)": 100 * b.loc[codes, "china_debt_gdp"].to_numpy(),
        f"GDP {y1} (bn USD)": b.loc[codes, "gdp"].to_numpy() / 1e9,
    }).sort_values(f"China share of trade {y1} (%)", ascending=False)
    return _table(table)


def _effects_rows(effects: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for r in effects.itertuples():
        metric = r.outcome.removesuffix("_pp")  # older versions: no unit in the name
        label, unit = (SHARE_LABELS[metric], "pp") if metric in SHARE_LABELS else (
            "real GDP", "%")
        rows.append({"outcome": label, "unit": unit, "mean": r.mean, "95 % low": r.ci_low,
                     "95 % high": r.ci_high, "seeds": int(r.n)})
    return pd.DataFrame(rows)


def _lac_only(table: pd.DataFrame) -> pd.DataFrame:
    lac = set(load_world().lac)
    return table[table["iso3"].isin(lac)]


def _get(row: pd.Series, *names: str) -> object:
    """The first of ``names`` the row has (column names of older geosim versions last)."""
    return next((row[n] for n in names if n in row), float("nan"))


def _change_columns(table: pd.DataFrame) -> pd.DataFrame:
    """The headline columns of `countries_change.csv`, labelled with their units."""
    out = pd.DataFrame({"iso3": table["iso3"]})
    for col, label in (("china_trade_share", "China share of trade"),
                       ("us_trade_share", "US share of trade")):
        for side in ("a", "b"):
            name = next((n for n in (f"{col}_{side}_pct", f"{col}_{side}") if n in table), None)
            if name:
                out[f"{label}, {side.upper()} (%)"] = table[name]
        out[f"{label}, B − A (pp)"] = table[f"{col}_change_pp"]
        for end in ("low", "high"):
            if f"{col}_change_pp_{end}" in table:
                out[f"{label}, 95 % {end} (pp)"] = table[f"{col}_change_pp_{end}"]
    out["real GDP, B − A (%)"] = table["real_gdp_change_pct"]
    for end in ("low", "high"):
        if f"real_gdp_change_pct_{end}" in table:
            out[f"real GDP, 95 % {end} (%)"] = table[f"real_gdp_change_pct_{end}"]
    if "n" in table:
        out["seeds"] = table["n"]
    return out.sort_values("China share of trade, B − A (pp)")


def _decisions(path: Path) -> str:
    frame = _read_csv(path)
    if frame is None or frame.empty:
        return "<p>No accession decisions in this run.</p>"
    keep = [c for c in ("seed", "year", "bloc", "country", "joined", "economic_gain_pct",
                        "political_term_pct", "threshold_pct", "reason") if c in frame]
    frame = frame[keep].rename(columns={"economic_gain_pct": "economic gain (% welfare)",
                                        "political_term_pct": "political term (% welfare)",
                                        "threshold_pct": "threshold (% welfare)"})
    return _table(frame)


def _parameter_table(values: dict) -> str:
    rows = []
    for name, p in PARAMETERS.items():
        value = values.get(name, p.default)
        rows.append({"parameter": name, "value": value, "default": p.default,
                     "changed": "yes" if value != p.default else "", "unit": p.unit,
                     "range": f"{p.low:g}–{p.high:g}", "source": p.source})
    return _table(pd.DataFrame(rows))


def _description(text: str) -> str:
    """The last `description:` line of a scenario text (the child's, after its parents')."""
    found = ""
    for line in text.splitlines():
        if line.startswith("description:"):
            found = line.removeprefix("description:").strip().strip("'\"")
    return found


def _images(paths: list[Path]) -> str:
    if not paths:
        return "<p>No figures in this folder.</p>"
    out = []
    for path in paths:
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        out.append(f"<figure><img alt='{_e(path.name)}' src='data:image/png;base64,{data}'>"
                   f"<figcaption><code>{_e(path.name)}</code></figcaption></figure>")
    return "".join(out)


def _table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th class='{'t' if _text(frame[c]) else ''}'>{_e(str(c))}</th>"
                   for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = "".join(f"<td class='t'>{_e(str(v))}</td>" if isinstance(v, str | bool)
                        else f"<td>{_num(v)}</td>" for v in row)
        body.append(f"<tr>{cells}</tr>")
    return (f"<div class='wide'><table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}"
            "</tbody></table></div>")


def _text(column: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)


def _num(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    try:
        x = float(value)
    except (TypeError, ValueError):
        return _e(str(value))
    if x.is_integer() and abs(x) < 1e6:
        return str(int(x))
    return f"{x:.4g}" if abs(x) >= 1e-3 or x == 0 else f"{x:.2e}"


def _meta_table(rows: list[tuple[str, object]]) -> str:
    return ("<table class='meta'>" + "".join(f"<tr><th class='t'>{_e(k)}</th><td>{_e(str(v))}"
                                             "</td></tr>" for k, v in rows) + "</table>")


def _details(summary: str, body: str) -> str:
    return f"<details><summary>{_e(summary)}</summary>{body}</details>"


def _pre(text: str) -> str:
    return f"<pre>{_e(text)}</pre>"


def _section(title: str, body: str) -> str:
    anchor = slug(title.lower().replace("&amp;", "and"))
    return f"<section id='{anchor}'><h2>{title}</h2>{body}</section>"


def _page(title: str, sections: list[str], directory: Path) -> str:
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\">"
            f"<meta name='generator' content='geosim {__version__} report'>"
            f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>"
            f"<h1>{_e(title)}</h1><p>From <code>{_e(str(directory))}</code>, by geosim "
            f"{__version__}.</p>{''.join(sections)}</body></html>\n")


def _read_csv(path: Path) -> pd.DataFrame | None:
    return pd.read_csv(path) if path.is_file() else None


def _read_json(path: Path) -> dict:
    if not path.is_file():
        return {}
    data = json.loads(path.read_text())
    return data if isinstance(data, dict) else {}


def _e(text: object) -> str:
    return html.escape("" if text is None else str(text), quote=True)
