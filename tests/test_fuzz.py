"""Fuzz: mutated shipped scenario and sweep files never crash geosim.

Hypothesis mutates the shipped files (deleted keys, wrong types, NaN/inf, huge and tiny numbers,
unknown codes, binary bytes, duplicate keys, deep nesting, alias bombs, circular and missing
`extends`) and checks, in process:

- `geosim validate` and a short `geosim run --until 2027` (the years where the shipped scenarios'
  events fire) exit 0 or 2, never with a traceback, with a short message; `validate` ok implies
  `run` ok (validation does every check the run does);
- a sweep file either loads and binds to its scenario, or raises `SweepError` with a short message.

The default profile (tests/conftest.py) runs a few dozen derandomised cases; use
`--hypothesis-profile=long` for a thousand-plus.
"""

from __future__ import annotations

import copy
import json
import math
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import event, given
from hypothesis import strategies as st

from geosim.cli import main
from geosim.experiments.spec import SweepError, parse_sweep
from geosim.experiments.sweep import prepare

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = {p.stem: p.read_text() for p in sorted((ROOT / "scenarios").glob("*.yaml"))}
SWEEPS = {p.stem: p.read_text() for p in sorted((ROOT / "experiments").glob("*.yaml"))}
FILES = {"scenarios": SCENARIOS, "sweeps": SWEEPS}
MAX_MESSAGE = 4000  # characters of stderr a refusal may print

NASTY: list[Any] = [
    None, "", " ", [], {}, True, False, 0, -1, 1, 2.5, -2.5, "text", "ZZZ", ["ZZZ"], "LAC",
    ["LAC", "ZZZ"], math.nan, math.inf, -math.inf, 1e300, -1e300, 1e-300, -1e-300, 10**30,
    -(10**30), 2**63, 1e4, 1e6, 2023, 2024, 2040, 2041, 1900, [1, 2], {"a": 1},
    {"type": "fta"}, [[[[[]]]]], "../../escape", "/abs/path", "\u00e9\u4e2d", "x" * 300,
]


def _paths(node: Any, here: tuple = ()) -> list[tuple]:
    """Every path into a parsed YAML tree (the root excluded)."""
    out = []
    items = node.items() if isinstance(node, dict) else enumerate(node) \
        if isinstance(node, list) else ()
    for key, value in items:
        out.append((*here, key))
        out.extend(_paths(value, (*here, key)))
    return out


def _set(tree: Any, path: tuple, value: Any, delete: bool = False) -> None:
    for key in path[:-1]:
        tree = tree[key]
    if delete:
        del tree[path[-1]]
    else:
        tree[path[-1]] = value


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


@st.composite
def data_mutation(draw: st.DrawFn, kind_of_file: str) -> tuple[str, bytes]:
    """A shipped file with one to three keys deleted, replaced by nasty values or added."""
    texts = FILES[kind_of_file]
    name = draw(st.sampled_from(sorted(texts)))
    data = yaml.safe_load(texts[name])
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(data)
        action = draw(st.sampled_from(["delete", "replace", "replace", "add"]))
        if action == "add" or not paths:
            parents = [()] + [p for p in paths if isinstance(_get(data, p), dict)]
            parent = draw(st.sampled_from(parents))
            key = draw(st.sampled_from(["colour", "year", "extends", "events", "budget_bn",
                                        "allow_out_of_range", "name", "samples", "1"]))
            target = _get(data, parent)
            target[key] = copy.deepcopy(draw(st.sampled_from(NASTY)))
            continue
        path = draw(st.sampled_from(paths))
        if action == "delete":
            _set(data, path, None, delete=True)
        else:
            _set(data, path, copy.deepcopy(draw(st.sampled_from(NASTY))))
    return name, yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True).encode()


