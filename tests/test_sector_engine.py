"""Specification of the multi-sector engine (geosim.trade.solver, Caliendo–Parro 2015).

The one-sector engine is its special case (stored results of the engine it replaced); closed
forms (Costinot–Rodríguez-Clare welfare without inputs), identities (trade balance, income,
factor markets), the analytic Jacobian against finite differences, path independence, and the
published NAFTA table.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geosim.trade import (
    ConvergenceError,
    Economy,
    Shock,
    TradeDataError,
    cp2015,
    solve,
    solve_sectors,
    solver,
)
from geosim.trade.solver import Market

NESTING = Path(__file__).parent / "data" / "engine_nesting"


def _stored_cases():
    spec = importlib.util.spec_from_file_location("make_baseline", NESTING / "make_baseline.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BASELINE = _stored_cases()


@pytest.mark.parametrize("case", list(BASELINE.cases()), ids=lambda c: c[0])
def test_one_sector_case_reproduces_the_engine_it_replaced(case):
    """J = 1, no inputs, no tariff revenue, θ = σ − 1: the results of main 6895ad3 to 1e-9."""
    name, flows, sigma, cost, endowment, options = case
    stored = np.load(NESTING / "one_sector_baseline.npz")
    eq = solve(flows, sigma, cost, endowment, tol=1e-13, **options)
    for field in BASELINE.FIELDS:
        np.testing.assert_allclose(getattr(eq, field), stored[f"{name}.{field}"], rtol=1e-9,
                                   err_msg=f"{name}.{field}")


def random_economy(n: int = 7, sectors: int = 4, seed: int = 0, *, io: bool = True,
                   tariffs: bool = True, deficits: bool = True) -> Economy:
    """A random economy that is its own equilibrium (solved once from random data, rebased)."""
    rng = np.random.default_rng(seed)
    flows = rng.lognormal(0.0, 1.0, (sectors, n, n))
    flows += np.eye(n)[None] * rng.uniform(3, 10, (sectors, 1, n)) * n
    beta = rng.uniform(0.3, 0.8, (n, sectors)) if io else np.ones((n, sectors))
    coefficients = rng.dirichlet(np.ones(sectors), (n, sectors)).transpose(0, 2, 1)
    g = coefficients * (1.0 - beta)[:, None, :] if io else None
    tau = rng.uniform(0.0, 0.25, (sectors, n, n)) * (1 - np.eye(n))[None] if tariffs else None
    alpha = rng.dirichlet(np.ones(sectors), n)
    wl = flows.sum(axis=(0, 2)) * rng.uniform(0.4, 0.6, n)
    deficit = rng.normal(0.0, 0.05, n) * wl if deficits else np.zeros(n)
    deficit -= deficit.mean()
    raw = Economy.build(flows, rng.uniform(2.0, 9.0, sectors), tariff=tau, va_share=beta, io=g,
                        final_share=alpha, factor_income=wl, deficit=deficit)
    return solve_sectors(raw, tol=1e-13).rebased()


def test_identical_sectors_add_up_to_the_one_sector_engine():
    """Sectors that are scaled copies of one world (same θ, no inputs) move like it."""
    flows = BASELINE.cases()
    _, x, sigma, cost, endowment, _ = next(c for c in flows if c[0] == "random_2")
    split = np.array([0.5, 0.3, 0.2])
    economy = Economy.build(split[:, None, None] * x, sigma - 1.0)
    eq = solve_sectors(economy, Shock(cost_factor=np.broadcast_to(cost, (3, *cost.shape)),
                                      endowment=endowment), tol=1e-13)
    one = solve(x, sigma, cost, endowment, tol=1e-13)
    np.testing.assert_allclose(eq.wage, one.price, rtol=1e-10)
    np.testing.assert_allclose(eq.flows.sum(axis=0), one.flows, rtol=1e-10)
    np.testing.assert_allclose(eq.welfare, one.welfare, rtol=1e-10)


def test_no_shock_returns_the_baseline():
    economy = random_economy(seed=1)
    eq = solve_sectors(economy, tol=1e-13)
    np.testing.assert_allclose(eq.wage, 1.0, atol=1e-12)
    np.testing.assert_allclose(eq.flows, economy.flows, rtol=1e-10)
    np.testing.assert_allclose(eq.welfare, 1.0, atol=1e-12)
    np.testing.assert_allclose(eq.welfare_decomposed, 0.0, atol=1e-10)


@pytest.mark.parametrize("imbalance", ["world_share", "zero", "output_ratio"])
def test_equilibrium_identities_hold_after_a_tariff_war(imbalance):
    economy = random_economy(seed=2)
    n, sectors = economy.shape
    rng = np.random.default_rng(3)
    new_tariff = economy.tariff + rng.uniform(0.0, 0.3, economy.tariff.shape) * (1 - np.eye(n))
    eq = solve_sectors(economy, Shock(tariff=new_tariff), imbalance=imbalance, tol=1e-12)
    revenue = (new_tariff * eq.flows).sum(axis=(0, 1))
    # income: factor income + tariff revenue + deficit; expenditure: inputs + final demand
    np.testing.assert_allclose(eq.income, eq.factor_income + revenue + eq.deficit, rtol=1e-12)
    demand = np.einsum("njk,nk->nj", economy.io, eq.output) + economy.final_share * eq.income[
        :, None]
    np.testing.assert_allclose(eq.expenditure, demand, rtol=1e-10)
    # imports minus exports at producer prices = the deficit
    imports, exports = eq.flows.sum(axis=(0, 1)), eq.flows.sum(axis=(0, 2))
    if imbalance != "output_ratio":  # there markets clear in shares (world spending drifts)
        np.testing.assert_allclose(imports - exports, eq.deficit,
                                   atol=1e-9 * eq.factor_income.max())
        np.testing.assert_allclose((economy.va_share * eq.output).sum(axis=1), eq.factor_income,
                                   rtol=1e-10)
    if imbalance == "zero":
        np.testing.assert_allclose(eq.deficit, 0.0, atol=1e-12)


def test_welfare_without_inputs_follows_the_multi_sector_acr_formula():
    """No inputs, no tariffs, balanced trade: Ŵ_n = Π_j π̂_jnn^(−α_nj/θ_j)
    (Costinot & Rodríguez-Clare 2014, eq. 27 without intermediates)."""
    economy = random_economy(n=6, sectors=3, seed=4, io=False, tariffs=False, deficits=False)
    rng = np.random.default_rng(5)
    cost = rng.uniform(0.6, 1.4, economy.flows.shape)
    cost[:, np.arange(6), np.arange(6)] = 1.0
    eq = solve_sectors(economy, Shock(cost_factor=cost), tol=1e-13)
    own = np.einsum("jnn->jn", eq.flows) / eq.expenditure.T
    own_hat = own / np.einsum("jnn->jn", economy.share)
    acr = np.exp((-economy.final_share.T / economy.theta[:, None] * np.log(own_hat)).sum(axis=0))
    np.testing.assert_allclose(eq.welfare, acr, rtol=1e-10)


def test_an_import_nest_substitutes_home_against_imports_by_eta_and_sources_by_theta():
    """With η ≠ θ (no inputs, so a delivered cost is ŵ κ̂ / ẑ): two import sources' flows move
    relative to each other by their delivered costs to the power −θ, home against the import
    nest's price index P̂ᴹ by −η, and the sector price index is ĉ_n π̂_nn^(1/η) (the
    home-share formula with η)."""
    economy = random_economy(n=5, sectors=3, seed=21, io=False, deficits=False)
    theta = economy.theta
    economy = economy.replace(nest=0.5 * theta)
    rng = np.random.default_rng(22)
    tariff = economy.tariff + rng.uniform(0.0, 0.4, economy.tariff.shape) * (1 - np.eye(5))
    productivity = rng.uniform(0.9, 1.2, (5, 3))
    eq = solve_sectors(economy, Shock(tariff=tariff, productivity=productivity), tol=1e-13)
    kappa = (1.0 + tariff) / (1.0 + economy.tariff)
    made = (eq.cost / productivity).T  # ĉ_ij / ẑ_ij, [j, i]
    delivered = made[:, :, None] * kappa  # ĉ_ij κ̂_jin / ẑ_ij, [j, i, n]
    share = eq.flows * (1.0 + tariff) / eq.expenditure.T[:, None, :]
    moved = share / economy.share
    j, n, a, b = 1, 4, 0, 2  # sector, importer, two import sources
    np.testing.assert_allclose(moved[j, a, n] / moved[j, b, n],
                               (delivered[j, a, n] / delivered[j, b, n]) ** -theta[j],
                               rtol=1e-10)
    imports = 1.0 - np.einsum("jnn->jn", economy.share)
    within = np.einsum("jin,jin->jn", economy.share * (1 - np.eye(5)),
                       delivered ** -theta[:, None, None]) / imports
    import_price = within ** (-1 / theta[:, None])
    home = np.einsum("jnn->jn", moved)
    nest_moved = (1.0 - np.einsum("jnn->jn", share)) / imports
    np.testing.assert_allclose(home / nest_moved,
                               (made / import_price) ** (-0.5 * theta[:, None]), rtol=1e-10)
    np.testing.assert_allclose(eq.price.T, made * home ** (1 / (0.5 * theta[:, None])),
                               rtol=1e-10)


def test_an_import_nest_diverts_a_tariff_to_other_import_sources():
    """A tariff on one source: with η < θ the other import sources gain more, and home less,
    than in one nest (η = θ), where all of them gain alike (the tariff war's trade diversion)."""
    economy = random_economy(n=5, sectors=2, seed=23, io=False, tariffs=False, deficits=False)
    tariff = np.zeros(economy.tariff.shape)
    tariff[0, 1, 0] = 0.5  # economy 0 taxes sector 0 from economy 1
    gains = {}
    for ratio in (1.0, 0.5):
        eq = solve_sectors(economy.replace(nest=ratio * economy.theta), Shock(tariff=tariff),
                           tol=1e-13)
        gains[ratio] = eq.flows[0, :, 0] / economy.flows[0, :, 0]
    assert gains[0.5][1] < 1.0 and gains[1.0][1] < 1.0
    for source in (2, 3, 4):
        assert gains[0.5][source] > gains[1.0][source] > 1.0
    assert gains[0.5][0] < gains[1.0][0]  # home


def test_an_import_nest_leaves_a_sector_nobody_trades_at_home():
    """A nontraded sector (λ = 1, services in the shipped worlds) with imports nested
    elsewhere: the solve converges, its flows stay on the diagonal, and the Jacobian still
    matches finite differences."""
    economy = random_economy(n=5, sectors=3, seed=24)
    flows = np.array(economy.flows)
    flows[2] *= np.eye(5)  # sector 2: domestic only
    economy = Economy.build(flows, economy.theta, tariff=economy.tariff * (np.arange(3) < 2)[
        :, None, None], va_share=economy.va_share, io=economy.io, nest=0.5 * economy.theta)
    tariff = economy.tariff * 1.5
    eq = solve_sectors(economy, Shock(tariff=tariff), tol=1e-12)
    assert np.all(eq.flows[2][~np.eye(5, dtype=bool)] == 0.0)
    market = Market(economy, Shock(tariff=tariff), 1.0, "world_share", False)
    market.jacobian_tol, market.inner_tol = 1e-14, 1e-15
    z = np.random.default_rng(25).normal(0.0, 0.05, 5)
    ratio, point = market.excess(z)
    analytic = market.jacobian(ratio, point)
    h = 1e-6
    numeric = np.stack([(market.excess(z + h * e)[0] - market.excess(z - h * e)[0]) / (2 * h)
                        for e in np.eye(5)], axis=1)
    np.testing.assert_allclose(analytic, numeric, atol=1e-7)


@pytest.mark.parametrize("imbalance", ["world_share", "zero", "output_ratio"])
@pytest.mark.parametrize("conditional", [False, True])
@pytest.mark.parametrize("sectors", [4, 1])
@pytest.mark.parametrize("nest", [1.0, 0.4])
def test_analytic_jacobian_matches_finite_differences(imbalance, conditional, sectors, nest):
    """Many sectors with inputs and tariffs, and the one-sector closed form; each also with
    an import nest (η = 0.4 θ), which the closed form leaves to the general Jacobian."""
    one = sectors == 1
    economy = random_economy(seed=6, sectors=sectors, io=not one, tariffs=not one)
    economy = economy.replace(nest=nest * economy.theta)
    one = one and nest == 1.0
    n, _ = economy.shape
    rng = np.random.default_rng(7)
    shock = Shock(tariff=None if one else economy.tariff * rng.uniform(0.0, 2.0,
                                                                      economy.tariff.shape),
                  productivity=rng.uniform(0.9, 1.1, (n, economy.shape[1])))
    market = Market(economy, shock, 1.0, imbalance, conditional)
    market.jacobian_tol = 1e-14  # the solver's 1e-4 suffices for Newton; here the exact one
    market.inner_tol = 1e-15  # and values precise enough for finite differences
    assert market.one_sector == one
    z = rng.normal(0.0, 0.05, n)
    ratio, point = market.excess(z)
    analytic = market.jacobian(ratio, point)
    numeric = np.empty_like(analytic)
    h = 1e-6
    for d in range(n):
        step = np.zeros(n)
        step[d] = h
        numeric[:, d] = (market.excess(z + step)[0] - market.excess(z - step)[0]) / (2 * h)
    np.testing.assert_allclose(analytic, numeric, atol=1e-7)


def test_counterfactuals_compose_through_rebasing():
    """Tariffs moved in two steps (solve, rebase, solve) end where one step ends."""
    economy = random_economy(seed=8)
    rng = np.random.default_rng(9)
    target = economy.tariff * rng.uniform(0.0, 1.5, economy.tariff.shape)
    halfway = (economy.tariff + target) / 2
    direct = solve_sectors(economy, Shock(tariff=target), tol=1e-13)
    first = solve_sectors(economy, Shock(tariff=halfway), tol=1e-13)
    second = solve_sectors(first.rebased(), Shock(tariff=target), tol=1e-13)
    np.testing.assert_allclose(second.flows, direct.flows, rtol=1e-9)
    np.testing.assert_allclose(first.wage * second.wage, direct.wage, rtol=1e-9)


def test_warm_start_gives_the_same_equilibrium_in_fewer_iterations():
    economy = random_economy(n=10, sectors=5, seed=10)
    rng = np.random.default_rng(11)
    target = economy.tariff * rng.uniform(0.0, 2.0, economy.tariff.shape)
    cold = solve_sectors(economy, Shock(tariff=target), tol=1e-12)
    nearby = solve_sectors(economy, Shock(tariff=0.95 * target), tol=1e-12)
    warm = solve_sectors(economy, Shock(tariff=target), tol=1e-12, initial_wage=nearby.wage)
    np.testing.assert_allclose(warm.flows, cold.flows, rtol=1e-9)
    assert warm.iterations <= cold.iterations


@pytest.fixture(scope="module")
def nafta():
    case = cp2015.load()
    _, solution = cp2015.run(case)
    return cp2015.results(case, solution).set_index("region")


@pytest.mark.parametrize("column", ["welfare_change_pct", "terms_of_trade_pct",
                                    "volume_of_trade_pct"])
def test_caliendo_parro_nafta_table_is_reproduced(nafta, column):
    """Subsection 5.1, zero aggregate deficits imposed first: within 0.005 pp of the paper."""
    published = cp2015.PUBLISHED.set_index("region")[column]
    ours = nafta.loc[published.index, column]
    assert np.max(np.abs(ours - published)) < 0.005, (ours, published)


def test_caliendo_parro_real_wages_and_welfare_adds_up(nafta):
    published = cp2015.PUBLISHED.set_index("region")["real_wage_change_pct"]
    assert np.max(np.abs(nafta.loc[published.index, "real_wage_change_pct"] - published)) < 0.01
    parts = nafta["terms_of_trade_pct"] + nafta["volume_of_trade_pct"]
    np.testing.assert_allclose(nafta["welfare_change_pct"], parts, atol=1e-12)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"va_share": np.full((3, 2), 0.8), "io": np.full((3, 2, 2), 0.2)},
         r"io\[0, :, 0\] and va_share\[0, 0\] add up to 1.2"),
        ({"theta": [4.0, -1.0]}, r"theta\[1\] = -1 must be a positive number"),
        ({"nest": [2.0, 0.0]}, r"nest\[1\] = 0 must be a positive number"),
        ({"tariff": np.full((2, 3, 3), -1.0)}, r"tariff\[0, 0, 0\] = -1 must be finite"),
        ({"final_share": np.full((3, 2), 0.4)}, r"final_share\[0, :\] sums to 0.8, not 1"),
        ({"va_share": np.full((3, 2), 0.1), "io": np.full((3, 2, 2), 0.45)},
         "final demand would be negative"),
    ],
)
def test_bad_economies_are_refused_with_the_array_and_entry_named(changes, message):
    flows = np.ones((2, 3, 3)) + 4 * np.eye(3)[None]
    flows[:, 0, 1] = 20.0  # economy 0 makes far more than it buys
    with pytest.raises(TradeDataError, match=message):
        Economy.build(flows, changes.pop("theta", [4.0, 5.0]), **changes)


