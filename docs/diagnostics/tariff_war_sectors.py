"""The 2018-2019 US-China tariff war in the sector model, against ICIO's 2017 -> 2019 changes
(docs/validation.md, "The tariff war by sector").

Runs the history scenario (2012 world by sector, `engine_sectors = 1`, seed 1) with and without
its US-China tariff events and prints, for 2019: Latin America's exports to China by sector
(with minus without the tariffs, %) and the China share of its manufactured imports (pp), in one
nest (the default, `import_nest = 1`) and with imports nested at each of NESTS (η = import_nest ·
θ between home goods and imports); then what ICIO records for the 7 Latin American economies it
has (ARG BRA CHL COL CRI MEX PER), 2017 -> 2019. The model's tariffs are the scenario's: Bown's
(PIIE) all-goods averages, with China's extra retaliation on US soybeans put on agriculture &
food (USDA ERS). A diagnostic: nothing here is used by geosim.

    python docs/diagnostics/tariff_war_sectors.py
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from geosim.data import SOURCES_DIR
from geosim.runner import simulate
from geosim.scenario import load_scenario

YEAR = 2019
LAC7 = ["ARG", "BRA", "CHL", "COL", "CRI", "MEX", "PER"]
MANUFACTURES = ["MAC", "VEH", "MAN"]
NESTS = [1.0, 0.9, 0.75, 0.5, 0.25]  # import_nest: 1 the default, 0.5 GTAP's "rule of two"


def region_by_sector(with_tariffs: bool, import_nest: float = 1.0) -> pd.DataFrame:
    """The region's rows of sectors.parquet in YEAR."""
    spec = load_scenario("history_2012_2023")
    if not with_tariffs:
        events = tuple(e for e in spec.events if e.type != "tariff_change")
        spec = dataclasses.replace(spec, name=f"{spec.name} without tariffs", events=events)
    sim = simulate(spec, seed=1, parameters={"engine_sectors": 1, "import_nest": import_nest},
                   until=YEAR, keep_flows=False)
    rows = sim.sectors[(sim.sectors.iso3 == "LAC") & (sim.sectors.year == YEAR)]
    return rows.set_index("sector")


def manufactures_china_share(rows: pd.DataFrame) -> float:
    m = rows.loc[MANUFACTURES]
    return float((m.china_import_share * m.imports).sum() / m.imports.sum())


def icio_changes() -> tuple[pd.Series, float]:
    """ICIO, the 7 LAC economies: exports to China by sector 2017 -> 2019 (%), and the change
    in the China share of their manufactured imports from outside the 7 (pp)."""
    icio = pd.read_csv(SOURCES_DIR / "sectors" / "icio_bilateral.csv")
    icio = icio[icio.year.isin([2017, 2019])]
    to_china = (icio[icio.exporter.isin(LAC7) & (icio.importer == "CHN")]
                .pivot_table(index="sector", columns="year", values="value_usd_mn", aggfunc="sum"))
    change = 100 * (to_china[2019] / to_china[2017] - 1)
    imports = icio[icio.importer.isin(LAC7) & ~icio.exporter.isin(LAC7)
                   & icio.sector.isin(MANUFACTURES)]
    share = {y: imports[(imports.year == y) & (imports.exporter == "CHN")].value_usd_mn.sum()
             / imports[imports.year == y].value_usd_mn.sum() for y in (2017, 2019)}
    return change, 100 * (share[2019] - share[2017])


def main() -> None:
    to_china = lambda r: r.exports * r.china_export_share  # noqa: E731
    effects, gaps = {}, {}
    for nest in NESTS:
        war, calm = region_by_sector(True, nest), region_by_sector(False, nest)
        effects[f"nest {nest:g}"] = 100 * (to_china(war) / to_china(calm) - 1)
        gaps[f"nest {nest:g}"] = 100 * (manufactures_china_share(war)
                                        - manufactures_china_share(calm))
    icio, icio_share = icio_changes()
    table = pd.DataFrame(effects | {"ICIO 2017->2019": icio})
    print(f"Latin America's exports to China, {YEAR}, %: the model's tariffs vs none by "
          f"import_nest (the region), and ICIO's change (its 7 economies)")
    print(table.drop(index="SRV", errors="ignore").round(1).to_string())
    print("China's share of the region's manufactured imports (MAC, VEH, MAN), tariffs vs none, "
          "pp: " + ", ".join(f"{k} {v:+.2f}" for k, v in gaps.items())
          + f"; ICIO 2017->2019 {icio_share:+.2f}")


if __name__ == "__main__":
    main()
