"""Build the calibrated 2023 world (`world/*.csv` and BUILD_REPORT.md) from the shipped `sources/`.

Owns the reproducible procedure: goods totals, fixed and seeded cells, RAS balancing, domestic
sales, tariffs, memberships, investment stocks, targets and the build report (docs/data.md).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geosim.data import INDICATORS, SOURCES_DIR, WORLD_DIR, World, read_world
from geosim.data.agreements import desta_cross_check, memberships
from geosim.data.sectors import build_sectors, report_md, write_sectors

BASE_YEAR = 2023
PARTNERS = ("USA", "CAN", "CHN", "EUU", "JPN", "KOR", "IND")
FIXED_ECONOMIES = ("USA", "CHN")  # rows and columns fixed from reports, closed through ROW
ROW = "ROW"
ROW_LATLON = (25.2, 55.3)  # nominal map point for the dispersed rest of world
# ROW distances: harmonic mean over regional hubs (lat, lon, approximate share of ROW GDP):
# other Europe (London), Asia-Pacific (Singapore), Middle East & Africa (Dubai).
ROW_HUBS = ((51.5, -0.13, 0.35), (1.35, 103.8, 0.40), (25.2, 55.3, 0.25))
ROW_HUB_MIN_KM = 1000.0  # a hub stands for a whole region: no partner is nearer than this
EARTH_RADIUS_KM = 6371.0

SHARE_BAND = 0.025  # totals are moved until every numeric target share is met within 2.5 pp
BOUND_MARGIN = 0.005  # "<x" targets: keep the share at least 0.5 pp below x
ABSORPTION_TO_GDP = 1.0  # goods absorption (domestic sales + imports) ≈ GDP ...
DOMESTIC_SHARE_RANGE = (0.6, 0.9)  # ... unless the domestic share would leave this range
BLOC_FACTOR = math.exp(0.5)  # gravity seed multiplier for pairs with a 2023 trade agreement
UNLISTED_SHARE_CAP = 0.5  # missing flow with a "<x" target: at most x/2 of the total
RAS_TOL = 1e-12
RAS_MAX_ITER = 20_000


INDICATOR_CELLS = {  # indicator -> (partner, side)
    "china_export_share": ("CHN", "export"),
    "us_export_share": ("USA", "export"),
    "china_import_share": ("CHN", "import"),
    "us_import_share": ("USA", "import"),
}
BASELINE_COLUMNS = {
    "china_export_share": "china_share_of_exports_pct",
    "us_export_share": "us_share_of_exports_pct",
    "china_import_share": "china_share_of_imports_pct",
    "us_import_share": "us_share_of_imports_pct",
}


@dataclass
class Report:
    """Everything the build logs: total choices and shifts, conflicts, notes."""

    totals: list[dict] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _read(name: str, sources: Path) -> pd.DataFrame:
    return pd.read_csv(sources / name, dtype=str, keep_default_na=False)


def _haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


# ---------------------------------------------------------------------------------------------
# Economies, distances, targets
# ---------------------------------------------------------------------------------------------


def _economies(sources: Path, report: Report) -> pd.DataFrame:
    """Countries table: 33 LAC states, the 7 partners and ROW, with 2023 GDP and population."""
    c = _read("countries.csv", sources)
    c = c[c["region"] != "Partner-memo"].copy()
    out = pd.DataFrame(
        {
            "iso3": c["iso3"],
            "name": c["name"].str.replace(r" \(World minus.*", "", regex=True),
            "is_lac": c["region"] == "Latin America & Caribbean",
            "subregion": c["subregion"].where(c["subregion"] != "", c["region"]),
            "gdp_usd": pd.to_numeric(c["gdp_usd_2023"], errors="coerce"),
            "population": pd.to_numeric(c["population_2023"]),
            "lat": pd.to_numeric(c["capital_lat"], errors="coerce"),
            "lon": pd.to_numeric(c["capital_lon"], errors="coerce"),
        }
    ).reset_index(drop=True)
    out.loc[out.iso3 == ROW, "name"] = "Rest of world"
    cub = out.iso3 == "CUB"
    out.loc[cub, "gdp_usd"] = 107_352_000_000.0
    report.notes.append(
        "CUB GDP: no 2023 market-rate value; World Bank 2020 (107.35bn at the official 1:24 "
        "rate) used - unreliable."
    )
    report.notes.append("VEN GDP 2023: CIA Factbook 139.4bn (World Bank has none) - uncertain.")
    lac_missing = float(out.loc[out.iso3.isin(["CUB", "VEN"]), "gdp_usd"].sum())
    out.loc[out.iso3 == ROW, "gdp_usd"] -= lac_missing
    report.notes.append(
        f"ROW GDP: countries.csv value minus CUB and VEN ({lac_missing / 1e9:.1f}bn), which the "
        "World-minus-listed subtraction had missed."
    )
    out.loc[out.iso3 == ROW, ["lat", "lon"]] = ROW_LATLON
    if out[["gdp_usd", "population", "lat", "lon"]].isna().any().any():
        raise ValueError("countries.csv: missing GDP, population or coordinates")
    return out


def _distances(sources: Path, eco: pd.DataFrame) -> np.ndarray:
    """Great-circle km: the shipped capital-to-capital table, haversine for ROW's nominal point."""
    iso = list(eco.iso3)
    pos = {c: i for i, c in enumerate(iso)}
    n = len(iso)
    dist = np.zeros((n, n))
    d = _read("distances.csv", sources)
    d = d[d.origin.isin(pos) & d.destination.isin(pos)]
    i, j = d.origin.map(pos).to_numpy(), d.destination.map(pos).to_numpy()
    dist[i, j] = dist[j, i] = d.distance_km.astype(float).to_numpy()
    r = pos[ROW]
    for k in range(n):
        if k != r:
            inverse = sum(
                w / max(_haversine(la, lo, eco.lat.iloc[k], eco.lon.iloc[k]), ROW_HUB_MIN_KM)
                for la, lo, w in ROW_HUBS
            )
            dist[r, k] = dist[k, r] = round(1 / inverse, 1)
    off = ~np.eye(n, dtype=bool)
    if (dist[off] <= 0).any():
        raise ValueError("distances.csv: missing pairs")
    return dist


