"""The Solara page served by `geosim viz`: map, country table, charts, levers over a `GeoModel`.

Owns `ClassroomModel`, `Session` (one browser tab's run, its baseline run stepped in sync, the
map renderer) and the page's components; each browser session builds its own `Session` in
`Page`. The lever controls are Mesa's `UserInputs`; the run controls (Reset, Step, ▶/❚❚, run to
year) are the page's own, so that Pause stops on the year shown.
"""

from __future__ import annotations

import copy
import io
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import markdown
import numpy as np
import pandas as pd
import solara
from mesa.visualization.solara_viz import UserInputs

from geosim.model import GeoModel
from geosim.parameters import ParameterError
from geosim.plotting.maps import CHINA_COLOUR, US_COLOUR, MapData, MapRenderer, MapScale
from geosim.plotting.svg import Marker, Series, line_chart, stacked_bars
from geosim.references import without_policies
from geosim.scenario import ScenarioError, list_scenarios, load_scenario
from geosim.viz.info import INFO
from geosim.viz.levers import (
    AS_WRITTEN,
    Levers,
    apply_levers,
    changed_levers,
    controls,
    describe,
    lever_slug,
    lever_values,
    scenario_levers,
)
from geosim.viz.sectors import (
    ALL_SECTORS,
    SHARES,
    region_china_share,
    sector_choices,
    sector_shares,
    sector_trade,
)

SCENARIO_ENV = "GEOSIM_VIZ_SCENARIO"  # set by `geosim viz --scenario FILE`
BASELINE = "baseline"
DEFAULT_SCENARIO = BASELINE
DEFAULT_COUNTRY = "BRA"
# Play: seconds per year, by the speed picker's choice.
SPEEDS = {"1 year per second": 1.0, "2 years per second": 0.5, "1 year per 2 seconds": 2.0}
# The page solves the world by sector, so that the map and the table can show a sector; a
# scenario that sets engine_sectors itself keeps its value. A Step (the run and its baseline)
# costs a median 22 ms against 5 ms with one sector (pivot, 12 steps, this 2-core machine).
PAGE_PARAMETERS = {"engine_sectors": 1}
MEASURES = {"trade (exp. + imp.)": "trade", "exports": "export", "imports": "import"}
INVESTORS = {  # investor agent -> (label, colour) in the money chart
    "us_public": ("US public", "#0d47a1"), "us_private": ("US private", "#64b5f6"),
    "china_policy_banks": ("China policy banks", "#b71c1c"),
    "china_state_firms": ("China state firms", "#ef9a9a"), "eu_private": ("EU private", "#9e9e9e"),
}
INFO_HTML = markdown.markdown(INFO)
CSS = """
.v-input__slider .v-slider__thumb-container::after {
    content: attr(aria-valuenow); position: absolute; top: -19px; left: 0;
    transform: translateX(-50%); font-size: 11px; color: #1565c0; white-space: nowrap;
}
.geosim-sidebar { width: 290px; flex: none; padding: 6px 10px !important; height: 100vh;
    overflow-y: auto; position: sticky; top: 0; border-right: 1px solid #ddd;
    background: #fafafa; }
.geosim-sidebar > * { flex: 0 0 auto !important; }
.geosim-sidebar .v-input { margin-top: 2px !important; padding-top: 2px !important; }
.geosim-sidebar .v-input__slider { margin-top: 10px !important; }
.geosim-sidebar .v-input__slot { margin-bottom: 0 !important; min-height: 0 !important; }
.geosim-sidebar .v-messages { display: none; }
.geosim-sidebar .v-label, .geosim-sidebar .v-select__selection { font-size: 12.5px !important; }
.geosim-sidebar .v-select__selection { max-width: 100% !important; white-space: normal; }
.geosim-sidebar .v-text-field { padding-top: 6px !important; }
.geosim-main { flex: 1 1 auto; min-width: 0; padding: 4px 12px !important; }
.geosim-table td, .geosim-table th { padding: 0 6px !important; height: 24px !important;
    font-size: 12px !important; }
.geosim-table tbody tr { cursor: pointer; }
.geosim-pending { color: #e65100; font-size: 12.5px; }
.geosim-info strong { font-weight: bold; }
.geosim-info ul { margin-bottom: 14px; }
"""


