"""Run directories as results: the output-folder rule, atomic writing, reading runs back, and
comparing two runs' tables.

Owns the one rule every writer follows (`check_out`, `atomic_dir`): geosim deletes nothing it did
not write. Owns the comparison tables (e.g. pivot vs baseline); figures are drawn by
`geosim.reports`.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import pandas as pd
from pyarrow import ArrowException

from geosim import __version__, inputs, metrics
from geosim.scenario import Scenario, load_scenario

RUN_FILES = ("manifest.json", "countries.parquet", "region.parquet")
# Outcomes compared country by country (final year, percentage points for shares).
COMPARED = ("china_trade_share", "china_export_share", "china_import_share", "us_trade_share",
            "us_export_share", "us_import_share", "partner_hhi_exports", "china_fdi_share")
# The columns a comparison reads from a run's tables.
RUN_COLUMNS = {
    "countries.parquet": ("year", "iso3", *COMPARED, "real_gdp_index", "welfare_index"),
    "region.parquet": ("year", "china_trade_share", "china_export_share", "china_import_share",
                       "us_trade_share", "us_export_share", "us_import_share", "real_gdp_index"),
}
MANIFEST_KEYS = ("scenario", "seed", "parameters")
MANIFEST_BYTES = 10_000_000  # a manifest holds the scenario text (at most 1 MB) and timings


@dataclass(frozen=True)
class ComparisonInput:
    """One side of a comparison: a scenario with its parameters and seed (from a run directory's
    manifest, or a scenario name or file with the defaults)."""

    name: str
    scenario: Scenario
    parameters: dict | None
    seed: int


def comparison_input(source: str | Path) -> ComparisonInput:
    """Read a run directory's scenario, parameters and seed, or load a scenario by name/path."""
    path = Path(source)
    if not path.is_dir():
        spec = load_scenario(source)
        return ComparisonInput(spec.name, spec, None, 0)
    manifest = read_run(path).manifest
    stored = manifest.get("scenario_path")
    spec = load_scenario(stored if stored and Path(stored).is_file() else manifest["scenario"])
    return ComparisonInput(spec.name, spec, dict(manifest["parameters"]), int(manifest["seed"]))


# Every output folder geosim writes holds this marker: its kind, version and the files written.
MARKER = ".geosim.json"
KINDS = ("run", "comparison", "sweep", "analysis", "data", "demo", "report")
# Outputs of versions before the marker, recognised by a file only they write; they are replaced
# only when every file in them has a suffix geosim writes.
_LEGACY = {"run": "manifest.json", "comparison": "countries_change.csv",
           "analysis": "summary.csv", "data": "BUILD_REPORT.md",
           "demo": "usa_bra_zero_tariffs.csv", "sweep": "ledger.sqlite"}
_LEGACY_SUFFIXES = {".csv", ".png", ".parquet", ".json", ".md"}


class RunDirError(ValueError):
    """A folder is not a complete geosim run directory, or may not be written (user error)."""


def slug(name: str, default: str = "scenario") -> str:
    """A safe folder name from free text: letters, digits, `_`, `-`, `.`; never `.`/`..`/empty."""
    text = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name)).strip("._-")[:80]
    return text or default


def output_kind(folder: str | Path) -> str | None:
    """The kind of geosim output a folder holds (run, comparison, sweep, ...), or None."""
    folder = Path(folder)
    try:
        marker = json.loads((folder / MARKER).read_text())
        if isinstance(marker, dict) and marker.get("kind") in KINDS:
            return marker["kind"]
    except (OSError, ValueError):
        pass
    for kind, name in _LEGACY.items():
        if (folder / name).is_file():
            if kind == "run":
                try:
                    if "geosim_version" not in json.loads((folder / name).read_text()):
                        continue
                except (OSError, ValueError):
                    continue
            return kind
    return None