def test_bad_shocks_are_refused():
    economy = random_economy(n=3, sectors=2, seed=12)
    with pytest.raises(TradeDataError, match=r"productivity must have shape \(3, 2\)"):
        solve_sectors(economy, Shock(productivity=np.ones(3)))
    with pytest.raises(TradeDataError, match=r"cost_factor\[0, 1, 2\] = 0 must be positive"):
        bad = np.ones((2, 3, 3))
        bad[0, 1, 2] = 0.0
        solve_sectors(economy, Shock(cost_factor=bad))


def test_a_solver_that_cannot_reach_the_tolerance_says_so():
    economy = random_economy(n=5, sectors=3, seed=13)
    target = economy.tariff + 0.5
    with pytest.raises(ConvergenceError, match="did not converge in 1 iterations"):
        solve_sectors(economy, Shock(tariff=target), max_iter=1)


# --- `geosim ge` by sector ----------------------------------------------------------------------

SECTOR_FLOWS = """sector,exporter,importer,value,tariff
goods,A,A,50,0
goods,A,B,10,0.1
goods,B,A,8,0.05
goods,B,B,40,0
services,A,A,60,0
services,B,B,70,0
services,A,B,2,0
"""
SECTOR_SHOCK = "sector,exporter,importer,tariff\ngoods,A,B,0\ngoods,B,A,0\n"
THETA = "sector,theta\ngoods,5\nservices,8\n"
IO = ("economy,input_sector,user_sector,coefficient\nA,goods,goods,0.3\nA,services,goods,0.2\n"
      "B,goods,goods,0.25\nB,services,services,0.2\n")


