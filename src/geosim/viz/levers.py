"""The page's policy levers: their controls, and how their values change a scenario.

Owns `Levers` (the slider values), `apply_levers` (scenario + levers -> scenario, parameters) and
the control specifications SolaraViz draws in its "Model Parameters" card.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from geosim.parameters import PARAMETERS
from geosim.scenario import Scenario, scenario_from_dict

AS_WRITTEN = "as in the scenario"
# Who applies to join USMCA, by the page's choice (the seven were usmca_expansion.yaml's before
# it followed APEP; Uruguay, in Mercosur, cannot join alone and is refused). Listing every
# Mercosur member makes the union apply as a whole (docs/model.md, customs unions).
USMCA_GROUPS: dict[str, tuple[str, ...]] = {
    AS_WRITTEN: (),
    "Chile, Colombia, Peru": ("CHL", "COL", "PER"),
    "seven (CHL COL PER CRI PAN DOM URY)": ("CHL", "COL", "PER", "CRI", "PAN", "DOM", "URY"),
    "Mercosur (BRA ARG PRY URY BOL)": ("BRA", "ARG", "PRY", "URY", "BOL"),
    "all of Latin America": ("LAC",),
}
US_PROGRAMME = {"investor": "us_public", "year": 2025, "until": 2035, "countries": ["LAC"],
                "sectors": ["renewables", "technology", "transport"], "incentive": 1.0}
TARIFF_YEAR = 2025
PHASE_IN = 10


@dataclass(frozen=True)
class Levers:
    """What the sliders say. Each lever at its neutral value leaves the scenario as written.

    Attributes:
        usmca_members: a key of `USMCA_GROUPS`: who applies to join USMCA (members and
            applicants then decide with the engine's welfare estimates).
        usmca_year: the year of that application (also moves the scenario's own one).
        us_programme_bn: yearly budget of the US public investment programme 2025-2035 in
            renewables, technology and transport (bn USD; 0: as in the scenario).
        china_lending_bn: yearly lending of Chinese policy banks from 2025 (bn USD; a policy
            event when it leaves its default, so the baseline keeps business as usual).
        tariff_pp: change of the US tariff on Chinese goods in 2025, matched by China
            (percentage points; 0: none).
        sigma: the trade elasticity σ.
    """

    usmca_members: str = AS_WRITTEN
    usmca_year: int = 2027
    us_programme_bn: float = 0.0
    china_lending_bn: float = PARAMETERS["china_lending_bn"].default
    tariff_pp: int = 0
    sigma: float = PARAMETERS["sigma"].default


def apply_levers(scenario: Scenario, levers: Levers) -> tuple[Scenario, dict[str, float]]:
    """The scenario changed by the levers, and the parameter overrides to build the model with.

    Event fields the scenario already has are changed with `Scenario.with_overrides`
    (``events.usmca_accession.year``, ``events.us_programme.budget_bn``); missing events are
    added. Parameters are returned only where a slider left its default, so a scenario's own
    parameter values stand until a student moves the slider.

    Raises:
        ScenarioError: an invalid result (e.g. an accession year outside the horizon).
    """
    ids = {event.id for event in scenario.events}
    overrides: dict[str, Any] = {}
    added: list[dict[str, Any]] = []

    members = USMCA_GROUPS[levers.usmca_members]
    if "usmca_accession" in ids:
        if members or levers.usmca_year != Levers.usmca_year:
            overrides["events.usmca_accession.year"] = levers.usmca_year
        if members:
            overrides["events.usmca_accession.countries"] = list(members)
    elif members:
        added.append({"id": "usmca_accession", "type": "bloc_accession", "year": levers.usmca_year,
                      "bloc": "USMCA", "countries": list(members), "phase_in": PHASE_IN,
                      "decide": True})

    if levers.us_programme_bn > 0:
        if "us_programme" in ids:
            overrides["events.us_programme.budget_bn"] = float(levers.us_programme_bn)
        else:
            added.append({"id": "us_programme", "type": "investment_programme",
                          "budget_bn": float(levers.us_programme_bn), **US_PROGRAMME})

    if levers.tariff_pp:
        added.append({"id": "page_us_china_tariff", "type": "tariff_change", "year": TARIFF_YEAR,
                      "importers": ["USA"], "exporters": ["CHN"],
                      "change_pp": float(levers.tariff_pp), "reciprocal": True})

    if levers.china_lending_bn != PARAMETERS["china_lending_bn"].default:
        # a policy from 2025 (an event), so the page's baseline keeps business as usual
        added.append({"id": "page_china_lending", "type": "investor_budget",
                      "investor": "china_policy_banks", "year": TARIFF_YEAR,
                      "budget_bn": float(levers.china_lending_bn)})

    if overrides:
        scenario = scenario.with_overrides(overrides)
    if added:
        scenario = _with_events(scenario, added)
    parameters = {"sigma": float(levers.sigma)} if levers.sigma != PARAMETERS["sigma"].default \
        else {}
    return scenario, parameters


def _with_events(scenario: Scenario, events: list[dict[str, Any]]) -> Scenario:
    """The scenario with events appended, validated again like a scenario file."""
    data = {**scenario.data, "events": [*scenario.data["events"], *events]}
    return scenario_from_dict(data, name=scenario.name)


def controls(scenario_names: list[str], selected: str) -> dict[str, dict[str, Any]]:
    """SolaraViz `model_params`: the scenario picker, the levers and the seed.

    Keys are the keyword arguments of `geosim.viz.app.ClassroomModel`; labels stay short
    because SolaraViz puts them beside the sliders (`describe` spells the levers out).
    """
    default = Levers()
    sigma = PARAMETERS["sigma"]
    return {
        "scenario_name": {"type": "Select", "value": selected, "values": scenario_names,
                          "label": "Scenario"},
        "usmca_members": {"type": "Select", "value": default.usmca_members,
                          "values": list(USMCA_GROUPS), "label": "Who applies to join USMCA"},
        "usmca_year": {"type": "SliderInt", "value": default.usmca_year, "min": 2024,
                       "max": 2040, "step": 1, "label": "USMCA year"},
        "us_programme_bn": {"type": "SliderInt", "value": int(default.us_programme_bn),
                            "min": 0, "max": 40, "step": 1,
                            "label": "US programme, $bn/yr"},
        "china_lending_bn": {"type": "SliderFloat", "value": default.china_lending_bn,
                             "min": 0.0, "max": 40.0, "step": 0.5,
                             "label": "China lending, $bn/yr"},
        "tariff_pp": {"type": "SliderInt", "value": default.tariff_pp, "min": -20, "max": 100,
                      "step": 5, "label": "US-China tariff, ±pp"},
        "sigma": {"type": "SliderFloat", "value": default.sigma, "min": sigma.low,
                  "max": sigma.high, "step": 0.5, "label": "Trade elasticity σ"},
        "seed": {"type": "SliderInt", "value": 0, "min": 0, "max": 20, "step": 1,
                 "label": "Seed"},
    }


def describe(levers: Levers) -> str:
    """The levers of a run in one line, as the page shows under the map."""
    usmca = levers.usmca_members
    programme = (f"${levers.us_programme_bn:g} bn/yr" if levers.us_programme_bn > 0
                 else AS_WRITTEN)
    return (f"USMCA applicants: {usmca} (year {levers.usmca_year}) · US programme 2025-35: "
            f"{programme} · China lending ${levers.china_lending_bn:g} bn/yr · US-China tariff "
            f"change in {TARIFF_YEAR}: {levers.tariff_pp:+d} pp both ways · σ = {levers.sigma:g}")
