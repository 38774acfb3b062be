"""The one parameter table: every model parameter's name, default, plausible range, unit and source.

Scenarios override these by name, sweeps sample them over their ranges, and the docs print them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Parameter:
    """One model parameter with its default, plausible range and the source of the default."""

    name: str
    default: float
    low: float
    high: float
    unit: str
    source: str
    description: str
    integer: bool = False
    se: float | None = None  # standard error where the default is an estimate


_TABLE = [
    # Trade (DESIGN §4-5)
    Parameter("sigma", 5.0, 3.0, 8.0, "-",
              "Head & Mayer (2014) trade elasticity ≈ 4-5; Simonovska & Waugh (2014) ≈ 4; "
              "Yotov et al. (2016) use σ = 7",
              "elasticity of substitution between origins (Armington)"),
    Parameter("beta_rta", 0.56, 0.3, 1.0, "log points of t^(1-σ)",
              "Yotov et al. (2016) ch. 1: PPML with pair fixed effects 0.557 (0.99 with lags); "
              "a total that contains the average tariff cut, so the model applies tariff removal "
              "plus only the non-tariff part β − (σ−1)·ln(1+τ) (docs/model.md)",
              "effect of a regional trade agreement on the bilateral trade-cost term"),
    Parameter("rta_phase_in", 10, 5, 15, "years",
              "Baier & Bergstrand (2007): RTA effects build up over about ten years",
              "years over which a new agreement's trade-cost effect phases in", integer=True),
    # Investment effects
    Parameter("kappa", 0.12, 0.05, 0.3, "output gain per unit investment/GDP",
              "growth accounting: capital share ≈ 0.35-0.4 over capital-output ratio ≈ 3 "
              "(e.g. Penn World Table 10); spillovers at the top of the range",
              "productivity effect of renewables, technology and manufacturing investment"),
    Parameter("gamma", 0.228, -0.82, 1.28, "log points of t^(1-σ) per unit ln(1 + stock/GDP)",
              "PPML structural gravity (exporter-year, importer-year and pair fixed effects, "
              "agreement and China x Latin America trend terms), UN Comtrade 2000-2012 with "
              "UNCTAD US FDI stocks, AidData and AEI Chinese finance, this package's estimate "
              "(SE 0.524: not distinguishable from zero; without offshore centres -1.38, SE "
              "0.84); range ± 2 SE; geosim.estimation, data/sources/history/investment_tie.csv",
              "effect of a source economy's investment stock in a host (every investor and "
              "sector of that source, relative to host GDP, above business as usual) on the "
              "source-host trade-cost term t^(1-σ), both directions", se=0.524),
    Parameter("nu", 0.1, 0.0, 0.3, "elasticity",
              "infrastructure explains a large share of transport costs (Limão & Venables 2001)",
              "effect of transport infrastructure stock/GDP on the host's trade costs"),
    Parameter("delta", 0.05, 0.03, 0.10, "1/year",
              "typical depreciation of structures and equipment (Penn World Table 10: ≈ 4-5 %)",
              "depreciation of investment stocks"),
    # Investors (budgets in billions of USD per year)
    Parameter("logit_temperature", 1.0, 0.2, 5.0, "-",
              "assumption: bounded-rational choice over normalised scores (1 = a neutral investor "
              "shares its budget in proportion to real GDP); swept 0.2-5",
              "temperature of investors' multinomial logit over hosts (sector mixes are fixed)"),
    Parameter("project_size_bn", 0.25, 0.05, 2.0, "bn USD",
              "typical DFC / CDB project size: a few hundred million USD (DFC annual reports; "
              "IAD/BU China-Latin America Finance Database)",
              "size of one investment project; budgets are spent in projects of this size"),
    Parameter("china_lending_bn", 1.0, 0.0, 40.0, "bn USD/year",
              "IAD/BU China-Latin America Finance Database: $0.81 bn in 2022, peak ≈ $35 bn in "
              "2010",
              "yearly lending of Chinese policy banks (CDB, China Eximbank) to the region"),
    Parameter("china_fdi_bn", 7.0, 3.0, 15.0, "bn USD/year",
              "ECLAC (2023): China ≈ 3 % of FDI inflows (≈ $7 bn of $224.6 bn in 2022)",
              "yearly FDI of Chinese state-owned firms into the region"),
    Parameter("us_public_bn", 3.0, 0.5, 30.0, "bn USD/year",
              "DFC testimony (2022): Latin America portfolio > $10 bn, a few bn per year",
              "yearly US public development finance (DFC-like) into the region"),
    Parameter("us_private_bn", 70.0, 30.0, 110.0, "bn USD/year",
              "ECLAC (2023): US the largest source, ≈ 38 % of 2022 inflows of $224.6 bn "
              "(approximate share; verify)",
              "yearly FDI of US private multinationals into the region"),
    Parameter("eu_private_bn", 40.0, 20.0, 80.0, "bn USD/year",
              "ECLAC (2023): EU the second source, ≈ 17-20 % of 2022 inflows of $224.6 bn "
              "(approximate share; verify)",
              "yearly FDI of EU investors into the region"),
    Parameter("weight_return", 0.5, 0.0, 2.0, "-", "assumption (logit weight on normalised "
              "scores)", "weight of expected growth (data projections, z-score) in host choice; "
              "real market size from the engine enters with weight one"),
    Parameter("weight_access", 1.0, 0.0, 2.0, "-",
              "assumption: a 1 % gain in market access (Π̂^(1-σ) from the engine) weighs like a "
              "1 % larger market",
              "weight of the host's market access from the engine (tariffs faced, agreements, "
              "partners' demand) in host choice"),
    Parameter("weight_risk", 2.0, 0.0, 4.0, "-", "logit weight; normalised scores (model "
              "assumption)", "weight of political risk in host choice"),
    Parameter("weight_alignment", 0.5, 0.0, 2.0, "-", "logit weight; normalised scores (model "
              "assumption)", "weight of political alignment with the investor's home"),
    Parameter("weight_incentive", 2.0, 0.0, 5.0, "-", "logit weight; normalised scores (model "
              "assumption)", "weight of programme incentives (targeted hosts and sectors)"),
    Parameter("weight_path", 0.5, 0.0, 2.0, "-", "logit weight; normalised scores (model "
              "assumption)", "weight of path dependence (existing stock in the host)"),
    # Countries and blocs
    Parameter("alignment_adjustment", 0.1, 0.0, 0.5, "1/year",
              "partial adjustment of alignment towards trade and finance ties (model assumption)",
              "speed at which political alignment follows economic ties"),
    Parameter("admission_threshold_pct", -0.05, -1.0, 0.5, "% welfare",
              "a member vetoes an applicant when its welfare change is below this (model "
              "assumption: small losses tolerated)",
              "lowest welfare change (%) a bloc member accepts from an applicant's accession"),
    Parameter("accept_threshold_pct", 0.0, -0.5, 0.5, "% welfare",
              "an applicant joins when expected welfare gain plus alignment pull exceeds this "
              "(model assumption)",
              "lowest welfare-plus-alignment score at which a country accepts an offer"),
    Parameter("alignment_weight_pct", 0.2, 0.0, 1.0, "% welfare per unit alignment",
              "how much political alignment counts in accession decisions, in welfare % "
              "(model assumption)",
              "weight of alignment with a bloc's leader in a country's accession decision"),
    Parameter("retaliation", 0.0, 0.0, 1.0, "share of the increase",
              "Fajgelbaum et al. (2020, QJE): 2018 retaliation roughly matched the US increases "
              "(top of the range); 0 leaves responses to scenarios (`reciprocal`)",
              "share of a partner's tariff increase a country matches on that partner's goods"),
    Parameter("growth_shift_pp", 0.0, -1.0, 1.0, "pp/year",
              "DESIGN §5: baseline growth ± 1 pp around medium-term projections",
              "uniform shift of every economy's baseline real growth rate"),
    # History (issue 9 §4): the China × Latin America trade-cost trend, estimated to 2012
    Parameter("china_lac_trend", 0.0553, 0.0324, 0.0782, "log points/yr",
              "PPML structural gravity (exporter-year, importer-year and pair fixed effects, "
              "agreement dummies), UN Comtrade 2000-2012, this package's estimate (SE 0.011); "
              "range ± 2 SE; geosim.estimation, data/sources/history/china_lac_trend.csv",
              "yearly rise of the trade-cost term t^(1-σ) on China <-> Latin America pairs "
              "(positive: costs fall), relative to both sides' other trade", se=0.0114),
    Parameter("trend_fade", 0.9, 0.0, 1.0, "share kept per year",
              "assumption: the trend fades from the end of its estimation window (the full "
              "rate in 2013, then fading) with a half-life of ≈ 6.6 years (0.9), the same rule "
              "for the back-test and projections; 1 keeps the 2000-2012 rate, 0 stops it",
              "share of the previous year's china_lac_trend rate kept each year after 2013 "
              "(rate in 2013 + k = china_lac_trend · trend_fade^k; projections from 2023 apply "
              "the rates of 2024 on)"),
    # The trade engine
    Parameter("engine_sectors", 0, 0, 1, "switch",
              "0 (default): the one-sector engine on the world's totals; 1: the world by sector, "
              "Caliendo & Parro (2015) with input-output links (docs/engine.md). Default 0 while "
              "a pivot year by sector costs 17-20 ms with its business-as-usual reference (12 "
              "ms with the reference held, as in comparisons and sweeps) against the 10 ms goal "
              "(benchmarks/run.py)",
              "which trade engine a model runs", integer=True),
    Parameter("sector_elasticities", 0, 0, 7, "specification",
              "0: Caliendo & Parro (2015), the model the engine follows; 1: Fontagne, Guimbard "
              "& Orefice (2022); 2-7: BSY, GYY, IS, LL, Shap, U4 as mapped to ICIO sectors by "
              "tariffwar (docs/model.md, Sectors); trade-weighted to geosim's 7 sectors",
              "which published trade elasticities θ per sector the sector engine uses",
              integer=True),
    Parameter("import_nest", 1, 0.25, 1, "ratio",
              "assumption, range 0.25-1. 1 (default): one nest, Caliendo & Parro (2015), whose "
              "theta the engine uses and whose NAFTA table it reproduces. Below 1 imports are a "
              "nest of their own: sources substitute by theta (identified from tariff "
              "variation across sources), home goods against imports by eta = import_nest * "
              "theta; GTAP's 'rule of two' sigma_D = sigma_M / 2 (Hertel, Hummels, Ivanic & "
              "Keeney 2007, Economic Modelling 24) is about 0.5 in these units, and Feenstra, "
              "Luck, Obstfeld & Russ (2018, REStat 100) estimate the home-foreign elasticity "
              "below the among-sources one; used by the sector engine only (docs/model.md)",
              "η/θ: each sector's elasticity between home goods and imports (η) relative to "
              "the trade elasticity θ among import sources; 1 is one nest (Caliendo & Parro "
              "2015)"),
    Parameter("commodity_prices", 1, 0, 1, "switch",
              "World Bank Commodity Price Data (Pink Sheet, May 2025): agriculture, energy and "
              "metals & minerals indices deflated by MUV, observed to 2024 and held at the "
              "2024 level after (the projection assumption); 1 (default) on, 0 off; used by "
              "the sector engine only (docs/model.md, The model on sectors)",
              "whether observed world commodity prices shift spending between sectors",
              integer=True),
    Parameter("commodity_demand_elasticity", 0.2, 0.1, 0.5, "-",
              "assumption, range 0.1-0.5, guided by meta-analyses of short-run price "
              "elasticities of energy demand, ≈ 0.1-0.25 (Labandeira, Labeaga & Lopez-Otero "
              "2017, Energy Policy 102; Uria-Martinez et al. 2018, ORNL/TM-2018/1070, world "
              "crude oil; figures not re-checked against the papers offline); metals and food "
              "taken to be of the same order",
              "short-run price elasticity ε of world demand for commodities: spending shares "
              "on a sector scale by p̂^(1-ε) when its real world price moves by p̂"),
]

PARAMETERS: dict[str, Parameter] = {p.name: p for p in _TABLE}


class ParameterError(ValueError):
    """A parameter override names an unknown parameter or a value outside its domain."""


def defaults() -> dict[str, float]:
    """Return every parameter's default value, by name."""
    return {p.name: p.default for p in _TABLE}


