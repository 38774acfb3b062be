"""Sweep files: the YAML schema of an experiment, its validation and its design hash.

Owns `SweepSpec` (parameters, sampler, replications, horizon, outcomes) and `SweepError`.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from scipy.special import ndtr, ndtri

from geosim import safeyaml

SAMPLERS = ("grid", "random", "lhs", "sobol", "morris")
DISTRIBUTIONS = ("uniform", "loguniform", "normal", "triangular", "levels")
REDUCTIONS = ("final", "start", "change", "pct_change", "mean", "min", "max")

# Numeric columns of the model's tables (docs/architecture.md, `geosim.runner.simulate`).
REGION_METRICS = (
    "china_export_share", "china_import_share", "china_trade_share", "us_export_share",
    "us_import_share", "us_trade_share", "n_top_partner_china_exports",
    "n_top_partner_china_imports", "intra_americas_trade", "trade_with_china", "real_gdp_index",
    "trade_with_us", "intra_region_trade", "total_trade",
)
COUNTRY_METRICS = (
    "gdp", "real_gdp_index", "china_export_share", "china_import_share", "china_trade_share",
    "us_export_share", "us_import_share", "us_trade_share", "partner_hhi_exports",
    "partner_hhi_imports", "china_fdi_share", "china_debt_gdp", "welfare_index",
)

TOP_KEYS = {
    "name": "the sweep's name (default: the file stem)",
    "description": "one line",
    "scenario": "the base scenario: a name in scenarios/ or a path",
    "sampler": f"one of {', '.join(SAMPLERS)}",
    "samples": "number of samples (sobol: base N, morris: trajectories; not for grid)",
    "options": "sampler options (sobol: calc_second_order, scramble; morris: num_levels)",
    "replications": "seeds per sample (default 1)",
    "seed": "root seed (default 0)",
    "until": "last simulated year (default: the scenario's end)",
    "parameters": "mapping name -> range, distribution or levels (the uncertainties)",
    "levers": "policies crossed with every sample of the parameters: mapping name -> a list, "
              "levels, or a range with points (grid, random or lhs samplers)",
    "outcomes": "mapping name -> {metric, of, reduce, vs_reference}",
    "reference": "a scenario run alongside each run (same seed, same model parameters) for "
                 "outcomes with vs_reference: true, e.g. baseline",
    "series": "store yearly paths: true (every outcome's metric), false, or a list",
}
PARAMETER_KEYS = (
    "distribution", "low", "high", "mean", "sd", "mode", "levels", "integer", "points",
)
OUTCOME_KEYS = ("metric", "of", "reduce", "vs_reference")
SAMPLER_OPTIONS = {
    "grid": {},
    "random": {},
    "lhs": {},
    "sobol": {"calc_second_order": bool, "scramble": bool},
    "morris": {"num_levels": int},
}
# Untruncated normals are cut at these quantiles so that u = 0 or 1 (Morris grids) stays finite.
NORMAL_TAIL = 5e-4
# Largest sweep accepted (runs, replications and reference runs included): a design is refused
# before anything is allocated. A million runs of one second each is 12 core-days.
MAX_RUNS = 1_000_000
SEED_LIMIT = 2**32


class SweepError(ValueError):
    """A sweep file the user can fix; the message names the file, the field path and the fix."""


@dataclass(frozen=True)
class ParameterSpec:
    """One swept input: a model parameter (`sigma`) or a scenario field (`events.<id>.<field>`).

    Attributes:
        name: the address passed to `Scenario.with_overrides`.
        distribution: uniform, loguniform, normal, triangular or levels.
        low, high: range (truncation bounds for normal).
        mean, sd: normal distribution.
        mode: triangular distribution.
        levels: values passed to the model (levels distribution).
        labels: how each level is shown in tables (the mapping key for named levels).
        integer: round sampled values to integers (default for `*.year` and for parameters the
            table marks integer, e.g. `rta_phase_in`).
        points: grid points spanning [low, high] (grid sampler with a range).
    """

    name: str
    distribution: str
    low: float | None = None
    high: float | None = None
    mean: float | None = None
    sd: float | None = None
    mode: float | None = None
    levels: tuple[Any, ...] | None = None
    labels: tuple[Any, ...] | None = None
    integer: bool = False
    points: int | None = None

    def from_unit(self, u: np.ndarray) -> list[tuple[Any, Any]]:
        """Map unit-interval draws to (model value, label) pairs by the inverse CDF."""
        u = np.asarray(u, dtype=float)
        if self.distribution == "levels":
            k = len(self.levels)
            idx = np.minimum((u * k).astype(int), k - 1)
            return [(self.levels[i], self.labels[i]) for i in idx]
        if self.distribution == "uniform" and self.integer:
            lo, hi = round(self.low), round(self.high)
            x = np.minimum(lo + np.floor(u * (hi - lo + 1)), hi)
        elif self.distribution == "uniform":  # clipped: low + 1·(high − low) may round above high
            x = np.clip(self.low + u * (self.high - self.low), self.low, self.high)
        elif self.distribution == "loguniform":
            x = np.clip(np.exp(np.log(self.low) + u * (np.log(self.high) - np.log(self.low))),
                        self.low, self.high)
        elif self.distribution == "normal":
            lo, hi = self.low, self.high
            a = ndtr((lo - self.mean) / self.sd) if lo is not None else NORMAL_TAIL
            b = ndtr((hi - self.mean) / self.sd) if hi is not None else 1 - NORMAL_TAIL
            x = self.mean + self.sd * ndtri(a + u * (b - a))
            x = np.clip(x, -np.inf if lo is None else lo, np.inf if hi is None else hi)
        else:  # triangular
            lo, mo, hi = self.low, self.mode, self.high
            c = (mo - lo) / (hi - lo)
            x = np.where(u < c, lo + np.sqrt(u * (hi - lo) * (mo - lo)),
                         hi - np.sqrt((1 - u) * (hi - lo) * (hi - mo)))
        if self.integer:
            x = np.rint(x)
            return [(int(v), int(v)) for v in x]
        return [(float(v), float(v)) for v in x]

    def grid(self) -> list[tuple[Any, Any]]:
        """The (model value, label) pairs a grid sweeps over."""
        if self.distribution == "levels":
            return list(zip(self.levels, self.labels, strict=True))
        xs = np.linspace(self.low, self.high, self.points)
        if self.integer:
            return [(int(v), int(v)) for v in dict.fromkeys(np.rint(xs))]
        return [(float(v), float(v)) for v in xs]


@dataclass(frozen=True)
class OutcomeSpec:
    """One scalar outcome: a metric of a table, for `region` or one country, reduced over years."""

    name: str
    metric: str
    of: str = "region"
    reduce: str = "final"
    vs_reference: bool = False  # the run's value minus the paired reference run's

    @property
    def series(self) -> str:
        """The yearly path this outcome reduces, as `<of>.<metric>`."""
        return f"{self.of}.{self.metric}"


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep file."""

    name: str
    scenario: str
    sampler: str
    parameters: tuple[ParameterSpec, ...]
    outcomes: tuple[OutcomeSpec, ...]
    samples: int | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    replications: int = 1
    seed: int = 0
    until: int | None = None
    series: tuple[str, ...] = ()
    reference: str | None = None
    levers: tuple[ParameterSpec, ...] = ()
    description: str = ""
    path: Path | None = None
    text: str = ""
    lines: Mapping[tuple[str, ...], int] = field(default_factory=dict, repr=False, compare=False)

    def locate(self, *at: str) -> str:
        """`<file>, line <n>: <field path>` for messages about a field of this sweep file."""
        return _locate(self.path, self.lines, at)

    @property
    def parameter_names(self) -> list[str]:
        """Names of the swept parameters, in file order."""
        return [p.name for p in self.parameters]

    @property
    def lever_names(self) -> list[str]:
        """Names of the levers (policies crossed with the parameters' samples), in file order."""
        return [p.name for p in self.levers]

    @property
    def input_names(self) -> list[str]:
        """Every input a run records: the levers, then the swept parameters."""
        return self.lever_names + self.parameter_names

    @property
    def lever_settings(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """Every combination of the levers' values: (model values, labels); [({}, {})] if
        there are no levers."""
        grids = [p.grid() for p in self.levers]
        return [({p.name: v for p, (v, _) in zip(self.levers, combo, strict=True)},
                 {p.name: lab for p, (_, lab) in zip(self.levers, combo, strict=True)})
                for combo in itertools.product(*grids)]

    @property
    def outcome_names(self) -> list[str]:
        """Names of the scalar outcomes, in file order."""
        return [o.name for o in self.outcomes]

    def design(self) -> dict[str, Any]:
        """Everything that decides which runs exist and what they record (hashed for resume)."""
        return {
            "scenario": self.scenario,
            "sampler": self.sampler,
            "samples": self.samples,
            "options": dict(sorted(self.options.items())),
            "replications": self.replications,
            "seed": self.seed,
            "until": self.until,
            "parameters": [_drop_none(p.__dict__) for p in self.parameters],
            "outcomes": [o.__dict__ for o in self.outcomes],
            "series": list(self.series),
            "reference": self.reference,
            # only when present, so the hashes of sweeps without levers stay as they were
            **({"levers": [_drop_none(p.__dict__) for p in self.levers]} if self.levers else {}),
            # Sobol and Morris blocks share seeds (`samplers.seed_block`): a ledger made when
            # every sample had its own is not resumed with the new seeds
            **({"seeds": "per block"} if self.sampler in ("sobol", "morris") else {}),
        }

    @property
    def design_hash(self) -> str:
        """SHA-256 of the canonical design (not of the file text: comments may change)."""
        blob = json.dumps(self.design(), sort_keys=True, default=list)
        return hashlib.sha256(blob.encode()).hexdigest()


def _drop_none(d: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None and v is not False}


# --------------------------------------------------------------------------- loading


def find_sweep(name_or_path: str | Path, directory: str | Path = "experiments") -> Path:
    """Resolve a sweep argument: a path, or a bare name looked up in `experiments/`."""
    p = Path(name_or_path)
    try:
        if p.is_file() or p.exists() and not p.is_dir():  # a FIFO: the reader refuses it
            return p
        for candidate in (Path(directory) / p, Path(directory) / f"{p}.yaml",
                          p.with_suffix(".yaml")):
            if candidate.is_file():
                return candidate
    except (OSError, ValueError) as exc:  # a name too long, an empty suffix...
        raise SweepError(f"{str(name_or_path)[:100]}: not a usable sweep file name ({exc})"
                         ) from None
    raise SweepError(f"{name_or_path}: no such sweep file (looked for it as a path and in "
                     f"{directory}/)")


def load_sweep(path: str | Path) -> SweepSpec:
    """Read and validate a sweep file.

    Args:
        path: a YAML file, or a bare name looked up in `experiments/`.

    Returns:
        The validated `SweepSpec`.

    Raises:
        SweepError: naming the file, the line, the field path and what was expected.
    """
    path = find_sweep(path)
    try:
        text = safeyaml.read_text(path, "sweep file")
    except safeyaml.YamlError as exc:
        raise SweepError(str(exc)) from None
    return parse_sweep(text, path)


def parse_sweep(text: str, path: str | Path = "<sweep>") -> SweepSpec:
    """Validate sweep-file text (see `load_sweep`)."""
    path = Path(path)
    checker = _Checker(path, text)
    try:
        data, node = safeyaml.load(text, str(path))
    except safeyaml.YamlError as exc:
        raise SweepError(str(exc)) from None
    checker.index(node)
    return checker.sweep(data)


class _Checker:
    """Small named checks over the parsed YAML, each raising a `SweepError` with the location."""

    def __init__(self, path: Path, text: str):
        self.path, self.text = path, text
        self.lines: dict[tuple[str, ...], int] = {}

    def index(self, node: yaml.Node | None, at: tuple[str, ...] = ()) -> None:
        """Record the line of every mapping key, by field path."""
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                key = (*at, str(k.value))
                self.lines[key] = k.start_mark.line + 1
                self.index(v, key)
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                self.lines.setdefault((*at, str(i)), v.start_mark.line + 1)
                self.index(v, (*at, str(i)))

    def fail(self, at: tuple[str, ...], message: str) -> SweepError:
        return SweepError(f"{_locate(self.path, self.lines, at)}: {message}")

    def keys(self, data: Any, allowed: Any, at: tuple[str, ...], what: str) -> dict:
        if not isinstance(data, dict):
            raise self.fail(at, f"expected a mapping ({what}), got {_show(data)}")
        for k in data:
            if k not in allowed:
                hint = _suggest(str(k), list(allowed))
                raise self.fail((*at, str(k)), f"unknown key{hint}; {what} takes "
                                f"{', '.join(allowed)}")
        return data

    def number(self, value: Any, at: tuple[str, ...], *, positive: bool = False) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isinf(value) \
                or math.isnan(value):
            raise self.fail(at, f"expected a number, got {_show(value)}")
        if positive and value <= 0:
            raise self.fail(at, f"expected a number > 0, got {value}")
        return value

    def integer(self, value: Any, at: tuple[str, ...], minimum: int,
                maximum: int = MAX_RUNS) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not \
                minimum <= value <= maximum:
            raise self.fail(at, f"expected an integer from {minimum} to {maximum:,}, got "
                            f"{_show(value)}")
        return value

    # -- the file ---------------------------------------------------------------------------

    def sweep(self, data: Any) -> SweepSpec:
        if data is None:
            raise self.fail((), "the file is empty")
        self.keys(data, TOP_KEYS, (), "a sweep file")
        for key in ("scenario", "sampler", "parameters", "outcomes"):
            if key not in data:
                raise self.fail((), f"missing required key '{key}' ({TOP_KEYS[key]})")
        name = data.get("name", self.path.stem)
        if not isinstance(name, str) or not name.strip("._- ") or "/" in name or len(name) > 100:
            raise self.fail(("name",), f"expected a non-empty name without '/', got {_show(name)}")
        if not isinstance(data["scenario"], str) or not data["scenario"]:
            raise self.fail(("scenario",), f"expected a scenario name or path, got "
                            f"{_show(data['scenario'])}")
        sampler = data["sampler"]
        if sampler not in SAMPLERS:
            raise self.fail(("sampler",), f"unknown sampler {_show(sampler)}"
                            f"{_suggest(str(sampler), SAMPLERS)}; expected one of "
                            f"{', '.join(SAMPLERS)}")
        options = self.options(sampler, data.get("options") or {})
        parameters = self.parameters(data["parameters"], sampler)
        levers = self.levers(data.get("levers"), sampler, {p.name for p in parameters})
        samples = self.samples(sampler, data.get("samples"))
        until = data.get("until")
        if until is not None:
            until = self.integer(until, ("until",), 0)
        description = data.get("description", "")
        if not isinstance(description, str):
            raise self.fail(("description",), f"expected text, got {_show(description)}")
        reference = data.get("reference")
        if reference is not None and (not isinstance(reference, str) or not reference):
            raise self.fail(("reference",), f"expected a scenario name or path, got "
                            f"{_show(reference)}")
        outcomes = self.outcomes(data["outcomes"], {p.name for p in (*parameters, *levers)})
        for o in outcomes:
            if o.vs_reference and reference is None:
                raise self.fail(("outcomes", o.name.split(".")[0], "vs_reference"),
                                "needs a top-level 'reference' scenario (e.g. reference: baseline)")
        spec = SweepSpec(
            name=name,
            description=description,
            scenario=data["scenario"],
            sampler=sampler,
            samples=samples,
            options=options,
            replications=self.integer(data.get("replications", 1), ("replications",), 1),
            seed=self.integer(data.get("seed", 0), ("seed",), 0, SEED_LIMIT - 1),
            until=until,
            parameters=parameters,
            levers=levers,
            outcomes=outcomes,
            series=self.series(data.get("series", False), outcomes),
            reference=reference,
            path=self.path,
            text=self.text,
            lines=self.lines,
        )
        runs = count_runs(spec)
        if runs > MAX_RUNS:
            at = ("samples",) if "samples" in data else ("parameters",)
            raise self.fail(at, f"the design has {runs:,} runs (samples x replications"
                            f"{' x 2 with the reference' if reference else ''}); at most "
                            f"{MAX_RUNS:,} are accepted: split the sweep or lower 'samples'")
        return spec

    def options(self, sampler: str, options: Any) -> dict[str, Any]:
        allowed = SAMPLER_OPTIONS[sampler]
        if options and not allowed:
            raise self.fail(("options",), f"the {sampler} sampler takes no options")
        self.keys(options, allowed, ("options",), f"options of the {sampler} sampler")
        for k, v in options.items():
            kind = allowed[k]
            if kind is bool and not isinstance(v, bool):
                raise self.fail(("options", k), f"expected true or false, got {_show(v)}")
            if kind is int:
                self.integer(v, ("options", k), 2)
        return dict(options)

    def samples(self, sampler: str, samples: Any) -> int | None:
        at = ("samples",)
        if sampler == "grid":
            if samples is not None:
                raise self.fail(at, "a grid's size is the product of its levels; remove "
                                "'samples' (give each parameter 'levels' or 'points')")
            return None
        if samples is None:
            raise self.fail((), f"missing required key 'samples' for the {sampler} sampler")
        n = self.integer(samples, at, 2 if sampler in ("sobol", "morris") else 1)
        if sampler == "sobol" and n & (n - 1):
            raise self.fail(at, f"the Sobol sequence needs a power of two, got {n} "
                            f"(try {1 << (n - 1).bit_length()})")
        return n

    def parameters(self, data: Any, sampler: str) -> tuple[ParameterSpec, ...]:
        at = ("parameters",)
        if not isinstance(data, dict) or not data:
            raise self.fail(at, f"expected a non-empty mapping of parameter names, got "
                            f"{_show(data)}")
        table = _parameter_table()
        out = []
        for name, body in data.items():
            name = str(name)
            self.parameter_name(name, table, (*at, name))
            out.append(self.parameter(name, body, sampler, table.get(name), (*at, name)))
        return tuple(out)

    def levers(self, data: Any, sampler: str, parameters: set[str]
               ) -> tuple[ParameterSpec, ...]:
        """Levers: discrete policy settings (a list, levels, or a range with points), each
        crossed with every sample of the parameters."""
        at = ("levers",)
        if data is None:
            return ()
        if sampler in ("sobol", "morris"):
            raise self.fail(at, f"levers are crossed with samples of the parameters; the "
                            f"{sampler} sampler's design is analysed whole, so use grid, random "
                            "or lhs (or make the policy a parameter)")
        if not isinstance(data, dict) or not data:
            raise self.fail(at, f"expected a non-empty mapping of lever names, got {_show(data)}")
        table = _parameter_table()
        out = []
        for name, body in data.items():
            name = str(name)
            if name in parameters:
                raise self.fail((*at, name), "is also under 'parameters': an input is either a "
                                "lever (a policy chosen) or an uncertainty (sampled), not both")
            self.parameter_name(name, table, (*at, name))
            out.append(self.parameter(name, body, "grid", table.get(name), (*at, name)))
        return tuple(out)

    def parameter_name(self, name: str, table: dict, at: tuple[str, ...]) -> None:
        if name in table:
            return
        if name.startswith("events."):
            if len(name.split(".")) != 3 or not all(name.split(".")):
                raise self.fail(at, "a scenario field is addressed as events.<event id>.<field>")
            return
        if table or not name.isidentifier():
            known = ", ".join(table) if table else "(geosim.parameters unavailable)"
            raise self.fail(at, f"unknown parameter{_suggest(name, list(table))}; model "
                            f"parameters are {known}; scenario fields are addressed as "
                            f"events.<event id>.<field>")

    def parameter(self, name: str, body: Any, sampler: str, known: Any,
                  at: tuple[str, ...]) -> ParameterSpec:
        if body is None:
            body = {}
        if isinstance(body, list):
            body = {"levels": body}
        self.keys(body, PARAMETER_KEYS, at, "a parameter")
        dist = body.get("distribution", "levels" if "levels" in body else "uniform")
        if dist not in DISTRIBUTIONS:
            raise self.fail((*at, "distribution"), f"unknown distribution {_show(dist)}; "
                            f"expected one of {', '.join(DISTRIBUTIONS)}")
        integer = body.get("integer", name.endswith(".year") or getattr(known, "integer", False))
        if not isinstance(integer, bool):
            raise self.fail((*at, "integer"), f"expected true or false, got {_show(integer)}")
        allowed = {
            "uniform": {"low", "high", "integer", "points"},
            "loguniform": {"low", "high", "points"},
            "normal": {"mean", "sd", "low", "high", "integer"},
            "triangular": {"low", "mode", "high", "integer"},
            "levels": {"levels"},
        }[dist] | {"distribution"}
        for k in body:
            if k not in allowed:
                raise self.fail((*at, k), f"not used by a {dist} distribution (it takes "
                                f"{', '.join(sorted(allowed))})")
        if dist == "levels":
            return self.levels(name, body.get("levels"), (*at, "levels"))
        num = {k: self.number(body[k], (*at, k)) for k in ("low", "high", "mean", "sd", "mode")
               if k in body}
        if dist in ("uniform", "loguniform", "triangular") and known is not None:
            num.setdefault("low", known.low)
            num.setdefault("high", known.high)
        required = {"uniform": ("low", "high"), "loguniform": ("low", "high"),
                    "triangular": ("low", "mode", "high"), "normal": ("mean", "sd")}[dist]
        for k in required:
            if num.get(k) is None:
                raise self.fail(at, f"a {dist} distribution needs '{k}'")
        lo, hi = num.get("low"), num.get("high")
        if lo is not None and hi is not None and not lo < hi:
            raise self.fail((*at, "high"), f"expected high > low, got low={lo}, high={hi}")
        if dist == "loguniform" and lo <= 0:
            raise self.fail((*at, "low"), f"a loguniform range needs low > 0, got {lo}")
        if dist == "normal" and num["sd"] <= 0:
            raise self.fail((*at, "sd"), f"expected sd > 0, got {num['sd']}")
        if dist == "triangular" and not lo <= num["mode"] <= hi:
            raise self.fail((*at, "mode"), f"expected low <= mode <= high, got {num['mode']}")
        points = body.get("points")
        if points is not None:
            points = self.integer(points, (*at, "points"), 2)
        if sampler == "grid" and points is None:
            raise self.fail(at, "a grid needs 'levels', or a range with 'points' (e.g. points: 3)")
        if sampler != "grid" and points is not None:
            raise self.fail((*at, "points"), f"'points' is for grid sweeps; the {sampler} "
                            "sampler draws from the range")
        if integer and lo is not None and hi is not None and not (lo == round(lo) and
                                                                  hi == round(hi)):
            raise self.fail(at, f"an integer parameter needs integer bounds, got {lo}..{hi}")
        return ParameterSpec(name=name, distribution=dist, integer=integer, points=points, **num)

    def levels(self, name: str, levels: Any, at: tuple[str, ...]) -> ParameterSpec:
        if isinstance(levels, dict):
            if not levels:
                raise self.fail(at, "expected at least one level")
            labels, values = tuple(str(k) for k in levels), tuple(levels.values())
        elif isinstance(levels, list) and levels:
            values = tuple(levels)
            labels = tuple("+".join(map(str, v)) if isinstance(v, list) else v for v in values)
        else:
            raise self.fail(at, f"expected a non-empty list of values or a mapping label -> "
                            f"value, got {_show(levels)}")
        if len(set(map(repr, labels))) != len(labels):
            raise self.fail(at, "levels must be distinct")
        values = tuple(tuple(v) if isinstance(v, list) else v for v in values)
        return ParameterSpec(name=name, distribution="levels", levels=values, labels=labels)

    def outcomes(self, data: Any, parameter_names: set[str]) -> tuple[OutcomeSpec, ...]:
        at = ("outcomes",)
        if not isinstance(data, dict) or not data:
            raise self.fail(at, f"expected a non-empty mapping name -> {{metric, of, reduce}}, "
                            f"got {_show(data)}")
        reserved = {"run_id", "sample_id", "replicate", "seed", "status", "error", "elapsed"}
        out = []
        for name, body in data.items():
            name, where = str(name), (*at, str(name))
            self.keys(body, OUTCOME_KEYS, where, "an outcome")
            if "metric" not in body:
                raise self.fail(where, "an outcome needs 'metric' (a column of the region or "
                                "countries table)")
            of = body.get("of", "region")
            targets = of if isinstance(of, list) else [of]
            if not targets or not all(isinstance(t, str) and t for t in targets):
                raise self.fail((*where, "of"), f"expected 'region', an ISO3 code or a list of "
                                f"codes, got {_show(of)}")
            metric = body["metric"]
            for target in targets:
                columns = REGION_METRICS if target == "region" else COUNTRY_METRICS
                if target != "region" and not (len(target) == 3 and target.isupper()):
                    raise self.fail((*where, "of"), f"expected 'region' or an ISO3 code, got "
                                    f"{_show(target)}")
                if metric not in columns:
                    table = "region" if target == "region" else "countries"
                    raise self.fail((*where, "metric"), f"not a numeric column of the {table} "
                                    f"table{_suggest(str(metric), columns)}; expected one of "
                                    f"{', '.join(columns)}")
            reduce = body.get("reduce", "final")
            if reduce not in REDUCTIONS:
                raise self.fail((*where, "reduce"), f"unknown reduction {_show(reduce)}; "
                                f"expected one of {', '.join(REDUCTIONS)}")
            relative = body.get("vs_reference", False)
            if not isinstance(relative, bool):
                raise self.fail((*where, "vs_reference"), f"expected true or false, got "
                                f"{_show(relative)}")
            for target in targets:
                full = name if not isinstance(of, list) else f"{name}.{target}"
                if full in reserved or full in parameter_names:
                    raise self.fail(where, f"the outcome name '{full}' is taken by a "
                                    "column of the results table")
                out.append(OutcomeSpec(full, metric, target, reduce, relative))
        return tuple(out)

    def series(self, data: Any, outcomes: tuple[OutcomeSpec, ...]) -> tuple[str, ...]:
        if data is True:
            return tuple(dict.fromkeys(o.series for o in outcomes))
        if data is False or data is None:
            return ()
        if not isinstance(data, list):
            raise self.fail(("series",), f"expected true, false or a list of '<of>.<metric>', "
                            f"got {_show(data)}")
        for i, s in enumerate(data):
            of, _, metric = str(s).partition(".")
            columns = REGION_METRICS if of == "region" else COUNTRY_METRICS
            if metric not in columns:
                raise self.fail(("series", str(i)), f"expected '<region or ISO3>.<metric>' with "
                                f"a numeric metric, got {_show(s)}")
        return tuple(dict.fromkeys(data))


def count_runs(spec: SweepSpec) -> int:
    """Runs a sweep asks for (replications and paired reference runs included), computed from
    the file alone, before any design is built."""
    d = len(spec.parameters)
    if spec.sampler == "grid":
        n = math.prod(len(p.levels) if p.levels is not None else p.points or 1
                      for p in spec.parameters)
    elif spec.sampler == "sobol":
        n = spec.samples * (2 * d + 2 if spec.options.get("calc_second_order", True) else d + 2)
    elif spec.sampler == "morris":
        n = spec.samples * (d + 1)
    else:
        n = spec.samples
    n *= math.prod(len(p.levels) if p.levels is not None else p.points or 1 for p in spec.levers)
    return n * spec.replications * (2 if spec.reference else 1)


def _locate(path: Path | None, lines: Mapping[tuple[str, ...], int], at: tuple[str, ...]) -> str:
    line = next((lines[at[:n]] for n in range(len(at), 0, -1) if at[:n] in lines), None)
    where = f"{path}, line {line}" if line else str(path or "<sweep>")
    return f"{where}: {'.'.join(at) or '(top level)'}"


def _parameter_table() -> dict[str, Any]:
    """`geosim.parameters.PARAMETERS`, or {} before the model package exists."""
    try:
        from geosim.parameters import PARAMETERS
    except ImportError:
        return {}
    return dict(PARAMETERS)


def _suggest(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
