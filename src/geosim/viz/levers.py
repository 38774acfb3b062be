"""The page's policy levers: their controls, and how their values change a scenario.

Owns `Levers` (the slider values), `apply_levers` (scenario + levers -> scenario, parameters) and
the control specifications SolaraViz draws in its "Model Parameters" card.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from geosim.parameters import PARAMETERS
from geosim.policies import Policy
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
    """What the sliders say: the policies a run has, in the units the page shows.

    A scenario as written has its own values (`scenario_levers`); the page's sliders start at
    them, and a lever moved away from its scenario's value replaces that value.

    Attributes:
        usmca_members: a key of `USMCA_GROUPS`: who applies to join USMCA (members and
            applicants then decide with the engine's welfare estimates).
        usmca_year: the year of the USMCA application.
        us_programme_bn: yearly budget of the US public investment programme (bn USD; 0: none).
            A scenario's own programme keeps its years, hosts and sectors; a new one runs
            2025-2035 in renewables, technology and transport.
        china_lending_bn: yearly lending of Chinese policy banks after the scenario's last change
            to it (bn USD); a new value is set from the year of that change, or from 2025 in a
            scenario without one (a policy event, so the baseline keeps business as usual).
        tariff_pp: change of the US tariff on Chinese goods in 2025, matched by China, on top of
            the scenario's own tariffs (percentage points; 0: none).
        sigma: the trade elasticity σ.
    """

    usmca_members: str = AS_WRITTEN
    usmca_year: int = 2027
    us_programme_bn: float = 0.0
    china_lending_bn: float = PARAMETERS["china_lending_bn"].default
    tariff_pp: int = 0
    sigma: float = PARAMETERS["sigma"].default


def _usmca_accession(scenario: Scenario) -> Policy | None:
    """The scenario's application to join USMCA (the last, if several)."""
    found = [e for e in scenario.events if e.type == "bloc_accession" and e.bloc == "USMCA"]
    return found[-1] if found else None


def _us_programme(scenario: Scenario) -> Policy | None:
    """The scenario's US public investment programme (the first, if several)."""
    return next((e for e in scenario.events if e.type == "investment_programme"
                 and e.investor == "us_public"), None)


def _china_lending(scenario: Scenario) -> tuple[float, Policy | None, float]:
    """Chinese policy-bank lending after the scenario's changes to it (bn USD per year), the last
    event that changes it within the horizon (or None), and the lending just before that event."""
    lending = float(scenario.parameters.get("china_lending_bn",
                                            PARAMETERS["china_lending_bn"].default))
    last, before = None, lending
    changes = [e for e in scenario.events if e.type == "investor_budget"
               and e.investor == "china_policy_banks" and e.year <= scenario.end]
    for event in sorted(changes, key=lambda e: e.year):  # stable: same-year events in file order
        last, before = event, lending
        lending = lending * event.factor if event.factor is not None else float(event.budget_bn)
    return lending, last, before


def scenario_levers(scenario: Scenario) -> Levers:
    """The levers' values in a scenario as written: the sliders' starting positions."""
    accession = _usmca_accession(scenario)
    programme = _us_programme(scenario)
    return Levers(
        usmca_members=AS_WRITTEN,
        usmca_year=accession.year if accession is not None else Levers.usmca_year,
        us_programme_bn=float(programme.budget_bn) if programme is not None else 0.0,
        china_lending_bn=_china_lending(scenario)[0],
        tariff_pp=0,
        sigma=float(scenario.parameters.get("sigma", PARAMETERS["sigma"].default)),
    )


def changed_levers(written: Levers, levers: Levers) -> dict[str, Any]:
    """The levers whose value differs from the scenario's own (`written`), by field name."""
    return {name: getattr(levers, name) for name in Levers.__dataclass_fields__
            if not _same(getattr(levers, name), getattr(written, name))}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)


