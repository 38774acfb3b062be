"""The 2012 -> 2023 back-test by sector (docs/validation.md, "The back-test by sector").

Runs the history scenario on the 2012 world by sector (`engine_sectors = 1`, seed 1) and scores
China's and the US's shares of each goods sector's exports and imports of the back-test's 12
economies in 2023 against the 2023 world by sector, with persistence (the 2012 world's sector
shares) beside it. Both worlds' sector splits are partly imputed (docs/data.md, "Sectors"), so
this is a check of the sector dynamics, not a second scoring rule. Nothing here is used by
geosim.

    python docs/diagnostics/backtest_sectors.py
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geosim.backtest import scored_economies
from geosim.data import load_world
from geosim.metrics import sector_metrics
from geosim.reports import BACKTEST_SCENARIO
from geosim.runner import simulate

SHARES = ("china_export_share", "us_export_share", "china_import_share", "us_import_share")


def world_shares(world, economies: list[str]) -> pd.DataFrame:
    table = sector_metrics(world.sector_flows, china=world.index("CHN"), usa=world.index("USA"))
    rows = [world.index(c) for c in economies]
    return pd.concat({name: pd.DataFrame(table[name][rows], index=economies,
                                         columns=world.sectors) for name in SHARES}, axis=1)


def main() -> None:
    w2012, w2023 = load_world(2012), load_world(2023)
    economies = scored_economies(w2012, w2023)
    sim = simulate(BACKTEST_SCENARIO, seed=1, parameters={"engine_sectors": 1},
                   keep_flows=False)
    last = sim.sectors[(sim.sectors.year == 2023) & sim.sectors.iso3.isin(economies)]
    simulated = pd.concat({name: last.pivot(index="iso3", columns="sector", values=name)
                           .reindex(economies)[list(w2023.sectors)] for name in SHARES}, axis=1)
    observed, start = world_shares(w2023, economies), world_shares(w2012, economies)
    goods = [s for s in w2023.sectors if s != "SRV"]
    rows = []
    for name in SHARES:
        for sector in goods:
            model = 100 * np.abs(simulated[name][sector] - observed[name][sector]).mean()
            persistence = 100 * np.abs(start[name][sector] - observed[name][sector]).mean()
            rows.append({"indicator": name, "sector": sector, "model_mae_pp": model,
                         "persistence_mae_pp": persistence, "beats": model < persistence})
    table = pd.DataFrame(rows)
    print(f"MAE over {len(economies)} economies ({' '.join(economies)}), pp")
    print(table.round(2).to_string(index=False))
    wins = table.groupby("indicator")["beats"].sum()
    print("sectors where the model beats persistence, of 6:", wins.to_dict())


if __name__ == "__main__":
    main()
