"""gegravity's OneSectorGE on its own sample data, and a like-for-like comparison with geosim.

Imported by tests/test_trade.py (agreement) and benchmarks/engine.py (timing); run it for the table.

What gegravity 0.3 computes (read from its source): it solves the multilateral resistances (MRs)
with output and expenditure at baseline (the *conditional* equilibrium), then sets factory prices
p̂ = 1 / Π̂ and reports Y' = p̂ Y, E' = (E/Y) Y' and flows from its gravity equation, without
re-solving the MRs for the new output shares (its counterfactual columns do not add up to E').
So the comparison has three like-for-like parts, each to solver precision, and one gap:

1. conditional equilibrium: geosim ``solve(conditional=True)`` against gegravity's MR changes;
2. gegravity's reported counterfactual = the one-step update of geosim's conditional solution;
3. geosim's full equilibrium satisfies gegravity's own structural-gravity system: gegravity's MR
   solver, run on the counterfactual world (Y', E', new costs), returns geosim's flows and MRs,
   and gegravity's factory-price equation (with the new output shares) returns geosim's prices;
4. the gap between geosim's converged equilibrium and gegravity's one-step table (reported).

Normalisation: gegravity fixes the reference importer's inward MR (P_DEU = 1) in baseline and
counterfactual; geosim's results are divided (prices, IMR) or multiplied (OMR) by P̂_DEU to match.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geosim.trade import Equilibrium, solve

DATA = Path(__file__).with_name("sample_data_set.csv")
SIGMA = 5.0
REFERENCE = "DEU"
# Cost coefficients of gegravity's documented OneSectorGE example: t_ij^(1-σ) = exp(Σ_k β_k x_ij^k).
COST_COEFFS = {
    "lndist": -0.3764,
    "contiguity": 0.8850,
    "pta": 0.4823,
    "common_language": 0.0392,
    "international": -3.4224,
}
PTA_PAIRS = [("CAN", "JPN"), ("JPN", "CAN")]  # gegravity's documented experiment
IMBALANCES = ("output_ratio", "world_share")


@dataclass
class PeerRun:
    """gegravity's simulated model and the geosim inputs taken from it.

    Attributes:
        model: the simulated gegravity.OneSectorGE.
        codes: country codes, sorted (gegravity's order).
        flows: gegravity's model-implied baseline flows X[exporter, importer].
        cost_factor: the experiment's iceberg cost factors t̂ (from gegravity's t^(1-σ) change).
        experiment: gegravity's experiment data (baseline data with the PTA switched on).
    """

    model: object
    codes: list[str]
    flows: np.ndarray
    cost_factor: np.ndarray
    experiment: pd.DataFrame


def load_data() -> pd.DataFrame:
    """The sample data, year as text (gegravity matches years as strings)."""
    data = pd.read_csv(DATA)
    data["year"] = data["year"].astype(str)
    return data


def baseline_model(data: pd.DataFrame):
    """Build gegravity's baseline (MRs solved) on a data set with columns like the sample's."""
    import gegravity as ge

    with warnings.catch_warnings():  # gegravity 0.3 trips pandas deprecation warnings
        warnings.simplefilter("ignore")
        return _baseline_model(ge, data)


def _baseline_model(ge, data: pd.DataFrame):
    baseline = ge.BaselineData(
        data,
        imp_var_name="importer",
        exp_var_name="exporter",
        year_var_name="year",
        trade_var_name="trade",
        expend_var_name="E",
        output_var_name="Y",
    )
    coeffs = pd.DataFrame({"var": list(COST_COEFFS), "coeff": list(COST_COEFFS.values())})
    coeffs["ste"] = 0.0
    model = ge.OneSectorGE(
        baseline,
        year="2006",
        reference_importer=REFERENCE,
        sigma=SIGMA,
        cost_variables=list(COST_COEFFS),
        cost_coeff_values=ge.CostCoeffs(coeffs, identifier_col="var", coeff_col="coeff"),
        quiet=True,
    )
    model.build_baseline(omr_rescale=10)
    _check_solved(model)
    return model


def simulate(model, experiment: pd.DataFrame) -> None:
    """gegravity's counterfactual: define the experiment and solve it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.define_experiment(experiment)
        model.simulate()
    _check_solved(model)