def resolve(overrides: Mapping[str, object] | None = None) -> dict[str, float]:
    """Merge overrides into the defaults, checking names and types.

    Raises:
        ParameterError: on an unknown name, a non-numeric value, or a value that breaks a hard
            domain limit (σ must exceed 1; budgets, rates and elasticities cannot be negative).
    """
    values = defaults()
    for name, value in (overrides or {}).items():
        if name not in PARAMETERS:
            raise ParameterError(
                f"unknown parameter '{name}'; available: {', '.join(sorted(PARAMETERS))}"
            )
        if isinstance(value, bool) or not isinstance(value, int | float) or not (
                -1e300 < value < 1e300):  # also refuses NaN and infinities
            raise ParameterError(f"parameter '{name}' must be a finite number, got {value!r}")
        values[name] = float(value)
        _check_domain(PARAMETERS[name], float(value))
    return values


_NON_NEGATIVE = {"retaliation", "beta_rta", "kappa", "nu", "delta", "china_lending_bn",
                 "china_fdi_bn",
                 "us_public_bn", "us_private_bn", "eu_private_bn", "weight_return", "weight_risk",
                 "weight_alignment", "weight_incentive", "weight_path", "weight_access",
                 "alignment_adjustment", "alignment_weight_pct"}


def _check_domain(p: Parameter, value: float) -> None:
    if p.name == "sigma" and value <= 1.0:
        raise ParameterError(f"parameter 'sigma' must be > 1, got {value:g}")
    if p.name in _NON_NEGATIVE and value < 0:
        raise ParameterError(f"parameter '{p.name}' must be >= 0, got {value:g}")
    if p.name in ("logit_temperature", "project_size_bn", "rta_phase_in") and value <= 0:
        raise ParameterError(f"parameter '{p.name}' must be > 0, got {value:g}")
    if p.name == "trend_fade" and not 0.0 <= value <= 1.0:
        raise ParameterError(f"parameter 'trend_fade' must be in [0, 1], got {value:g}")
    if p.name == "commodity_prices" and value not in (0.0, 1.0):
        raise ParameterError(f"parameter 'commodity_prices' must be 0 (off) or 1 (on), "
                             f"got {value:g}")
    if p.name == "commodity_demand_elasticity" and not 0.0 <= value <= 1.0:
        raise ParameterError("parameter 'commodity_demand_elasticity' must be in [0, 1] "
                             f"(1: spending shares ignore prices), got {value:g}")
    if p.name == "import_nest" and not 0.0 < value <= 1.0:
        raise ParameterError(f"parameter 'import_nest' must be in (0, 1] (η = import_nest · θ "
                             f"between home goods and imports), got {value:g}")
    if p.name == "delta" and value >= 1:
        raise ParameterError(f"parameter 'delta' must be < 1, got {value:g}")
    if p.integer and value != int(value):
        raise ParameterError(f"parameter '{p.name}' must be a whole number, got {value:g}")


def hard_limits(name: str) -> tuple[float, float]:
    """The domain a parameter's value must stay in (`resolve` refuses values outside it), as a
    closed interval; an open limit (σ > 1, a positive size) is given as the limit itself."""
    low, high = -math.inf, math.inf
    if name == "sigma":
        low = 1.0
    if name in _NON_NEGATIVE or name in ("logit_temperature", "project_size_bn", "rta_phase_in"):
        low = 0.0
    if name in ("trend_fade", "commodity_prices", "commodity_demand_elasticity"):
        low, high = 0.0, 1.0
    if name == "delta":
        high = 1.0
    if name == "import_nest":
        low, high = 0.0, 1.0
    return low, high


def table_markdown() -> str:
    """Render the parameter table as Markdown (the docs print it)."""
    rows = ["| name | default | range | unit | description | source |", "|---|---|---|---|---|---|"]
    for p in _TABLE:
        rows.append(f"| `{p.name}` | {p.default:g} | {p.low:g}–{p.high:g} | {p.unit} | "
                    f"{p.description} | {p.source} |")
    return "\n".join(rows)
