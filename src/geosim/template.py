"""What every model of one world and horizon starts from, derived once and shared read-only:
blocs and their scheduled entries, base-year agreements, stocks, risks and scoring arrays.

Pure numpy and pandas (no Mesa): `GeoModel` copies what it changes.
"""

from __future__ import annotations

import dataclasses
import weakref

import numpy as np

from geosim import investment, metrics
from geosim.data import World, finance
from geosim.investment import FRAGILE, INVESTOR_PROFILES, SANCTIONED
from geosim.policies import SECTORS, trade_agreements


def leader(world: World, members: list[str]) -> str:
    """A bloc's leader: the US, China or the EU if a member, else its largest economy."""
    for leader in ("USA", "CHN", "EUU"):
        if leader in members:
            return leader
    known = [m for m in members if m in world.iso3]
    return max(known, key=lambda c: world.gdp[world.index(c)]) if known else ""


def sector_mixes(world: World) -> np.ndarray:
    """Each investor's sector mix in each host (investor × host × sector, rows sum to one): the
    profile's fixed mix, or for an investor with ``recorded_mix`` its recorded projects' mix in
    the host shrunk toward the region's, from records dated up to the world's base year
    (`geosim.data.finance.host_mixes`; a world before the first record keeps the profile's)."""
    n = len(world.iso3)
    out = np.zeros((len(INVESTOR_PROFILES), n, len(SECTORS)))
    recorded = finance.classified_usd(world.base_year) > 0
    for k, prof in enumerate(INVESTOR_PROFILES):
        if prof.recorded_mix and recorded:
            out[k] = finance.host_mixes(world.iso3, world.base_year, SECTORS)
        else:
            out[k] = np.asarray(prof.sector_mix) / sum(prof.sector_mix)
    return out


@dataclasses.dataclass(frozen=True)
class WorldTemplate:
    """What every model of one world and horizon starts from, derived once (read-only: models
    copy what they change)."""

    blocs: tuple[tuple[str, str, dict[str, int], str, float | None], ...]  # name, kind, ...
    scheduled: dict[int, tuple[tuple[str, str], ...]]  # year -> (iso3, bloc) entering then
    agreed: np.ndarray  # pairs sharing an agreement in the base year
    stock: np.ndarray  # base-year stocks, investor × host × sector
    sector_mix: np.ndarray  # each investor's mix per host, investor × host × sector (rows sum 1)
    risk: np.ndarray  # political risk of each host for each investor
    growth_score: np.ndarray  # winsorised z-score of baseline growth over the region
    access_weights: np.ndarray  # base-year export shares by destination (no home market)
    absorption: np.ndarray  # base-year spending of each economy
    total_flows: float
    by_home: dict[str, list[int]]  # investors by home economy
    china_official: list[int]  # Chinese official lenders


# World -> {(start, end): template}; an entry lives as long as its world.
_TEMPLATES: weakref.WeakKeyDictionary[World, dict[tuple[int, int], WorldTemplate]] = (
    weakref.WeakKeyDictionary())


def template_for(world: World, start: int, end: int) -> WorldTemplate:
    """The template of a world and horizon, built on first use and then shared."""
    per_world = _TEMPLATES.setdefault(world, {})
    if (start, end) not in per_world:
        per_world[(start, end)] = build_template(world, start, end)
    return per_world[(start, end)]


def build_template(w: World, start: int, end: int) -> WorldTemplate:
    """Blocs from the world's memberships (only agreements with tariff preferences count, see
    `policies.trade_agreements`; entries after ``start`` are scheduled up to ``end``), base-year
    stocks split by each investor's sector mix in each host (`sector_mixes`), and the base-year
    arrays the yearly work uses."""
    n = len(w.iso3)
    blocs, scheduled = [], {}
    m = trade_agreements(w.memberships, w.base_year)
    for name, rows in m.groupby("bloc", sort=True):
        rows = rows[rows["iso3"].isin(w.iso3) & rows["entry_year"].notna()]
        entries = list(zip(rows["iso3"], rows["entry_year"].astype(int), strict=True))
        members = {iso: int(year) for iso, year in entries if year <= start}
        for iso, year in entries:
            if start < year <= end:
                scheduled.setdefault(int(year), []).append((iso, name))
        kind = str(rows["bloc_type"].iloc[0]) if len(rows) else "FTA"
        cet = None
        if kind.lower().startswith("customs union") and members:
            idx = [w.index(c) for c in members]
            outsiders = np.setdiff1d(np.arange(n), idx)
            cet = float(np.asarray(w.tariff)[np.ix_(outsiders, idx)].mean())
        blocs.append((name, kind, members,
                      leader(w, list(members) or list(rows["iso3"])), cet))
    agreed = np.zeros((n, n), dtype=bool)
    for _, _, members, _, _ in blocs:
        idx = [w.index(c) for c in members]
        agreed[np.ix_(idx, idx)] = True
    mix = sector_mixes(w)
    stock = np.zeros((len(INVESTOR_PROFILES), n, len(SECTORS)))
    inv = w.investment
    for k, prof in enumerate(INVESTOR_PROFILES):
        rows = inv[(inv["source"] == prof.stock_source) & (inv["kind"] == prof.stock_kind)]
        for host, value in rows.groupby("host")["value_usd"].sum().items():
            if host in w.iso3:
                stock[k, w.index(host)] = value * mix[k, w.index(host)]
    risk = np.zeros((len(INVESTOR_PROFILES), n))
    for k, prof in enumerate(INVESTOR_PROFILES):
        risk[k, [w.index(c) for c in SANCTIONED if c in w.iso3]] = prof.sanction_risk
        risk[k, [w.index(c) for c in FRAGILE if c in w.iso3]] = 1.0
    base = metrics.international(w.flows)
    by_home: dict[str, list[int]] = {}
    for k, prof in enumerate(INVESTOR_PROFILES):
        by_home.setdefault(prof.home, []).append(k)
    arrays = (agreed, stock, mix, risk)
    for a in arrays:
        a.setflags(write=False)
    return WorldTemplate(
        blocs=tuple(blocs), scheduled={y: tuple(v) for y, v in scheduled.items()},
        agreed=agreed, stock=stock, sector_mix=mix, risk=risk,
        growth_score=investment.zscore(w.growth, w.is_lac),
        access_weights=base / base.sum(axis=1, keepdims=True),
        absorption=w.flows.sum(axis=0), total_flows=w.flows.sum(),
        by_home=by_home,
        china_official=[k for k, p in enumerate(INVESTOR_PROFILES)
                        if p.home == "CHN" and p.stock_kind == "official_finance"])
