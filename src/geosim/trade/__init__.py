"""The general-equilibrium trade engine (pure numpy, no Mesa).

One solver (`solver.py`): Caliendo–Parro (2015) — N economies, J sectors, input–output links,
tariff revenue, trade imbalances — in exact hat algebra by Newton's method. The one-sector
structural-gravity engine the model has used since the start (`gravity.py`) is its special case;
`tables.py` reads and writes both as tables keyed by ISO codes, `cp2015.py` ships the published
NAFTA case that the solver reproduces.
"""

from geosim.trade.economy import ConvergenceError, Economy, TradeDataError
from geosim.trade.gravity import Equilibrium, aggregate, isolated_groups, solve, tariff_factor
from geosim.trade.solver import IMBALANCES, Imbalance, SectorEquilibrium, Shock, solve_sectors
from geosim.trade.tables import (
    FLOW_COLUMNS,
    FLOW_RESULT_COLUMNS,
    RESULT_COLUMNS,
    SHOCK_COLUMNS,
    cost_factor_from_table,
    country_table,
    flow_table,
    flows_from_table,
    solve_table,
)

__all__ = [
    "FLOW_COLUMNS", "FLOW_RESULT_COLUMNS", "IMBALANCES", "RESULT_COLUMNS", "SHOCK_COLUMNS",
    "ConvergenceError", "Economy", "Equilibrium", "Imbalance", "SectorEquilibrium", "Shock",
    "aggregate",
    "TradeDataError", "cost_factor_from_table", "country_table", "flow_table",
    "flows_from_table", "isolated_groups", "solve", "solve_sectors", "solve_table",
    "tariff_factor",
]