def _targets(sources: Path) -> pd.DataFrame:
    """dependency_baseline.csv 2023 as (iso3, indicator, value fraction, bound '=' or '<')."""
    b = _read("dependency_baseline.csv", sources)
    b = b[b.year == str(BASE_YEAR)]
    rows = []
    for _, r in b.iterrows():
        for ind in INDICATORS:
            raw = r[BASELINE_COLUMNS[ind]].strip()
            bound = "<" if raw.startswith("<") else "="
            rows.append((r.iso3, ind, round(float(raw.lstrip("<")) / 100, 6), bound))
    return pd.DataFrame(rows, columns=["iso3", "indicator", "value", "bound"])


# ---------------------------------------------------------------------------------------------
# Reported cells with the US and China
# ---------------------------------------------------------------------------------------------


def _us_china_reports(sources: Path, lac: list[str], report: Report) -> dict:
    """Cells (exporter, importer) -> (value, detail) with the US and China, one reporter each.

    LAC economies: their own reports (major_partner_flows.csv, side=LAC), the reporter of their
    totals; other partners: their own reports; US–China: importer-reported.
    """
    cells: dict[tuple[str, str], tuple[float, str]] = {}
    m = _read("major_partner_flows.csv", sources)
    m = m[m.partner.isin(FIXED_ECONOMIES)]
    for _, r in m[m.note.str.contains("side=LAC")].iterrows():
        key = (r.reporter, r.partner) if r.flow == "export" else (r.partner, r.reporter)
        cells[key] = (float(r.value_usd), f"{r.reporter}-reported {r.year}")
    for _, r in m[~m.note.str.contains("side=LAC")].iterrows():
        key = (r.reporter, r.partner) if r.flow == "export" else (r.partner, r.reporter)
        if key in cells:
            own, mirror = cells[key][0], float(r.value_usd)
            if abs(mirror / own - 1) > 0.05:
                who = re.search(r"data_reporter=(\w+)", r.note)
                report.conflicts.append(
                    f"{key[0]}->{key[1]}: own report {own / 1e9:.2f}bn vs "
                    f"{who.group(1) if who else 'partner'}-reported {mirror / 1e9:.2f}bn "
                    f"({mirror / own - 1:+.0%}); own report used"
                )
    p = _read("partner_reported_usa_china_2023.csv", sources)
    others = [c for c in PARTNERS if c not in FIXED_ECONOMIES]
    for _, r in p[p.reporter_iso3.isin(others)].iterrows():
        key = (r.reporter_iso3, r.partner) if r.flow == "export_to_partner" else (
            r.partner, r.reporter_iso3)
        cells[key] = (float(r.value_usd), f"{r.reporter_iso3}-reported {r.year}")
    us_imp = p[(p.reporter_iso3 == "USA") & (p.flow == "import_from_partner")]
    cn_imp = p[(p.reporter_iso3 == "CHN") & (p.flow == "import_from_partner")
               & (p.partner == "USA")]
    cells[("CHN", "USA")] = (float(us_imp.value_usd.iloc[0]), "USA-reported imports 2023")
    cells[("USA", "CHN")] = (float(cn_imp.value_usd.iloc[0]), "CHN-reported imports 2023")
    for exp, imp in (("CHN", "USA"), ("USA", "CHN")):
        rep = p[(p.reporter_iso3 == exp) & (p.partner == imp) & (p.flow == "export_to_partner")]
        if len(rep):
            alt = float(rep.value_usd.iloc[0])
            report.conflicts.append(
                f"{exp}->{imp}: importer-reported {cells[(exp, imp)][0] / 1e9:.1f}bn vs "
                f"exporter-reported {alt / 1e9:.1f}bn; importer's figure used"
            )
    report.notes.append(
        "China's reported 'imports from China' (re-imports, 104.3bn) dropped; EU-27 = sum of the "
        "27 member states' own reports (national concept)."
    )
    missing = [c for c in lac if not any(c in k for k in cells)]
    report.notes.append(
        f"No reports with the US or China for {', '.join(missing)}: cells share-derived "
        "from the targets (VEN: flows under sanctions, very uncertain)."
    )
    return cells


# ---------------------------------------------------------------------------------------------
# Goods totals
# ---------------------------------------------------------------------------------------------


def _share_interval(flow: float, target: float, bound: str) -> tuple[float, float]:
    """Totals for which flow / total meets the target within SHARE_BAND (or below a bound)."""
    if bound == "<":
        return flow / (target - BOUND_MARGIN), math.inf
    lo = flow / (target + SHARE_BAND)
    hi = flow / (target - SHARE_BAND) if target > SHARE_BAND else math.inf
    return lo, hi


def _minimax_total(constraints: list[tuple[float, float, str]], start: float) -> float:
    """Total minimising the worst target miss (pp) when no total meets every band."""
    grid = start * np.exp(np.linspace(-3, 3, 60_001))

    def worst(total: np.ndarray) -> np.ndarray:
        miss = np.zeros_like(total)
        for flow, target, bound in constraints:
            share = flow / total
            dev = share - target if bound == "=" else np.maximum(share - target + BOUND_MARGIN, 0)
            miss = np.maximum(miss, np.abs(dev) if bound == "=" else dev)
        return miss

    return float(grid[np.argmin(worst(grid))])