def pta_experiment(model) -> pd.DataFrame:
    """The baseline data with the PTA switched on for PTA_PAIRS."""
    data = model.baseline_data.copy()
    for exporter, importer in PTA_PAIRS:
        data.loc[(data.exporter == exporter) & (data.importer == importer), "pta"] = 1
    return data


def run() -> PeerRun:
    """Run gegravity's documented example and extract geosim's inputs from its baseline."""
    model = baseline_model(load_data())
    experiment = pta_experiment(model)
    simulate(model, experiment)
    trade = model.bilateral_trade_results.reset_index()
    flows = trade.pivot(index="exporter", columns="importer", values="baseline modeled trade")
    codes = list(flows.index)
    costs = model.bilateral_costs.reset_index()
    phi = {
        name: costs.pivot(index="exporter", columns="importer", values=f"{name} trade cost")
        .loc[codes, codes]
        .to_numpy()
        for name in ("baseline", "experiment")
    }
    cost_factor = (phi["experiment"] / phi["baseline"]) ** (1.0 / (1.0 - SIGMA))
    return PeerRun(model, codes, flows.loc[codes, codes].to_numpy(), cost_factor, experiment)


def geosim_solution(peer: PeerRun, **options) -> Equilibrium:
    """geosim on gegravity's baseline flows and cost change, numeraire = reference country."""
    ref = peer.codes.index(REFERENCE)
    return solve(peer.flows, SIGMA, peer.cost_factor, reference=ref, **options)


def counterfactual_world(peer: PeerRun, eq: Equilibrium):
    """gegravity's baseline solved on geosim's counterfactual world (Y', E', new trade costs)."""
    codes = peer.codes
    data = load_data()
    y = data.groupby("exporter")["Y"].first().loc[codes].to_numpy()
    e = data.groupby("importer")["E"].first().loc[codes].to_numpy()
    world = peer.experiment.drop(columns="index").copy()
    world["Y"] = world.exporter.map(dict(zip(codes, eq.output * y, strict=True)))
    world["E"] = world.importer.map(dict(zip(codes, eq.expenditure * e, strict=True)))
    model = baseline_model(world)
    simulate(model, model.baseline_data.drop(columns="index"))  # null experiment: modeled flows
    return model