@pytest.fixture()
def write(tmp_path):
    def write(name: str, text: str) -> str:
        path = tmp_path / name
        path.write_text(text)
        return str(path)

    return write


def test_ge_by_sector_matches_the_engine_and_writes_three_tables(write, tmp_path, capsys):
    from geosim.cli import main as cli

    out, sectors_out, flows_out = (str(tmp_path / f) for f in ("r.csv", "s.csv", "f.csv"))
    args = ["ge", write("flows.csv", SECTOR_FLOWS), "--shock", write("shock.csv", SECTOR_SHOCK),
            "--theta", write("theta.csv", THETA), "--io", write("io.csv", IO), "--out", out,
            "--sectors-out", sectors_out, "--flows-out", flows_out]
    assert cli(args) == 0
    assert "solved 2 economies x 2 sectors" in capsys.readouterr().out
    from geosim.trade import sector_tables as st

    flows = pd.read_csv(write("again.csv", SECTOR_FLOWS))
    codes, sectors, economy = st.economy_from_tables(
        flows, pd.read_csv(write("t.csv", THETA)), io=pd.read_csv(write("i.csv", IO)))
    shock = st.shock_from_table(pd.read_csv(write("sh.csv", SECTOR_SHOCK)), codes, sectors,
                                economy)
    eq = solve_sectors(economy, shock)
    result = pd.read_csv(out)
    assert list(result.columns) == list(st.ECONOMY_RESULT_COLUMNS)
    np.testing.assert_allclose(result.real_income_change_pct, 100 * (eq.welfare - 1), rtol=1e-8)
    by_sector = pd.read_csv(sectors_out)
    assert list(by_sector.columns) == list(st.SECTOR_RESULT_COLUMNS)
    assert len(by_sector) == 4
    new = pd.read_csv(flows_out)
    assert list(new.columns) == list(st.SECTOR_FLOW_RESULT_COLUMNS)
    goods_ab = new.query("sector == 'goods' and exporter == 'A' and importer == 'B'")
    assert goods_ab.change_pct.item() > 0  # B dropped its 10 % tariff on A's goods
    assert economy.va_share[0, 0] == pytest.approx(0.5)  # 1 − 0.3 − 0.2


