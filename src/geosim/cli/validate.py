"""`geosim validate SCENARIO...`: check scenario files against the schema."""

from __future__ import annotations

import argparse
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register `geosim validate`."""
    p = sub.add_parser("validate", help="check scenario files",
                       description="Validate scenario files; exit code 2 if any is invalid.")
    p.add_argument("scenarios", nargs="+", help="scenario files or names")
    p.add_argument("--explain", action="store_true",
                   help="print each resolved scenario (extends applied, event defaults filled) "
                        "as YAML on stdout")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Validate each file; print OK or the error; exit 2 if any failed."""
    from geosim.scenario import ScenarioError, explain, load_scenario

    failed = 0
    for source in args.scenarios:
        try:
            spec = load_scenario(source)
        except ScenarioError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
        else:
            if args.explain:
                print(explain(spec))
                continue
            n = len(spec.events)
            print(f"ok: {spec.path} ({spec.status}, {n} event{'' if n == 1 else 's'}, "
                  f"{spec.start}-{spec.end})")
    return 2 if failed else 0
