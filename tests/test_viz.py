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
    texts = {t.get_text() for t in ax.texts}
    assert "2031  ·  pivot" in texts
    colours = {tuple(np.round(c.get_colors()[0][:3], 3)) for c in ax.collections
               if isinstance(c, LineCollection) and len(c.get_colors())}
    for colour in (drawing.CHINA_COLOUR, drawing.US_COLOUR):
        assert tuple(np.round(to_rgba(colour)[:3], 3)) in colours
    assert len(fig.axes) == 2  # the map and its colour bar
    assert "China's share" in fig.axes[1].get_ylabel()
    assert set(ISO3) <= texts  # every economy is labelled
    bold = [t.get_text() for t in ax.texts if t.get_fontweight() == "bold"]
    assert "CHL" in bold and "BRA" not in bold
    png = io.BytesIO()
    fig.savefig(png, format="png")
    assert png.getvalue()[:4] == b"\x89PNG"


def test_colour_scale_is_even_and_the_legend_states_the_region_share():
    data = map_data()
    fig = drawing.map_figure(data, MapScale.from_base(data, region_share=0.1734))
    lac_nodes = next(c for c in fig.axes[0].collections if c.get_array() is not None)
    bounds = lac_nodes.norm.boundaries
    assert np.allclose(np.diff(bounds), drawing.SHARE_STEP)  # equal steps
    assert bounds[0] == 0 and bounds[-1] == pytest.approx(drawing.SHARE_MAX)
    assert lac_nodes.norm(0.04) != lac_nodes.norm(0.06)
    label = fig.axes[1].get_ylabel()
    assert "17.3%" in label and "2023" in label and "trade-weighted" in label


def test_map_scale_references_the_base_year():
    data = map_data()
    scale = MapScale.from_base(data, region_share=0.17)
    assert scale.gdp_ref == GDP.max()
    assert scale.flow_ref == drawing.trade_edges(data.flows, LAC)[1].max()
    assert scale.region_share == 0.17 and scale.base_year == 2023
    assert scale.base_gdp == tuple(GDP)


def square_positions(fig) -> np.ndarray:
    boxes = next(c for c in fig.axes[0].collections if c.get_array() is None
                 and len(c.get_offsets()) == 2)  # the EU and the rest of the world
    return np.asarray(boxes.get_offsets())


def test_margin_boxes_keep_their_places_when_gdp_ranks_change():
    base = map_data()
    scale = MapScale.from_base(base, 0.17)
    swapped = GDP.copy()
    swapped[[ISO3.index("EUU"), ISO3.index("ROW")]] = GDP[[ISO3.index("ROW"), ISO3.index("EUU")]]
    later = MapData(2030, ISO3, LON, LAT, LAC, swapped, base.china_share, flows())
    first = square_positions(drawing.map_figure(base, scale))
    second = square_positions(drawing.map_figure(later, scale))
    assert np.array_equal(first, second)


def test_labels_overlap_neither_each_other_nor_markers():
    rng = np.random.default_rng(1)
    points = rng.uniform(0, 120, (25, 2))  # a crowded archipelago
    radii = rng.uniform(2, 6, 25)
    widths = np.full(25, 16.0)
    centres, leader = drawing.place_labels(points, radii, widths, 8.0, (-200, -200, 320, 320))
    boxes = np.column_stack([centres - [9, 5], centres + [9, 5]])
    for i in range(25):
        for j in range(25):
            if i != j:  # label-label and label-marker
                assert (boxes[i, 2] <= boxes[j, 0] or boxes[j, 2] <= boxes[i, 0]
                        or boxes[i, 3] <= boxes[j, 1] or boxes[j, 3] <= boxes[i, 1])
                gap = np.abs(centres[i] - points[j]) - [8, 4] - radii[j]
                assert (gap >= -1e-9).any()
    assert leader.any()  # some labels had to move away
    alone = drawing.place_labels(np.array([[0.0, 0.0]]), np.array([3.0]), np.array([16.0]),
                                 8.0, (-100, -100, 100, 100))
    assert not alone[1][0] and alone[0][0][0] > 3  # right of its marker, no leader