class ClassroomModel(GeoModel):
    """A `GeoModel` whose scenario is a shipped one (or a file) changed by the page's levers.

    A lever left out (None) keeps the scenario's own value (`levers.scenario_levers`);
    `levers` holds the values the run has, `written` the scenario's own.
    """

    def __init__(
        self,
        scenario_name: str = DEFAULT_SCENARIO,
        usmca_members: str = AS_WRITTEN,
        usmca_year: int | None = None,
        us_programme_bn: float | None = None,
        china_lending_bn: float | None = None,
        tariff_pp: int = 0,
        sigma: float | None = None,
        seed: int = 0,
    ):
        scenario = load_scenario(scenario_name)
        self.written = scenario_levers(scenario)
        given = {"usmca_year": usmca_year, "us_programme_bn": us_programme_bn,
                 "china_lending_bn": china_lending_bn, "sigma": sigma}
        values = {**lever_values(self.written),
                  **{k: v for k, v in given.items() if v is not None}}
        self.levers = Levers(usmca_members, int(values["usmca_year"]),
                             float(values["us_programme_bn"]), float(values["china_lending_bn"]),
                             int(tariff_pp), float(values["sigma"]))
        changed, parameters = apply_levers(scenario, self.levers)
        page = {k: v for k, v in PAGE_PARAMETERS.items() if k not in changed.parameters}
        super().__init__(changed, parameters={**page, **parameters}, seed=int(seed))
        self.seed = int(seed)
        self.lever_parameters = parameters


def initial_scenario() -> str:
    """The scenario the page opens with: `geosim viz --scenario`, else the baseline."""
    return os.environ.get(SCENARIO_ENV) or DEFAULT_SCENARIO


def scenario_choices(selected: str) -> list[str]:
    """The picker's entries: the shipped scenarios' names, plus `selected` if it is a file."""
    names = [s.name for s in list_scenarios()]
    return names if selected in names else [*names, selected]


def baseline_of(model: ClassroomModel) -> GeoModel:
    """The reference run: the run's scenario without its policy events (for the shipped
    scenarios that start in 2023, the baseline), with the same model parameters, seed and world,
    so the two runs differ only by the policies."""
    return GeoModel(without_policies(model.scenario_spec), parameters=dict(model.params),
                    seed=model.seed, world=model.world)