def _goods_totals(
    sources: Path,
    eco: pd.DataFrame,
    targets: pd.DataFrame,
    cells: dict,
    report: Report,
) -> tuple[dict[str, float], dict[str, float]]:
    """Goods exports and imports (to / from the other modelled economies and ROW) per economy.

    Order of methods: official goods totals; the economy's own flows with the US and China
    divided by the target shares (weights ∝ share², the inverse variance of rounding); partners'
    top-5 listings; the median total/GDP ratio of the subregion. Then every LAC total is moved
    into the band where all its target shares fit (conflicts get the minimax total).
    """
    official = pd.concat([_read("goods_totals.csv", sources),
                          _read("goods_totals_added.csv", sources)])
    totals: dict[str, dict[str, float]] = {"export": {}, "import": {}}
    method: dict[str, dict[str, str]] = {"export": {}, "import": {}}
    for _, r in official.iterrows():
        totals[r.flow][r.iso3] = float(r.value_usd)
        method[r.flow][r.iso3] = "official goods total"
    tgt = {(r.iso3, r.indicator): (r.value, r.bound) for r in targets.itertuples()}
    lac = list(eco.iso3[eco.is_lac])

    def own_flow(iso: str, partner: str, side: str) -> float | None:
        key = (iso, partner) if side == "export" else (partner, iso)
        return cells[key][0] if key in cells else None

    for side in ("export", "import"):
        for iso in lac:
            if iso in totals[side]:
                continue
            est, wts = [], []
            for ind, (partner, s) in INDICATOR_CELLS.items():
                value, bound = tgt[(iso, ind)]
                flow = own_flow(iso, partner, side)
                if s == side and bound == "=" and flow:
                    est.append(flow / value)
                    wts.append(value**2)
            if est:
                totals[side][iso] = float(np.average(est, weights=wts))
                method[side][iso] = "own US/China flows / target shares"

    # Partners' listings: j lists iso as a top-5 partner (cell value known from j's side).
    shares = _read("trade_partner_shares.csv", sources)
    shares = shares[shares.year == str(BASE_YEAR)]
    for side in ("export", "import"):
        other = "import" if side == "export" else "export"
        for iso in lac:
            if iso in totals[side]:
                continue
            own_list = shares[(shares.reporter == iso) & (shares.flow == side)]
            est = []
            for _, r in own_list.iterrows():
                j = r.partner_iso3
                mirror = shares[(shares.reporter == j) & (shares.partner_iso3 == iso)
                                & (shares.flow == other)]
                if len(mirror) and j in totals[other]:
                    value = float(mirror.share_pct.iloc[0]) / 100 * totals[other][j]
                    est.append(value / (float(r.share_pct) / 100))
            if est:
                totals[side][iso] = float(np.mean(est))
                method[side][iso] = "partner's top-5 listing / own top-5 share"

    gdp = dict(zip(eco.iso3, eco.gdp_usd, strict=True))
    sub = dict(zip(eco.iso3, eco.subregion, strict=True))
    for side in ("export", "import"):
        for iso in lac:
            if iso in totals[side]:
                continue
            peers = [c for c in lac if sub[c] == sub[iso] and c in totals[side]
                     and method[side][c] != "subregion median total/GDP"]
            ratio = float(np.median([totals[side][c] / gdp[c] for c in peers]))
            totals[side][iso] = ratio * gdp[iso]
            method[side][iso] = "subregion median total/GDP"

    # Move LAC totals into the band where all target shares fit.
    for side in ("export", "import"):
        for iso in lac:
            start = totals[side][iso]
            cons = []
            for ind, (partner, s) in INDICATOR_CELLS.items():
                flow = own_flow(iso, partner, side)
                if s == side and flow:
                    cons.append((flow, *tgt[(iso, ind)]))
            lo = max([_share_interval(*c)[0] for c in cons], default=0.0)
            hi = min([_share_interval(*c)[1] for c in cons], default=math.inf)
            if lo <= hi:
                total = min(max(start, lo), hi)
                reason = "" if total == start else "moved into the target band"
            else:
                total = _minimax_total(cons, start)
                reason = "targets conflict: minimax total"
                report.conflicts.append(
                    f"{iso} {side}s: no total meets all target shares within "
                    f"{SHARE_BAND * 100:.1f} pp; minimax total {total / 1e9:.2f}bn used"
                )
            totals[side][iso] = total
            report.totals.append(
                {"iso3": iso, "side": side, "method": method[side][iso], "initial": start,
                 "final": total, "shift": total / start - 1, "reason": reason}
            )
    for side in ("export", "import"):
        for iso in PARTNERS:
            report.totals.append(
                {"iso3": iso, "side": side, "method": method[side][iso],
                 "initial": totals[side][iso], "final": totals[side][iso], "shift": 0.0,
                 "reason": ""}
            )
    return totals["export"], totals["import"]


# ---------------------------------------------------------------------------------------------
# Memberships and tariffs
# ---------------------------------------------------------------------------------------------


def _preferential_pairs(members: pd.DataFrame, iso: list[str]) -> np.ndarray:
    pos = {c: i for i, c in enumerate(iso)}
    pref = np.zeros((len(iso), len(iso)), dtype=bool)
    for _, group in members[members.preferential].groupby("bloc"):
        idx = [pos[c] for c in group.iso3]
        pref[np.ix_(idx, idx)] = True
    np.fill_diagonal(pref, False)
    return pref


