"""Run directories as results: atomic writing, reading them back, comparing two runs' tables.

Owns the comparison tables (e.g. pivot vs baseline); figures are drawn by `geosim.reports`.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from geosim.scenario import Scenario, load_scenario

RUN_FILES = ("manifest.json", "countries.parquet", "region.parquet")
# Outcomes compared country by country (final year, percentage points for shares).
COMPARED = ("china_trade_share", "china_export_share", "china_import_share", "us_trade_share",
            "us_export_share", "us_import_share", "partner_hhi_exports", "china_fdi_share")


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


class RunDirError(ValueError):
    """A folder is not a complete geosim run directory."""


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
    missing = [f for f in RUN_FILES if not (path / f).is_file()]
    if missing:
        raise RunDirError(f"{path}: not a geosim run directory (missing {', '.join(missing)})")
    return Run(path, json.loads((path / "manifest.json").read_text()),
               pd.read_parquet(path / "countries.parquet"),
               pd.read_parquet(path / "region.parquet"))


def compare(a: Run, b: Run) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Differences b − a: per country in the final common year, and for the region per year.

    Shares are reported in percentage points; `real_gdp_index` and `welfare_index` as percent.
    """
    final = min(a.countries["year"].max(), b.countries["year"].max())
    ca = a.countries[a.countries["year"] == final].set_index("iso3")
    cb = b.countries[b.countries["year"] == final].set_index("iso3")
    per_country = pd.DataFrame(index=ca.index)
    for col in COMPARED:
        per_country[f"{col}_a"] = 100 * ca[col]
        per_country[f"{col}_b"] = 100 * cb[col]
        per_country[f"{col}_change_pp"] = 100 * (cb[col] - ca[col])
    for col in ("real_gdp_index", "welfare_index"):
        per_country[f"{col.removesuffix('_index')}_change_pct"] = 100 * (cb[col] / ca[col] - 1)
    per_country.insert(0, "year", final)
    ra, rb = a.region.set_index("year"), b.region.set_index("year")
    years = ra.index.intersection(rb.index)
    region = pd.DataFrame(index=years)
    for col in ("china_trade_share", "china_export_share", "china_import_share",
                "us_trade_share", "us_export_share", "us_import_share"):
        region[f"{col}_a"] = 100 * ra.loc[years, col]
        region[f"{col}_b"] = 100 * rb.loc[years, col]
        region[f"{col}_change_pp"] = 100 * (rb.loc[years, col] - ra.loc[years, col])
    region["real_gdp_change_pct"] = 100 * (rb.loc[years, "real_gdp_index"]
                                           / ra.loc[years, "real_gdp_index"] - 1)
    return per_country.reset_index(), region.reset_index()


@contextmanager
def atomic_dir(target: str | Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``target``; on success it replaces ``target`` whole.

    On any error the temporary folder is removed and ``target`` is left as it was, so readers
    never see a half-written result.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, target)
