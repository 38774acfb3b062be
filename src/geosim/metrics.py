"""China-dependency outcomes (DESIGN §7) as pure functions on flow and stock arrays.

Owns the formulas: partner shares, concentration, top partners, finance shares and regional
aggregates. No Mesa: the model and the viz pass arrays in.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COUNTRY_COLUMNS = (
    "gdp", "real_gdp_index", "china_export_share", "china_import_share", "china_trade_share",
    "us_export_share", "us_import_share", "us_trade_share", "partner_hhi_exports",
    "partner_hhi_imports", "top_export_partner", "top_import_partner", "china_fdi_share",
    "china_debt_gdp", "welfare_index",
)
REGION_COLUMNS = (
    "china_export_share", "china_import_share", "china_trade_share", "us_export_share",
    "us_import_share", "us_trade_share", "n_top_partner_china_exports",
    "n_top_partner_china_imports", "intra_americas_trade", "trade_with_china", "real_gdp_index",
    "trade_with_us", "intra_region_trade", "total_trade",
)

SECTOR_COLUMNS = (
    "output", "exports", "imports", "china_export_share", "china_import_share",
    "us_export_share", "us_import_share",
)


def international(flows: np.ndarray) -> np.ndarray:
    """Flows without domestic sales (diagonal set to zero)."""
    off = np.array(flows, dtype=float)
    np.fill_diagonal(off, 0.0)
    return off


def partner_shares(flows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Export and import partner shares.

    Returns:
        (export_share, import_share): export_share[i, j] = X_ij / Σ_k≠i X_ik, the share of i's
        exports going to j; import_share[j, i] = X_ij / Σ_k≠j X_kj, the share of j's imports
        coming from i. Rows sum to one (zero for a country with no trade).
    """
    off = international(flows)
    exports = off.sum(axis=1, keepdims=True)
    imports = off.sum(axis=0, keepdims=True).T
    with np.errstate(invalid="ignore", divide="ignore"):
        export_share = np.where(exports > 0, off / exports, 0.0)
        import_share = np.where(imports > 0, off.T / imports, 0.0)
    return export_share, import_share


def hhi(shares: np.ndarray) -> np.ndarray:
    """Herfindahl-Hirschman index over partners, per row (0 = dispersed, 1 = one partner)."""
    return (shares**2).sum(axis=1)


def trade_share(flows: np.ndarray, partner: int) -> np.ndarray:
    """Partner's share of each country's total trade (exports + imports, domestic excluded)."""
    off = international(flows)
    total = off.sum(axis=1) + off.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (off[:, partner] + off[partner, :]) / total, 0.0)


def country_metrics(
    flows: np.ndarray,
    *,
    china: int,
    usa: int,
    gdp: np.ndarray,
    real_gdp_index: np.ndarray,
    welfare_index: np.ndarray,
    china_finance: np.ndarray,
    all_finance: np.ndarray,
    china_official: np.ndarray,
) -> dict[str, np.ndarray]:
    """Per-country outcomes for one year (arrays of length n, in the world's order).

    Args:
        flows: n×n flows X[exporter, importer] including domestic sales.
        china, usa: indices of China and the United States.
        gdp: nominal GDP, USD.
        real_gdp_index: real GDP relative to the base year (1 = base year).
        welfare_index: real expenditure relative to the base year.
        china_finance: stock of Chinese FDI and official finance in each host, USD.
        all_finance: stock of FDI and official finance from all modelled sources, USD.
        china_official: stock of Chinese official (policy-bank) lending in each host, USD.

    Returns:
        A dict keyed by `COUNTRY_COLUMNS`; top partners are indices into the world's countries.
    """
    export_share, import_share = partner_shares(flows)
    with np.errstate(invalid="ignore", divide="ignore"):
        fdi_share = np.where(all_finance > 0, china_finance / all_finance, 0.0)
        debt = np.where(gdp > 0, china_official / gdp, 0.0)
    return {
        "gdp": np.asarray(gdp, dtype=float),
        "real_gdp_index": np.asarray(real_gdp_index, dtype=float),
        "china_export_share": export_share[:, china],
        "china_import_share": import_share[:, china],
        "china_trade_share": trade_share(flows, china),
        "us_export_share": export_share[:, usa],
        "us_import_share": import_share[:, usa],
        "us_trade_share": trade_share(flows, usa),
        "partner_hhi_exports": hhi(export_share),
        "partner_hhi_imports": hhi(import_share),
        "top_export_partner": export_share.argmax(axis=1),
        "top_import_partner": import_share.argmax(axis=1),
        "china_fdi_share": fdi_share,
        "china_debt_gdp": debt,
        "welfare_index": np.asarray(welfare_index, dtype=float),
    }


