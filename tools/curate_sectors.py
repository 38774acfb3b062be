"""Curate the shipped sector sources (src/geosim/data/sources/sectors/) from ../shared/data/sectors.

Run once by hand (`.venv/bin/python tools/curate_sectors.py [SHARED_SECTORS_DIR]`); users never
need it: the package ships its outputs. Every file is aggregated to geosim's sectors
(`sector_map.csv`) and economies at curation time so the shipped copies stay small.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src/geosim/data/sources/sectors"
SHARED = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared/data/sectors"

EU27 = ("AUT BEL BGR CYP CZE DEU DNK ESP EST FIN FRA GRC HRV HUN IRL ITA LTU LUX LVA MLT NLD POL "
        "PRT ROU SVK SVN SWE").split()
EXPLICIT = ("ARG BRA CHL COL CRI MEX PER USA CAN CHN JPN KOR IND").split()  # + EUU, ROW


def economy(code: str) -> str:
    """ICIO economy -> geosim economy (EU-27 members -> EUU; OTH and ROW -> ROW)."""
    if code in EU27:
        return "EUU"
    return code if code in EXPLICIT else "ROW"


def sector_of() -> tuple[dict[str, str], dict[str, str]]:
    smap = pd.read_csv(OUT / "sector_map.csv", keep_default_na=False)
    icio = {c: r.sector for r in smap.itertuples() for c in r.icio_sectors.split(";")}
    wits = {g: r.sector for r in smap.itertuples() for g in r.wits_groups.split(";") if g}
    return icio, wits


def io_sector(code: str, icio: dict[str, str]) -> str:
    """50 ICIO industries -> geosim sectors: the 27 goods codes by the map, the rest services."""
    return icio.get(code, "SRV")


def bilateral(icio: dict[str, str]) -> pd.DataFrame:
    b = pd.read_parquet(SHARED / "icio/bilateral_by_sector_2011_2022.parquet")
    b = b.assign(exporter=b.exporter.map(economy), importer=b.importer.map(economy),
                 sector=b.icio_sector.map(icio))
    if b.sector.isna().any():
        raise ValueError(f"unmapped ICIO sectors {sorted(b[b.sector.isna()].icio_sector.unique())}")
    out = b.groupby(["year", "exporter", "importer", "sector"], as_index=False).value_usd_mn.sum()
    out["value_usd_mn"] = out.value_usd_mn.round(3)
    return out


def io_table(icio: dict[str, str]) -> pd.DataFrame:
    io = pd.read_parquet(SHARED / "icio/io_coefficients_2022.parquet")
    nodes = pd.read_csv(SHARED / "icio/nodes_2022_intermediate_shares.csv")
    go = nodes.rename(columns={"country": "iso3", "sector": "user", "gross_output_usd_mn": "go"})
    go = go.assign(economy=go.iso3.map(economy),
                   user_sector=go.user.map(lambda s: io_sector(s, icio)))
    io = io.assign(economy=io.country.map(economy),
                   user=io.user_sector.map(lambda s: io_sector(s, icio)),
                   input=io.input_sector.map(lambda s: io_sector(s, icio)))
    io = io.merge(go[["iso3", "user", "go"]].rename(columns={"user": "user_sector"}),
                  left_on=["country", "user_sector"], right_on=["iso3", "user_sector"])
    io["spend"] = io.coef_of_gross_output * io.go  # USD mn of input per year
    spend = io.groupby(["economy", "user", "input"]).spend.sum()
    output = go.groupby(["economy", "user_sector"]).go.sum()
    sectors = list(dict.fromkeys(icio.values()))
    rows = []
    for eco in sorted(output.index.get_level_values(0).unique()):
        for user in sectors:
            y = float(output.get((eco, user), 0.0))
            for inp in sectors:
                s = float(spend.get((eco, user, inp), 0.0))
                rows.append((eco, user, round(y, 3), inp, round(s / y, 6) if y > 0 else 0.0))
    return pd.DataFrame(rows, columns=["iso3", "user_sector", "gross_output_usd_mn",
                                       "input_sector", "coefficient"])


def wits(wmap: dict[str, str]) -> pd.DataFrame:
    w = pd.read_csv(SHARED / "composition/wits_trade_summary_long_1988_2019.csv")
    w = w[(w["Indicator"] == "Export(US$ Mil)") & w["Product categories"].isin(wmap)
          & ~w.reporter_iso3.isin(["CHN", "USA"])]
    w = w.assign(sector=w["Product categories"].map(wmap))
    out = w.groupby(["reporter_iso3", "year", "sector"], as_index=False).value.sum()
    out = out.rename(columns={"reporter_iso3": "iso3", "value": "usd_mn"})
    out["usd_mn"] = out.usd_mn.round(3)
    return out[out.year >= 1999]


def fuel_shares() -> pd.DataFrame:
    f = pd.read_csv(SHARED / "composition/wdi2024_fuel_export_share_long.csv")
    f = f[(f.year >= 2010) & f.value.notna() & ~f["Country Code"].isin(["LAC", "LCN", "WLD"])]
    return pd.DataFrame({"iso3": f["Country Code"], "year": f.year,
                         "fuel_share_pct": f.value.round(4)}).sort_values(["iso3", "year"])


def prices() -> pd.DataFrame:
    """The three nominal sector indices, then the MUV deflator (the Pink Sheet's manufactures
    unit value index, 2010 = 100, which the source lists under basis real_2010usd: it is the
    deflator its real series divide by)."""
    p = pd.read_csv(SHARED / "prices/pinksheet_annual_1960_2024.csv")
    keep = ["Energy", "Agriculture", "Metals  & Minerals"]
    nominal = p[p.series.isin(keep) & (p.basis == "nominal") & (p.year >= 1999)]
    muv = p[(p.series == "MUV Index") & (p.year >= 1999)]
    p = pd.concat([nominal, muv])
    return pd.DataFrame({"year": p.year, "index": p.series, "value": p.value.round(4)})


def elasticities(icio: dict[str, str], flows: pd.DataFrame) -> pd.DataFrame:
    """θ per sector and specification: the trade-weighted mean of the ICIO sectors' ε, weights =
    world cross-border ICIO trade in 2022 (all exporter != importer pairs of the 2025 release)."""
    b = pd.read_parquet(SHARED / "icio/bilateral_by_sector_2011_2022.parquet")
    b = b[(b.year == 2022) & (b.exporter != b.importer)]
    weight = b.groupby("icio_sector").value_usd_mn.sum()
    e = pd.read_csv(SHARED / "elasticities/icio28_by_specification.csv")
    e = e.assign(sector=e.icio_sector.map(icio), w=e.icio_sector.map(weight))
    rows = []
    for (spec, label, sector), g in e.groupby(["source_abbrev", "source_label", "sector"]):
        theta = float((g.epsilon_trade_elasticity * g.w).sum() / g.w.sum())
        rows.append((sector, spec, round(theta, 4), label))
    out = pd.DataFrame(rows, columns=["sector", "specification", "theta", "source"])
    order = {s: i for i, s in enumerate(dict.fromkeys(icio.values()))}
    return out.sort_values(["specification", "sector"], key=lambda c: c.map(order)
                           if c.name == "sector" else c).reset_index(drop=True)


def main() -> None:
    icio, wmap = sector_of()
    flows = bilateral(icio)
    tables = {
        "icio_bilateral.csv": flows,
        "io_2022.csv": io_table(icio),
        "wits_exports.csv": wits(wmap),
        "fuel_share.csv": fuel_shares(),
        "prices.csv": prices(),
        "elasticities.csv": elasticities(icio, flows),
    }
    for name, table in tables.items():
        table.to_csv(OUT / name, index=False, lineterminator="\n")
        print(f"{name}: {len(table)} rows, {(OUT / name).stat().st_size / 1e3:.0f} kB")
    assert np.isfinite(tables["elasticities.csv"].theta).all()


if __name__ == "__main__":
    main()
