"""GeoModel: the agent-based model of trade and investment in the Americas (a `mesa.Model`).

Owns the yearly state (endowments, investment stocks, alignment) and the levers policies pull;
investment effects are measured against a business-as-usual reference (`geosim.references`).
Tariffs and agreements live in `geosim.agreements`, the choice model and effects of investment
in `geosim.investment`, observed output paths and the China × Latin America trend in
`geosim.drivers`, the trade graph in `geosim.graph`, the record of outcomes in
`geosim.records`, what every model of a world starts from in `geosim.template`.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping

import mesa
import networkx as nx
import numpy as np
import pandas as pd

from geosim import drivers, investment, references, trade
from geosim.agents import (
    Country,
    Gains,
    Investor,
    Programme,
    TradeBloc,
    alignment_targets,
    decide_applications,
    fta_parties,
    tariff_answers,
)
from geosim.agreements import AgreementState
from geosim.data import World, joint_negotiation_unions, load_world
from geosim.engine import engine_for, sector_shares
from geosim.graph import TradeGraph
from geosim.investment import INVESTOR_PROFILES, PRODUCTIVE, TRANSPORT
from geosim.parameters import resolve
from geosim.policies import SECTORS, Application
from geosim.records import Records
from geosim.scenario import Scenario, ScenarioError, load_scenario
from geosim.template import leader, template_for


class GeoModel(mesa.Model):
    """Country, investor and trade-bloc agents on a trade graph, moved by a scenario's policies.

    One year is one ``step()``, in this order (DESIGN §6):

    1. Scheduled policies for this year fire (the scenario's timeline; memberships the data dates
       after the base year enter on time).
    2. Blocs decide this year's applications, all on the same state (the order of applications
       does not matter), and admit the accepted applicants together; countries answer tariff
       increases made against them this year (retaliation).
    3. Investors place their budgets; stocks depreciate and grow. The business-as-usual
       reference (the same model without the scenario's policies, same seed) does the same.
    4. Countries update endowments (baseline growth, productivity from investment above business
       as usual, shocks) and trade costs (tariffs, agreements phasing in, the China × Latin
       America trend, transport infrastructure, FDI ties).
    5. The trade engine solves the year's equilibrium; the trade graph's edges are rewritten
       (once someone has read `trade_graph`).
    6. The year's outcomes are recorded.

    Args:
        scenario: a `Scenario`, or the name or path of a scenario file (default ``baseline``).
        parameters: overrides of the parameter table, applied over the scenario's.
        seed: seed of the model's random streams (every random draw comes from it).
        world: the base-year world (default: the embedded world of the scenario's start year).
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
        self.world = world or load_world(self.scenario_spec.start)
        self.seed = seed
        self.entropy = seed if seed is not None else int(np.random.SeedSequence().entropy % 2**63)
        w = self.world
        n = len(w.iso3)
        self.start, self.end = self.scenario_spec.start, self.scenario_spec.end
        self.year = self.start
        self.china, self.usa = w.index("CHN"), w.index("USA")
        self.americas = w.is_lac.copy()
        self.americas[[self.usa] + ([w.index("CAN")] if "CAN" in w.iso3 else [])] = True

        # Endowment and trade-cost state relative to the base year.
        self.growth_index = np.ones(n)
        self.output_adjustment = np.ones(n)  # what meets an observed output path
        self.output_paths = drivers.OutputPaths(w, self.start)
        self.output_target: dict[int, float] = {}  # index -> nominal output factor this year
        self.shock = np.ones(n)
        self.screening = np.zeros((n, n))  # share blocked, host × source home
        self.price = np.ones(n)
        self._last_price = self.price
        self.real_output = np.ones(n)
        self.market_access = np.ones(n)  # change in each economy's foreign market access
        self.flows = np.array(w.flows, dtype=float)
        self.equilibrium: trade.Equilibrium | None = None
        # the world by sector (Caliendo-Parro), unless engine_sectors = 0 or it has no sectors
        self._engine = (engine_for(w, int(self.params["sector_elasticities"]),
                                   self.params["import_nest"])
                        if self.params["engine_sectors"] else None)
        self.sector_equilibrium: trade.SectorEquilibrium | None = None
        self._last_sectoral: trade.SectorEquilibrium | None = None

        self.countries = [Country(self, i, iso, 0.0) for i, iso in enumerate(w.iso3)]
        self._template = template_for(w, self.start, self.end)
        self.investors = {p.name: Investor(self, p, k, self._template.sector_mix[k])
                          for k, p in enumerate(INVESTOR_PROFILES)}
        self._sources = {}  # source economy index -> its investors' positions
        for k, inv in enumerate(self.investors.values()):
            if inv.home is not None:
                self._sources.setdefault(inv.home, []).append(k)
        self.stock = self._template.stock.copy()
        self.blocs: dict[str, TradeBloc] = {}
        self._scheduled_entries: dict[int, list[tuple[str, str]]] = {}
        self.agreements = AgreementState(w.tariff, self._build_blocs(), sector_shares(w),
                                         w.sectors)
        self._events: dict[int, list] = {}
        for event in self.scenario_spec.events:
            self._events.setdefault(event.year, []).append(event)
        # Investment effects act on the stock above what the same model gives without the
        # scenario's policies (same seed): with no policy they are exactly zero.
        self.reference = references.business_as_usual(self, GeoModel)

        self._graph: TradeGraph | None = None  # built when first read (see `trade_graph`)
        self._scoring: tuple[np.ndarray, ...] | None = None  # while investors allocate
        self.records = Records(w, self.americas, finance_by_home=self._template.by_home,
                               china_official=self._template.china_official)
        # Seconds spent per phase over all steps (engine, agents and state updates, recording).
        self.timings = {"engine_s": 0.0, "agents_s": 0.0, "record_s": 0.0}
        self._set_alignment(initial=True)
        self._stock_by_year = {self.year: self.stock}
        self.records.add(self.year, self.flows, self._nominal_gdp(), self.real_output,
                         self.real_output, self.stock, self.sector_flows())

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
        self.output_target = self.output_paths.targets(self.year)
        self._decide_applications()  # 2. applications, tariff responses
        increase = np.maximum(self.tariff - tariff_before, 0.0)
        if increase.any():  # countries hit by increases answer them
            tariff = self.tariff  # in place: the agreements' array
            tariff += tariff_answers(self.countries, increase)
            np.fill_diagonal(tariff, 0.0)
        self._scoring = self._common_scores()  # 3. investment (shared terms fixed meanwhile)
        invest = np.stack([inv.allocate() for inv in self.investors.values()])
        self._scoring = None
        self.stock = (1.0 - self.params["delta"]) * self.stock + invest
        self._stock_by_year[self.year] = self.stock
        self.growth_index *= 1.0 + self.world.growth + self.params["growth_shift_pp"] / 100.0
        cost = self._cost_factor()  # 4. endowments and trade costs
        endowment = self._endowment()
        t1 = time.perf_counter()
        eq = self._solve_year(cost, endowment)  # 5. equilibrium
        t2 = time.perf_counter()
        self._last_price = self.price
        self.equilibrium, self.price, self.flows = eq, eq.price, eq.flows
        self.sector_equilibrium = self._last_sectoral
        self.real_output = eq.real_output
        self.market_access = self._foreign_market_access(cost, eq)
        if self._graph is not None:  # someone looks at the graph: keep it current
            self._graph.update(self.flows, self.tariff, self._nominal_gdp())
        self._set_alignment()
        t3 = time.perf_counter()
        self.records.add(self.year, self.flows, self._nominal_gdp(), eq.real_output,  # 6.
                         eq.welfare, self.stock, self.sector_flows())
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

    @property
    def trade_graph(self) -> nx.DiGraph:
        """The trade graph: countries as nodes (name, lon, lat, gdp, blocs), directed edges with
        this year's flow, tariff, distance and shared blocs. Built when first read, then
        rewritten in place every year (models nobody looks at skip it)."""
        if self._graph is None:
            self._graph = TradeGraph(self.world)
            self._graph.set_blocs(self.blocs.values())
            self._graph.update(self.flows, self.tariff, self._nominal_gdp())
        return self._graph.graph

    @property
    def tariff(self) -> np.ndarray:
        """Current applied tariffs τ[i, j] (importer j on goods from i), fractions."""
        return self.agreements.tariff

    @property
    def origin_cost(self) -> np.ndarray:
        """Rules-of-origin cost factors on imports (exporter × importer)."""
        return self.agreements.origin_cost

    def agreement_phase(self) -> np.ndarray:
        """Share of each new agreement's non-tariff effect in force this year (0 where none)."""
        return self.agreements.phase(self.year)

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
        """Make a country a member (see `admit`)."""
        self.admit(bloc, {iso3: (phase_in, rules_of_origin_pct)})

    def admit(self, bloc: TradeBloc, newcomers: Mapping[str, tuple[int | None, float]]) -> None:
        """Admit newcomers together: {iso3: (phase_in or None, rules_of_origin_pct)}.

        Tariffs to zero with every member, the non-tariff part of the RTA effect phases in, a
        customs union's newcomers adopt its external tariff (`AgreementState.admit`).
        """
        fresh = {iso: v for iso, v in newcomers.items() if iso not in bloc.members}
        if not fresh:
            return
        members = [self.index(m) for m in bloc.members]
        years = {self.index(iso): phase or self.params["rta_phase_in"]
                 for iso, (phase, _) in fresh.items()}
        origin = {self.index(iso): roo for iso, (_, roo) in fresh.items()}
        self.agreements.admit(years, origin, members, self.year, beta=self.params["beta_rta"],
                              sigma=self.params["sigma"], external_tariff=bloc.external_tariff)
        for iso in sorted(fresh):
            bloc.members[iso] = self.year
        if self._graph is not None:
            self._graph.set_blocs(self.blocs.values())

    def create_agreement(self, name: str, countries: list[str], phase_in: int | None) -> None:
        """A new agreement among the countries: every pair liberalised from this year."""
        if name not in self.blocs:
            self.blocs[name] = TradeBloc(self, name, "FTA", {}, leader(self.world, countries))
        parties = fta_parties(countries, self.blocs[name], self.blocs.values())
        if len(parties) > 1:
            self.admit(self.blocs[name], {iso: (phase_in, 0.0) for iso in parties})

    def set_tariffs(self, importers: list[str], exporters: list[str], rate_pct: float | None,
                    change_pp: float | None, sectors: list[str] | None = None) -> None:
        """Importers set (rate) or shift (change, percentage points) their tariff on exporters,
        on every good or (change only) on some goods sectors."""
        if sectors:
            self.agreements.set_sector_tariffs(
                [self.index(c) for c in exporters], [self.index(c) for c in importers],
                change_pp / 100.0, sectors, by_sector=self._engine is not None)
            return
        self.agreements.set_tariffs(
            [self.index(c) for c in exporters], [self.index(c) for c in importers],
            None if rate_pct is None else rate_pct / 100.0,
            None if change_pp is None else change_pp / 100.0)

    def add_programme(self, *, investor: str, until: int, budget_bn: float, hosts: list[str],
                      sectors: tuple[str, ...], incentive: float) -> None:
        """Start an earmarked investment programme for an investor (hosts in the region)."""
        host_mask = np.zeros(len(self.world.iso3), dtype=bool)
        host_mask[[self.index(h) for h in hosts]] = True
        host_mask &= self.world.is_lac
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

    def add_output_path(self, countries: list[str], until: int) -> None:
        """From this year to ``until``, the countries' nominal output follows observed GDP
        (World Bank, current USD, relative to the start year)."""
        self.output_paths.add([self.index(c) for c in countries], until)

    # -- what agents ask of the model ------------------------------------------------------

    def project_uniform(self, investor: int, stream: int) -> float:
        """The common random number placing an investor's budget this year (see
        `investment.project_uniform`)."""
        return investment.project_uniform(self.entropy, self.year, investor, stream)

    def host_scores(self, investor: Investor) -> np.ndarray:
        """Logit scores of each host for an investor (before incentives); −inf outside LAC.

        Market size (real GDP from the engine) enters in logs with weight one: at temperature
        one a neutral investor's budget is shared in proportion to real GDP. Foreign market
        access from the engine (tariffs faced, agreements, partners' demand and prices), growth
        prospects, political risk, alignment and path dependence shift it.
        """
        p, lac = self.params, self.world.is_lac
        common, alignment, gdp = self._scoring or self._common_scores()
        risk = self._template.risk[investor.number]
        sign = {"USA": 1.0, "CHN": -1.0}.get(investor.profile.home, 0.0)
        align = sign * alignment
        own = self.stock[investor.number].sum(axis=1)
        path = investment.zscore(np.log1p(own / gdp * 100.0), lac)
        score = (common - p["weight_risk"] * risk + p["weight_alignment"] * align
                 + p["weight_path"] * path)
        return np.where(lac, score, -np.inf)

    def _common_scores(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What every investor's host scores share this year: market size, access and growth
        terms; alignments; current GDP."""
        p, w = self.params, self.world
        real_gdp = w.gdp * self.real_output
        size = np.log(real_gdp / real_gdp[w.is_lac].sum())
        access = np.log(self.market_access)
        ret = self._template.growth_score
        common = size + p["weight_access"] * access + p["weight_return"] * ret
        return common, np.array([c.alignment for c in self.countries]), self._gdp_now()

    def bau_stock(self) -> np.ndarray:
        """This year's business-as-usual stocks (investor × host × sector, USD)."""
        if self.reference is None:
            return self.stock
        return self.reference.stock_at(self.year)

    def stock_at(self, year: int) -> np.ndarray:
        """Stocks at the end of ``year`` (steps the model forward if it has not got there)."""
        self.run(year)
        return self._stock_by_year[year]

    # -- outcomes --------------------------------------------------------------------------

    def country_metrics(self) -> pd.DataFrame:
        """Outcomes of the current year, one row per country (index: iso3)."""
        return self.records.country_metrics()

    def countries_frame(self, until: int | None = None) -> pd.DataFrame:
        """Outcomes of every recorded year (up to ``until``), one row per country-year."""
        return self.records.countries_frame(until)

    def region_frame(self, until: int | None = None) -> pd.DataFrame:
        """Latin America & Caribbean aggregates, one row per recorded year (up to ``until``)."""
        return self.records.region_frame(until)

    def flows_frame(self, until: int | None = None) -> pd.DataFrame:
        """Bilateral flows of every recorded year (year, exporter, importer, value), USD."""
        return self.records.flows_frame(until)

    @property
    def decisions(self) -> list[dict]:
        """Every accession decision taken so far (bloc, country, gains, outcome, reason)."""
        return sorted((d for bloc in self.blocs.values() for d in bloc.decisions),
                      key=lambda d: (d["year"], d["bloc"], d["country"]))

    # -- internals -------------------------------------------------------------------------

    def _build_blocs(self) -> np.ndarray:
        """Trade-bloc agents from the world's memberships (derived once per world, see
        `template.template_for`); later entries are scheduled. Returns the pairs that share an
        agreement in the base year."""
        joint = joint_negotiation_unions()
        for name, kind, members, head, cet in self._template.blocs:
            self.blocs[name] = TradeBloc(self, name, kind, members, head, cet)
            self.blocs[name].joint_negotiation = name in joint
        self._scheduled_entries = {y: list(v) for y, v in self._template.scheduled.items()}
        return self._template.agreed

    def _decide_applications(self) -> None:
        """Blocs decide this year's applications (`agents.decide_applications`) on the same
        state; the accepted are admitted together."""
        for name, newcomers in decide_applications(self.blocs.values(),
                                                   self._accession_gains()).items():
            self.admit(self.blocs[name], newcomers)

    def _accession_gains(self) -> Gains:
        """Every country's welfare change (%) if an applicant joined a bloc, each against this
        year's equilibrium before accessions (solved once, when first asked), and the new
        preferential pairs it would make."""
        @functools.cache
        def today() -> tuple:
            cost, q = self._cost_factor(), self._endowment()
            return cost, q, self._solve_year(cost, q), self.agreements.has_agreement()

        def gains(bloc: TradeBloc, app: Application) -> tuple[np.ndarray, int]:
            p = self.params
            cost, q, before, agreed = today()
            new = self.index(app.country)
            members = [self.index(m) for m in bloc.members]
            after = self.agreements.accession_cost(
                cost, new, members, beta=p["beta_rta"], sigma=p["sigma"],
                phase_in=app.phase_in or p["rta_phase_in"], external_tariff=bloc.external_tariff,
                rules_of_origin_pct=app.rules_of_origin_pct)
            welfare = (self._solve(after, q, before.price).welfare / before.welfare - 1.0) * 100.0
            fresh = sum(not agreed[new, m] or self.tariff[new, m] > 0 or self.tariff[m, new] > 0
                        for m in members if m != new)
            return welfare, fresh

        return gains

    def sector_flows(self) -> np.ndarray | None:
        """This year's flows by sector [sector, exporter, importer] (USD of the numeraire), or
        None with one sector."""
        if self._engine is None:
            return None
        eq = self.sector_equilibrium
        return self.world.sector_flows if eq is None else eq.flows

    def sectors_frame(self, until: int | None = None) -> pd.DataFrame | None:
        """Outcomes by sector per year (economies and the region), or None with one sector."""
        return self.records.sectors_frame(until)

    def _nominal_gdp(self) -> np.ndarray:
        """This year's nominal GDP (USD of the numeraire)."""
        return self.world.gdp * (self.equilibrium.output if self.equilibrium else 1.0)

    def _gdp_now(self) -> np.ndarray:
        """This year's real GDP on its exogenous path (base-year USD): what investment effects
        are measured against."""
        return self.world.gdp * self.growth_index * self.output_adjustment * self.shock

    def _cost_factor(self) -> np.ndarray:
        """Trade-cost change factors t̂ relative to the base year, from every channel."""
        p = self.params
        sigma = p["sigma"]
        cost = self.agreements.cost_factor(self.year, sigma)
        cost *= drivers.trend_factor(self.world, self.china, p, self.start, self.year)
        if self.reference is None:  # stocks are business as usual: no infrastructure, no tie
            np.fill_diagonal(cost, 1.0)
            return cost
        gdp = self._gdp_now()
        bau = self.bau_stock()
        infra = investment.infrastructure_factor(
            (self.stock - bau)[:, :, TRANSPORT].sum(axis=(0, 2)), gdp, p["nu"])
        cost *= infra[:, None] * infra[None, :]
        if p["gamma"] != 0:  # one tie rule for every source's stock (`investment.tie_factor`)
            for source, ks in self._sources.items():
                tie = investment.tie_factor(self.stock[ks].sum(axis=(0, 2)),
                                            bau[ks].sum(axis=(0, 2)), gdp, p["gamma"], sigma)
                cost[:, source] *= tie
                cost[source, :] *= tie
        np.fill_diagonal(cost, 1.0)
        return cost

    def _foreign_market_access(self, cost: np.ndarray, eq: trade.Equilibrium) -> np.ndarray:
        """Change in each economy's foreign market access since the base year:
        Σ_j≠i (X⁰_ij / X⁰_i) t̂_ij^(1−σ) P̂_j^(σ−1) Ê_j / Ê_world (Redding & Venables 2004; the
        home market is in the investors' market-size term)."""
        sigma = self.params["sigma"]
        t = self._template
        weights = t.access_weights
        world = (eq.expenditure * t.absorption).sum() / t.total_flows
        demand = eq.imr ** (sigma - 1.0) * eq.expenditure / world
        return (weights * cost ** (1.0 - sigma)) @ demand

    def _endowment(self) -> np.ndarray:
        """Output quantity change q̂: growth × productivity from investment × shocks (by sector,
        productivity is the sector's: `_productivity`)."""
        exogenous = self.growth_index * self.output_adjustment * self.shock
        if self._engine is not None or self.reference is None:  # by sector; no extra stock
            return exogenous
        extra = (self.stock - self.bau_stock())[:, :, PRODUCTIVE].sum(axis=(0, 2))
        return exogenous * investment.productivity_factor(extra, self._gdp_now(),
                                                          self.params["kappa"])

    def _productivity(self) -> np.ndarray:
        """Sector productivity ẑ[host, sector] from stocks above business as usual."""
        extra = (self.stock - self.bau_stock()).sum(axis=0)
        return self._engine.productivity(extra, self._gdp_now() / self.world.gdp,
                                         self.params["kappa"])

    def _solve(self, cost: np.ndarray, endowment: np.ndarray,
               initial_price: np.ndarray | None = None) -> trade.Equilibrium:
        start = self._price_guess() if initial_price is None else initial_price
        if self._engine is None:
            return trade.solve(self.world.flows, self.params["sigma"], cost, endowment,
                               reference=self.usa, initial_price=start)
        shock = self._engine.shock(cost, self.tariff, self.params["sigma"], endowment,
                                   self._productivity(), self.agreements.sector_extra)
        eq, self._last_sectoral = self._engine.solve(
            shock, reference=self.usa, initial_price=start, last=self._last_sectoral,
            delta=self._engine.demand_shift(self.year, self.params))
        return eq

    def _price_guess(self) -> np.ndarray:
        """This year's factor prices extrapolated from the last two years (the solver's start)."""
        return self.price * np.clip(self.price / self._last_price, 0.9, 1.1)

    def _solve_year(self, cost: np.ndarray, endowment: np.ndarray) -> trade.Equilibrium:
        """This year's equilibrium; where output paths are set, endowments are adjusted until
        nominal output meets them. A failure names the scenario and this year's events."""
        try:
            eq = self._solve(cost, endowment)
            eq, applied = drivers.meet_output_targets(
                lambda q, warm: self._solve(cost, q, warm.price), eq, endowment,
                self.output_target, self.params["sigma"])
            self.output_adjustment *= applied
            return eq
        except trade.ConvergenceError as exc:
            spec = self.scenario_spec
            fired = [e.id or e.type for e in self._events.get(self.year, [])]
            raise ScenarioError(
                f"{spec.path or spec.name}: the trade equilibrium of {self.year} did not converge "
                f"(events of that year: {', '.join(fired) or 'none'}; parameters.sigma = "
                f"{self.params['sigma']:g}): {exc}") from None

    def _set_alignment(self, initial: bool = False) -> None:
        """Alignment follows ties: US minus China share of trade and of finance, over their sum."""
        target = alignment_targets(self.flows, self._finance_by_home("USA"),
                                   self._finance_by_home("CHN"), self.usa, self.china)
        for country in self.countries:
            if initial:
                country.alignment = float(target[country.index])
            else:
                country.update_alignment(float(target[country.index]))

    def _finance_by_home(self, home: str) -> np.ndarray:
        return self.stock[self._template.by_home[home]].sum(axis=(0, 2))