def region_metrics(
    flows: np.ndarray,
    members: np.ndarray,
    americas: np.ndarray,
    *,
    china: int,
    usa: int,
    real_gdp: np.ndarray,
    base_gdp: np.ndarray,
) -> dict[str, float]:
    """Trade-weighted outcomes for a region (e.g. Latin America & Caribbean) in one year.

    Shares are the region's summed trade with the partner over its summed total trade (intra-
    regional trade included), so large traders weigh more. In USD: ``trade_with_china`` and
    ``trade_with_us`` (exports plus imports), ``intra_region_trade`` (members' exports to members,
    each flow once) and ``total_trade``, the shares' denominator (exports plus imports, so a flow
    between two members counts twice: ``china_trade_share = trade_with_china / total_trade``).

    Args:
        flows: n×n flows including domestic sales.
        members: boolean mask of the region's countries.
        americas: boolean mask of the Americas (region, USA, Canada) for intra-Americas trade.
        china, usa: indices of China and the United States.
        real_gdp: real GDP index per country (1 = base year).
        base_gdp: base-year GDP per country, the weights of the regional real GDP index.
    """
    off = international(flows)
    exports = off[members].sum()
    imports = off[:, members].sum()
    export_share, import_share = partner_shares(flows)

    def share(partner: int) -> tuple[float, float, float]:
        x = off[members, partner].sum()
        m = off[partner, members].sum()
        return x / exports, m / imports, (x + m) / (exports + imports)

    cx, cm, ct = share(china)
    ux, um, ut = share(usa)
    weights = base_gdp[members] / base_gdp[members].sum()
    return {
        "china_export_share": cx,
        "china_import_share": cm,
        "china_trade_share": ct,
        "us_export_share": ux,
        "us_import_share": um,
        "us_trade_share": ut,
        "n_top_partner_china_exports": int((export_share[members].argmax(axis=1) == china).sum()),
        "n_top_partner_china_imports": int((import_share[members].argmax(axis=1) == china).sum()),
        "intra_americas_trade": float(off[np.ix_(americas, americas)].sum()),
        "trade_with_china": float(off[members, china].sum() + off[china, members].sum()),
        "real_gdp_index": float((weights * real_gdp[members]).sum()),
        "trade_with_us": float(off[members, usa].sum() + off[usa, members].sum()),
        "intra_region_trade": float(off[np.ix_(members, members)].sum()),
        "total_trade": float(exports + imports),
    }


