"""Investment: investor profiles, the host-choice logit, project draws with common random numbers,
and the effects on hosts of the stocks above business as usual.

Pure numpy (no Mesa): the model's `Investor` agents and `GeoModel` call these functions.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from geosim.policies import SECTORS

# Channels through which a sector's stock acts on the host (DESIGN §5): renewables, technology
# and manufacturing raise productivity (κ); transport lowers the host's trade costs with everyone
# (ν); every sector's stock ties the host's trade to the investor's home (γ, `tie_factor`): the
# 2000-2012 estimate does not tell sectors apart (docs/validation.md), so one rule serves all.
PRODUCTIVE = tuple(SECTORS.index(s) for s in ("renewables", "technology", "manufacturing"))
TRANSPORT = (SECTORS.index("transport"),)

# Infrastructure capital ≈ 0.5 × GDP: new transport investment is measured against it (IMF
# Investment and Capital Stock Dataset: public capital ≈ 50-60 % of GDP in Latin America).
INFRA_CAPITAL_GDP = 0.5
# Floor of the productivity and infrastructure factors: a numerical guard (a host cannot lose more
# than half its output or double its trade costs through investment); not reached in the
# shipped scenarios.
EFFECT_FLOOR = 0.5
# Largest number of projects drawn per budget and year; larger budgets are spent in bigger
# projects (keeps memory bounded whatever a scenario sets).
MAX_PROJECTS = 100_000


@dataclass(frozen=True)
class InvestorProfile:
    """Who an investor is: home economy, budget parameter, data stock and sector mix.

    ``recorded_mix``: its money goes to each host's sectors as its recorded projects there did
    (`geosim.data.finance`: AidData's project records, shrunk toward the region's mix), and
    ``sector_mix`` is not used; otherwise every host gets ``sector_mix``.
    """

    name: str
    home: str
    budget_parameter: str
    stock_source: str
    stock_kind: str
    sector_mix: tuple[float, ...]  # in the order of SECTORS
    mix_source: str
    sanction_risk: float  # weight of sanctions risk in its host scores (1 = full)
    recorded_mix: bool = False


# Sector mixes are approximate portfolio compositions; they matter only through the channels above.
# Chinese policy banks place their money by their recorded projects (AidData, per host); Chinese
# state firms keep a fixed mix: the AEI CGIT rows shipped carry no sector.
INVESTOR_PROFILES = (
    InvestorProfile("us_public", "USA", "us_public_bn", "USA", "official_finance",
                    (0.30, 0.15, 0.15, 0.10, 0.10, 0.20),
                    "DFC annual report portfolio by sector (approximate)", 1.0),
    InvestorProfile("us_private", "USA", "us_private_bn", "USA", "fdi",
                    (0.10, 0.20, 0.10, 0.20, 0.05, 0.35),
                    "BEA US direct investment position in Latin America by industry (approximate)",
                    1.0),
    InvestorProfile("china_policy_banks", "CHN", "china_lending_bn", "CHN", "official_finance",
                    (0.05, 0.02, 0.25, 0.60, 0.03, 0.05),
                    "per host from AidData's geocoded project records 2000-2014 up to the base "
                    "year, shrunk toward the region's mix (geosim.data.finance); the fixed mix "
                    "(IAD/BU China-Latin America Finance Database: energy ≈ 2/3, infrastructure "
                    "≈ 1/5 of lending, approximate) is not used", 0.0, recorded_mix=True),
    InvestorProfile("china_state_firms", "CHN", "china_fdi_bn", "CHN", "fdi",
                    (0.20, 0.10, 0.15, 0.40, 0.10, 0.05),
                    "Monitor OFDI China-LAC (RED ALC-China): raw materials and energy lead "
                    "(approximate)", 0.0),
    InvestorProfile("eu_private", "EUU", "eu_private_bn", "EUU", "fdi",
                    (0.25, 0.15, 0.10, 0.15, 0.10, 0.25),
                    "ECLAC FDI report: EU investors in renewables, telecoms, manufacturing "
                    "(approximate)", 0.5),
)

# Model assumption: hosts under comprehensive US sanctions programmes (OFAC: Venezuela, Cuba,
# Nicaragua) carry full political risk for Western investors; Haiti's instability for everyone.
SANCTIONED = ("VEN", "CUB", "NIC")
FRAGILE = ("HTI",)


def choice_probabilities(scores: np.ndarray, temperature: float) -> np.ndarray:
    """Multinomial-logit probabilities over hosts (−inf scores get probability zero)."""
    z = scores / temperature
    finite = np.isfinite(z)
    out = np.zeros_like(z, dtype=float)
    if not finite.any():
        return out
    e = np.exp(z[finite] - z[finite].max())
    out[finite] = e / e.sum()
    return out


@functools.lru_cache(maxsize=4096)  # a run and its reference draw the same numbers
def project_uniform(entropy: int, year: int, investor: int, stream: int) -> float:
    """The uniform number that places one budget's projects in one year (common random numbers).

    It depends only on the run's seed, the year, the investor and the budget (0 = ordinary,
    k = the k-th programme), never on the scenario: two scenarios run with the same seed draw
    the same numbers, so their difference is not seed noise.
    """
    seq = np.random.SeedSequence([entropy, year, investor, stream])
    return float(np.random.default_rng(seq).random())


def draw_projects(prob: np.ndarray, budget_bn: float, size_bn: float, u: float) -> np.ndarray:
    """Spend a budget (bn USD) in projects of ``size_bn`` over hosts; return USD per host.

    Projects are placed by systematic sampling from the logit probabilities (one uniform ``u``
    shifts an even grid of ``budget / size`` points through the cumulative probabilities), so
    each host gets the floor or the ceiling of its expected number of projects; the remainder
    below one project is spread by the probabilities. Expected spending is ``budget × prob``.
    """
    if budget_bn <= 0 or prob.sum() <= 0:
        return np.zeros(prob.shape)
    projects = int(min(budget_bn // size_bn, MAX_PROJECTS))
    size = size_bn if projects < MAX_PROJECTS else budget_bn / projects
    counts = np.zeros(prob.size)
    if projects:
        points = (u + np.arange(projects)) / projects
        cells = np.searchsorted(np.cumsum(prob), points, side="right")
        counts = np.bincount(np.minimum(cells, prob.size - 1), minlength=prob.size)
    remainder = budget_bn - projects * size
    return (counts * size + remainder * prob) * 1e9


def sector_split(host_usd: np.ndarray, mix: np.ndarray) -> np.ndarray:
    """Host × sector investment from host totals and a sector mix, normalised to one: one mix
    for every host (shape: sectors) or one per host (hosts × sectors)."""
    mix = np.asarray(mix, dtype=float)
    if mix.ndim == 1:
        return np.outer(host_usd, mix / mix.sum())
    total = mix.sum(axis=1, keepdims=True)
    if np.any((total[:, 0] <= 0) & (host_usd > 0)):
        raise ValueError("a host receives investment but its sector mix is zero in every sector")
    return host_usd[:, None] * mix / np.where(total > 0, total, 1.0)


def productivity_factor(extra_productive: np.ndarray, gdp: np.ndarray, kappa: float
                        ) -> np.ndarray:
    """Output factor 1 + κ · (productive stock above business as usual) / current GDP."""
    return np.maximum(1.0 + kappa * extra_productive / gdp, EFFECT_FLOOR)


def infrastructure_factor(extra_transport: np.ndarray, gdp: np.ndarray, nu: float) -> np.ndarray:
    """Trade-cost factor of a host's extra transport stock: (1 + ΔK / (0.5 · GDP))^(−ν)."""
    return np.maximum(1.0 + extra_transport / (INFRA_CAPITAL_GDP * gdp), EFFECT_FLOOR) ** (-nu)


