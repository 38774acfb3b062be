"""`geosim analyze DIR`: summary tables, sensitivity indices and figures of a sweep's results."""

from __future__ import annotations

import argparse
import os

import pandas as pd


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register `geosim analyze`."""
    p = sub.add_parser(
        "analyze", help="summarise a sweep: tables, sensitivity indices, plots",
        description="Read a sweep's results (DIR/ledger.sqlite) and write summary tables, "
        "Sobol or Morris sensitivity indices, main effects, a PRIM box and PNG figures under "
        "DIR/analysis/.")
    p.add_argument("directory", metavar="DIR", help="a sweep's output directory")
    p.add_argument("--target", default=None, metavar="OUTCOME<VALUE",
                   help="scenario discovery: runs where OUTCOME<VALUE (or >) are of interest, "
                   "VALUE in the outcome's unit (shares in %%, their differences in pp; default: "
                   "the region's China share below its median; 'none' to skip)")
    p.add_argument("--no-figures", action="store_true", help="tables only")
    p.add_argument("--out", default=None, metavar="OUT",
                   help="analysis folder (default DIR/analysis/): another folder keeps earlier "
                   "analyses, e.g. DIR/analysis_gamma/")
    p.add_argument("--prim-box", type=non_negative_int, default=None, metavar="K",
                   help="report step K of PRIM's peeling trajectory (printed, and in "
                   "prim_trajectory.csv) instead of the default choice")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Analyse the sweep and print the headline tables (in the outcomes' units)."""
    from pathlib import Path

    from geosim.cli import UserError
    from geosim.experiments import SweepError
    from geosim.experiments.analysis import analyze

    folder = Path(args.directory)
    if folder.is_dir() and not os.access(folder, os.W_OK):
        raise UserError(f"{args.directory}: read-only folder; geosim analyze writes "
                        f"{folder / 'analysis'}/: copy the sweep's folder somewhere writable")
    try:
        res = analyze(args.directory, target=args.target, figures=not args.no_figures,
                      out=args.out, prim_box=args.prim_box)
    except SweepError as exc:
        raise UserError(str(exc)) from None
    with pd.option_context("display.width", 120, "display.max_columns", 20,
                           "display.float_format", "{:.4g}".format):
        print("Outcomes across runs (unit per outcome; replicate_sd: spread across seeds of one "
              "sample)")
        print(res.summary.drop(columns=["min", "max"]).to_string(index=False))
        if res.sensitivity is not None:
            print("\nSensitivity (ranked)")
            print(res.sensitivity.to_string(index=False))
        else:
            print("\nMain effects (mean outcome at each parameter's lowest / highest values)")
            print(res.effects.head(12).to_string(index=False))
        if res.robustness is not None:
            print("\nRobustness of each lever setting across the worlds (parameter samples x "
                  "seeds); share_lowest/highest: how often it gives the lowest/highest value")
            print(res.robustness.drop(columns=["min", "max"]).to_string(index=False))
        if res.prim:
            p = res.prim
            unit = f" {p['unit']}" if p["unit"] else ""
            print(f"\nScenario discovery (PRIM) for {p['target']}{unit}: box of {p['mass']:.0%} "
                  f"of runs holds {p['coverage']:.0%} of them at density {p['density']:.0%} "
                  f"(base {p['base_density']:.0%})")
            print(p["box"].to_string(index=False) if not p["box"].empty else "  (no restriction)")
            print("Peeling trajectory (choose a step with --prim-box K; * = reported):")
            t = p["trajectory"].assign(chosen=p["trajectory"]["chosen"].map({True: "*",
                                                                              False: ""}))
            print(t.to_string(index=False))
    for note in res.notes:
        print(f"note: {note}")
    print(f"\n{len(res.files)} files written to {res.directory}")
    return 0


def non_negative_int(text: str) -> int:
    """argparse type: a whole number >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return value