@dataclass
class Session:
    """One browser tab's run: the model, its baseline stepped in sync, and the map renderers.

    `lock` guards stepping (the Step button and the play thread); `previous` keeps the state
    before the last played step so that Pause can return to the year the page showed (the next
    one may have been computed, and be on its way, when Pause was pressed). Built in the run's
    first year, it keeps that year's shares and map data for every sector choice (`choices`,
    label -> sector code, None: all trade); `renderer` draws all trade, `renderer_for` a sector.
    """

    settings: dict
    model: ClassroomModel
    baseline: GeoModel
    renderer: MapRenderer
    lock: threading.Lock = field(default_factory=threading.Lock)
    previous: tuple[ClassroomModel, GeoModel] | None = None
    first: pd.DataFrame | None = None  # the first year's country metrics
    choices: dict[str, str | None] = field(default_factory=dict)
    first_shares: dict[str | None, pd.DataFrame] = field(default_factory=dict)
    renderers: dict[str | None, MapRenderer] = field(default_factory=dict)
    # the first year's map data and region share (the renderers' scale), by sector
    _bases: dict[str | None, tuple[MapData, float]] = field(default_factory=dict, init=False,
                                                            repr=False)

    def __post_init__(self) -> None:
        if self.first is None:
            self.first = self.model.country_metrics()
        self.choices = sector_choices(self.model)
        self.first_shares = {code: sector_shares(self.model, code)
                             for code in self.choices.values()}
        self._bases = {code: (map_data(self.model, code), region_china_share(self.model, code))
                       for code in self.choices.values()}
        self.renderers[None] = self.renderer

    @classmethod
    def start(cls, settings: dict) -> Session:
        """A new run from the control values (the keyword arguments of `ClassroomModel`)."""
        model = ClassroomModel(**settings)
        base = map_data(model)
        scale = MapScale.from_base(base, region_china_share(model, None))
        return cls(dict(settings), model, baseline_of(model),
                   MapRenderer(base, scale, subtitle=model.scenario_spec.name))

    def sector_of(self, label: str) -> str | None:
        """The sector code of a picker label (None: all trade); unknown labels are all trade."""
        return self.choices.get(label)

    def renderer_for(self, sector: str | None) -> MapRenderer:
        """The map renderer of `sector` (a code of `choices`; None: all trade), scaled on the
        run's first year, built on first use."""
        if sector not in self.renderers:
            if sector not in self._bases:
                raise ValueError(f"unknown sector {sector!r}: the page offers "
                                 f"{', '.join(str(c) for c in self._bases if c)}")
            base, region = self._bases[sector]
            name = next(label for label, code in self.choices.items() if code == sector)
            self.renderers[sector] = MapRenderer(
                base, MapScale.from_base(base, region, sector=name),
                subtitle=f"{self.model.scenario_spec.name} · {name}")
        return self.renderers[sector]

    @property
    def done(self) -> bool:
        return self.model.year >= self.model.end

    def step(self, keep_previous: bool = False) -> None:
        """Advance the run and its baseline one year (call with `lock` held)."""
        if self.done:
            return
        self.previous = None
        if keep_previous:  # the read-only world is shared, not copied
            memo = {id(self.model.world): self.model.world}
            try:
                self.previous = (copy.deepcopy(self.model, memo),
                                 copy.deepcopy(self.baseline, memo))
            except (TypeError, copy.Error):  # a model that cannot be copied: no way back
                self.previous = None
        self.model.step()
        self.baseline.step()

    def back_to(self, shown: int) -> bool:
        """Return to the year the page showed if only the last played step is past it.

        Call with `lock` held; True if the run went back a year.
        """
        if self.previous is None or self.model.year != shown + 1:
            return False
        self.model, self.baseline = self.previous
        self.previous = None
        return True


def map_data(model: GeoModel, sector: str | None = None) -> MapData:
    """The current year's map data, read from the model's public outcomes: colours and links
    are `sector`'s trade (a code; None: all trade), sizes GDP."""
    world = model.world
    metrics = model.country_metrics().loc[list(world.iso3)]
    shares = sector_shares(model, sector)
    return MapData(year=model.year, iso3=tuple(world.iso3), lon=np.asarray(world.lon),
                   lat=np.asarray(world.lat), is_lac=np.asarray(world.is_lac, dtype=bool),
                   gdp=metrics["gdp"].to_numpy(float),
                   china_share=shares["china_trade_share"].to_numpy(float),
                   flows=sector_trade(model, sector), usmca=usmca_mask(model))


def usmca_mask(model: GeoModel) -> np.ndarray:
    """Mask of the current USMCA members (read from the model's trade-bloc agent)."""
    bloc = model.blocs.get("USMCA")
    members = bloc.members if bloc is not None else {}
    return np.array([iso in members for iso in model.world.iso3])


def headline(model: GeoModel, baseline: GeoModel | None = None) -> str:
    """One sentence of the current year's regional outcomes (trade-weighted shares)."""
    region = model.region_frame().iloc[-1]
    n = int(np.sum(model.world.is_lac))
    reference = ""
    if baseline is not None and baseline.year == model.year:
        base = baseline.region_frame().iloc[-1]
        reference = (f" (baseline: China {base['china_trade_share']:.1%}, "
                     f"US {base['us_trade_share']:.1%})")
    return (f"Latin America & Caribbean: China {region['china_trade_share']:.1%} and the US "
            f"{region['us_trade_share']:.1%} of trade{reference}. China is the top export "
            f"market of {int(region['n_top_partner_china_exports'])} and the top import source "
            f"of {int(region['n_top_partner_china_imports'])} of {n} countries.")


