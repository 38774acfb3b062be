"""Scenario policies: the events a scenario schedules, each a small class registered by its name.

Each policy declares its fields (type, default, check) for the scenario schema and applies itself
to a model through the model's public levers; it never reaches into the model's arrays.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import pandas as pd

INVESTORS = ("us_public", "us_private", "china_policy_banks", "china_state_firms", "eu_private")
SECTORS = ("renewables", "technology", "transport", "mining_energy", "agriculture", "manufacturing")
COUNTRY_GROUPS = ("LAC", "ALL")
ADMISSION_RULES = ("unanimity", "majority")
# What a member of a customs union that negotiates jointly (Mercosur) does when it applies to
# another bloc: it is refused alone, or its whole union applies with it (all or none).
CUSTOMS_UNION_CHOICES = ("refuse", "bloc")


@dataclass(frozen=True)
class Application:
    """A country's application to a bloc, as a `bloc_accession` event makes it."""

    country: str
    phase_in: int | None = None
    decide: bool = True
    rules_of_origin_pct: float = 0.0
    customs_union: str = "refuse"  # see CUSTOMS_UNION_CHOICES


@dataclass(frozen=True)
class Field:
    """One field of a policy: its kind, whether it is required, its default and a value check.

    Kinds: ``int``, ``float``, ``bool``, ``str``, ``countries`` (ISO3 codes or groups),
    ``investor``, ``sectors``, ``bloc``.
    """

    name: str
    kind: str
    required: bool = True
    default: Any = None
    check: Callable[[Any], str | None] | None = None
    doc: str = ""


def non_negative(value: float) -> str | None:
    """Check used by fields that cannot be negative."""
    return None if value >= 0 else "a value >= 0"


def positive(value: float) -> str | None:
    """Check used by fields that must be strictly positive."""
    return None if value > 0 else "a value > 0"


def fraction(value: float) -> str | None:
    """Check used by shares in [0, 1]."""
    return None if 0 <= value <= 1 else "a share between 0 and 1"


def tariff_cut(value: float) -> str | None:
    """Check of a tariff change: a cut of more than 100 pp is larger than any tariff (the
    shipped worlds' highest applied rate is 21 %), a typo rather than a choice."""
    return None if value >= -100 else "a change of at least -100 (pp); rate_pct: 0 removes a tariff"


def event_id(value: str) -> str | None:
    """Check of an event id: a name a sweep can address as `events.<id>.<field>`."""
    ok = bool(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]{0,63}", value))
    return None if ok else ("a name of letters, digits, '_' and '-' (no dots: sweeps address "
                            "events.<id>.<field>), at most 64 characters")


YEAR = Field("year", "int", doc="year the event takes effect (after the start year)")
ID = Field("id", "str", required=False, check=event_id,
           doc="name used to address the event in sweeps (letters, digits, _ and -)")

REGISTRY: dict[str, type[Policy]] = {}


def register(cls: type[Policy]) -> type[Policy]:
    """Class decorator: make a policy available to scenario files under ``cls.type``."""
    REGISTRY[cls.type] = cls
    return cls


class Policy:
    """Base class: a scheduled event with validated field values (``self.values``)."""

    type: ClassVar[str]
    summary: ClassVar[str]
    fields: ClassVar[tuple[Field, ...]]
    # A policy is what a scenario chooses; the business-as-usual reference drops it. Events that
    # describe what happened anyway (observed output paths) are not policies.
    policy: ClassVar[bool] = True

    def __init__(self, values: dict[str, Any]):
        self.values = dict(values)

    @property
    def year(self) -> int:
        """Year the policy fires."""
        return int(self.values["year"])

    @property
    def id(self) -> str | None:
        """The event's id, if the scenario gave one."""
        return self.values.get("id")

    def __getattr__(self, name: str) -> Any:
        """Field values as attributes; an optional field left out reads as None."""
        if name in {f.name for f in type(self).fields}:
            return self.__dict__["values"].get(name)
        raise AttributeError(name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.values})"

    def apply(self, model: Any) -> None:
        """Change the model's state; called in step 1 of the year ``self.year``."""
        raise NotImplementedError


