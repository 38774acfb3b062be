"""The `geosim` command line: `main()` only dispatches to one module per sub-command.

Each sub-command module under `geosim.cli` defines `add_parser(subparsers)` and `main(args)`.
"""

from __future__ import annotations

import argparse
import importlib
import math
import sys

from geosim import __version__

# Sub-command modules, in the order `geosim --help` lists them.
COMMANDS = ["run", "compare", "report", "backtest", "validate", "list", "sweep", "analyze", "viz",
            "ge", "data", "demo"]


SEED_LIMIT = 2**32  # numpy's SeedSequence takes any non-negative integer; keep seeds portable


class UserError(Exception):
    """An error the user can fix (bad file, field or flag): printed without traceback, exit 2."""


# -- argparse types: every numeric option is checked here, with a message naming the rule --------


def _whole(text: str) -> int:
    try:
        return int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def seed(text: str) -> int:
    """A random seed: a whole number in 0 .. 2**32 - 1."""
    value = _whole(text)
    if not 0 <= value < SEED_LIMIT:
        raise argparse.ArgumentTypeError(f"expected a seed from 0 to {SEED_LIMIT - 1}, got {value}")
    return value


def year(text: str) -> int:
    """A calendar year in 1900 .. 2100 (scenarios then check their own horizon)."""
    value = _whole(text)
    if not 1900 <= value <= 2100:
        raise argparse.ArgumentTypeError(f"expected a year from 1900 to 2100, got {value}")
    return value


def positive_int(text: str) -> int:
    """A whole number >= 1 (workers, iterations)."""
    value = _whole(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value}")
    return value


def port(text: str) -> int:
    """A TCP port, 1 .. 65535."""
    value = _whole(text)
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"expected a port from 1 to 65535, got {value}")
    return value


def positive_float(text: str) -> float:
    """A finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (0 < value < float("inf")):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text}")
    return value


def output_path(text: str) -> str:
    """An output path (--out): not empty, no NUL byte (the output rule checks the rest)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a path, got an empty text (leave the option "
                                         "out for the default place)")
    if "\x00" in text:
        raise argparse.ArgumentTypeError("expected a path, got a NUL byte in it")
    return text


def parameter_setting(text: str) -> tuple[str, float]:
    """A parameter override NAME=VALUE (the value a number; the name is checked against the
    parameter table when the run starts)."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"parameter '{name.strip()}': expected a number, got {value!r}") from None
    if not math.isfinite(number):
        raise argparse.ArgumentTypeError(
            f"parameter '{name.strip()}': expected a finite number, got {value.strip()}")
    return name.strip(), number


def add_parameter_option(parser: argparse.ArgumentParser) -> None:
    """`--param NAME=VALUE`, repeatable: override entries of the parameter table."""
    parser.add_argument("--param", type=parameter_setting, action="append", default=[],
                        metavar="NAME=VALUE",
                        help="override a parameter of the model (repeatable; `geosim list "
                        "--parameters` shows them)")


def parameter_overrides(settings: list[tuple[str, float]]) -> dict[str, float]:
    """The overrides of repeated --param options; a name given twice is an error. A value
    outside the parameter's documented range is taken (an explicit choice, as a sensitivity run
    needs) with a note on stderr; names and hard limits are checked when the run starts."""
    from geosim.parameters import PARAMETERS

    overrides: dict[str, float] = {}
    for name, value in settings:
        if name in overrides:
            raise UserError(f"--param {name} given twice")
        overrides[name] = value
        p = PARAMETERS.get(name)
        if p is not None and not p.low <= value <= p.high:
            print(f"note: --param {name}={value:g} is outside its documented range "
                  f"{p.low:g}..{p.high:g} ({p.unit})", file=sys.stderr)
    return overrides


def _user_errors() -> tuple[type[Exception], ...]:
    """Library errors that describe bad input (file, field, value): exit code 2, no traceback."""
    from geosim.inputs import InputFileError
    from geosim.parameters import ParameterError
    from geosim.results import RunDirError
    from geosim.scenario import ScenarioError
    from geosim.trade import TradeDataError

    return (UserError, InputFileError, ParameterError, RunDirError, ScenarioError,
            TradeDataError)


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
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version (0) or a bad option (2; argparse said why)
        return exc.code if isinstance(exc.code, int) else 2
    except KeyboardInterrupt:  # Ctrl-C while the sub-commands load
        print("interrupted", file=sys.stderr)
        return 130
    if not getattr(args, "handler", None):
        parser.print_help()
        return 0
    try:
        return int(args.handler(args) or 0)
    except _user_errors() as exc:
        print(f"error: {_bounded(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `geosim list | head`
        sys.stderr.close()
        return 0
    except OSError as exc:  # a path the system refuses: too long, no permission, disk full...
        name = str(exc.filename or "")
        name = name if len(name) <= 120 else name[:117] + "..."
        print(f"error: {name + ': ' if name else ''}{exc.strerror or exc}", file=sys.stderr)
        return 2


MAX_MESSAGE = 2000  # characters of an error message; the rest is cut (a last resort: readers
# shorten the values they quote, `geosim.inputs.shorten`)


def _bounded(message: str) -> str:
    if len(message) <= MAX_MESSAGE:
        return message
    return f"{message[:MAX_MESSAGE]}... ({len(message) - MAX_MESSAGE} more characters cut)"


if __name__ == "__main__":
    sys.exit(main())
