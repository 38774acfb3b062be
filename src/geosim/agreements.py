"""Trade agreements and tariffs: the state of every pair's tariff and agreement, and the
trade-cost effect of an agreement counted once (tariff removal plus only the non-tariff part of
the RTA effect, phased in).

Pure numpy (no Mesa): `GeoModel` holds one `AgreementState`; `TradeBloc` agents decide who joins.

The RTA effect β is estimated from agreement dummies (Yotov et al. 2016, ch. 1: 0.557 with pair
fixed effects), so it already contains the average effect of the tariff cuts. A new agreement
therefore removes the pair's tariff, (1 + τ) → 1, which moves t^(1−σ) by (σ−1)·ln(1+τ) log
points, and adds only what is left of β: β_NT = max(β − (σ−1)·ln(1+τ), 0), phased in linearly.
"""

from __future__ import annotations

import numpy as np


def nontariff_part(beta: float, sigma: float, tariff_before: np.ndarray | float) -> np.ndarray:
    """Non-tariff part of the RTA effect (log points of t^(1−σ)) for pairs with these tariffs."""
    return np.maximum(beta - (sigma - 1.0) * np.log1p(np.asarray(tariff_before, dtype=float)),
                      0.0)


def average_phase(phase_in: float) -> float:
    """Mean share of the non-tariff effect in force over an agreement's phase-in years,
    (P + 1) / (2P): what an applicant expects on average while the agreement phases in."""
    return (phase_in + 1.0) / (2.0 * phase_in)