@register
class BlocAccession(Policy):
    """Countries apply to join an existing trade bloc; members vote unless ``decide`` is false."""

    type = "bloc_accession"
    summary = "countries apply to join a bloc (tariffs to zero, RTA effect phased in)"
    fields = (
        ID, YEAR,
        Field("bloc", "bloc", doc="bloc name as in the world's memberships (e.g. USMCA)"),
        Field("countries", "countries", doc="applicants (ISO3 codes)"),
        Field("phase_in", "int", required=False, check=positive,
              doc="years to phase in the RTA effect (default: parameter rta_phase_in)"),
        Field("decide", "bool", required=False, default=True,
              doc="members vote and applicants weigh the offer; false imposes the accession"),
        Field("rule", "str", required=False,
              check=lambda v: None if v in ADMISSION_RULES else "unanimity or majority",
              doc="the bloc's admission rule from now on: unanimity (default) or majority "
                  "(members holding most of the bloc's GDP gain enough)"),
        Field("rules_of_origin_pct", "float", required=False, default=0.0, check=non_negative,
              doc="ad-valorem cost on the newcomer's imports from non-members (third-country "
                  "content); NAFTA compliance costs ≈ 6 % (Anson et al. 2005, approximate)"),
        Field("customs_union", "str", required=False, default="refuse",
              check=lambda v: None if v in CUSTOMS_UNION_CHOICES else "refuse or bloc",
              doc="an applicant in a customs union whose members negotiate jointly (Mercosur, "
                  "CMC Decision 32/00): `refuse` (it cannot join alone; decisions.csv says so) "
                  "or `bloc` (the whole union applies and joins only if every member does)"),
    )

    def apply(self, model: Any) -> None:
        for iso in model.resolve_countries(self.countries):
            model.submit_application(
                self.bloc, Application(iso, self.phase_in, self.decide,
                                       float(self.rules_of_origin_pct),
                                       self.customs_union or "refuse"), self.rule)


@register
class FreeTradeAgreement(Policy):
    """A new agreement among the listed countries (every pair liberalised)."""

    type = "fta"
    summary = "new free-trade agreement among the listed countries"
    fields = (
        ID, YEAR,
        Field("countries", "countries", doc="parties (at least two)"),
        Field("name", "str", required=False, doc="agreement name"),
        Field("phase_in", "int", required=False, check=positive,
              doc="years to phase in the RTA effect (default: parameter rta_phase_in)"),
    )

    def apply(self, model: Any) -> None:
        name = self.name or "FTA " + "-".join(self.countries)
        model.create_agreement(name, model.resolve_countries(self.countries), self.phase_in)


@register
class TariffChange(Policy):
    """Importers set (``rate_pct``) or shift (``change_pp``) their tariff on exporters' goods."""

    type = "tariff_change"
    summary = "tariff change by importers on exporters (optionally reciprocal)"
    fields = (
        ID, YEAR,
        Field("importers", "countries", doc="countries that change their tariff"),
        Field("exporters", "countries", doc="countries whose goods are affected"),
        Field("rate_pct", "float", required=False, check=non_negative,
              doc="new applied ad-valorem tariff, percent"),
        Field("change_pp", "float", required=False, check=tariff_cut,
              doc="change of the tariff, percentage points (a cut stops at a zero tariff; at "
                  "most -100: to remove tariffs write rate_pct: 0)"),
        Field("reciprocal", "bool", required=False, default=False,
              doc="exporters answer with the same change on the importers"),
        Field("trade_sectors", "trade_sectors", required=False,
              doc="goods sectors the change applies to (default all): AGR, ENE, MIN, MAC, VEH, "
                  "MAN; only change_pp, added to those sectors' tariffs"),
    )

    def apply(self, model: Any) -> None:
        importers = model.resolve_countries(self.importers)
        exporters = model.resolve_countries(self.exporters)
        sectors = self.trade_sectors
        model.set_tariffs(importers, exporters, self.rate_pct, self.change_pp, sectors)
        if self.reciprocal:
            model.set_tariffs(exporters, importers, self.rate_pct, self.change_pp, sectors)


@register
class InvestmentProgramme(Policy):
    """An investor spends an earmarked yearly budget in target countries and sectors."""

    type = "investment_programme"
    summary = "earmarked yearly investment in target countries and sectors"
    fields = (
        ID, YEAR,
        Field("investor", "investor", doc="who funds it: " + ", ".join(INVESTORS)),
        Field("until", "int", doc="last year of spending"),
        Field("budget_bn", "float", check=non_negative, doc="bn USD per year"),
        Field("countries", "countries", doc="eligible hosts"),
        Field("sectors", "sectors", doc="eligible sectors: " + ", ".join(SECTORS)),
        Field("incentive", "float", required=False, default=1.0, check=non_negative,
              doc="extra pull of the targets on the investor's ordinary budget (logit score)"),
    )

    def apply(self, model: Any) -> None:
        model.add_programme(
            investor=self.investor,
            until=int(self.until),
            budget_bn=float(self.budget_bn),
            hosts=model.resolve_countries(self.countries),
            sectors=tuple(self.sectors),
            incentive=float(self.incentive),
        )


