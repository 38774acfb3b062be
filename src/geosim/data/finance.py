"""Chinese official finance by investment sector: AidData's project records classified into the
model's investment sectors, and each host's sector mix shrunk toward the region's.

The records are AidData's geocoded Chinese official finance in Latin America 2000-2014 (v1.1.1,
project level with titles; `sources/history/aiddata_geocoded_lac_projects_2000_2014.csv`, curated
by tools/curate_aiddata.py). A project goes to one of `CATEGORIES` by the first rule of `RULES`
that matches its AidData sector name and title; "other" collects money that builds none of the
model's investment sectors (social projects, budget support, debt relief, hotels, banks) and is
left out of the mixes (a host's stock keeps its total: its mix is that of its classified money).

A host's mix is its recorded classified mix shrunk toward the region's (a normal-means style
prior worth `PRIOR_USD` of projects): mix = (A·own + P·region) / (A + P), A the host's classified
amount. Only records dated up to the world's base year are used, so the 2012 world never sees a
later project. AEI's China Global Investment Tracker rows shipped here carry no sector (country
and year only), so Chinese state firms keep their profile's mix (geosim.investment).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geosim.data import SOURCES_DIR

PROJECTS_PATH = SOURCES_DIR / "history" / "aiddata_geocoded_lac_projects_2000_2014.csv"

#: The model's investment sectors (`geosim.policies.SECTORS`, same names) and "other".
CATEGORIES = ("renewables", "technology", "transport", "mining_energy", "agriculture",
              "manufacturing", "other")

#: Weight of the regional mix in a host's mix, in USD of projects (assumption, range 0.25-4 bn):
#: a host with $1 bn of classified projects gets half its own mix and half the region's; the
#: median host with records has ~$0.1 bn, the largest (Ecuador, Brazil) ~$6 bn.
PRIOR_USD = 1e9

# AidData (OECD CRS-style) sector names whose projects build none of the investment sectors.
SOCIAL = ("Action Relating to Debt", "General Budget Support", "Education", "Health",
          "Emergency Response", "Government and Civil Society",
          "Other Social infrastructure and services", "Water Supply and Sanitation",
          "Non-food commodity assistance", "Developmental Food Aid/Food Security Assistance",
          "Support to Non-governmental Organizations (NGOs) and Government Organizations",
          "Unallocated / Unspecified", "General Environmental Protection",
          "Business and Other Services", "Trade and Tourism")


@dataclass(frozen=True)
class Rule:
    """A project matches when its AidData sector is among ``sectors`` (empty: any) and its title
    matches ``title`` (a case-insensitive regular expression; empty: any title)."""

    sectors: tuple[str, ...]
    title: str
    category: str
    why: str


#: The classification, first match wins (docs/model.md reproduces it).
RULES = (
    Rule(SOCIAL, "", "other",
         "social, government, debt, budget support, tourism and banking: no investment sector "
         "(the housing an oil firm builds included)"),
    Rule(("Energy Generation and Supply", "Other Multisector"),
         r"hydro|wind|solar|geotherm|renewable", "renewables",
         "hydroelectric, wind, solar power: renewables"),
    Rule(("Energy Generation and Supply",), "", "mining_energy",
         "oil, gas, pipelines, fossil or unnamed power plants and grids: energy"),
    Rule(("Other Multisector",), r"infrastructure development", "transport",
         "Jamaica's Major Infrastructure Development Programme: roads"),
    Rule(("Transport and Storage",), r"shipbuild|shipyard", "manufacturing",
         "shipbuilding is manufacturing, not transport"),
    Rule(("Transport and Storage",), "", "transport",
         "roads, railways, metros, ports, airports, rolling stock, aircraft"),
    Rule(("Communications",), "", "technology",
         "telecom networks, satellites, computers: technology"),
    Rule(("Industry, Mining, Construction",), r"housing|conference|convention", "other",
         "public housing and conference centres: construction with no investment sector"),
    Rule(("Industry, Mining, Construction",), r"\bmin(e|es|ing)\b|copper|\bore\b", "mining_energy",
         "mines"),
    Rule(("Industry, Mining, Construction", "Agriculture, Forestry and Fishing"),
         r"milk|dairy|food|agricultur|farm|fish", "agriculture", "farming and food processing"),
    Rule(("Industry, Mining, Construction",), "", "manufacturing",
         "steel mills, cement plants: manufacturing"),
    Rule(("Agriculture, Forestry and Fishing",), r"garden", "other",
         "a Chinese garden (Jamaica, $230 m): recorded as agriculture, builds no farm sector"),
    Rule(("Agriculture, Forestry and Fishing",), "", "agriculture", "agriculture"),
    Rule((), "", "other", "any other AidData sector (e.g. 'Other Multisector'): unclassifiable"),
)


def classify(sector: str, title: str) -> str:
    """The investment sector (or "other") of one AidData project: the first matching rule."""
    for rule in RULES:
        if rule.sectors and sector not in rule.sectors:
            continue
        if rule.title and not re.search(rule.title, title, flags=re.IGNORECASE):
            continue
        return rule.category
    raise AssertionError("the last rule matches every project")  # pragma: no cover


@functools.cache
def _projects(path: Path) -> pd.DataFrame:
    table = pd.read_csv(path)
    table["category"] = [classify(s, t) for s, t in zip(table["sector"], table["title"],
                                                        strict=True)]
    return table


def projects(path: Path = PROJECTS_PATH) -> pd.DataFrame:
    """The AidData project rows with their ``category`` (a copy)."""
    return _projects(path).copy()


def amounts(base_year: int, path: Path = PROJECTS_PATH) -> pd.DataFrame:
    """USD committed by host (rows) and category (columns, `CATEGORIES`) in the projects dated
    up to ``base_year``; projects without an amount count nothing."""
    p = _projects(path)
    p = p[(p["year"] <= base_year) & p["usd_current"].notna()]
    table = p.pivot_table(index="iso3", columns="category", values="usd_current", aggfunc="sum",
                          fill_value=0.0)
    return table.reindex(columns=list(CATEGORIES), fill_value=0.0).astype(float)


def classified_usd(base_year: int, path: Path = PROJECTS_PATH) -> float:
    """USD of the projects dated up to ``base_year`` classified into an investment sector."""
    return float(amounts(base_year, path).drop(columns="other").to_numpy().sum())


def regional_mix(table: pd.DataFrame, sectors: Sequence[str]) -> np.ndarray:
    """The region's mix over ``sectors``: every host's classified money pooled ("other" out)."""
    total = table[list(sectors)].to_numpy().sum(axis=0)
    if total.sum() <= 0:
        raise ValueError("no classified project in the records")
    return total / total.sum()


def shrunk_mix(own_usd: np.ndarray, region: np.ndarray, prior_usd: float = PRIOR_USD
               ) -> np.ndarray:
    """(A·own + P·region) / (A + P) with A = own_usd.sum() and own = own_usd / A: the host's
    recorded mix shrunk toward the region's (the region's mix where nothing is recorded)."""
    a = float(own_usd.sum())
    return (own_usd + prior_usd * region) / (a + prior_usd)


def host_mixes(hosts: Sequence[str], base_year: int, sectors: Sequence[str],
               prior_usd: float | None = None, path: Path = PROJECTS_PATH) -> np.ndarray:
    """Each host's sector mix [host, sector] (rows sum to one) from the records dated up to
    ``base_year``; hosts without records take the region's mix. ``prior_usd``: `PRIOR_USD`
    unless given."""
    prior_usd = PRIOR_USD if prior_usd is None else prior_usd
    unknown = set(sectors) - set(CATEGORIES)
    if unknown:
        raise ValueError(f"sectors {sorted(unknown)} are not classified ({CATEGORIES})")
    table = amounts(base_year, path)
    region = regional_mix(table, sectors)
    own = table[list(sectors)].reindex(list(hosts), fill_value=0.0).to_numpy()
    return np.stack([shrunk_mix(row, region, prior_usd) for row in own])


def summary(base_year: int, path: Path = PROJECTS_PATH) -> pd.DataFrame:
    """Per category: USD and share of all money with an amount (records up to ``base_year``),
    and the share of the classified money (the regional mix; "other" left out)."""
    total = amounts(base_year, path).sum(axis=0)
    classified = total.drop("other")
    return pd.DataFrame({"usd_bn": total / 1e9, "share_of_all": total / total.sum(),
                         "regional_mix": (classified / classified.sum()).reindex(total.index)})