@st.composite
def number_mutation(draw: st.DrawFn, kind_of_file: str) -> tuple[str, bytes]:
    """A shipped file with numbers scaled or set to the edges of the parameter table: mostly
    valid files with extreme values (validate ok must then mean run ok)."""
    from geosim.parameters import PARAMETERS

    texts = FILES[kind_of_file]
    name = draw(st.sampled_from(sorted(texts)))
    data = yaml.safe_load(texts[name])
    numbers = [p for p in _paths(data) if isinstance(_get(data, p), int | float)
               and not isinstance(_get(data, p), bool)]
    for _ in range(draw(st.integers(1, 4))):
        if numbers and draw(st.booleans()):
            path = draw(st.sampled_from(numbers))
            factor = draw(st.sampled_from([0, 0.001, 0.5, 2, 10, 100, 1e3, 1e4, -1]))
            value = _get(data, path) * factor
            _set(data, path, int(value) if isinstance(_get(data, path), int) else value)
        elif isinstance(data, dict) and isinstance(data.get("parameters", {}), dict):
            p = PARAMETERS[draw(st.sampled_from(sorted(PARAMETERS)))]
            edge = draw(st.sampled_from([p.low, p.high, p.default, p.low - 1e-9 * (p.high - p.low),
                                         p.high * 1.5, p.low / 2]))
            if "samples" in data:  # a sweep file: sample over the range instead
                data.setdefault("parameters", {})[p.name] = {"low": p.low, "high": edge}
            else:
                data.setdefault("parameters", {})[p.name] = edge
                if draw(st.booleans()):
                    data["allow_out_of_range"] = [p.name]
    return name, yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True).encode()


def _get(tree: Any, path: tuple) -> Any:
    for key in path:
        tree = tree[key]
    return tree


@st.composite
def text_mutation(draw: st.DrawFn, kind_of_file: str) -> tuple[str, bytes]:
    """A shipped file with bytes, duplicate keys, nesting, aliases or `extends` tampered with."""
    texts = FILES[kind_of_file]
    name = draw(st.sampled_from(sorted(texts)))
    text = texts[name]
    kind = draw(st.sampled_from(["binary", "duplicate", "nesting", "aliases", "extends",
                                 "truncate", "number"]))
    if kind == "binary":
        raw = text.encode()
        at = draw(st.integers(0, len(raw)))
        return name, raw[:at] + draw(st.binary(min_size=1, max_size=16)) + raw[at:]
    if kind == "duplicate":
        line = draw(st.sampled_from(["status: historical", "events: []", "parameters: {}",
                                     "sampler: grid", "samples: 4", "name: twice",
                                     "description: again"]))
        return name, f"{text}\n{line}\n".encode()
    if kind == "nesting":
        depth = draw(st.integers(10, 3000))
        key = draw(st.sampled_from(["parameters", "events", "colour", "outcomes"]))
        body = "[" * depth + "]" * depth
        return name, f"{_drop_top(text, key)}\n{key}: {body}\n".encode()
    if kind == "aliases":
        levels = draw(st.integers(1, 9))
        lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
        lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]"
                  for i in range(1, levels + 1)]
        return name, (text + "\n" + "\n".join(lines) + "\n").encode()
    if kind == "extends":
        target = draw(st.sampled_from([name, "missing_parent", "", "../scenarios/baseline",
                                       "/etc/passwd", "chain0"]))
        return name, f"{_drop_top(text, 'extends')}\nextends: {target!r}\n".encode()
    if kind == "number":
        value = draw(st.sampled_from([".nan", ".inf", "-.inf", "1e300", "1e-300", "-0",
                                      "99999999999999999999999999", "0x10", "1_000"]))
        field = draw(st.sampled_from(["budget_bn", "factor", "incentive", "year", "until",
                                      "sigma", "samples", "replications", "seed"]))
        out = [f"{line.split(':')[0]}: {value}" if line.strip().startswith(f"{field}:")
               else line for line in text.splitlines()]
        return name, ("\n".join(out) + "\n").encode()
    raw = text.encode()
    return name, raw[:draw(st.integers(0, len(raw)))]


def _drop_top(text: str, key: str) -> str:
    """The text without a top-level `key:` line (and its indented block)."""
    out, skipping = [], False
    for line in text.splitlines():
        if line.startswith(f"{key}:"):
            skipping = True
            continue
        if skipping and (line.startswith((" ", "-")) or not line.strip()):
            continue
        skipping = False
        out.append(line)
    return "\n".join(out)


def _chain_files(folder: Path) -> None:
    """chain0 -> chain1 -> chain0: a circular `extends` reachable by name."""
    header = "description: c\nstatus: hypothetical\nsources: [c]\n"
    (folder / "chain0.yaml").write_text(header + "extends: chain1\n")
    (folder / "chain1.yaml").write_text(header + "extends: chain0\n")