@register
class InvestorBudget(Policy):
    """An investor's ordinary yearly budget is multiplied by ``factor`` or set to ``budget_bn``."""

    type = "investor_budget"
    summary = "change an investor's ordinary yearly budget"
    fields = (
        ID, YEAR,
        Field("investor", "investor", doc="whose budget: " + ", ".join(INVESTORS)),
        Field("factor", "float", required=False, check=non_negative, doc="multiply the budget"),
        Field("budget_bn", "float", required=False, check=non_negative,
              doc="new budget, bn USD per year"),
    )

    def apply(self, model: Any) -> None:
        model.change_budget(self.investor, self.factor, self.budget_bn)


@register
class InvestmentScreening(Policy):
    """Host countries block a share of the investment coming from the listed source countries."""

    type = "investment_screening"
    summary = "hosts screen out a share of investment from some sources"
    fields = (
        ID, YEAR,
        Field("countries", "countries", doc="screening hosts"),
        Field("sources", "countries", doc="home countries of the screened investors (e.g. CHN)"),
        Field("share_blocked", "float", check=fraction, doc="share of their investment blocked"),
    )

    def apply(self, model: Any) -> None:
        model.screen_investment(
            model.resolve_countries(self.countries),
            model.resolve_countries(self.sources),
            float(self.share_blocked),
        )


@register
class ProductivityShock(Policy):
    """A permanent demand/productivity shock to the listed countries' output."""

    type = "productivity_shock"
    summary = "permanent change in the listed countries' output (percent)"
    fields = (
        ID, YEAR,
        Field("countries", "countries", doc="affected countries"),
        Field("change_pct", "float", check=lambda v: None if v > -100 else "a change > -100 %",
              doc="percent change of output"),
    )

    def apply(self, model: Any) -> None:
        model.shock_output(model.resolve_countries(self.countries), float(self.change_pct))


@register
class GdpPath(Policy):
    """Observed nominal GDP (World Bank, current USD) sets the listed economies' output each year
    from ``year`` to ``until`` (a back-test input, not a policy)."""

    type = "gdp_path"
    summary = "observed nominal GDP (World Bank, current USD) sets output each year (back-tests)"
    policy = False
    fields = (
        ID, YEAR,
        Field("until", "int", doc="last year of the path"),
        Field("countries", "countries", doc="economies whose output follows the observed path"),
    )

    def apply(self, model: Any) -> None:
        model.add_output_path(model.resolve_countries(self.countries), int(self.until))


def exclusive_fields(policy_type: str, values: dict[str, Any]) -> str | None:
    """Cross-field rules that the per-field checks cannot express; returns a problem or None."""
    if policy_type == "tariff_change":
        if ("rate_pct" in values) == ("change_pp" in values):
            return "exactly one of 'rate_pct' or 'change_pp'"
        if "trade_sectors" in values and "rate_pct" in values:
            return "'trade_sectors' with 'change_pp' (a sector's tariff moves by percentage points)"
    if policy_type == "investor_budget":
        if ("factor" in values) == ("budget_bn" in values):
            return "exactly one of 'factor' or 'budget_bn'"
    if policy_type in ("investment_programme", "gdp_path") and values["until"] < values["year"]:
        return f"'until' ({values['until']}) not before 'year' ({values['year']})"
    if policy_type == "fta" and len(set(values["countries"])) < 2:
        return "at least two different countries in 'countries'"
    return None


def events_markdown() -> str:
    """Render every registered event type and its fields as Markdown (the docs print it)."""
    out = []
    for name, cls in REGISTRY.items():
        out += [f"**`{name}`** — {cls.summary}.", "",
                "| field | kind | required | default | meaning |", "|---|---|---|---|---|"]
        for f in cls.fields:
            default = "" if f.default is None else f.default
            out.append(f"| `{f.name}` | {f.kind} | {'yes' if f.required else 'no'} | {default} "
                       f"| {f.doc} |")
        out.append("")
    return "\n".join(out)


def trade_agreements(memberships: pd.DataFrame, base_year: int) -> pd.DataFrame:
    """Membership rows of agreements that give tariff preferences: in force in the world's base
    year (``preferential``), or entering into force later as a free-trade area or customs union
    (the model schedules those). Partial-scope agreements, frameworks and terminated agreements
    are left out; these are the blocs a scenario can name and the model builds as agents.
    """
    m = memberships
    alive = ~m["status"].astype(str).str.lower().str.startswith("terminated")
    if "preferential" not in m.columns:
        return m[alive]
    kind = m["bloc_type"].astype(str).str.lower()
    gives = kind.str.contains("fta|free trade|customs union|integration") & \
        ~kind.str.contains("partial")
    later = m["status"].astype(str).str.lower().eq("in force") & gives & \
        ~m["preferential"].astype(bool) & (m["entry_year"].astype("Float64") > base_year)
    return m[alive & (m["preferential"].astype(bool) | later)]
