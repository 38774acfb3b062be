"""Build the 2012 world (`world_2012/*.csv` and BUILD_REPORT.md) from the shipped `sources/`.

Owns the 2012 procedure (docs/data.md, "The 2012 world"): the same economies, order, tables and
rules as 2023 (domestic sales from GDP, tariffs zero inside agreements granting preferences in
the base year, the FDI rule), with 2012 data where it exists: every exporter's own 2012 report
(UN Comtrade via penppml), a partner's report where an exporter's report is implausible,
imputation from the 2023 world where an exporter or importer reports nothing, World Bank GDP
and population, UNCTAD FDI stocks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from geosim.data import (
    INDICATORS,
    SOURCES_DIR,
    WORLD_2012_DIR,
    WORLD_DIR,
    World,
    read_world,
)
from geosim.data.agreements import memberships
from geosim.data.build import (
    INDICATOR_CELLS,
    ROW,
    Report,
    _agreements_md,
    _distances,
    _domestic,
    _economies,
    _preferential_pairs,
    _read,
    _tariffs,
    calibration,
    calibration_md,
    largest_lac,
    with_sectors,
    write_world,
)

YEAR = 2012
FDI_SOURCES = ("USA", "CHN", "EUU")


def _economies_2012(sources: Path, report: Report) -> pd.DataFrame:
    """The 2023 economies (names, order, coordinates) with World Bank 2012 GDP and population."""
    eco = _economies(sources, Report())
    gdp = _read("gdp_current_usd_2010_2023.csv", sources)
    pop = _read("population_2010_2023.csv", sources)
    for table, col in ((gdp, "gdp_usd"), (pop, "population")):
        value = table[table.year == str(YEAR)].set_index("iso3")[col].astype(float)
        missing = sorted(set(eco.iso3) - set(value.index))
        if missing:
            raise ValueError(f"{col} {YEAR}: no World Bank value for {missing}")
        eco[col] = eco.iso3.map(value)
    report.notes.append(
        f"GDP and population: World Bank {YEAR} (current USD) for all 41 economies; EUU = the "
        "World Bank's EU-27 aggregate; ROW = world minus the 40 others."
    )
    return eco


def _flows_2012(sources: Path, eco: pd.DataFrame, w23: World,
                report: Report) -> tuple[np.ndarray, np.ndarray]:
    """Exporter-reported 2012 flows, corrected and completed; domestic sales on the diagonal."""
    iso = list(eco.iso3)
    pos = {c: i for i, c in enumerate(iso)}
    n = len(iso)
    x = np.zeros((n, n))
    prov = np.full((n, n), "", dtype=object)
    m = _read("trade_matrix_2012.csv", sources)
    unknown = sorted((set(m.exporter) | set(m.importer)) - set(iso))
    if unknown:
        raise ValueError(f"trade_matrix_2012.csv: unknown economies {unknown}")
    m = m[m.exporter != m.importer]
    i, j = m.exporter.map(pos).to_numpy(), m.importer.map(pos).to_numpy()
    x[i, j] = m.exports_usd.astype(float).to_numpy()
    prov[i, j] = "observed"

    for r in _read("trade_corrections_2012.csv", sources).itertuples():
        e, k, a = pos[r.exporter], pos[r.importer], pos[r.absorbed_by]
        delta = float(r.value_usd) - x[e, k]
        if x[e, a] < delta:
            raise ValueError(f"trade_corrections_2012.csv: {r.exporter}->{r.absorbed_by} cannot "
                             f"absorb {delta / 1e9:.1f}bn")
        report.notes.append(
            f"{r.exporter}->{r.importer}: own report {x[e, k] / 1e9:.2f}bn replaced by the "
            f"partner's figure {float(r.value_usd) / 1e9:.2f}bn ({r.source}); "
            f"{r.exporter}->{r.absorbed_by} reduced by {delta / 1e9:.2f}bn so that the "
            f"exporter's reported total is kept."
        )
        x[e, k], prov[e, k] = float(r.value_usd), "mirror"
        x[e, a] -= delta

    # Economies with no report: 2023 structure scaled by 2012 GDP.
    gdp = eco.gdp_usd.to_numpy(float)
    off23 = w23.flows * (1 - np.eye(n))
    no_exports = [c for c in iso if c != ROW and x[pos[c]].sum() == 0]
    no_imports = [c for c in iso if c != ROW and x[:, pos[c]].sum() == 0]
    for c in no_exports:
        k = pos[c]
        total = off23[k].sum() / w23.gdp[k] * gdp[k]
        x[k] = off23[k] / off23[k].sum() * total
        prov[k, :] = "imputed"
        prov[k, k] = ""
        report.notes.append(
            f"{c} exports: no {YEAR} report; total = its 2023 exports/GDP ratio x {YEAR} GDP "
            f"({total / 1e9:.2f}bn), split by its 2023 partner shares (imputed)."
        )
    for c in no_imports:
        k = pos[c]
        total = off23[:, k].sum() / w23.gdp[k] * gdp[k]
        free = prov[:, k] == ""
        free[k] = False
        x[free, k] = off23[free, k] / off23[free, k].sum() * (total - x[~free, k].sum())
        prov[free, k] = "imputed"
        report.notes.append(
            f"{c} imports: no partner reports exports to it in {YEAR}; total = its 2023 "
            f"imports/GDP ratio x {YEAR} GDP ({total / 1e9:.2f}bn), split by its 2023 "
            "supplier shares (imputed)."
        )
    prov[(prov == "") & ~np.eye(n, dtype=bool)] = "observed"  # reported zero (no trade)
    report.notes.append(
        f"ROW row: the {YEAR} exports of all non-modelled reporters to each modelled economy; ROW "
        "column: the modelled economies' exports to all others; ROW->ROW is not reported (its "
        "diagonal is domestic sales by the GDP rule, as in 2023)."
    )
    dom = _domestic(eco, x.sum(axis=0))
    x[np.arange(n), np.arange(n)] = dom
    prov[np.arange(n), np.arange(n)] = "domestic"
    return np.round(x), prov


def observed_shares(sources: Path | str = SOURCES_DIR) -> pd.DataFrame:
    """Observed 2012 China and US shares from the exporters' own reports (total incl. ROW).

    Export shares: the economy's own report; import shares: the US's and China's reports of
    exports to it over all exporters' reports to it. The partner figures of
    trade_corrections_2012.csv replace the implausible reports they correct (VEN->USA).
    Economies without a report have no observed share.
    """
    sources = Path(sources)
    m = _read("trade_matrix_2012.csv", sources)
    m = m.assign(v=m.exports_usd.astype(float))
    m = m[m.exporter != m.importer]
    for r in _read("trade_corrections_2012.csv", sources).itertuples():
        sel = (m.exporter == r.exporter) & (m.importer == r.importer)
        absorb = (m.exporter == r.exporter) & (m.importer == r.absorbed_by)
        delta = float(r.value_usd) - float(m.loc[sel, "v"].sum())
        m.loc[sel, "v"] = float(r.value_usd)
        m.loc[absorb, "v"] -= delta
    exports = m.groupby("exporter").v.sum()
    imports = m.groupby("importer").v.sum()
    cell = m.set_index(["exporter", "importer"]).v
    rows = []
    lac = _read("countries.csv", sources)
    lac = lac[lac.region == "Latin America & Caribbean"].iso3
    for c in lac:
        for ind in INDICATORS:
            partner, side = INDICATOR_CELLS[ind]
            key, total = ((c, partner), exports.get(c, 0.0)) if side == "export" else (
                (partner, c), imports.get(c, 0.0))
            if total > 0:
                rows.append((c, ind, round(float(cell.get(key, 0.0)) / total, 6), "="))
    return pd.DataFrame(rows, columns=["iso3", "indicator", "value", "bound"])


def _investment_2012(sources: Path, eco: pd.DataFrame, flows: np.ndarray, w23: World,
                     report: Report) -> pd.DataFrame:
    """FDI stocks and Chinese official finance in 2012, in the 2023 table's schema.

    FDI: the 2023 rule κ_s × host GDP × s's share of the host's goods trade on 2012 GDP and
    shares (the 2023 stock × GDP ratio × share ratio), for China also × the share of 2005-2018
    AEI CGIT investment in LAC made by 2012. UNCTAD's 2012 bilateral stocks are host-reported
    by immediate investor (Chinese FDI routed through Hong Kong or Luxembourg is missed, US FDI
    includes round-tripping through the Bahamas): another basis than the 2023 stocks, so they
    are recorded in the note as a cross-check, not used (a level change between the two worlds
    would be a change of statistics, not of investment). Official finance: the 2023 value
    (commitments 2000-2021) × the share of the host's 2000-2014 AidData geocoded commitments
    made by 2012.
    """
    iso = list(eco.iso3)
    gdp = dict(zip(iso, eco.gdp_usd.astype(float), strict=True))
    off12, off23 = flows * (1 - np.eye(len(iso))), w23.flows * (1 - np.eye(len(iso)))

    def share(off: np.ndarray, src: str, host: str) -> float:
        s, h = iso.index(src), iso.index(host)
        return (off[s, h] + off[h, s]) / (off[:, h].sum() + off[h].sum())

    cgit = _read("aei_cgit_lac_2005_2018.csv", sources)
    cgit_by = cgit.usd_millions.astype(float).groupby(cgit.year.astype(int)).sum()
    cn_timing = float(cgit_by[cgit_by.index <= YEAR].sum() / cgit_by.sum())
    unctad = _read("unctad_fdi_instock_2012.csv", sources)
    unctad = {tuple(r.CountryPair.split("-")): float(r.FDI_instock) * 1e6
              for r in unctad.itertuples()}
    aid = _read("aiddata_geocoded_lac_by_year_2000_2014.csv", sources)
    aid = aid.assign(v=aid.usd_current.astype(float), y=aid.year.astype(int))
    region_timing = float(aid[aid.y <= YEAR].v.sum() / aid.v.sum())
    gdp23 = dict(zip(w23.iso3, w23.gdp, strict=True))
    us_unctad = sum(v for (h, src), v in unctad.items() if src == "USA" and h in gdp23)
    cn_unctad = sum(v for (h, src), v in unctad.items() if src == "CHN" and h in gdp23)
    report.notes.append(
        f"Investment: the 2023 FDI rule on 2012 GDP and trade shares (UNCTAD's host-reported "
        f"2012 stocks, another basis, are quoted in the notes as a cross-check: US total "
        f"{us_unctad / 1e9:.0f}bn, China {cn_unctad / 1e9:.1f}bn "
        f"over the hosts it covers); Chinese FDI also x {cn_timing:.3f} (share of AEI CGIT "
        f"2005-2018 investment in LAC made by {YEAR}); official finance = 2023 value x the "
        f"host's share of AidData geocoded 2000-2014 commitments made by {YEAR} (region: "
        f"{region_timing:.3f}) - an upper bound, commitments after 2014 are not in that file."
    )
    rows = []
    for r in w23.investment.itertuples():
        h = r.host
        if r.kind == "fdi":
            s23 = share(off23, r.source, h)
            ratio = share(off12, r.source, h) / s23 if s23 > 0 else 0.0
            value = r.value_usd * gdp[h] / gdp23[h] * ratio
            note = f"modelled: 2023 stock x GDP ratio x {r.source} trade-share ratio"
            if r.source == "CHN":
                value *= cn_timing
                note += f" x CGIT timing {cn_timing:.3f}"
            if (h, r.source) in unctad:
                note += (f"; UNCTAD host-reported 2012 stock {unctad[(h, r.source)] / 1e9:.2f}bn "
                         "(cross-check, other basis)")
        else:
            host_aid = aid[aid.iso3 == h]
            timing = (float(host_aid[host_aid.y <= YEAR].v.sum() / host_aid.v.sum())
                      if host_aid.v.sum() > 0 else region_timing)
            value = r.value_usd * timing
            note = f"2023 value x AidData timing {timing:.3f} (committed by {YEAR})"
        rows.append((r.source, h, r.kind, round(value), note))
    return pd.DataFrame(rows, columns=["source", "host", "kind", "value_usd", "note"])


def _report_md(world: World, report: Report, sources: Path) -> str:
    prov = pd.Series(world.provenance.ravel()).value_counts()
    cal = calibration(world)
    top = largest_lac(world)
    cal20 = cal[cal.iso3.isin(top)]
    ex20 = cal20[cal20.indicator.str.endswith("export_share")]
    lines = [
        f"# Build report: the {YEAR} world",
        "",
        "Generated by `geosim data build --year 2012` (`geosim.data.build_2012`) from "
        "`sources/`; do not edit.",
        "",
        f"- economies: {world.n} ({int(world.is_lac.sum())} LAC + "
        f"{world.n - int(world.is_lac.sum())} partners and ROW), same order as 2023",
        f"- calibration (20 largest LAC by {YEAR} GDP, China and US export shares with an "
        f"observed value: {len(ex20)}): {int(ex20.ok.sum())} within 3 pp, worst miss "
        f"{ex20.miss_pp.max():.2f} pp",
        "",
        "## Cells by provenance",
        "",
        "| provenance | cells |",
        "|---|---|",
        *[f"| {k} | {prov.get(k, 0)} |" for k in ("observed", "mirror", "imputed", "domestic")],
        "",
        "## Notes",
        "",
        *[f"- {c}" for c in report.notes],
        *_agreements_md(world, sources),
        "",
        *calibration_md(cal, top, "Calibration: observed 2012 shares (own reports) vs matrix "
                        "(* = among the 20 largest)", "observed"),
    ]
    return "\n".join(lines) + "\n"


def build_2012(out: Path | str = WORLD_2012_DIR, sources: Path | str = SOURCES_DIR) -> World:
    """Build the 2012 world tables from the shipped sources and write them to `out`."""
    out, sources = Path(out), Path(sources)
    report = Report()
    w23 = read_world(WORLD_DIR)
    eco = _economies_2012(sources, report)
    iso = list(eco.iso3)
    if tuple(iso) != w23.iso3:
        raise ValueError("the 2012 economies must be the 2023 ones, in the same order")
    dist = _distances(sources, eco)
    members = memberships(sources, iso, YEAR)
    pref = _preferential_pairs(members, iso)
    _, tariff_table = _tariffs(sources, iso, pref, base_year=YEAR, overrides=False)
    report.notes.append(
        f"Tariffs: the 2023 MFN averages (assumption: no 2012 tariff data shipped), zero inside "
        f"agreements granting preferences in {YEAR}; no US-China trade-war rates (2018-19)."
    )
    x, prov = _flows_2012(sources, eco, w23, report)
    growth = dict(zip(w23.iso3, w23.growth, strict=True))
    report.notes.append("Growth: the 2023 world's table (only the default projection).")
    world = write_world(out, eco, [growth[c] for c in iso], x, prov, dist, tariff_table, members,
                        _investment_2012(sources, eco, x, w23, report),
                        observed_shares(sources), YEAR)
    world, sector_lines = with_sectors(out, world, eco, sources)
    (out / "BUILD_REPORT.md").write_text(_report_md(world, report, sources)
                                         + "\n".join(sector_lines) + "\n")
    return world