def test_map_renderer_draws_each_year_on_the_cached_background():
    base = map_data(2023)
    renderer = drawing.MapRenderer(base, MapScale.from_base(base, 0.17), subtitle="pivot")
    artists = len(renderer.ax.get_children())
    first = renderer.png(base, selected="BRA")
    later = renderer.png(map_data(2030, np.linspace(0.4, 0.05, len(ISO3))), selected="BRA")
    assert first[:4] == later[:4] == b"\x89PNG" and first != later
    assert renderer.png(base, selected="BRA") == first  # nothing left over from other years
    assert len(renderer.ax.get_children()) == artists


# -- SVG charts ---------------------------------------------------------------------------------


def svg(text: str):
    import xml.etree.ElementTree as ET

    return ET.fromstring(text)


NS = "{http://www.w3.org/2000/svg}"


def test_line_chart_zooms_to_the_data_and_carries_hover_values_and_events():
    from geosim.plotting.svg import Marker, Series, line_chart, y_range

    years = [2023, 2024, 2025]
    series = [Series("China", years, [0.171, 0.174, 0.176], "#c62828"),
              Series("China, baseline", years, [0.171, 0.172, 0.172], "#c62828", dashed=True)]
    assert y_range(series)[0] > 0.16 and y_range(series)[1] < 0.18  # zoomed, not 0-50 %
    root = svg(line_chart(series, title="Chile", span=(2023, 2040),
                          markers=[Marker(2025, "tariff"), Marker(2026, "china response"),
                                   Marker(2039, "late")]))
    titles = [t.text for t in root.iter(f"{NS}title")]
    assert "China 2025: 17.60%" in titles and "China, baseline 2024: 17.20%" in titles
    assert sum(1 for p in root.iter(f"{NS}polyline") if p.get("stroke-dasharray")) == 1
    events = [g for g in root.iter(f"{NS}g") if g.get("class") == "geosim-event"]
    assert len(events) == 3
    rows = [float(g.find(f"{NS}text").get("y")) for g in events]
    assert rows[0] != rows[1]  # close events are stacked, not overprinted
    ticks = [t.text for t in root.iter(f"{NS}text") if t.text and t.text.endswith("%")]
    assert ticks and "0%" not in ticks


def test_stacked_bars_have_a_bar_per_segment_with_values():
    from geosim.plotting.svg import stacked_bars

    root = svg(stacked_bars(["BRA", "MEX"], [("US", "#00f", [10.0, 20.0]),
                                             ("China", "#f00", [5.0, 0.0])], title="money"))
    bars = [r for r in root.iter(f"{NS}rect") if r.get("class") == "geosim-bar"]
    assert len(bars) == 3  # a zero segment is not drawn
    assert bars[0].find(f"{NS}title").text == "BRA, US: 10.0 bn USD"
    assert float(bars[2].get("width")) == pytest.approx(2 * float(bars[0].get("width")))


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


def test_levers_at_the_scenarios_own_values_leave_it_as_written():
    from geosim.scenario import list_scenarios, load_scenario
    from geosim.viz.levers import apply_levers, scenario_levers

    for name in [s.name for s in list_scenarios()]:
        scenario = load_scenario(name)
        changed, parameters = apply_levers(scenario, scenario_levers(scenario))
        assert [e.values for e in changed.events] == [e.values for e in scenario.events], name
        assert parameters == {}, name


def test_the_sliders_start_at_the_scenarios_own_policies():
    from geosim.scenario import load_scenario
    from geosim.viz.levers import Levers, scenario_levers

    pivot = scenario_levers(load_scenario("pivot"))  # $10 bn programme, lending x5 from 2026
    assert (pivot.us_programme_bn, pivot.china_lending_bn, pivot.usmca_year) == (10, 5, 2027)
    assert scenario_levers(load_scenario("baseline")) == Levers()
    counter = scenario_levers(load_scenario("china_counteroffer"))
    assert (counter.china_lending_bn, counter.us_programme_bn) == (5, 0)
    history = scenario_levers(load_scenario("history_2012_2023"))
    assert history.china_lending_bn == pytest.approx(0.813)  # its last yearly figure (2022)