def _tariffs(sources: Path, iso: list[str], pref: np.ndarray, base_year: int = BASE_YEAR,
             overrides: bool = True) -> tuple[np.ndarray, pd.DataFrame]:
    """Applied tariffs: importer's MFN average, 0 inside preferential agreements, overrides.

    Missing MFN averages are imputed: Mercosur members by the ARG/BRA mean (common external
    tariff), CARICOM members by the ATG/BRB/BLZ mean, ROW by the median of the non-imputed ones.
    """
    mfn_rows = pd.concat([_read("tariffs.csv", sources), _read("tariffs_added.csv", sources)])
    mfn = {r.iso3: float(r.mfn_applied_simple_avg_pct) for r in mfn_rows.itertuples()}
    basis = {c: "MFN (WTO World Tariff Profiles)" for c in mfn}
    mercosur = np.mean([mfn["ARG"], mfn["BRA"]])
    caricom = np.mean([mfn["ATG"], mfn["BRB"], mfn["BLZ"]])
    row_value = float(np.median(list(mfn.values())))
    for c in ("PRY", "URY"):
        mfn.setdefault(c, round(float(mercosur), 2))
        basis.setdefault(c, "MFN imputed: Mercosur CET proxy (mean ARG, BRA)")
    for c in ("BHS", "DMA", "GRD", "GUY", "JAM", "KNA", "LCA", "VCT", "SUR", "TTO"):
        mfn.setdefault(c, round(float(caricom), 2))
        basis.setdefault(c, "MFN imputed: CARICOM proxy (mean ATG, BRB, BLZ)")
    mfn.setdefault(ROW, round(row_value, 2))
    basis.setdefault(ROW, "MFN imputed: median of the non-imputed averages")
    n = len(iso)
    rate = np.array([[mfn[imp] / 100 for imp in iso] for _ in range(n)])
    label = np.array([[basis[imp] for imp in iso] for _ in range(n)], dtype=object)
    rate[pref] = 0.0
    label[pref] = f"preferential (agreement in force in {base_year})"
    pos = {c: i for i, c in enumerate(iso)}
    for r in _read("tariff_overrides.csv", sources).itertuples() if overrides else ():
        rate[pos[r.exporter], pos[r.importer]] = float(r.rate_pct) / 100
        label[pos[r.exporter], pos[r.importer]] = "override (tariff_overrides.csv)"
    np.fill_diagonal(rate, 0.0)
    rows = [
        (iso[i], iso[j], round(rate[i, j], 6), label[i, j])
        for i in range(n) for j in range(n) if i != j
    ]
    table = pd.DataFrame(rows, columns=["exporter", "importer", "rate", "basis"])
    return rate, table


# ---------------------------------------------------------------------------------------------
# The flows matrix
# ---------------------------------------------------------------------------------------------


@dataclass
class Matrix:
    """The matrix under construction: values, provenance and which cells RAS may scale."""

    iso: list[str]
    value: np.ndarray
    prov: np.ndarray
    fixed: np.ndarray

    @classmethod
    def empty(cls, iso: list[str]) -> Matrix:
        n = len(iso)
        return cls(iso, np.zeros((n, n)), np.full((n, n), "", dtype=object),
                   np.zeros((n, n), dtype=bool))

    def set(self, exp: str, imp: str, value: float, prov: str, fixed: bool) -> None:
        i, j = self.iso.index(exp), self.iso.index(imp)
        self.value[i, j], self.prov[i, j], self.fixed[i, j] = value, prov, fixed


def _fill_us_china(mat: Matrix, cells: dict, targets: pd.DataFrame, exports: dict,
                   imports: dict, seed: np.ndarray) -> None:
    """US and China rows and columns: reports, else targets × total, closed through ROW."""
    tgt = {(r.iso3, r.indicator): (r.value, r.bound) for r in targets.itertuples()}
    iso = mat.iso
    for (exp, imp), (value, _) in cells.items():
        mat.set(exp, imp, value, "observed", True)
    for c in iso:
        if c in FIXED_ECONOMIES or c == ROW:
            continue
        for ind, (partner, side) in INDICATOR_CELLS.items():
            key = (c, partner) if side == "export" else (partner, c)
            if key in cells or (c, ind) not in tgt:
                continue
            value, bound = tgt[(c, ind)]
            total = exports[c] if side == "export" else imports[c]
            if bound == "=":
                mat.set(*key, value * total, "share-derived", True)
            else:  # gravity share of c's exports (imports), capped at half the "<x" bound
                i, j = iso.index(key[0]), iso.index(key[1])
                gs = seed[i, j] / (seed[i].sum() if side == "export" else seed[:, j].sum())
                mat.set(*key, min(gs, UNLISTED_SHARE_CAP * value) * total, "imputed", True)
    for c in FIXED_ECONOMIES:
        k, r = iso.index(c), iso.index(ROW)
        row = exports[c] - sum(mat.value[k, j] for j in range(len(iso)) if j not in (k, r))
        col = imports[c] - sum(mat.value[i, k] for i in range(len(iso)) if i not in (k, r))
        if row <= 0 or col <= 0:
            raise ValueError(f"{c}: reported partner flows exceed its goods total")
        mat.set(c, ROW, row, "residual", True)
        mat.set(ROW, c, col, "residual", True)


