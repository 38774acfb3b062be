"""The model's trade engine on the world by sector: a year's trade costs, tariffs, endowments and
investment as a Caliendo–Parro shock, solved, and read back as the economy-level equilibrium.

Owns the mapping from the model's one-sector levers to sectors (pure numpy, no Mesa):

- tariffs are real tariffs on every goods sector (services carry none), with revenue returned to
  the importer; sector tariff events add percentage points to chosen sectors;
- every other trade-cost channel (agreements' non-tariff part, the China × Latin America trend,
  transport infrastructure, investment ties) is estimated or stated as a change in the
  aggregate gravity term t^(1−σ); each goods sector gets the same change in its own trade term,
  d̂_j^(−θ_j) = t̂^(1−σ), so an agreement moves every sector's trade by the log points the
  aggregate estimate says;
- endowments scale each economy's factor supply; investment above business as usual raises the
  productivity of the sector it lands in, with diminishing returns: ẑ = (1 + κ · extra /
  (α · VA_sector))^α, α the capital share; to first order κ · extra / VA_sector, the one-sector
  model's κ · extra / GDP put where the money went (VA_sector at least `SECTOR_FLOOR` of the
  host's).

- world commodity prices (`drivers.commodity_prices`, real Pink Sheet indices) shift spending:
  every buyer's expenditure share on sector j scales by δ̂_j = p̂_j^(1−ε) (ε the short-run price
  elasticity of commodity demand, `commodity_demand_elasticity`), final-demand shares α
  renormalised and input coefficients G scaled the same way with the value-added share β taking
  up the difference (`spending_shift`, `priced_economy`): with inelastic demand (ε < 1) a price
  rise raises what the world spends on the commodity, and so the exporters' sales.

- imports may form a nest of their own in each sector (`import_nest` < 1): home goods against
  imports substitute by η_j = import_nest · θ_j, import sources among themselves by θ_j
  (`trade.Economy`'s ``nest``); 1, the default, is Caliendo–Parro's one nest.

`GeoModel` keeps one `SectorEngine` per world and specification; `engine_sectors = 0` runs the
one-sector engine on the same world (the model before the sector worlds), for comparison.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping

import numpy as np

from geosim import drivers, investment, trade
from geosim.data import World
from geosim.data import sectors as sector_data
from geosim.policies import SECTORS

#: `sector_elasticities` codes: the published θ per sector the engine uses (docs/model.md).
ELASTICITY_SPECIFICATIONS = ("CP", "FGO", "BSY", "GYY", "IS", "LL", "Shap", "U4")

#: Capital's share of value added (Penn World Table 10: ≈ 0.35–0.4), the exponent of capital
#: deepening: ẑ = (1 + κ · extra / (α · VA))^α, whose first-order term is the one-sector κ rule.
CAPITAL_SHARE = 0.35

#: The smallest base a sector's new capital is measured against, as a share of the host's value
#: added (assumption, range 0.05–0.2): a project far larger than its sector (a $50 million plant
#: in a microstate's $5 million machinery sector) builds capacity at the economy's scale rather
#: than multiplying the productivity of a few $ million of output (amplified by θ in trade).
SECTOR_FLOOR = 0.1

#: Investment sectors (policies.SECTORS) -> the trade sectors their projects raise, split by
#: each host's value added where there are several. Renewables make electricity, which the
#: input-output tables count as a service; technology is electronics (MAC) where a host makes
#: them and information & communication services (ISIC J61–J63, in SRV: telecoms, data
#: centres) everywhere — so a microstate's programme is not put into a machinery sector of a few
#: $ million; mining & energy projects go to metals & ores and energy; transport is
#: infrastructure (a trade-cost channel, not a sector's productivity).
INVESTMENT_TO_TRADE = {
    "renewables": ("SRV",),
    "technology": ("MAC", "SRV"),
    "mining_energy": ("MIN", "ENE"),
    "agriculture": ("AGR",),
    "manufacturing": ("MAN", "VEH"),
}


#: The smallest value-added share a price shift leaves a sector (assumption): β′ ≥ min(β, this),
#: so a large rise in an input's price cannot make value added vanish.
VALUE_ADDED_FLOOR = 0.05
#: Priced economies kept per engine (one per distinct δ̂: the back-test's years, then the held
#: prices of every projection year after the last observation).
PRICED_CACHE_SIZE = 64


def spending_shift(p_hat: np.ndarray, elasticity: float) -> np.ndarray:
    """δ̂_j = p̂_j^(1−ε): the factor on every buyer's expenditure share on sector j when its world
    price moves by p̂_j and demand has price elasticity ε (a quantity falls by ε per cent per
    per cent of price, so spending moves by 1 − ε of it)."""
    p_hat = np.asarray(p_hat, dtype=float)
    if not np.all(np.isfinite(p_hat) & (p_hat > 0)):
        raise ValueError(f"commodity price relatives must be positive and finite, got {p_hat}")
    return p_hat ** (1.0 - elasticity)


def priced_economy(economy: trade.Economy, delta: np.ndarray) -> trade.Economy:
    """The economy with spending shifted by δ̂ per sector: final-demand shares α′_nj ∝ α_nj δ̂_j
    (rows renormalised to 1), input coefficients G′_nkj = G_nkj δ̂_k and value-added shares
    β′_nj = 1 − Σ_k G′_nkj, so each sector's cost shares still sum to one; where that would leave
    β′ below min(β, `VALUE_ADDED_FLOOR`), β′ is that floor and the column's G′ is scaled down to
    1 − β′. δ̂ = 1 everywhere returns ``economy`` itself (no price move, no change at all)."""
    delta = np.asarray(delta, dtype=float)
    n, j = economy.shape
    if delta.shape != (j,):
        raise ValueError(f"spending shift must have one value per sector ({j}), got "
                         f"shape {delta.shape}")
    if np.all(delta == 1.0):
        return economy
    alpha = economy.final_share * delta[None, :]
    alpha = alpha / alpha.sum(axis=1, keepdims=True)
    io = economy.io * delta[None, :, None]  # G[n, k, j]: input k's price moves its share
    inputs = io.sum(axis=1)  # [n, j]
    floor = np.minimum(economy.va_share, VALUE_ADDED_FLOOR)
    over = inputs > 1.0 - floor
    if np.any(over):
        scale = np.where(over, (1.0 - floor) / np.where(over, inputs, 1.0), 1.0)
        io = io * scale[:, None, :]
        inputs = io.sum(axis=1)
    beta = np.where(over, floor, 1.0 - inputs)
    return economy.replace(final_share=alpha, io=io, va_share=beta)


class SectorEngine:
    """A world's Caliendo–Parro economy (built once) and the yearly solve on it."""

    def __init__(self, world: World, specification: str = "CP", import_nest: float = 1.0):
        if not world.sectors:
            raise ValueError("this world has no sector tables")
        self.world = world
        self.sectors = world.sectors
        theta = world.theta if specification == "CP" else sector_data.theta(specification)
        self.economy = trade.Economy.build(world.sector_flows, theta,
                                           tariff=world.sector_tariff,
                                           va_share=world.value_added_share, io=world.io,
                                           nest=import_nest * np.asarray(theta, dtype=float))
        self.goods = np.array([s != "SRV" for s in world.sectors])
        base = self.economy
        self.value_added = base.va_share * base.output  # [n, j], USD
        self._investment_map = self._map_investment()
        self._priced: dict[bytes, trade.Economy] = {}
        self._shifts: dict[tuple[int, float], np.ndarray] = {}

    def demand_shift(self, year: int, params: Mapping[str, float]) -> np.ndarray | None:
        """This year's spending shift δ̂ from world commodity prices relative to the world's base
        year, whose prices its shares embody (`drivers.commodity_prices`, `spending_shift`), or
        None with `commodity_prices` = 0."""
        if not params["commodity_prices"]:
            return None
        eps = params["commodity_demand_elasticity"]
        key = (year, eps)
        if key not in self._shifts:
            p_hat = drivers.commodity_prices(self.sectors, self.world.base_year, year)
            self._shifts[key] = spending_shift(p_hat, eps)
            self._shifts[key].setflags(write=False)  # shared by every model of the world
        return self._shifts[key]

    def priced(self, delta: np.ndarray | None) -> trade.Economy:
        """The economy under the spending shift δ̂ (`priced_economy`), built once per distinct
        δ̂; the base economy itself for None or δ̂ = 1."""
        if delta is None:
            return self.economy
        key = np.asarray(delta, dtype=float).tobytes()
        if key not in self._priced:
            if len(self._priced) >= PRICED_CACHE_SIZE:
                self._priced.pop(next(iter(self._priced)))
            self._priced[key] = priced_economy(self.economy, delta)
        return self._priced[key]

    def _map_investment(self) -> np.ndarray:
        """[n, investment sector, trade sector]: how a host's extra stock in an investment
        sector spreads over trade sectors (by value added where it names several)."""
        n, j = self.economy.shape
        index = {s: k for k, s in enumerate(self.sectors)}
        out = np.zeros((n, len(SECTORS), j))
        for a, name in enumerate(SECTORS):
            targets = [index[t] for t in INVESTMENT_TO_TRADE.get(name, ()) if t in index]
            if not targets:
                continue
            weight = self.value_added[:, targets]
            total = weight.sum(axis=1, keepdims=True)
            out[:, a, targets] = np.where(total > 0, weight / np.where(total > 0, total, 1.0),
                                          1.0 / len(targets))
        return out

    def productivity(self, extra_stock: np.ndarray, gdp_factor: np.ndarray,
                     kappa: float) -> np.ndarray:
        """ẑ[n, j] from stocks above business as usual (host × investment sector, USD) and the
        growth of each host's output since the base year."""
        extra = np.einsum("na,naj->nj", extra_stock, self._investment_map)
        value_added = np.maximum(self.value_added, SECTOR_FLOOR * self.value_added.sum(
            axis=1, keepdims=True)) * gdp_factor[:, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            deepening = np.where(value_added > 0, kappa * extra / value_added / CAPITAL_SHARE,
                                 0.0)
        return np.maximum(1.0 + deepening, investment.EFFECT_FLOOR) ** CAPITAL_SHARE

    def shock(self, cost: np.ndarray, tariff: np.ndarray, sigma: float,
              endowment: np.ndarray, productivity: np.ndarray | None = None,
              sector_tariff_pp: np.ndarray | None = None) -> trade.Shock:
        """This year's shock relative to the base year.

        Args:
            cost: the model's one-sector trade-cost factors t̂[i, n] (tariff part included).
            tariff: the applied tariffs τ[i, n] now (every goods sector).
            sigma: the one-sector σ in which ``cost``'s non-tariff part is stated.
            endowment: factor endowment factors L̂.
            productivity: ẑ[n, j], or None.
            sector_tariff_pp: extra tariffs by sector [j, i, n] (fractions), or None.
        """
        base_tariff = self.world.tariff
        nontariff = cost * (1.0 + base_tariff) / (1.0 + tariff)
        log_trade = (1.0 - sigma) * np.log(nontariff)  # change in ln t^(1−σ)
        theta = self.economy.theta[self.goods]
        iceberg = np.ones(self.economy.flows.shape)
        iceberg[self.goods] = np.exp(-log_trade[None] / theta[:, None, None])
        sector_tariff = self.goods[:, None, None] * tariff[None]
        if sector_tariff_pp is not None:
            sector_tariff = np.maximum(sector_tariff + sector_tariff_pp, 0.0)
        for k in range(len(self.sectors)):
            np.fill_diagonal(sector_tariff[k], 0.0)
            np.fill_diagonal(iceberg[k], 1.0)
        return trade.Shock(tariff=sector_tariff, cost_factor=iceberg,
                           productivity=productivity, endowment=endowment)

    def solve(self, shock: trade.Shock, *, reference: int | None,
              initial_price: np.ndarray | None,
              last: trade.SectorEquilibrium | None = None,
              delta: np.ndarray | None = None) -> tuple[trade.Equilibrium,
                                                         trade.SectorEquilibrium]:
        """Solve the year (from ``last``, e.g. last year's solution, where given) on the economy
        with spending shifted by ``delta`` (`spending_shift` of this year's commodity prices;
        None: no shift); return the economy-level view and the sector solution."""
        sectoral = trade.solve_sectors(self.priced(delta), shock, reference=reference,
                                       initial_wage=initial_price, start=last)
        return trade.aggregate(sectoral), sectoral


_ENGINES: weakref.WeakKeyDictionary[World, dict[tuple[int, float], SectorEngine]] = (
    weakref.WeakKeyDictionary())


def engine_for(world: World, elasticities: int = 0,
               import_nest: float = 1.0) -> SectorEngine | None:
    """The world's sector engine under an elasticity specification (a code of
    `ELASTICITY_SPECIFICATIONS`) and an import nest η_j = ``import_nest`` · θ_j (1: one nest;
    `trade.Economy`'s ``nest``), built on first use and shared, or None without sector tables."""
    if not world.sectors:
        return None
    per_world = _ENGINES.setdefault(world, {})
    key = (elasticities, float(import_nest))
    if key not in per_world:
        per_world[key] = SectorEngine(world, ELASTICITY_SPECIFICATIONS[elasticities],
                                      import_nest)
    return per_world[key]


def sector_shares(world: World) -> np.ndarray | None:
    """Each goods sector's share of a pair's base-year goods trade, [sector, exporter,
    importer] (services 0), or None for a world without sector tables."""
    if not world.sectors:
        return None
    goods = np.array([s != "SRV" for s in world.sectors])
    flows = np.where(goods[:, None, None], world.sector_flows, 0.0)
    total = flows.sum(axis=0)
    return np.divide(flows, total, out=np.zeros_like(flows), where=total > 0)