def _call(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    assert code in (0, 2), (argv, code, err[-2000:])
    assert "Traceback" not in err and "Traceback" not in out
    assert len(err) < MAX_MESSAGE, err[:500]
    return code, out, err


@given(case=st.one_of(data_mutation("scenarios"), text_mutation("scenarios"),
                      number_mutation("scenarios")))
def test_fuzz_scenarios_validate_and_run(case, capsys):
    name, body = case
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "scenarios"
        folder.mkdir()
        for stem, text in SCENARIOS.items():
            (folder / f"{stem}.yaml").write_text(text)
        _chain_files(folder)
        path = folder / f"{name}.yaml"
        path.write_bytes(body)
        code, out, err = _call(["validate", str(path)], capsys)
        event("validate: " + ("refused" if code else "ok"))
        if code == 2:
            assert err.startswith("error: ") and str(folder) in err, err[:500]
            return
        assert out.startswith("ok: ")
        end = int(out.strip().rstrip(")").rsplit("-", 1)[1])  # "ok: PATH (..., 2023-2040)"
        out_dir = Path(tmp) / "run"
        code, out, err = _call(["run", str(path), "--until", str(min(2027, end)), "--out",
                                str(out_dir), "--quiet"], capsys)
        assert code == 0, f"validate said ok, run failed: {err[:1000]}"
        assert (out_dir / "manifest.json").is_file()
        assert sorted(p.name for p in Path(tmp).iterdir()) == ["run", "scenarios"]
        shutil.rmtree(out_dir)


@given(case=st.one_of(data_mutation("sweeps"), text_mutation("sweeps"), number_mutation("sweeps")))
def test_fuzz_sweep_files_load_or_refuse(case):
    name, body = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{name}.yaml"
        path.write_bytes(body)
        try:
            from geosim.experiments.spec import load_sweep

            spec = load_sweep(path)
            prepare(spec)
        except SweepError as exc:
            event("sweep: refused")
            assert len(str(exc)) < MAX_MESSAGE
            assert str(path) in str(exc) or "scenario" in str(exc)
            return
        from geosim.experiments.spec import MAX_RUNS, count_runs

        event("sweep: ok")

        assert count_runs(spec) <= MAX_RUNS


def test_the_mutators_reach_both_outcomes():
    """The strategies make valid and invalid files (else the fuzz tests test nothing)."""
    good = parse_sweep(SWEEPS["accession_grid"], ROOT / "experiments" / "accession_grid.yaml")
    assert good.sampler == "grid"
    data = yaml.safe_load(SCENARIOS["pivot"])
    assert ("events", 0, "budget_bn") in _paths(data)


ARGUMENT = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=300),
    st.sampled_from(["-1", "0", "1", "1e9", "nan", "inf", "-inf", str(2**32), "2.5", "", ".",
                     "..", "/", "~", "--", "-x", "baseline", "scenarios", "results"]),
)
COMMANDS = [["validate"], ["run", "zz_missing", "--seed"], ["run", "zz_missing", "--until"],
            ["run", "zz_missing", "--out"], ["sweep", "zz_missing", "--workers"], ["analyze"],
            ["analyze", "zz_missing", "--target"], ["compare"], ["list", "--dir"],
            ["ge", "zz.csv", "--shock", "zz.csv", "--sigma"],
            ["data", "build", "--out", "zz_out", "--bogus"]]


@given(command=st.sampled_from(COMMANDS), args=st.lists(ARGUMENT, max_size=3))
def test_fuzz_command_lines(command, args, capsys, tmp_path, monkeypatch):
    """Random arguments and option values: exit 0 or 2, a short message, nothing written."""
    monkeypatch.chdir(tmp_path)
    code, _, _ = _call([*command, *args], capsys)
    assert code in (0, 2)
    assert list(tmp_path.iterdir()) == []


# -- `geosim ge` and `geosim compare` inputs (issue 18) ------------------------------------------

GE_FLOWS = "exporter,importer,value\nA,A,8\nA,B,2\nB,A,2\nB,B,8\nC,C,5\nC,A,1\nA,C,1\n"
GE_SHOCK = "exporter,importer,cost_factor\nA,B,0.9\nB,A,0.9\nC,A,0.5\n"
CELLS = ["", " ", "NA", "nan", "inf", "-inf", "-1", "0", "1e308", "1e-308", "abc", "A", "ZZ",
         "\x00", "x" * 500, '"', '"a,b"', "é中", "1,5", "0x10", "1_000", "  7  "]


