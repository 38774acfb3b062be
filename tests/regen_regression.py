"""Regenerate the stored regression baseline of scenario outcomes (tests/data/regression.csv).

Usage: python tests/regen_regression.py   (after a deliberate change of the model or the data)
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

REGRESSION_FILE = Path(__file__).parent / "data" / "regression.csv"
SCENARIOS = ("baseline", "pivot")
YEARS = (2023, 2030, 2040)
COLUMNS = ("china_trade_share", "us_trade_share", "china_export_share", "china_import_share",
           "n_top_partner_china_exports", "real_gdp_index")


def regression_table() -> pd.DataFrame:
    """Region outcomes of the stored scenarios (seed 0) in a few years."""
    from geosim.runner import simulate

    rows = []
    for name in SCENARIOS:
        region = simulate(name, seed=0, keep_flows=False).region.set_index("year")
        for year in YEARS:
            rows.append({"scenario": name, "year": year,
                         **{c: float(region.loc[year, c]) for c in COLUMNS}})
    return pd.DataFrame(rows)


if __name__ == "__main__":
    REGRESSION_FILE.parent.mkdir(exist_ok=True)
    regression_table().to_csv(REGRESSION_FILE, index=False, float_format="%.12g")
    print(f"wrote {REGRESSION_FILE}")