def comparison(peer: PeerRun) -> pd.DataFrame:
    """Every like-for-like comparison: one row per (part, quantity) with its largest gap.

    Gaps are absolute differences of change factors (×100 = percentage points), relative
    differences for flows. Parts: ``conditional``, ``one_step``, ``verified[<imbalance>]``
    (to solver precision) and ``vs_table[<imbalance>]`` (geosim full GE vs gegravity's table).
    """
    codes, model = peer.codes, peer.model
    results = model.country_results.loc[codes]
    mr = model.country_mr_terms.loc[codes]
    base_imr, base_omr = mr["baseline imr"].to_numpy(), mr["baseline omr"].to_numpy()
    table = {
        "factory price": _factor(results["factory gate price change (percent)"]),
        "imr": _factor(results["imr change (percent)"]),
        "omr": _factor(results["omr change (percent)"]),
        "real GDP": _factor(results["GDP change (percent)"]),
        "welfare": 1.0 / results["welfare statistic"].to_numpy(),  # its statistic is W / W'
        "foreign exports": _factor(results["foreign exports change (percent)"]),
        "foreign imports": _factor(results["foreign imports change (percent)"]),
    }
    rows = []

    def add(part, quantity, ours, theirs, relative=False):
        gap = np.abs(ours / theirs - 1.0) if relative else np.abs(ours - theirs)
        k = np.unravel_index(np.argmax(gap), gap.shape)
        where = "→".join(codes[i] for i in k)  # a country, or exporter→importer
        rows.append((part, quantity, float(gap[k]), where, float(ours[k]), float(theirs[k])))

    # 1. Conditional equilibrium (gegravity's MR solve; P̂_DEU = 1 in both).
    cond = geosim_solution(peer, conditional=True)
    add("conditional", "imr", cond.imr, mr["conditional imr"].to_numpy() / base_imr)
    add("conditional", "omr", cond.omr, mr["conditional omr"].to_numpy() / base_omr)

    # 2. gegravity's table = one step from the conditional solution: p̂ = 1/Π̂, Ŷ = Ê = p̂.
    price = 1.0 / cond.omr
    share = price / (price @ peer.flows.sum(axis=1) / peer.flows.sum())  # Ŷ_i / Ŷ_world
    step = peer.flows * (peer.cost_factor ** (1 - SIGMA) * share[:, None] * price[None, :])
    step /= (cond.omr[:, None] * cond.imr[None, :]) ** (1 - SIGMA)
    for name, ours in {
        "factory price": price,
        "real GDP": price / cond.imr,
        "welfare": price / cond.imr,
        "foreign exports": _foreign(step, peer.flows, axis=1),
        "foreign imports": _foreign(step, peer.flows, axis=0),
    }.items():
        add("one_step", name, ours, table[name])

    # 3. and 4. Full equilibrium, in gegravity's normalisation (P̂_DEU = 1).
    ref = codes.index(REFERENCE)
    beta = np.array([model.country_set[c].factory_gate_price_param for c in codes])
    for imbalance in IMBALANCES:
        eq = geosim_solution(peer, imbalance=imbalance)
        scale = eq.imr[ref]
        ours = {
            "factory price": eq.price / scale,
            "imr": eq.imr / scale,
            "omr": eq.omr * scale,
            "real GDP": eq.real_output,
            "welfare": eq.welfare,
            "foreign exports": eq.exports / scale,
            "foreign imports": eq.imports / scale,
        }
        world = counterfactual_world(peer, eq)
        new_mr = world.baseline_mr.loc[codes]
        new_omr = new_mr["baseline omr"].to_numpy()
        trade = world.bilateral_trade_results.reset_index()
        flows = trade.pivot(index="exporter", columns="importer", values="baseline modeled trade")
        # gegravity's factory-price equation with the new output shares:
        # p'^(1-σ) = (Y'_i / Y') / (β_i Π'_i^(1-σ)), baseline p = 1.
        out_share = eq.output * peer.flows.sum(axis=1)
        out_share = out_share / out_share.sum()
        price = (out_share / (beta * new_omr ** (1 - SIGMA))) ** (1 / (1 - SIGMA))
        part = f"verified[{imbalance}]"
        add(part, "flows", eq.flows, flows.loc[codes, codes].to_numpy(), relative=True)
        add(part, "imr", ours["imr"], new_mr["baseline imr"].to_numpy() / base_imr)
        add(part, "omr", ours["omr"], new_omr / base_omr)
        add(part, "factory price", ours["factory price"], price)
        for name, theirs in table.items():
            add(f"vs_table[{imbalance}]", name, ours[name], theirs)
    return pd.DataFrame(
        rows, columns=["part", "quantity", "max_gap", "country", "geosim", "gegravity"]
    )


def _factor(percent: pd.Series) -> np.ndarray:
    return 1.0 + percent.to_numpy(dtype=float) / 100.0


def _foreign(new: np.ndarray, old: np.ndarray, axis: int) -> np.ndarray:
    off = ~np.eye(len(old), dtype=bool)
    return np.where(off, new, 0).sum(axis=axis) / np.where(off, old, 0).sum(axis=axis)


def _check_solved(model) -> None:
    for name, result in model.solver_diagnostics.items():
        if not result["success"]:
            raise RuntimeError(f"gegravity {name} did not converge: {result['message']}")


def report(table: pd.DataFrame) -> str:
    """The comparison as text: gaps in percentage points (flows: relative), changes in percent."""
    lines = [
        f"{'part':24s} {'quantity':16s} {'largest gap':>14s}  {'where':8s} "
        f"{'geosim':>10s} {'gegravity':>10s}"
    ]
    for row in table.itertuples():
        if row.quantity == "flows":
            gap, ours, theirs = (
                f"{row.max_gap:.1e} rel",
                f"{row.geosim:.4g}",
                f"{row.gegravity:.4g}",
            )
        else:
            gap = f"{100 * row.max_gap:.1e} pp"
            ours, theirs = (f"{100 * (v - 1):+.4f}%" for v in (row.geosim, row.gegravity))
        lines.append(
            f"{row.part:24s} {row.quantity:16s} {gap:>14s}  {row.country:8s} "
            f"{ours:>10s} {theirs:>10s}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(comparison(run())))
