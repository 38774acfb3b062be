"""The world by sector: split a built world's bilateral flows by sector, with input-output
coefficients and value-added shares (issue 17; docs/data.md, "Sectors").

Owns the sector definitions (`sources/sectors/sector_map.csv`), the elasticities per sector and
specification (`theta`), and the build step that writes `sectors.csv`, `sector_flows.csv`,
`io.csv` and `value_added.csv` beside a world's one-sector tables. Every pair's sector values
sum to its one-sector flow; the split comes from OECD ICIO where both sides are explicit in
ICIO, from the exporter's own WITS composition otherwise (RAS-balanced to the pair totals).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from geosim.data import SECTOR_PROVENANCES, SOURCES_DIR

SECTOR_SOURCES = SOURCES_DIR / "sectors"
DEFAULT_SPECIFICATION = "CP"  # Caliendo and Parro (2015), as mapped to ICIO by tariffwar
# Economies explicit in the shipped ICIO extract (EUU = the EU-27 members summed, ROW = ICIO's
# other 41 economies plus its rest of world, which holds the 26 other Latin American economies).
ICIO_ECONOMIES = ("ARG", "BRA", "CHL", "COL", "CRI", "MEX", "PER", "USA", "CAN", "CHN", "JPN",
                  "KOR", "IND", "EUU", "ROW")
ICIO_LAC = ("ARG", "BRA", "CHL", "COL", "CRI", "MEX", "PER")
ICIO_LAST_YEAR = 2022
WITS_LAST_YEAR = 2019
FUEL_LAST_YEAR = 2022
FINAL_DEMAND_FLOOR = 0.05  # intermediate demand may take at most 95 % of a sector's absorption
RAS_TOL = 1e-12
RAS_MAX_ITER = 10_000


@cache
def sector_map(sources: Path = SECTOR_SOURCES) -> pd.DataFrame:
    """The sector definitions: sector, name, icio_sectors, wits_groups, price_index, note."""
    return pd.read_csv(sources / "sector_map.csv", keep_default_na=False)


def sectors(sources: Path = SECTOR_SOURCES) -> tuple[str, ...]:
    """The sector codes in their fixed order (goods first, services last)."""
    return tuple(sector_map(sources).sector)


@cache
def _elasticities(sources: Path) -> pd.DataFrame:
    return pd.read_csv(sources / "elasticities.csv")


def specifications(sources: Path = SECTOR_SOURCES) -> tuple[str, ...]:
    """The elasticity specifications shipped (CP, FGO, BSY, GYY, IS, LL, Shap, U4)."""
    return tuple(sorted(_elasticities(sources).specification.unique()))


def theta(specification: str = DEFAULT_SPECIFICATION,
          sources: Path = SECTOR_SOURCES) -> np.ndarray:
    """The trade elasticity θ (= σ − 1) of every sector, in the order of `sectors()`.

    Args:
        specification: "CP" (Caliendo and Parro 2015, the default), "FGO" (Fontagné, Guimbard
            and Orefice 2022) or another code of `specifications()`.

    Raises:
        ValueError: unknown specification (the message lists the valid ones).
    """
    table = _elasticities(sources)
    rows = table[table.specification == specification].set_index("sector").theta
    if rows.empty:
        raise ValueError(f"unknown elasticity specification {specification!r}; valid: "
                         f"{', '.join(specifications(sources))}")
    return rows.reindex(list(sectors(sources))).to_numpy(float)


# --- sources -------------------------------------------------------------------------------


@cache
def _icio(sources: Path) -> pd.DataFrame:
    return pd.read_csv(sources / "icio_bilateral.csv")


def icio_cube(year: int, sources: Path = SECTOR_SOURCES) -> np.ndarray:
    """ICIO gross sales V[exporter, importer, sector] (USD mn) over `ICIO_ECONOMIES` in `year`."""
    t = _icio(sources)
    t = t[t.year == year]
    if t.empty:
        raise ValueError(f"icio_bilateral.csv: no rows for {year}")
    pos = {c: k for k, c in enumerate(ICIO_ECONOMIES)}
    spos = {s: k for k, s in enumerate(sectors(sources))}
    v = np.zeros((len(pos), len(pos), len(spos)))
    v[t.exporter.map(pos), t.importer.map(pos), t.sector.map(spos)] = t.value_usd_mn
    return v


@cache
def _prices(sources: Path) -> pd.DataFrame:
    return pd.read_csv(sources / "prices.csv").set_index(["index", "year"]).value


def price_move(year_from: int, year_to: int, sources: Path = SECTOR_SOURCES) -> np.ndarray:
    """Per-sector value multipliers from `year_from` to `year_to`: the World Bank Pink Sheet
    index of the sector (agriculture, energy, metals & minerals; nominal) in `year_to` over
    `year_from`; 1 for the sectors without a commodity index (manufactures, services)."""
    p = _prices(sources)
    return np.array([p[(idx, year_to)] / p[(idx, year_from)] if idx else 1.0
                     for idx in sector_map(sources).price_index])


#: The deflator of the real prices: the Pink Sheet's manufactures unit value index (MUV, 2010 =
#: 100), the index its own real series divide by.
MUV_INDEX = "MUV Index"
PRICE_BASE_YEAR = 2010  # the Pink Sheet indices' base (= 100)


@cache
def real_prices(sources: Path = SECTOR_SOURCES) -> pd.DataFrame:
    """Real world commodity prices per sector and year (2010 = 1): the sector's Pink Sheet index
    (`price_move` from 2010) over the MUV deflator's move from 2010; 1 in every year for the
    sectors without a commodity index (manufactures, services). Rows: the years of the MUV
    series (1999-2024 in the shipped data); columns: `sectors()`."""
    muv = _prices(sources)[MUV_INDEX]
    indexed = (sector_map(sources).price_index != "").to_numpy()
    rows = {int(year): np.where(indexed, price_move(PRICE_BASE_YEAR, int(year), sources)
                                / (muv[year] / muv[PRICE_BASE_YEAR]), 1.0)
            for year in muv.index}
    table = pd.DataFrame.from_dict(rows, orient="index", columns=list(sectors(sources)))
    return table.rename_axis("year")


def _normal(v: np.ndarray) -> np.ndarray:
    total = v.sum()
    return v / total if total > 0 else v


@dataclass
class Composition:
    """An economy's goods export composition (shares over the goods sectors) and how it was made."""

    shares: np.ndarray
    how: str


