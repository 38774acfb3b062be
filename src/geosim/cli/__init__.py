"""The `geosim` command line: `main()` only dispatches to one module per sub-command.

Each sub-command module under `geosim.cli` defines `add_parser(subparsers)` and `main(args)`.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from geosim import __version__

# Sub-command modules, in the order `geosim --help` lists them.
COMMANDS = ["run", "compare", "backtest", "validate", "list", "sweep", "analyze", "viz", "ge",
            "data", "demo"]


class UserError(Exception):
    """An error the user can fix (bad file, field or flag): printed without traceback, exit 2."""


def _user_errors() -> tuple[type[Exception], ...]:
    """Library errors that describe bad input (file, field, value): exit code 2, no traceback."""
    from geosim.parameters import ParameterError
    from geosim.results import RunDirError
    from geosim.scenario import ScenarioError
    from geosim.trade import TradeDataError

    return (UserError, ParameterError, RunDirError, ScenarioError, TradeDataError)


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every available sub-command."""
    parser = argparse.ArgumentParser(
        prog="geosim",
        description="Agent-based geoeconomic simulation of trade and investment in the Americas.",
    )
    parser.add_argument("--version", action="version", version=f"geosim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"geosim.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"geosim.cli.{name}":
                continue  # sub-command not built yet
            raise
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, run the sub-command and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 0
    try:
        return int(args.handler(args) or 0)
    except _user_errors() as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `geosim list | head`
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
