"""Scenario files: every shipped scenario validates; every kind of bad input gets a clear message
naming the file, the field path and the line, with exit code 2 on the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from geosim.cli import main
from geosim.scenario import ScenarioError, list_scenarios, load_scenario, scenario_from_dict

SHIPPED = ("baseline", "usmca_expansion", "us_investment_push", "china_counteroffer",
           "tariff_escalation", "pivot")


def test_every_shipped_scenario_validates_with_status_and_sources():
    names = {s.name for s in list_scenarios()}
    assert set(SHIPPED) <= names
    for s in list_scenarios():
        assert s.status in ("historical", "announced", "hypothetical")
        assert s.sources and s.description
    assert load_scenario("pivot").status == "hypothetical"


def test_extends_merges_parent_events_and_keeps_own_ids():
    pivot = load_scenario("pivot")
    ids = [e.id for e in pivot.events]
    assert ids[:1] == ["usmca_accession"]  # from usmca_expansion
    assert {"us_programme", "china_response"} <= set(ids)
    assert pivot.start == 2023 and pivot.end == 2040


def test_overrides_reach_parameters_and_events_and_are_validated():
    pivot = load_scenario("pivot")
    changed = pivot.with_overrides({"sigma": 7.0, "events.usmca_accession.year": 2031})
    assert changed.parameters["sigma"] == 7.0
    assert next(e for e in changed.events if e.id == "usmca_accession").year == 2031
    assert changed.hash != pivot.hash
    with pytest.raises(ScenarioError, match="no event with id 'nope'"):
        pivot.with_overrides({"events.nope.year": 2030})
    with pytest.raises(ScenarioError, match="unknown parameter 'sigmaa'"):
        pivot.with_overrides({"sigmaa": 3})
    with pytest.raises(ScenarioError, match="inside the horizon"):
        pivot.with_overrides({"events.usmca_accession.year": 2050})


HEADER = """\
description: test
status: hypothetical
sources: [test]
"""

BAD = [
    # (body after the header, words the message must contain, line number or None)
    ("colour: red\n", ["colour", "unknown key", "expected one of"], 4),
    ("end: soon\n", ["end", "expected a year"], 4),
    ("parameters: {sigma: 0.5}\n", ["parameters.sigma", "must be > 1"], 4),
    ("parameters: {speed: 2}\n", ["parameters.speed", "unknown parameter"], 4),
    ("events:\n  - {type: fta, year: 2026, countries: [CHN, XXX]}\n",
     ["events[0].countries", "unknown: XXX"], 5),
    ("events:\n  - {type: bloc_accession, year: 2026, bloc: NOPE, countries: [CHL]}\n",
     ["events[0].bloc", "a bloc of the world data"], 5),
    ("events:\n  - {type: fta, year: 2060, countries: [CHN, URY]}\n",
     ["events[0].year", "inside the horizon"], 5),
    ("events:\n  - {type: fta, year: 2020, countries: [CHN, URY]}\n",
     ["events[0].year", "inside the horizon"], 5),
    ("events:\n  - type: investment_programme\n    investor: us_public\n    year: 2025\n"
     "    until: 2030\n    budget_bn: -5\n    countries: [LAC]\n    sectors: [transport]\n",
     ["events[0].budget_bn", "a value >= 0", "-5"], 9),
    ("events:\n  - {type: invest, year: 2026}\n", ["events[0].type", "one of"], 5),
    ("events:\n  - {type: fta, year: 2026, countries: [CHN, URY], color: 1}\n",
     ["events[0].color", "unknown key"], 5),
    ("events:\n  - {type: fta, year: 2026.5, countries: [CHN, URY]}\n",
     ["events[0].year", "whole number"], 5),
    ("events:\n  - {type: tariff_change, year: 2026, importers: [USA], exporters: [CHN]}\n",
     ["events[0]", "exactly one of 'rate_pct' or 'change_pp'"], 5),
    ("events:\n  - {type: investor_budget, year: 2026, investor: nobody, factor: 2}\n",
     ["events[0].investor", "us_public"], 5),
]


@pytest.mark.parametrize(("body", "words", "line"), BAD)
def test_bad_scenario_message_names_file_field_and_line(tmp_path, body, words, line):
    path = tmp_path / "bad.yaml"
    path.write_text(HEADER + body)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert str(path) in message
    for word in words:
        assert word in message
    if line is not None:
        assert f"line {line}" in message


@pytest.mark.parametrize(("text", "words"), [
    ("status: hypothetical\nsources: [x]\n", ["description", "required field missing"]),
    ("description: x\nstatus: maybe\nsources: [x]\n", ["status", "historical"]),
    ("description: x\nstatus: historical\n", ["sources", "required field missing"]),
    ("description: x\nstatus: [unclosed\n", ["not valid YAML"]),
    ("- a list\n", ["mapping"]),
])
def test_bad_top_level(tmp_path, text, words):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    for word in words:
        assert word in str(info.value)


def test_extends_errors_name_the_right_file(tmp_path):
    (tmp_path / "parent.yaml").write_text(HEADER + "events:\n  - {type: fta, year: 2026, "
                                          "countries: [CHN, ZZZ]}\n")
    (tmp_path / "child.yaml").write_text(HEADER + "extends: parent\n")
    with pytest.raises(ScenarioError, match=r"parent\.yaml: line 5: events\[0\]\.countries"):
        load_scenario(tmp_path / "child.yaml")
    (tmp_path / "a.yaml").write_text(HEADER + "extends: b\n")
    (tmp_path / "b.yaml").write_text(HEADER + "extends: a\n")
    with pytest.raises(ScenarioError, match="circular"):
        load_scenario(tmp_path / "a.yaml")
    (tmp_path / "orphan.yaml").write_text(HEADER + "extends: missing\n")
    with pytest.raises(ScenarioError, match="extends"):
        load_scenario(tmp_path / "orphan.yaml")


def test_child_event_with_an_inherited_id_replaces_or_changes_it(tmp_path):
    """An event whose id names an inherited event replaces it (with a `type`) or changes the
    fields it gives (without one), in place; a duplicate id in one file names its line."""
    pivot = load_scenario("pivot")
    (tmp_path / "bigger.yaml").write_text(HEADER + "extends: pivot\nevents:\n"
                                          "  - {id: us_programme, budget_bn: 20}\n"
                                          "  - {id: usmca_accession, type: bloc_accession, "
                                          "year: 2030, bloc: USMCA, countries: [CHL]}\n")
    child = load_scenario(tmp_path / "bigger.yaml")
    assert [e.id for e in child.events] == [e.id for e in pivot.events]  # same places, no extra
    by_id = {e.id: e for e in child.events}
    assert by_id["us_programme"].budget_bn == 20.0
    assert by_id["us_programme"].until == 2040  # kept from the parent
    assert by_id["usmca_accession"].countries == ["CHL"]
    assert by_id["usmca_accession"].phase_in is None  # replaced whole: the parent's 10 is gone
    # same as the sweep-style override of the parent
    assert (by_id["us_programme"].values
            == {e.id: e for e in pivot.with_overrides(
                {"events.us_programme.budget_bn": 20.0}).events}["us_programme"].values)
    (tmp_path / "typo.yaml").write_text(HEADER + "extends: pivot\nevents:\n"
                                        "  - {id: us_program, budget_bn: 20}\n")
    with pytest.raises(ScenarioError, match=r"typo\.yaml: line 6: events\[0\]: no inherited "
                       r"event with id 'us_program' .*us_programme.*give a 'type'"):
        load_scenario(tmp_path / "typo.yaml")
    fta = "  - {id: x, type: fta, year: 202%d, countries: [CHN, URY]}\n"
    (tmp_path / "twice.yaml").write_text(HEADER + "extends: pivot\nevents:\n" + fta % 6 + fta % 7)
    with pytest.raises(ScenarioError, match=r"twice\.yaml: line 7: events\[1\]\.id: duplicate "
                       r"event id 'x'"):
        load_scenario(tmp_path / "twice.yaml")
    (tmp_path / "bad.yaml").write_text(HEADER + "extends: pivot\nevents:\n"
                                       "  - {id: us_programme, budget_bn: -1}\n")
    with pytest.raises(ScenarioError, match=r"bad\.yaml: line 6: events\[\d\]\.budget_bn"):
        load_scenario(tmp_path / "bad.yaml")


def test_validate_explain_prints_the_resolved_scenario_as_a_loadable_file(tmp_path, capsys):
    assert main(["validate", "--explain", "pivot"]) == 0
    text = capsys.readouterr().out
    assert "extends" not in text and "usmca_accession" in text and "us_programme" in text
    (tmp_path / "resolved.yaml").write_text(text)
    resolved, pivot = load_scenario(tmp_path / "resolved.yaml"), load_scenario("pivot")
    assert [e.values for e in resolved.events] == [e.values for e in pivot.events]
    assert (resolved.parameters, resolved.start, resolved.end) == (
        pivot.parameters, pivot.start, pivot.end)


def test_cli_validate_exit_codes(tmp_path, capsys):
    good = Path("scenarios/pivot.yaml")
    assert main(["validate", str(good)]) == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(HEADER + "events:\n  - {type: fta, year: 2026, countries: [CHN, XXX]}\n")
    assert main(["validate", str(good), str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml: line 5: events[0].countries" in err
    assert "Traceback" not in err


def test_cli_run_bad_scenario_exits_2_without_traceback_or_output(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(HEADER + "events:\n  - {type: fta, year: 2026, countries: [CHN, XXX]}\n")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "geosim", "run", str(bad), "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "events[0].countries" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()


def test_scenario_from_dict_validates_like_a_file():
    spec = scenario_from_dict({**_header(), "extends": "baseline",
                               "events": [{"type": "fta", "year": 2030,
                                           "countries": ["CHN", "URY"]}]})
    assert spec.events[0].year == 2030
    with pytest.raises(ScenarioError, match="unknown key"):
        scenario_from_dict({**_header(), "oops": 1})


def _header() -> dict:
    return {"description": "t", "status": "hypothetical", "sources": ["t"]}


def test_list_prints_every_scenario(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in SHIPPED:
        assert name in out
    lines = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    for name in SHIPPED:
        status = load_scenario(name).status
        assert status in lines[name], (name, status)


def test_list_parameters_prints_each_with_its_default_and_range(capsys):
    from geosim.parameters import PARAMETERS

    assert main(["list", "--parameters"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert set(lines) == set(PARAMETERS)
    for name, p in PARAMETERS.items():
        assert lines[name].split()[1] == f"{p.default:g}"
        assert f"[{p.low:g}, {p.high:g}]" in lines[name]


def test_docs_print_the_current_parameter_and_event_tables():
    from geosim.parameters import table_markdown
    from geosim.policies import events_markdown

    doc = Path("docs/model.md").read_text()
    assert table_markdown() in doc, "docs/model.md: parameter table out of date"
    assert events_markdown() in doc, "docs/model.md: event table out of date"