@pytest.mark.parametrize(
    "which, text, message",
    [
        ("theta", "sector,theta\ngoods,5\n", "no theta for sector 'services'"),
        ("theta", "sector,theta\ngoods,5\nservices,-1\n", "theta of sector 'services' (-1)"),
        ("shock", "sector,exporter,importer,tariff\nfarm,A,B,0\n", "unknown sector 'farm'"),
        ("shock", "sector,exporter,importer,tariff\ngoods,A,B,-1.5\n", "tariff -1.5 must be > -1"),
        ("shock", "sector,exporter,importer,rate\ngoods,A,B,0\n", "needs a cost_factor or a "
         "tariff column"),
        ("flows", SECTOR_FLOWS + "goods,A,B,3,0\n", "duplicate row for sector=goods, "
         "exporter=A, importer=B (rows 2 and 8)"),
        ("flows", SECTOR_FLOWS.replace("goods,B,A,8", "goods,B,A,x"), "value 'x' is not a"),
        ("io", IO + "A,farm,goods,0.1\n", "unknown input_sector 'farm'"),
        ("io", IO.replace("0.3", "0.9"), "va_share[0, 0] = -0.1 must be in (0, 1]"),
    ],
)
def test_ge_by_sector_names_the_file_and_field_of_bad_input(write, capsys, which, text, message):
    from geosim.cli import main as cli

    paths = {"flows": SECTOR_FLOWS, "shock": SECTOR_SHOCK, "theta": THETA, "io": IO}
    paths = {k: write(f"{k}.csv", text if k == which else v) for k, v in paths.items()}
    args = ["ge", paths["flows"], "--shock", paths["shock"], "--theta", paths["theta"],
            "--io", paths["io"]]
    assert cli(args) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {paths[which]}") and message in err, err


