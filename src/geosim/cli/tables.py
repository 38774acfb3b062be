"""Plain-text tables the CLI prints (summaries of runs and comparisons)."""

from __future__ import annotations

import pandas as pd

from geosim.runner import Simulation


def print_summary(sim: Simulation, k: int = 10) -> None:
    """Print the region's path and the largest economies' China/US trade shares, first vs last."""
    region = sim.region
    first, last = region.iloc[0], region.iloc[-1]
    print(f"\n{sim.scenario.name} ({sim.scenario.status}), seed {sim.seed}, "
          f"{int(first['year'])}-{int(last['year'])}")
    print("Latin America & Caribbean, share of trade (%):")
    print(f"  China {100 * first['china_trade_share']:5.1f} -> "
          f"{100 * last['china_trade_share']:5.1f}"
          f"   US {100 * first['us_trade_share']:5.1f} -> {100 * last['us_trade_share']:5.1f}"
          f"   top partner China (exports/imports): "
          f"{int(last['n_top_partner_china_exports'])}/{int(last['n_top_partner_china_imports'])}")
    if "total_trade" in region:
        print("  trade, bn USD: " + "   ".join(
            f"{label} {first[col] / 1e9:,.0f} -> {last[col] / 1e9:,.0f}"
            for col, label in (("trade_with_china", "with China"), ("trade_with_us", "with the US"),
                               ("intra_region_trade", "within the region"),
                               ("total_trade", "total"))))
    c = sim.countries
    y0, y1 = c["year"].min(), c["year"].max()
    from geosim.data import load_world

    world = load_world()
    lac = world.lac
    start = c[(c["year"] == y0) & c["iso3"].isin(lac)].set_index("iso3")
    end = c[c["year"] == y1].set_index("iso3")
    top = start.nlargest(k, "gdp").index
    table = pd.DataFrame({
        f"China {y0}": 100 * start.loc[top, "china_trade_share"],
        f"China {y1}": 100 * end.loc[top, "china_trade_share"],
        f"US {y0}": 100 * start.loc[top, "us_trade_share"],
        f"US {y1}": 100 * end.loc[top, "us_trade_share"],
        "real GDP index": end.loc[top, "real_gdp_index"],
    })
    print(f"Largest economies, share of trade (%):\n{table.round(1).to_string()}\n")
