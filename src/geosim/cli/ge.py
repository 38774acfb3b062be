"""`geosim ge`: solve a general-equilibrium trade counterfactual on a flows table and a shock table.

Reads CSV files, calls the engine in `geosim.trade`, writes or prints per-country percent changes.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from geosim import inputs
from geosim.cli import UserError, output_path, positive_float, positive_int
from geosim.trade import (
    FLOW_RESULT_COLUMNS,
    IMBALANCES,
    RESULT_COLUMNS,
    ConvergenceError,
    TradeDataError,
    cost_factor_from_table,
    country_table,
    flow_table,
    flows_from_table,
    solve,
)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the `ge` sub-command."""
    parser = subparsers.add_parser(
        "ge",
        help="general-equilibrium trade counterfactual on any flows table",
        description=(
            "Solve the one-sector structural gravity model by exact hat algebra. FLOWS.csv has "
            "columns exporter,importer,value (domestic rows included; missing pairs are zero); "
            "SHOCK.csv has exporter,importer,cost_factor (iceberg factors; missing pairs are 1; "
            "a tariff change from t to t' is (1+t')/(1+t)). Results are percent changes."
        ),
    )
    parser.add_argument("flows", metavar="FLOWS.csv", help="baseline flows table")
    parser.add_argument("--shock", metavar="SHOCK.csv", required=True, help="cost-factor table")
    parser.add_argument("--sigma", type=positive_float, required=True,
                        help="elasticity of substitution (> 1)")
    parser.add_argument("--reference", metavar="ISO", help="numeraire country (its price fixed)")
    parser.add_argument("--out", metavar="RESULT.csv", type=output_path,
                        help="write per-country results here (a new file, or a table ge wrote "
                        "before, which is replaced)")
    parser.add_argument("--flows-out", metavar="FLOWS_OUT.csv", type=output_path,
                        help="write new bilateral flows (same rule as --out)")
    parser.add_argument(
        "--imbalance",
        choices=IMBALANCES,
        default="world_share",
        help="deficits as constant shares of world output (default) or constant E/Y ratios",
    )
    parser.add_argument(
        "--conditional",
        action="store_true",
        help="conditional equilibrium: output and expenditure fixed, only resistances adjust",
    )
    parser.add_argument("--tol", type=positive_float, default=1e-10, help="relative tolerance")
    parser.add_argument("--max-iter", type=positive_int, default=20_000, help="iteration cap")
    parser.set_defaults(handler=main)


# Economies a flows table may hold: the engine's Newton step is n x n (assumption: the world has
# about 200 economies, GTAP 141; 1000 keeps a solve within memory and minutes).
MAX_ECONOMIES = 1000


def output_headers() -> tuple[str, ...]:
    """The first lines of the tables `ge` writes: how `--out`/`--flows-out` recognise a file
    geosim wrote (and may replace)."""
    return (",".join(RESULT_COLUMNS), ",".join(FLOW_RESULT_COLUMNS))


def check_outputs(args: argparse.Namespace, sources: tuple[str, ...]) -> None:
    """The output rule for `--out` and `--flows-out`, before any work (`results.check_out_file`):
    never an input, never the same file twice, never a file geosim did not write."""
    from geosim.results import check_distinct_outputs, check_out_file

    check_distinct_outputs({"--out": args.out, "--flows-out": args.flows_out})
    for target in (args.out, args.flows_out):
        if target is not None:
            check_out_file(target, output_headers(), sources=sources)


def read_table(path: str) -> pd.DataFrame:
    """A user CSV table within the input limits (`geosim.inputs.read_table`), with at most
    `MAX_ECONOMIES` distinct codes in its exporter and importer columns."""
    try:
        table = inputs.read_table(path)
    except inputs.InputFileError as exc:
        raise UserError(f"cannot read {exc}") from None
    codes = {c for col in ("exporter", "importer") if col in table for c in table[col].unique()}
    if len(codes) > MAX_ECONOMIES:
        raise UserError(f"{inputs.shorten(path, 200)}: {len(codes)} different country codes; "
                        f"the engine takes at most {MAX_ECONOMIES} economies")
    return table


def main(args: argparse.Namespace) -> int:
    """Run `geosim ge`; return 0 on success and 1 if the solver does not converge."""
    if not args.sigma > 1:  # also rejects NaN
        raise UserError(f"--sigma must be > 1, got {args.sigma:g}")
    if not args.tol > 0 or args.max_iter < 1:
        raise UserError("--tol must be > 0 and --max-iter >= 1")
    check_outputs(args, (args.flows, args.shock))
    try:
        codes, flows = flows_from_table(read_table(args.flows), source=args.flows)
        shock = cost_factor_from_table(read_table(args.shock), codes, source=args.shock)
    except TradeDataError as exc:
        raise UserError(str(exc)) from None
    reference = None
    if args.reference is not None:
        if args.reference not in codes:
            raise UserError(f"--reference {inputs.shorten(args.reference)} is not a country in "
                            f"{args.flows}")
        reference = codes.index(args.reference)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)  # a failed solve says why itself
            eq = solve(
                flows,
                args.sigma,
                shock,
                reference=reference,
                tol=args.tol,
                max_iter=args.max_iter,
                imbalance=args.imbalance,
                conditional=args.conditional,
            )
    except ConvergenceError as exc:
        # The engine speaks Python (imbalance='output_ratio'); here it is an option.
        message = str(exc).replace("imbalance='output_ratio'", "--imbalance output_ratio")
        print(f"error: {message}", file=sys.stderr)
        return 1
    countries = country_table(eq, codes)
    summary = (
        f"solved {len(codes)} economies in {eq.iterations} iterations "
        f"(max relative excess demand {eq.residual:.2g})"
    )
    writers = {}
    if args.out:
        writers[Path(args.out)] = partial(_to_csv, countries)
    if args.flows_out:
        writers[Path(args.flows_out)] = partial(_to_csv, flow_table(eq, flows, codes))
    check_outputs(args, (args.flows, args.shock))  # again: the files may have changed meanwhile
    from geosim.results import write_files

    write_files(writers)
    if args.out:
        print(f"{summary}; wrote {args.out}")
    else:
        print(summary)
        print(countries.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    if args.flows_out:
        print(f"wrote {args.flows_out}")
    return 0


def _to_csv(table: pd.DataFrame, handle) -> None:
    table.to_csv(handle, index=False, float_format="%.10g")