def _fill_observed(mat: Matrix, sources: Path, report: Report) -> None:
    """Exporter-reported 2023 flows (trade.csv) and the EU-27 mirrors for Brazil."""
    t = _read("trade.csv", sources)
    t = t[t.basis.str.contains("reported by exporter") & t.exporter.isin(mat.iso)
          & t.importer.isin(mat.iso)]
    for r in t.itertuples():
        i, j = mat.iso.index(r.exporter), mat.iso.index(r.importer)
        if mat.fixed[i, j]:
            if abs(float(r.value_usd) / mat.value[i, j] - 1) > 0.01:
                report.conflicts.append(
                    f"{r.exporter}->{r.importer}: trade.csv {float(r.value_usd) / 1e9:.2f}bn vs "
                    f"{mat.value[i, j] / 1e9:.2f}bn in major_partner_flows.csv (latter used)"
                )
            continue
        mat.set(r.exporter, r.importer, float(r.value_usd), "observed", True)
    m = _read("major_partner_flows.csv", sources)
    for r in m[(m.partner == "EUU") & m.note.str.startswith("preferred=yes")].itertuples():
        key = (r.reporter, "EUU") if r.flow == "export" else ("EUU", r.reporter)
        mat.set(*key, float(r.value_usd), "mirror", True)


def _fill_shares(mat: Matrix, sources: Path, exports: dict, imports: dict,
                 report: Report) -> dict[tuple[int, int], float]:
    """Top-5 partner listings × totals for cells still empty.

    EU member states listed in a top-5 only give a lower bound on the EU-27 cell: these are
    returned as floors (cell index -> USD) for the gravity-imputed EU cells.
    """
    s = _read("trade_partner_shares.csv", sources)
    s = s[(s.year == str(BASE_YEAR)) & s.reporter.isin(mat.iso)]
    s = s.assign(partner=np.where(s.partner_in_eu27 == "1", "EUU", s.partner_iso3))
    s = s[s.partner.isin(mat.iso) & (s.partner != s.reporter)]
    grouped = s.groupby(["reporter", "partner", "flow"], sort=True).share_pct.apply(
        lambda x: x.astype(float).sum() / 100)
    values: dict[tuple[str, str], list[float]] = {}
    floors: dict[tuple[int, int], float] = {}
    for (rep, partner, flow), share in grouped.items():
        key = (rep, partner) if flow == "export" else (partner, rep)
        total = exports[rep] if flow == "export" else imports[rep]
        if partner == "EUU":  # only the listed member states: a lower bound
            ij = (mat.iso.index(key[0]), mat.iso.index(key[1]))
            floors[ij] = max(floors.get(ij, 0.0), share * total)
        else:
            values.setdefault(key, []).append(share * total)
    for key, vals in sorted(values.items()):
        i, j = mat.iso.index(key[0]), mat.iso.index(key[1])
        if mat.fixed[i, j]:
            continue
        if len(vals) > 1 and max(vals) > 1.5 * min(vals):
            report.conflicts.append(
                f"{key[0]}->{key[1]}: exporter's listing gives {vals[0] / 1e9:.2f}bn, "
                f"importer's {vals[1] / 1e9:.2f}bn; mean used"
            )
        mat.set(*key, float(np.mean(vals)), "share-derived", False)
    return {ij: v for ij, v in floors.items() if not mat.fixed[ij]}


def _gravity_seed(eco: pd.DataFrame, dist: np.ndarray, pref: np.ndarray) -> np.ndarray:
    """GDP_i · GDP_j / distance_ij, × BLOC_FACTOR inside 2023 agreements; zero diagonal."""
    g = eco.gdp_usd.to_numpy(float)
    with np.errstate(divide="ignore"):
        seed = np.outer(g, g) / np.where(dist > 0, dist, np.inf)
    seed = seed * np.where(pref, BLOC_FACTOR, 1.0)
    np.fill_diagonal(seed, 0.0)
    return seed


def _ras(seed: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, int]:
    """Biproportional scaling of the non-negative `seed` to row and column targets."""
    x = seed.copy()
    for it in range(1, RAS_MAX_ITER + 1):
        rs = x.sum(axis=1)
        x *= np.divide(rows, rs, out=np.zeros_like(rows), where=rs > 0)[:, None]
        cs = x.sum(axis=0)
        x *= np.divide(cols, cs, out=np.zeros_like(cols), where=cs > 0)[None, :]
        err = np.abs(x.sum(axis=1) - rows).max() / rows.max()
        if err < RAS_TOL:
            return x, it
    raise RuntimeError(f"RAS did not converge (row error {err:.2e})")


def _domestic(eco: pd.DataFrame, imports: np.ndarray) -> np.ndarray:
    """Domestic sales: absorption = ABSORPTION_TO_GDP × GDP, domestic share clamped to a range."""
    lo, hi = DOMESTIC_SHARE_RANGE
    share = 1 - imports / (ABSORPTION_TO_GDP * eco.gdp_usd.to_numpy(float))
    share = np.clip(share, lo, hi)
    return share / (1 - share) * imports


