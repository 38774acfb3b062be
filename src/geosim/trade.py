"""The general-equilibrium trade engine: one-sector structural gravity solved by exact hat algebra.

Owns the counterfactual solver (pure numpy, no Mesa) and its result type; usable on any flows table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class TradeDataError(ValueError):
    """Raised when flows, shocks or parameters given to the engine are invalid."""


class ConvergenceError(RuntimeError):
    """Raised when the equilibrium solver does not reach its tolerance."""


@dataclass(frozen=True)
class Equilibrium:
    """Counterfactual equilibrium, every country-level field a change factor (new / baseline).

    Attributes:
        price: factory-gate price change p̂_i.
        output: nominal output (GDP) change Ŷ_i = p̂_i q̂_i.
        expenditure: nominal expenditure change Ê_j.
        imr: inward multilateral resistance (consumer price index) change P̂_j.
        omr: outward multilateral resistance change Π̂_i.
        real_output: real GDP change Ŷ_i / P̂_i.
        exports: change in exports to other countries (domestic sales excluded).
        imports: change in imports from other countries (domestic sales excluded).
        welfare: welfare change Ê_j / P̂_j (equals π̂_jj^(-1/(σ-1)) under balanced trade, q̂ = 1).
        flows: new bilateral flows X'[i, j] (exporter i, importer j), in baseline currency units.
        iterations: fixed-point iterations used.
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
) -> Equilibrium:
    """Solve the counterfactual endowment-economy equilibrium by exact hat algebra.

    Baseline flows X[i, j] (exporter i, importer j, domestic sales on the diagonal) define
    output Y_i = Σ_j X_ij, expenditure E_j = Σ_i X_ij and import shares π_ij = X_ij / E_j.
    Trade imbalances are held as constant shares of world output (Dekle, Eaton & Kortum 2007):
    E'_j = Y'_j + d_j Y'_world with d_j = (E_j - Y_j) / Y_world, so world spending = world output.
    Under iceberg cost changes t̂[i, j] and endowment changes q̂_i, factory prices solve
    p̂_i q̂_i Y_i = Σ_j π'_ij Ê_j E_j with π'_ij = π_ij (p̂_i t̂_ij)^(1-σ) / P̂_j^(1-σ).

    Args:
        flows: n×n non-negative baseline flows with positive domestic sales.
        sigma: elasticity of substitution, > 1.
        cost_factor: n×n trade-cost change factors t̂ (1 = unchanged); default all ones.
        endowment_factor: length-n output quantity change factors q̂; default all ones.
        reference: index of the numeraire country (p̂_ref = 1); None keeps world output fixed.
        tol: convergence tolerance on the max relative change in p̂ between iterations.
        max_iter: iteration cap; ConvergenceError beyond it.
        initial_price: optional starting guess for p̂ (warm start).

    Returns:
        The counterfactual Equilibrium.
    """
    x = np.asarray(flows, dtype=float)
    n = x.shape[0]
    _check_inputs(x, sigma, cost_factor, endowment_factor, reference)
    t_hat = np.ones((n, n)) if cost_factor is None else np.asarray(cost_factor, dtype=float)
    q_hat = np.ones(n) if endowment_factor is None else np.asarray(endowment_factor, dtype=float)

    y = x.sum(axis=1)
    e = x.sum(axis=0)
    share = x / e  # π_ij, columns sum to one
    deficit_share = (e - y) / y.sum()  # d_j, sums to zero
    a = share * t_hat ** (1.0 - sigma)  # π_ij t̂_ij^(1-σ)
    qy = q_hat * y

    p = np.ones(n) if initial_price is None else np.asarray(initial_price, dtype=float).copy()
    step = 1.0 / sigma
    iterations = 0
    for iterations in range(1, max_iter + 1):
        p_pow = p ** (1.0 - sigma)
        denom = p_pow @ a  # P̂_j^(1-σ)
        out = p * qy  # Y'_i
        spend = out + deficit_share * out.sum()  # E'_j
        demand = p_pow * (a @ (spend / denom))  # Σ_j X'_ij
        new_p = p * (demand / out) ** step
        new_p = _normalise(new_p, qy, reference)
        change = np.max(np.abs(new_p / p - 1.0))
        p = new_p
        if change < tol:
            break
    else:
        raise ConvergenceError(
            f"trade equilibrium did not converge in {max_iter} iterations "
            f"(last relative change {change:.3g} > tol {tol:g})"
        )

    p_pow = p ** (1.0 - sigma)
    denom = p_pow @ a
    spend = p * qy + deficit_share * (p * qy).sum()
    new_flows = (p_pow[:, None] * a) / denom[None, :] * spend[None, :]
    out_hat = p * q_hat
    new_y = new_flows.sum(axis=1)
    residual = float(np.max(np.abs(new_y / (out_hat * y) - 1.0)))
    imr = denom ** (1.0 / (1.0 - sigma))
    world_hat = (out_hat * y).sum() / y.sum()
    # Π̂_i^(1-σ) = Σ_j (X_ij / Y_i) t̂_ij^(1-σ) P̂_j^(σ-1) Ê_j / Ŷ_world
    exp_hat = spend / e
    omr_pow = (x / y[:, None] * t_hat ** (1.0 - sigma) * imr[None, :] ** (sigma - 1.0)) @ exp_hat
    omr = (omr_pow / world_hat) ** (1.0 / (1.0 - sigma))
    off = ~np.eye(n, dtype=bool)
    exports = (new_flows * off).sum(axis=1) / np.where(off, x, 0.0).sum(axis=1)
    imports = (new_flows * off).sum(axis=0) / np.where(off, x, 0.0).sum(axis=0)
    return Equilibrium(
        price=p,
        output=out_hat,
        expenditure=exp_hat,
        imr=imr,
        omr=omr,
        real_output=out_hat / imr,
        exports=exports,
        imports=imports,
        welfare=exp_hat / imr,
        flows=new_flows,
        iterations=iterations,
        residual=residual,
    )


