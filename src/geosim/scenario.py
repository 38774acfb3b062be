"""Scenario files: the YAML schema, `extends:` inheritance, validation and overrides.

Owns `Scenario` and `ScenarioError`; every message names the file, the field path, the line and
what was expected.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from geosim.data import WORLD_DIRS, World, load_world
from geosim.parameters import ParameterError, resolve
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
            "events")
REQUIRED_KEYS = ("description", "status", "sources")
DEFAULT_START = 2023  # the base year of the default world
DEFAULT_END = 2040
LAST_YEAR = 2100


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

    def _where(self) -> str:
        return str(self.path) if self.path else self.name


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
    if path.suffix not in (".yaml", ".yml") and not path.exists():
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
    text = yaml.safe_dump({"name": name, **data}, sort_keys=False)
    path = scenario_dir() / f"<{name}>.yaml"
    merged, text, lines = _read_resolved(path, chain=(), text=text)
    return _build(merged, None, text, lines)


def _read_resolved(path: Path, chain: tuple[Path, ...], text: str | None = None
                   ) -> tuple[dict, str, dict]:
    """Read a file and its `extends:` parents; return merged data, combined text, line map."""
    if text is None:
        if not path.is_file():
            raise ScenarioError(f"{path}: scenario file not found")
        text = path.read_text(encoding="utf-8")
    if path.resolve() in chain:
        raise ScenarioError(f"{path}: extends: circular inheritance "
                            + " -> ".join(str(p) for p in (*chain, path)))
    try:
        node = yaml.compose(text)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise ScenarioError(f"{path}{where}: not valid YAML: {exc}") from None
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
    if not isinstance(parent_name, str):
        _fail(path, lines, ("extends",), "the name of another scenario", parent_name)
    parent_path = path.parent / f"{parent_name}.yaml"
    if not parent_path.is_file():
        _fail(path, lines, ("extends",), f"an existing scenario ({parent_path} not found)",
              parent_name)
    parent, parent_text, parent_lines = _read_resolved(parent_path, (*chain, path.resolve()))
    _build(parent, parent_path, parent_text, parent_lines)  # parent errors name the parent file
    merged = {**parent, **{k: v for k, v in raw.items() if k not in ("parameters", "events")}}
    merged["parameters"] = {**parent["parameters"], **raw["parameters"]}
    merged["events"] = parent["events"] + raw["events"]
    # Events keep line numbers of their own file only: shift child indices past the parent's.
    shifted = {k: v for k, v in lines.items() if not (k and k[0] == "events")}
    for key, line in lines.items():
        if key and key[0] == "events" and len(key) > 1:
            shifted[("events", key[1] + len(parent["events"]), *key[2:])] = line
    return merged, f"# {parent_path.name}\n{parent_text}\n# {path.name}\n{text}", shifted


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
    sources = data["sources"]
    if isinstance(sources, str):
        sources = [sources]
    if not isinstance(sources, list) or not sources or not all(isinstance(s, str) for s in sources):
        _fail(where, lines, ("sources",), "a non-empty list of source texts", sources)
    if not isinstance(data["description"], str):
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
        raise ScenarioError(f"{where}: {_at(lines, ('parameters', name))}parameters.{name}: "
                            f"{exc}") from None
    events = tuple(_build_event(e, i, where, lines, world, start, end)
                   for i, e in enumerate(data["events"]))
    ids = [e.id for e in events if e.id]
    if len(ids) != len(set(ids)):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise ScenarioError(f"{where}: events: duplicate event id '{dup}'")
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
    if kind not in REGISTRY:
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
    return cls(values)


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
        return value if _is_int(value) else _Problem("a whole number")
    if kind == "float":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return float(value) if ok else _Problem("a number")
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
    if kind == "countries":
        known = set(world.iso3) | set(COUNTRY_GROUPS)
        bad = [v for v in items if v not in known]
        if bad:
            return _Problem(f"ISO3 codes of the world data or a group ({', '.join(COUNTRY_GROUPS)})"
                            f"; unknown: {', '.join(bad)}")
        return items
    raise AssertionError(kind)


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
    raise ScenarioError(f"{where}: {_at(lines, path)}{'.'.join(_label(path))}: expected {expected},"
                        f" got {got!r}")


__all__ = ["Scenario", "ScenarioError", "list_scenarios", "load_scenario", "scenario_dir",
           "scenario_from_dict"]
