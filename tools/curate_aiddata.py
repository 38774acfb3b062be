"""Curate the shipped AidData project records (src/geosim/data/sources/history/
aiddata_geocoded_lac_projects_2000_2014.csv) from ../shared/data/history.

Run once by hand (`.venv/bin/python tools/curate_aiddata.py [SHARED_HISTORY_DIR]`); users never
need it: the package ships its output, and `geosim.data.finance` classifies its rows into the
investment sectors. Every project row is kept (also those without an amount) and no value is
changed: the country name becomes its ISO3 code (by the names in sources/countries.csv) and the
columns are put in a fixed order, so a rerun rebuilds the file byte for byte.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "src/geosim/data/sources"
OUT = SOURCES / "history/aiddata_geocoded_lac_projects_2000_2014.csv"
SHARED = ROOT.parent / "shared/data/history"
COLUMNS = ["id", "year", "iso3", "sector", "title", "funder", "flow", "flow_class", "intent",
           "usd_current"]


def curate(shared: Path = SHARED) -> pd.DataFrame:
    """The project rows with ISO3 codes, sorted by id."""
    raw = pd.read_csv(shared / "aiddata_geocoded_v1_1_1_lac_projects_2000_2014.csv")
    names = pd.read_csv(SOURCES / "countries.csv", usecols=["iso3", "name"])
    iso = dict(zip(names["name"], names["iso3"], strict=True))
    unknown = sorted(set(raw["country"]) - set(iso))
    if unknown:
        raise ValueError(f"AidData countries without an ISO3 code in countries.csv: {unknown}")
    out = raw.assign(iso3=raw["country"].map(iso))[COLUMNS]
    return out.sort_values("id", kind="stable").reset_index(drop=True)


if __name__ == "__main__":
    table = curate(Path(sys.argv[1]) if len(sys.argv) > 1 else SHARED)
    table.to_csv(OUT, index=False, lineterminator="\n")
    print(f"wrote {OUT.relative_to(ROOT)}: {len(table)} projects, "
          f"{table['usd_current'].notna().sum()} with an amount")