def budget(model, year: int, investor: str = "china_policy_banks") -> float:
    model.run(until=year)
    return model.investors[investor].budget_bn


def test_a_lever_sets_the_value_it_shows():
    """Pivot's x5 does not multiply the slider: lending 20 is $20 bn/yr, a programme of 1 is
    $1 bn/yr (issue 20)."""
    from geosim.model import GeoModel
    from geosim.scenario import load_scenario
    from geosim.viz.levers import Levers, apply_levers, describe

    pivot = load_scenario("pivot")
    as_written = GeoModel(pivot)
    assert (budget(as_written, 2025), budget(as_written, 2026)) == (1, 5)
    changed, _ = apply_levers(pivot, Levers(us_programme_bn=1, china_lending_bn=20))
    assert events_by_id(changed)["us_programme"].budget_bn == 1
    model = GeoModel(changed)
    assert (budget(model, 2025), budget(model, 2026)) == (1, 20)  # from pivot's year, 2026
    assert [p.budget_bn for p in model.investors["us_public"].programmes] == [1]
    line = describe(changed, Levers(us_programme_bn=1, china_lending_bn=20))
    assert "US programme: $1 bn/yr 2025-2040" in line and "China lending $20 bn/yr from 2026" \
        in line
    assert "China lending $5 bn/yr from 2026" in describe(pivot, Levers())
    assert "US programme: $10 bn/yr 2025-2040" in describe(pivot, Levers())
    baseline = GeoModel(apply_levers(load_scenario("baseline"), Levers(china_lending_bn=10))[0])
    assert (budget(baseline, 2024), budget(baseline, 2025)) == (1, 10)  # a policy from 2025


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
    written = events_by_id(load_scenario("usmca_expansion"))["usmca_accession"].countries
    assert event.year == 2031 and event.countries == written  # applicants as written


def test_money_tariff_and_parameter_levers():
    from geosim.scenario import load_scenario
    from geosim.viz.levers import Levers, apply_levers

    pivot, _ = apply_levers(load_scenario("pivot"), Levers(us_programme_bn=20, china_lending_bn=5))
    assert events_by_id(pivot)["us_programme"].budget_bn == 20
    assert events_by_id(pivot)["china_response"].factor == 5  # as written
    baseline, parameters = apply_levers(
        load_scenario("baseline"),
        Levers(us_programme_bn=5, tariff_pp=50, china_lending_bn=10.0, sigma=6.0))
    events = events_by_id(baseline)
    assert events["us_programme"].budget_bn == 5 and events["us_programme"].investor == "us_public"
    tariff = events["page_us_china_tariff"]
    assert (tariff.change_pp, tariff.reciprocal, tariff.importers) == (50, True, ["USA"])
    lending = events["page_china_lending"]
    assert (lending.investor, lending.budget_bn, lending.year) == ("china_policy_banks", 10.0, 2025)
    assert parameters == {"sigma": 6.0}


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
    model.step()
    model.step()
    data = app.map_data(model)
    assert data.year == 2025 and data.flows.shape == (len(data.iso3),) * 2
    assert data.usmca[list(data.iso3).index("MEX")]
    assert "Latin America & Caribbean: China" in app.headline(model)
    lines = app.decision_lines(model)
    assert len(lines) == 3 and all(line.startswith("2025: ") for line in lines)
    assert all("economic gain" in line for line in lines)


def session(scenario: str = "pivot", **levers):
    from geosim.scenario import load_scenario
    from geosim.viz import app
    from geosim.viz.levers import controls, scenario_levers

    written = scenario_levers(load_scenario(scenario))
    settings = {k: v["value"] for k, v in controls([scenario], scenario, written).items()}
    return app.Session.start({**settings, **levers})