def share_change_parts(part_a: np.ndarray | float, total_a: np.ndarray | float,
                       part_b: np.ndarray | float, total_b: np.ndarray | float
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Split the change of a share s = part / total into what the part and the total did.

    An exact log-mean (LMDI) decomposition: with L = (s_b − s_a) / ln(s_b / s_a), the logarithmic
    mean of the two shares (L = s_a when they are equal),

        s_b − s_a = L·ln(part_b / part_a) − L·ln(total_b / total_a),

    the first term "the part changed" (e.g. trade with China), the second "the denominator
    changed" (the region's total trade). Both in the share's unit; NaN where a value is zero.
    """
    pa, ta, pb, tb = (np.asarray(x, dtype=float) for x in (part_a, total_a, part_b, total_b))
    with np.errstate(invalid="ignore", divide="ignore"):
        sa, sb = pa / ta, pb / tb
        log_ratio = np.log(sb / sa)
        mean = np.where(np.abs(log_ratio) > 1e-12, (sb - sa) / log_ratio, (sa + sb) / 2)
        return mean * np.log(pb / pa), -mean * np.log(tb / ta)


def sector_metrics(sector_flows: np.ndarray, *, china: int, usa: int,
                   group: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Outcomes by economy and sector (SECTOR_COLUMNS, arrays [economy, sector]).

    Gross output (domestic sales included), foreign exports and imports in USD, and China's and
    the US's shares of the sector's exports and imports (fractions). With ``group`` (a mask),
    one row for the group: its members summed, trade among them counted as exports and imports
    (the region's own trade, as in `region_metrics`'s shares).
    """
    z = np.asarray(sector_flows, dtype=float)  # [sector, exporter, importer]
    off = z * (1.0 - np.eye(z.shape[1]))[None]
    if group is not None:
        rows = np.asarray(group, dtype=bool)[None, :, None]
        cols = np.asarray(group, dtype=bool)[None, None, :]
        output = (z * rows).sum(axis=(1, 2))[None]
        exports = (off * rows).sum(axis=(1, 2))[None]
        imports = (off * cols).sum(axis=(1, 2))[None]
        to_china = (off[:, :, china] * rows[:, :, 0]).sum(axis=1)[None]
        to_us = (off[:, :, usa] * rows[:, :, 0]).sum(axis=1)[None]
        from_china = (off[:, china, :] * cols[:, 0, :]).sum(axis=1)[None]
        from_us = (off[:, usa, :] * cols[:, 0, :]).sum(axis=1)[None]
    else:
        output, exports, imports = z.sum(axis=2).T, off.sum(axis=2).T, off.sum(axis=1).T
        to_china, to_us = off[:, :, china].T, off[:, :, usa].T
        from_china, from_us = off[:, china, :].T, off[:, usa, :].T

    def share(part: np.ndarray, total: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, part / total, 0.0)

    return {"output": output, "exports": exports, "imports": imports,
            "china_export_share": share(to_china, exports),
            "china_import_share": share(from_china, imports),
            "us_export_share": share(to_us, exports), "us_import_share": share(from_us, imports)}


# The region's trade in USD (columns of region.parquet) and the share each decomposition splits.
DOLLARS = ("trade_with_china", "trade_with_us", "intra_region_trade", "total_trade")
SPLIT = {"china_trade_share": "trade_with_china", "us_trade_share": "trade_with_us"}


def region_dollars(ra: pd.DataFrame, rb: pd.DataFrame) -> pd.DataFrame:
    """The region's trade in bn USD in a and b and its change (%), and each share's change (pp)
    split into "the partner's trade changed" and "the denominator changed"
    (`share_change_parts`; the two parts add up to the share's change). Same index as
    the inputs; empty for runs written before these columns existed."""
    out = pd.DataFrame(index=ra.index)
    if not all(c in ra.columns and c in rb.columns for c in DOLLARS):
        return out
    for col in DOLLARS:
        out[f"{col}_a_bn_usd"] = ra[col] / 1e9
        out[f"{col}_b_bn_usd"] = rb[col] / 1e9
        out[f"{col}_change_pct"] = 100 * (rb[col] / ra[col] - 1)
    for share, part in SPLIT.items():
        own, total = share_change_parts(ra[part], ra["total_trade"], rb[part],
                                                rb["total_trade"])
        out[f"{share}_change_from_{part}_pp"] = 100 * own
        out[f"{share}_change_from_total_trade_pp"] = 100 * total
    return out