def export_composition(iso3: str, year: int, subregion: dict[str, str],
                       sources: Path = SECTOR_SOURCES) -> Composition:
    """The goods export mix of an economy outside ICIO in `year`.

    Rule: the economy's own WITS exports by product group in the latest year ≤ `year` (≤ 2019);
    later years move it with the sector price indices and then set the energy share to the WDI
    fuel share of the latest year ≤ min(`year`, 2022) (moved on with prices to `year`); an
    economy without WITS data takes the mean mix of its subregion's reporters. A row of
    `composition_overrides.csv` for (iso3, year) replaces the result (documented there).
    """
    goods = [s for s in sectors(sources) if s != "SRV"]
    over = pd.read_csv(sources / "composition_overrides.csv")
    over = over[(over.iso3 == iso3) & (over.year == year)]
    if not over.empty:
        share = over.set_index("sector").share.reindex(goods).fillna(0.0).to_numpy(float)
        return Composition(_normal(share), f"override ({over.source.iloc[0]})")
    wits = pd.read_csv(sources / "wits_exports.csv")
    own = wits[(wits.iso3 == iso3) & (wits.year <= year)]
    if own.empty:
        peers = [c for c, r in subregion.items() if r == subregion[iso3] and c != iso3
                 and c not in ICIO_LAC]
        mixes = [export_composition(c, year, subregion, sources).shares
                 for c in peers if not wits[(wits.iso3 == c) & (wits.year <= year)].empty]
        return Composition(_normal(np.mean(mixes, axis=0)),
                           f"no WITS data: mean of {len(mixes)} {subregion[iso3]} reporters")
    last = int(own.year.max())
    mix = own[own.year == last].set_index("sector").usd_mn.reindex(goods).fillna(0.0)
    shares = _normal(mix.to_numpy(float))
    how = f"WITS {last}"
    if last < year:
        fuel = pd.read_csv(sources / "fuel_share.csv")
        fuel = fuel[(fuel.iso3 == iso3) & (fuel.year <= min(year, FUEL_LAST_YEAR))
                    & (fuel.year > last)]
        step = int(fuel.year.max()) if not fuel.empty else year
        shares = _normal(shares * price_move(last, step, sources)[:len(goods)])
        how += f", moved with prices to {step}"
        if not fuel.empty:
            e = goods.index("ENE")
            f = float(fuel[fuel.year == step].fuel_share_pct.iloc[0]) / 100
            rest = np.delete(shares, e)
            rest = rest / rest.sum() * (1 - f) if rest.sum() > 0 else rest
            shares = np.insert(rest, e, f)
            how += f", energy = WDI fuel share {f:.1%}"
        if step < year:
            shares = _normal(shares * price_move(step, year, sources)[:len(goods)])
            how += f", moved with prices to {year}"
    return Composition(shares, how)


