"""The SolaraViz page served by `geosim viz`: map, live charts and levers over a `GeoModel`.

Owns `ClassroomModel` and the page's components; each session builds its own model in `Page`.
"""

from __future__ import annotations

import os

import numpy as np
import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from geosim.model import GeoModel
from geosim.plotting.maps import MapData, MapScale, charts_figure, map_figure
from geosim.scenario import list_scenarios, load_scenario
from geosim.viz.levers import AS_WRITTEN, Levers, apply_levers, controls, describe

SCENARIO_ENV = "GEOSIM_VIZ_SCENARIO"  # set by `geosim viz --scenario FILE`
DEFAULT_SCENARIO = "baseline"
DEFAULT_COUNTRY = "BRA"
PLAY_INTERVAL_MS = 301  # on the grid of SolaraViz's play-interval slider (1, 11, 21, ...)
DPI = 100
# SolaraViz's sliders do not print their value: show it (the thumb's aria-valuenow) above it.
CSS = """
.v-input__slider .v-slider__thumb-container::after {
    content: attr(aria-valuenow); position: absolute; top: -21px; left: 0;
    transform: translateX(-50%); font-size: 11px; color: #1565c0; white-space: nowrap;
}
.v-input__slider { margin-top: 10px; }
"""
HELP = ("Move the controls in the sidebar, then press Reset: a new run starts in "
        "2023 with them. Step advances one year; ▶ plays. Each browser tab has its own run.")


class ClassroomModel(GeoModel):
    """A `GeoModel` whose scenario is a shipped one changed by the page's levers.

    SolaraViz's Reset calls this class with the control values as keyword arguments (see
    `geosim.viz.levers.controls`); the levers reach the model only through its constructor.
    """

    def __init__(
        self,
        scenario_name: str = DEFAULT_SCENARIO,
        usmca_members: str = AS_WRITTEN,
        usmca_year: int = Levers.usmca_year,
        us_programme_bn: float = Levers.us_programme_bn,
        china_lending_bn: float = Levers.china_lending_bn,
        tariff_pp: int = Levers.tariff_pp,
        sigma: float = Levers.sigma,
        seed: int = 0,
    ):
        self.levers = Levers(usmca_members, int(usmca_year), float(us_programme_bn),
                             float(china_lending_bn), int(tariff_pp), float(sigma))
        scenario, parameters = apply_levers(load_scenario(scenario_name), self.levers)
        super().__init__(scenario, parameters=parameters, seed=int(seed))
        self.seed = int(seed)


def initial_scenario() -> str:
    """The scenario the page opens with: `geosim viz --scenario`, else the baseline."""
    return os.environ.get(SCENARIO_ENV) or DEFAULT_SCENARIO


def scenario_choices(selected: str) -> list[str]:
    """The picker's entries: the shipped scenarios' names, plus `selected` if it is a file."""
    names = [s.name for s in list_scenarios()]
    return names if selected in names else [*names, selected]


def map_data(model: GeoModel) -> MapData:
    """The current year's map data, read from the model's public outcomes."""
    world = model.world
    metrics = model.country_metrics().loc[list(world.iso3)]
    return MapData(year=model.year, iso3=tuple(world.iso3), lon=np.asarray(world.lon),
                   lat=np.asarray(world.lat), is_lac=np.asarray(world.is_lac, dtype=bool),
                   gdp=metrics["gdp"].to_numpy(float),
                   china_share=metrics["china_trade_share"].to_numpy(float),
                   flows=np.asarray(model.flows), usmca=usmca_mask(model))


def usmca_mask(model: GeoModel) -> np.ndarray:
    """Mask of the current USMCA members (read from the model's trade-bloc agent)."""
    bloc = model.blocs.get("USMCA")
    members = bloc.members if bloc is not None else {}
    return np.array([iso in members for iso in model.world.iso3])


def map_scale(model: GeoModel) -> MapScale:
    """References fixed at the model's first recorded year (sizes, widths, colour centre)."""
    first = model.countries_frame()
    first = first[first["year"] == model.start].set_index("iso3").loc[list(model.world.iso3)]
    base = MapData(year=model.start, iso3=tuple(model.world.iso3), lon=model.world.lon,
                   lat=model.world.lat, is_lac=np.asarray(model.world.is_lac, dtype=bool),
                   gdp=first["gdp"].to_numpy(float),
                   china_share=first["china_trade_share"].to_numpy(float),
                   flows=np.asarray(model.world.flows))
    centre = float(model.region_frame()["china_trade_share"].iloc[0])
    return MapScale.from_base(base, centre)


