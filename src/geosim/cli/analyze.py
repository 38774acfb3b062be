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
                   help="scenario discovery: runs where OUTCOME<VALUE (or >) are of interest "
                   "(default: the region's China share below its median; 'none' to skip)")
    p.add_argument("--no-figures", action="store_true", help="tables only")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Analyse the sweep and print the headline tables (shares in percent)."""
    from pathlib import Path

    from geosim.cli import UserError
    from geosim.experiments import SweepError
    from geosim.experiments.analysis import analyze
    from geosim.experiments.store import load_meta

    folder = Path(args.directory)
    if folder.is_dir() and not os.access(folder, os.W_OK):
        raise UserError(f"{args.directory}: read-only folder; geosim analyze writes "
                        f"{folder / 'analysis'}/: copy the sweep's folder somewhere writable")
    try:
        res = analyze(args.directory, target=args.target, figures=not args.no_figures)
        units = outcome_units(load_meta(args.directory))
    except SweepError as exc:
        raise UserError(str(exc)) from None
    with pd.option_context("display.width", 120, "display.max_columns", 20,
                           "display.float_format", "{:.4g}".format):
        print("Outcomes across runs (shares in %, their changes in pp; replicate_sd: spread "
              "across seeds of one sample)")
        print(in_percent(res.summary.drop(columns=["min", "max"]), units,
                         ["mean", "sd", "median", "p05", "p95", "replicate_sd"])
              .to_string(index=False))
        if res.sensitivity is not None:
            print("\nSensitivity (ranked)")
            print(res.sensitivity.to_string(index=False))
        else:
            print("\nMain effects (mean outcome at each parameter's lowest / highest values)")
            print(in_percent(res.effects.head(12), units, ["low_mean", "high_mean", "swing"])
                  .to_string(index=False))
        if res.prim:
            p = res.prim
            print(f"\nScenario discovery (PRIM) for {p['target']}: box of {p['mass']:.0%} of runs "
                  f"holds {p['coverage']:.0%} of them at density {p['density']:.0%} "
                  f"(base {p['base_density']:.0%})")
            print(p["box"].to_string(index=False) if not p["box"].empty else "  (no restriction)")
    for note in res.notes:
        print(f"note: {note}")
    print(f"\n{len(res.files)} files written to {res.directory / 'analysis'}")
    return 0


def outcome_units(meta: dict) -> dict[str, tuple[float, str]]:
    """(scale, unit) of each outcome as printed: a share x100 in '%', a change of a share x100
    in 'pp'; pct_change is already in '%'; levels and indices stay as they are."""
    units = {}
    for o in meta.get("design", {}).get("outcomes", []):
        if o["reduce"] == "pct_change":
            units[o["name"]] = (1.0, "%")
        elif "share" in o["metric"]:
            change = o["reduce"] == "change" or o.get("vs_reference")
            units[o["name"]] = (100.0, "pp" if change else "%")
        else:
            units[o["name"]] = (1.0, "")
    return units


def in_percent(table: pd.DataFrame, units: dict[str, tuple[float, str]],
               columns: list[str]) -> pd.DataFrame:
    """A copy of a per-outcome table with share columns in percent and a `unit` column."""
    table = table.copy()
    scale = table["outcome"].map(lambda o: units.get(o, (1.0, ""))[0])
    for col in columns:
        if col in table:
            table[col] = table[col] * scale
    table.insert(1, "unit", table["outcome"].map(lambda o: units.get(o, (1.0, ""))[1]))
    return table