def country_table(model: GeoModel, baseline: GeoModel, measure: str = "trade",
                  first: pd.DataFrame | None = None, sector: str | None = None) -> pd.DataFrame:
    """Every economy this year: China and US shares of exports and imports (%), and for
    `measure` ("trade", "export" or "import") the change since the first year and the
    difference from the baseline run at the same year (percentage points); all of the
    economy's trade, or its trade in `sector` (a code, `sectors.sector_shares`).

    `first` is the first year's shares (`sector_shares` of the sector, or `country_metrics()`);
    for all trade it is read from the run's history if None.
    """
    now = sector_shares(model, sector)
    if first is None:
        if sector is not None:
            raise ValueError(f"country_table: the first year's shares of {sector!r} are needed")
        frame = model.countries_frame()
        first = frame[frame["year"] == model.start].set_index("iso3")
    base = sector_shares(baseline, sector)
    names = dict(zip(model.world.iso3, model.world.name, strict=True))
    table = pd.DataFrame({"country": [names[i] for i in now.index], "iso3": now.index})
    for who in ("china", "us"):
        for flow in ("export", "import"):
            table[f"{who}_{flow}_pct"] = 100 * now[f"{who}_{flow}_share"].to_numpy()
    for who in ("china", "us"):
        column = f"{who}_{measure}_share"
        table[f"{who}_change_pp"] = 100 * (now[column] - first[column]).to_numpy()
        reference = base.loc[now.index, column]
        table[f"{who}_vs_baseline_pp"] = 100 * (now[column] - reference).to_numpy()
    return table.reset_index(drop=True)


# The downloaded CSV's outcome columns: name in the model's tables -> (column, factor to it).
# Shares and ratios are in percent, as the page shows them; GDP in bn USD.
CSV_UNITS = {
    "gdp": ("gdp_bn_usd", 1e-9),
    **{share: (f"{share}_pct", 100.0) for share in (*SHARES, "china_fdi_share")},
    "china_debt_gdp": ("china_debt_gdp_pct", 100.0),
    **{f"{share}_baseline": (f"{share}_baseline_pct", 100.0) for share in SHARES},
}


def run_settings(model: ClassroomModel) -> dict[str, object]:
    """What a run was set to, as the downloaded CSV's leading columns: the scenario, the seed,
    the USMCA application the run's scenario has and the levers' values (as the run line)."""
    accession = next((e for e in reversed(model.scenario_spec.events)
                      if e.type == "bloc_accession" and e.bloc == "USMCA"), None)
    levers = model.levers
    return {"scenario": model.scenario_spec.name, "seed": model.seed,
            "usmca_applicants": " ".join(accession.countries) if accession else "none",
            "usmca_year": accession.year if accession else "",
            "us_programme_bn_per_yr": levers.us_programme_bn,
            "china_lending_bn_per_yr": levers.china_lending_bn,
            "tariff_change_pp": levers.tariff_pp, "sigma": levers.sigma}


def run_filename(model: ClassroomModel) -> str:
    """The CSV's file name, by the run's settings: scenario, seed, the levers moved from the
    scenario's own values, years (e.g. ``geosim_pivot_seed0_lending20bn_2023-2035.csv``)."""
    changed = changed_levers(model.written, model.levers)
    parts = ["geosim", model.scenario_spec.name, f"seed{model.seed}",
             *(lever_slug(name, value) for name, value in changed.items()),
             f"{model.start}-{model.year}"]
    return "_".join(parts) + ".csv"


def run_csv(model: ClassroomModel, baseline: GeoModel) -> bytes:
    """The run so far as CSV: one row per economy and year, the run's settings in the first
    columns, the baseline's shares beside the run's; shares in % (columns ending in ``_pct``)."""
    frame = model.countries_frame()
    base = baseline.countries_frame()[["year", "iso3", *SHARES]]
    merged = frame.merge(base, on=["year", "iso3"], suffixes=("", "_baseline"), how="left")
    names = dict(zip(model.world.iso3, model.world.name, strict=True))
    merged.insert(2, "country", merged["iso3"].map(names))
    for column, (_, factor) in CSV_UNITS.items():
        merged[column] *= factor
    merged = merged.rename(columns={column: renamed for column, (renamed, _) in CSV_UNITS.items()})
    settings = pd.DataFrame({k: [v] * len(merged) for k, v in run_settings(model).items()})
    out = io.StringIO()
    pd.concat([settings, merged], axis=1).to_csv(out, index=False, float_format="%.6g")
    return out.getvalue().encode()