def test_ge_example_cp2015_writes_the_published_table(tmp_path, capsys):
    from geosim.cli import main as cli

    out, flows_out = tmp_path / "r.csv", tmp_path / "f.csv"
    assert cli(["ge", "--example", "cp2015", "--out", str(out), "--flows-out",
                str(flows_out)]) == 0
    result = pd.read_csv(out).set_index("region")
    for column in ("welfare_change_pct", "terms_of_trade_pct", "volume_of_trade_pct"):
        published = cp2015.PUBLISHED.set_index("region")[column]
        assert np.max(np.abs(result.loc[published.index, column] - published)) < 0.005
    flows = pd.read_csv(flows_out)
    assert list(flows.columns) == ["sector", "exporter", "importer", "baseline_value", "value",
                                   "change_pct"]
    mex_usa = flows.query("exporter == 'Mexico' and importer == 'USA'")
    assert mex_usa.value.sum() > mex_usa.baseline_value.sum()  # NAFTA raised Mexico's sales
    assert cli(["ge", "--example", "cp2015", "--sigma", "5"]) == 2
    assert "uses the paper's own data: drop --sigma" in capsys.readouterr().err


def test_the_welfare_decomposition_is_exact_to_first_order():
    """For a small shock the decomposition equals the exact real-income change: at 1/1000 of
    NAFTA's cut, within 1 % for every NAFTA member (at the full cut they part: docs/engine.md)."""
    case = cp2015.load()
    start = cp2015.run(case)[0].rebased()
    small = start.tariff + 1e-3 * (case.tariff_nafta - start.tariff)
    eq = solve_sectors(start, Shock(tariff=small), tol=1e-13)
    members = [case.regions.index(name) for name in ("Canada", "Mexico", "USA")]
    exact = 100.0 * (eq.welfare[members] - 1.0)
    np.testing.assert_allclose(eq.welfare_decomposed[members], exact, rtol=0.01)