def _flows(sources: Path, eco: pd.DataFrame, dist: np.ndarray, pref: np.ndarray,
           targets: pd.DataFrame, report: Report) -> tuple[Matrix, dict, dict, int]:
    """Build the complete balanced matrix; returns it with the final totals."""
    iso = list(eco.iso3)
    lac = list(eco.iso3[eco.is_lac])
    cells = _us_china_reports(sources, lac, report)
    exports, imports = _goods_totals(sources, eco, targets, cells, report)
    seed = _gravity_seed(eco, dist, pref)

    mat = Matrix.empty(iso)
    _fill_us_china(mat, cells, targets, exports, imports, seed)
    _fill_observed(mat, sources, report)
    floors = _fill_shares(mat, sources, exports, imports, report)
    n, r = len(iso), iso.index(ROW)

    # Gravity seeds for the remaining cells, scaled per row to what the row has left.
    free = ~mat.fixed & ~np.eye(n, dtype=bool)
    for i, c in enumerate(iso):
        if c == ROW or not free[i].any():
            continue
        left = exports[c] - mat.value[i, mat.fixed[i]].sum()
        if left <= 0:
            raise ValueError(f"{c}: fixed cells exceed its export total")
        share_cells = free[i] & (mat.prov[i] == "share-derived")
        grav = free[i] & ~share_cells
        room = left - mat.value[i, share_cells].sum()
        if room < 0.05 * left:
            report.conflicts.append(
                f"{c}: top-5 listings take {1 - room / left:.0%} of the free exports; "
                "imputed cells floored at 5%"
            )
            room = 0.05 * left
        mat.value[i, grav] = seed[i, grav] / seed[i, grav].sum() * room
        mat.prov[i, grav] = "imputed"

    for (i, j), floor in floors.items():
        mat.value[i, j] = max(mat.value[i, j], floor)

    # ROW's totals: imports = column of the seeded matrix; exports close world trade.
    imports[ROW] = float(mat.value[:, r].sum())
    exports[ROW] = imports[ROW] + sum(imports[c] for c in iso if c != ROW) - sum(
        exports[c] for c in iso if c != ROW)
    left = exports[ROW] - mat.value[r, mat.fixed[r]].sum()
    share_cells = free[r] & (mat.prov[r] == "share-derived")
    grav = free[r] & ~share_cells
    room = left - mat.value[r, share_cells].sum()
    if room <= 0:
        raise ValueError("ROW: its fixed cells exceed the closing export total")
    mat.value[r, grav] = seed[r, grav] / seed[r, grav].sum() * room
    mat.prov[r, grav] = "imputed"
    report.notes.append(
        f"ROW totals: imports from the modelled economies {imports[ROW] / 1e9:,.0f}bn (column of "
        f"the row-scaled seed matrix); exports {exports[ROW] / 1e9:,.0f}bn, set so that world "
        "exports = world imports."
    )

    # RAS on the free cells against what remains of each total.
    e = np.array([exports[c] for c in iso])
    m = np.array([imports[c] for c in iso])
    fixed_val = np.where(mat.fixed, mat.value, 0.0)
    rows, cols = e - fixed_val.sum(axis=1), m - fixed_val.sum(axis=0)
    for k in (iso.index(c) for c in FIXED_ECONOMIES):
        rows[k] = cols[k] = 0.0  # closed exactly through ROW
    if (rows < -1).any() or (cols < -1).any():
        bad = [iso[k] for k in np.flatnonzero((rows < -1) | (cols < -1))]
        raise ValueError(f"fixed cells exceed the totals of {bad}")
    before = np.where(free, mat.value, 0.0)
    balanced, iterations = _ras(before, np.maximum(rows, 0), np.maximum(cols, 0))
    mat.value[free] = balanced[free]
    ratio = np.divide(balanced, before, out=np.ones_like(before), where=before > 0)
    for prov in ("share-derived", "imputed"):
        sel = free & (mat.prov == prov) & (before > 0)
        if sel.any():
            q = np.quantile(ratio[sel], [0.1, 0.5, 0.9])
            report.notes.append(
                f"RAS scaling of {prov} cells: 10/50/90th percentile factor "
                f"{q[0]:.2f} / {q[1]:.2f} / {q[2]:.2f}"
            )

    low = [f"{iso[i]}->{iso[j]} {mat.value[i, j] / 1e9:.2f}bn < {v / 1e9:.2f}bn"
           for (i, j), v in floors.items() if mat.value[i, j] < 0.999 * v]
    report.notes.append(
        f"EU-27 cells with member states in a top-5 listing: {len(floors)} imputed cells seeded "
        f"at least at the listed members' sum; after RAS below it: {', '.join(low) or 'none'}."
    )

    dom = _domestic(eco, m)
    mat.value[np.arange(n), np.arange(n)] = dom
    mat.prov[np.arange(n), np.arange(n)] = "domestic"
    mat.value = np.round(mat.value)
    return mat, exports, imports, iterations


# ---------------------------------------------------------------------------------------------
# Investment
# ---------------------------------------------------------------------------------------------


def _investment(sources: Path, eco: pd.DataFrame, flows: np.ndarray) -> pd.DataFrame:
    """FDI stocks of USA, CHN, EUU in each LAC host, and Chinese official finance.

    FDI rule: stock(s, h) = κ_s · GDP_h · (s's share of h's goods trade); κ_s fitted on the
    anchors (US: BEA positions in MEX and BRA; EU: CDIS lower bound for BRA; China: the
    Red ALC-China cumulative OFDI total). Anchor hosts keep their anchor value.
    """
    iso = list(eco.iso3)
    pos = {c: i for i, c in enumerate(iso)}
    lac = list(eco.iso3[eco.is_lac])
    gdp = dict(zip(eco.iso3, eco.gdp_usd, strict=True))
    off = flows * (1 - np.eye(len(iso)))
    trade = off.sum(axis=0) + off.sum(axis=1)

    def share(src: str, host: str) -> float:
        s, h = pos[src], pos[host]
        return (off[s, h] + off[h, s]) / trade[h]

    inv = _read("investment.csv", sources)
    added = _read("investment_added.csv", sources)
    us = inv[inv.indicator.str.startswith("US direct investment position in")]
    anchors = {
        "USA": {r.recipient: (float(r.value_usd), f"BEA position {r.period} (historical cost)")
                for r in us.itertuples()},
        "EUU": {r.recipient: (float(r.value_usd), f"IMF CDIS {r.period} lower bound")
                for r in added[added.investor == "EUU"].itertuples()},
    }
    kappa = {
        src: float(np.exp(np.mean([np.log(v / (gdp[h] * share(src, h)))
                                   for h, (v, _) in a.items()])))
        for src, a in anchors.items()
    }
    cn_row = added[(added.investor == "CHN") & (added.recipient == "LAC")]
    cn_total = float(cn_row.value_usd.iloc[0])
    kappa["CHN"] = cn_total / sum(gdp[h] * share("CHN", h) for h in lac)
    anchors["CHN"] = {}
    rows = []
    for src in ("USA", "CHN", "EUU"):
        for h in lac:
            if h in anchors[src]:
                value, note = anchors[src][h]
                note = f"reported: {note}"
            else:
                value = kappa[src] * gdp[h] * share(src, h)
                note = (f"modelled: kappa {kappa[src]:.3f} x GDP x {src} share of goods trade "
                        f"({share(src, h):.1%})")
            rows.append((src, h, "fdi", round(value), note))
    aid = inv[inv.unit_note.str.contains("AidData") & inv.recipient.isin(lac)]
    aid = {r.recipient: float(r.value_usd) for r in aid.itertuples()}
    arg = added[(added.investor == "CHN") & (added.recipient == "ARG")].iloc[0]
    for h in lac:
        if h == "ARG":
            value = float(arg.value_usd)
            note = (f"IAD/BU policy-bank loans {arg.period} (approximate); AidData's "
                    f"{aid['ARG'] / 1e9:.1f}bn counts PBoC swap renewals")
        elif h in aid:
            value, note = aid[h], "AidData GCDF 3.0 commitments 2000-2021 (constant 2021 USD)"
        else:
            value, note = 0.0, "no AidData GCDF 3.0 record"
        rows.append(("CHN", h, "official_finance", round(value), note))
    return pd.DataFrame(rows, columns=["source", "host", "kind", "value_usd", "note"])


