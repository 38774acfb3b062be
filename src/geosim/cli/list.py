"""`geosim list`: the shipped scenarios with their status and description."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register `geosim list`."""
    p = sub.add_parser("list", help="list scenarios", description="List scenario files with "
                       "their status and one-line description.")
    p.add_argument("--dir", default=None, help="folder of scenario files (default scenarios/)")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Print one line per scenario."""
    from geosim.scenario import list_scenarios

    scenarios = list_scenarios(args.dir)
    width = max((len(s.name) for s in scenarios), default=4)
    for s in scenarios:
        print(f"{s.name:<{width}}  {s.status:<12}  {s.description}")
    return 0
