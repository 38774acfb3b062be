"""The multi-sector engine's tables: sector flows, elasticities, input–output links, shocks.

Owns reading long tables keyed by sector and ISO codes into an `Economy` and a `Shock` (every
error names the source, the row and the field) and writing results per economy, per economy ×
sector and per flow.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from geosim.trade.economy import Economy, TradeDataError
from geosim.trade.solver import SectorEquilibrium, Shock

SECTOR_FLOW_COLUMNS = ("sector", "exporter", "importer", "value")  # optional: tariff
SECTOR_SHOCK_COLUMNS = ("sector", "exporter", "importer")  # and cost_factor and/or tariff
THETA_COLUMNS = ("sector", "theta")
IO_COLUMNS = ("economy", "input_sector", "user_sector", "coefficient")
VALUE_ADDED_COLUMNS = ("economy", "sector", "va_share")
ECONOMY_RESULT_COLUMNS = (
    "economy", "welfare_change_pct", "terms_of_trade_pct", "volume_of_trade_pct",
    "technology_pct", "real_income_change_pct", "real_wage_change_pct", "wage_change_pct",
    "price_index_change_pct", "exports_change_pct", "imports_change_pct",
)
SECTOR_RESULT_COLUMNS = (
    "economy", "sector", "cost_change_pct", "price_change_pct", "output_change_pct",
    "expenditure_change_pct", "exports_change_pct", "imports_change_pct",
)
SECTOR_FLOW_RESULT_COLUMNS = (
    "sector", "exporter", "importer", "baseline_value", "value", "change_pct",
)


def is_sector_table(table: pd.DataFrame) -> bool:
    """Whether a flows table is by sector (has a `sector` column)."""
    return "sector" in table.columns


def economy_from_tables(
    flows: pd.DataFrame,
    theta: pd.DataFrame | float,
    *,
    io: pd.DataFrame | None = None,
    value_added: pd.DataFrame | None = None,
    sources: dict[str, str] | None = None,
) -> tuple[list[str], list[str], Economy]:
    """Build an Economy from long tables.

    Args:
        flows: columns sector, exporter, importer, value (producer prices, domestic rows
            included), optional tariff (ad-valorem fraction charged by the importer).
        theta: table sector, theta (every sector of the flows), or one θ for all sectors.
        io: economy, input_sector, user_sector, coefficient (input per unit of the user
            sector's gross output); missing cells are 0.
        value_added: economy, sector, va_share; default 1 − Σ io coefficients of the sector.
        sources: file names for messages, keys "flows", "theta", "io", "value_added".

    Returns:
        (economy codes, sector names, Economy), codes and sectors sorted.
    """
    src = {"flows": "flows", "theta": "theta", "io": "io", "value_added": "value_added"}
    src |= sources or {}
    keys, value = _read(flows, SECTOR_FLOW_COLUMNS, src["flows"], unique=True)
    bad = ~np.isfinite(value) | (value < 0)
    if np.any(bad):
        row = int(np.argmax(bad))
        raise TradeDataError(f"{src['flows']}: {_where(row, keys)}: value {_fmt(value[row])} "
                             "must be a non-negative number")
    sectors = sorted(set(keys["sector"]))
    codes = sorted(set(keys["exporter"]) | set(keys["importer"]))
    s = {name: k for k, name in enumerate(sectors)}
    c = {code: k for k, code in enumerate(codes)}
    index = ([s[v] for v in keys["sector"]], [c[v] for v in keys["exporter"]],
             [c[v] for v in keys["importer"]])
    matrix = np.zeros((len(sectors), len(codes), len(codes)))
    matrix[index] = value
    tariff = None
    if "tariff" in flows.columns:
        rates = _column(flows, "tariff", src["flows"], keys, missing_as=0.0)
        tariff = np.zeros_like(matrix)
        tariff[index] = rates
    for k, code in enumerate(codes):
        if matrix[:, k].sum() <= 0 or matrix[:, :, k].sum() <= 0:
            raise TradeDataError(f"{src['flows']}: economy {code} sells or buys nothing")
    thetas = _thetas(theta, sectors, src["theta"])
    g = _io(io, codes, sectors, src["io"]) if io is not None else None
    beta = None
    if value_added is not None:
        beta = _by_economy_sector(value_added, VALUE_ADDED_COLUMNS, codes, sectors,
                                  src["value_added"], default=np.nan)
        if np.isnan(beta).any():
            e, j = np.argwhere(np.isnan(beta))[0]
            raise TradeDataError(f"{src['value_added']}: no va_share for economy {codes[e]}, "
                                 f"sector {sectors[j]}")
    elif g is not None:
        beta = 1.0 - g.sum(axis=1)
    try:
        economy = Economy.build(matrix, thetas, tariff=tariff, va_share=beta, io=g)
    except TradeDataError as exc:
        message = str(exc)
        va_from = "value_added" if src["value_added"] else "io"  # else 1 − Σ io
        owner = next((src[k] for k, prefix in (("io", "io["), (va_from, "va_share["))
                      if message.startswith(prefix) and src[k]), src["flows"])
        raise TradeDataError(f"{owner}: {_named(message, codes, sectors)}") from None
    return codes, sectors, economy


def shock_from_table(table: pd.DataFrame, codes: Sequence[str], sectors: Sequence[str],
                     economy: Economy, *, source: str = "shock") -> Shock:
    """A Shock from columns sector, exporter, importer and cost_factor and/or tariff (the new
    rate); pairs and columns not given are unchanged."""
    keys, _ = _read(table, SECTOR_SHOCK_COLUMNS, source, unique=True, numbers=False)
    fields = [f for f in ("cost_factor", "tariff") if f in table.columns]
    if not fields:
        raise TradeDataError(f"{source}: needs a cost_factor or a tariff column (found "
                             f"{', '.join(map(str, table.columns))})")
    s = {name: k for k, name in enumerate(sectors)}
    c = {code: k for k, code in enumerate(codes)}
    for row in range(len(keys["sector"])):
        for field, known in (("sector", s), ("exporter", c), ("importer", c)):
            if keys[field][row] not in known:
                raise TradeDataError(f"{source}: {_where(row, keys)}: unknown {field} "
                                     f"{keys[field][row]!r} (not in the flows)")
    index = ([s[v] for v in keys["sector"]], [c[v] for v in keys["exporter"]],
             [c[v] for v in keys["importer"]])
    shock = {}
    if "cost_factor" in fields:
        factor = _column(table, "cost_factor", source, keys, missing_as=1.0)
        bad = ~(factor > 0)
        if np.any(bad):
            row = int(np.argmax(bad))
            raise TradeDataError(f"{source}: {_where(row, keys)}: cost_factor "
                                 f"{_fmt(factor[row])} must be a positive number")
        cost = np.ones(economy.flows.shape)
        cost[index] = factor
        shock["cost_factor"] = cost
    if "tariff" in fields:
        rates = _column(table, "tariff", source, keys, missing_as=np.nan)
        bad = rates <= -1
        if np.any(bad):
            row = int(np.argmax(bad))
            raise TradeDataError(f"{source}: {_where(row, keys)}: tariff {_fmt(rates[row])} "
                                 "must be > -1 (a fraction: 0.05 = 5 %)")
        tariff = np.array(economy.tariff)
        given = ~np.isnan(rates)
        tariff[tuple(np.asarray(i)[given] for i in index)] = rates[given]
        shock["tariff"] = tariff
    return Shock(**shock)


def economy_table(eq: SectorEquilibrium, codes: Sequence[str]) -> pd.DataFrame:
    """Per-economy results (ECONOMY_RESULT_COLUMNS); welfare is Caliendo–Parro's decomposition
    (terms of trade + volume of trade + technology), real income the exact Î / P̂."""
    base = eq.baseline
    foreign = ~np.eye(len(codes), dtype=bool)[None]
    exports = _change(np.where(foreign, eq.flows, 0).sum(axis=(0, 2)),
                      np.where(foreign, base.flows, 0).sum(axis=(0, 2)))
    imports = _change(np.where(foreign, eq.flows, 0).sum(axis=(0, 1)),
                      np.where(foreign, base.flows, 0).sum(axis=(0, 1)))
    table = pd.DataFrame({
        "economy": list(codes),
        "welfare_change_pct": eq.welfare_decomposed,
        "terms_of_trade_pct": eq.terms_of_trade,
        "volume_of_trade_pct": eq.volume_of_trade,
        "technology_pct": eq.technology,
        "real_income_change_pct": 100.0 * (eq.welfare - 1.0),
        "real_wage_change_pct": 100.0 * (eq.wage / eq.price_index - 1.0),
        "wage_change_pct": 100.0 * (eq.wage - 1.0),
        "price_index_change_pct": 100.0 * (eq.price_index - 1.0),
        "exports_change_pct": exports,
        "imports_change_pct": imports,
    })
    table.attrs["iterations"], table.attrs["residual"] = eq.iterations, eq.residual
    return table


def sector_table(eq: SectorEquilibrium, codes: Sequence[str],
                 sectors: Sequence[str]) -> pd.DataFrame:
    """Per economy × sector results (SECTOR_RESULT_COLUMNS), economy-major."""
    base = eq.baseline
    foreign = ~np.eye(len(codes), dtype=bool)[None]
    n, j = base.shape
    exports = _change(np.where(foreign, eq.flows, 0).sum(axis=2).T,
                      np.where(foreign, base.flows, 0).sum(axis=2).T)
    imports = _change(np.where(foreign, eq.flows, 0).sum(axis=1).T,
                      np.where(foreign, base.flows, 0).sum(axis=1).T)
    return pd.DataFrame({
        "economy": np.repeat(list(codes), j),
        "sector": np.tile(list(sectors), n),
        "cost_change_pct": (100.0 * (eq.cost - 1.0)).ravel(),
        "price_change_pct": (100.0 * (eq.price - 1.0)).ravel(),
        "output_change_pct": _change(eq.output, base.output).ravel(),
        "expenditure_change_pct": _change(eq.expenditure, base.expenditure).ravel(),
        "exports_change_pct": exports.ravel(),
        "imports_change_pct": imports.ravel(),
    })


def sector_flow_table(eq: SectorEquilibrium, codes: Sequence[str],
                      sectors: Sequence[str]) -> pd.DataFrame:
    """Every flow with a positive baseline (SECTOR_FLOW_RESULT_COLUMNS)."""
    base = eq.baseline.flows
    j, i, n = np.nonzero(base > 0)
    codes, names = np.asarray(codes, dtype=object), np.asarray(sectors, dtype=object)
    return pd.DataFrame({
        "sector": names[j], "exporter": codes[i], "importer": codes[n],
        "baseline_value": base[j, i, n], "value": eq.flows[j, i, n],
        "change_pct": 100.0 * (eq.flows[j, i, n] / base[j, i, n] - 1.0),
    })


# --- reading ------------------------------------------------------------------------------------

_MISSING = ["", "nan", "na", "n/a", "null", "none"]


def _read(table: pd.DataFrame, columns: Sequence[str], source: str, *, unique: bool,
          numbers: bool = True):
    """Check columns and empty codes (and duplicate keys); return the key columns as lists and
    the last column as numbers (if numbers)."""
    absent = [c for c in columns if c not in table.columns]
    if absent:
        raise TradeDataError(
            f"{source}: missing column(s) {', '.join(absent)} (expected {', '.join(columns)}; "
            f"found {', '.join(map(str, table.columns)) or 'none'})")
    if len(table) == 0:
        raise TradeDataError(f"{source}: the table has no rows")
    key_columns = columns[:-1] if numbers else columns
    keys = {}
    for field in key_columns:
        raw = table[field]
        empty = raw.isna() | (raw.astype(str).str.strip() == "")
        if empty.any():
            row = int(np.argmax(empty.to_numpy()))
            raise TradeDataError(f"{source}: row {row + 1}: {field} is empty")
        keys[field] = raw.astype(str).str.strip().tolist()
    if unique:
        seen: dict[tuple, int] = {}
        for row, key in enumerate(zip(*keys.values(), strict=True)):
            if key in seen:
                raise TradeDataError(f"{source}: duplicate row for {_key(key, keys)} (rows "
                                     f"{seen[key] + 1} and {row + 1})")
            seen[key] = row
    value = _column(table, columns[-1], source, keys) if numbers else None
    return keys, value


def _column(table: pd.DataFrame, field: str, source: str, keys: dict,
            missing_as: float | None = None) -> np.ndarray:
    raw = table[field]
    text = raw.astype(str).str.strip().str.lower()
    missing = (raw.isna() | text.isin(_MISSING)).to_numpy()
    numbers = pd.to_numeric(raw.where(~missing), errors="coerce").to_numpy(dtype=float)
    garbled = (np.isnan(numbers) & ~missing) | np.isinf(numbers)
    if missing_as is None:
        garbled |= missing
    if garbled.any():
        row = int(np.argmax(garbled))
        raise TradeDataError(f"{source}: {_where(row, keys)}: {field} {raw.iloc[row]!r} is not "
                             "a finite number")
    return np.where(missing, missing_as if missing_as is not None else np.nan, numbers)


def _thetas(theta, sectors: Sequence[str], source: str) -> np.ndarray:
    if not isinstance(theta, pd.DataFrame):
        value = float(theta)
        if not np.isfinite(value) or value <= 0:
            raise TradeDataError(f"theta must be a positive number, got {value:g}")
        return np.full(len(sectors), value)
    keys, value = _read(theta, THETA_COLUMNS, source, unique=True)
    given = dict(zip(keys["sector"], value, strict=True))
    for name in sectors:
        if name not in given:
            raise TradeDataError(f"{source}: no theta for sector {name!r}")
    out = np.array([given[name] for name in sectors])
    bad = ~(out > 0)
    if bad.any():
        name = sectors[int(np.argmax(bad))]
        raise TradeDataError(f"{source}: theta of sector {name!r} ({given[name]:g}) must be > 0")
    return out


def _io(table: pd.DataFrame, codes: Sequence[str], sectors: Sequence[str],
        source: str) -> np.ndarray:
    keys, value = _read(table, IO_COLUMNS, source, unique=True)
    c = {code: k for k, code in enumerate(codes)}
    s = {name: k for k, name in enumerate(sectors)}
    for row in range(len(value)):
        for field, known in (("economy", c), ("input_sector", s), ("user_sector", s)):
            if keys[field][row] not in known:
                raise TradeDataError(f"{source}: row {row + 1}: unknown {field} "
                                     f"{keys[field][row]!r} (not in the flows)")
        if not value[row] >= 0:
            raise TradeDataError(f"{source}: row {row + 1}: coefficient {_fmt(value[row])} must "
                                 "be a non-negative number")
    g = np.zeros((len(codes), len(sectors), len(sectors)))
    g[[c[v] for v in keys["economy"]], [s[v] for v in keys["input_sector"]],
      [s[v] for v in keys["user_sector"]]] = value
    return g


def _by_economy_sector(table, columns, codes, sectors, source, default):
    keys, value = _read(table, columns, source, unique=True)
    c = {code: k for k, code in enumerate(codes)}
    s = {name: k for k, name in enumerate(sectors)}
    out = np.full((len(codes), len(sectors)), default)
    for row in range(len(value)):
        for field, known in (("economy", c), ("sector", s)):
            if keys[field][row] not in known:
                raise TradeDataError(f"{source}: row {row + 1}: unknown {field} "
                                     f"{keys[field][row]!r} (not in the flows)")
        out[c[keys["economy"][row]], s[keys["sector"][row]]] = value[row]
    return out


def _named(message: str, codes: Sequence[str], sectors: Sequence[str]) -> str:
    """The engine names array indices; say which economy and sector they are."""
    return (f"{message} (economies in order: {', '.join(codes[:12])}"
            f"{'…' if len(codes) > 12 else ''}; sectors: {', '.join(sectors[:12])})")


def _change(new: np.ndarray, old: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(old > 0, 100.0 * (new / np.where(old > 0, old, 1.0) - 1.0), 0.0)


def _where(row: int, keys: dict) -> str:
    return f"row {row + 1} ({_key(tuple(v[row] for v in keys.values()), keys)})"


def _key(values: tuple, keys: dict) -> str:
    return ", ".join(f"{name}={value}" for name, value in zip(keys, values, strict=True))


def _fmt(value: float) -> str:
    return "NaN (missing)" if np.isnan(value) else f"{value:g}"