def tie_factor(stock: np.ndarray, bau_stock: np.ndarray, gdp: np.ndarray, gamma: float,
               sigma: float) -> np.ndarray:
    """Trade-cost factor t̂ between a source economy and each host from the source's stock there.

    One rule for every source (US, EU, Chinese; private and public) and sector: the trade-cost
    term t^(1−σ) of the pair changes by the factor ((1 + K/Y) / (1 + K_BAU/Y))^γ, K the source's
    stock in the host (all its investors and sectors pooled), K_BAU the same without the
    scenario's policies and Y the host's GDP: the form estimated on 2000-2012 data
    (`geosim.estimation.estimate_tie_terms`). So t̂ = ((1 + K/Y) / (1 + K_BAU/Y))^(−γ/(σ−1)):
    no extra stock, no tie; γ > 0 lowers the pair's trade costs as the stock grows.
    """
    ratio = (1.0 + stock / gdp) / (1.0 + bau_stock / gdp)
    return np.maximum(ratio, 1e-12) ** (-gamma / (sigma - 1.0))


def zscore(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Standardise values over the masked countries, winsorised at ±2 (outliers such as
    Guyana's oil-boom growth do not dominate a score)."""
    sub = values[mask]
    n = sub.size
    mean = sub.sum() / n  # what sub.mean() and sub.std() compute, without their overhead
    deviation = sub - mean
    sd = np.sqrt((deviation * deviation).sum() / n)
    return np.minimum(np.maximum((values - mean) / (sd if sd > 0 else 1.0), -2.0), 2.0)
