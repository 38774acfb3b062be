"""The one-sector engine: structural gravity (Armington / Anderson–van Wincoop), exact hat algebra.

Owns the one-sector API the model uses (`solve`, `Equilibrium`, `tariff_factor`): the general
solver of `geosim.trade.solver` with one sector, no intermediate inputs and no tariff revenue,
θ = σ − 1, read back as factory prices, multilateral resistances and ACR welfare.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from geosim.trade.economy import Economy, TradeDataError
from geosim.trade.economy import check_entries as _check_entries
from geosim.trade.solver import Imbalance, SectorEquilibrium, Shock, solve_sectors


@dataclass(frozen=True)
class Equilibrium:
    """Counterfactual equilibrium, every country-level field a change factor (new / baseline).

    Attributes:
        price: factory-gate price change p̂_i (all ones in a conditional equilibrium).
        output: nominal output (GDP) change Ŷ_i = p̂_i q̂_i.
        expenditure: nominal expenditure change Ê_j.
        imr: inward multilateral resistance (consumer price index) change P̂_j.
        real_output: real GDP change Ŷ_i / P̂_i.
        welfare: welfare (real expenditure) change Ê_j / P̂_j; equals π̂_jj^(-1/(σ-1)) under
            balanced trade with unchanged endowments and domestic trade costs (ACR).
        flows: new bilateral flows X'[i, j] (exporter i, importer j), in baseline currency units.
        iterations: solver iterations (excess-demand evaluations at accepted points).
        residual: max relative market-clearing error at the solution.
        omr, exports, imports (computed when first read; a model's years never read them):
            the outward multilateral resistance change Π̂_i, and the change in exports to and
            imports from other countries (domestic sales excluded).
    """

    price: np.ndarray
    output: np.ndarray
    expenditure: np.ndarray
    imr: np.ndarray
    real_output: np.ndarray
    welfare: np.ndarray
    flows: np.ndarray
    iterations: int
    residual: float
    # what omr, exports and imports are computed from: the baseline and the iceberg factors t̂
    baseline: Economy = field(repr=False, compare=False)
    cost: np.ndarray | None = field(default=None, repr=False, compare=False)

    @functools.cached_property
    def omr(self) -> np.ndarray:
        """Π̂_i^(1-σ) = Σ_j (X_ij / Y_i) t̂_ij^(1-σ) P̂_j^(σ-1) Ê_j / Ê_world (one sector; NaN
        with several)."""
        base = self.baseline
        if base.shape[1] != 1:
            return np.full(base.shape[0], np.nan)
        sigma = 1.0 + float(base.theta[0])
        weights = base.flows[0] / base.output[:, :1]
        if self.cost is not None:
            weights = weights * self.cost ** (1.0 - sigma)
        spend = base.expenditure.sum(axis=1)
        omr_pow = weights @ (self.expenditure / self.imr ** (1.0 - sigma))
        world = (self.expenditure * spend).sum() / spend.sum()
        return (omr_pow / world) ** (1.0 / (1.0 - sigma))

    @functools.cached_property
    def exports(self) -> np.ndarray:
        return _foreign_change(self.flows, self.baseline.flows.sum(axis=0), axis=1)

    @functools.cached_property
    def imports(self) -> np.ndarray:
        return _foreign_change(self.flows, self.baseline.flows.sum(axis=0), axis=0)


def tariff_factor(old_rate: np.ndarray | float, new_rate: np.ndarray | float) -> np.ndarray:
    """Iceberg cost factor of a tariff change from τ to τ': (1 + τ') / (1 + τ).

    Args:
        old_rate: baseline ad-valorem rate(s) τ as fractions (0.05 = 5 %), each > -1.
        new_rate: counterfactual rate(s) τ', broadcastable against old_rate, each > -1.

    Returns:
        The cost factors t̂, same broadcast shape as the inputs.
    """
    old = np.asarray(old_rate, dtype=float)
    new = np.asarray(new_rate, dtype=float)
    for name, rate in (("old_rate", old), ("new_rate", new)):
        if not np.all(np.isfinite(rate)) or np.any(rate <= -1):
            raise TradeDataError(f"{name} must be finite ad-valorem fractions > -1")
    return (1.0 + new) / (1.0 + old)


def solve(
    flows: np.ndarray,
    sigma: float,
    cost_factor: np.ndarray | None = None,
    endowment_factor: np.ndarray | None = None,
    *,
    reference: int | None = None,
    tol: float = 1e-10,
    max_iter: int = 20_000,
    initial_price: np.ndarray | None = None,
    imbalance: Imbalance = "world_share",
    conditional: bool = False,
) -> Equilibrium:
    """Solve the counterfactual endowment-economy equilibrium by exact hat algebra.

    Baseline flows X[i, j] (exporter i, importer j, domestic sales on the diagonal) define
    output Y_i = Σ_j X_ij, expenditure E_j = Σ_i X_ij and import shares π_ij = X_ij / E_j.
    Under iceberg cost changes t̂[i, j] and endowment changes q̂_i, factory prices solve
    p̂_i q̂_i Y_i = Σ_j π'_ij Ê_j E_j with π'_ij = π_ij (p̂_i t̂_ij)^(1-σ) / P̂_j^(1-σ) and
    P̂_j^(1-σ) = Σ_i π_ij (p̂_i t̂_ij)^(1-σ). Trade imbalances follow ``imbalance``:

    - ``"world_share"`` (default, Dekle–Eaton–Kortum 2007): E'_j = Y'_j + d_j Y'_world with
      d_j = (E_j - Y_j) / Y_world, so world spending = world output and every flow adds up.
    - ``"output_ratio"`` (Anderson–Yotov 2016, gegravity, ge_gravity ``mult``): E'_j / Y'_j held
      at its baseline value; world spending then drifts from world output by a common factor
      κ = Ê_world / Ŷ_world, and output markets clear in shares: Σ_j X'_ij = κ Y'_i.

    With ``conditional=True`` the conditional general equilibrium is solved instead: output and
    expenditure stay at baseline and only the multilateral resistances adjust (Yotov et al.
    2016, ch. 2); the resistances are normalised by P̂_reference = 1 (gegravity's convention),
    or, without a reference, by Σ_i Y_i / Π̂_i = Σ_i Y_i.

    The solver is Newton's method on log prices with the analytic Jacobian and a backtracking
    line search; ``iterations`` counts the excess-demand evaluations at accepted points.

    Args:
        flows: n×n non-negative baseline flows with positive domestic sales, every country
            linked to the others by some foreign trade.
        sigma: elasticity of substitution, > 1.
        cost_factor: n×n trade-cost change factors t̂ (1 = unchanged); default all ones.
        endowment_factor: length-n output quantity change factors q̂; default all ones.
        reference: index of the numeraire country (p̂_ref = 1; P̂_ref = 1 if conditional);
            None keeps world nominal output at Σ_i q̂_i Y_i.
        tol: convergence tolerance on the max relative market-clearing error.
        max_iter: iteration cap; ConvergenceError beyond it.
        initial_price: optional starting guess for p̂ (warm start; for 1/Π̂ if conditional).
        imbalance: "world_share" or "output_ratio", see above.
        conditional: hold output and expenditure fixed (conditional general equilibrium).

    Returns:
        The counterfactual Equilibrium.

    Raises:
        TradeDataError: invalid flows, σ, factors, reference or options.
        ConvergenceError: tolerance not reached in max_iter iterations, or no feasible
            equilibrium (a country's expenditure would turn non-positive).
    """
    x = np.asarray(flows, dtype=float)
    if x.ndim != 2 or x.shape[0] != x.shape[1] or x.shape[0] == 0:
        raise TradeDataError(f"flows must be a non-empty square matrix, got shape {x.shape}")
    data = x.tobytes()
    _check_flows(data, x.shape)  # once per distinct matrix: models solve many years
    _check_inputs(x, sigma, cost_factor, endowment_factor, reference, initial_price)
    sigma = float(sigma)
    economy = _economy(data, x.shape, sigma) if x.flags.c_contiguous else _economy_of(x, sigma)
    shock = Shock(
        cost_factor=None if cost_factor is None else np.asarray(cost_factor, dtype=float)[None],
        endowment=endowment_factor,
    )
    # the general solver (geosim.trade.solver) with one sector, no inputs and no tariffs
    sectoral = solve_sectors(economy, shock, imbalance=imbalance, conditional=conditional,
                             reference=None if conditional else reference, tol=tol,
                             max_iter=max_iter, initial_wage=initial_price)
    cost = None if cost_factor is None else np.asarray(cost_factor, dtype=float)
    return aggregate(sectoral, cost, conditional, reference)


def aggregate(eq: SectorEquilibrium, cost: np.ndarray | None = None, conditional: bool = False,
              reference: int | None = None) -> Equilibrium:
    """The economy-level view of a solution, the one-sector engine's results.

    Factory (factor) prices ŵ; output = value added (nominal GDP); expenditure = absorption;
    inward resistance = the consumer price index; welfare = real income; flows summed over
    sectors. The outward resistance is defined for one sector only (NaN otherwise; ``cost`` is
    its t̂). With one sector, no inputs and no tariffs this is exactly the one-sector engine.
    """
    base = eq.baseline
    y, e = base.factor_income, base.expenditure.sum(axis=1)
    new_flows = eq.flows.sum(axis=0)
    imr = eq.price_index
    p = eq.wage
    if conditional and reference is not None:
        p = p / imr[reference]  # P̂_ref = 1
        imr = imr / imr[reference]
    spend, out = eq.expenditure.sum(axis=1), eq.factor_income  # output as supplied: p̂ q̂ Y
    exp_hat = spend / e
    out_hat = out / y
    return Equilibrium(
        price=np.ones(len(y)) if conditional else p,
        output=out_hat,
        expenditure=exp_hat,
        imr=imr,
        real_output=out_hat / imr,
        welfare=eq.income / base.income / eq.price_index if not conditional else exp_hat / imr,
        flows=new_flows,
        iterations=eq.iterations,
        residual=eq.residual,
        baseline=base,
        cost=cost,
    )


def isolated_groups(flows: np.ndarray) -> list[list[int]]:
    """Groups of countries linked by foreign trade (either direction) to no one outside.

    Args:
        flows: n×n flows matrix.

    Returns:
        Every group but the largest, as sorted index lists; empty when all countries are linked.
    """
    count, label = connected_components(csr_matrix(flows > 0), directed=True, connection="weak")
    if count == 1:
        return []
    groups = [np.flatnonzero(label == k).tolist() for k in range(count)]
    groups.sort(key=len, reverse=True)
    return groups[1:]


@functools.lru_cache(maxsize=16)
def _check_flows(data: bytes, shape: tuple[int, ...]) -> None:
    """Check baseline flows given as their bytes (cached: a failed check is not cached, it
    raises again): entries, domestic sales, and every country linked to the others."""
    x = np.frombuffer(data).reshape(shape)
    _check_entries("flows", x, lambda v: np.isfinite(v) & (v >= 0), "non-negative and finite")
    diag = np.diag(x)
    if np.any(diag <= 0):
        i = int(np.argmax(diag <= 0))
        raise TradeDataError(f"flows[{i}, {i}] (domestic sales of country index {i}) must be > 0")
    isolated = isolated_groups(x)
    if isolated:
        raise TradeDataError(
            f"countries {isolated[0]} (by index) trade with no one else, so their prices "
            "relative to the rest are undetermined: solve them separately"
        )


def _foreign_change(new: np.ndarray, base: np.ndarray, axis: int) -> np.ndarray:
    """Change factor of off-diagonal row (axis=1) or column (axis=0) sums; 1 where both are 0."""
    before = base.sum(axis=axis) - np.diagonal(base)
    after = new.sum(axis=axis) - np.diagonal(new)
    return np.divide(after, before, out=np.ones_like(after), where=before > 0)


def _economy_of(x: np.ndarray, sigma: float) -> Economy:
    return Economy.build(x, sigma - 1.0)


@functools.lru_cache(maxsize=16)
def _economy(data: bytes, shape: tuple[int, ...], sigma: float) -> Economy:
    """The one-sector Economy of a flows matrix (cached: models solve many years)."""
    return _economy_of(np.frombuffer(data).reshape(shape), sigma)


def _check_inputs(x, sigma, cost_factor, endowment_factor, reference, initial_price) -> None:
    n = x.shape[0]
    if not isinstance(sigma, int | float | np.number) or not np.isfinite(sigma) or sigma <= 1:
        raise TradeDataError(f"sigma must be a number > 1, got {sigma!r}")
    for name, value, shape in (
        ("cost_factor", cost_factor, (n, n)),
        ("endowment_factor", endowment_factor, (n,)),
        ("initial_price", initial_price, (n,)),
    ):
        if value is None:
            continue
        arr = np.asarray(value, dtype=float)
        if arr.shape != shape:
            raise TradeDataError(f"{name} must have shape {shape}, got {arr.shape}")
        _check_entries(name, arr, lambda v: np.isfinite(v) & (v > 0), "positive and finite")
    is_index = isinstance(reference, int | np.integer) and 0 <= reference < n
    if reference is not None and not is_index:
        raise TradeDataError(f"reference must be a country index in 0..{n - 1}, got {reference!r}")