def headline(model: GeoModel) -> str:
    """One sentence of the current year's regional outcomes."""
    region = model.region_frame().iloc[-1]
    n = int(np.sum(model.world.is_lac))
    return (f"Latin America & Caribbean: China {region['china_trade_share']:.1%} and the US "
            f"{region['us_trade_share']:.1%} of trade. China is the top export market of "
            f"{int(region['n_top_partner_china_exports'])} and the top import source of "
            f"{int(region['n_top_partner_china_imports'])} of {n} countries.")


def decision_lines(model: GeoModel) -> list[str]:
    """Accession decisions so far, one readable line each."""
    names = dict(zip(model.world.iso3, model.world.name, strict=True))
    lines = []
    for d in model.decisions:
        if d.get("imposed"):
            verdict = "joined (imposed)"
        elif d.get("joined"):
            verdict = "joined"
        elif not d.get("members_ok", True):
            verdict = "was refused by a member"
        else:
            verdict = "declined"
        gain = d.get("applicant_gain_pct")
        tail = f" (its welfare gain: {gain:+.2f} %)" if gain is not None else ""
        lines.append(f"{d['year']}: {names.get(d['country'], d['country'])} {verdict} "
                     f"{d['bloc']}{tail}")
    return lines


@solara.component
def Dashboard(model: ClassroomModel):
    """Headline, trade map, charts with a country picker, and accession decisions."""
    update_counter.get()  # re-render when SolaraViz steps the model
    world = model.world
    lac = {iso: name for iso, name, is_lac in zip(world.iso3, world.name, world.is_lac,
                                                  strict=True) if is_lac}  # iso3 -> name
    by_name = {name: iso for iso, name in lac.items()}
    country, set_country = solara.use_state(DEFAULT_COUNTRY if DEFAULT_COUNTRY in lac
                                            else next(iter(lac)))
    scale = solara.use_memo(lambda: map_scale(model), dependencies=[model])
    key = [model, model.year, country]

    def draw_map():
        return map_figure(map_data(model), scale, selected=country,
                          subtitle=model.scenario_spec.name)

    def draw_charts():
        frame = model.countries_frame()
        return charts_figure(model.region_frame(), frame[frame["iso3"] == country],
                             country_name=lac[country], span=(model.start, model.end),
                             n_countries=len(lac))

    map_fig = solara.use_memo(draw_map, dependencies=key)
    charts_fig = solara.use_memo(draw_charts, dependencies=key)

    with solara.Column(gap="8px", style={"padding": "4px 12px"}):
        with solara.Row(gap="16px", style={"align-items": "baseline"}):
            solara.Text(str(model.year), classes=["geosim-year"],
                        style={"font-size": "28px", "font-weight": "bold"})
            solara.Text(f"{model.scenario_spec.name}: {model.scenario_spec.description}",
                        style={"color": "#555"})
        solara.Text(headline(model), classes=["geosim-outcome"], style={"font-size": "15px"})
        with solara.Columns([3, 2], gutters_dense=True):
            solara.FigureMatplotlib(map_fig, dependencies=key, format="png", dpi=DPI)
            with solara.Column(gap="0px"):
                solara.Select("Country in the middle chart", values=list(by_name),
                              value=lac[country], on_value=lambda n: set_country(by_name[n]))
                solara.FigureMatplotlib(charts_fig, dependencies=key, format="png", dpi=DPI)
        solara.Text(f"This run: {describe(model.levers)} · seed {model.seed}",
                    classes=["geosim-levers"], style={"color": "#555", "font-size": "13px"})
        solara.Text(HELP, style={"color": "#555", "font-size": "13px"})
        lines = decision_lines(model)
        if lines:
            with solara.Card("Accession decisions", margin=0):
                for line in lines:
                    solara.Text(line, style={"display": "block"})


@solara.component
def Page():
    """One page per browser session: its own model, SolaraViz controls and the dashboard."""
    selected = solara.use_memo(initial_scenario, dependencies=[])
    first = solara.use_memo(lambda: ClassroomModel(scenario_name=selected), dependencies=[])
    model = solara.use_reactive(first)
    params = solara.use_memo(lambda: controls(scenario_choices(selected), selected),
                             dependencies=[])
    solara.Style(CSS)
    SolaraViz(model, components=[], model_params=params, play_interval=PLAY_INTERVAL_MS,
              name="geosim: trade and investment in the Americas")
    Dashboard(model.value)