def _normalise(p: np.ndarray, qy: np.ndarray, reference: int | None) -> np.ndarray:
    if reference is not None:
        return p / p[reference]
    return p * (qy.sum() / (p * qy).sum())


def _check_inputs(x, sigma, cost_factor, endowment_factor, reference) -> None:
    if x.ndim != 2 or x.shape[0] != x.shape[1]:
        raise TradeDataError(f"flows must be a square matrix, got shape {x.shape}")
    n = x.shape[0]
    if not np.all(np.isfinite(x)):
        raise TradeDataError("flows contain NaN or infinite values")
    if np.any(x < 0):
        raise TradeDataError("flows contain negative values")
    if np.any(np.diag(x) <= 0):
        raise TradeDataError("every country needs a positive domestic flow X[i, i]")
    if not np.isfinite(sigma) or sigma <= 1:
        raise TradeDataError(f"sigma must be > 1, got {sigma}")
    if cost_factor is not None:
        t = np.asarray(cost_factor, dtype=float)
        if t.shape != (n, n):
            raise TradeDataError(f"cost_factor must have shape {(n, n)}, got {t.shape}")
        if not np.all(np.isfinite(t)) or np.any(t <= 0):
            raise TradeDataError("cost factors must be positive and finite")
    if endowment_factor is not None:
        q = np.asarray(endowment_factor, dtype=float)
        if q.shape != (n,):
            raise TradeDataError(f"endowment_factor must have shape {(n,)}, got {q.shape}")
        if not np.all(np.isfinite(q)) or np.any(q <= 0):
            raise TradeDataError("endowment factors must be positive and finite")
    if reference is not None and not 0 <= reference < n:
        raise TradeDataError(f"reference index {reference} out of range 0..{n - 1}")
