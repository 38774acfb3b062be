"""What moves a simulated world besides policies and agents: observed output paths (`gdp_path`
events: World Bank GDP in current USD), the China × Latin America trade-cost trend estimated
on 2000-2012 (`geosim.estimation`), continued from 2012 by one rule, and world commodity prices
(World Bank Pink Sheet, real), observed to their last year and held there after. Pure numpy;
`GeoModel` asks for this year's values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from geosim.data import World, observed_gdp
from geosim.data.sectors import real_prices
from geosim.estimation import LAST_YEAR as TREND_WINDOW_END
from geosim.trade import Equilibrium

# Observed output paths are met to this relative tolerance.
OUTPUT_PATH_TOL = 1e-9
OUTPUT_PATH_ROUNDS = 50


def trend_rate(params: Mapping[str, float], year: int) -> float:
    """The China × Latin America trend's rate in ``year`` (log points of t^(1−σ)): the estimated
    `china_lac_trend` in the first year after the estimation window (2013), fading by
    `trend_fade` a year from there; 0 in the window. One rule, whatever the model's base year."""
    k = year - TREND_WINDOW_END - 1
    return params["china_lac_trend"] * params["trend_fade"] ** k if k >= 0 else 0.0


def trend_factor(world: World, china: int, params: Mapping[str, float], base_year: int,
                 year: int) -> np.ndarray:
    """Trade-cost change factors t̂ of the China × Latin America trend from the base year to
    ``year``: exp(−T/(σ−1)) on China <-> Latin America pairs, 1 elsewhere, T the sum of
    `trend_rate` over the years after the base year. The trend continues from the end of its
    estimation window (2012) the same way for the back-test (base year 2012) and projections
    (base year 2023: the 2013-2023 part is already in the base-year data), so the back-test
    uses nothing a projection would not."""
    n = len(world.iso3)
    factor = np.ones((n, n))
    total = sum(trend_rate(params, y) for y in range(base_year + 1, year + 1))
    if total:
        change = np.exp(-total / (params["sigma"] - 1.0))
        factor[china, world.is_lac] = change
        factor[world.is_lac, china] = change
    return factor


def commodity_prices(sectors: Sequence[str], base_year: int, year: int) -> np.ndarray:
    """Real world commodity price relatives p̂_j = p_j(year) / p_j(base_year) per sector (in
    the order of ``sectors``): the Pink Sheet index of the sector deflated by MUV
    (`geosim.data.sectors.real_prices`: agriculture & food, energy, metals & minerals; 1 for the
    sectors without a commodity index).

    Observed through the data's last year (2024); after it the **projection assumption** is that
    real prices stay at their last observed level (p̂ of a later year = p̂ of the last year).
    The same rule serves the back-test (base 2012, all years observed) and projections (base
    2023: 2024 observed, then held).

    Raises:
        ValueError: a year or base year before the first observation, or a sector unknown to
            the price table.
    """
    table = real_prices()
    first, last = int(table.index.min()), int(table.index.max())
    for label, y in (("base year", base_year), ("year", year)):
        if y < first:
            raise ValueError(f"commodity prices: {label} {y} is before the first observed "
                             f"year {first}")
    unknown = [s for s in sectors if s not in table.columns]
    if unknown:
        raise ValueError(f"commodity prices: unknown sector(s) {', '.join(unknown)}; "
                         f"known: {', '.join(table.columns)}")
    now = table.loc[min(year, last), list(sectors)].to_numpy(float)
    then = table.loc[min(base_year, last), list(sectors)].to_numpy(float)
    return now / then


class OutputPaths:
    """The observed output paths in force: which economies follow World Bank GDP, until when."""

    def __init__(self, world: World, start: int):
        self.world, self.start = world, start
        self._paths: list[tuple[list[int], int]] = []  # (economy indices, last year)
        self._gdp: dict[tuple[str, int], float] | None = None  # read once, when first needed

    def add(self, economies: list[int], until: int) -> None:
        """From now to ``until``, the economies' nominal output follows observed GDP."""
        self._paths.append((economies, until))

    def targets(self, year: int) -> dict[int, float]:
        """Nominal output of ``year`` relative to the start year, by economy index, for the
        economies on a path; an economy without an observation stays on its projection."""
        active = [i for idx, until in self._paths if year <= until for i in idx]
        if not active:
            return {}
        if self._gdp is None:
            self._gdp = observed_gdp()
        gdp = self._gdp
        targets = {}
        for i in active:
            iso = self.world.iso3[i]
            now, then = gdp.get((iso, year)), gdp.get((iso, self.start))
            if now and then:
                targets[i] = now / then
        return targets


def meet_output_targets(solve: Callable[[np.ndarray, Equilibrium], Equilibrium],
                        eq: Equilibrium, endowment: np.ndarray, targets: Mapping[int, float],
                        sigma: float) -> tuple[Equilibrium, np.ndarray]:
    """Adjust endowments until nominal output meets the targets.

    Args:
        solve: the year's equilibrium for an endowment, warm-started from an equilibrium.
        eq: the equilibrium at ``endowment``.
        targets: nominal output factor by economy index.
        sigma: the trade elasticity; a quantity change q̂ moves nominal output by q̂^((σ−1)/σ).

    Returns:
        The equilibrium meeting the targets and the endowment factor applied (1 where no target).
    """
    applied = np.ones(len(endowment))
    if not targets:
        return eq, applied
    idx = np.array(list(targets))
    goal = np.array([targets[i] for i in idx])
    power = sigma / (sigma - 1.0)
    for _ in range(OUTPUT_PATH_ROUNDS):
        miss = goal / eq.output[idx]
        if np.abs(miss - 1.0).max() < OUTPUT_PATH_TOL:
            break
        adjust = np.ones(len(endowment))
        adjust[idx] = miss**power
        applied *= adjust
        endowment = endowment * adjust
        eq = solve(endowment, eq)
    return eq, applied