def test_the_page_opens_on_the_scenario_as_written():
    from geosim.scenario import load_scenario
    from geosim.viz.app import ClassroomModel

    pivot = [e.values for e in load_scenario("pivot").events]
    for model in (session("pivot").model, ClassroomModel("pivot")):
        assert [e.values for e in model.scenario_spec.events] == pivot
        assert (model.levers.us_programme_bn, model.levers.china_lending_bn) == (10, 5)


def test_session_steps_the_baseline_in_sync_and_the_table_compares_them():
    from geosim.model import GeoModel
    from geosim.viz import app

    s = session("pivot")
    for _ in range(6):
        s.step()
    assert s.model.year == s.baseline.year == 2029
    assert not any(e.policy for e in s.baseline.scenario_spec.events)
    assert s.baseline.params == s.model.params
    steeper = session("pivot", sigma=7.0, seed=4)
    assert steeper.baseline.params == steeper.model.params and steeper.model.params["sigma"] == 7
    steeper.step()
    alone = GeoModel("baseline", parameters={**app.PAGE_PARAMETERS, "sigma": 7.0},
                     seed=4).run(until=2024)
    pd.testing.assert_frame_equal(steeper.baseline.country_metrics(), alone.country_metrics())
    table = app.country_table(s.model, s.baseline, "trade", s.first)
    assert len(table) == len(s.model.world.iso3)
    reference = GeoModel("baseline", parameters=app.PAGE_PARAMETERS,
                         seed=0).run(until=2029).country_metrics()
    now = s.model.country_metrics()
    row = table.set_index("iso3").loc["URY"]
    assert row["china_vs_baseline_pp"] == pytest.approx(
        100 * (now.loc["URY", "china_trade_share"] - reference.loc["URY", "china_trade_share"]))
    assert row["china_export_pct"] == pytest.approx(100 * now.loc["URY", "china_export_share"])
    assert row["china_change_pp"] == pytest.approx(
        100 * (now.loc["URY", "china_trade_share"] - s.first.loc["URY", "china_trade_share"]))
    exports = app.country_table(s.model, s.baseline, "export", s.first).set_index("iso3")
    assert exports.loc["URY", "us_vs_baseline_pp"] == pytest.approx(
        100 * (now.loc["URY", "us_export_share"] - reference.loc["URY", "us_export_share"]))
    same = session("baseline")
    same.step()
    assert (app.country_table(same.model, same.baseline)["china_vs_baseline_pp"] == 0).all()


def test_the_csv_holds_the_run_so_far_its_settings_and_shares_in_percent():
    from geosim.viz import app

    s = session("pivot", china_lending_bn=20.0, tariff_pp=50)
    for _ in range(3):
        s.step()
    frame = pd.read_csv(io.BytesIO(app.run_csv(s.model, s.baseline)))
    assert len(frame) == 4 * len(s.model.world.iso3)
    settings = ["scenario", "seed", "usmca_applicants", "usmca_year", "us_programme_bn_per_yr",
                "china_lending_bn_per_yr", "tariff_change_pp", "sigma"]
    assert list(frame.columns[:len(settings)]) == settings
    first = frame.iloc[0]
    assert (first["scenario"], first["seed"], first["usmca_applicants"], first["usmca_year"]) == (
        "pivot", 0, "BRB CHL COL CRI DOM ECU PAN PER URY", 2027)  # APEP minus USMCA
    assert (first["us_programme_bn_per_yr"], first["china_lending_bn_per_yr"],
            first["tariff_change_pp"], first["sigma"]) == (10, 20, 50, 5)
    assert not any(c.endswith("_share") or c.endswith("_share_baseline") for c in frame.columns)
    row = frame[(frame["year"] == 2026) & (frame["iso3"] == "CHL")].iloc[0]
    now, base = s.model.country_metrics().loc["CHL"], s.baseline.country_metrics().loc["CHL"]
    assert row["china_trade_share_pct"] == pytest.approx(100 * now["china_trade_share"], rel=1e-5)
    assert row["china_trade_share_baseline_pct"] == pytest.approx(
        100 * base["china_trade_share"], rel=1e-5)
    assert row["china_debt_gdp_pct"] == pytest.approx(100 * now["china_debt_gdp"], rel=1e-5)
    assert row["gdp_bn_usd"] == pytest.approx(now["gdp"] / 1e9, rel=1e-5)
    table = app.country_table(s.model, s.baseline, "trade", s.first).set_index("iso3")
    assert row["china_export_share_pct"] == pytest.approx(table.loc["CHL", "china_export_pct"],
                                                          rel=1e-5)  # the table's unit


