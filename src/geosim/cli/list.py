"""`geosim list`: the shipped scenarios with their status and description, or the parameters."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register `geosim list`."""
    p = sub.add_parser("list", help="list scenarios", description="List scenario files with "
                       "their status and one-line description.")
    p.add_argument("--dir", default=None, help="folder of scenario files (default scenarios/)")
    p.add_argument("--parameters", action="store_true",
                   help="list the model's parameters instead: name, default, range, unit, "
                   "description (what --param and scenario files may set)")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Print one line per scenario (or per parameter)."""
    if args.parameters:
        return _print_parameters()
    from pathlib import Path

    from geosim.cli import UserError
    from geosim.scenario import list_scenarios

    if args.dir is not None:
        folder = Path(args.dir)
        if not args.dir.strip():
            raise UserError("--dir: expected a folder, got an empty text")
        if not folder.is_dir():
            raise UserError(f"--dir {args.dir}: " + ("not a folder" if folder.exists() else
                                                     "no such folder"))
        if not any(folder.glob("*.yaml")):
            raise UserError(f"--dir {args.dir}: no scenario files (*.yaml) in this folder")
    scenarios = list_scenarios(args.dir)
    width = max((len(s.name) for s in scenarios), default=4)
    for s in scenarios:
        print(f"{s.name:<{width}}  {s.status:<12}  {s.description}")
    return 0


def _print_parameters() -> int:
    from geosim.parameters import PARAMETERS

    width = max(len(name) for name in PARAMETERS)
    for p in PARAMETERS.values():
        print(f"{p.name:<{width}}  {p.default:>8g}  [{p.low:g}, {p.high:g}] {p.unit}  "
              f"{p.description}")
    return 0