@st.composite
def csv_mutation(draw: st.DrawFn, text: str) -> bytes:
    """A small valid CSV table with cells, rows, columns or bytes tampered with."""
    rows = [line.split(",") for line in text.splitlines()]
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["cell", "cell", "header", "row", "drop", "column", "bytes",
                                     "truncate", "many"]))
        if kind in ("cell", "header"):
            r = 0 if kind == "header" else draw(st.integers(1, len(rows) - 1)) \
                if len(rows) > 1 else 0
            if rows[r]:
                rows[r][draw(st.integers(0, len(rows[r]) - 1))] = draw(st.sampled_from(CELLS))
        elif kind == "row":
            rows.append(list(draw(st.sampled_from(rows))))
        elif kind == "drop" and len(rows) > 1:
            rows.pop(draw(st.integers(0, len(rows) - 1)))
        elif kind == "column":
            for row in rows:
                row.append(draw(st.sampled_from(CELLS)))
        elif kind == "many":  # many economies or many columns
            n = draw(st.sampled_from([2, 50, 1500]))  # 1500: more than the engine takes
            rows += [[f"K{i}", f"K{i}", "1"] for i in range(n)] if draw(st.booleans()) else []
            rows[0] += [f"c{i}" for i in range(draw(st.sampled_from([0, 40])))]
    raw = "\n".join(",".join(row) for row in rows).encode()
    if kind == "bytes":
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.binary(min_size=1, max_size=16)) + raw[at:]
    elif kind == "truncate":
        raw = raw[:draw(st.integers(0, len(raw)))]
    return raw


GE_OUTPUTS = [[], ["--out", "r.csv"], ["--out", "f.csv"], ["--out", "notes.txt"],
              ["--flows-out", "s.csv"], ["--out", "r.csv", "--flows-out", "r.csv"],
              ["--out", "r.csv", "--flows-out", "fo.csv"], ["--out", "."], ["--out", "sub"],
              ["--out", "link.csv"], ["--out", "no/such/r.csv"]]


@given(flows=st.one_of(st.just(GE_FLOWS.encode()), csv_mutation(GE_FLOWS)),
       shock=st.one_of(st.just(GE_SHOCK.encode()), csv_mutation(GE_SHOCK)),
       outputs=st.sampled_from(GE_OUTPUTS),
       options=st.lists(st.sampled_from([["--sigma", "5"], ["--sigma", "1.0001"],
                                         ["--sigma", "60"], ["--reference", "B"],
                                         ["--reference", "ZZ"], ["--conditional"],
                                         ["--imbalance", "output_ratio"], ["--max-iter", "3"],
                                         ["--tol", "1e-300"]]), max_size=3))
def test_fuzz_ge_inputs(flows, shock, outputs, options, capsys, tmp_path, monkeypatch):
    """`ge` on tampered tables and hostile outputs: exit 0, 1 (no equilibrium) or 2, a short
    message, the inputs and the user's files untouched, nothing written but the named outputs."""
    with tempfile.TemporaryDirectory(dir=tmp_path) as tmp:
        folder = Path(tmp)
        monkeypatch.chdir(folder)
        (folder / "f.csv").write_bytes(flows)
        (folder / "s.csv").write_bytes(shock)
        (folder / "notes.txt").write_text("my notes")
        (folder / "sub").mkdir()
        (folder / "link.csv").symlink_to(folder / "notes.txt")
        before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
        sigma = [] if any(o[0] == "--sigma" for o in options) else ["--sigma", "5"]
        argv = ["ge", "f.csv", "--shock", "s.csv", *sigma, *[a for o in options for a in o],
                *outputs]
        code = main(argv)
        out, err = capsys.readouterr()
        assert code in (0, 1, 2), (argv, code, err[-2000:])
        assert "Traceback" not in err and "Warning" not in err, err[-2000:]
        assert len(err) < MAX_MESSAGE, err[:500]
        event(f"ge: exit {code}")
        after = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
        named = {outputs[i + 1] for i in range(0, len(outputs), 2)} if code == 0 else set()
        assert set(after) - set(before) <= named, (argv, sorted(after))
        assert {k: after.get(k) for k in before} == before  # inputs and the user's files
        assert sorted(p.name for p in (folder / "sub").iterdir()) == []


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """Two finished runs of the 2023 world (baseline and pivot to 2024)."""
    folder = tmp_path_factory.mktemp("runs")
    for name in ("baseline", "pivot"):
        assert main(["run", name, "--until", "2024", "--quiet", "--out", str(folder / name)]) == 0
    return folder


