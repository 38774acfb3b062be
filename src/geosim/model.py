"""GeoModel: the agent-based model of trade and investment in the Americas (a `mesa.Model`).

Owns the yearly state arrays (tariffs, agreements, investment stocks, endowments), the trade graph,
the levers policies pull, and the yearly record of outcomes.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import mesa
import networkx as nx
import numpy as np
import pandas as pd

from geosim import metrics, trade
from geosim.agents import (
    FRAGILE,
    INVESTOR_PROFILES,
    PRODUCTIVE,
    SANCTIONED,
    TRANSPORT,
    Country,
    Investor,
    Programme,
    TradeBloc,
)
from geosim.data import World, load_world
from geosim.parameters import defaults, resolve
from geosim.policies import SECTORS, Application, trade_agreements
from geosim.scenario import Scenario, ScenarioError, load_scenario

# Infrastructure capital ≈ 0.5 × GDP: new transport investment is measured against it (IMF
# Investment and Capital Stock Dataset: public capital ≈ 50-60 % of GDP in Latin America).
INFRA_CAPITAL_GDP = 0.5
# Floor of the FDI-tie ratio (stock/GDP) so that the γ elasticity is defined at zero stock.
TIE_FLOOR = 0.01
# Alignment target: weight of trade ties (the rest is finance ties). Model assumption.
TRADE_WEIGHT_IN_ALIGNMENT = 0.7


class GeoModel(mesa.Model):
    """Country, investor and trade-bloc agents on a trade graph, moved by a scenario's policies.

    One year is one ``step()``, in this order (DESIGN §6):

    1. Scheduled policies for this year fire (the scenario's timeline).
    2. Blocs process applications; applicants decide on offers; countries answer tariff
       increases made against them this year (retaliation).
    3. Investors allocate their budgets; stocks depreciate and grow.
    4. Countries update endowments (baseline growth, productivity from investment, shocks), trade
       costs (tariffs, agreements phasing in, transport infrastructure, FDI ties) and alignment.
    5. The trade engine solves the year's equilibrium; the trade graph's edges are rewritten.
    6. The year's outcomes are recorded.

    Args:
        scenario: a `Scenario`, or the name or path of a scenario file (default ``baseline``).
        parameters: overrides of the parameter table, applied over the scenario's.
        seed: seed of the model's random generator (every random draw comes from it).
        world: the base-year world (default: the embedded 2023 data).
    """

    def __init__(
        self,
        scenario: Scenario | str | None = None,
        *,
        parameters: Mapping[str, float] | None = None,
        seed: int | None = None,
        world: World | None = None,
    ):
        super().__init__(rng=seed)
        self.scenario_spec = load_scenario(scenario or "baseline")
        self.params = resolve({**self.scenario_spec.parameters, **(parameters or {})})
        self.world = world or load_world()
        w = self.world
        n = len(w.iso3)
        self.start, self.end = self.scenario_spec.start, self.scenario_spec.end
        self.year = self.start
        self.china, self.usa = w.index("CHN"), w.index("USA")
        self.americas = w.is_lac.copy()
        self.americas[[self.usa] + ([w.index("CAN")] if "CAN" in w.iso3 else [])] = True

        # Trade-cost state relative to the base year.
        self.base_tariff = np.asarray(w.tariff, dtype=float)
        self.tariff = self.base_tariff.copy()
        self.rta_start = np.full((n, n), np.nan)  # year a new agreement took effect, per pair
        self.rta_phase_in = np.ones((n, n))
        self.growth_index = np.ones(n)
        self.shock = np.ones(n)
        self.screening = np.zeros((n, n))  # share blocked, host × source home
        self.origin_cost = np.ones((n, n))  # rules-of-origin cost factors on imports
        self.price = np.ones(n)
        self.flows = np.array(w.flows, dtype=float)
        self.equilibrium: trade.Equilibrium | None = None

        self.countries = [Country(self, i, iso, 0.0) for i, iso in enumerate(w.iso3)]
        self.investors = {p.name: Investor(self, p) for p in INVESTOR_PROFILES}
        self.stock = self._initial_stocks()
        # Business-as-usual stocks: base-year budgets spent as in the base year. Growth
        # projections already include such investment, so effects act on stock - bau_stock.
        self.bau_stock = self.stock.copy()
        self.blocs: dict[str, TradeBloc] = {}
        self._scheduled_entries: dict[int, list[tuple[str, str]]] = {}
        self._build_blocs()
        self._events: dict[int, list] = {}
        for event in self.scenario_spec.events:
            self._events.setdefault(event.year, []).append(event)

        self.trade_graph = self._build_graph()
        self._records: list[dict[str, Any]] = []
        # Seconds spent per phase over all steps (engine, agents and state updates, recording).
        self.timings = {"engine_s": 0.0, "agents_s": 0.0, "record_s": 0.0}
        real = np.ones(n)
        self._set_alignment(initial=True)
        calibrated = defaults()  # BAU budgets are the data's, whatever the scenario sets
        self._bau_investment = np.stack([
            calibrated[inv.profile.budget_parameter] * 1e9 * inv.choice_probabilities(inv.scores())
            for inv in self.investors.values()])
        self._record(real, real)

    # -- the year --------------------------------------------------------------------------

    def step(self) -> None:
        """Advance the model by one year (the order is in the class docstring)."""
        if self.year >= self.end:
            self.running = False
            return
        self.year += 1
        t0 = time.perf_counter()
        tariff_before = self.tariff.copy()
        for iso, bloc in self._scheduled_entries.pop(self.year, []):  # 1. timeline
            self.join(self.blocs[bloc], iso, None)
        for event in self._events.get(self.year, []):
            event.apply(self)
        for bloc in self.blocs.values():  # 2. applications, tariff responses
            bloc.process_applications()
        self._answer_tariff_increases(np.maximum(self.tariff - tariff_before, 0.0))
        invest = np.stack([inv.allocate() for inv in self.investors.values()])  # 3. investment
        self.stock = (1.0 - self.params["delta"]) * self.stock + invest
        self.bau_stock = (1.0 - self.params["delta"]) * self.bau_stock + self._bau_investment
        self.growth_index *= 1.0 + self.world.growth + self.params["growth_shift_pp"] / 100.0
        cost = self._cost_factor()  # 4. endowments and trade costs
        endowment = self._endowment()
        t1 = time.perf_counter()
        eq = self._solve(cost, endowment)  # 5. equilibrium
        t2 = time.perf_counter()
        self.equilibrium, self.price, self.flows = eq, eq.price, eq.flows
        self._update_graph()
        self._set_alignment()
        t3 = time.perf_counter()
        self._record(eq.real_output, eq.welfare)  # 6. outcomes
        t4 = time.perf_counter()
        self.timings["engine_s"] += t2 - t1
        self.timings["agents_s"] += (t1 - t0) + (t3 - t2)
        self.timings["record_s"] += t4 - t3
        if self.year >= self.end:
            self.running = False

    def run(self, until: int | None = None) -> GeoModel:
        """Step until the year ``until`` (default the scenario's end); return self."""
        until = self.end if until is None else min(until, self.end)
        while self.year < until:
            self.step()
        return self

    # -- levers the policies pull ------------------------------------------------------------

    def index(self, iso3: str) -> int:
        """Index of a country in the world's arrays."""
        return self.world.index(iso3)

    def resolve_countries(self, codes: list[str] | str) -> list[str]:
        """Expand groups (``LAC``, ``ALL``) and check ISO3 codes against the world."""
        out: list[str] = []
        for code in [codes] if isinstance(codes, str) else codes:
            if code == "ALL":
                out += list(self.world.iso3)
            elif code == "LAC":
                out += self.world.lac
            elif code in self.world.iso3:
                out.append(code)
            else:
                raise ScenarioError(f"country code '{code}' is not in the world data")
        return list(dict.fromkeys(out))

    def submit_application(self, bloc: str, application: Application,
                           rule: str | None = None) -> None:
        """Queue an application to a bloc (decided in step 2 of this year); optionally set the
        bloc's admission rule."""
        if rule is not None:
            self.blocs[bloc].rule = rule
        self.blocs[bloc].applications.append(application)

    def join(self, bloc: TradeBloc, iso3: str, phase_in: int | None,
             rules_of_origin_pct: float = 0.0) -> None:
        """Make a country a member: tariffs to zero with members, the RTA effect phases in.

        A customs union's newcomer adopts its common external tariff; rules of origin add an
        ad-valorem cost to the newcomer's imports from non-members (third-country content).
        """
        if iso3 in bloc.members:
            return
        new = self.index(iso3)
        partners = [self.index(m) for m in bloc.members]
        self._liberalise(new, partners, phase_in)
        outsiders = np.ones(len(self.world.iso3), dtype=bool)
        outsiders[[new, *partners]] = False
        if bloc.external_tariff is not None:
            self.tariff[outsiders, new] = bloc.external_tariff
        self.origin_cost[outsiders, new] *= 1.0 + rules_of_origin_pct / 100.0
        bloc.members[iso3] = self.year
        self._refresh_bloc_edges()

    def create_agreement(self, name: str, countries: list[str], phase_in: int | None) -> None:
        """A new agreement among the countries: every pair liberalised from this year."""
        if name not in self.blocs:
            self.blocs[name] = TradeBloc(self, name, "FTA", {}, self._leader(countries))
        bloc = self.blocs[name]
        for iso in countries:
            self.join(bloc, iso, phase_in)

    def set_tariffs(self, importers: list[str], exporters: list[str], rate_pct: float | None,
                    change_pp: float | None) -> None:
        """Importers set (rate) or shift (change, percentage points) their tariff on exporters."""
        imp = [self.index(c) for c in importers]
        exp = [self.index(c) for c in exporters]
        block = np.ix_(exp, imp)
        if rate_pct is not None:
            self.tariff[block] = rate_pct / 100.0
        else:
            self.tariff[block] = np.maximum(self.tariff[block] + change_pp / 100.0, 0.0)
        np.fill_diagonal(self.tariff, 0.0)

    def add_programme(self, *, investor: str, until: int, budget_bn: float, hosts: list[str],
                      sectors: tuple[str, ...], incentive: float) -> None:
        """Start an earmarked investment programme for an investor."""
        host_mask = np.zeros(len(self.world.iso3), dtype=bool)
        host_mask[[self.index(h) for h in hosts]] = True
        sector_mask = np.array([s in sectors for s in SECTORS])
        self.investors[investor].programmes.append(
            Programme(until, budget_bn, host_mask, sector_mask, incentive)
        )

    def change_budget(self, investor: str, factor: float | None, budget_bn: float | None) -> None:
        """Multiply (factor) or set (bn USD per year) an investor's ordinary budget."""
        inv = self.investors[investor]
        inv.budget_bn = inv.budget_bn * factor if factor is not None else budget_bn

    def screen_investment(self, hosts: list[str], sources: list[str], share: float) -> None:
        """Hosts block a share of the investment from investors whose home is among sources."""
        self.screening[np.ix_([self.index(h) for h in hosts], [self.index(s) for s in sources])] = (
            share
        )

    def shock_output(self, countries: list[str], change_pct: float) -> None:
        """A permanent change of the countries' output (demand/productivity shock)."""
        self.shock[[self.index(c) for c in countries]] *= 1.0 + change_pct / 100.0

    # -- what agents ask of the model ------------------------------------------------------

    def host_scores(self, investor: Investor) -> np.ndarray:
        """Logit scores of each host for an investor (before sector terms); −inf outside LAC."""
        p, w = self.params, self.world
        lac = w.is_lac
        gdp = w.gdp * self.growth_index
        # Market size enters in logs with weight one (at temperature 1 a neutral investor's
        # budget is shared in proportion to GDP); expected return adds growth prospects.
        size = np.log(gdp / gdp[lac].sum())
        ret = _z(w.growth, lac)
        risk = np.zeros(len(w.iso3))
        risk[[self.index(c) for c in SANCTIONED if c in w.iso3]] = investor.profile.sanction_risk
        risk[[self.index(c) for c in FRAGILE if c in w.iso3]] = 1.0
        sign = {"USA": 1.0, "CHN": -1.0}.get(investor.profile.home, 0.0)
        align = sign * np.array([c.alignment for c in self.countries])
        own = self.stock[list(self.investors).index(investor.name)].sum(axis=1)
        path = _z(np.log1p(own / w.gdp * 100.0), lac)
        score = (size + p["weight_return"] * ret - p["weight_risk"] * risk
                 + p["weight_alignment"] * align + p["weight_path"] * path)
        if investor.home is not None:
            with np.errstate(divide="ignore"):
                score = score + np.log1p(-self.screening[:, investor.home])
        return np.where(lac, score, -np.inf)

    def accession_welfare(self, bloc: TradeBloc, iso3: str,
                          rules_of_origin_pct: float = 0.0) -> np.ndarray:
        """Welfare change (%) of every country if ``iso3`` joined ``bloc`` now (engine solve)."""
        new = self.index(iso3)
        partners = [self.index(m) for m in bloc.members]
        cost = self._cost_factor()
        q = self._endowment()
        now = self._solve(cost, q)
        sigma = self.params["sigma"]
        full = np.exp(-self.params["beta_rta"] / (sigma - 1.0))
        after = cost.copy()
        for a, b in [(new, m) for m in partners] + [(m, new) for m in partners]:
            after[a, b] *= (1.0 / (1.0 + self.tariff[a, b])) * (
                1.0 if self._has_agreement(a, b) else full
            )
        outsiders = np.ones(len(self.world.iso3), dtype=bool)
        outsiders[[new, *partners]] = False
        after[outsiders, new] *= 1.0 + rules_of_origin_pct / 100.0
        return (self._solve(after, q).welfare / now.welfare - 1.0) * 100.0

    # -- outcomes --------------------------------------------------------------------------

    def country_metrics(self) -> pd.DataFrame:
        """Outcomes of the current year, one row per country (index: iso3)."""
        return self._country_frame(self._records[-1]).set_index("iso3")

    def countries_frame(self) -> pd.DataFrame:
        """Outcomes of every recorded year, one row per country-year."""
        return pd.concat([self._country_frame(r) for r in self._records], ignore_index=True)

    def region_frame(self) -> pd.DataFrame:
        """Latin America & Caribbean aggregates, one row per recorded year."""
        return pd.DataFrame([{"year": r["year"], **r["region"]} for r in self._records])

    def flows_frame(self) -> pd.DataFrame:
        """Bilateral flows of every recorded year (year, exporter, importer, value), USD."""
        iso = np.array(self.world.iso3)
        n = len(iso)
        frames = [
            pd.DataFrame({"year": r["year"], "exporter": np.repeat(iso, n),
                          "importer": np.tile(iso, n), "value": r["flows"].ravel()})
            for r in self._records
        ]
        return pd.concat(frames, ignore_index=True)

    @property
    def decisions(self) -> list[dict]:
        """Every accession decision taken so far (bloc, country, gains, outcome)."""
        return [d for bloc in self.blocs.values() for d in bloc.decisions]

    # -- internals -------------------------------------------------------------------------

    def _initial_stocks(self) -> np.ndarray:
        """Base-year stocks by investor × host × sector, split by each investor's sector mix."""
        w = self.world
        stock = np.zeros((len(self.investors), len(w.iso3), len(SECTORS)))
        inv = w.investment
        for k, prof in enumerate(INVESTOR_PROFILES):
            rows = inv[(inv["source"] == prof.stock_source) & (inv["kind"] == prof.stock_kind)]
            for host, value in rows.groupby("host")["value_usd"].sum().items():
                if host in w.iso3:
                    stock[k, w.index(host)] = value * np.asarray(prof.sector_mix)
        return stock

    def _build_blocs(self) -> None:
        """Trade-bloc agents from the world's memberships; later entries are scheduled.

        Only agreements with tariff preferences count (see `policies.trade_agreements`).
        """
        m = trade_agreements(self.world.memberships)
        for name, rows in m.groupby("bloc", sort=True):
            members = {r.iso3: int(r.entry_year) for r in rows.itertuples()
                       if r.iso3 in self.world.iso3 and int(r.entry_year) <= self.start}
            for r in rows.itertuples():
                if r.iso3 in self.world.iso3 and self.start < int(r.entry_year) <= self.end:
                    self._scheduled_entries.setdefault(int(r.entry_year), []).append((r.iso3, name))
            kind = str(rows["bloc_type"].iloc[0])
            cet = None
            if kind.lower().startswith("customs union") and members:
                idx = [self.index(c) for c in members]
                outsiders = np.setdiff1d(np.arange(len(self.world.iso3)), idx)
                cet = float(self.base_tariff[np.ix_(outsiders, idx)].mean())
            self.blocs[name] = TradeBloc(self, name, kind, members,
                                         self._leader(list(members) or list(rows["iso3"])), cet)
        n = len(self.world.iso3)
        self.base_agreement = np.zeros((n, n), dtype=bool)
        for bloc in self.blocs.values():
            idx = [self.index(c) for c in bloc.members]
            self.base_agreement[np.ix_(idx, idx)] = True
        np.fill_diagonal(self.base_agreement, False)

    def _answer_tariff_increases(self, increase: np.ndarray) -> None:
        """Each country hit by a tariff increase this year answers as its agent decides."""
        if not increase.any():
            return
        hit = np.flatnonzero(increase.any(axis=1))
        answers = {i: self.countries[i].answer_tariffs(increase[i, :], increase[:, i])
                   for i in hit}
        for i, answer in answers.items():
            self.tariff[:, i] += answer  # country i's tariff on each partner's goods
        np.fill_diagonal(self.tariff, 0.0)

    def _leader(self, members: list[str]) -> str:
        for leader in ("USA", "CHN", "EUU"):
            if leader in members:
                return leader
        known = [m for m in members if m in self.world.iso3]
        return max(known, key=lambda c: self.world.gdp[self.index(c)]) if known else ""

    def _has_agreement(self, a: int, b: int) -> bool:
        return bool(self.base_agreement[a, b] or not np.isnan(self.rta_start[a, b]))

    def _liberalise(self, new: int, partners: list[int], phase_in: int | None) -> None:
        years = phase_in or self.params["rta_phase_in"]
        for a, b in [(new, m) for m in partners] + [(m, new) for m in partners]:
            if a == b:
                continue
            self.tariff[a, b] = 0.0
            if not self._has_agreement(a, b):
                self.rta_start[a, b] = self.year
                self.rta_phase_in[a, b] = years

    def agreement_phase(self) -> np.ndarray:
        """Share of the RTA effect in force for each pair's new agreement (0 where none)."""
        phase = np.clip((self.year - self.rta_start + 1.0) / self.rta_phase_in, 0.0, 1.0)
        return np.nan_to_num(phase)

    def _cost_factor(self) -> np.ndarray:
        """Trade-cost change factors t̂ relative to the base year, from every channel."""
        p, w = self.params, self.world
        sigma = p["sigma"]
        cost = (1.0 + self.tariff) / (1.0 + self.base_tariff) * self.origin_cost
        cost *= np.exp(-p["beta_rta"] / (sigma - 1.0) * self.agreement_phase())
        transport = self.stock[:, :, TRANSPORT].sum(axis=(0, 2))
        base_transport = self.bau_stock[:, :, TRANSPORT].sum(axis=(0, 2))
        infra = np.maximum(1.0 + (transport - base_transport) / (INFRA_CAPITAL_GDP * w.gdp),
                           0.5) ** (-p["nu"])
        cost *= infra[:, None] * infra[None, :]
        ties = self.stock.sum(axis=2)  # investor × host, every sector
        base_ties = self.bau_stock.sum(axis=2)
        for k, inv in enumerate(self.investors.values()):
            if inv.home is None:
                continue
            tie = ((TIE_FLOOR + ties[k] / w.gdp) / (TIE_FLOOR + base_ties[k] / w.gdp)) ** (
                -p["gamma"] / (sigma - 1.0)
            )
            cost[:, inv.home] *= tie
            cost[inv.home, :] *= tie
        np.fill_diagonal(cost, 1.0)
        return cost

    def _endowment(self) -> np.ndarray:
        """Output quantity change q̂: growth × productivity from investment × shocks."""
        productive = self.stock[:, :, PRODUCTIVE].sum(axis=(0, 2))
        base = self.bau_stock[:, :, PRODUCTIVE].sum(axis=(0, 2))
        gain = np.maximum(1.0 + self.params["kappa"] * (productive - base) / self.world.gdp, 0.5)
        return self.growth_index * gain * self.shock

    def _solve(self, cost: np.ndarray, endowment: np.ndarray) -> trade.Equilibrium:
        return trade.solve(self.world.flows, self.params["sigma"], cost, endowment,
                           reference=self.usa, initial_price=self.price)

    def _set_alignment(self, initial: bool = False) -> None:
        """Alignment follows ties: US minus China share of trade and of finance, over their sum."""
        us_t = metrics.trade_share(self.flows, self.usa)
        cn_t = metrics.trade_share(self.flows, self.china)
        us_f, cn_f = self._finance_by_home("USA"), self._finance_by_home("CHN")
        target = (TRADE_WEIGHT_IN_ALIGNMENT * _balance(us_t, cn_t)
                  + (1 - TRADE_WEIGHT_IN_ALIGNMENT) * _balance(us_f, cn_f))
        for country in self.countries:
            if initial:
                country.alignment = float(target[country.index])
            else:
                country.update_alignment(float(target[country.index]))

    def _finance_by_home(self, home: str) -> np.ndarray:
        ks = [k for k, inv in enumerate(self.investors.values()) if inv.profile.home == home]
        return self.stock[ks].sum(axis=(0, 2))

    def _record(self, real_output: np.ndarray, welfare: np.ndarray) -> None:
        w = self.world
        gdp = w.gdp * (self.equilibrium.output if self.equilibrium else 1.0)
        official = [k for k, p in enumerate(INVESTOR_PROFILES)
                    if p.home == "CHN" and p.stock_kind == "official_finance"]
        self._records.append({
            "year": self.year,
            "flows": self.flows,
            "countries": metrics.country_metrics(
                self.flows, china=self.china, usa=self.usa, gdp=gdp,
                real_gdp_index=real_output, welfare_index=welfare,
                china_finance=self._finance_by_home("CHN"),
                all_finance=self.stock.sum(axis=(0, 2)),
                china_official=self.stock[official].sum(axis=(0, 2)),
            ),
            "region": metrics.region_metrics(
                self.flows, w.is_lac, self.americas, china=self.china, usa=self.usa,
                real_gdp=real_output, base_gdp=w.gdp,
            ),
        })

    def _country_frame(self, record: dict[str, Any]) -> pd.DataFrame:
        iso = np.array(self.world.iso3)
        data = dict(record["countries"])
        data["top_export_partner"] = iso[data["top_export_partner"]]
        data["top_import_partner"] = iso[data["top_import_partner"]]
        return pd.DataFrame({"year": record["year"], "iso3": iso, **data})

    def _build_graph(self) -> nx.DiGraph:
        w = self.world
        graph = nx.DiGraph()
        for i, iso in enumerate(w.iso3):
            graph.add_node(iso, name=w.name[i], lon=float(w.lon[i]), lat=float(w.lat[i]),
                           gdp=float(w.gdp[i]), is_lac=bool(w.is_lac[i]), blocs=[])
        n = len(w.iso3)
        for i in range(n):
            for j in range(n):
                if i != j:
                    graph.add_edge(w.iso3[i], w.iso3[j], flow=float(self.flows[i, j]),
                                   tariff=float(self.tariff[i, j]),
                                   distance_km=float(w.distance_km[i, j]), shared_blocs=[])
        self._edge_views = [(graph.edges[w.iso3[i], w.iso3[j]], i, j)
                            for i in range(n) for j in range(n) if i != j]
        self._node_views = [graph.nodes[iso] for iso in w.iso3]
        self.trade_graph = graph
        self._refresh_bloc_edges()
        return graph

    def _update_graph(self) -> None:
        """Rewrite this year's flows, tariffs and GDP on the graph in place."""
        flows, tariff = self.flows, self.tariff
        for attrs, i, j in self._edge_views:
            attrs["flow"] = flows[i, j]
            attrs["tariff"] = tariff[i, j]
        gdp = self.world.gdp * self.equilibrium.output
        for i, attrs in enumerate(self._node_views):
            attrs["gdp"] = gdp[i]

    def _refresh_bloc_edges(self) -> None:
        if not hasattr(self, "_edge_views"):
            return
        member_of: dict[str, list[str]] = {iso: [] for iso in self.world.iso3}
        for bloc in self.blocs.values():
            for iso in bloc.members:
                member_of[iso].append(bloc.name)
        for iso, attrs in zip(self.world.iso3, self._node_views, strict=True):
            attrs["blocs"] = member_of[iso]
        iso3 = self.world.iso3
        for attrs, i, j in self._edge_views:
            attrs["shared_blocs"] = sorted(set(member_of[iso3[i]]) & set(member_of[iso3[j]]))


def _z(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Standardise values over the masked countries, winsorised at ±2 (outliers such as
    Guyana's oil-boom growth do not dominate a score)."""
    sub = values[mask]
    sd = sub.std()
    return np.clip((values - sub.mean()) / (sd if sd > 0 else 1.0), -2.0, 2.0)


def _balance(us: np.ndarray, china: np.ndarray) -> np.ndarray:
    total = us + china
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (us - china) / total, 0.0)