def apply_levers(scenario: Scenario, levers: Levers) -> tuple[Scenario, dict[str, float]]:
    """The scenario changed by the levers, and the parameter overrides to build the model with.

    A lever at the scenario's own value (`scenario_levers`) leaves it as written. Event fields
    the scenario already has are changed with `Scenario.with_overrides`
    (``events.usmca_accession.year``, ``events.us_programme.budget_bn``, the ``factor`` or
    ``budget_bn`` of its last Chinese lending change); missing events are added.

    Raises:
        ScenarioError: an invalid result (e.g. an accession year outside the horizon).
    """
    changed = changed_levers(scenario_levers(scenario), levers)
    overrides: dict[str, Any] = {}
    added: list[dict[str, Any]] = []

    members = USMCA_GROUPS[levers.usmca_members]
    accession = _usmca_accession(scenario)
    if accession is not None and accession.id:
        if members or "usmca_year" in changed:
            overrides[f"events.{accession.id}.year"] = levers.usmca_year
        if members:
            overrides[f"events.{accession.id}.countries"] = list(members)
    elif members:
        added.append({"id": "usmca_accession", "type": "bloc_accession", "year": levers.usmca_year,
                      "bloc": "USMCA", "countries": list(members), "phase_in": PHASE_IN,
                      "decide": True})

    if "us_programme_bn" in changed:
        programme = _us_programme(scenario)
        if programme is not None and programme.id:
            overrides[f"events.{programme.id}.budget_bn"] = float(levers.us_programme_bn)
        elif levers.us_programme_bn > 0:
            added.append({"id": "us_programme", "type": "investment_programme",
                          "budget_bn": float(levers.us_programme_bn), **US_PROGRAMME})

    if levers.tariff_pp:
        added.append({"id": "page_us_china_tariff", "type": "tariff_change", "year": TARIFF_YEAR,
                      "importers": ["USA"], "exporters": ["CHN"],
                      "change_pp": float(levers.tariff_pp), "reciprocal": True})

    if "china_lending_bn" in changed:
        target = float(levers.china_lending_bn)
        _, last, before = _china_lending(scenario)
        if last is not None and last.id and last.budget_bn is not None:
            overrides[f"events.{last.id}.budget_bn"] = target
        elif last is not None and last.id and before > 0:  # a factor: the one that gives target
            overrides[f"events.{last.id}.factor"] = target / before
        else:  # a policy from that year (or 2025), so the page's baseline keeps business as usual
            added.append({"id": "page_china_lending", "type": "investor_budget",
                          "investor": "china_policy_banks",
                          "year": last.year if last is not None else TARIFF_YEAR,
                          "budget_bn": target})

    if overrides:
        scenario = scenario.with_overrides(overrides)
    if added:
        scenario = _with_events(scenario, added)
    parameters = {"sigma": float(levers.sigma)} if "sigma" in changed else {}
    return scenario, parameters


def _with_events(scenario: Scenario, events: list[dict[str, Any]]) -> Scenario:
    """The scenario with events appended, validated again like a scenario file."""
    data = {**scenario.data, "events": [*scenario.data["events"], *events]}
    return scenario_from_dict(data, name=scenario.name)


def controls(scenario_names: list[str], selected: str,
             written: Levers | None = None) -> dict[str, dict[str, Any]]:
    """SolaraViz `model_params`: the scenario picker, the levers and the seed.

    The levers start at `written` (the selected scenario's own values, `scenario_levers`).
    Keys are the keyword arguments of `geosim.viz.app.ClassroomModel`; labels stay short
    because SolaraViz puts them beside the sliders (`describe` spells the run out).
    """
    default = written or Levers()
    sigma = PARAMETERS["sigma"]
    return {
        "scenario_name": {"type": "Select", "value": selected, "values": scenario_names,
                          "label": "Scenario"},
        "usmca_members": {"type": "Select", "value": default.usmca_members,
                          "values": list(USMCA_GROUPS), "label": "Who applies to join USMCA"},
        "usmca_year": {"type": "SliderInt", "value": default.usmca_year, "min": 2024,
                       "max": 2040, "step": 1, "label": "USMCA year"},
        "us_programme_bn": {"type": "SliderInt", "value": round(default.us_programme_bn),
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


def lever_values(levers: Levers) -> dict[str, Any]:
    """The levers as control values (keyword arguments of `ClassroomModel`)."""
    return {name: getattr(levers, name) for name in Levers.__dataclass_fields__}


def lever_slug(name: str, value: Any) -> str:
    """A changed lever in a file name: ``lending20bn``, ``usmca-seven``, ``tariff+50pp``."""
    if name == "usmca_members":
        codes = USMCA_GROUPS[value]
        return "usmca-" + ("-".join(codes).lower() if len(codes) <= 3 else value.split()[0])
    short = {"usmca_year": ("usmca", ""), "us_programme_bn": ("programme", "bn"),
             "china_lending_bn": ("lending", "bn"), "sigma": ("sigma", "")}
    if name == "tariff_pp":
        return f"tariff{value:+d}pp"
    prefix, unit = short[name]
    return f"{prefix}{value:g}{unit}"


def describe(scenario: Scenario, levers: Levers) -> str:
    """The policies of a run in one line, read from the scenario the run has (the levers
    applied): what the page shows under the header."""
    accession = _usmca_accession(scenario)
    usmca = (f"{' '.join(accession.countries)} in {accession.year}" if accession is not None
             else "none")
    programme = _us_programme(scenario)
    money = (f"${programme.budget_bn:g} bn/yr {programme.year}-{programme.until}"
             if programme is not None else "none")
    lending, last, _ = _china_lending(scenario)
    since = f" from {last.year}" if last is not None else ""
    tariff = (f"{levers.tariff_pp:+d} pp both ways in {TARIFF_YEAR} (on top of the scenario's)"
              if levers.tariff_pp else "as in the scenario")
    return (f"USMCA applicants: {usmca} · US programme: {money} · China lending "
            f"${lending:g} bn/yr{since} · US-China tariff: {tariff} · σ = {levers.sigma:g}")
