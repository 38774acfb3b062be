"""Mesa agents: countries, investors and trade blocs (agents decide; arrays live in the model).

Countries weigh accession offers, investors allocate budgets by a multinomial logit over
host × sector, blocs hold members and rules and admit or refuse applicants.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import mesa
import numpy as np

from geosim.policies import SECTORS, Application

if TYPE_CHECKING:
    from geosim.model import GeoModel

# Sectors and the channel through which their stock acts on the host (DESIGN §5); every
# sector's stock ties host and home (FDI-trade complementarity, γ).
PRODUCTIVE = tuple(SECTORS.index(s) for s in ("renewables", "technology", "manufacturing"))
TRANSPORT = (SECTORS.index("transport"),)


@dataclass(frozen=True)
class InvestorProfile:
    """Who an investor is: home economy, budget parameter, data stock and sector mix."""

    name: str
    home: str
    budget_parameter: str
    stock_source: str
    stock_kind: str
    sector_mix: tuple[float, ...]  # in the order of SECTORS
    mix_source: str
    sanction_risk: float  # weight of sanctions risk in its host scores (1 = full)


# Sector mixes are approximate portfolio compositions; they matter only through the channels above.
INVESTOR_PROFILES = (
    InvestorProfile("us_public", "USA", "us_public_bn", "USA", "official_finance",
                    (0.30, 0.15, 0.15, 0.10, 0.10, 0.20),
                    "DFC annual report portfolio by sector (approximate)", 1.0),
    InvestorProfile("us_private", "USA", "us_private_bn", "USA", "fdi",
                    (0.10, 0.20, 0.10, 0.20, 0.05, 0.35),
                    "BEA US direct investment position in Latin America by industry (approximate)",
                    1.0),
    InvestorProfile("china_policy_banks", "CHN", "china_lending_bn", "CHN", "official_finance",
                    (0.05, 0.02, 0.25, 0.60, 0.03, 0.05),
                    "IAD/BU China-Latin America Finance Database: energy ≈ 2/3, infrastructure "
                    "≈ 1/5 of lending (approximate)", 0.0),
    InvestorProfile("china_state_firms", "CHN", "china_fdi_bn", "CHN", "fdi",
                    (0.20, 0.10, 0.15, 0.40, 0.10, 0.05),
                    "Monitor OFDI China-LAC (RED ALC-China): raw materials and energy lead "
                    "(approximate)", 0.0),
    InvestorProfile("eu_private", "EUU", "eu_private_bn", "EUU", "fdi",
                    (0.25, 0.15, 0.10, 0.15, 0.10, 0.25),
                    "ECLAC FDI report: EU investors in renewables, telecoms, manufacturing "
                    "(approximate)", 0.5),
)

# Model assumption: hosts under comprehensive US sanctions programmes (OFAC: Venezuela, Cuba,
# Nicaragua) carry full political risk for Western investors; Haiti's instability for everyone.
SANCTIONED = ("VEN", "CUB", "NIC")
FRAGILE = ("HTI",)


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

    def accepts(self, welfare_gain_pct: float, leader: str) -> bool:
        """Accept an accession offer when welfare gain plus the pull of alignment is enough."""
        p = self.model.params
        score = welfare_gain_pct + p["alignment_weight_pct"] * self.alignment_towards(leader)
        return score >= p["accept_threshold_pct"]

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


class Investor(mesa.Agent):
    """An investor allocating a yearly budget over host × sector by a multinomial logit."""

    def __init__(self, model: GeoModel, profile: InvestorProfile):
        super().__init__(model)
        self.profile = profile
        self.name = profile.name
        self.home = model.index(profile.home) if profile.home in model.world.iso3 else None
        self.budget_bn = model.params[profile.budget_parameter]
        self.programmes: list[Programme] = []
        self.log_mix = np.log(np.asarray(profile.sector_mix))

    def allocate(self) -> np.ndarray:
        """Spend this year's budgets; return investment in USD by host × sector (n × sectors)."""
        scores = self.scores()  # −inf outside the region
        invest = self._spend(scores, self.budget_bn)
        for prog in self.active_programmes():
            mask = np.outer(prog.hosts, prog.sectors) & np.isfinite(scores)
            invest += self._spend(np.where(mask, scores, -np.inf), prog.budget_bn)
        return invest

    def choice_probabilities(self, scores: np.ndarray) -> np.ndarray:
        """Multinomial-logit probabilities of host × sector at the model's temperature."""
        z = scores / self.model.params["logit_temperature"]
        z = np.exp(z - z[np.isfinite(z)].max())
        return z / z.sum()

    def scores(self) -> np.ndarray:
        """This year's host × sector scores for the ordinary budget (incentives included)."""
        model = self.model
        incentive = np.zeros((len(model.world.iso3), len(SECTORS)))
        for prog in self.active_programmes():
            incentive += prog.incentive * np.outer(prog.hosts, prog.sectors)
        return (model.host_scores(self)[:, None] + self.log_mix[None, :]
                + model.params["weight_incentive"] * incentive)

    def active_programmes(self) -> list[Programme]:
        """Programmes still spending this year."""
        return [p for p in self.programmes if p.until >= self.model.year]

    def _spend(self, scores: np.ndarray, budget_bn: float) -> np.ndarray:
        """Draw projects of `project_size_bn` from the logit choice probabilities."""
        out = np.zeros(scores.shape)
        if budget_bn <= 0 or not np.isfinite(scores).any():
            return out
        prob = self.choice_probabilities(scores).ravel()
        size = self.model.params["project_size_bn"]
        projects = int(budget_bn // size)
        counts = self.model.rng.multinomial(projects, prob) if projects else np.zeros(prob.size)
        remainder = budget_bn - projects * size  # spread like the expected allocation
        return ((counts * size + remainder * prob) * 1e9).reshape(scores.shape)


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
    ``admission_threshold_pct``; an admitted applicant then decides whether to join.
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
        self.applications: list[Application] = []
        self.decisions: list[dict] = []

    def process_applications(self) -> None:
        """Vote on every pending application; admitted applicants decide whether to join."""
        model = self.model
        pending, self.applications = self.applications, []
        for app in pending:
            iso = app.country
            if iso in self.members:
                continue
            record = {"year": model.year, "bloc": self.name, "country": iso}
            if app.decide:
                welfare = model.accession_welfare(self, iso, app.rules_of_origin_pct)
                members = [model.index(m) for m in self.members]
                members_ok = admits(welfare[members], model.world.gdp[members],
                                    model.params["admission_threshold_pct"], self.rule)
                applicant = model.countries[model.index(iso)]
                accepted = members_ok and applicant.accepts(welfare[model.index(iso)], self.leader)
                record.update(applicant_gain_pct=float(welfare[model.index(iso)]),
                              members_ok=bool(members_ok), joined=bool(accepted))
            else:
                accepted = True
                record.update(joined=True, imposed=True)
            self.decisions.append(record)
            if accepted:
                model.join(self, iso, app.phase_in, app.rules_of_origin_pct)
