"""The one equilibrium solver: Caliendo–Parro (2015) in exact hat algebra, by Newton's method.

Owns the equilibrium conditions of N economies × J sectors with input–output links, tariffs and
trade imbalances, their analytic Jacobian, Newton's method with continuation and warm starts,
and the counterfactual result (`SectorEquilibrium`) with its welfare decomposition. The
one-sector engine (`geosim.trade.gravity.solve`) is the case J = 1, no inputs, no tariffs.

Unknowns are the log factor-price changes z = ln ŵ (N of them). Given ŵ, unit costs and price
indices solve a contraction (the cost shares of inputs sum to less than one), expenditure solves
a linear system, and what is left is each economy's factor market:

    ĉ_ij   = ŵ_i^β_ij Π_k P̂_ik^G_ikj
    P̂_nj   = [Σ_i π_jin (ĉ_ij κ̂_jin / ẑ_ij)^(−θ_j)]^(−1/θ_j),   π'_jin = π_jin (ĉ κ̂/ẑ / P̂_nj)^(−θ_j)
    X'_nj  = Σ_k G_njk Y'_nk + α_nj I'_n,   Y'_ij = Σ_n π'_jin X'_nj / (1 + τ'_jin)
    I'_n   = ŵ_n L̂_n w_nL_n + Σ_j Σ_i τ'_jin π'_jin X'_nj / (1 + τ'_jin) + D'_n
    ŵ_n L̂_n w_nL_n = Σ_j β_nj Y'_nj

With an import nest (`Economy.nest`, η_j ≠ θ_j; GTAP's Armington structure) the home good and
the imports' composite substitute by η_j and import sources among themselves by θ_j:
P̂_nj^(−η) = λ_jn (ĉ_nj/ẑ_nj)^(−η) + (1 − λ_jn) P̂ᴹ_nj^(−η), P̂ᴹ the import nest's price index over
i ≠ n (as P̂ above, shares within imports); η = θ is the one nest above.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from geosim.trade.economy import ConvergenceError, Economy, TradeDataError, check_entries

Imbalance = Literal["world_share", "output_ratio", "zero"]
IMBALANCES: tuple[str, ...] = ("world_share", "output_ratio", "zero")


@dataclass(frozen=True)
class Shock:
    """A counterfactual relative to an Economy; None = unchanged.

    Attributes:
        tariff: new ad-valorem rates τ'[j, i, n].
        cost_factor: iceberg trade-cost change d̂[j, i, n] (1 = unchanged).
        productivity: ẑ[i, j], Hicks-neutral: delivered costs divided by ẑ.
        endowment: L̂_i, change in each economy's factor endowment (its output quantity in the
            one-sector case).
    """

    tariff: np.ndarray | None = None
    cost_factor: np.ndarray | None = None
    productivity: np.ndarray | None = None
    endowment: np.ndarray | None = None

    def check(self, n: int, j: int) -> None:
        for name, value, shape, ok, expected in (
            ("tariff", self.tariff, (j, n, n), lambda v: np.isfinite(v) & (v > -1),
             "finite and > -1"),
            ("cost_factor", self.cost_factor, (j, n, n), _positive, "positive and finite"),
            ("productivity", self.productivity, (n, j), _positive, "positive and finite"),
            ("endowment_factor", self.endowment, (n,), _positive, "positive and finite"),
        ):
            if value is None:
                continue
            arr = np.asarray(value, dtype=float)
            if arr.shape != shape:
                raise TradeDataError(f"{name} must have shape {shape}, got {arr.shape}")
            check_entries(name, arr, ok, expected)


@dataclass(frozen=True)
class _State:
    """Where a Market's inner systems last stood: unit costs u at z, expenditure x at x_at, the
    Jacobian's du/dz and dX'/dz, and the Jacobian itself (None where not computed)."""

    z: np.ndarray
    u: np.ndarray | None
    x: np.ndarray | None
    x_at: np.ndarray | None
    du: np.ndarray | None
    dx: np.ndarray | None
    newton: np.ndarray | None  # the last Newton system (the Jacobian, its numeraire row set)


def _positive(v):
    return np.isfinite(v) & (v > 0)


@dataclass(frozen=True)
class SectorEquilibrium:
    """A counterfactual equilibrium: change factors (new / baseline) and new levels.

    Attributes:
        baseline: the Economy solved from.
        wage: factor-price change ŵ_n.
        cost: unit-cost change ĉ[n, j] of the input bundle.
        price: sector price-index change P̂[n, j].
        price_index: consumer price-index change P̂_n = Π_j P̂_nj^α_nj.
        flows: new sales Z'[j, i, n] at producer prices.
        expenditure: new absorption X'[n, j] (tariff-inclusive).
        output: new gross output Y'[i, j].
        income: new final-demand income I'_n.
        factor_income: new value added ŵ L̂ wL.
        deficit: new trade deficits D'_n.
        tariff: the tariffs in force in the counterfactual.
        welfare: real income change Î_n / P̂_n (exact).
        iceberg: the iceberg cost changes d̂ applied (None: none).
        terms_of_trade, volume_of_trade, technology (properties): Caliendo–Parro (2015)
            decomposition of the welfare change, % of baseline income: Σ (E ĉ_own − M
            ĉ_partner changes), Σ τ M (M̂ − ĉ_partner), −Σ M (1 + τ)(d̂ − 1) (first order, as in
            the paper's Table 3).
        iterations: Newton iterations (excess-demand evaluations at accepted points).
        residual: max relative factor-market error at the solution.
    """

    baseline: Economy
    wage: np.ndarray
    cost: np.ndarray
    price: np.ndarray
    price_index: np.ndarray
    flows: np.ndarray
    expenditure: np.ndarray
    output: np.ndarray
    income: np.ndarray
    factor_income: np.ndarray
    deficit: np.ndarray
    tariff: np.ndarray
    welfare: np.ndarray
    iceberg: np.ndarray | None
    iterations: int
    residual: float
    # the solver's last unit costs, expenditure and Jacobian pieces: a later solve's start
    state: _State | None = field(default=None, repr=False, compare=False)

    @functools.cached_property
    def terms_of_trade(self) -> np.ndarray:
        """Σ_j Σ_i [E_jni (ĉ_nj − 1) − M_jin (ĉ_ij − 1)] / I_n, % (computed when first read)."""
        base, change = self.baseline, self.cost.T[:, :, None] - 1.0
        tot = (base.flows * change).sum(axis=(0, 2)) - (base.flows * change).sum(axis=(0, 1))
        return 100.0 * tot / base.income

    @functools.cached_property
    def volume_of_trade(self) -> np.ndarray:
        """Σ_j Σ_i τ_jin M_jin (M̂_jin − ĉ_ij) / I_n, % (computed when first read)."""
        base = self.baseline
        with np.errstate(invalid="ignore", divide="ignore"):
            growth = np.where(base.flows > 0, self.flows / base.flows, 0.0)
        vot = (base.tariff * base.flows * (growth - self.cost.T[:, :, None])).sum(axis=(0, 1))
        return 100.0 * vot / base.income

    @functools.cached_property
    def technology(self) -> np.ndarray:
        """−Σ_j Σ_i M_jin (1 + τ_jin)(d̂_jin − 1) / I_n, % (computed when first read)."""
        base = self.baseline
        if self.iceberg is None:
            return np.zeros(base.shape[0])
        tech = -(base.flows * (1.0 + base.tariff) * (self.iceberg - 1.0)).sum(axis=(0, 1))
        return 100.0 * tech / base.income

    @property
    def welfare_decomposed(self) -> np.ndarray:
        """Terms of trade + volume of trade + technology, % (the paper's welfare figure)."""
        return self.terms_of_trade + self.volume_of_trade + self.technology

    def rebased(self) -> Economy:
        """This equilibrium as the baseline of the next counterfactual (same technology)."""
        b = self.baseline
        return b.replace(flows=self.flows, tariff=self.tariff, factor_income=self.factor_income,
                         deficit=self.deficit)


def solve_sectors(
    economy: Economy,
    shock: Shock | None = None,
    *,
    imbalance: Imbalance = "world_share",
    conditional: bool = False,
    reference: int | None = None,
    tol: float = 1e-10,
    max_iter: int = 20_000,
    initial_wage: np.ndarray | None = None,
    start: SectorEquilibrium | None = None,
) -> SectorEquilibrium:
    """Solve a counterfactual of the multi-sector model by exact hat algebra.

    Trade imbalances (``imbalance``):

    - ``"world_share"`` (default): D'_n = D_n / Σ wL × world factor income', i.e. fixed in
      dollars when world factor income is the numeraire (``reference=None``, as Caliendo–Parro
      and Dekle–Eaton–Kortum 2007);
    - ``"zero"``: D'_n = 0 (Caliendo–Parro's "zero aggregate deficits", imposed first);
    - ``"output_ratio"``: D'_n / ŵ_n L̂_n w_nL_n held at baseline; world spending then drifts
      from world income by a common factor and factor markets clear in shares (gegravity).

    ``conditional=True`` holds incomes at baseline and lets only prices adjust (the conditional
    general equilibrium of Yotov et al. 2016). ``reference`` fixes ŵ_reference = 1; None keeps
    world factor income at Σ L̂ w L.

    Args:
        economy: the baseline.
        shock: tariffs, iceberg costs, productivity, endowments; None = no change.
        imbalance, conditional, reference: see above.
        tol: tolerance on the max relative factor-market error.
        max_iter: cap on Newton iterations (continuation included).
        initial_wage: a guess for ŵ (warm start), e.g. last year's solution.
        start: an equilibrium of the same economy or one of the same shape (e.g. last
            year's): its wages (unless ``initial_wage`` is given), unit costs, expenditure and
            Jacobian start the solve; the answer does not depend on it.

    Raises:
        TradeDataError: invalid shock or options.
        ConvergenceError: tolerance not reached, naming what failed.
    """
    n, n_sectors = economy.shape
    shock = shock or Shock()
    shock.check(n, n_sectors)
    if imbalance not in IMBALANCES:
        raise TradeDataError(f"imbalance must be one of {', '.join(IMBALANCES)}, got {imbalance!r}")
    if conditional and shock.endowment is not None:
        raise TradeDataError("a conditional equilibrium holds output fixed: no endowment_factor")
    if not tol > 0 or max_iter < 1:
        raise TradeDataError("tol must be > 0 and max_iter >= 1")
    is_index = isinstance(reference, int | np.integer) and 0 <= reference < n
    if reference is not None and not is_index:
        raise TradeDataError(f"reference must be a country index in 0..{n - 1}, got {reference!r}")
    warm = None
    # an equilibrium of this economy, or of one of the same shape (the same world under last
    # year's commodity prices): only where the iterations start, not where they end
    state = (start.state if start is not None and start.baseline.shape == economy.shape
             else None)
    if initial_wage is None and state is not None:
        initial_wage = np.exp(state.z)
    if initial_wage is not None:
        guess = np.asarray(initial_wage, dtype=float)
        if guess.shape != (n,):
            raise TradeDataError(f"initial_price must have shape {(n,)}, got {guess.shape}")
        check_entries("initial_price", guess, _positive, "positive and finite")
        warm = np.log(guess)

    def market_at(step: float) -> Market:
        market = Market(economy, shock, step, imbalance, conditional)
        market.inner_tol = min(max(0.01 * tol, INNER_TOL[0]), INNER_TOL[1])
        if step == 1.0 and state is not None:
            market.resume(state)
        return market

    market, z, iterations, residual = follow(market_at, warm, reference, tol, max_iter)
    return market.equilibrium(z, iterations, residual)


class Market:
    """Factor-market excess demand at given factor prices, and its Jacobian.

    A fraction ``step`` of the shock is applied (κ̂^step, ẑ^step, L̂^step, tariffs and deficits
    moved linearly), for continuation from the baseline.
    """

    def __init__(self, eco: Economy, shock: Shock, step: float, imbalance: str,
                 conditional: bool):
        self.eco, self.conditional, self.imbalance = eco, conditional, imbalance
        self.theta = eco.theta
        tau = eco.tariff if shock.tariff is None else (
            eco.tariff + step * (np.asarray(shock.tariff, dtype=float) - eco.tariff))
        self.tariff = tau
        log_kappa = np.log1p(tau) - np.log1p(eco.tariff) if shock.tariff is not None else None
        self.iceberg = None  # d̂^step, for the technology term of the welfare decomposition
        if shock.cost_factor is not None:
            iceberg = step * np.log(np.asarray(shock.cost_factor, dtype=float))
            self.iceberg = np.exp(iceberg)
            log_kappa = iceberg if log_kappa is None else log_kappa + iceberg
        if shock.productivity is not None:
            gain = step * np.log(np.asarray(shock.productivity, dtype=float)).T  # [j, i]
            log_kappa = (-gain[:, :, None] if log_kappa is None
                         else log_kappa - gain[:, :, None])
        # a[j, i, n] = π (κ̂ / ẑ)^(−θ): the one-sector engine's π t̂^(1−σ)
        self.a = eco.share if log_kappa is None else eco.share * np.exp(
            -self.theta[:, None, None] * log_kappa)
        self.eta = eco.nest  # η_j: home goods against imports (θ_j: one nest)
        self.nested = eco.nested
        if self.nested:  # the home good priced by η, the import nest's sources by θ
            n = eco.shape[0]
            home = _diagonal(eco.share)  # λ[j, n]
            self.import_share = 1.0 - home
            self._trades = self.import_share > 0  # sectors bought abroad at all (not services)
            self._nest_scale = np.where(self._trades, self.import_share, 1.0)
            if log_kappa is not None:
                own_kappa = _diagonal(np.broadcast_to(log_kappa, eco.share.shape))
                home = home * np.exp(-self.eta[:, None] * own_kappa)
            self.home = home
            self.a = self.a * (1.0 - _identity(n))  # the import nest: sources other than home
        self.has_tariff = eco.has_tariff if shock.tariff is None else bool(np.any(tau))
        self.net = 1.0 / (1.0 + tau) if self.has_tariff else None  # 1 / (1 + τ')
        endow = 1.0 if shock.endowment is None else np.asarray(shock.endowment) ** step
        self.qy = endow * eco.factor_income  # L̂ wL: factor endowments in baseline prices
        fade = 0.0 if imbalance == "zero" else 1.0
        self.deficit_base = eco.deficit * (1.0 - step * (1.0 - fade))
        self.world_income = eco.factor_income.sum()
        self.one_sector = eco.one_sector
        self.jacobian_tol = JACOBIAN_TOL
        self.inner_tol = INNER_TOL[1]
        self._own_use = eco.own_use  # G_ijj: a sector's use of its own good
        self._last = None  # (z, u) of the last price solve: the next one's start
        self._last_x = self._last_du = self._last_dx = None  # starts of the linear systems
        self._x_at = self._evaluated = None  # where _last_x was solved; the last evaluation
        self._log_price = None  # (u, ln P̂) of the last evaluation
        self.newton = None  # the last Newton system, tried again as a chord near the solution

    def resume(self, state: _State) -> None:
        """Start the inner systems where an earlier solve of the same economy ended."""
        if state.u is not None:
            self._last = (state.z, state.u)
        self._last_x, self._x_at = state.x, state.x_at
        self._last_du, self._last_dx = state.du, state.dx
        self.newton = state.newton

    # --- prices -------------------------------------------------------------------------------

    def costs(self, z: np.ndarray) -> np.ndarray:
        """Log unit costs u[i, j] = ln ĉ_ij at log factor prices z (the price contraction)."""
        eco = self.eco
        if not eco.has_io:
            return eco.va_share * z[:, None]
        if self._last is None:
            u = eco.va_share * z[:, None]
        else:  # from the last solution, moved along du/dz where the Jacobian has it
            z0, u0 = self._last
            slope = self._last_du if self._last_du is not None else eco.va_share[:, :, None] * (
                _identity(len(z))[:, None, :])
            u = u0 + slope @ (z - z0)
        base = eco.va_share * z[:, None]
        io_t = eco.io.transpose(0, 2, 1)  # [i, j, k]
        a_own = _diagonal(self.a)  # [j, i]
        for _ in range(2_000):
            powered = np.exp(-self.theta[:, None] * u.T)  # ĉ^(−θ), [j, i]
            total = np.matmul(powered[:, None, :], self.a)[:, 0, :]  # Σ_i a ĉ^(−θ), [j, n]
            if self.nested:  # total is the import nest's; P̂^(−η) adds home to it
                own_term = self.home * np.exp(-self.eta[:, None] * u.T)
                total = own_term + self._nest_term(total)
            else:
                own_term = a_own * powered
            home = own_term / total  # π'_nn, [j, n]
            log_p = (-np.log(total) / self.eta[:, None]).T
            # Jacobi step: each cost's pass-through to itself (own inputs bought at home, a
            # share π'_nn of the sector's price index) solved exactly, so the contraction runs
            # on the rest only
            own = self._own_use * home.T
            new = (base + np.matmul(io_t, log_p[:, :, None])[:, :, 0] - own * u) / (1.0 - own)
            gap = np.max(np.abs(new - u))
            u = new
            if gap < self.inner_tol or not np.isfinite(gap):
                break
        self._last = (z.copy(), u.copy())
        return u

    def log_price(self, u: np.ndarray) -> np.ndarray:
        """ln P̂[n, j] from log unit costs u[i, j]."""
        if self._log_price is not None and self._log_price[0] is u:  # the last evaluation's
            return self._log_price[1]
        return -np.log(self._powered(u).sum(axis=1)).T / self.eta

    def _powered(self, u: np.ndarray) -> np.ndarray:
        """Each source's term of the price index P̂_nj^(−η_j) = Σ_i term[j, i, n], so that
        π'[j, i, n] = term / Σ_i term. One nest: a[j, i, n] ĉ_ij^(−θ_j). With an import nest
        (`Economy.nest`): home λ_jn (ĉ_nj κ̂_jnn)^(−η_j), and each import source's share of the
        nest's (1 − λ_jn) T_jn^(η/θ), T_jn = Σ_(i≠n) a ĉ^(−θ) / (1 − λ_jn) = P̂ᴹ_jn^(−θ_j)."""
        powered = self.a * np.exp(-self.theta[:, None] * u.T)[:, :, None]
        if not self.nested:
            return powered
        imports = powered.sum(axis=1)  # Σ_(i≠n) a ĉ^(−θ), [j, n]
        with np.errstate(invalid="ignore", divide="ignore"):
            powered *= np.where(imports > 0, self._nest_term(imports) / imports, 0.0)[:, None, :]
        n = len(u)
        powered[:, np.arange(n), np.arange(n)] = self.home * np.exp(-self.eta[:, None] * u.T)
        return powered

    def _nest_term(self, imports: np.ndarray) -> np.ndarray:
        """The import nest's term of P̂^(−η), (1 − λ) T^(η/θ), from Σ_(i≠n) a ĉ^(−θ) = (1 − λ) T."""
        level = np.where(self._trades, imports / self._nest_scale, 1.0)
        return np.where(self._trades, self._nest_scale * level ** (self.eta / self.theta)[:, None],
                        0.0)

    # --- quantities ---------------------------------------------------------------------------

    def evaluate(self, z: np.ndarray):
        """Everything at log factor prices z: (pi, flows, expenditure, output, supply, u)."""
        eco = self.eco
        u = self.costs(z)
        num = self._powered(u)
        total = num.sum(axis=1)  # Σ_i a ĉ^(−θ) = P̂^(−θ) (P̂^(−η) with an import nest), [j, n]
        self._log_price = (u, -np.log(total).T / self.eta)
        pi = num / total[:, None, :]  # π'[j, i, n]
        factor = eco.factor_income if self.conditional else np.exp(z) * self.qy
        if self.conditional:
            deficit = self.deficit_base
        elif self.imbalance == "output_ratio":
            deficit = self.deficit_base / eco.factor_income * factor
        else:
            deficit = self.deficit_base / self.world_income * factor.sum()
        sales = pi if self.net is None else pi * self.net  # s'[j, i, n] = π' / (1 + τ')
        rhs = eco.final_share * (factor + deficit)[:, None]  # α (V + D'), [n, j]
        demand = None if self.one_sector else self._demand_system(pi, sales)
        if demand is None:
            x = rhs
        else:
            start = self._last_x
            if start is not None and self._last_dx is not None:  # moved along dX'/dz
                start = start + (self._last_dx @ (z - self._x_at))[:, :, None]
            x = _fixed_point(*demand, rhs[:, :, None], start, self.inner_tol,
                             rhs.sum(axis=1)[:, None, None])[:, :, 0]
            self._last_x, self._x_at = x[:, :, None], z.copy()
        flows = sales * x.T[:, None, :]  # Z'[j, i, n]
        output = flows.sum(axis=2).T  # Y'[i, j]
        return pi, sales, flows, x, output, factor, deficit, u, demand

    def _demand_system(self, pi: np.ndarray, sales: np.ndarray):
        """x = M x + α (V + D'): intermediate demand and tariff revenue, x[n, j].

        M x = G (S x) + α (t' · x), with S x the sales Σ_m s'[k, n, m] x[m, k] and
        t'_nk = Σ_i π' τ' / (1 + τ') the tariff take per dollar spent.
        """
        eco = self.eco
        rate = (pi * self.tariff * self.net).sum(axis=1).T if self.has_tariff else None
        alpha = eco.final_share[:, :, None]
        own = self._own_use * _diagonal(sales).T  # x_nj's demand for itself
        if rate is not None:
            own = own + eco.final_share * rate

        def apply(x: np.ndarray) -> np.ndarray:
            sold = np.matmul(sales, x.transpose(1, 0, 2)).transpose(1, 0, 2)  # [n, k, r]
            out = np.matmul(eco.io, sold)
            if rate is not None:
                out += alpha * (rate[:, :, None] * x).sum(axis=1)[:, None, :]
            return out

        return apply, own[:, :, None]

    def _cost_system(self, pi: np.ndarray):
        """du = G'Π du + β dz: how unit costs pass through input prices, du[i, j]."""
        eco = self.eco
        shares_in = pi.transpose(0, 2, 1)  # π'[k, i, m]: i's sector-k spending on m
        io_t = eco.io.transpose(0, 2, 1)  # [i, j, k]

        def apply(d: np.ndarray) -> np.ndarray:
            through = np.matmul(shares_in, d.transpose(1, 0, 2)).transpose(1, 0, 2)
            return np.matmul(io_t, through)

        return apply, (self._own_use * _diagonal(pi).T)[:, :, None]

    def excess(self, z: np.ndarray):
        """Relative excess demand r_i = demand_i / (κ supply_i) at log factor prices z, or None.

        κ = world demand / world supply (1 unless imbalance="output_ratio"). None where some
        income is non-positive or the numbers overflow.
        """
        with np.errstate(all="ignore"):
            parts = self.evaluate(z)
            self._evaluated = (z, parts)
            pi, sales, flows, x, output, factor, deficit, u, _ = parts
            if not ((factor + deficit > 0).all() and np.isfinite(x).all()):
                return None
            demand = (self.eco.va_share * output).sum(axis=1)
            supply = factor
            ratio = demand / supply * (supply.sum() / demand.sum())
        if not (np.isfinite(ratio).all() and (ratio > 0).all()):
            return None
        return ratio, (parts, demand, supply)

    def jacobian(self, ratio: np.ndarray, point) -> np.ndarray:
        """∂r_i / ∂z_d, by implicit differentiation of the price and expenditure systems."""
        (pi, sales, flows, x, output, factor, deficit, u, demand), labour, supply = point
        if self.one_sector:
            return self._one_sector_jacobian(ratio, flows[0], labour, supply, x[:, 0])
        eco, theta = self.eco, self.theta
        n, n_sectors = eco.shape
        # d ln ĉ / dz: (I − G'Π) du = β dz
        du = np.zeros((n, n_sectors, n))
        du[np.arange(n), :, np.arange(n)] = eco.va_share
        if eco.has_io:
            du = _fixed_point(*self._cost_system(pi), du, self._last_du, self.jacobian_tol)
            self._last_du = du
        by_sector = du.transpose(1, 0, 2)  # du[j, m, d]
        avg = np.matmul(pi.transpose(0, 2, 1), by_sector)  # Σ_m π'_jmn du_mj, [j, n, d]
        d_out = -theta[None, :, None] * (output[:, :, None] * du
                                         - np.matmul(flows, avg).transpose(1, 0, 2))
        if self.nested:
            home_gap, import_gap = self._nest_gaps(pi, by_sector, avg)
            apart = (theta - self.eta)[:, None, None]
            d_out = d_out + (apart * (_diagonal(flows)[:, :, None] * home_gap + np.matmul(
                flows * (1.0 - _identity(n)), import_gap))).transpose(1, 0, 2)
        dv = np.zeros((n, n)) if self.conditional else np.diag(factor)
        if self.conditional:
            dd = np.zeros((n, n))
        elif self.imbalance == "output_ratio":
            dd = np.diag(deficit)
        else:
            dd = np.outer(self.deficit_base / self.world_income, factor)
        income = dv + dd
        if self.has_tariff:
            revenue = self.tariff * flows  # τ' Z': its change as shares move, X' held
            moved = (np.matmul(revenue.transpose(0, 2, 1), by_sector)
                     - revenue.sum(axis=1)[:, :, None] * avg)  # [j, n, d]
            income = income - np.tensordot(theta, moved, axes=1)
            if self.nested:
                home_rev = _diagonal(revenue)[:, :, None]
                nest = home_rev * home_gap + (revenue.sum(axis=1)[:, :, None] - home_rev
                                              ) * import_gap
                income = income + np.tensordot(theta - self.eta, nest, axes=1)
        rhs = eco.final_share[:, :, None] * income[:, None, :]
        if eco.has_io:
            rhs = rhs + np.matmul(eco.io, d_out)
        if demand is None:
            dx = rhs
        else:
            dx = _fixed_point(*demand, rhs, self._last_dx, self.jacobian_tol,
                              x.sum(axis=1)[:, None, None])
            self._last_dx = dx
        d_out = d_out + np.matmul(sales, dx.transpose(1, 0, 2)).transpose(1, 0, 2)
        d_demand = (eco.va_share[:, :, None] * d_out).sum(axis=1)
        d_supply = np.zeros((n, n)) if self.conditional else np.diag(factor)
        d_log = (d_demand / labour[:, None] - d_supply / supply[:, None]
                 + d_supply.sum(axis=0) / supply.sum() - d_demand.sum(axis=0) / labour.sum())
        return ratio[:, None] * d_log

    @staticmethod
    def _nest_gaps(pi: np.ndarray, by_sector: np.ndarray, avg: np.ndarray):
        """What an import nest adds to ∂ln π'_jin = −θ_j du_i + θ_j Σ_m π'_jmn du_m (one nest),
        divided by (θ_j − η_j): du_n − Σ_m π'_mn du_m on the home share and λ'/(1 − λ')
        (Σ_m π'_mn du_m − du_n) on each import share, λ' = π'_jnn; both [j, n, d]."""
        home_gap = by_sector - avg
        home = _diagonal(pi)
        trades = home < 1.0
        odds = np.where(trades, home / np.where(trades, 1.0 - home, 1.0), 0.0)
        return home_gap, -odds[:, :, None] * home_gap

    def _one_sector_jacobian(self, ratio, new, demand, out, spend) -> np.ndarray:
        """The Jacobian above in closed form for one sector without inputs or tariffs (the
        Armington engine's): with s_ij = X'_ij / demand_i and π'_kj = X'_kj / E'_j,
        ∂ln demand_i / ∂z_k = −θ (δ_ik − Σ_j s_ij π'_kj) + Σ_j s_ij ∂ln E'_j / ∂z_k, minus
        ∂ln supply_i and ∂ln κ."""
        n = len(out)
        share_out = new / demand[:, None]
        eye = _identity(n)
        jac = -self.theta[0] * (eye - share_out @ (new / spend[None, :]).T)
        if not self.conditional:
            per_spend = share_out / spend[None, :]
            if self.imbalance == "output_ratio":  # E' ∝ supply; κ moves with k's weight
                jac += share_out
                jac -= (spend / spend.sum() - out / out.sum())[None, :]
            else:  # ∂E'_j/∂z_k = V'_k (δ_jk + d_j), d_j = D'_j / world income
                shares = self.deficit_base / self.world_income
                jac += per_spend * out[None, :] + np.outer(per_spend @ shares, out)
            jac -= eye
        return ratio[:, None] * jac

    # --- the result ---------------------------------------------------------------------------

    def equilibrium(self, z: np.ndarray, iterations: int, residual: float) -> SectorEquilibrium:
        eco = self.eco
        if self._evaluated is not None and np.array_equal(self._evaluated[0], z):
            pi, sales, flows, x, output, factor, deficit, u, _ = self._evaluated[1]
        else:
            pi, sales, flows, x, output, factor, deficit, u, _ = self.evaluate(z)
        log_p = self.log_price(u)
        revenue = (self.tariff * flows).sum(axis=(0, 1)) if self.has_tariff else 0.0
        income = factor + revenue + deficit
        price_index = np.exp((eco.final_share * log_p).sum(axis=1))
        return SectorEquilibrium(
            baseline=eco, wage=np.exp(z), cost=np.exp(u), price=np.exp(log_p),
            price_index=price_index, flows=flows, expenditure=x, output=output, income=income,
            factor_income=factor, deficit=deficit, tariff=self.tariff,
            welfare=income / eco.income / price_index, iceberg=self.iceberg,
            iterations=iterations, residual=residual,
            state=_State(z, u, self._last_x, self._x_at, self._last_du, self._last_dx,
                         self.newton))


@functools.lru_cache(maxsize=8)
def _identity(n: int) -> np.ndarray:
    eye = np.eye(n)
    eye.setflags(write=False)
    return eye


def _diagonal(a: np.ndarray) -> np.ndarray:
    """a[j, i, i] as [j, i]: each economy's purchases from itself."""
    return np.diagonal(a, axis1=1, axis2=2)


def _fixed_point(apply, own: np.ndarray, rhs: np.ndarray, start: np.ndarray | None,
                 tol: float = 1e-12, size: np.ndarray | None = None) -> np.ndarray:
    """Solve x = apply(x) + rhs by Jacobi iteration from start (or rhs), x shaped [n, j, r].

    apply is a non-negative linear map of spectral radius below one (inputs cost less than the
    output they make; tariff revenue is a fraction of spending), ``own`` its diagonal (a sector's
    use of its own good from home), solved exactly each pass: x ← (apply(x) − own x + rhs) /
    (1 − own). A regular splitting of an M-matrix, it contracts at least as fast as plain
    iteration (Varga's comparison theorem). From the last solution it takes a few passes, far
    cheaper than factorising the (n·j)² matrix (31 × 40 sectors: 1240²). Converged when a pass
    moves x by at most tol × ``size`` (broadcast: e.g. each economy's spending, so that a
    microstate's rows are as accurate as the largest economy's), or tol × the largest |rhs|.
    """
    x = rhs if start is None or start.shape != rhs.shape else start
    scale = tol * (max(float(np.abs(rhs).max()), 1e-300) if size is None else size)
    keep = 1.0 / (1.0 - own)
    for _ in range(10_000):
        new = apply(x)
        new += rhs
        new -= own * x
        new *= keep
        gap = float((np.abs(new - x) / scale).max())
        x = new
        if gap <= 1.0:
            return x
        if not np.isfinite(gap):
            break
    raise ConvergenceError("the input–output system did not converge (are intermediate "
                           "input shares below one?)")


# --- Newton's method with continuation (shared by every market) ----------------------------------


class _Stalled(Exception):
    """Newton's method failed from this start: carries the work done and the reason."""

    def __init__(self, iterations: int, residual: float, reason: str):
        super().__init__(reason)
        self.iterations, self.residual, self.reason = iterations, residual, reason


# unit costs and demand at given factor prices: 1/100 of Newton's tolerance, within these bounds
INNER_TOL = (1e-13, 1e-12)
JACOBIAN_TOL = 1e-4  # the Jacobian's linear systems: Newton still gains 1e-3 a step with it
_CHORD_BELOW = 1e-2  # below this excess demand, Newton first tries the last Jacobian again
_ATTEMPT = 25  # Newton iterations before a start is given up (convergence takes 3–10)


def follow(market_at, warm, reference, tol, max_iter):
    """Solve at the full shock by Newton; if that fails, follow the shock from the baseline.

    The warm start (if any) is tried first. Otherwise, or if it fails, the shock is applied in
    fractions (λ from 0 at the baseline, where ŵ = 1 solves, up to 1): a failed step halves, a
    successful one doubles (continuation). Returns the market at the full shock, the log
    factor prices, the iterations used and the residual.
    """
    target = market_at(1.0)
    used = 0
    if warm is not None:
        try:
            z, its, residual = _newton(target, warm, reference, tol, min(_ATTEMPT, max_iter))
            return target, z, its, residual
        except _Stalled as stalled:
            used = stalled.iterations
    z, done, step, last = np.zeros(len(target.qy)), 0.0, 1.0, None
    while used < max_iter:
        fraction = min(1.0, done + step)
        market = target if fraction == 1.0 else market_at(fraction)
        try:
            z, its, residual = _newton(market, z, reference, tol, min(_ATTEMPT, max_iter - used))
        except _Stalled as stalled:
            used, last = used + stalled.iterations, stalled
            step /= 2.0
            if step < 2.0**-12:
                raise ConvergenceError(
                    f"no trade equilibrium found beyond {done:.1%} of the shock "
                    f"({stalled.reason}; max relative excess demand {stalled.residual:.3g}): "
                    "with deficits held as shares of world output an equilibrium may not "
                    "exist under extreme shocks — try imbalance='output_ratio'"
                ) from None
            continue
        used += its
        if fraction == 1.0:
            return market, z, used, residual
        done, step = fraction, min(2.0 * step, 1.0 - fraction)
    residual = last.residual if last is not None else float("nan")
    raise ConvergenceError(
        f"trade equilibrium did not converge in {max_iter} iterations "
        f"(max relative excess demand {residual:.3g} > tol {tol:g})"
    )


def _newton(market, z, reference, tol, max_iter):
    """Newton's method on ln r(z) = 0 with backtracking; the numeraire pins the price level.

    In logs, demand's exp(−θ z) is nearer linear than r − 1, which takes fewer steps from far
    (a microstate's year of lumpy investment). Prices are homogeneous of degree zero and, by
    Walras' law, Σ_i Y'_i (r_i - 1) = 0, so the market of the largest economy clears when all
    others do. Its row of the Newton system is replaced by the normalisation gᵀΔ = 0 (g its
    gradient); the line search backtracks until the other markets' excess demand shrinks.
    Converged when max |r − 1| < tol. Raises _Stalled if it gets stuck.
    """
    z = _normalise(z, market.qy, reference)
    point = market.excess(z)
    if point is None:
        raise _Stalled(1, np.inf, "a country's expenditure is non-positive at the start")
    drop = int(np.argmax(market.qy))
    keep = np.arange(len(z)) != drop
    system, fresh = market.newton, True
    for iteration in range(1, max_iter + 1):
        ratio, parts = point
        residual = float(np.max(np.abs(ratio - 1.0)))
        gap = np.log(ratio)
        if residual < tol:
            return z, iteration, residual
        if iteration == max_iter:
            raise _Stalled(iteration, residual, f"not converged in {iteration} iterations")
        if reference is None:
            weight = market.qy * np.exp(z)
            grad = weight / weight.sum()
        else:
            grad = np.zeros(len(z))
            grad[reference] = 1.0
        rhs = -gap
        rhs[drop] = 0.0
        norm = np.linalg.norm(gap[keep])
        if system is not None and fresh and residual < _CHORD_BELOW and not market.one_sector:
            # near the solution the last Jacobian may still serve (a chord step): taken if it
            # gains 10×, and again next time only if it gained 100× (a Jacobian costs several
            # evaluations with sectors; one sector's is in closed form)
            system[drop] = grad
            trial = _normalise(z + _solve(system, rhs), market.qy, reference)
            chord = market.excess(trial)
            gain = norm / np.linalg.norm(np.log(chord[0][keep])) if chord is not None else 0.0
            if gain > 10.0:
                z, point, fresh = trial, chord, gain > 100.0
                continue
        system, fresh = market.jacobian(ratio, parts) / ratio[:, None], True
        market.newton = system
        system[drop] = grad
        step = _solve(system, rhs)
        if not np.all(np.isfinite(step)):
            raise _Stalled(iteration, residual, "singular Jacobian")
        scale = min(1.0, 1.0 / np.max(np.abs(step)))  # prices move at most ×e per iteration
        for _ in range(30):  # backtrack until the excess demand shrinks
            trial = _normalise(z + scale * step, market.qy, reference)
            point = market.excess(trial)
            if point is not None and (
                np.linalg.norm(np.log(point[0][keep])) < (1 - 1e-4 * scale) * norm
            ):
                break
            scale /= 2.0
        else:
            raise _Stalled(iteration, residual, "the line search found no better point")
        z = trial
    raise AssertionError("unreachable")


def _solve(system: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """The Newton step, NaN where the system is singular."""
    try:
        return np.linalg.solve(system, rhs)
    except np.linalg.LinAlgError:
        return np.full(len(rhs), np.nan)


def _normalise(z: np.ndarray, qy: np.ndarray, reference: int | None) -> np.ndarray:
    """Fix the numeraire on log prices: ŵ_ref = 1, or world income Σ ŵ L̂ wL = Σ L̂ wL."""
    if reference is not None:
        return z - z[reference]
    shift = z.max()
    return z - (shift + np.log((np.exp(z - shift) * qy).sum() / qy.sum()))