def check_out(target: str | Path, kind: str, *, replace: bool = True) -> bool:
    """Check that geosim may write its `kind` of output at `target`; True if one is there already.

    Refused (RunDirError): the working folder, one of its parents, the home folder or `/`; a
    symbolic link (to anything: the one rule for links, checked before any work); a file; a
    non-empty folder that is not a geosim output of the same kind; with ``replace``, an
    output holding files geosim did not write there (e.g. notes the user added).
    """
    target = Path(target)
    where = f"output folder {target}"
    try:
        resolved = target.resolve()
        cwd = Path.cwd().resolve()
        home = Path.home().resolve()
    except (OSError, RuntimeError, KeyError) as exc:
        raise RunDirError(f"{where}: cannot resolve the path ({exc})") from None
    if resolved == cwd or resolved in cwd.parents or resolved == home \
            or resolved.parent == resolved:
        raise RunDirError(f"{where}: refusing to write there (it is "
                          + ("the working folder" if resolved == cwd else
                             "a parent of the working folder" if resolved in cwd.parents else
                             "the home folder" if resolved != resolved.parent else "the root")
                          + "); give a new folder, e.g. --out results/mine")
    if target.is_symlink():
        raise RunDirError(f"{where}: is a symbolic link; geosim writes only to a real path: "
                          "give the folder it points to, or a new folder")
    if not target.exists():
        return False
    if not target.is_dir():
        raise RunDirError(f"{where}: exists and is not a folder")
    try:
        entries = [e.name for e in target.iterdir()]
    except OSError as exc:
        raise RunDirError(f"{where}: cannot read it ({exc.strerror or exc})") from None
    if not entries:
        return False
    found = output_kind(target)
    if found is None:
        raise RunDirError(f"{where}: not empty and not a geosim output (holds "
                          f"{_few(sorted(entries))}); geosim never replaces a folder it did not "
                          "write: give a new or empty folder")
    if found != kind:
        raise RunDirError(f"{where}: holds a geosim {found}, not a {kind}; refusing to replace "
                          "it: give another folder")
    if replace and (foreign := _foreign_files(target)):
        raise RunDirError(f"{where}: holds a geosim {kind} plus files geosim did not write "
                          f"there ({_few(foreign)}); refusing to replace it: move them out or "
                          "give another folder")
    return True


def check_out_file(target: str | Path, headers: tuple[str, ...], *,
                   sources: tuple[str | Path, ...] = ()) -> bool:
    """Check that geosim may write a one-file output (a CSV table) at `target`; True if it
    replaces one. The same rule as `check_out`, for a file: what geosim wrote before is
    recognised by its first line, which must be one of `headers` (the table's column names).

    Refused (RunDirError): a symbolic link; one of the command's input files (`sources`); a
    folder or anything but a regular file; an existing file whose first line is not one of
    `headers` (a file geosim did not write); a path in a folder that does not exist.
    """
    target = Path(target)
    where = f"output file {inputs_shorten(target)}"
    if target.is_symlink():
        raise RunDirError(f"{where}: is a symbolic link; geosim writes only to a real path: "
                          "give the file it points to, or a new name")
    for source in sources:
        if _same_file(target, Path(source)):
            raise RunDirError(f"{where}: is an input of this command ({inputs_shorten(source)});"
                              " refusing to overwrite it: give a new file name")
    if not target.parent.is_dir():
        raise RunDirError(f"cannot write {inputs_shorten(target)}: the folder "
                          f"{inputs_shorten(target.parent)} does not exist")
    if not target.exists():
        return False
    if target.is_dir():
        raise RunDirError(f"{where}: is a folder; give a file name, e.g. {target / 'result.csv'}")
    if not target.is_file():
        raise RunDirError(f"{where}: exists and is not a regular file")
    try:
        with open(target, "rb") as handle:
            first = handle.read(4096).split(b"\n", 1)[0].strip().decode("utf-8", "replace")
    except OSError as exc:
        raise RunDirError(f"{where}: cannot read it ({exc.strerror or exc})") from None
    if first not in headers:
        raise RunDirError(f"{where}: exists and is not a table geosim wrote (its first line is "
                          f"not the header of one, {inputs.shorten(headers[0], 40)}); geosim "
                          "never replaces a file it did not write: remove it or give a new name")
    return True


def inputs_shorten(path: str | Path) -> str:
    """A path for a message, shortened."""
    return inputs.shorten(path, 200)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and a.samefile(b) or a.resolve() == b.resolve()
    except (OSError, RuntimeError):
        return False


def check_distinct_outputs(named: dict[str, str | Path | None]) -> None:
    """Two outputs of one command may not be the same file: {option: path or None}."""
    seen: dict[Path, str] = {}
    for option, path in named.items():
        if path is None:
            continue
        try:
            key = Path(path).resolve()
        except (OSError, RuntimeError):
            key = Path(path).absolute()
        if key in seen:
            raise RunDirError(f"{option} and {seen[key]} name the same file "
                              f"{inputs_shorten(path)}; give each output its own name")
        seen[key] = option


