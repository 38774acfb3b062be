"""The page's sector choice: which sectors it offers, and China's and the US's shares by sector.

Pure functions on a model's state (no Solara): the formulas are `geosim.metrics`'s, the same
that write `sectors.parquet` (`metrics.sector_metrics`) and the country and region tables
(`metrics.trade_share`, `metrics.region_metrics`). Sector values need a run on the world by
sector (`engine_sectors = 1`); a one-sector run offers "All sectors" only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geosim import metrics
from geosim.data.sectors import sector_map
from geosim.model import GeoModel

ALL_SECTORS = "All sectors"
# The shares the page shows, in `metrics.COUNTRY_COLUMNS`'s names (fractions).
SHARES = ("china_export_share", "china_import_share", "china_trade_share", "us_export_share",
          "us_import_share", "us_trade_share")


def sector_names() -> dict[str, str]:
    """Sector code -> readable name (``sources/sectors/sector_map.csv``)."""
    table = sector_map()
    return dict(zip(table.sector, table.name, strict=True))


def sector_choices(model: GeoModel) -> dict[str, str | None]:
    """The picker's entries, label -> sector code: "All sectors" (None) first, then every sector
    of the model's world that is traded across borders in its base year, in the world's order.

    Services, not traded across borders in the shipped worlds, are left out (an all-zero map).
    A run on one sector (`engine_sectors = 0`) has no sector flows: "All sectors" only.
    """
    choices: dict[str, str | None] = {ALL_SECTORS: None}
    if model.sector_flows() is None:
        return choices
    world = model.world
    names = sector_names()
    foreign = metrics.sector_metrics(world.sector_flows, china=model.china, usa=model.usa)
    traded = foreign["exports"].sum(axis=0) > 0
    for code, is_traded in zip(world.sectors, traded, strict=True):
        if is_traded:
            choices[names.get(code, code)] = code
    return choices


def sector_index(model: GeoModel, sector: str) -> int:
    """The position of `sector` (a code) in the model's sector flows; a clear error if the run
    has no sectors or the world has no such sector."""
    if model.sector_flows() is None:
        raise ValueError(f"sector {sector!r}: this run has one sector (engine_sectors = 0); "
                         "run it with engine_sectors = 1 for values by sector")
    sectors = tuple(model.world.sectors)
    if sector not in sectors:
        raise ValueError(f"unknown sector {sector!r}: the world's sectors are "
                         f"{', '.join(sectors)}")
    return sectors.index(sector)


def sector_trade(model: GeoModel, sector: str | None) -> np.ndarray:
    """This year's flows X[exporter, importer] of `sector` (a code; None: all goods and
    services, the model's `flows`), USD."""
    if sector is None:
        return np.asarray(model.flows)
    flows = model.sector_flows()
    return np.asarray(flows[sector_index(model, sector)])


def sector_shares(model: GeoModel, sector: str | None) -> pd.DataFrame:
    """This year's China and US shares (`SHARES`, fractions) of every economy's exports, imports
    and trade (exports + imports) in `sector` (a code), index iso3 in the world's order.

    None is all trade: the model's `country_metrics()`. A sector's export and import shares are
    `metrics.sector_metrics`'s (as in sectors.parquet), its trade shares `metrics.trade_share`'s
    on the sector's flows (as the all-trade column). A country without trade in the sector has
    shares of zero.
    """
    iso3 = list(model.world.iso3)
    if sector is None:
        return model.country_metrics().loc[iso3, list(SHARES)]
    k = sector_index(model, sector)
    by_sector = metrics.sector_metrics(model.sector_flows(), china=model.china, usa=model.usa)
    flows = sector_trade(model, sector)
    columns = {name: by_sector[name][:, k] for name in SHARES if name in by_sector}
    columns["china_trade_share"] = metrics.trade_share(flows, model.china)
    columns["us_trade_share"] = metrics.trade_share(flows, model.usa)
    return pd.DataFrame({name: columns[name] for name in SHARES},
                        index=pd.Index(iso3, name="iso3"))


def region_china_share(model: GeoModel, sector: str | None) -> float:
    """This year's China share of Latin America & Caribbean's trade in `sector` (None: all
    trade), trade-weighted as in the region table (`metrics.region_metrics`)."""
    if sector is None:
        return float(model.region_frame()["china_trade_share"].iloc[-1])
    world = model.world
    ones = np.ones(len(world.iso3))
    region = metrics.region_metrics(sector_trade(model, sector), world.is_lac, model.americas,
                                    china=model.china, usa=model.usa, real_gdp=ones,
                                    base_gdp=ones)
    return float(region["china_trade_share"])