@cache
def _io_table(sources: Path) -> pd.DataFrame:
    return pd.read_csv(sources / "io_2022.csv")


def io_coefficients(iso: list[str], sources: Path = SECTOR_SOURCES
                    ) -> tuple[np.ndarray, list[str]]:
    """ICIO 2022 coefficients io[i, k, j] (input k per unit of sector j's gross output) for
    the world's economies: ICIO economies their own (EUU, ROW as aggregated at curation);
    the others the unweighted mean of the seven Latin American ICIO economies."""
    t = _io_table(sources)
    secs = list(sectors(sources))
    J = len(secs)
    own = {}
    for code, g in t.groupby("iso3"):
        m = g.pivot(index="input_sector", columns="user_sector", values="coefficient")
        own[code] = m.reindex(index=secs, columns=secs).fillna(0.0).to_numpy(float)
    proxy = np.mean([own[c] for c in ICIO_LAC], axis=0)
    out = np.zeros((len(iso), J, J))
    how = []
    for i, code in enumerate(iso):
        out[i] = own.get(code, proxy)
        how.append("ICIO 2022" if code in own else "mean of the 7 LAC ICIO economies")
    return out, how


# --- the split ---------------------------------------------------------------------------


@dataclass
class SectorSplit:
    """A world's flows split by sector, with its input-output table and the build's notes."""

    sectors: tuple[str, ...]
    flows: np.ndarray  # (J, n, n) [sector, exporter, importer], USD
    provenance: np.ndarray  # (J, n, n) str
    io: np.ndarray | None = None  # (n, J, J) io[i, k, j], set by `input_output`
    value_added: np.ndarray | None = None  # (n, J)
    notes: list[str] = field(default_factory=list)
    compositions: dict[str, str] = field(default_factory=dict)
    adjusted: list[tuple[str, str, float]] = field(default_factory=list)