# ---------------------------------------------------------------------------------------------
# Calibration check, report, writing
# ---------------------------------------------------------------------------------------------


def calibration(world: World) -> pd.DataFrame:
    """China and US shares of each target economy's exports and imports: targets vs matrix.

    Returns:
        DataFrame (iso3, indicator, target, bound, model, miss_pp, ok) with shares as fractions;
        miss_pp is |model - target| for '=' targets and the excess over the bound for '<'.
    """
    x = world.flows * (1 - np.eye(world.n))
    rows = []
    for t in world.targets.itertuples():
        i = world.index(t.iso3)
        partner, side = INDICATOR_CELLS[t.indicator]
        p = world.index(partner)
        model = x[i, p] / x[i].sum() if side == "export" else x[p, i] / x[:, i].sum()
        if t.bound == "=":
            miss = abs(model - t.value) * 100
            ok = miss <= 3.0
        else:
            miss = max(model - t.value, 0.0) * 100
            ok = model < t.value
        rows.append((t.iso3, t.indicator, t.value, t.bound, model, miss, ok))
    return pd.DataFrame(rows, columns=["iso3", "indicator", "target", "bound", "model", "miss_pp",
                                       "ok"])


def largest_lac(world: World, k: int = 20) -> list[str]:
    """The k largest Latin American and Caribbean economies by base-year GDP."""
    lac = [i for i in range(world.n) if world.is_lac[i]]
    return [world.iso3[i] for i in sorted(lac, key=lambda i: -world.gdp[i])[:k]]


def _bn(x: float) -> str:
    return f"{x / 1e9:,.2f}"


def _agreements_md(world: World, sources: Path) -> list[str]:
    """Agreements by type and the DESTA cross-check, for the build report."""
    m = world.memberships
    first = m.drop_duplicates("bloc")
    lines = ["", "## Agreements (WTO RTA-IS, ALADI ACEs, DESTA)", "",
             "| bloc_type | agreements | membership rows | preferential rows |",
             "|---|---|---|---|"]
    for kind, g in m.groupby("bloc_type"):
        lines.append(f"| {kind} | {int((first.bloc_type == kind).sum())} | {len(g)} | "
                     f"{int(g.preferential.sum())} |")
    check = desta_cross_check(sources, m, world.base_year)
    missing = check[check.table_first_year.isna()]
    differ = check[check.table_first_year.notna()
                   & (check.table_first_year != check.desta_first_year)]
    lines += ["", f"DESTA v2.3 cross-check: {len(check)} pairs with a DESTA treaty in force by "
              f"{world.base_year}; {len(check) - len(missing)} have an agreement in the table, "
              f"{len(differ)} of them with another first year (DESTA counts framework and "
              "partial treaties too). Pairs without one, by DESTA's first treaty:", ""]
    for name, g in missing.groupby("desta_name"):
        pairs = ", ".join(f"{a}-{b}" for a, b in zip(g.iso3_1, g.iso3_2, strict=True))
        lines.append(f"- {name} ({len(g)}): {pairs}")
    return lines


