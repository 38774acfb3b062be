"""`geosim demo`: the calibrated world against its targets, and one engine counterfactual."""

from __future__ import annotations

import argparse
from pathlib import Path

from geosim.cli import output_path


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register `geosim demo`."""
    p = sub.add_parser("demo", help="calibration table and an illustrative counterfactual",
                       description="Print the baseline China and US shares against their 2023 "
                       "targets, then solve one counterfactual (zero tariffs between the United "
                       "States and Brazil) and write a CSV and a plot.")
    p.add_argument("--out", default="results/demo", type=output_path,
                   help="output folder (default results/demo)")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Print the calibration table, solve the counterfactual, write CSV + PNG."""
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    from geosim import metrics, plotting, trade
    from geosim.data import load_world
    from geosim.parameters import PARAMETERS
    from geosim.results import atomic_dir, check_out

    check_out(args.out, "demo")  # before any work
    world = load_world()
    china, usa = world.index("CHN"), world.index("USA")
    export_share, import_share = metrics.partner_shares(world.flows)
    model = {"china_export_share": export_share[:, china], "us_export_share": export_share[:, usa],
             "china_import_share": import_share[:, china], "us_import_share": import_share[:, usa]}
    table = world.targets.copy()
    table["model"] = [100 * model[r.indicator][world.index(r.iso3)] for r in table.itertuples()]
    table["target"] = 100 * table["value"]
    table["target"] = [f"<{t:.0f}" if b == "<" else f"{t:.0f}"
                       for t, b in zip(table["target"], table["bound"], strict=True)]
    wide = table.pivot(index="iso3", columns="indicator", values=["model", "target"])
    print("Baseline 2023 shares (%), model vs target (CIA World Factbook top-5 partners):")
    cols = ["china_export_share", "us_export_share", "china_import_share", "us_import_share"]
    show = pd.DataFrame({f"{c.replace('_share', '')} {k}": wide[(k, c)]
                         for c in cols for k in ("model", "target")})
    print(show.to_string(float_format=lambda v: f"{v:5.1f}"))

    sigma = PARAMETERS["sigma"].default
    bra = world.index("BRA")
    cost = np.ones_like(world.flows)
    for a, b in ((usa, bra), (bra, usa)):
        cost[a, b] = trade.tariff_factor(world.tariff[a, b], 0.0)
    eq = trade.solve(world.flows, sigma, cost, reference=usa)
    result = pd.DataFrame({
        "country": world.iso3,
        "real_gdp_change_pct": 100 * (eq.real_output - 1),
        "exports_change_pct": 100 * (eq.exports - 1),
        "imports_change_pct": 100 * (eq.imports - 1),
        "welfare_change_pct": 100 * (eq.welfare - 1),
    })
    print(f"\nCounterfactual: zero tariffs between the United States and Brazil (σ = {sigma:g}, "
          f"{eq.iterations} iterations). Largest welfare changes (%):")
    top = result.reindex(result["welfare_change_pct"].abs().sort_values(ascending=False).index)
    print(top.head(8).to_string(index=False, float_format=lambda v: f"{v:8.3f}"))
    out = Path(args.out)
    with atomic_dir(out, "demo") as tmp:
        result.to_csv(tmp / "usa_bra_zero_tariffs.csv", index=False)
        fig, ax = plt.subplots(figsize=(7, 9))
        plotting.change_bars(result.set_index("country")["welfare_change_pct"],
                             "Welfare change (%): zero US-Brazil tariffs", ax)
        ax.set_xlabel("percent")
        plotting.save_figure(fig, tmp / "usa_bra_zero_tariffs.png")
    print(f"written to {out}")
    return 0