def _ras(seed: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Scale `seed` to row sums `rows` and column sums `cols`, ending on the rows (exact)."""
    x = seed.copy()
    for _ in range(RAS_MAX_ITER):
        c = x.sum(axis=0)
        x *= np.divide(cols, c, out=np.ones_like(c), where=c > 0)[None, :]
        r = x.sum(axis=1)
        x *= np.divide(rows, r, out=np.ones_like(r), where=r > 0)[:, None]
        if np.abs(x.sum(axis=0) - cols).max() <= RAS_TOL * max(cols.sum(), 1.0):
            break
    return x


def split_flows(flows: np.ndarray, iso: list[str], year: int, subregion: dict[str, str],
                sources: Path = SECTOR_SOURCES) -> SectorSplit:
    """Split a world's one-sector flows (n×n, domestic sales on the diagonal) by sector.

    Args:
        flows: the world's flows X[exporter, importer] (USD).
        iso: its economies in order.
        year: its base year (2012: ICIO 2012; 2023: ICIO 2022 moved with 2022→2023 prices).
        subregion: iso3 -> subregion (proxy mixes for economies without WITS data).
    """
    secs = sectors(sources)
    J, n = len(secs), len(iso)
    goods = J - 1  # services last
    iy = min(year, ICIO_LAST_YEAR)
    move = price_move(iy, year, sources) if year > iy else np.ones(J)
    v = icio_cube(iy, sources) * move[None, None, :]
    e = {c: k for k, c in enumerate(ICIO_ECONOMIES)}
    row = e["ROW"]
    off = v * (1 - np.eye(len(e)))[:, :, None]
    world_mix = _normal(off[:, :, :goods].sum(axis=(0, 1)))
    out = np.zeros((J, n, n))
    prov = np.full((J, n, n), "zero", dtype="<U14")
    sp = SectorSplit(secs, out, prov)

    def import_mix(j: str) -> np.ndarray:
        k = e.get(j, row)
        return _normal(off[:, k, :goods].sum(axis=0))

    for i in range(n):
        for j in range(n):
            if i == j or flows[i, j] <= 0:
                continue
            prov[goods, i, j] = "not_traded"
            a, b = iso[i], iso[j]
            if a not in e:
                continue  # rows of economies outside ICIO: imputed below
            mix = v[e[a], e[b], :goods] if b in e else v[e[a], row, :goods]
            how = "icio_split" if b in e else "imputed"
            if mix.sum() <= 0:  # ICIO has no trade in the pair: the exporter's overall mix
                mix, how = off[e[a], :, :goods].sum(axis=0), "imputed"
            out[:goods, i, j] = flows[i, j] * _normal(mix)
            prov[:goods, i, j] = how

    for i, a in enumerate(iso):
        if a in e:
            continue
        comp = export_composition(a, year, subregion, sources)
        sp.compositions[a] = comp.how
        cols = [j for j in range(n) if j != i and flows[i, j] > 0]
        if not cols:
            continue
        seed = np.array([comp.shares * import_mix(iso[j]) /
                         np.where(world_mix > 0, world_mix, 1.0) for j in cols])
        seed += 1e-9 * seed.sum() / seed.size  # no structural zeros: RAS can always close
        pair = flows[i, cols]
        x = _ras(seed, pair, comp.shares * pair.sum())
        out[:goods, i, cols] = x.T
        prov[:goods, i, cols] = "imputed"

    lac_dom = np.mean([_normal(v[e[c], e[c]]) for c in ICIO_LAC], axis=0)
    for i, a in enumerate(iso):
        mix = _normal(v[e[a], e[a]]) if a in e else lac_dom
        out[:, i, i] = flows[i, i] * mix
        prov[:, i, i] = "domestic" if a in e else "domestic_proxy"
    unknown = set(np.unique(prov)) - set(SECTOR_PROVENANCES)
    if unknown:
        raise AssertionError(f"unknown sector provenance {sorted(unknown)}")
    return sp


def input_output(sp: SectorSplit, iso: list[str], sources: Path = SECTOR_SOURCES) -> None:
    """Fill `sp.io` and `sp.value_added` from the ICIO 2022 coefficients, scaled where the raw
    coefficients would make an economy's intermediate demand for a sector exceed
    (1 − FINAL_DEMAND_FLOOR) of its absorption (the removed cost share goes to value added)."""
    io, how = io_coefficients(iso, sources)
    sp.io, scaled = cap_intermediate(io, sp.flows)
    sp.adjusted = [(iso[i], sp.sectors[k], f) for i, k, f in scaled]
    sp.value_added = 1.0 - sp.io.sum(axis=1)
    if (sp.value_added <= 0).any():
        raise AssertionError("a value-added share is not positive")
    sp.notes.append(f"input-output coefficients: {sum(h == 'ICIO 2022' for h in how)} economies "
                    "their own ICIO 2022 table, the others the mean of the 7 LAC ICIO economies")


def cap_intermediate(io: np.ndarray, sector_flows: np.ndarray,
                     floor: float = FINAL_DEMAND_FLOOR
                     ) -> tuple[np.ndarray, list[tuple[int, int, float]]]:
    """Scale input rows so that intermediate demand leaves final demand ≥ `floor` × absorption.

    With gross output Y[i, j] = sales of sector j by economy i to every importer (domestic
    included) and absorption X[i, k] = purchases of sector k by i from every exporter, the
    intermediate demand M[i, k] = sum_j io[i, k, j] Y[i, j] must not exceed (1 − floor) X[i, k];
    where it does, io[i, k, :] is multiplied by (1 − floor) X[i, k] / M[i, k] (the cost share
    removed goes to value added). Returns the new coefficients and (i, k, factor) of each scaling.
    """
    io = io.copy()
    y = sector_flows.sum(axis=2).T  # (n, J)
    x = sector_flows.sum(axis=1).T  # (n, J)
    scaled = []
    for i in range(io.shape[0]):
        demand = io[i] @ y[i]
        for k in range(io.shape[1]):
            cap = (1 - floor) * x[i, k]
            if demand[k] > cap:
                factor = cap / demand[k]
                io[i, k, :] *= factor
                scaled.append((i, k, float(factor)))
    return io, scaled


def build_sectors(flows: np.ndarray, iso: list[str], year: int, subregion: dict[str, str],
                  sources: Path = SECTOR_SOURCES) -> SectorSplit:
    """The sector split and input-output table of a world (see `split_flows`)."""
    sp = split_flows(flows, iso, year, subregion, sources)
    input_output(sp, iso, sources)
    return sp


# --- writing and checking ------------------------------------------------------------------


def write_sectors(out: Path, sp: SectorSplit, iso: list[str],
                  sources: Path = SECTOR_SOURCES) -> None:
    """Write sectors.csv, sector_flows.csv, io.csv and value_added.csv into a world folder."""
    smap = sector_map(sources)
    J, n = len(sp.sectors), len(iso)
    table = pd.DataFrame({"sector": smap.sector, "name": smap.name,
                          "icio_sectors": smap.icio_sectors,
                          "theta": theta(DEFAULT_SPECIFICATION, sources), "note": smap.note})
    flows = pd.DataFrame({
        "exporter": np.tile(np.repeat(iso, n), J), "importer": np.tile(np.tile(iso, n), J),
        "sector": np.repeat(sp.sectors, n * n), "value": sp.flows.ravel(),
        "provenance": sp.provenance.ravel()})
    flows = flows.sort_values(["exporter", "importer"], kind="stable")
    io = pd.DataFrame({"iso3": np.repeat(iso, J * J),
                       "input_sector": np.tile(np.repeat(sp.sectors, J), n),
                       "user_sector": np.tile(sp.sectors, n * J), "coefficient": sp.io.ravel()})
    va = pd.DataFrame({"iso3": np.repeat(iso, J), "sector": np.tile(sp.sectors, n),
                       "va_share": sp.value_added.ravel()})
    for name, frame in (("sectors.csv", table), ("sector_flows.csv", flows), ("io.csv", io),
                        ("value_added.csv", va)):
        frame.to_csv(out / name, index=False, lineterminator="\n")


def checks(sector_flows: np.ndarray, iso: list[str], year: int,
           sources: Path = SECTOR_SOURCES) -> pd.DataFrame:
    """The independent figures of `sector_checks.csv` for `year` against the sector world:
    check, figure (USD bn), model (USD bn), ratio, low, high, ok, source."""
    t = pd.read_csv(sources / "sector_checks.csv")
    t = t[t.year == year]
    pos = {c: k for k, c in enumerate(iso)}
    spos = {s: k for k, s in enumerate(sectors(sources))}
    rows = []
    for r in t.itertuples():
        k, i = spos[r.sector], pos[r.exporter]
        if r.importer == "WLD":
            model = sector_flows[k, i].sum() - sector_flows[k, i, i]
        else:
            model = sector_flows[k, i, pos[r.importer]]
        ratio = model / 1e9 / r.figure_usd_bn
        rows.append((f"{r.exporter}->{r.importer} {r.sector} ({r.what})", r.figure_usd_bn,
                     model / 1e9, ratio, r.low, r.high, bool(r.low <= ratio <= r.high),
                     r.source))
    return pd.DataFrame(rows, columns=["check", "figure_bn", "model_bn", "ratio", "low", "high",
                                       "ok", "source"])


def report_md(sp: SectorSplit, iso: list[str], year: int,
              sources: Path = SECTOR_SOURCES) -> list[str]:
    """The build report's sector section (Markdown lines)."""
    prov = pd.Series(sp.provenance.ravel()).value_counts()
    foreign = sp.flows.sum(axis=0) * (1 - np.eye(len(iso)))
    shares = pd.Series({p: sp.flows[sp.provenance == p].sum() for p in SECTOR_PROVENANCES})
    off_total = foreign.sum()
    lines = ["", f"## Sectors ({len(sp.sectors)}: {', '.join(sp.sectors)})", "",
             "| provenance | cells | share of foreign trade |", "|---|---|---|"]
    for p in SECTOR_PROVENANCES:
        share = shares[p] / off_total if p not in ("domestic", "domestic_proxy") else np.nan
        lines.append(f"| {p} | {prov.get(p, 0)} | "
                     f"{'' if np.isnan(share) else f'{share:.1%}'} |")
    lines += ["", "Export compositions of the economies outside ICIO:", ""]
    lines += [f"- {c}: {h}" for c, h in sp.compositions.items()]
    lines += ["", *[f"- {note}" for note in sp.notes]]
    if sp.adjusted:
        lines += ["", "Input coefficients scaled so that intermediate demand stays at most "
                  f"{1 - FINAL_DEMAND_FLOOR:.0%} of absorption (economy, input sector, factor): "
                  + ", ".join(f"{c} {s} {f:.3f}" for c, s, f in sp.adjusted)]
    cal = checks(sp.flows, iso, year, sources)
    lines += ["", "### Independent checks (model / figure; worst first)", "",
              "| check | figure (bn) | model (bn) | ratio | band | ok | source |",
              "|---|---|---|---|---|---|---|"]
    cal = cal.assign(miss=np.abs(np.log(cal.ratio))).sort_values("miss", ascending=False)
    for r in cal.itertuples():
        lines.append(f"| {r.check} | {r.figure_bn:.2f} | {r.model_bn:.2f} | {r.ratio:.2f} | "
                     f"{r.low:.2f}–{r.high:.2f} | {'yes' if r.ok else 'NO'} | {r.source} |")
    return lines
