"""The general-equilibrium trade engine: one-sector structural gravity solved by exact hat algebra.

Owns the counterfactual solver (pure numpy, no Mesa), its result type and the ISO-coded table API.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

Imbalance = Literal["world_share", "output_ratio"]
IMBALANCES: tuple[str, ...] = ("world_share", "output_ratio")

FLOW_COLUMNS = ("exporter", "importer", "value")
SHOCK_COLUMNS = ("exporter", "importer", "cost_factor")
RESULT_COLUMNS = (
    "country",
    "factory_price_change_pct",
    "nominal_gdp_change_pct",
    "real_gdp_change_pct",
    "exports_change_pct",
    "imports_change_pct",
    "omr_change_pct",
    "imr_change_pct",
    "welfare_change_pct",
)
FLOW_RESULT_COLUMNS = ("exporter", "importer", "value", "baseline_value", "change_pct")


class TradeDataError(ValueError):
    """Raised when flows, shocks or parameters given to the engine are invalid."""


class ConvergenceError(RuntimeError):
    """Raised when the equilibrium solver does not reach its tolerance."""


@dataclass(frozen=True)
class Equilibrium:
    """Counterfactual equilibrium, every country-level field a change factor (new / baseline).

    Attributes:
        price: factory-gate price change p̂_i (all ones in a conditional equilibrium).
        output: nominal output (GDP) change Ŷ_i = p̂_i q̂_i.
        expenditure: nominal expenditure change Ê_j.
        imr: inward multilateral resistance (consumer price index) change P̂_j.
        omr: outward multilateral resistance change Π̂_i.
        real_output: real GDP change Ŷ_i / P̂_i.
        exports: change in exports to other countries (domestic sales excluded).
        imports: change in imports from other countries (domestic sales excluded).
        welfare: welfare (real expenditure) change Ê_j / P̂_j; equals π̂_jj^(-1/(σ-1)) under
            balanced trade with unchanged endowments and domestic trade costs (ACR).
        flows: new bilateral flows X'[i, j] (exporter i, importer j), in baseline currency units.
        iterations: solver iterations (excess-demand evaluations at accepted points).
        residual: max relative market-clearing error at the solution.
    """

    price: np.ndarray
    output: np.ndarray
    expenditure: np.ndarray
    imr: np.ndarray
    omr: np.ndarray
    real_output: np.ndarray
    exports: np.ndarray
    imports: np.ndarray
    welfare: np.ndarray
    flows: np.ndarray
    iterations: int
    residual: float


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
    if imbalance not in IMBALANCES:
        raise TradeDataError(f"imbalance must be one of {', '.join(IMBALANCES)}, got {imbalance!r}")
    if conditional and endowment_factor is not None:
        raise TradeDataError("a conditional equilibrium holds output fixed: no endowment_factor")
    if not tol > 0 or max_iter < 1:
        raise TradeDataError("tol must be > 0 and max_iter >= 1")
    n = x.shape[0]
    sigma = float(sigma)
    t_hat = np.ones((n, n)) if cost_factor is None else np.asarray(cost_factor, dtype=float)
    q_hat = np.ones(n) if endowment_factor is None else np.asarray(endowment_factor, dtype=float)

    # base-year arrays, derived once per distinct (C-ordered) flows matrix
    base = _base_arrays(data, x.shape) if x.flags.c_contiguous else _BaseArrays.of(x)
    y, e, share = base.output, base.expenditure, base.share
    powered = {}  # t̂^(step (1-σ)) by step

    def market_at(step: float) -> _Market:  # a fraction of the shock: t̂^step, q̂^step
        powered[step] = t_hat ** (step * (1.0 - sigma))
        a = share * powered[step]  # π_ij t̂_ij^(1-σ)
        return _Market(a, y, e, q_hat**step * y, sigma, imbalance, conditional)

    norm_ref = None if conditional else reference
    warm = None if initial_price is None else np.log(np.asarray(initial_price, dtype=float))
    market, z, iterations, residual = _follow(market_at, warm, norm_ref, tol, max_iter)
    a = market.a

    p = np.exp(z)
    if conditional and reference is not None:
        p = p / market.price_index(p)[reference]  # P̂_ref = 1
    w, denom, out, spend = market.evaluate(p)
    new_flows = w[:, None] * a * (spend / denom)[None, :]
    imr = denom ** (1.0 / (1.0 - sigma))
    exp_hat = spend / e
    # Π̂_i^(1-σ) = Σ_j (X_ij / Y_i) t̂_ij^(1-σ) P̂_j^(σ-1) Ê_j / Ê_world
    omr_pow = (base.output_share * powered[1.0]) @ (exp_hat / denom)
    omr = (omr_pow / (spend.sum() / e.sum())) ** (1.0 / (1.0 - sigma))
    out_hat = out / y
    price = np.ones(n) if conditional else p
    return Equilibrium(
        price=price,
        output=out_hat,
        expenditure=exp_hat,
        imr=imr,
        omr=omr,
        real_output=out_hat / imr,
        exports=_foreign_change(new_flows, base, axis=1),
        imports=_foreign_change(new_flows, base, axis=0),
        welfare=exp_hat / imr,
        flows=new_flows,
        iterations=iterations,
        residual=residual,
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


class _Market:
    """Excess demand at given prices and its Jacobian: where the equilibrium conditions live."""

    def __init__(self, a, y, e, qy, sigma, imbalance, conditional):
        self.a, self.y, self.e, self.qy = a, y, e, qy
        self.power = 1.0 - sigma
        self.imbalance = imbalance
        self.conditional = conditional
        self.deficit_share = (e - y) / y.sum()  # d_j, sums to zero
        self.ratio = e / y  # φ_j = E_j / Y_j

    def price_index(self, p):
        return (p**self.power @ self.a) ** (1.0 / self.power)

    def evaluate(self, p):
        """Return w = p̂^(1-σ), P̂^(1-σ), new output Y' and new expenditure E'."""
        w = p**self.power
        denom = w @ self.a
        if self.conditional:
            return w, denom, self.y, self.e
        out = p * self.qy
        if self.imbalance == "world_share":
            spend = out + self.deficit_share * out.sum()
        else:
            spend = self.ratio * out
        return w, denom, out, spend

    def excess(self, z):
        """Relative excess demand r_i = demand_i / (κ supply_i) at log prices z, or None.

        κ = world demand / world supply (1 unless imbalance="output_ratio"). None where
        some expenditure is non-positive or the numbers overflow.
        """
        with np.errstate(all="ignore"):
            w, denom, out, spend = self.evaluate(np.exp(z))
            if not np.all(spend > 0):
                return None
            new = w[:, None] * self.a * (spend / denom)[None, :]
            demand = new.sum(axis=1)
            ratio = demand / out * (out.sum() / demand.sum())
        if not (np.all(np.isfinite(ratio)) and np.all(ratio > 0)):
            return None
        return ratio, (new, demand, out, spend)

    def jacobian(self, ratio, parts):
        """∂r_i / ∂ln p̂_k from X'_ij = w_i a_ij E'_j / P̂_j^(1-σ).

        ∂ln demand_i / ∂ln p̂_k = (1-σ) (δ_ik - Σ_j s_ij π'_kj) + Σ_j s_ij ∂ln E'_j / ∂ln p̂_k
        with s_ij = X'_ij / demand_i and π'_kj = X'_kj / E'_j; minus ∂ln Y'_i and ∂ln κ.
        """
        new, demand, out, spend = parts
        n = len(out)
        share_out = new / demand[:, None]  # s_ij
        eye = _identity(n)
        jac = self.power * (eye - share_out @ (new / spend[None, :]).T)
        if not self.conditional:
            per_spend = share_out / spend[None, :]
            if self.imbalance == "world_share":  # ∂E'_j/∂ln p̂_k = Y'_k (δ_jk + d_j)
                jac += per_spend * out[None, :] + np.outer(per_spend @ self.deficit_share, out)
            else:  # E' = φ Y'; κ = ΣE' / ΣY' moves with country k's weight in each
                jac += share_out
                jac -= (spend / spend.sum() - out / out.sum())[None, :]
            jac -= eye
        return ratio[:, None] * jac


@functools.lru_cache(maxsize=8)
def _identity(n: int) -> np.ndarray:
    eye = np.eye(n)
    eye.setflags(write=False)
    return eye


class _Stalled(Exception):
    """Newton's method failed from this start: carries the work done and the reason."""

    def __init__(self, iterations: int, residual: float, reason: str):
        super().__init__(reason)
        self.iterations, self.residual, self.reason = iterations, residual, reason


_ATTEMPT = 25  # Newton iterations before a start is given up (convergence takes 3–10)


def _follow(market_at, warm, reference, tol, max_iter):
    """Solve at the full shock by Newton; if that fails, follow the shock from the baseline.

    The warm start (if any) is tried first. Otherwise, or if it fails, the shock is applied in
    fractions (t̂^λ, q̂^λ, λ from 0 at the baseline, where p̂ = 1 solves, up to 1): a failed
    step halves, a successful one doubles (continuation). Returns the market at the full
    shock, the log prices, the iterations used and the residual.
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


def _newton(market: _Market, z, reference, tol, max_iter):
    """Newton's method on r(z) = 1 with backtracking; the numeraire pins the price level.

    Prices are homogeneous of degree zero and, by Walras' law, Σ_i Y'_i (r_i - 1) = 0, so the
    market of the largest economy clears when all others do. Its row of the Newton system is
    replaced by the normalisation gᵀΔ = 0 (g its gradient); the line search backtracks until
    the other markets' excess demand shrinks. Raises _Stalled if it gets stuck.
    """
    z = _normalise(z, market.qy, reference)
    point = market.excess(z)
    if point is None:
        raise _Stalled(1, np.inf, "a country's expenditure is non-positive at the start")
    drop = int(np.argmax(market.qy))
    keep = np.arange(len(z)) != drop
    for iteration in range(1, max_iter + 1):
        ratio, parts = point
        gap = ratio - 1.0
        residual = float(np.max(np.abs(gap)))
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
        system = market.jacobian(ratio, parts)
        system[drop] = grad
        rhs = -gap
        rhs[drop] = 0.0
        try:
            step = np.linalg.solve(system, rhs)
        except np.linalg.LinAlgError:
            step = np.full(len(z), np.nan)
        if not np.all(np.isfinite(step)):
            raise _Stalled(iteration, residual, "singular Jacobian")
        scale = min(1.0, 1.0 / np.max(np.abs(step)))  # prices move at most ×e per iteration
        norm = np.linalg.norm(gap[keep])
        for _ in range(30):  # backtrack until the excess demand shrinks
            trial = _normalise(z + scale * step, market.qy, reference)
            point = market.excess(trial)
            if point is not None and (
                np.linalg.norm(point[0][keep] - 1.0) < (1 - 1e-4 * scale) * norm
            ):
                break
            scale /= 2.0
        else:
            raise _Stalled(iteration, residual, "the line search found no better point")
        z = trial
    raise AssertionError("unreachable")


def _normalise(z: np.ndarray, qy: np.ndarray, reference: int | None) -> np.ndarray:
    """Fix the numeraire on log prices: p̂_ref = 1, or world output Σ p̂ q̂ Y = Σ q̂ Y."""
    if reference is not None:
        return z - z[reference]
    shift = z.max()
    return z - (shift + np.log((np.exp(z - shift) * qy).sum() / qy.sum()))


def _foreign_change(new: np.ndarray, base: _BaseArrays, axis: int) -> np.ndarray:
    """Change factor of off-diagonal row (axis=1) or column (axis=0) sums; 1 where both are 0."""
    before = base.foreign_exports if axis == 1 else base.foreign_imports
    after = np.where(base.off_diagonal, new, 0.0).sum(axis=axis)
    return np.divide(after, before, out=np.ones_like(after), where=before > 0)


@dataclass(frozen=True)
class _BaseArrays:
    """What a solve derives from the baseline flows alone."""

    output: np.ndarray  # Y_i
    expenditure: np.ndarray  # E_j
    share: np.ndarray  # π_ij = X_ij / E_j
    output_share: np.ndarray  # X_ij / Y_i
    off_diagonal: np.ndarray
    foreign_exports: np.ndarray  # off-diagonal row sums
    foreign_imports: np.ndarray  # off-diagonal column sums

    @classmethod
    def of(cls, x: np.ndarray) -> _BaseArrays:
        y, e = x.sum(axis=1), x.sum(axis=0)
        off = ~np.eye(x.shape[0], dtype=bool)
        foreign = np.where(off, x, 0.0)
        arrays = cls(y, e, x / e, x / y[:, None], off, foreign.sum(axis=1), foreign.sum(axis=0))
        for f in dataclasses.fields(arrays):
            getattr(arrays, f.name).setflags(write=False)
        return arrays


@functools.lru_cache(maxsize=16)
def _base_arrays(data: bytes, shape: tuple[int, ...]) -> _BaseArrays:
    return _BaseArrays.of(np.frombuffer(data).reshape(shape))


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


def _check_entries(name: str, arr: np.ndarray, ok, expected: str) -> None:
    bad = ~ok(arr)
    if np.any(bad):
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        where = ", ".join(map(str, index))
        raise TradeDataError(f"{name}[{where}] = {float(arr[index]):g} must be {expected}")


# --- Tables keyed by ISO codes -------------------------------------------------------------------


def flows_from_table(table: pd.DataFrame, *, source: str = "flows") -> tuple[list[str], np.ndarray]:
    """Turn a long flows table into sorted country codes and the n×n flows matrix.

    Args:
        table: columns exporter, importer, value (one row per pair, domestic rows included;
            missing international pairs count as zero).
        source: name used in error messages, e.g. the file path.

    Returns:
        (codes, matrix) with matrix[i, j] the flow from codes[i] to codes[j].

    Raises:
        TradeDataError: missing columns, empty codes, non-numeric, NaN, infinite or negative
            values, duplicate pairs, a country without a positive domestic flow, or countries
            with no foreign trade linking them to the rest.
    """
    exporter, importer, value = _read_pairs(table, FLOW_COLUMNS, source)
    if not exporter:
        raise TradeDataError(f"{source}: no flows (the table has no rows)")
    bad = ~np.isfinite(value) | (value < 0)
    if np.any(bad):
        row = int(np.argmax(bad))
        raise TradeDataError(
            f"{source}: {_row(row, exporter, importer)}: value {_fmt(value[row])} must be a "
            "non-negative number"
        )
    codes = sorted(set(exporter) | set(importer))
    index = {c: k for k, c in enumerate(codes)}
    matrix = np.zeros((len(codes), len(codes)))
    matrix[[index[c] for c in exporter], [index[c] for c in importer]] = value
    for k, code in enumerate(codes):
        if matrix[k, k] <= 0:
            raise TradeDataError(
                f"{source}: missing domestic flow for {code}: add a row exporter={code}, "
                f"importer={code} with its positive domestic sales"
            )
    for group in isolated_groups(matrix):
        names = ", ".join(codes[k] for k in group)
        raise TradeDataError(
            f"{source}: {names} trade with no other country in the table, so the equilibrium "
            "cannot price them against the rest: drop them or add their foreign flows"
        )
    return codes, matrix


def cost_factor_from_table(
    table: pd.DataFrame, codes: Sequence[str], *, source: str = "shock"
) -> np.ndarray:
    """Turn a long shock table into the n×n cost-factor matrix t̂ (missing pairs = 1).

    Args:
        table: columns exporter, importer, cost_factor (iceberg factor, > 0; 1 = unchanged).
        codes: the country codes of the flows matrix, in its order.
        source: name used in error messages, e.g. the file path.

    Returns:
        The cost-factor matrix aligned with codes.

    Raises:
        TradeDataError: missing columns, unknown countries, non-positive or non-numeric
            factors, or duplicate pairs.
    """
    exporter, importer, factor = _read_pairs(table, SHOCK_COLUMNS, source)
    index = {c: k for k, c in enumerate(codes)}
    for row, pair in enumerate(zip(exporter, importer, strict=True)):
        for field, code in zip(("exporter", "importer"), pair, strict=True):
            if code not in index:
                raise TradeDataError(
                    f"{source}: {_row(row, exporter, importer)}: unknown country {code!r} in "
                    f"{field} (not in the flows)"
                )
    bad = ~np.isfinite(factor) | (factor <= 0)
    if np.any(bad):
        row = int(np.argmax(bad))
        raise TradeDataError(
            f"{source}: {_row(row, exporter, importer)}: cost_factor {_fmt(factor[row])} must be "
            "a positive number"
        )
    matrix = np.ones((len(codes), len(codes)))
    matrix[[index[c] for c in exporter], [index[c] for c in importer]] = factor
    return matrix


def country_table(eq: Equilibrium, codes: Sequence[str]) -> pd.DataFrame:
    """Per-country results as percent changes, columns RESULT_COLUMNS."""
    pct = {
        "factory_price_change_pct": eq.price,
        "nominal_gdp_change_pct": eq.output,
        "real_gdp_change_pct": eq.real_output,
        "exports_change_pct": eq.exports,
        "imports_change_pct": eq.imports,
        "omr_change_pct": eq.omr,
        "imr_change_pct": eq.imr,
        "welfare_change_pct": eq.welfare,
    }
    table = pd.DataFrame({"country": list(codes)} | {k: 100.0 * (v - 1.0) for k, v in pct.items()})
    table.attrs["iterations"] = eq.iterations
    table.attrs["residual"] = eq.residual
    return table[list(RESULT_COLUMNS)]


def flow_table(eq: Equilibrium, baseline: np.ndarray, codes: Sequence[str]) -> pd.DataFrame:
    """New bilateral flows of every pair with a positive baseline flow (FLOW_RESULT_COLUMNS)."""
    i, j = np.nonzero(baseline > 0)
    codes = np.asarray(codes, dtype=object)
    return pd.DataFrame(
        {
            "exporter": codes[i],
            "importer": codes[j],
            "value": eq.flows[i, j],
            "baseline_value": baseline[i, j],
            "change_pct": 100.0 * (eq.flows[i, j] / baseline[i, j] - 1.0),
        }
    )


def solve_table(
    flows: pd.DataFrame,
    shock: pd.DataFrame | None,
    sigma: float,
    reference: str | None = None,
    **options,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Solve a counterfactual on tables keyed by ISO codes.

    Args:
        flows: baseline flows, columns exporter, importer, value (domestic rows included).
        shock: cost factors, columns exporter, importer, cost_factor; None or empty = no shock.
        sigma: elasticity of substitution, > 1.
        reference: ISO code of the numeraire country; None keeps world output fixed.
        **options: passed on to solve (tol, max_iter, imbalance, conditional).

    Returns:
        (countries, flows): per-country percent changes (RESULT_COLUMNS; ``attrs`` holds
        iterations and residual) and new bilateral flows (FLOW_RESULT_COLUMNS).

    Example:
        >>> flows = pd.DataFrame({"exporter": ["A", "A", "B", "B"],
        ...                       "importer": ["A", "B", "A", "B"], "value": [8, 2, 2, 8]})
        >>> shock = pd.DataFrame({"exporter": ["A", "B"], "importer": ["B", "A"],
        ...                       "cost_factor": [0.9, 0.9]})
        >>> countries, new_flows = solve_table(flows, shock, sigma=5)
        >>> round(float(countries.welfare_change_pct[0]), 3)  # (0.8 + 0.2 * 0.9**-4) ** (1/4)
        2.524
    """
    codes, matrix = flows_from_table(flows)
    t_hat = None if shock is None else cost_factor_from_table(shock, codes)
    ref = None
    if reference is not None:
        if reference not in codes:
            raise TradeDataError(f"reference {reference!r} is not a country in the flows")
        ref = codes.index(reference)
    eq = solve(matrix, sigma, t_hat, reference=ref, **options)
    return country_table(eq, codes), flow_table(eq, matrix, codes)


_MISSING = ["", "nan", "na", "n/a", "null", "none"]


def _read_pairs(table: pd.DataFrame, columns: Sequence[str], source: str):
    """Check columns, codes and duplicates; return exporter codes, importer codes, numbers."""
    absent = [c for c in columns if c not in table.columns]
    if absent:
        raise TradeDataError(
            f"{source}: missing column(s) {', '.join(absent)} (expected {', '.join(columns)}; "
            f"found {', '.join(map(str, table.columns)) or 'none'})"
        )
    codes = []
    for field in columns[:2]:
        raw = table[field]
        empty = raw.isna() | (raw.astype(str).str.strip() == "")
        if empty.any():
            row = int(np.argmax(empty.to_numpy()))
            raise TradeDataError(f"{source}: row {row + 1}: {field} is empty")
        codes.append(raw.astype(str).str.strip().tolist())
    exporter, importer = codes
    field = columns[2]
    raw = table[field]
    text = raw.astype(str).str.strip().str.lower()
    missing = raw.isna().to_numpy() | text.isin(_MISSING).to_numpy()
    numbers = pd.to_numeric(raw.where(~missing), errors="coerce").to_numpy(dtype=float)
    garbled = np.isnan(numbers) & ~missing
    if garbled.any():
        row = int(np.argmax(garbled))
        raise TradeDataError(
            f"{source}: {_row(row, exporter, importer)}: {field} {table[field].iloc[row]!r} "
            "is not a number"
        )
    seen: dict[tuple[str, str], int] = {}
    for row, pair in enumerate(zip(exporter, importer, strict=True)):
        if pair in seen:
            raise TradeDataError(
                f"{source}: duplicate pair exporter={pair[0]}, importer={pair[1]} "
                f"(rows {seen[pair] + 1} and {row + 1})"
            )
        seen[pair] = row
    return exporter, importer, numbers


def _row(row: int, exporter: Sequence[str], importer: Sequence[str]) -> str:
    return f"row {row + 1} (exporter={exporter[row]}, importer={importer[row]})"


def _fmt(value: float) -> str:
    return "NaN (missing)" if np.isnan(value) else f"{value:g}"