def write_files(writers: dict[Path, Callable[[TextIO], None]]) -> None:
    """Write text files atomically: each to a temporary file beside it (`.NAME.<pid>-<hex>.tmp`),
    then all moved into place; on any error (or Ctrl-C) the temporary files are removed and
    no target is touched. Targets must have passed `check_out_file`."""
    temps: dict[Path, Path] = {}
    try:
        for target, write in writers.items():
            tmp = target.parent / f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp"
            temps[target] = tmp
            with open(tmp, "x", newline="") as handle:
                write(handle)
        for target, tmp in temps.items():
            os.replace(tmp, target)
    except OSError as exc:
        raise RunDirError(f"output file {inputs_shorten(exc.filename or target)}: cannot write "
                          f"({exc.strerror or exc})") from None
    finally:
        for tmp in temps.values():
            tmp.unlink(missing_ok=True)


def _foreign_files(folder: Path) -> list[str]:
    """Files in a previous output that its marker does not list (legacy: unexpected suffixes)."""
    present = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                     if not p.is_dir() and p.name != MARKER)
    try:
        listed = json.loads((folder / MARKER).read_text()).get("files")
    except (OSError, ValueError, AttributeError):
        listed = None
    if isinstance(listed, list):
        return [f for f in present if f not in set(listed)]
    return [f for f in present if Path(f).suffix not in _LEGACY_SUFFIXES]


def write_marker(folder: Path, kind: str, files: bool = True) -> None:
    """Write the marker naming the folder's kind (and, for a finished output, its files)."""
    body: dict = {"kind": kind, "geosim_version": __version__}
    if files:
        body["files"] = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                               if not p.is_dir() and p.name != MARKER)
    (folder / MARKER).write_text(json.dumps(body, indent=1) + "\n")