def test_the_csv_file_is_named_by_the_runs_settings():
    from geosim.viz import app

    as_written = session("pivot")
    assert app.run_filename(as_written.model) == "geosim_pivot_seed0_2023-2023.csv"
    moved = session("pivot", china_lending_bn=20.0, us_programme_bn=1, tariff_pp=-20, seed=3,
                    usmca_members="Chile, Colombia, Peru", sigma=6.5)
    moved.step()
    assert app.run_filename(moved.model) == (
        "geosim_pivot_seed3_usmca-chl-col-per_programme1bn_lending20bn_tariff-20pp_sigma6.5_"
        "2023-2024.csv")
    other = session("baseline", usmca_members="seven (CHL COL PER CRI PAN DOM URY)",
                    usmca_year=2030)
    assert app.run_filename(other.model) == "geosim_baseline_seed0_usmca-seven_usmca2030_" \
                                            "2023-2023.csv"


def test_the_map_legend_uses_the_tables_trade_weighted_region_share():
    from geosim import metrics

    s = session("pivot")
    model = s.model
    share = metrics.region_metrics(np.asarray(model.world.flows), model.world.is_lac,
                                   model.americas, china=model.china, usa=model.usa,
                                   real_gdp=np.ones(len(model.world.iso3)),
                                   base_gdp=model.world.gdp)["china_trade_share"]
    assert s.renderer.scale.region_share == pytest.approx(share)
    assert f"{share:.1%}" in s.renderer.figure.axes[1].get_ylabel()
    first = model.country_metrics()
    lac = first.loc[list(model.world.lac)]
    gdp_weighted = (lac["china_trade_share"] * lac["gdp"]).sum() / lac["gdp"].sum()
    assert abs(gdp_weighted - share) > 0.005  # the other definition would show


def test_no_two_labels_overlap_on_the_real_map():
    from geosim.viz import app

    s = session("pivot")
    renderer = s.renderer
    renderer.png(app.map_data(s.model), selected="URY")
    texts = renderer.labels[:-1]
    assert sorted(t.get_text() for t in texts) == sorted(s.model.world.iso3)  # every economy
    boxes = [t.get_window_extent(renderer.canvas.get_renderer()) for t in texts]
    frame = renderer.ax.get_window_extent()
    assert all(frame.x0 <= b.x0 and b.x1 <= frame.x1 and frame.y0 <= b.y0 and b.y1 <= frame.y1
               for b in boxes)
    clashes = [(texts[i].get_text(), texts[j].get_text()) for i in range(len(boxes))
               for j in range(i + 1, len(boxes)) if boxes[i].overlaps(boxes[j])]
    assert clashes == []


def test_pause_goes_back_to_the_year_the_page_shows():
    s = session("baseline")
    s.step(keep_previous=True)
    s.step(keep_previous=True)  # 2025 computed while the page still shows 2024
    assert s.back_to(2024) and s.model.year == s.baseline.year == 2024
    assert not s.back_to(2023)  # one year at most
    s.step(keep_previous=True)
    assert not s.back_to(2025) and s.model.year == 2025  # the page shows what the run is at
    s.step()  # Step and Run to keep nothing to go back to
    assert not s.back_to(2025) and s.model.year == 2026