# --- the solver's inner machinery ---------------------------------------------------------------


def test_the_jacobi_fixed_point_solves_the_linear_system_exactly():
    rng = np.random.default_rng(21)
    n = 12
    matrix = rng.uniform(0.0, 1.0, (n, n))
    matrix *= 0.9 / matrix.sum(axis=1, keepdims=True)  # rows sum to 0.9: spectral radius 0.9
    rhs = rng.uniform(1.0, 2.0, (n, 1, 1))
    own = np.diag(matrix)[:, None, None]
    x = solver._fixed_point(lambda v: np.einsum("ij,jkr->ikr", matrix, v), own, rhs, None, 1e-14)
    np.testing.assert_allclose(x[:, 0, 0], np.linalg.solve(np.eye(n) - matrix, rhs[:, 0, 0]),
                               rtol=1e-12)


def test_a_solve_started_from_an_earlier_equilibrium_ends_where_a_cold_one_does():
    economy = random_economy(n=8, sectors=4, seed=22)
    rng = np.random.default_rng(23)
    first = economy.tariff + rng.uniform(0.0, 0.1, economy.tariff.shape) * (1 - np.eye(8))
    second = first + rng.uniform(0.0, 0.02, economy.tariff.shape) * (1 - np.eye(8))
    earlier = solve_sectors(economy, Shock(tariff=first))
    cold = solve_sectors(economy, Shock(tariff=second), tol=1e-12)
    warm = solve_sectors(economy, Shock(tariff=second), start=earlier, tol=1e-12)
    np.testing.assert_allclose(warm.wage, cold.wage, rtol=1e-10)
    np.testing.assert_allclose(warm.flows, cold.flows, rtol=1e-9)
    assert warm.iterations <= cold.iterations
    # another economy's equilibrium (same shape) changes only where the iterations start
    other = solve_sectors(random_economy(n=8, sectors=4, seed=24), Shock())
    again = solve_sectors(economy, Shock(tariff=second), start=other, tol=1e-12)
    np.testing.assert_allclose(again.wage, cold.wage, rtol=1e-10)
