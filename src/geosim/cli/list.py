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
    from geosim.scenario import list_scenarios

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
