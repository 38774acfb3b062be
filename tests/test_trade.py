"""Specification of the general-equilibrium trade engine (geosim.trade) and `geosim ge`.

Closed forms, invariants, properties over random worlds, bad input, and agreement with gegravity.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from geosim.cli import main as cli
from geosim.trade import (
    RESULT_COLUMNS,
    ConvergenceError,
    TradeDataError,
    solve,
    solve_table,
    tariff_factor,
)

PEER = Path(__file__).parent / "data" / "gegravity" / "peer.py"


def random_world(n: int, seed: int = 0, home: float = 4.0, imbalance: float = 0.2) -> np.ndarray:
    """Random flows with home bias and trade imbalances (E ≠ Y)."""
    rng = np.random.default_rng(seed)
    x = rng.lognormal(0.0, 1.0, (n, n)) * rng.lognormal(0.0, 1.0, n)[None, :]
    x[np.diag_indices(n)] *= home * n
    x[:, rng.random(n) < 0.5] *= 1.0 + imbalance  # some importers spend more
    return x


def balanced_world(n: int, seed: int = 0) -> np.ndarray:
    """Random flows with balanced trade: X symmetric, so Y = E."""
    x = random_world(n, seed, imbalance=0.0)
    return x + x.T


def random_shock(n: int, seed: int = 1, low: float = 0.7, high: float = 1.3) -> np.ndarray:
    """International cost factors in [low, high], domestic costs unchanged."""
    t = np.random.default_rng(seed).uniform(low, high, (n, n))
    np.fill_diagonal(t, 1.0)
    return t


# --- Closed forms -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sigma", "home", "tau"), [(5.0, 0.8, 0.9), (2.0, 0.6, 1.25), (9.0, 0.95, 0.5)]
)
def test_two_symmetric_countries_closed_form(sigma, home, tau):
    # λ = domestic share; a symmetric cost change τ leaves prices at 1 and
    # P̂^(1-σ) = λ + (1-λ) τ^(1-σ), welfare = 1/P̂, foreign flows × τ^(1-σ)/P̂^(1-σ).
    x = np.array([[home, 1 - home], [1 - home, home]]) * 100.0
    t = np.array([[1.0, tau], [tau, 1.0]])
    eq = solve(x, sigma, t, reference=0)
    price_index = (home + (1 - home) * tau ** (1 - sigma)) ** (1 / (1 - sigma))
    np.testing.assert_allclose(eq.price, 1.0, rtol=1e-12)
    np.testing.assert_allclose(eq.imr, price_index, rtol=1e-12)
    np.testing.assert_allclose(eq.welfare, 1 / price_index, rtol=1e-12)
    np.testing.assert_allclose(eq.real_output, 1 / price_index, rtol=1e-12)
    np.testing.assert_allclose(eq.exports, (tau / price_index) ** (1 - sigma), rtol=1e-12)
    np.testing.assert_allclose(eq.flows[0, 0], x[0, 0] * price_index ** (sigma - 1), rtol=1e-12)


def test_uniform_cost_change_only_moves_the_price_level():
    x = random_world(6)
    eq = solve(x, 4.0, np.full((6, 6), 1.1))
    np.testing.assert_allclose(eq.price, 1.0, rtol=1e-12)
    np.testing.assert_allclose(eq.imr, 1.1, rtol=1e-12)
    np.testing.assert_allclose(eq.welfare, 1 / 1.1, rtol=1e-12)
    np.testing.assert_allclose(eq.flows, x, rtol=1e-12)


def test_uniform_endowment_growth_scales_everything():
    x = random_world(6)
    eq = solve(x, 4.0, endowment_factor=np.full(6, 1.03))
    np.testing.assert_allclose(eq.price, 1.0, rtol=1e-12)
    np.testing.assert_allclose(eq.real_output, 1.03, rtol=1e-12)
    np.testing.assert_allclose(eq.welfare, 1.03, rtol=1e-12)
    np.testing.assert_allclose(eq.flows, 1.03 * x, rtol=1e-12)


@pytest.mark.parametrize(
    "options", [{}, {"imbalance": "output_ratio"}, {"conditional": True}, {"reference": 2}]
)
def test_zero_shock_reproduces_the_baseline(options):
    x = random_world(7)
    eq = solve(x, 5.0, np.ones((7, 7)), **options)
    assert eq.iterations == 1
    np.testing.assert_array_equal(eq.price, 1.0)
    np.testing.assert_allclose(eq.flows, x, rtol=1e-14)
    for field in ("output", "expenditure", "imr", "omr", "welfare", "exports", "imports"):
        np.testing.assert_allclose(getattr(eq, field), 1.0, rtol=1e-14, err_msg=field)


# --- Accounting and welfare ---------------------------------------------------------------------


def test_adding_up_after_cost_and_endowment_shocks():
    x = random_world(12)
    q = np.random.default_rng(5).uniform(0.9, 1.2, 12)
    eq = solve(x, 6.0, random_shock(12, low=0.5, high=1.5), q)
    y, e = x.sum(axis=1), x.sum(axis=0)
    np.testing.assert_allclose(eq.flows.sum(axis=1), eq.output * y, rtol=1e-9)  # Σ_j X_ij = Y_i
    np.testing.assert_allclose(eq.flows.sum(axis=0), eq.expenditure * e, rtol=1e-12)  # = E_j
    assert (eq.output * y).sum() == pytest.approx((eq.expenditure * e).sum(), rel=1e-12)
    # the engine's export and import changes are those of its own new flows, country by country
    off = ~np.eye(12, dtype=bool)
    new_off, old_off = np.where(off, eq.flows, 0), np.where(off, x, 0)
    np.testing.assert_allclose(eq.exports, new_off.sum(axis=1) / old_off.sum(axis=1), rtol=1e-10)
    np.testing.assert_allclose(eq.imports, new_off.sum(axis=0) / old_off.sum(axis=0), rtol=1e-10)
    # deficits stay constant shares of world output (Dekle–Eaton–Kortum)
    deficit = eq.expenditure * e - eq.output * y
    np.testing.assert_allclose(deficit / (eq.output * y).sum(), (e - y) / y.sum(), atol=1e-12)


def test_output_ratio_holds_expenditure_over_output_and_clears_in_shares():
    x = random_world(12)
    eq = solve(x, 6.0, random_shock(12, low=0.5, high=1.5), imbalance="output_ratio")
    y, e = x.sum(axis=1), x.sum(axis=0)
    np.testing.assert_allclose(eq.expenditure, eq.output, rtol=1e-12)  # E'/Y' = E/Y
    np.testing.assert_allclose(eq.flows.sum(axis=0), eq.expenditure * e, rtol=1e-12)
    kappa = eq.flows.sum() / (eq.output * y).sum()  # world spending / world output
    assert kappa != pytest.approx(1.0, abs=1e-6)  # the two imbalance rules really differ
    np.testing.assert_allclose(eq.flows.sum(axis=1), kappa * eq.output * y, rtol=1e-9)


def test_acr_welfare_formula_under_balanced_trade():
    x = balanced_world(10)
    sigma = 4.0
    eq = solve(x, sigma, random_shock(10, low=0.6, high=1.4))
    domestic_share_change = (np.diag(eq.flows) / eq.flows.sum(axis=0)) / (np.diag(x) / x.sum(0))
    np.testing.assert_allclose(eq.welfare, domestic_share_change ** (-1 / (sigma - 1)), rtol=1e-9)


def test_real_output_follows_acr_with_imbalances_welfare_does_not():
    x = random_world(10)
    sigma = 4.0
    eq = solve(x, sigma, random_shock(10, low=0.6, high=1.4))
    pi_hat = (np.diag(eq.flows) / eq.flows.sum(axis=0)) / (np.diag(x) / x.sum(0))
    acr = pi_hat ** (1 / (1 - sigma))
    np.testing.assert_allclose(eq.real_output, acr, rtol=1e-9)
    assert np.max(np.abs(eq.welfare / acr - 1)) > 1e-4  # welfare counts the deficit transfer


def test_scale_invariance():
    x, t = random_world(8), random_shock(8)
    small, large = solve(x, 5.0, t), solve(1e6 * x, 5.0, t)
    for field in ("price", "output", "imr", "omr", "welfare", "exports", "imports"):
        np.testing.assert_allclose(getattr(large, field), getattr(small, field), rtol=1e-9)
    np.testing.assert_allclose(large.flows, 1e6 * small.flows, rtol=1e-9)


def test_numeraire_changes_nominal_not_real_results():
    x, t = random_world(8), random_shock(8)
    world, ref = solve(x, 5.0, t), solve(x, 5.0, t, reference=3)
    assert ref.price[3] == pytest.approx(1.0, abs=1e-15)
    scale = world.price / ref.price
    np.testing.assert_allclose(scale, scale[0], rtol=1e-9)  # one common factor
    for field in ("welfare", "real_output"):
        np.testing.assert_allclose(getattr(ref, field), getattr(world, field), rtol=1e-9)


def test_multilateral_resistances_satisfy_the_gravity_equation():
    # X'_ij / X_ij = (Ŷ_i / Ŷ_world) Ê_j (t̂_ij / (Π̂_i P̂_j))^(1-σ)
    x, t, sigma = random_world(9), random_shock(9), 3.0
    eq = solve(x, sigma, t)
    world = (eq.output * x.sum(1)).sum() / x.sum()
    gravity = (
        (eq.output / world)[:, None]
        * eq.expenditure[None, :]
        * (t / (eq.omr[:, None] * eq.imr[None, :])) ** (1 - sigma)
    )
    np.testing.assert_allclose(eq.flows / x, gravity, rtol=1e-9)


def test_conditional_equilibrium_holds_output_and_expenditure():
    x, t = random_world(9), random_shock(9, low=0.5, high=1.0)
    eq = solve(x, 5.0, t, conditional=True, reference=4)
    np.testing.assert_allclose(eq.flows.sum(axis=1), x.sum(axis=1), rtol=1e-9)
    np.testing.assert_allclose(eq.flows.sum(axis=0), x.sum(axis=0), rtol=1e-12)
    np.testing.assert_array_equal(eq.price, 1.0)
    assert eq.imr[4] == pytest.approx(1.0, abs=1e-14)  # gegravity's normalisation
    gravity = (t / (eq.omr[:, None] * eq.imr[None, :])) ** (1 - 5.0)
    np.testing.assert_allclose(eq.flows / x, gravity, rtol=1e-9)


def test_near_autarky_converges_quickly():
    x = np.full((4, 4), 6e-5) + np.diag([1.0, 1.0, 1.5, 1.5])
    t = np.ones((4, 4))
    t[0, 2] = 0.5
    eq = solve(x, 1.5, t)
    assert eq.residual < 1e-10 and eq.iterations <= 10


def test_a_country_trading_with_no_one_is_rejected():
    x = np.array([[5.0, 1.0, 0.0], [2.0, 6.0, 0.0], [0.0, 0.0, 4.0]])
    with pytest.raises(TradeDataError, match=r"countries \[2\] \(by index\) trade with no one"):
        solve(x, 3.0)


def test_tariff_factor():
    np.testing.assert_allclose(tariff_factor(0.10, 0.0), 1 / 1.1)
    np.testing.assert_allclose(tariff_factor([0.0, 0.05], [0.25, 0.05]), [1.25, 1.0])
    with pytest.raises(TradeDataError, match="new_rate"):
        tariff_factor(0.1, -1.0)


# --- Solver -------------------------------------------------------------------------------------


def test_solves_200_economies_to_tight_tolerance():
    x = random_world(200, seed=3)
    eq = solve(x, 5.0, random_shock(200, low=0.8, high=1.2), tol=1e-10)
    assert 1 < eq.iterations < 200
    clearing = eq.flows.sum(axis=1) / (eq.output * x.sum(axis=1)) - 1
    assert eq.residual < 1e-10
    assert np.max(np.abs(clearing)) < 1e-10


def test_newton_converges_in_a_few_iterations_even_in_hard_worlds():
    # strong home bias, σ close to 1 and large cost changes: a plain price-adjustment
    # iteration needs thousands of steps here; Newton's count stays flat
    x, t = random_world(40, home=200.0), random_shock(40, low=0.3, high=1.7)
    eq = solve(x, 1.2, t)
    assert eq.iterations <= 10 and eq.residual < 1e-12


def test_warm_start_from_the_solution_needs_one_iteration():
    x, t = random_world(20), random_shock(20)
    eq = solve(x, 5.0, t)
    again = solve(x, 5.0, t, initial_price=eq.price)
    assert again.iterations == 1
    np.testing.assert_allclose(again.flows, eq.flows, rtol=1e-9)


def test_not_converging_raises_a_clear_error():
    x, t = random_world(20), random_shock(20)
    with pytest.raises(ConvergenceError, match=r"did not converge in 3 iterations"):
        solve(x, 5.0, t, max_iter=3)


def test_infeasible_deficit_raises_a_clear_error():
    x = np.array([[1.0, 50.0], [1.0, 1.0]])  # country 0 runs a huge surplus
    with pytest.raises(ConvergenceError, match="no trade equilibrium found beyond"):
        solve(x, 5.0, endowment_factor=np.array([0.01, 1.0]))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"flows": [[1.0, -1.0], [1.0, 1.0]]}, r"flows\[0, 1\] = -1 must be non-negative"),
        ({"flows": [[1.0, np.nan], [1.0, 1.0]]}, r"flows\[0, 1\] = nan"),
        ({"flows": [[1.0, 1.0], [1.0, 0.0]]}, r"flows\[1, 1\] \(domestic sales"),
        ({"flows": [[1.0, 1.0, 1.0]]}, "square"),
        ({"sigma": 1.0}, "sigma must be a number > 1"),
        ({"cost_factor": [[1.0, 0.0], [1.0, 1.0]]}, r"cost_factor\[0, 1\] = 0 must be positive"),
        ({"cost_factor": np.ones((3, 3))}, r"cost_factor must have shape \(2, 2\)"),
        ({"endowment_factor": [1.0, -2.0]}, r"endowment_factor\[1\]"),
        ({"reference": 2}, "reference must be a country index in 0..1"),
        ({"imbalance": "additive"}, "imbalance must be one of"),
        ({"conditional": True, "endowment_factor": [1.0, 1.1]}, "conditional"),
    ],
)
def test_solve_rejects_bad_input(args, message):
    call = {"flows": [[3.0, 1.0], [1.0, 3.0]], "sigma": 5.0} | args
    with pytest.raises(TradeDataError, match=message):
        solve(**call)


# --- Properties over random worlds --------------------------------------------------------------


@st.composite
def worlds(draw):
    """Random worlds, all trading, any openness, trade imbalances within 20 % of trade."""
    n = draw(st.integers(2, 7))
    base = draw(arrays(float, (n, n), elements=st.floats(0.0, 100.0)))
    tilt = draw(arrays(float, (n, n), elements=st.floats(-0.2, 0.2)))
    x = (base + base.T) / 2 * (1 + tilt)
    x[np.arange(n), np.roll(np.arange(n), 1)] += 1.0  # a ring of trade: nobody is autarkic
    x[np.diag_indices(n)] = draw(arrays(float, n, elements=st.floats(1.0, 1000.0)))
    t = draw(arrays(float, (n, n), elements=st.floats(0.5, 2.0)))
    np.fill_diagonal(t, 1.0)
    return x, t, draw(st.floats(1.2, 12.0))


@settings(max_examples=60, deadline=None)
@given(worlds(), st.sampled_from(["world_share", "output_ratio"]))
def test_properties_over_random_worlds(world, imbalance):
    x, t, sigma = world
    eq = solve(x, sigma, t, imbalance=imbalance)
    y, e = x.sum(axis=1), x.sum(axis=0)
    assert eq.residual < 1e-10
    assert np.all(eq.flows >= 0) and np.all(eq.flows[x == 0] == 0)
    np.testing.assert_allclose(eq.flows.sum(axis=0), eq.expenditure * e, rtol=1e-10)
    kappa = eq.flows.sum() / (eq.output * y).sum()  # 1 under world_share
    if imbalance == "world_share":
        assert kappa == pytest.approx(1.0, rel=1e-12)
    np.testing.assert_allclose(eq.flows.sum(axis=1), kappa * eq.output * y, rtol=1e-9)
    pi_hat = (np.diag(eq.flows) / eq.flows.sum(axis=0)) / (np.diag(x) / e)
    np.testing.assert_allclose(eq.real_output, pi_hat ** (1 / (1 - sigma)), rtol=1e-8)
    # the numeraire and the order of countries do not matter
    order = np.arange(len(x))[::-1]
    other = solve(x[np.ix_(order, order)], sigma, t[np.ix_(order, order)], imbalance=imbalance)
    np.testing.assert_allclose(other.welfare[order], eq.welfare, rtol=1e-7)
    np.testing.assert_allclose(other.flows[np.ix_(order, order)], eq.flows, rtol=1e-6)


@settings(max_examples=30, deadline=None)
@given(worlds())
def test_zero_shock_is_the_identity_on_random_worlds(world):
    x, _, sigma = world
    eq = solve(x, sigma)
    np.testing.assert_allclose(eq.flows, x, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(eq.welfare, 1.0, rtol=1e-12)


# --- Tables on ISO codes ------------------------------------------------------------------------


def long_flows(x: np.ndarray, codes: list[str]) -> pd.DataFrame:
    rows = [(a, b, x[i, j]) for i, a in enumerate(codes) for j, b in enumerate(codes) if x[i, j]]
    return pd.DataFrame(rows, columns=["exporter", "importer", "value"])


def test_solve_table_matches_the_matrix_api_on_iso_codes():
    codes = ["USA", "MEX", "BRA", "CHN"]  # deliberately unsorted
    x = random_world(4)
    x[1, 2] = 0.0  # a missing pair is a zero flow
    shock = pd.DataFrame(
        {"exporter": ["CHN", "CHN"], "importer": ["USA", "MEX"], "cost_factor": [1.25, 1.25]}
    )
    countries, flows = solve_table(long_flows(x, codes), shock, 4.0, reference="USA")
    order = sorted(codes)  # results come sorted by code
    perm = [codes.index(c) for c in order]
    t = np.ones((4, 4))
    t[codes.index("CHN"), [codes.index("USA"), codes.index("MEX")]] = 1.25
    eq = solve(x[np.ix_(perm, perm)], 4.0, t[np.ix_(perm, perm)], reference=order.index("USA"))
    assert list(countries.columns) == list(RESULT_COLUMNS)
    assert countries.country.tolist() == order
    np.testing.assert_allclose(countries.welfare_change_pct, 100 * (eq.welfare - 1))
    np.testing.assert_allclose(countries.imr_change_pct, 100 * (eq.imr - 1))
    assert countries.attrs["iterations"] == eq.iterations
    assert len(flows) == 15 and not ((flows.exporter == "MEX") & (flows.importer == "BRA")).any()
    usa_chn = flows.set_index(["exporter", "importer"]).loc[("CHN", "USA")]
    assert usa_chn.change_pct < 0


def test_solve_table_with_a_tariff_change():
    flows = long_flows(np.array([[80.0, 20.0], [20.0, 80.0]]), ["ARG", "BRA"])
    shock = pd.DataFrame({"exporter": ["ARG"], "importer": ["BRA"]})
    shock["cost_factor"] = tariff_factor(0.12, 0.0)  # Brazil drops a 12 % tariff on Argentina
    countries, _ = solve_table(flows, shock, 5.0)
    arg = countries.set_index("country").loc["ARG"]
    assert arg.exports_change_pct > 0 and arg.factory_price_change_pct > 0


# --- Command line -------------------------------------------------------------------------------

FLOWS = "exporter,importer,value\nARG,ARG,80\nARG,BRA,20\nBRA,ARG,20\nBRA,BRA,80\n"
SHOCK = "exporter,importer,cost_factor\nARG,BRA,0.9\nBRA,ARG,0.9\n"


@pytest.fixture
def files(tmp_path):
    def write(name: str, text: str | bytes) -> str:
        path = tmp_path / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        return str(path)

    return write


def test_cli_prints_results_and_iterations(files, capsys):
    assert cli(["ge", files("f.csv", FLOWS), "--shock", files("s.csv", SHOCK), "--sigma", "5"]) == 0
    out = capsys.readouterr().out
    assert "solved 2 economies in 1 iterations" in out
    assert "welfare_change_pct" in out and "2.5236" in out  # (0.8 + 0.2 / 0.9^4)^(1/4)


def test_cli_writes_result_and_flows_atomically(files, tmp_path, capsys):
    out, flows_out = tmp_path / "result.csv", tmp_path / "new_flows.csv"
    args = ["ge", files("f.csv", FLOWS), "--shock", files("s.csv", SHOCK), "--sigma", "5"]
    assert cli([*args, "--reference", "BRA", "--out", str(out), "--flows-out", str(flows_out)]) == 0
    result = pd.read_csv(out)
    assert list(result.columns) == list(RESULT_COLUMNS)
    assert result.country.tolist() == ["ARG", "BRA"]
    assert result.welfare_change_pct.tolist() == pytest.approx([2.5236407] * 2)
    new = pd.read_csv(flows_out)
    assert list(new.columns) == ["exporter", "importer", "value", "baseline_value", "change_pct"]
    assert new.value.sum() == pytest.approx(200.0)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "f.csv",
        "new_flows.csv",
        "result.csv",
        "s.csv",
    ]  # no temporary files left behind
    assert "iterations" in capsys.readouterr().out


NO_BRA = FLOWS.replace("BRA,BRA,80\n", "")
BAD_INPUT = {  # case: (which file, its text, expected message)
    "negative flow": ("flows", FLOWS.replace(",20\n", ",-20\n", 1), "row 2 (exporter=ARG, "
                      "importer=BRA): value -20 must be a non-negative number"),
    "NaN flow": ("flows", FLOWS.replace(",20\n", ",NaN\n", 1), "row 2 (exporter=ARG, "
                 "importer=BRA): value NaN (missing)"),
    "empty flow": ("flows", FLOWS.replace(",20\n", ",\n", 1), "row 2 (exporter=ARG, "
                   "importer=BRA): value NaN (missing)"),
    "text flow": ("flows", FLOWS.replace(",20\n", ",lots\n", 1), "value 'lots' is not a number"),
    "missing domestic flow": ("flows", NO_BRA, "missing domestic flow for BRA"),
    "missing flow column": ("flows", FLOWS.replace("value", "usd"), "missing column(s) value"),
    "duplicate flow pair": ("flows", FLOWS + "ARG,BRA,5\n", "duplicate pair exporter=ARG, "
                            "importer=BRA (rows 2 and 5)"),
    "no flows": ("flows", "exporter,importer,value\n", "no flows"),
    "isolated country": ("flows", FLOWS + "CUB,CUB,9\n", "CUB trade with no other country"),
    "unknown shock country": ("shock", SHOCK + "ARG,CHL,0.9\n", "row 3 (exporter=ARG, "
                              "importer=CHL): unknown country 'CHL' in importer"),
    "zero cost factor": ("shock", SHOCK.replace(",0.9\n", ",0\n", 1), "row 1 (exporter=ARG, "
                         "importer=BRA): cost_factor 0 must be a positive number"),
    "negative cost factor": ("shock", SHOCK.replace(",0.9\n", ",-1\n", 1),
                             "cost_factor -1 must be a positive number"),
    "missing shock column": ("shock", SHOCK.replace("cost_factor", "factor"),
                             "missing column(s) cost_factor"),
    "duplicate shock pair": ("shock", SHOCK + "BRA,ARG,0.8\n", "duplicate pair exporter=BRA, "
                             "importer=ARG (rows 2 and 3)"),
    "binary file": ("flows", b"\xff\xfe\x00\x01", "cannot read"),
    "empty file": ("shock", "", "cannot read"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_cli_rejects_bad_files_with_a_message(case, files, capsys):
    which, text, message = BAD_INPUT[case]
    paths = {"flows": files("f.csv", FLOWS), "shock": files("s.csv", SHOCK)}
    paths[which] = files(f"bad_{which}.csv", text)
    assert cli(["ge", paths["flows"], "--shock", paths["shock"], "--sigma", "5"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {'cannot read ' if 'cannot' in message else ''}{paths[which]}")
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--sigma", "1"], "--sigma must be > 1, got 1"),
        (["--sigma", "0.5"], "--sigma must be > 1, got 0.5"),
        (["--sigma", "5", "--reference", "USA"], "--reference USA is not a country in"),
        (["--sigma", "5", "--out", "/no/such/dir/r.csv"], "cannot write /no/such/dir/r.csv"),
    ],
)
def test_cli_rejects_bad_options(extra, message, files, capsys):
    args = ["ge", files("f.csv", FLOWS), "--shock", files("s.csv", SHOCK), *extra]
    assert cli(args) == 2
    assert message in capsys.readouterr().err


def test_cli_missing_and_directory_files(files, tmp_path, capsys):
    shock = files("s.csv", SHOCK)
    for path in (str(tmp_path / "absent.csv"), str(tmp_path)):
        assert cli(["ge", path, "--shock", shock, "--sigma", "5"]) == 2
        assert f"error: cannot read {path}" in capsys.readouterr().err


def test_cli_reports_non_convergence(files, capsys):
    flows = "exporter,importer,value\nA,A,5\nA,B,1\nB,A,2\nB,B,7\nC,C,4\nC,A,1\n"
    shock = "exporter,importer,cost_factor\nA,B,0.5\n"
    args = ["ge", files("f.csv", flows), "--shock", files("s.csv", shock), "--sigma", "5"]
    assert cli([*args, "--max-iter", "2"]) == 1
    assert "did not converge in 2 iterations" in capsys.readouterr().err


def test_cli_installed_command_in_a_subprocess(files):
    geosim = Path(sys.executable).with_name("geosim")
    flows, shock = files("f.csv", FLOWS), files("s.csv", SHOCK)
    bad = files("bad.csv", NO_BRA)
    ok = subprocess.run(
        [geosim, "ge", flows, "--shock", shock, "--sigma", "5"], capture_output=True, text=True
    )
    assert ok.returncode == 0 and "solved 2 economies" in ok.stdout
    failed = subprocess.run(
        [geosim, "ge", bad, "--shock", shock, "--sigma", "5"], capture_output=True, text=True
    )
    assert failed.returncode == 2
    assert f"error: {bad}: missing domestic flow for BRA" in failed.stderr
    assert "Traceback" not in failed.stderr


# --- Agreement with gegravity (its own sample data; see tests/data/gegravity/peer.py) ------------


@pytest.fixture(scope="module")
def gegravity_comparison() -> pd.DataFrame:
    """Run gegravity once per session and compare it with geosim like for like (~4 s)."""
    spec = importlib.util.spec_from_file_location("gegravity_peer", PEER)
    peer = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(peer)
    return peer.comparison(peer.run()).set_index(["part", "quantity"])


def test_conditional_equilibrium_matches_gegravity(gegravity_comparison):
    gaps = gegravity_comparison.loc["conditional", "max_gap"]
    assert set(gaps.index) == {"imr", "omr"}
    assert gaps.max() < 1e-8


def test_gegravity_table_is_one_step_from_the_conditional_equilibrium(gegravity_comparison):
    gaps = gegravity_comparison.loc["one_step", "max_gap"]
    assert len(gaps) == 5 and gaps.max() < 1e-8


@pytest.mark.parametrize("imbalance", ["output_ratio", "world_share"])
def test_gegravity_structural_gravity_confirms_the_full_equilibrium(
    gegravity_comparison, imbalance
):
    gaps = gegravity_comparison.loc[f"verified[{imbalance}]", "max_gap"]
    assert set(gaps.index) == {"flows", "imr", "omr", "factory price"}
    assert gaps.max() < 1e-8


def test_full_equilibrium_vs_gegravity_one_step_table(gegravity_comparison):
    # gegravity stops after one step, so its table differs from the converged equilibrium by
    # second-round effects: here at most 0.15 pp on trade and 0.01 pp on real GDP / welfare.
    gaps = gegravity_comparison.loc["vs_table[output_ratio]", "max_gap"]
    assert gaps.max() < 0.002
    assert gaps[["real GDP", "welfare"]].max() < 0.0002
