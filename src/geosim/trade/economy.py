"""The baseline a counterfactual starts from: economies × sectors with input–output links.

Owns `Economy` (the Caliendo–Parro 2015 data in one object, checked once) and the engine's
error types. The one-sector world is the case J = 1, value-added share 1, no tariffs.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

import numpy as np


class TradeDataError(ValueError):
    """Raised when flows, shocks or parameters given to the engine are invalid."""


class ConvergenceError(RuntimeError):
    """Raised when the equilibrium solver does not reach its tolerance."""


@dataclass(frozen=True)
class Economy:
    """Baseline data of N economies and J sectors, indexed [sector, exporter, importer].

    Attributes:
        flows: Z[j, i, n], sales of sector j from i to n at producer prices (net of tariffs),
            domestic sales on the diagonal.
        theta: trade elasticity θ_j per sector (Eaton–Kortum; σ_j − 1 in Armington terms).
        tariff: τ[j, i, n], ad-valorem tariff charged by importer n on sector-j goods from i.
        va_share: β[n, j], value added over gross output.
        io: G[n, k, j], spending on sector k's composite per unit of sector j's gross output
            (β[n, j] + Σ_k G[n, k, j] = 1 where the data come from one input–output table).
        final_share: α[n, j], sector shares of final demand (rows sum to 1).
        factor_income: w_n L_n, value added of economy n.
        deficit: D_n, the trade deficit (imports minus exports at producer prices).
        expenditure: X[n, j] = Σ_i Z[j, i, n] (1 + τ[j, i, n]) (derived).
        share: π[j, i, n] = Z (1 + τ) / X[n, j] (derived; own share 1 where X = 0).
        output: Y[i, j] = Σ_n Z[j, i, n] (derived).
        nest: η_j, the elasticity between a sector's home good and its imports, where
            imports are a nest of their own within which sources substitute by θ_j (the
            Armington nest of GTAP); η = θ (the default) is one nest, Caliendo–Parro's model.
    """

    flows: np.ndarray
    theta: np.ndarray
    tariff: np.ndarray
    va_share: np.ndarray
    io: np.ndarray
    final_share: np.ndarray
    factor_income: np.ndarray
    deficit: np.ndarray
    expenditure: np.ndarray
    share: np.ndarray
    output: np.ndarray
    nest: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        """(N economies, J sectors)."""
        return self.flows.shape[1], self.flows.shape[0]

    # derived flags and arrays, computed once (the arrays are read-only after `build`)
    @functools.cached_property
    def has_io(self) -> bool:
        return bool(np.any(self.io))

    @functools.cached_property
    def has_tariff(self) -> bool:
        return bool(np.any(self.tariff))

    @functools.cached_property
    def nested(self) -> bool:
        """Whether some sector's imports form a nest of their own (η ≠ θ)."""
        return bool(np.any(self.nest != self.theta))

    @functools.cached_property
    def one_sector(self) -> bool:
        """One sector, no inputs, one nest: the Armington case."""
        return (self.shape[1] == 1 and not self.has_io and not self.nested
                and bool(np.all(self.va_share == 1)))

    @functools.cached_property
    def own_use(self) -> np.ndarray:
        """G[n, j, j]: a sector's use of its own good, [n, j]."""
        own = np.einsum("ijj->ij", self.io)
        own.setflags(write=False)
        return own

    @functools.cached_property
    def income(self) -> np.ndarray:
        """Final-demand income I_n = w_n L_n + tariff revenue + D_n."""
        income = self.factor_income + (self.tariff * self.flows).sum(axis=(0, 1)) + self.deficit
        income.setflags(write=False)
        return income

    @classmethod
    def build(
        cls,
        flows: np.ndarray,
        theta: np.ndarray | float,
        *,
        tariff: np.ndarray | None = None,
        va_share: np.ndarray | None = None,
        io: np.ndarray | None = None,
        final_share: np.ndarray | None = None,
        factor_income: np.ndarray | None = None,
        deficit: np.ndarray | None = None,
        nest: np.ndarray | float | None = None,
    ) -> Economy:
        """Check the data and derive expenditure, shares and output.

        Args:
            flows: J×N×N (or N×N for one sector) non-negative sales at producer prices.
            theta: per-sector trade elasticity (> 0), or one number for all sectors.
            tariff: J×N×N ad-valorem rates (> -1); default zero.
            va_share: N×J value-added shares in (0, 1]; default 1 (no intermediate inputs).
            io: N×J×J input coefficients G[n, k, j] ≥ 0; default zero.
            final_share: N×J final-demand shares; default derived from the flows as
                (X − G·Y) / income, which must then be non-negative.
            factor_income: N value added; default Σ_j β Y.
            deficit: N trade deficits; default imports minus exports in the flows.
            nest: per-sector elasticity η between home goods and imports (> 0), or one number;
                default θ (one nest).

        Raises:
            TradeDataError: naming the array and the first bad entry.
        """
        z = np.asarray(flows, dtype=float)
        if z.ndim == 2:
            z = z[None]
        if z.ndim != 3 or z.shape[1] != z.shape[2] or 0 in z.shape:
            raise TradeDataError(f"flows must be J×N×N with N, J ≥ 1, got shape {z.shape}")
        n_sectors, n = z.shape[0], z.shape[1]
        check_entries("flows", z, lambda v: np.isfinite(v) & (v >= 0), "non-negative and finite")
        th = np.broadcast_to(np.asarray(theta, dtype=float), (n_sectors,)).copy()
        check_entries("theta", th, lambda v: np.isfinite(v) & (v > 0), "a positive number")
        eta = th.copy() if nest is None else np.broadcast_to(
            np.asarray(nest, dtype=float), (n_sectors,)).copy()
        check_entries("nest", eta, lambda v: np.isfinite(v) & (v > 0), "a positive number")
        tau = _array("tariff", tariff, (n_sectors, n, n), 0.0)
        check_entries("tariff", tau, lambda v: np.isfinite(v) & (v > -1), "finite and > -1")
        beta = _array("va_share", va_share, (n, n_sectors), 1.0)
        check_entries("va_share", beta, lambda v: np.isfinite(v) & (v > 0) & (v <= 1),
                      "in (0, 1]")
        g = _array("io", io, (n, n_sectors, n_sectors), 0.0)
        check_entries("io", g, lambda v: np.isfinite(v) & (v >= 0), "non-negative and finite")
        over = beta + g.sum(axis=1) - 1.0
        if np.any(over > 1e-9):
            e, j = np.argwhere(over > 1e-9)[0]
            raise TradeDataError(
                f"io[{e}, :, {j}] and va_share[{e}, {j}] add up to {1 + over[e, j]:.6g}: "
                "costs of a unit of output must not exceed 1")
        x = (z * (1.0 + tau)).sum(axis=1).T  # X[n, j]
        y = z.sum(axis=2).T  # Y[i, j]
        with np.errstate(invalid="ignore", divide="ignore"):
            share = z * (1.0 + tau) / x.T[:, None, :]
        empty = x.T <= 0  # [j, n]: nothing bought; own-cost price index by convention
        share = np.where(empty[:, None, :], 0.0, share)
        j_idx, n_idx = np.nonzero(empty)
        share[j_idx, n_idx, n_idx] = 1.0
        wl = (beta * y).sum(axis=1) if factor_income is None else _array(
            "factor_income", factor_income, (n,), 0.0)
        check_entries("factor_income", wl, lambda v: np.isfinite(v) & (v > 0),
                      "positive (every economy needs value added)")
        revenue = (tau * z).sum(axis=(0, 1))
        if deficit is None:
            d = x.sum(axis=1) - y.sum(axis=1) - revenue
        else:
            d = _array("deficit", deficit, (n,), 0.0)
            check_entries("deficit", d, np.isfinite, "finite")
        if final_share is None:
            income = wl + revenue + d
            final = x - np.einsum("njk,nk->nj", g, y)
            worst = final / np.maximum(x, 1e-300)
            bad = (final < -1e-9 * np.maximum(x, 1.0)) | ~np.isfinite(worst)
            if np.any(bad):
                e, j = np.argwhere(bad)[0]
                raise TradeDataError(
                    f"io: intermediate use of sector {j} in economy {e} ({x[e, j] - final[e, j]:g})"
                    f" exceeds its absorption ({x[e, j]:g}): final demand would be negative")
            if np.any(income <= 0):
                e = int(np.argmax(income <= 0))
                raise TradeDataError(f"income of economy {e} is {income[e]:g}: must be positive")
            alpha = np.maximum(final, 0.0) / income[:, None]
        else:
            alpha = _array("final_share", final_share, (n, n_sectors), 0.0)
            check_entries("final_share", alpha, lambda v: np.isfinite(v) & (v >= 0),
                          "non-negative and finite")
            if np.any(np.abs(alpha.sum(axis=1) - 1.0) > 1e-6):
                e = int(np.argmax(np.abs(alpha.sum(axis=1) - 1.0)))
                raise TradeDataError(f"final_share[{e}, :] sums to {alpha[e].sum():.6g}, not 1")
        economy = cls(z, th, tau, beta, g, alpha, wl, d, x, share, y, eta)
        for f in dataclasses.fields(economy):
            getattr(economy, f.name).setflags(write=False)
        return economy

    def replace(self, **changes) -> Economy:
        """A new Economy with some inputs replaced (derived arrays recomputed)."""
        inputs = {"flows": self.flows, "theta": self.theta, "tariff": self.tariff,
                  "va_share": self.va_share, "io": self.io, "final_share": self.final_share,
                  "factor_income": self.factor_income, "deficit": self.deficit,
                  "nest": self.nest}
        return Economy.build(**(inputs | changes))


def _array(name: str, value, shape: tuple[int, ...], default: float) -> np.ndarray:
    if value is None:
        return np.full(shape, default)
    arr = np.asarray(value, dtype=float)
    if arr.shape != shape:
        raise TradeDataError(f"{name} must have shape {shape}, got {arr.shape}")
    return arr


def check_entries(name: str, arr: np.ndarray, ok, expected: str) -> None:
    """Raise TradeDataError naming the first entry of arr for which ok() is False."""
    bad = ~ok(arr)
    if np.any(bad):
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        where = ", ".join(map(str, index))
        raise TradeDataError(f"{name}[{where}] = {float(arr[index]):g} must be {expected}")