class AgreementState:
    """Tariffs and agreements between every pair of a world's economies.

    Attributes:
        base_tariff: base-year applied tariffs τ⁰[i, j] (importer j on goods from i).
        tariff: current applied tariffs.
        base_agreement: pairs sharing a preferential agreement in the base year (their flows
            already embody it: no new effect).
        start: year a new agreement took effect for each pair (NaN where none).
        phase_in: phase-in years of each pair's new agreement.
        beta_nt: non-tariff part of each new agreement's effect (log points of t^(1−σ)).
        origin_cost: rules-of-origin cost factors on imports (1 where none).
        sector_extra: tariffs added to some goods sectors only, [sector, exporter, importer]
            (fractions; the sector engine adds them to ``tariff``), or None without sectors.
        sector_share: each sector's share of a pair's base-year goods trade (what a sector
            tariff moves the pair's one-sector tariff by, for the one-sector engine).
    """

    def __init__(self, base_tariff: np.ndarray, base_agreement: np.ndarray,
                 sector_share: np.ndarray | None = None, sectors: tuple[str, ...] = ()):
        n = base_tariff.shape[0]
        self.sector_share, self.sectors = sector_share, tuple(sectors)
        self.sector_extra = None if sector_share is None else np.zeros(sector_share.shape)
        self.base_tariff = np.asarray(base_tariff, dtype=float)
        self.tariff = self.base_tariff.copy()
        self.base_agreement = base_agreement.copy()
        np.fill_diagonal(self.base_agreement, False)
        self.start = np.full((n, n), np.nan)
        self.phase_in = np.ones((n, n))
        self.beta_nt = np.zeros((n, n))
        self.origin_cost = np.ones((n, n))

    def has_agreement(self) -> np.ndarray:
        """Pairs that share an agreement now (base-year or new)."""
        return self.base_agreement | ~np.isnan(self.start)

    def phase(self, year: int) -> np.ndarray:
        """Share of each new agreement's non-tariff effect in force in ``year`` (0 where none)."""
        share = np.clip((year - self.start + 1.0) / self.phase_in, 0.0, 1.0)
        return np.nan_to_num(share)

    def cost_factor(self, year: int, sigma: float) -> np.ndarray:
        """Trade-cost change factors relative to the base year from tariffs, agreements and
        rules of origin."""
        cost = (1.0 + self.tariff) / (1.0 + self.base_tariff) * self.origin_cost
        return cost * np.exp(-self.beta_nt / (sigma - 1.0) * self.phase(year))

    def admit(self, phase_in: dict[int, float], rules_of_origin_pct: dict[int, float],
              members: list[int], year: int, *, beta: float, sigma: float,
              external_tariff: float | None = None) -> None:
        """Newcomers (the keys of ``phase_in``) join members, all at once: the order in which
        they are listed does not matter.

        Tariffs between every newcomer and every other member (old or new) go to zero; a pair
        without an agreement starts the non-tariff part of the RTA effect, computed from the
        pair's tariff before the agreement (between two newcomers the longer phase-in applies).
        A customs union's newcomers adopt its external tariff on outsiders; rules of origin add
        an ad-valorem cost to each newcomer's imports from outsiders.
        """
        newcomers = sorted(phase_in)
        inside = sorted(set(newcomers) | set(members))
        before = self.tariff.copy()
        agreed = self.has_agreement()
        for a in newcomers:
            for b in inside:
                if a == b:
                    continue
                years = max(phase_in[a], phase_in.get(b, phase_in[a]))
                for i, j in ((a, b), (b, a)):
                    self.tariff[i, j] = 0.0
                    if self.sector_extra is not None:
                        self.sector_extra[:, i, j] = 0.0  # sector by sector, too
                    if not agreed[i, j]:
                        self.start[i, j] = year
                        self.phase_in[i, j] = years
                        self.beta_nt[i, j] = nontariff_part(beta, sigma, before[i, j])
        outsiders = np.ones(self.tariff.shape[0], dtype=bool)
        outsiders[inside] = False
        for a in newcomers:
            if external_tariff is not None:
                self.tariff[outsiders, a] = external_tariff
            self.origin_cost[outsiders, a] *= 1.0 + rules_of_origin_pct.get(a, 0.0) / 100.0

    def accession_cost(self, cost: np.ndarray, newcomer: int, members: list[int], *,
                       beta: float, sigma: float, phase_in: float,
                       external_tariff: float | None = None,
                       rules_of_origin_pct: float = 0.0) -> np.ndarray:
        """Trade costs if ``newcomer`` joined now, as an applicant evaluates the offer.

        Tariffs with members removed; the non-tariff part of the RTA effect at its average over
        the phase-in years (`average_phase`) for pairs without an agreement; a customs union's
        external tariff on outsiders; rules-of-origin costs on imports from outsiders.
        """
        after = cost.copy()
        agreed = self.has_agreement()
        share = average_phase(phase_in)
        for m in members:
            if m == newcomer:
                continue
            for i, j in ((newcomer, m), (m, newcomer)):
                after[i, j] /= 1.0 + self.tariff[i, j]
                if not agreed[i, j]:
                    after[i, j] *= np.exp(-nontariff_part(beta, sigma, self.tariff[i, j])
                                          / (sigma - 1.0) * share)
        outsiders = np.ones(cost.shape[0], dtype=bool)
        outsiders[[newcomer, *members]] = False
        if external_tariff is not None:
            after[outsiders, newcomer] *= ((1.0 + external_tariff)
                                           / (1.0 + self.tariff[outsiders, newcomer]))
        after[outsiders, newcomer] *= 1.0 + rules_of_origin_pct / 100.0
        return after

    def set_tariffs(self, exporters: list[int], importers: list[int], rate: float | None,
                    change: float | None) -> None:
        """Importers set (rate) or shift (change) their tariff on exporters' goods (fractions)."""
        block = np.ix_(exporters, importers)
        if rate is not None and self.sector_extra is not None:
            self.sector_extra[(slice(None), *block)] = 0.0  # a new rate replaces sector extras
        if rate is not None:
            self.tariff[block] = rate
        else:
            self.tariff[block] = np.maximum(self.tariff[block] + change, 0.0)
        np.fill_diagonal(self.tariff, 0.0)

    def set_sector_tariffs(self, exporters: list[int], importers: list[int], change: float,
                           sector_names: list[str], *, by_sector: bool) -> None:
        """Importers shift their tariff on exporters' goods in some sectors only (fractions).

        With ``by_sector`` (the sector engine) the change is kept per sector; otherwise the
        pair's one-sector tariff moves by the change times those sectors' share of the pair's
        base-year goods trade. Tariffs never go below zero.
        """
        block = (slice(None), *np.ix_(exporters, importers))
        if self.sector_share is None:
            raise ValueError("sector tariffs need a world with sector tables")
        sectors = [self.sectors.index(name) for name in sector_names]
        if by_sector:
            extra = self.sector_extra[block]
            floor = -self.tariff[np.ix_(exporters, importers)][None]
            extra[sectors] = np.maximum(extra[sectors] + change, floor)
            self.sector_extra[block] = extra
        else:
            weight = self.sector_share[block][sectors].sum(axis=0)
            pair = np.ix_(exporters, importers)
            self.tariff[pair] = np.maximum(self.tariff[pair] + change * weight, 0.0)
        np.fill_diagonal(self.tariff, 0.0)