def event_markers(model: GeoModel) -> list[Marker]:
    """The scenario's events as chart markers, labelled by id."""
    markers = []
    for event in sorted(model.scenario_spec.events, key=lambda e: e.year):
        label = (event.id or event.type).removeprefix("page_").replace("_", " ")
        markers.append(Marker(int(event.year), label))
    return markers


def share_chart(run: pd.DataFrame, base: pd.DataFrame, *, title: str, span: tuple[int, int],
                markers: list[Marker], css_class: str) -> str:
    """China and US shares of trade: the run solid, the baseline dashed."""
    series = [Series("China", run["year"], run["china_trade_share"], CHINA_COLOUR),
              Series("US", run["year"], run["us_trade_share"], US_COLOUR),
              Series("China, baseline", base["year"], base["china_trade_share"], CHINA_COLOUR,
                     dashed=True),
              Series("US, baseline", base["year"], base["us_trade_share"], US_COLOUR,
                     dashed=True)]
    return line_chart(series, title=title, span=span, markers=markers, css_class=css_class,
                      width=440, height=210)


def money_chart(model: GeoModel, top: int = 10) -> str:
    """Investment and lending stocks by host (bn USD), the largest hosts, by investor."""
    stock = model.stock.sum(axis=2) / 1e9  # investor × host
    lac = np.flatnonzero(model.world.is_lac)
    order = lac[np.argsort(-stock[:, lac].sum(axis=0))][:top]
    stacks = [(*INVESTORS.get(name, (name, "#777777")), stock[k, order])
              for k, name in enumerate(model.investors)]
    return stacked_bars([model.world.iso3[i] for i in order], stacks, css_class="geosim-money",
                        title=f"Where the money goes: FDI and lending stocks, {model.year} "
                              f"(bn USD, top {top} hosts)", width=440)


def decision_lines(model: GeoModel) -> list[str]:
    """Accession decisions so far, one readable line each, every number once.

    Uses the decision's economic gain, political term, score and threshold when the model
    records them (`economic_gain_pct`, `political_term_pct`, `score_pct`, `threshold_pct`), else
    the applicant's welfare gain alone (`applicant_gain_pct`); the recorded `reason` only for a
    members' refusal (it names the member), which those do not say.
    """
    names = dict(zip(model.world.iso3, model.world.name, strict=True))
    lines = []
    for d in model.decisions:
        who = f"{d['year']}: {names.get(d['country'], d['country'])}"
        if d.get("imposed"):
            lines.append(f"{who} joined {d['bloc']}, imposed by the scenario")
            continue
        if str(d.get("customs_union", "")).startswith("refused"):
            lines.append(f"{who} could not apply to {d['bloc']} alone (customs union): "
                         f"{d.get('reason') or d['customs_union']}")
            continue
        if not d.get("members_ok", True):
            lines.append(f"{who} applied to {d['bloc']}: {d.get('reason') or 'members refused'}")
            continue
        text = f"{who} {'joined' if d.get('joined') else 'declined'} {d['bloc']}"
        gain = d.get("economic_gain_pct", d.get("applicant_gain_pct"))
        if gain is not None:
            text += f": economic gain {gain:+.2f} %"
        if d.get("political_term_pct") is not None:
            text += f" + political term {d['political_term_pct']:+.2f} %"
        if d.get("score_pct") is not None and d.get("threshold_pct") is not None:
            sign = "≥" if d["score_pct"] >= d["threshold_pct"] else "<"
            text += f" = {d['score_pct']:+.2f} % {sign} threshold {d['threshold_pct']:+.2f} %"
        if d.get("new_preferential_pairs") == 0:
            text += " (no new preferences: agreements with every member already)"
        lines.append(text)
    return lines


def pending_changes(draft: dict, applied: dict, spec: dict) -> list[str]:
    """Controls whose value differs from the running model's: 'label: new (now old)'."""
    return [f"{spec[k]['label']}: {draft[k]} (running: {applied[k]})" for k in spec
            if k in draft and draft[k] != applied.get(k)]


