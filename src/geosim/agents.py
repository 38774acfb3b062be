"""Mesa agents: countries, investors and trade blocs (agents decide; arrays live in the model).

Countries weigh accession offers and answer tariff increases, investors place their budgets over
hosts by a multinomial logit (`geosim.investment`), blocs hold members and rules and admit or
refuse applicants.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import mesa
import numpy as np

from geosim import investment, metrics
from geosim.investment import InvestorProfile
from geosim.policies import Application

if TYPE_CHECKING:
    from geosim.model import GeoModel

# Alignment target: weight of trade ties (the rest is finance ties). Model assumption.
TRADE_WEIGHT_IN_ALIGNMENT = 0.7


@dataclass
class Programme:
    """An earmarked investment programme: yearly budget for target hosts and sectors."""

    until: int
    budget_bn: float
    hosts: np.ndarray  # boolean mask over countries
    sectors: np.ndarray  # boolean mask over SECTORS
    incentive: float


class Country(mesa.Agent):
    """An economy: political alignment (−1 China … +1 US) and decisions on accession offers."""

    def __init__(self, model: GeoModel, index: int, iso3: str, alignment: float):
        super().__init__(model)
        self.index = index
        self.iso3 = iso3
        self.alignment = alignment

    def alignment_towards(self, leader: str) -> float:
        """Alignment with a bloc's leader: +alignment for the US, −alignment for China."""
        return {"USA": self.alignment, "CHN": -self.alignment}.get(leader, 0.0)

    def political_term(self, leader: str) -> float:
        """The pull (in welfare %) of alignment with a bloc's leader on an accession decision."""
        return self.model.params["alignment_weight_pct"] * self.alignment_towards(leader)

    def accepts(self, economic_gain_pct: float, leader: str) -> bool:
        """Accept an offer when the economic gain plus the political term reaches the threshold."""
        score = economic_gain_pct + self.political_term(leader)
        return score >= self.model.params["accept_threshold_pct"]

    def answer_tariffs(self, raised_on_me: np.ndarray, raised_by_me: np.ndarray) -> np.ndarray:
        """Tariff increases (fractions) this country sets on each partner in answer to theirs.

        It matches a share ``retaliation`` of each partner's increase on its goods this year,
        unless it already raised its own tariff on that partner this year (a reciprocal event).
        """
        share = self.model.params["retaliation"]
        return np.where(raised_by_me > 0, 0.0, share * raised_on_me)

    def update_alignment(self, target: float) -> None:
        """Move alignment part of the way towards what trade and finance ties suggest."""
        self.alignment += self.model.params["alignment_adjustment"] * (target - self.alignment)


def tariff_answers(countries: Sequence[Country], increase: np.ndarray) -> np.ndarray:
    """The tariffs (fractions, [exporter, importer]) that countries hit by this year's increases
    (``increase``, the same layout) add in answer, each as its agent decides
    (`Country.answer_tariffs`), all on the same state."""
    answers = np.zeros_like(increase)
    for i in np.flatnonzero(increase.any(axis=1)):
        answers[:, i] = countries[i].answer_tariffs(increase[i, :], increase[:, i])
    return answers


def alignment_targets(flows: np.ndarray, us_finance: np.ndarray, china_finance: np.ndarray,
                      usa: int, china: int) -> np.ndarray:
    """The alignment trade and finance ties suggest for each economy (`Country.update_alignment`
    moves towards it): US minus China share of trade, and of finance (stocks by home), each
    over their sum, weighted `TRADE_WEIGHT_IN_ALIGNMENT` to trade."""
    trade = _balance(metrics.trade_share(flows, usa), metrics.trade_share(flows, china))
    finance = _balance(us_finance, china_finance)
    return TRADE_WEIGHT_IN_ALIGNMENT * trade + (1 - TRADE_WEIGHT_IN_ALIGNMENT) * finance


def _balance(us: np.ndarray, china: np.ndarray) -> np.ndarray:
    total = us + china
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (us - china) / total, 0.0)