def _report_md(world: World, report: Report, iterations: int, sources: Path) -> str:
    prov = pd.Series(world.provenance.ravel()).value_counts()
    cal = calibration(world)
    top = largest_lac(world)
    cal20 = cal[cal.iso3.isin(top)]
    x = world.flows
    dom_share = np.diag(x) / x.sum(axis=0)
    lines = [
        "# Build report: the calibrated 2023 world",
        "",
        "Generated by `geosim data build` (`geosim.data.build`) from `sources/`; do not edit.",
        "",
        f"- economies: {world.n} ({int(world.is_lac.sum())} LAC + "
        f"{world.n - int(world.is_lac.sum())} partners and ROW)",
        f"- RAS iterations: {iterations}",
        f"- calibration (20 largest LAC, {len(cal20)} shares): {int(cal20.ok.sum())} within "
        f"tolerance, worst miss {cal20.miss_pp.max():.2f} pp",
        "",
        "## Cells by provenance",
        "",
        "| provenance | cells |",
        "|---|---|",
        *[f"| {k} | {prov.get(k, 0)} |" for k in
          ("observed", "mirror", "share-derived", "imputed", "residual", "domestic")],
        "",
        "## Goods totals (USD bn, to / from all other economies)",
        "",
        "| iso3 | side | method | initial | final | shift | note |",
        "|---|---|---|---|---|---|---|",
    ]
    for t in report.totals:
        lines.append(
            f"| {t['iso3']} | {t['side']} | {t['method']} | {_bn(t['initial'])} | "
            f"{_bn(t['final'])} | {t['shift']:+.1%} | {t['reason']} |"
        )
    lines += ["", "## Conflicts", ""] + [f"- {c}" for c in report.conflicts]
    lines += ["", "## Notes", ""] + [f"- {c}" for c in report.notes]
    lines += _agreements_md(world, sources)
    lines += [
        "",
        "## Domestic share of goods absorption (diagonal / column sum)",
        "",
        "| iso3 | domestic share |",
        "|---|---|",
        *[f"| {c} | {dom_share[i]:.3f} |" for i, c in enumerate(world.iso3)],
        "",
        *calibration_md(cal, top, "Calibration: targets vs matrix (all LAC; * = among the 20 "
                        "largest)", "target"),
    ]
    return "\n".join(lines) + "\n"


def calibration_md(cal: pd.DataFrame, top: list[str], title: str, label: str) -> list[str]:
    """The build report's calibration table (a `calibration` frame; * marks `top`)."""
    lines = [f"## {title}", "", f"| iso3 | indicator | {label} | model | miss (pp) | ok |",
             "|---|---|---|---|---|---|"]
    for t in cal.itertuples():
        star = "*" if t.iso3 in top else ""
        target = f"{'<' if t.bound == '<' else ''}{t.target * 100:.1f}%"
        lines.append(f"| {t.iso3}{star} | {t.indicator} | {target} | {t.model * 100:.1f}% | "
                     f"{t.miss_pp:.2f} | {'yes' if t.ok else 'NO'} |")
    return lines


def write_world(out: Path, eco: pd.DataFrame, growth: list[float], x: np.ndarray,
                provenance: np.ndarray, dist: np.ndarray, tariffs: pd.DataFrame,
                members: pd.DataFrame, investment: pd.DataFrame, targets: pd.DataFrame,
                base_year: int) -> World:
    """Write a built world's tables (countries, flows, tariffs, distances, memberships,
    investment, targets) to `out` and read it back."""
    iso = list(eco.iso3)
    n = len(iso)
    countries = eco.assign(
        gdp_usd=eco.gdp_usd.round().astype("int64"),
        population=eco.population.round().astype("int64"),
        growth=[round(float(g), 6) for g in growth],
        exports_usd=(x.sum(axis=1) - np.diag(x)).astype("int64"),
        imports_usd=(x.sum(axis=0) - np.diag(x)).astype("int64"),
        domestic_usd=np.diag(x).astype("int64"),
    )
    flows = pd.DataFrame({"exporter": np.repeat(iso, n), "importer": np.tile(iso, n),
                          "value_usd": x.ravel().astype("int64"),
                          "provenance": provenance.ravel()})
    iu = np.triu_indices(n, 1)
    distances = pd.DataFrame({"origin": np.array(iso)[iu[0]],
                              "destination": np.array(iso)[iu[1]], "distance_km": dist[iu]})
    out.mkdir(parents=True, exist_ok=True)
    tables = {"countries.csv": countries, "flows.csv": flows, "tariffs.csv": tariffs,
              "distances.csv": distances, "memberships.csv": members,
              "investment.csv": investment, "targets.csv": targets}
    for name, table in tables.items():
        table.to_csv(out / name, index=False, lineterminator="\n")
    return read_world(out, base_year=base_year)


def build(out: Path | str = WORLD_DIR, sources: Path | str = SOURCES_DIR) -> World:
    """Build the world tables from the shipped sources and write them to `out`.

    Args:
        out: output folder (created if missing); default the package's `world/`.
        sources: folder with the curated source CSVs.

    Returns:
        The built World, read back from `out`.
    """
    out, sources = Path(out), Path(sources)
    report = Report()
    eco = _economies(sources, report)
    iso = list(eco.iso3)
    dist = _distances(sources, eco)
    targets = _targets(sources)
    members = memberships(sources, iso, BASE_YEAR)
    pref = _preferential_pairs(members, iso)
    _, tariff_table = _tariffs(sources, iso, pref)
    mat, exports, imports, iterations = _flows(sources, eco, dist, pref, targets, report)

    growth = _read("growth.csv", sources).set_index("iso3").growth_pct.astype(float) / 100
    x = mat.value
    world = write_world(out, eco, [growth[c] for c in iso], x, mat.prov, dist, tariff_table,
                        members, _investment(sources, eco, x), targets, BASE_YEAR)
    world, sector_lines = with_sectors(out, world, eco, sources)
    (out / "BUILD_REPORT.md").write_text(_report_md(world, report, iterations, sources)
                                         + "\n".join(sector_lines) + "\n")
    return world


def with_sectors(out: Path, world: World, eco: pd.DataFrame,
                 sources: Path) -> tuple[World, list[str]]:
    """Split a written world's flows by sector (geosim.data.sectors), write the sector tables
    beside it and read the whole world back; returns it and the report's sector section."""
    iso = list(world.iso3)
    subregion = dict(zip(eco.iso3, eco.subregion, strict=True))
    sector_sources = sources / "sectors"
    split = build_sectors(world.flows, iso, world.base_year, subregion, sector_sources)
    write_sectors(out, split, iso, sector_sources)
    return (read_world(out, base_year=world.base_year),
            report_md(split, iso, world.base_year, sector_sources))