TABLE_HEADERS = [
    ("Country", "country"), ("Code", "iso3"),
    ("China % exp", "china_export_pct"), ("China % imp", "china_import_pct"),
    ("US % exp", "us_export_pct"), ("US % imp", "us_import_pct"),
    ("China Δ since start, pp", "china_change_pp"),
    ("China vs baseline, pp", "china_vs_baseline_pp"),
    ("US Δ since start, pp", "us_change_pp"), ("US vs baseline, pp", "us_vs_baseline_pp"),
]


@solara.component
def CountryTable(table: pd.DataFrame, on_select):
    """The sortable table of every economy; clicking a row selects the country."""
    items = [{k: (round(float(v), 2) if isinstance(v, float | np.floating) else v)
              for k, v in row.items()} for row in table.to_dict("records")]
    data_table = solara.v.DataTable(
        headers=[{"text": text, "value": value, "sortable": True} for text, value in TABLE_HEADERS],
        items=items, item_key="iso3", dense=True, items_per_page=-1, hide_default_footer=True,
        fixed_header=True, height="420px", class_="geosim-table", must_sort=False,
    )
    solara.v.use_event(data_table, "click:row", lambda *args: on_select(args[-1]["iso3"]))


@solara.component_vue("play_button.vue")
def PlayButton(playing: bool, disabled: bool, event_toggle: Callable[[int], None]):
    """▶ while paused, ❚❚ while playing; calls `event_toggle` with the year the page shows."""


@solara.component
def Page():
    """One page per browser session: its own run, its controls and the dashboard."""
    selected_scenario = solara.use_memo(initial_scenario, dependencies=[])
    spec = solara.use_memo(lambda: controls(scenario_choices(selected_scenario), selected_scenario,
                                            scenario_levers(load_scenario(selected_scenario))),
                           dependencies=[])
    defaults = {k: v["value"] for k, v in spec.items()}
    draft = solara.use_reactive(defaults)
    session = solara.use_reactive(solara.use_memo(lambda: Session.start(defaults), []))
    tick = solara.use_reactive(0)
    playing = solara.use_reactive(False)
    speed = solara.use_reactive(next(iter(SPEEDS)))
    country = solara.use_reactive(DEFAULT_COUNTRY)
    measure = solara.use_reactive(next(iter(MEASURES)))
    sector = solara.use_reactive(ALL_SECTORS)
    error = solara.use_reactive("")
    s = session.value
    model = s.model
    target = solara.use_reactive(model.end)
    _ = tick.value  # re-render after every step

    def refresh():
        tick.value += 1

    def do_step():
        with s.lock:
            s.step()
        refresh()

    def do_reset():
        playing.value = False
        try:
            session.value = Session.start(dict(draft.value))
        except (ScenarioError, ParameterError) as exc:  # e.g. an accession outside the horizon
            error.value = f"These settings cannot run: {exc}"
            return
        error.value = ""
        refresh()

    def do_play_pause(shown: int):
        """▶ / ❚❚; the page sends the year it shows, where Pause stops."""
        if playing.value:
            playing.value = False
            with s.lock:
                if s.back_to(int(shown)):
                    refresh()
        else:
            playing.value = True

    def do_run_to():
        with s.lock:
            while s.model.year < min(int(target.value), s.model.end):
                s.step()
        refresh()

    def play(cancel: threading.Event):
        if not playing.value:
            return
        interval = SPEEDS[speed.value]
        due = time.monotonic() + interval
        while not cancel.wait(max(due - time.monotonic(), 0.0)):
            due = time.monotonic() + interval  # the page's redraw is part of the interval
            with s.lock:
                if not playing.value or s.done:
                    break
                s.step(keep_previous=True)
            refresh()
        if s.done:
            playing.value = False

    solara.use_thread(play, dependencies=[playing.value, s, speed.value], intrusive_cancel=False)

    applied = s.settings
    pending = pending_changes(draft.value, applied, spec)
    scenario_name = model.scenario_spec.name
    solara.Title(f"geosim · {scenario_name} · {model.year}")
    solara.Style(CSS)
    with solara.Row(gap="0px", style={"align-items": "flex-start", "flex-wrap": "nowrap"}):
        with solara.Column(gap="4px", classes=["geosim-sidebar"]):
            with solara.Row(gap="10px", style={"align-items": "center"}):
                solara.Text("geosim", style={"font-size": "20px", "font-weight": "bold"})
                AboutDialog()  # in the sidebar, which stays on screen as the page scrolls
            with solara.Row(gap="6px"):
                solara.Button("Reset", color="warning" if pending else "primary",
                              on_click=do_reset, small=True)
                solara.Button("Step", color="primary", on_click=do_step, small=True,
                              disabled=playing.value or s.done)
                PlayButton(playing=playing.value, disabled=s.done and not playing.value,
                           event_toggle=do_play_pause)
            with solara.Row(gap="6px", style={"align-items": "center"}):
                solara.InputInt("Run to year", value=target, continuous_update=True,
                                style={"max-width": "110px"})
                solara.Button("Run to", on_click=do_run_to, small=True, outlined=True,
                              disabled=playing.value)
            solara.Select("Play speed", values=list(SPEEDS), value=speed)
            solara.Text("Step: one year. ▶ plays, ❚❚ stops on the year shown. Reset starts a "
                        "new run in the first year with the settings below.",
                        style={"font-size": "12px", "color": "#555"})

            def on_change(name, value):
                if name == "scenario_name" and value != draft.value[name]:
                    # the sliders show the chosen scenario's own policies (the seed stays)
                    written = lever_values(scenario_levers(load_scenario(value)))
                    draft.value = {**draft.value, name: value, **written}
                else:
                    draft.value = {**draft.value, name: value}

            UserInputs({k: {**v, "value": draft.value[k]} for k, v in spec.items()},
                       on_change=on_change)
            # below the sliders, in a container that is always there: a notice appearing during
            # a drag must neither move the sliders nor make Solara draw them anew
            with solara.Column(gap="2px", classes=["geosim-notices"]):
                if error.value:
                    solara.Error(error.value, classes=["geosim-error"])
                if pending:
                    solara.Text("Not applied until Reset: " + "; ".join(pending),
                                classes=["geosim-pending"])
        with solara.Column(gap="6px", classes=["geosim-main"]):
            Dashboard(s, tick.value, country.value, country.set, measure, sector, pending)