class Investor(mesa.Agent):
    """An investor placing a yearly budget over hosts by a multinomial logit; its sector mix in
    each host is fixed (`template.sector_mixes`: the profile's, or its recorded projects' in
    that host); programmes restrict it to their sectors."""

    def __init__(self, model: GeoModel, profile: InvestorProfile, number: int,
                 mix: np.ndarray):
        super().__init__(model)
        self.profile = profile
        self.name = profile.name
        self.number = number  # position among the model's investors (its random stream)
        self.home = model.index(profile.home) if profile.home in model.world.iso3 else None
        self.budget_bn = model.params[profile.budget_parameter]
        self.programmes: list[Programme] = []
        self.mix = mix  # host × sector, rows sum to one

    def allocate(self) -> np.ndarray:
        """Spend this year's budgets; return investment in USD by host × sector (n × sectors).

        The ordinary budget goes over all hosts, each programme's over its targets; the share
        of the money that hosts screen out is not invested (it stays outside the region).
        """
        model = self.model
        scores = self.scores()
        size, temperature = model.params["project_size_bn"], model.params["logit_temperature"]
        prob = investment.choice_probabilities(scores, temperature)
        hosts = investment.draw_projects(prob, self.budget_bn, size,
                                         model.project_uniform(self.number, 0))
        out = investment.sector_split(hosts, self.mix)
        for k, prog in enumerate(self.active_programmes(), start=1):
            prob = investment.choice_probabilities(np.where(prog.hosts, scores, -np.inf),
                                                   temperature)
            hosts = investment.draw_projects(prob, prog.budget_bn, size,
                                             model.project_uniform(self.number, k))
            out += investment.sector_split(hosts, self.mix * prog.sectors[None, :])
        if self.home is not None:
            out *= (1.0 - model.screening[:, self.home])[:, None]
        return out

    def scores(self) -> np.ndarray:
        """This year's host scores (−inf outside the region), programme incentives included."""
        model = self.model
        incentive = np.zeros(len(model.world.iso3))
        for prog in self.active_programmes():
            incentive += prog.incentive * prog.hosts
        return model.host_scores(self) + model.params["weight_incentive"] * incentive

    def active_programmes(self) -> list[Programme]:
        """Programmes still spending this year."""
        return [p for p in self.programmes if p.until >= self.model.year]


def admits(welfare_pct: np.ndarray, gdp: np.ndarray, threshold_pct: float, rule: str) -> bool:
    """Whether members admit an applicant, given each member's welfare change (%) and GDP.

    ``unanimity``: every member gains at least ``threshold_pct``; ``majority``: members holding
    more than half of the bloc's GDP do.
    """
    agree = welfare_pct >= threshold_pct
    if rule == "unanimity":
        return bool(agree.all())
    return bool(gdp[agree].sum() > 0.5 * gdp.sum())


class TradeBloc(mesa.Agent):
    """A trade agreement: members with entry years, an admission rule and pending applications.

    Members vote on an applicant with the welfare change the trade engine gives each of them
    (`admits`: ``unanimity`` by default, or a GDP-weighted ``majority``) against the parameter
    ``admission_threshold_pct``; an admitted applicant then decides whether to join
    (`Country.accepts`: economic gain plus political term against ``accept_threshold_pct``).
    """

    def __init__(self, model: GeoModel, name: str, kind: str, members: dict[str, int],
                 leader: str, external_tariff: float | None = None):
        super().__init__(model)
        self.name = name
        self.kind = kind
        self.members = dict(members)  # iso3 -> entry year
        self.leader = leader
        self.external_tariff = external_tariff  # a customs union's common external tariff
        self.rule = "unanimity"
        # A customs union whose members may not enter another agreement alone (Mercosur).
        self.joint_negotiation = False
        self.applications: list[Application] = []
        self.decisions: list[dict] = []

    def refuse_alone(self, country: str, union: TradeBloc) -> dict:
        """Record that a member of a jointly negotiating customs union cannot join alone."""
        record = {"year": self.model.year, "bloc": self.name, "country": country,
                  "joined": False, "customs_union": f"refused: member of {union.name}",
                  "reason": f"refused: {country} is in the customs union {union.name}, whose "
                            f"members negotiate trade agreements jointly "
                            f"(data/sources/customs_unions.csv); it cannot join {self.name} "
                            "alone: the whole union applies (customs_union: bloc) or it must "
                            "leave the union first"}
        self.decisions.append(record)
        return record

    def decide(self, app: Application, welfare: np.ndarray | None, new_pairs: int) -> dict:
        """Decide one application given every country's welfare change (%) if it joined.

        Returns the decision record (also kept in ``decisions``): the applicant's economic gain
        and, separately, the political term; the members' verdict; the outcome and its reason.
        """
        model, p = self.model, self.model.params
        record: dict = {"year": model.year, "bloc": self.name, "country": app.country,
                        "customs_union": ""}
        if welfare is None:
            record.update(joined=True, imposed=True,
                          reason="imposed by the scenario (decide: false)")
            self.decisions.append(record)
            return record
        i = model.index(app.country)
        members = [model.index(m) for m in self.members]
        gain = float(welfare[i])
        political = model.countries[i].political_term(self.leader)
        members_ok = admits(welfare[members], model.world.gdp[members],
                            p["admission_threshold_pct"], self.rule)
        score = gain + political
        threshold = p["accept_threshold_pct"]
        joined = members_ok and score >= threshold
        if not members_ok:
            worst = members[int(np.argmin(welfare[members]))]
            reason = (f"members refused ({self.rule}): {model.world.iso3[worst]} "
                      f"{welfare[worst]:+.3f} % < {p['admission_threshold_pct']:+.2f} %")
        else:
            verb = "joined" if joined else "declined"
            sign = ">=" if joined else "<"
            reason = (f"{verb}: economic gain {gain:+.3f} % + political term {political:+.3f} % "
                      f"{sign} threshold {threshold:+.2f} %")
            if new_pairs == 0:
                reason += (" (no new preferences: agreements with every member already; the "
                           "political term decides)")
        record.update(economic_gain_pct=gain, political_term_pct=political, score_pct=score,
                      threshold_pct=threshold, new_preferential_pairs=new_pairs,
                      members_min_gain_pct=float(welfare[members].min()) if members else 0.0,
                      members_ok=bool(members_ok), joined=bool(joined), reason=reason)
        self.decisions.append(record)
        return record


