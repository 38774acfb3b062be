"""Fast tests of the browser page's parts: drawing, levers, the per-session model, the CLI."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba

from geosim.plotting import maps as drawing
from geosim.plotting.maps import MapData, MapScale

# A small world: four Latin American economies, the US, China, the EU and the rest of the world.
ISO3 = ("BRA", "MEX", "CHL", "JAM", "USA", "CHN", "EUU", "ROW")
LON = np.array([-47.9, -99.1, -70.7, -76.8, -77.0, 116.4, 4.4, np.nan])
LAT = np.array([-15.8, 19.4, -33.4, 18.0, 38.9, 39.9, 50.8, np.nan])
LAC = np.array([True, True, True, True, False, False, False, False])
GDP = np.array([2.2, 1.8, 0.34, 0.02, 27.0, 17.8, 18.0, 30.0]) * 1e12


def flows(seed: int = 0) -> np.ndarray:
    """Gravity-like random flows with domestic sales on the diagonal."""
    rng = np.random.default_rng(seed)
    x = np.outer(GDP, GDP) / 1e13 * rng.uniform(0.5, 1.5, (len(ISO3), len(ISO3)))
    np.fill_diagonal(x, GDP)
    return x


def map_data(year: int = 2023, china_share: np.ndarray | None = None) -> MapData:
    share = np.linspace(0.05, 0.4, len(ISO3)) if china_share is None else china_share
    return MapData(year, ISO3, LON, LAT, LAC, GDP, share, flows())


# -- drawing ---------------------------------------------------------------------------------


def test_layout_keeps_the_americas_and_parks_others_on_the_margins():
    xy = drawing.layout(ISO3, LON, LAT, GDP)
    americas = [ISO3.index(c) for c in ("BRA", "MEX", "CHL", "JAM", "USA")]
    assert np.allclose(xy[americas], np.column_stack([LON, LAT])[americas])
    assert xy[ISO3.index("CHN"), 0] == drawing.WEST_MARGIN_LON  # across the Pacific
    assert xy[ISO3.index("EUU"), 0] == drawing.EAST_MARGIN_LON  # across the Atlantic
    assert xy[ISO3.index("ROW"), 0] == drawing.EAST_MARGIN_LON  # no coordinates
    assert np.isfinite(xy).all()
    east = xy[[ISO3.index("EUU"), ISO3.index("ROW")], 1]
    assert east[0] != east[1]  # distinct slots, the bigger economy (ROW) first
    assert xy[ISO3.index("ROW"), 1] == drawing.MARGIN_SLOTS_LAT[0]


def test_trade_edges_are_two_way_flows_touching_latin_america_largest_first():
    x = flows()
    pairs, values = drawing.trade_edges(x, LAC, top=100)
    assert (pairs[:, 0] < pairs[:, 1]).all()
    assert LAC[pairs].any(axis=1).all()
    assert np.allclose(values, x[pairs[:, 0], pairs[:, 1]] + x[pairs[:, 1], pairs[:, 0]])
    assert (np.diff(values) <= 0).all()
    n_lac, n = LAC.sum(), len(ISO3)
    assert len(pairs) == n_lac * (n_lac - 1) // 2 + n_lac * (n - n_lac)  # every such pair
    assert len(drawing.trade_edges(x, LAC, top=3)[0]) == 3


def test_node_sizes_grow_with_gdp_and_stay_visible():
    sizes = drawing.node_sizes(GDP, GDP.max())
    assert (np.diff(sizes[np.argsort(GDP)]) > 0).all()
    assert sizes.min() > 14


def test_trade_map_highlights_china_and_us_links_and_has_a_colour_bar():
    data = map_data(2031)
    fig = drawing.map_figure(data, MapScale.from_base(data, 0.17), selected="CHL",
                             subtitle="pivot")
    ax = fig.axes[0]
    assert ax.get_title(loc="left").startswith("2031")
    assert "pivot" in ax.get_title(loc="left")
    colours = {tuple(np.round(c.get_colors()[0][:3], 3)) for c in ax.collections
               if isinstance(c, LineCollection)}
    for colour in (drawing.CHINA_COLOUR, drawing.US_COLOUR):
        assert tuple(np.round(to_rgba(colour)[:3], 3)) in colours
    assert len(fig.axes) == 2  # the map and its colour bar
    assert "China's share" in fig.axes[1].get_ylabel()
    labels = {t.get_text() for t in ax.texts}
    assert {"CHN", "USA", "CHL"} <= labels
    png = io.BytesIO()
    fig.savefig(png, format="png")
    assert png.getvalue()[:4] == b"\x89PNG"


def test_colour_scale_is_diverging_around_the_reference_share():
    data = map_data()
    scale = MapScale.from_base(data, centre=0.2)
    fig = drawing.map_figure(data, scale)
    lac_nodes = next(c for c in fig.axes[0].collections if c.get_array() is not None)
    norm = lac_nodes.norm
    assert norm(0.2) == pytest.approx(0.5)  # white at the reference
    assert norm(0.0) == 0 and norm(drawing.SHARE_MAX) == 1


def test_map_scale_references_the_base_year():
    data = map_data()
    scale = MapScale.from_base(data, centre=0.17)
    assert scale.gdp_ref == GDP.max()
    assert scale.flow_ref == drawing.trade_edges(data.flows, LAC)[1].max()
    assert scale.centre == 0.17


def test_charts_show_the_shares_and_top_partner_counts_on_the_run_span():
    years = [2023, 2024, 2025]
    region = pd.DataFrame({"year": years, "china_trade_share": [0.17, 0.18, 0.2],
                           "us_trade_share": [0.4, 0.39, 0.37],
                           "n_top_partner_china_exports": [5, 6, 7],
                           "n_top_partner_china_imports": [8, 8, 9]})
    country = region.assign(china_trade_share=[0.3, 0.31, 0.33], us_trade_share=[.1, .1, .1])
    fig = drawing.charts_figure(region, country, country_name="Chile", span=(2023, 2040),
                                n_countries=33)
    shares, chile, top = fig.axes
    assert shares.get_xlim() == (2022.5, 2040.5)
    assert list(shares.lines[0].get_ydata()) == [0.17, 0.18, 0.2]
    assert list(chile.lines[0].get_ydata()) == [0.3, 0.31, 0.33]
    assert "Chile" in chile.get_title(loc="left")
    assert top.get_ylim() == (0, 33)
    assert list(top.lines[0].get_ydata()) == [5, 6, 7]


def test_the_shipped_outline_covers_the_americas():
    from geosim.plotting.outline import load_outline

    rings = load_outline()
    points = np.vstack(rings)
    assert len(rings) > 20
    assert points[:, 0].min() < -120 and points[:, 0].max() < 0  # western hemisphere
    assert points[:, 1].min() < -50 and points[:, 1].max() > 60  # Tierra del Fuego to Canada


# -- levers -----------------------------------------------------------------------------------


def events_by_id(scenario) -> dict:
    return {e.id: e for e in scenario.events if e.id}


def test_neutral_levers_leave_the_scenario_as_written():
    from geosim.scenario import load_scenario
    from geosim.viz.levers import Levers, apply_levers

    for name in ("baseline", "pivot", "usmca_expansion"):
        scenario = load_scenario(name)
        changed, parameters = apply_levers(scenario, Levers())
        assert [e.values for e in changed.events] == [e.values for e in scenario.events]
        assert parameters == {}


def test_usmca_levers_add_or_change_the_accession():
    from geosim.scenario import load_scenario
    from geosim.viz.levers import Levers, apply_levers

    added, _ = apply_levers(load_scenario("baseline"),
                            Levers(usmca_members="Chile, Colombia, Peru", usmca_year=2030))
    event = events_by_id(added)["usmca_accession"]
    assert (event.type, event.bloc, event.year) == ("bloc_accession", "USMCA", 2030)
    assert event.countries == ["CHL", "COL", "PER"] and event.decide
    moved, _ = apply_levers(load_scenario("usmca_expansion"), Levers(usmca_year=2031))
    event = events_by_id(moved)["usmca_accession"]
    assert event.year == 2031 and len(event.countries) == 7  # members as written


def test_money_tariff_and_parameter_levers():
    from geosim.scenario import load_scenario
    from geosim.viz.levers import Levers, apply_levers

    pivot, _ = apply_levers(load_scenario("pivot"), Levers(us_programme_bn=20))
    assert events_by_id(pivot)["us_programme"].budget_bn == 20
    baseline, parameters = apply_levers(
        load_scenario("baseline"),
        Levers(us_programme_bn=5, tariff_pp=50, china_lending_bn=10.0, sigma=6.0))
    events = events_by_id(baseline)
    assert events["us_programme"].budget_bn == 5 and events["us_programme"].investor == "us_public"
    tariff = events["page_us_china_tariff"]
    assert (tariff.change_pp, tariff.reciprocal, tariff.importers) == (50, True, ["USA"])
    assert parameters == {"china_lending_bn": 10.0, "sigma": 6.0}


def test_controls_match_the_model_keywords():
    import inspect

    from geosim.viz.app import ClassroomModel
    from geosim.viz.levers import controls

    spec = controls(["baseline", "pivot"], "pivot")
    assert set(spec) == set(inspect.signature(ClassroomModel.__init__).parameters) - {"self"}
    assert spec["scenario_name"]["value"] == "pivot"
    for name, control in spec.items():
        if control["type"].startswith("Slider"):
            assert control["min"] <= control["value"] <= control["max"], name


# -- the page's model and readouts ---------------------------------------------------------------


def test_classroom_model_runs_the_levers_and_the_page_reads_it():
    from geosim.viz import app

    model = app.ClassroomModel("baseline", usmca_members="Chile, Colombia, Peru",
                               usmca_year=2025, seed=3)
    assert model.year == 2023 and model.levers.usmca_year == 2025
    scale = app.map_scale(model)
    model.step()
    model.step()
    data = app.map_data(model)
    assert data.year == 2025 and data.flows.shape == (len(data.iso3),) * 2
    assert data.usmca[list(data.iso3).index("MEX")]
    assert 0 < scale.centre < 0.5
    assert "Latin America & Caribbean: China" in app.headline(model)
    lines = app.decision_lines(model)
    assert len(lines) == 3 and all(line.startswith("2025: ") for line in lines)
    fig = drawing.map_figure(data, scale, selected="CHL", subtitle=model.scenario_spec.name)
    assert fig.axes[0].get_title(loc="left").startswith("2025")


def test_two_page_models_do_not_share_state():
    from geosim.viz.app import ClassroomModel

    a, b = ClassroomModel("baseline"), ClassroomModel("baseline")
    a.step()
    assert (a.year, b.year) == (2024, 2023)
    assert a.flows is not b.flows and a.world is b.world  # the read-only world is shared


# -- the command line ----------------------------------------------------------------------------


def test_cli_rejects_a_bad_scenario_with_exit_code_2(capsys, tmp_path):
    from geosim.cli import main

    bad = tmp_path / "bad.yaml"
    bad.write_text("description: x\nstatus: maybe\nsources: [a]\n")
    assert main(["viz", "--scenario", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "status" in err and "Traceback" not in err


def test_cli_serves_on_loopback_offline_by_default():
    from geosim.cli import build_parser, viz

    args = build_parser().parse_args(["viz"])
    assert (args.host, args.port, args.handler) == ("127.0.0.1", 8765, viz.main)
    command = viz.server_command(args.host, args.port)
    assert command[command.index("--host") + 1] == "127.0.0.1"
    assert "--no-check-version" in command  # no version check against the package index
    env = viz.server_env("pivot")
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"
    assert env["SOLARA_ASSETS_CDN"].startswith("http://127.0.0.1:")
    assert env[viz.SCENARIO_ENV] == "pivot"