def test_decision_lines_say_each_number_once():
    from types import SimpleNamespace

    from geosim.viz import app

    world = SimpleNamespace(iso3=["CHL", "URY", "PER"], name=["Chile", "Uruguay", "Peru"])
    new = {"year": 2027, "bloc": "USMCA", "country": "CHL", "economic_gain_pct": 0.0,
           "political_term_pct": -0.05, "score_pct": -0.05, "threshold_pct": 0.0,
           "new_preferential_pairs": 0, "members_ok": True, "joined": False,
           "reason": "declined: economic gain +0.000 % + political term -0.050 % < threshold "
                     "+0.00 % (no new preferences: agreements with every member already; the "
                     "political term decides)"}
    old = {"year": 2027, "bloc": "USMCA", "country": "URY", "applicant_gain_pct": 0.7,
           "members_ok": True, "joined": True}
    refused = {"year": 2028, "bloc": "USMCA", "country": "PER", "economic_gain_pct": 0.3,
               "members_ok": False, "joined": False,
               "reason": "members refused (unanimity): MEX -0.120 % < -0.05 %"}
    lines = app.decision_lines(SimpleNamespace(world=world, decisions=[new, old, refused]))
    assert lines == [
        "2027: Chile declined USMCA: economic gain +0.00 % + political term -0.05 % = -0.05 % < "
        "threshold +0.00 % (no new preferences: agreements with every member already)",
        "2027: Uruguay joined USMCA: economic gain +0.70 %",
        "2028: Peru applied to USMCA: members refused (unanimity): MEX -0.120 % < -0.05 %"]
    for line in lines:  # nothing said twice
        assert line.count("economic gain") <= 1 and line.count("threshold") <= 1


def test_pending_changes_name_the_control_and_both_values():
    from geosim.viz.app import pending_changes
    from geosim.viz.levers import controls

    spec = controls(["baseline"], "baseline")
    applied = {k: v["value"] for k, v in spec.items()}
    assert pending_changes(applied, applied, spec) == []
    assert pending_changes({**applied, "tariff_pp": 100}, applied, spec) == [
        "US-China tariff, ±pp: 100 (running: 0)"]


def test_event_markers_label_the_scenarios_events():
    from geosim.viz import app

    labels = [(m.year, m.label) for m in app.event_markers(session("pivot").model)]
    assert labels == [(2025, "us programme"), (2026, "china response"),
                      (2027, "usmca accession")]
    tariff = session("baseline", tariff_pp=50).model
    assert [(m.year, m.label) for m in app.event_markers(tariff)] == [(2025, "us china tariff")]


def test_two_page_models_do_not_share_state():
    from geosim.viz.app import ClassroomModel

    a, b = ClassroomModel("baseline"), ClassroomModel("baseline")
    a.step()
    assert (a.year, b.year) == (2024, 2023)
    assert a.flows is not b.flows and a.world is b.world  # the read-only world is shared


# -- sectors -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stepped():
    """A page session of pivot two years on (the run and its baseline, by sector)."""
    s = session("pivot")
    s.step()
    s.step()
    return s


def test_sector_choices_are_all_trade_then_the_worlds_traded_sectors_by_name(stepped):
    from geosim.data.sectors import sector_map
    from geosim.model import GeoModel
    from geosim.viz.sectors import ALL_SECTORS, sector_choices

    model = stepped.model
    choices = sector_choices(model)
    assert list(choices.items())[0] == (ALL_SECTORS, None)
    names = dict(zip(sector_map().sector, sector_map().name, strict=True))
    world = model.world
    foreign = (world.sector_flows * (1 - np.eye(len(world.iso3)))[None]).sum(axis=(1, 2))
    traded = [code for code, value in zip(world.sectors, foreign, strict=True) if value > 0]
    assert list(choices.values())[1:] == traded  # in the world's order
    assert all(choices[names[code]] == code for code in traded)  # readable names
    assert "SRV" in world.sectors and "SRV" not in traded  # no cross-border services: no map
    assert len(traded) >= 5 and choices["Energy"] == "ENE"
    one = GeoModel("baseline", parameters={"engine_sectors": 0})
    assert sector_choices(one) == {ALL_SECTORS: None}
    assert stepped.choices == choices