@solara.component
def Dashboard(s: Session, tick: int, country: str, set_country, measure: solara.Reactive,
              sector: solara.Reactive, pending: list):
    """Header, map, charts, table, money, decisions and the explanation panel.

    `tick` counts the page's steps: the session is changed in place, so it is what tells the
    component to draw again. `sector` is the picker's label: the map's colours and links and
    the table show that sector's trade ("All sectors": all trade).
    """
    model, baseline = s.model, s.baseline
    world = model.world
    names = dict(zip(world.iso3, world.name, strict=True))
    if country not in names:
        country = DEFAULT_COUNTRY
    label = sector.value if sector.value in s.choices else ALL_SECTORS  # e.g. after a Reset
    code = s.sector_of(label)
    key = [s, model, model.year, tick]
    png = solara.use_memo(lambda: s.renderer_for(code).png(map_data(model, code),
                                                           selected=country),
                          dependencies=[*key, country, code])
    table = solara.use_memo(lambda: country_table(model, baseline, MEASURES[measure.value],
                                                  s.first_shares[code], code),
                            dependencies=[*key, measure.value, code])
    frames = solara.use_memo(lambda: (model.countries_frame(), baseline.countries_frame()),
                             dependencies=key)
    span = (model.start, model.end)
    markers = solara.use_memo(lambda: event_markers(model), dependencies=[s, model])

    def charts():
        run, base = frames
        one = share_chart(run[run["iso3"] == country], base[base["iso3"] == country],
                          title=f"{names[country]}: share of its trade", span=span,
                          markers=markers, css_class="geosim-chart-country")
        region = share_chart(model.region_frame(), baseline.region_frame(),
                             title="Latin America & Caribbean: share of its trade", span=span,
                             markers=markers, css_class="geosim-chart-region")
        return one, region

    one, region = solara.use_memo(charts, dependencies=[*key, country])
    money = solara.use_memo(lambda: money_chart(model), dependencies=key)

    with solara.Row(gap="14px", style={"align-items": "baseline", "flex-wrap": "wrap"}):
        solara.Text(str(model.year), classes=["geosim-year"],
                    style={"font-size": "28px", "font-weight": "bold"})
        solara.Text(f"geosim · {model.scenario_spec.name}", classes=["geosim-title"],
                    style={"font-size": "18px", "font-weight": "bold"})
        solara.Text(model.scenario_spec.description, style={"color": "#555"})
    solara.Text(headline(model, baseline), classes=["geosim-outcome"],
                style={"font-size": "14px"})
    solara.Text(f"This run: {describe(model.scenario_spec, model.levers)} · seed {model.seed}"
                + (" · settings changed, press Reset to apply" if pending else ""),
                classes=["geosim-levers"], style={"color": "#555", "font-size": "12px"})
    with solara.Row(gap="8px", style={"flex-wrap": "nowrap", "align-items": "flex-start"}):
        solara.Image(png, width="560px", classes=["geosim-map"])
        with solara.Column(gap="2px"):
            # the two pickers on one line, as wide as the charts: the map keeps its place
            with solara.Row(gap="10px", style={"flex-wrap": "nowrap", "width": "440px"}):
                half = {"flex": "1 1 0", "min-width": "0"}
                solara.Select("Sector in the map and table", values=list(s.choices),
                              value=label, on_value=sector.set, style=half)
                solara.Select("Country in the charts (or click a row)",
                              values=sorted(names.values()), value=names[country],
                              on_value=lambda n: set_country({v: k for k, v in names.items()}[n]),
                              style=half)
            solara.HTML(tag="div", unsafe_innerHTML=one)
            solara.HTML(tag="div", unsafe_innerHTML=region)
    with solara.Row(gap="8px", style={"flex-wrap": "wrap", "align-items": "flex-start"}):
        with solara.Column(gap="2px", style={"flex": "1 1 560px", "min-width": "0"}):
            with solara.Row(gap="8px", style={"align-items": "center"}):
                trade = "" if code is None else f", trade in {label}"
                solara.Text(f"Every economy in {model.year}{trade} (click a header to sort, a "
                            "row to chart it). Changes are in",
                            classes=["geosim-table-title"], style={"font-size": "13px"})
                solara.Select("", values=list(MEASURES), value=measure,
                              style={"max-width": "170px"})
                solara.FileDownload(
                    lambda: run_csv(model, baseline), filename=run_filename(model),
                    label="Download CSV", mime_type="text/csv")
            CountryTable(table, set_country)
        with solara.Column(gap="4px", style={"flex": "0 1 440px"}):
            solara.HTML(tag="div", unsafe_innerHTML=money)
            lines = decision_lines(model)
            with solara.Card("Accession decisions", margin=0, classes=["geosim-decisions"]):
                if not lines:
                    solara.Text("None yet.", style={"color": "#555"})
                for line in lines:
                    solara.Text(line, style={"display": "block", "font-size": "13px"})


@solara.component
def AboutDialog():
    """"About this model": the explanation panel opens over the page, in view on any screen
    (a panel at the bottom of the page opened below the fold of a laptop's)."""
    shown = solara.use_reactive(False)
    solara.Button("About this model", on_click=lambda: shown.set(True), small=True,
                  outlined=True, color="primary", classes=["geosim-about"])
    with solara.v.Dialog(v_model=shown.value, on_v_model=shown.set, max_width="980px",
                         scrollable=True):
        with solara.v.Card():
            solara.v.CardTitle(children=["About this model: what it is, the levers, the colours, "
                                         "the accession rule"])
            with solara.v.CardText(style_="max-height: 80vh"):
                # converted here: solara.Markdown would load KaTeX from a CDN
                solara.HTML(tag="div", unsafe_innerHTML=INFO_HTML, classes=["geosim-info"],
                            style="font-size: 14px; color: #222")
            with solara.v.CardActions(class_="justify-end"):
                solara.Button("Close", on_click=lambda: shown.set(False), text=True)