def remove_stale_temps(target: Path) -> list[Path]:
    """Remove temporary folders that an interrupted write into `target` left beside it.

    They are named `.NAME.<pid>-<hex>` and `.NAME.old-<pid>` (removed once that process is gone)
    or `.NAME.xxxxxxxx` (older versions' temporary folders).
    """
    name = re.escape(target.name)
    ours = re.compile(rf"\.{name}\.(?:(\d+)-[0-9a-f]{{8}}|old-(\d+))")
    legacy = re.compile(rf"\.{name}\.[a-z0-9_]{{8}}")
    removed = []
    try:
        siblings = list(target.parent.iterdir())
    except OSError:
        return removed
    for path in siblings:
        if path.is_symlink() or not path.is_dir():
            continue
        m = ours.fullmatch(path.name)
        if m and not _alive(int(m.group(1) or m.group(2))) or (
                not m and legacy.fullmatch(path.name)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def _few(names: list[str], k: int = 5) -> str:
    shown = ", ".join(names[:k])
    return shown + (f" and {len(names) - k} more" if len(names) > k else "")


@dataclass
class Run:
    """A run directory read back: manifest and tables."""

    path: Path
    manifest: dict
    countries: pd.DataFrame
    region: pd.DataFrame

    @property
    def label(self) -> str:
        """Scenario name and seed, for tables and legends."""
        return f"{self.manifest['scenario']} (seed {self.manifest['seed']})"


def read_run(path: str | Path) -> Run:
    """Read a run directory written by `geosim.runner.write_run`."""
    path = Path(path)
    try:
        missing = [f for f in RUN_FILES if not (path / f).is_file()]
    except OSError as exc:
        raise RunDirError(f"{str(path)[:120]}: not a readable folder ({exc.strerror})") from None
    if missing:
        raise RunDirError(f"{path}: not a geosim run directory (missing {', '.join(missing)})")
    tables = {}
    try:
        name = "manifest.json"
        manifest = json.loads(inputs.decode(
            inputs.read_bytes(path / name, what="run manifest", limit=MANIFEST_BYTES),
            str(path / name), "JSON text"))
        if not isinstance(manifest, dict) or any(k not in manifest for k in MANIFEST_KEYS) \
                or not isinstance(manifest["seed"], int) \
                or not isinstance(manifest["parameters"], dict):
            raise ValueError("not a geosim manifest (expected the keys "
                             f"{', '.join(MANIFEST_KEYS)})")
        for name, needed in RUN_COLUMNS.items():
            tables[name] = pd.read_parquet(path / name)
            if tables[name].empty:
                raise ValueError("no rows")
            if absent := [c for c in needed if c not in tables[name]]:
                raise ValueError(f"missing column(s) {', '.join(absent)}")
    except (OSError, ValueError, ArrowException) as exc:  # JSONDecodeError is a ValueError
        raise RunDirError(f"{path / name} is damaged ({inputs.shorten(exc, 160)}); run the "
                          "scenario again to rewrite the folder") from None
    return Run(path, manifest, tables["countries.parquet"], tables["region.parquet"])


def check_comparable(a: Run, b: Run) -> str | None:
    """Refuse two runs of different worlds (base years); return a note if their horizons
    differ (they are compared over their common years), else None."""
    first_a, first_b = int(a.region["year"].min()), int(b.region["year"].min())
    last_a, last_b = int(a.region["year"].max()), int(b.region["year"].max())
    if first_a != first_b:
        raise RunDirError(f"cannot compare {a.path} ({a.label}, the {first_a} world, "
                          f"{first_a}-{last_a}) with {b.path} ({b.label}, the {first_b} world, "
                          f"{first_b}-{last_b}): different base years; compare two runs that "
                          "start from the same world")
    if last_a != last_b:
        return (f"{a.path} runs {first_a}-{last_a}, {b.path} {first_b}-{last_b}: compared "
                f"over the common years {first_a}-{min(last_a, last_b)}")
    return None


def compare(a: Run, b: Run) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Differences b − a: per country in the final common year, and for the region per year.

    Levels in percent (`*_a_pct`, `*_b_pct`), their changes in percentage points
    (`*_change_pp`); `real_gdp_index` and `welfare_index` as percent changes (`*_change_pct`).
    """
    final = min(a.countries["year"].max(), b.countries["year"].max())
    ca = a.countries[a.countries["year"] == final].set_index("iso3")
    cb = b.countries[b.countries["year"] == final].set_index("iso3")
    per_country = pd.DataFrame(index=ca.index)
    for col in COMPARED:
        per_country[f"{col}_a_pct"] = 100 * ca[col]
        per_country[f"{col}_b_pct"] = 100 * cb[col]
        per_country[f"{col}_change_pp"] = 100 * (cb[col] - ca[col])
    for col in ("real_gdp_index", "welfare_index"):
        per_country[f"{col.removesuffix('_index')}_change_pct"] = 100 * (cb[col] / ca[col] - 1)
    per_country.insert(0, "year", final)
    ra, rb = a.region.set_index("year"), b.region.set_index("year")
    years = ra.index.intersection(rb.index)
    region = pd.DataFrame(index=years)
    for col in ("china_trade_share", "china_export_share", "china_import_share",
                "us_trade_share", "us_export_share", "us_import_share"):
        region[f"{col}_a_pct"] = 100 * ra.loc[years, col]
        region[f"{col}_b_pct"] = 100 * rb.loc[years, col]
        region[f"{col}_change_pp"] = 100 * (rb.loc[years, col] - ra.loc[years, col])
    region["real_gdp_change_pct"] = 100 * (rb.loc[years, "real_gdp_index"]
                                           / ra.loc[years, "real_gdp_index"] - 1)
    region = region.join(metrics.region_dollars(ra.loc[years], rb.loc[years]))
    return per_country.reset_index(), region.reset_index()


@contextmanager
def atomic_dir(target: str | Path, kind: str = "run") -> Iterator[Path]:
    """Yield a temporary folder beside ``target``; on success it replaces ``target`` whole.

    ``target`` must pass `check_out` (new, empty, or a previous geosim output of the same
    ``kind``, which is replaced; stderr says so). On any error the temporary folder is removed
    and ``target`` is left as it was, so readers never see a half-written result; temporary
    folders of an earlier interrupted write are removed first. The folder gets the marker
    (`MARKER`) and normal permissions (0777 minus the umask).
    """
    target = Path(target)
    check_out(target, kind)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(target)
        tmp = target.parent / f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}"
        tmp.mkdir()
    except OSError as exc:
        raise RunDirError(f"output folder {target}: cannot write ({exc.strerror or exc})"
                          ) from None
    try:
        yield tmp
        write_marker(tmp, kind)
        replacing = check_out(target, kind)  # again: the folder may have changed meanwhile
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    try:
        if replacing:
            print(f"replacing the previous geosim {kind} in {target}", file=sys.stderr)
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            if target.is_dir():
                target.rmdir()  # empty (checked): os.replace needs it gone
            os.replace(tmp, target)
    except OSError as exc:  # never leave the temporary folder behind
        shutil.rmtree(tmp, ignore_errors=True)
        raise RunDirError(f"output folder {target}: cannot write ({exc.strerror or exc})"
                          ) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