def test_sector_shares_are_the_sector_tables_and_the_trade_share_formula(stepped):
    from geosim.viz.sectors import SHARES, region_china_share, sector_shares

    model = stepped.model
    iso3 = list(model.world.iso3)
    pd.testing.assert_frame_equal(sector_shares(model, None),
                                  model.country_metrics().loc[iso3, list(SHARES)])
    table = model.sectors_frame()  # what sectors.parquet holds
    for code in ("AGR", "ENE", "MIN"):
        shares = sector_shares(model, code)
        assert list(shares.index) == iso3 and list(shares.columns) == list(SHARES)
        rows = table[(table["year"] == model.year) & (table["sector"] == code)].set_index("iso3")
        economies = rows.loc[iso3]
        for column in ("china_export_share", "china_import_share", "us_export_share",
                       "us_import_share"):
            assert np.allclose(shares[column], economies[column], rtol=1e-12, atol=0), column
        for who in ("china", "us"):  # trade = exports and imports weighted by their size
            part = (economies[f"{who}_export_share"] * economies["exports"]
                    + economies[f"{who}_import_share"] * economies["imports"])
            expected = np.where(economies["exports"] + economies["imports"] > 0,
                                part / (economies["exports"] + economies["imports"]), 0.0)
            assert np.allclose(shares[f"{who}_trade_share"], expected, rtol=1e-10, atol=1e-15)
        region = rows.loc["LAC"]
        assert region_china_share(model, code) == pytest.approx(
            (region["china_export_share"] * region["exports"]
             + region["china_import_share"] * region["imports"])
            / (region["exports"] + region["imports"]), rel=1e-10)
    assert region_china_share(model, None) == model.region_frame()["china_trade_share"].iloc[-1]
    # the sectors add up to the world the all-trade view shows
    assert np.allclose(model.sector_flows().sum(axis=0), model.flows, rtol=1e-9)
    assert sector_shares(model, "ENE").loc["ECU", "china_export_share"] != pytest.approx(
        sector_shares(model, None).loc["ECU", "china_export_share"], abs=0.01)


def test_an_unknown_sector_or_a_one_sector_run_is_a_clear_error(stepped):
    from geosim.model import GeoModel
    from geosim.viz import app
    from geosim.viz.sectors import sector_shares

    with pytest.raises(ValueError, match=r"unknown sector 'OIL': the world's sectors are AGR, "):
        sector_shares(stepped.model, "OIL")
    one = GeoModel("baseline", parameters={"engine_sectors": 0})
    with pytest.raises(ValueError, match=r"one sector \(engine_sectors = 0\)"):
        sector_shares(one, "ENE")
    with pytest.raises(ValueError, match="unknown sector 'SRV'"):
        stepped.renderer_for("SRV")  # in the world, but not offered: not traded
    with pytest.raises(ValueError, match="first year's shares of 'ENE'"):
        app.country_table(stepped.model, stepped.baseline, sector="ENE")


def test_the_page_runs_by_sector_unless_its_scenario_says_otherwise(tmp_path):
    from geosim.scenario import scenario_dir
    from geosim.viz import app

    assert app.ClassroomModel("pivot").params["engine_sectors"] == 1
    text = (scenario_dir() / "baseline.yaml").read_text()
    one = tmp_path / "one_sector.yaml"
    one.write_text(text + "\nparameters:\n  engine_sectors: 0\n")
    s = app.Session.start({"scenario_name": str(one)})
    assert s.model.params["engine_sectors"] == 0 and list(s.choices) == ["All sectors"]


