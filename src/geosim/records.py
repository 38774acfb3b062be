"""The yearly record of a run's outcomes and the tables made from it (countries, region, flows,
and by sector when the run solves the world by sector).

Region outcomes are computed as each year is recorded; country outcomes from the kept inputs when
first asked for (sweeps mostly read the region only). Formulas live in `geosim.metrics`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from geosim import metrics
from geosim.data import World


class Records:
    """Every recorded year of one run.

    Args:
        world: the run's world (economies, base-year GDP, the region).
        americas: mask of the Americas (the region, USA, Canada) for intra-Americas trade.
        finance_by_home: investor positions by home economy (China's give its finance share).
        china_official: positions of China's official lenders (Chinese debt / GDP).
    """

    def __init__(self, world: World, americas: np.ndarray, *,
                 finance_by_home: dict[str, list[int]], china_official: list[int]):
        self.world = world
        self.americas = americas
        self.china, self.usa = world.index("CHN"), world.index("USA")
        self.chinese = finance_by_home.get("CHN", [])
        self.china_official = china_official
        self._years: list[dict[str, Any]] = []

    def add(self, year: int, flows: np.ndarray, gdp: np.ndarray, real_output: np.ndarray,
            welfare: np.ndarray, stock: np.ndarray,
            sector_flows: np.ndarray | None = None) -> None:
        """Record one year: flows (n×n), nominal GDP, real GDP and welfare indices, stocks
        (investor × host × sector), and flows by sector ([sector, exporter, importer]) if any."""
        w = self.world
        self._years.append({
            "year": year,
            "flows": flows,
            "sector_flows": sector_flows,
            "inputs": (flows, gdp, real_output, welfare, stock),
            "region": metrics.region_metrics(flows, w.is_lac, self.americas, china=self.china,
                                             usa=self.usa, real_gdp=real_output,
                                             base_gdp=w.gdp),
        })

    def country_metrics(self) -> pd.DataFrame:
        """Outcomes of the last recorded year, one row per country (index: iso3)."""
        record = self._years[-1]
        iso = np.array(self.world.iso3)
        data = dict(self._countries_of(record))
        for key in ("top_export_partner", "top_import_partner"):
            data[key] = iso[data[key]]
        return pd.DataFrame({"year": record["year"], "iso3": iso, **data}).set_index("iso3")

    def countries_frame(self, until: int | None = None) -> pd.DataFrame:
        """Outcomes of every recorded year (up to ``until``), one row per country-year."""
        records = self._until(until)
        iso = np.array(self.world.iso3)
        data: dict[str, Any] = {
            "year": np.repeat(np.array([r["year"] for r in records], dtype=np.int64), len(iso)),
            "iso3": np.tile(iso, len(records)),
        }
        countries = [self._countries_of(r) for r in records]
        for key in countries[0]:
            data[key] = np.concatenate([c[key] for c in countries])
        for key in ("top_export_partner", "top_import_partner"):
            data[key] = iso[data[key]]
        return pd.DataFrame(data)

    def region_frame(self, until: int | None = None) -> pd.DataFrame:
        """Latin America & Caribbean aggregates, one row per recorded year (up to ``until``)."""
        records = self._until(until)
        columns = {"year": [r["year"] for r in records]}
        for key in records[0]["region"]:
            columns[key] = [r["region"][key] for r in records]
        return pd.DataFrame(columns)

    def flows_frame(self, until: int | None = None) -> pd.DataFrame:
        """Bilateral flows of every recorded year (year, exporter, importer, value), USD."""
        iso = np.array(self.world.iso3)
        n = len(iso)
        frames = [
            pd.DataFrame({"year": r["year"], "exporter": np.repeat(iso, n),
                          "importer": np.tile(iso, n), "value": r["flows"].ravel()})
            for r in self._until(until)
        ]
        return pd.concat(frames, ignore_index=True)

    def sectors_frame(self, until: int | None = None) -> pd.DataFrame | None:
        """Outcomes by sector (SECTOR_COLUMNS), one row per year, economy and sector, plus the
        region's rows (iso3 ``LAC``: its members summed, trade among them included); None when
        the run did not solve the world by sector."""
        records = [r for r in self._until(until) if r["sector_flows"] is not None]
        if not records:
            return None
        w = self.world
        lac = np.asarray(w.is_lac)
        frames = []
        for r in records:
            by_economy = metrics.sector_metrics(r["sector_flows"], china=self.china, usa=self.usa)
            region = metrics.sector_metrics(r["sector_flows"], china=self.china, usa=self.usa,
                                            group=lac)
            for codes, table in ((np.array(w.iso3), by_economy), (np.array(["LAC"]), region)):
                n_codes, n_sectors = table["output"].shape
                frames.append(pd.DataFrame({
                    "year": r["year"], "iso3": np.repeat(codes, n_sectors),
                    "sector": np.tile(np.array(w.sectors), n_codes),
                    **{k: v.ravel() for k, v in table.items()}}))
        return pd.concat(frames, ignore_index=True)

    def _until(self, until: int | None) -> list[dict[str, Any]]:
        if until is None or self._years[-1]["year"] <= until:
            return self._years
        return [r for r in self._years if r["year"] <= until]

    def _countries_of(self, record: dict[str, Any]) -> dict[str, np.ndarray]:
        """A recorded year's country outcomes (computed once, from the year's inputs)."""
        if "countries" not in record:
            flows, gdp, real_output, welfare, stock = record.pop("inputs")
            record["countries"] = metrics.country_metrics(
                flows, china=self.china, usa=self.usa, gdp=gdp,
                real_gdp_index=real_output, welfare_index=welfare,
                china_finance=stock[self.chinese].sum(axis=(0, 2)),
                all_finance=stock.sum(axis=(0, 2)),
                china_official=stock[self.china_official].sum(axis=(0, 2)),
            )
        return record["countries"]