# -- customs unions whose members negotiate jointly (Mercosur, CMC Decision 32/00) -----------------

Pending = list[tuple[TradeBloc, Application]]


def union_of(iso3: str, target: TradeBloc, blocs: Iterable[TradeBloc]) -> TradeBloc | None:
    """The jointly negotiating customs union ``iso3`` belongs to, other than ``target``, or None."""
    for bloc in blocs:
        if bloc.joint_negotiation and bloc is not target and iso3 in bloc.members:
            return bloc
    return None


def customs_union_rule(pending: Pending, blocs: Iterable[TradeBloc]
                       ) -> tuple[Pending, dict[tuple[str, str], set[str]]]:
    """Members of a jointly negotiating customs union cannot join another bloc alone.

    An applicant whose whole union applies with it (every member listed, or ``customs_union:
    bloc``, which adds the union's other members as applicants) is decided with the union: all
    join or none (`settle_unions`). Otherwise it is refused (`TradeBloc.refuse_alone`). Returns
    the applications to decide and the groups {(bloc, union): countries}.
    """
    blocs = list(blocs)
    out, groups = [], {}
    applying = {(bloc.name, app.country) for bloc, app in pending}
    for bloc, app in pending:
        union = union_of(app.country, bloc, blocs)
        if union is None:
            out.append((bloc, app))
            continue
        others = [m for m in union.members
                  if m not in bloc.members and (bloc.name, m) not in applying]
        if others and app.customs_union != "bloc":
            bloc.refuse_alone(app.country, union)
            continue
        out.append((bloc, app))
        groups.setdefault((bloc.name, union.name), set()).update(
            m for m in union.members if m not in bloc.members)
        for m in others:
            out.append((bloc, dataclasses.replace(app, country=m)))
            applying.add((bloc.name, m))
    return out, groups


#: What a bloc's members weigh: every country's welfare change (%) if the applicant joined,
#: and the number of new preferential pairs its accession makes.
Gains = Callable[[TradeBloc, Application], tuple[np.ndarray, int]]


def decide_applications(blocs: Iterable[TradeBloc], gains: Gains
                        ) -> dict[str, dict[str, tuple[int | None, float]]]:
    """Decide every pending application on the same state (the order of applications does not
    matter) and clear the queues; return the newcomers each bloc admits together, {bloc:
    {iso3: (phase_in or None, rules_of_origin_pct)}}. Customs unions apply whole or not at all
    (`customs_union_rule`, `settle_unions`); ``gains`` is asked only for applications the model
    decides (``decide: true``)."""
    blocs = list(blocs)
    pending = [(bloc, app) for bloc in blocs for app in bloc.applications
               if app.country not in bloc.members]
    for bloc in blocs:
        bloc.applications = []
    pending, groups = customs_union_rule(pending, blocs)
    accepted: dict[str, dict[str, tuple[int | None, float]]] = {}
    records: dict[tuple[str, str], dict] = {}
    for bloc, app in pending:
        record = bloc.decide(app, *gains(bloc, app)) if app.decide else bloc.decide(app, None, 0)
        records[bloc.name, app.country] = record
        if record["joined"]:
            accepted.setdefault(bloc.name, {})[app.country] = (app.phase_in,
                                                               app.rules_of_origin_pct)
    settle_unions(groups, records, accepted)
    return accepted


def settle_unions(groups: dict[tuple[str, str], set[str]], records: dict[tuple[str, str], dict],
                  accepted: dict[str, dict]) -> None:
    """A union joins whole or not at all: where a member did not join, none does; every
    member's decision record says which (`customs_union`, and the reason)."""
    for (name, union), countries in groups.items():
        out = sorted(c for c in countries if c not in accepted.get(name, {}))
        for c in countries:
            records[name, c]["customs_union"] = f"with {union}: " + (
                f"not joined, {', '.join(out)} did not" if out else "joined together")
            if out and records[name, c]["joined"]:
                records[name, c]["joined"] = False
                records[name, c]["reason"] += (f"; not joined: {union} joins whole or not at all "
                                               f"and {', '.join(out)} did not join")
                del accepted[name][c]


def fta_parties(countries: list[str], bloc: TradeBloc, blocs: Iterable[TradeBloc]) -> list[str]:
    """The parties of a new agreement that may enter it: a member of a jointly negotiating union
    whose partners are not all parties is refused (recorded on ``bloc``)."""
    blocs = list(blocs)
    parties = []
    for iso in countries:
        union = union_of(iso, bloc, blocs)
        if union is not None and not set(union.members) <= set(countries):
            bloc.refuse_alone(iso, union)
        else:
            parties.append(iso)
    return parties
