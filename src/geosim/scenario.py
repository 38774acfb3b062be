"""Scenario files: the YAML schema, `extends:` inheritance, validation and overrides.

Owns `Scenario` and `ScenarioError`; every message names the file, the field path, the line and
what was expected.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from geosim import safeyaml
from geosim.data import WORLD_DIRS, World, load_world
from geosim.parameters import PARAMETERS, ParameterError, resolve
from geosim.policies import (
    COUNTRY_GROUPS,
    INVESTORS,
    REGISTRY,
    SECTORS,
    Policy,
    exclusive_fields,
    trade_agreements,
)

STATUSES = ("historical", "announced", "hypothetical")
TOP_KEYS = ("name", "description", "status", "sources", "extends", "start", "end", "parameters",
            "allow_out_of_range", "events")
REQUIRED_KEYS = ("description", "status", "sources")
DEFAULT_START = 2023  # the base year of the default world
DEFAULT_END = 2040
LAST_YEAR = 2100
MAX_EXTENDS = 10  # longest `extends:` chain (the shipped ones are 1-2 deep)
MAX_EVENTS = 1000
MAX_NAME = 100  # characters of a scenario name
# Largest magnitude of a number field of an event (budgets in bn USD, percent changes, factors):
# far beyond any meaningful scenario (a $1 tn yearly budget, a 1000 % tariff), small enough that
# the engine solves every combination inside the parameter ranges. Whole numbers (years, phase-in
# periods) are bounded by MAX_FIELD_INT.
MAX_FIELD_VALUE = 1e3
MAX_FIELD_INT = 10_000
# An opted-in (`allow_out_of_range`) parameter may leave its documented range by at most this many
# range widths on either side (then the hard limits of `parameters.resolve` apply).
OUT_OF_RANGE_FACTOR = 10.0


class ScenarioError(ValueError):
    """A scenario file is malformed; the message names the file, field path and expectation."""


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: metadata, horizon, parameter overrides and scheduled events."""

    name: str
    path: Path | None
    status: str
    description: str
    sources: tuple[str, ...]
    start: int
    end: int
    parameters: dict[str, float]
    events: tuple[Policy, ...]
    text: str
    data: dict[str, Any] = field(repr=False)

    @property
    def hash(self) -> str:
        """SHA-256 of the resolved scenario (inheritance applied), stable across formatting."""
        blob = json.dumps(self.data, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()

    def with_overrides(self, overrides: dict[str, Any]) -> Scenario:
        """Return a copy with parameters (by name) or event fields (``events.<id>.<field>``) set.

        Raises:
            ScenarioError: unknown parameter or event id, or an invalid resulting scenario.
        """
        data = copy.deepcopy(self.data)
        for key, value in overrides.items():
            if key.startswith("events."):
                parts = key.split(".")
                if len(parts) != 3:
                    raise ScenarioError(f"{self._where()}: override '{key}': expected "
                                        "'events.<event id>.<field>'")
                matches = [e for e in data["events"] if e.get("id") == parts[1]]
                if not matches:
                    ids = sorted(e["id"] for e in data["events"] if e.get("id"))
                    raise ScenarioError(f"{self._where()}: override '{key}': no event with id "
                                        f"'{parts[1]}' (ids: {', '.join(ids) or 'none'})")
                matches[0][parts[2]] = value
            elif key in ("start", "end"):
                data[key] = value
            else:
                data["parameters"][key] = value
        return _build(data, self.path, self.text, lines={})

    def allowing_out_of_range(self, names: Iterable[str]) -> Scenario:
        """A copy whose `allow_out_of_range` also names these parameters (a draw of an estimate
        from its standard error may leave the documented range)."""
        data = copy.deepcopy(self.data)
        data["allow_out_of_range"] = sorted({*data.get("allow_out_of_range", []), *names})
        return _build(data, self.path, self.text, lines={})

    def _where(self) -> str:
        return str(self.path) if self.path else self.name


def explain(scenario: Scenario) -> str:
    """The resolved scenario as YAML: `extends:` applied, every event with its defaults filled.

    The text is itself a valid scenario file describing the same run.
    """
    data = {"name": scenario.name, "description": scenario.description,
            "status": scenario.status, "sources": list(scenario.sources),
            "start": scenario.start, "end": scenario.end,
            "parameters": dict(scenario.parameters)}
    if allowed := scenario.data.get("allow_out_of_range"):
        data["allow_out_of_range"] = list(allowed)
    data["events"] = [{"type": e.type, **e.values} for e in scenario.events]
    body = yaml.dump(data, Dumper=_PlainDumper, sort_keys=False, allow_unicode=True, width=100,
                     default_flow_style=None)
    header = (f"# {scenario.path or scenario.name}, resolved: inheritance applied, event "
              "defaults filled.\n# Parameters not listed take their defaults "
              "(geosim list --parameters).\n")
    return header + body


def scenario_dir() -> Path:
    """Folder of the shipped scenarios: $GEOSIM_SCENARIOS, ./scenarios, or the source tree's."""
    if env := os.environ.get("GEOSIM_SCENARIOS"):
        return Path(env)
    local = Path.cwd() / "scenarios"
    if local.is_dir():
        return local
    return Path(__file__).resolve().parents[2] / "scenarios"


def load_scenario(source: str | Path | Scenario) -> Scenario:
    """Load and validate a scenario from a path, or a bare name found in `scenario_dir()`."""
    if isinstance(source, Scenario):
        return source
    path = Path(source)
    if path.suffix not in (".yaml", ".yml") and not _exists(path):
        path = scenario_dir() / f"{source}.yaml"
    data, text, lines = _read_resolved(path, chain=())
    return _build(data, path, text, lines)


def list_scenarios(directory: str | Path | None = None) -> list[Scenario]:
    """Every scenario file in a folder (default the shipped ones), validated, sorted by name."""
    folder = Path(directory) if directory else scenario_dir()
    return sorted((load_scenario(p) for p in folder.glob("*.yaml")), key=lambda s: s.name)


# -- reading ----------------------------------------------------------------------------------


def scenario_from_dict(data: dict[str, Any], name: str = "custom") -> Scenario:
    """Validate a scenario given as a mapping (same schema as a file; `extends` names a shipped
    scenario)."""
    text = yaml.dump({"name": name, **data}, Dumper=_PlainDumper, sort_keys=False)
    path = scenario_dir() / f"<{name}>.yaml"
    merged, text, lines = _read_resolved(path, chain=(), text=text)
    return _build(merged, None, text, lines)


class _PlainDumper(yaml.SafeDumper):
    """Writes shared objects out in full (our loader refuses anchors and aliases)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _read_resolved(path: Path, chain: tuple[Path, ...], text: str | None = None
                   ) -> tuple[dict, str, dict]:
    """Read a file and its `extends:` parents; return merged data, combined text, line map."""
    if path.resolve() in chain:
        raise ScenarioError(f"{path}: extends: circular inheritance "
                            + " -> ".join(p.name for p in (*chain, path)))
    if len(chain) >= MAX_EXTENDS:
        raise ScenarioError(f"{chain[0]}: extends: chain longer than {MAX_EXTENDS} files "
                            f"(stopped at {path.name})")
    try:
        if text is None:
            text = safeyaml.read_text(path, "scenario file")
        raw, node = safeyaml.load(text, str(path))
    except safeyaml.YamlError as exc:
        raise ScenarioError(str(exc)) from None
    if not isinstance(raw, dict):
        raise ScenarioError(f"{path}: expected a mapping of scenario fields at the top level")
    lines: dict = {}
    _line_map(node, (), lines)
    _check_keys(raw, TOP_KEYS, path, lines, ())
    for key in REQUIRED_KEYS:
        if key not in raw:
            raise ScenarioError(f"{path}: {key}: required field missing (expected "
                                + ("one of " + ", ".join(STATUSES) if key == "status"
                                   else "a list of sources" if key == "sources" else "text") + ")")
    raw.setdefault("name", path.stem)
    raw.setdefault("parameters", {})
    raw.setdefault("events", [])
    for key, kind in (("parameters", dict), ("events", list)):
        if not isinstance(raw[key], kind):
            _fail(path, lines, (key,), f"a {'mapping' if kind is dict else 'list'}", raw[key])
    if "extends" not in raw:
        return raw, text, lines
    parent_name = raw.pop("extends")
    plain = isinstance(parent_name, str) and parent_name.strip() and len(parent_name) <= MAX_NAME
    if not plain or any(c in parent_name for c in "/\\\0") or parent_name.startswith("."):
        _fail(path, lines, ("extends",), "the name of another scenario (found beside this file "
              "or among the shipped ones; not a path)", parent_name)
    parent_path = _find_parent(path, parent_name)
    if parent_path is None:
        _fail(path, lines, ("extends",), f"an existing scenario ({parent_name}.yaml not found "
              f"in {path.parent} or in the shipped scenarios {scenario_dir()})", parent_name)
    parent, parent_text, parent_lines = _read_resolved(parent_path, (*chain, path.resolve()))
    _build(parent, parent_path, parent_text, parent_lines)  # parent errors name the parent file
    merged = {**parent, **{k: v for k, v in raw.items() if k not in ("parameters", "events")}}
    merged["parameters"] = {**parent["parameters"], **raw["parameters"]}
    merged["events"], place = _merge_events(parent["events"], raw["events"], path, lines)
    # Events keep line numbers of their own file only: move child indices to their merged place.
    shifted = {k: v for k, v in lines.items() if not (k and k[0] == "events")}
    for key, line in lines.items():
        if key and key[0] == "events" and len(key) > 1 and isinstance(key[1], int):
            shifted[("events", place[key[1]], *key[2:])] = line
    return merged, f"# {parent_path.name}\n{parent_text}\n# {path.name}\n{text}", shifted


def _merge_events(inherited: list, own: list, path: Path, lines: dict) -> tuple[list, list[int]]:
    """A child's events over its parent's: an event whose `id` names an inherited event replaces
    it in place (with a `type`) or changes only the fields it gives (without one); other events
    are appended. Returns the merged list and each own event's index in it."""
    merged = copy.deepcopy(inherited)
    by_id = {e["id"]: j for j, e in enumerate(merged) if isinstance(e, dict)
             and isinstance(e.get("id"), str)}
    seen: dict[str, int] = {}
    place: list[int] = []
    for i, event in enumerate(own):
        key = event.get("id") if isinstance(event, dict) else None
        if isinstance(key, str) and key in seen:
            raise ScenarioError(f"{path}: {_at(lines, ('events', i, 'id'))}events[{i}].id: "
                                f"duplicate event id '{key}' (also events[{seen[key]}] of this "
                                "file; an id names one event)")
        if isinstance(key, str):
            seen[key] = i
        if isinstance(key, str) and key in by_id:
            j = by_id[key]
            if "type" in event:
                merged[j] = event
            else:
                merged[j] = {**merged[j], **event}
            place.append(j)
            continue
        if isinstance(event, dict) and "type" not in event and isinstance(key, str):
            ids = ", ".join(sorted(by_id)) or "none"
            raise ScenarioError(
                f"{path}: {_at(lines, ('events', i))}events[{i}]: no inherited event with id "
                f"'{key}' to change (inherited ids: {ids}); give a 'type' to add a new event")
        merged.append(event)
        place.append(len(merged) - 1)
    return merged, place


def _find_parent(path: Path, name: str) -> Path | None:
    """`extends: name`: name.yaml beside the file, else among the shipped scenarios."""
    file = name if name.endswith((".yaml", ".yml")) else f"{name}.yaml"
    for folder in (path.parent, scenario_dir()):
        candidate = folder / file
        if _is_file(candidate):
            return candidate
    return None


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # e.g. a name too long for the file system
        return False


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:
        return False


def _line_map(node: yaml.Node, path: tuple, out: dict) -> None:
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            _line_map(value, (*path, key.value), out)
            out[(*path, key.value)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_map(item, (*path, i), out)


# -- validation -------------------------------------------------------------------------------


def _build(data: dict, path: Path | None, text: str, lines: dict) -> Scenario:
    """Validate resolved data and return the Scenario."""
    where = path or Path(data.get("name", "<scenario>"))
    status = data["status"]
    if status not in STATUSES:
        _fail(where, lines, ("status",), "one of " + ", ".join(STATUSES), status)
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        _fail(where, lines, ("name",), f"a non-empty text of at most {MAX_NAME} characters", name)
    sources = data["sources"]
    if isinstance(sources, str):
        sources = [sources]
    if not isinstance(sources, list) or not sources or not all(
            isinstance(s, str) and s.strip() for s in sources):
        _fail(where, lines, ("sources",), "a non-empty list of non-empty source texts", sources)
    if not isinstance(data["description"], str) or not data["description"].strip():
        _fail(where, lines, ("description",), "a one-line text", data["description"])
    start = data.get("start", DEFAULT_START)
    end = data.get("end", DEFAULT_END)
    if not _is_int(start) or start not in WORLD_DIRS:
        _fail(where, lines, ("start",), "the base year of a shipped world ("
              + " or ".join(str(y) for y in sorted(WORLD_DIRS)) + ")", start)
    world = load_world(start)
    if not _is_int(end) or not start < end <= LAST_YEAR:
        _fail(where, lines, ("end",), f"a year after {start} and not after {LAST_YEAR}", end)
    try:
        resolve(data["parameters"])
    except ParameterError as exc:
        name = str(exc).split("'")[1] if "'" in str(exc) else ""
        hint = _number_hint(data["parameters"].get(name))
        raise ScenarioError(f"{where}: {_at(lines, ('parameters', name))}parameters.{name}: "
                            f"{exc}{hint}") from None
    _check_ranges(data, where, lines)
    if len(data["events"]) > MAX_EVENTS:
        _fail(where, lines, ("events",), f"at most {MAX_EVENTS} events",
              f"{len(data['events'])} events")
    events = tuple(_build_event(e, i, where, lines, world, start, end)
                   for i, e in enumerate(data["events"]))
    first: dict[str, int] = {}
    for i, event in enumerate(events):
        if event.id and event.id in first:
            raise ScenarioError(f"{where}: {_at(lines, ('events', i, 'id'))}events[{i}].id: "
                                f"duplicate event id '{event.id}' (also events[{first[event.id]}];"
                                " an id names one event; in a child scenario an event with an "
                                "inherited id replaces it)")
        if event.id:
            first[event.id] = i
    data = {**data, "start": start, "end": end, "sources": sources}
    return Scenario(
        name=str(data["name"]), path=path, status=status, description=data["description"],
        sources=tuple(sources), start=int(start), end=int(end),
        parameters=dict(data["parameters"]), events=events, text=text, data=data,
    )


def _build_event(raw: Any, i: int, where: Path, lines: dict, world: World, start: int,
                 end: int) -> Policy:
    here = ("events", i)
    if not isinstance(raw, dict):
        _fail(where, lines, here, "a mapping with a 'type' field", raw)
    kind = raw.get("type")
    if not isinstance(kind, str) or kind not in REGISTRY:
        _fail(where, lines, (*here, "type"), "one of " + ", ".join(sorted(REGISTRY)), kind)
    cls = REGISTRY[kind]
    allowed = ("type", *(f.name for f in cls.fields))
    _check_keys(raw, allowed, where, lines, here)
    values: dict[str, Any] = {}
    for spec in cls.fields:
        if spec.name not in raw:
            if spec.required:
                raise ScenarioError(f"{where}: {_at(lines, here)}events[{i}].{spec.name}: "
                                    f"required field missing for '{kind}' ({spec.doc})")
            if spec.default is not None:
                values[spec.name] = spec.default
            continue
        value = _check_value(raw[spec.name], spec.kind, world)
        problem = value if isinstance(value, _Problem) else None
        if problem is None and spec.check is not None and (expected := spec.check(value)):
            problem = _Problem(expected)
        if problem is not None:
            _fail(where, lines, (*here, spec.name), problem.expected, raw[spec.name])
        values[spec.name] = value
    for year_field in ("year", "until"):
        if year_field in values and not start < values[year_field] <= end:
            _fail(where, lines, (*here, year_field),
                  f"a year inside the horizon ({start + 1}..{end})", values[year_field])
    if problem := exclusive_fields(kind, values):
        raise ScenarioError(f"{where}: {_at(lines, here)}events[{i}]: expected {problem}")
    if kind == "bloc_accession" and (problem := _accession_problem(values, world)):
        _fail(where, lines, (*here, "countries"), problem, raw["countries"])
    return cls(values)


def _accession_problem(values: dict, world: World) -> str | None:
    """Applicants named by code must be outside the bloc in the base year, and not the leader
    of the other side (China to a US-led bloc, the US to a China-led one): an applicant weighs
    its alignment with the bloc's leader, which means nothing for its rival."""
    members = _bloc_members(world).get(values["bloc"], set())
    named = [c for c in values["countries"] if c not in COUNTRY_GROUPS]
    inside = [c for c in named if c in members]
    if inside:
        return (f"countries outside {values['bloc']} ({', '.join(inside)} already "
                f"{'is a member' if len(inside) == 1 else 'are members'})")
    lead = next((c for c in ("USA", "CHN") if c in members), None)
    rival = {"USA": "CHN", "CHN": "USA"}.get(lead or "")
    if rival in named:
        return f"applicants other than {rival} ({values['bloc']} is led by {lead}, its rival)"
    return None


_MEMBERS: weakref.WeakKeyDictionary[World, dict[str, set[str]]] = weakref.WeakKeyDictionary()


def _bloc_members(world: World) -> dict[str, set[str]]:
    """Members of each bloc in the world's base year (derived once per world)."""
    if world not in _MEMBERS:
        rows = trade_agreements(world.memberships, world.base_year)
        rows = rows[rows["entry_year"].astype("Float64").fillna(0) <= world.base_year]
        _MEMBERS[world] = {b: set(g["iso3"]) for b, g in rows.groupby("bloc")}
    return _MEMBERS[world]


def _check_ranges(data: dict, where: Path, lines: dict) -> None:
    """Parameters inside their documented range [low, high], unless `allow_out_of_range` names
    them; opted-in values stay within `OUT_OF_RANGE_FACTOR` of the range (no overflow)."""
    allowed = data.get("allow_out_of_range", [])
    if not isinstance(allowed, list) or not all(isinstance(a, str) for a in allowed):
        _fail(where, lines, ("allow_out_of_range",), "a list of parameter names", allowed)
    for i, name in enumerate(allowed):
        if name not in PARAMETERS:
            _fail(where, lines, ("allow_out_of_range", i), "names from the parameter table "
                  f"({', '.join(sorted(PARAMETERS))})", name)
    for name, value in data["parameters"].items():
        p = PARAMETERS[name]
        here = ("parameters", name)
        if p.low <= value <= p.high:
            continue
        if name not in allowed:
            _fail(where, lines, here, f"a value in the documented range {p.low:g}..{p.high:g} "
                  f"({p.unit}); to go beyond it on purpose, list '{name}' under "
                  "allow_out_of_range", value)
        f = OUT_OF_RANGE_FACTOR
        width = p.high - p.low
        lo, hi = p.low - f * width, p.high + f * width  # hard limits (σ > 1, ≥ 0) still apply
        if not lo <= value <= hi:
            _fail(where, lines, here, f"a value within {lo:g}..{hi:g} (allow_out_of_range admits "
                  f"at most {f:g} widths of the documented range {p.low:g}..{p.high:g} beyond "
                  "it)", value)


@dataclass(frozen=True)
class _Problem:
    expected: str


_BLOCS: weakref.WeakKeyDictionary[World, list[str]] = weakref.WeakKeyDictionary()


def _bloc_names(world: World) -> list[str]:
    """The blocs a scenario can name in a world (derived once per world: sweeps check every
    run's scenario)."""
    if world not in _BLOCS:
        _BLOCS[world] = sorted(set(trade_agreements(world.memberships, world.base_year)["bloc"]))
    return _BLOCS[world]


def _check_value(value: Any, kind: str, world: World) -> Any:
    """Return the checked value, or a _Problem saying what was expected."""
    if kind == "int":
        if not _is_int(value):
            return _Problem("a whole number")
        return value if abs(value) <= MAX_FIELD_INT else _Problem(
            f"a whole number of magnitude at most {MAX_FIELD_INT}")
    if kind == "float":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or not math.isfinite(value):
            return _Problem("a finite number" + _number_hint(value))
        if abs(value) > MAX_FIELD_VALUE:
            return _Problem(f"a number of magnitude at most {MAX_FIELD_VALUE:g}")
        return float(value)
    if kind == "bool":
        return value if isinstance(value, bool) else _Problem("true or false")
    if kind == "str":
        return value if isinstance(value, str) else _Problem("a text")
    if kind == "investor":
        return value if value in INVESTORS else _Problem("one of " + ", ".join(INVESTORS))
    if kind == "bloc":
        blocs = _bloc_names(world)
        return value if value in blocs else _Problem("a bloc of the world data: "
                                                     + ", ".join(blocs))
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(v, str) for v in items):
        return _Problem("a non-empty list of codes")
    if kind == "sectors":
        bad = [v for v in items if v not in SECTORS]
        return _Problem("sectors among " + ", ".join(SECTORS)) if bad else items
    if kind == "trade_sectors":
        goods = [s for s in world.sectors if s != "SRV"]
        bad = [v for v in items if v not in goods]
        return _Problem("goods sectors of the world data among " + ", ".join(goods)
                        + (f"; unknown: {', '.join(bad)}" if bad else "")) if bad else items
    if kind == "countries":
        known = set(world.iso3) | set(COUNTRY_GROUPS)
        bad = [v for v in items if v not in known]
        if bad:
            return _Problem(f"ISO3 codes of the world data or a group ({', '.join(COUNTRY_GROUPS)})"
                            f"; unknown: {', '.join(dict.fromkeys(bad[:5]))}"
                            + (" ..." if len(bad) > 5 else ""))
        seen: set[str] = set()
        twice = [v for v in items if v in seen or seen.add(v)]
        if twice:
            return _Problem(f"each code once (repeated: {', '.join(dict.fromkeys(twice[:5]))})")
        return items
    raise AssertionError(kind)


def _number_hint(value: Any) -> str:
    """For text that Python reads as a number (YAML 1.1 reads 1e5 as text): how to write it."""
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return ""
        return " (YAML reads this as text: write a dot and a signed exponent, e.g. 1.0e+5)"
    return ""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_keys(raw: dict, allowed: tuple[str, ...], where: Path, lines: dict, here: tuple) -> None:
    for key in raw:
        if key not in allowed:
            label = ".".join(_label(here) + [str(key)])
            raise ScenarioError(f"{where}: {_at(lines, (*here, key))}{label}: unknown key "
                                f"(expected one of: {', '.join(allowed)})")


def _label(path: tuple) -> list[str]:
    out: list[str] = []
    for part in path:
        if isinstance(part, int):
            out[-1] += f"[{part}]"
        else:
            out.append(str(part))
    return out


def _at(lines: dict, path: tuple) -> str:
    line = lines.get(path)
    return f"line {line}: " if line else ""


def _fail(where: Path, lines: dict, path: tuple, expected: str, got: Any) -> None:
    shown = repr(got)
    shown = shown if len(shown) <= 200 else shown[:197] + "..."
    raise ScenarioError(f"{where}: {_at(lines, path)}{'.'.join(_label(path))}: expected {expected},"
                        f" got {shown}")


__all__ = ["Scenario", "ScenarioError", "explain", "list_scenarios", "load_scenario",
           "scenario_dir", "scenario_from_dict"]