def test_the_table_and_the_map_show_the_chosen_sectors_shares(stepped):
    from geosim.viz import app
    from geosim.viz.sectors import sector_shares

    s = stepped
    k = s.model.world.sectors.index("ENE")
    table = app.country_table(s.model, s.baseline, "export", s.first_shares["ENE"], "ENE")
    row = table.set_index("iso3").loc["ECU"]
    now, base = sector_shares(s.model, "ENE"), sector_shares(s.baseline, "ENE")
    start = s.first_shares["ENE"]
    assert row["china_export_pct"] == pytest.approx(100 * now.loc["ECU", "china_export_share"])
    assert row["us_import_pct"] == pytest.approx(100 * now.loc["ECU", "us_import_share"])
    assert row["china_change_pp"] == pytest.approx(
        100 * (now.loc["ECU", "china_export_share"] - start.loc["ECU", "china_export_share"]))
    assert row["us_vs_baseline_pp"] == pytest.approx(
        100 * (now.loc["ECU", "us_export_share"] - base.loc["ECU", "us_export_share"]))
    everything = app.country_table(s.model, s.baseline, "export", s.first)
    pd.testing.assert_frame_equal(everything, app.country_table(
        s.model, s.baseline, "export", s.first_shares[None], None))  # "All sectors" as before
    assert not np.allclose(table["china_export_pct"], everything["china_export_pct"])
    data = app.map_data(s.model, "ENE")
    assert np.array_equal(data.flows, s.model.sector_flows()[k])
    assert np.allclose(data.china_share, now["china_trade_share"])
    assert np.array_equal(data.gdp, app.map_data(s.model).gdp)  # sizes stay GDP
    renderer = s.renderer_for("ENE")
    assert renderer is s.renderer_for("ENE") and renderer is not s.renderer  # built once
    assert s.renderer_for(None) is s.renderer
    label = renderer.figure.axes[1].get_ylabel()
    assert label.startswith("Sector: Energy\nChina's share") and "2023 share" in label
    # scaled on the first year, like the all-trade map
    assert renderer.scale.base_year == 2023 and renderer.scale.sector == "Energy"
    assert f"{renderer.scale.region_share:.1%}" in label
    assert renderer.scale.region_share != pytest.approx(s.renderer.scale.region_share, abs=1e-3)
    assert "Sector" not in s.renderer.figure.axes[1].get_ylabel()
    assert set(s.first_shares) == set(s.choices.values())
    png = renderer.png(data, selected="ECU")
    assert png[:4] == b"\x89PNG" and png != s.renderer.png(app.map_data(s.model), selected="ECU")


def test_the_dashboard_renders_the_sector_picker_and_follows_it(stepped):
    import ipyvuetify as v
    import ipywidgets
    import solara

    from geosim.viz import app
    from geosim.viz.sectors import sector_shares

    s = stepped
    measure = solara.reactive(next(iter(app.MEASURES)))
    sector = solara.reactive(app.ALL_SECTORS)
    box, rc = solara.render(app.Dashboard(s, 0, "ECU", lambda _: None, measure, sector, []),
                            handle_error=False)
    try:
        picker = rc.find(v.Select, label="Sector in the map and table").widget
        assert picker.items == list(s.choices) and picker.v_model == app.ALL_SECTORS
        image = rc.find(ipywidgets.Image).widget
        table = rc.find(v.DataTable).widget

        def ecuador() -> dict:
            return next(row for row in table.items if row["iso3"] == "ECU")

        def title() -> str:
            return next(str(w.children[0]) for w in rc.find(v.Html).widgets
                        if w.children and "Every economy" in str(w.children[0]))

        first_png = image.value
        assert ecuador()["china_export_pct"] == pytest.approx(
            100 * s.model.country_metrics().loc["ECU", "china_export_share"], abs=0.005)
        assert "trade in" not in title()
        picker.v_model = "Energy"  # what the browser sends on a pick
        assert sector.value == "Energy"
        assert image.value != first_png
        assert ecuador()["china_export_pct"] == pytest.approx(
            100 * sector_shares(s.model, "ENE").loc["ECU", "china_export_share"], abs=0.005)
        assert ", trade in Energy" in title()
        picker.v_model = app.ALL_SECTORS
        assert image.value == first_png  # back to all trade, drawn the same
    finally:
        rc.close()


def test_the_page_renders_with_the_sector_picker():
    import ipyvuetify as v
    import solara

    from geosim.viz import app

    box, rc = solara.render(app.Page(), handle_error=False)
    try:
        picker = rc.find(v.Select, label="Sector in the map and table").widget
        assert picker.items[0] == app.ALL_SECTORS and "Energy" in picker.items
    finally:
        rc.close()


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