@st.composite
def run_damage(draw: st.DrawFn) -> tuple[str, str, Any]:
    """One way to tamper with a run folder: (file, how, value)."""
    name = draw(st.sampled_from(["manifest.json", "countries.parquet", "region.parquet",
                                 ".geosim.json"]))
    how = draw(st.sampled_from(["bytes", "truncate", "delete", "json", "years", "columns",
                                "rows"]))
    if how == "json":
        value = draw(st.sampled_from([None, [], {}, "x", 1, {"scenario": "baseline"},
                                      {"scenario": "baseline", "seed": "x", "parameters": {}},
                                      {"scenario": "nosuch", "seed": 0, "parameters": {}},
                                      {"scenario": "baseline", "seed": 0, "parameters": []},
                                      {"scenario": "baseline", "seed": 0,
                                       "parameters": {"sigma": "x"}}]))
    elif how == "years":
        value = draw(st.sampled_from([-11, -1, 1, 100, 10**6]))
    elif how in ("bytes", "truncate"):
        value = draw(st.binary(max_size=32))
    else:
        value = draw(st.integers(0, 10))
    return name, how, value


def _damage(folder: Path, name: str, how: str, value: Any) -> None:
    import pandas as pd

    path = folder / name
    if not path.is_file():  # deleted by an earlier step
        return
    if how == "delete":
        path.unlink(missing_ok=True)
    elif how == "bytes":
        raw = path.read_bytes()
        path.write_bytes(raw[:len(raw) // 2] + value + raw[len(raw) // 2:])
    elif how == "truncate":
        path.write_bytes(path.read_bytes()[:len(value) * 40])
    elif how == "json":
        path.write_text(json.dumps(value) if name.endswith(".json") else "x")
    elif name.endswith(".parquet"):
        try:
            table = pd.read_parquet(path)
        except Exception:  # noqa: BLE001 - damaged already by an earlier step: leave it
            return
        if how == "years":
            table["year"] = table["year"] + value
        elif how == "columns":
            table = table.drop(columns=table.columns[value % len(table.columns)])
        else:
            table = table.iloc[value:]
        table.to_parquet(path, index=False)


@given(side=st.sampled_from(["a", "b"]), damage=st.lists(run_damage(), min_size=1, max_size=2),
       options=st.lists(st.sampled_from([["--out", "cmp"], ["--out", "a"], ["--out", ""],
                                         ["--out", "notes"], ["--param", "sigma=nan"]]),
                        max_size=2))
def test_fuzz_compare_inputs(side, damage, options, capsys, tmp_path, two_runs, monkeypatch):
    """`compare` on damaged or mismatched run folders: exit 0 or 2, a short message naming the
    folder, nothing written but `--out`, the runs and the user's files untouched."""
    import shutil

    with tempfile.TemporaryDirectory(dir=tmp_path) as tmp:
        folder = Path(tmp)
        monkeypatch.chdir(folder)
        shutil.copytree(two_runs / "baseline", folder / "a")
        shutil.copytree(two_runs / "pivot", folder / "b")
        (folder / "notes").mkdir()
        (folder / "notes" / "thesis.txt").write_text("x")
        for name, how, value in damage:
            _damage(folder / side, name, how, value)
        before = {p.relative_to(folder).as_posix(): p.read_bytes()
                  for p in folder.rglob("*") if p.is_file()}
        argv = ["compare", "a", "b", *[a for o in options for a in o]]
        if "--out" not in argv:
            argv += ["--out", "cmp"]
        code, _, err = _call(argv, capsys)
        event(f"compare: exit {code}")
        after = {p.relative_to(folder).as_posix(): p.read_bytes()
                 for p in folder.rglob("*") if p.is_file()}
        out = argv[len(argv) - argv[::-1].index("--out")]  # the last --out counts
        assert {k: v for k, v in after.items() if not k.startswith(f"{out}/")} == \
            {k: v for k, v in before.items() if not k.startswith(f"{out}/")}
        if code == 2:
            assert "error: " in err, err[:500]
