"""The engine's tables: long CSV-shaped inputs and outputs keyed by ISO codes.

Owns reading flows and shocks (every error names the source, row and field) and writing
per-country and per-pair results, for the one-sector engine.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from geosim.trade.economy import TradeDataError
from geosim.trade.gravity import Equilibrium, isolated_groups, solve

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
        raw = table[field].to_numpy(dtype=object)
        text = np.char.strip(np.where(pd.isna(raw), "", raw).astype(str))  # vectorised
        empty = text == ""
        if empty.any():
            row = int(np.argmax(empty))
            raise TradeDataError(f"{source}: row {row + 1}: {field} is empty")
        codes.append(text.tolist())
    exporter, importer = codes
    field = columns[2]
    raw = table[field]
    if pd.api.types.is_numeric_dtype(raw):  # read as numbers already (the Python door)
        numbers = raw.to_numpy(dtype=float)
        missing = np.isnan(numbers)
    else:  # text (the CLI reads every column as text): "NA", "none", "" are missing
        values = raw.to_numpy(dtype=object)
        text = np.char.lower(np.char.strip(np.where(pd.isna(values), "", values).astype(str)))
        missing = np.isin(text, _MISSING)
        numbers = pd.to_numeric(raw.where(~missing), errors="coerce").to_numpy(dtype=float)
    garbled = np.isnan(numbers) & ~missing
    if garbled.any():
        row = int(np.argmax(garbled))
        raise TradeDataError(
            f"{source}: {_row(row, exporter, importer)}: {field} {table[field].iloc[row]!r} "
            "is not a number"
        )
    if len(set(zip(exporter, importer, strict=True))) == len(exporter):
        return exporter, importer, numbers
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
