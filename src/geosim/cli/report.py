"""`geosim report DIR`: one self-contained HTML page for a run, a comparison or a sweep."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register `geosim report`."""
    p = sub.add_parser(
        "report", help="a one-page HTML report of a run, comparison or sweep folder",
        description="Write OUT/report.html: what was run (scenario text, parameters, seed, "
        "version), the headline with its interval, per-country tables with units, the figures, "
        "the accession decisions with their reasons, and the caveats. The page is "
        "self-contained (inline images and styles, no scripts) and makes no network request.")
    p.add_argument("directory", metavar="DIR", help="a run, comparison or sweep folder")
    p.add_argument("--out", default=None, metavar="OUT",
                   help="output folder (default results/reports/<name>/); must be new, empty "
                   "or a previous geosim report, which is replaced")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Write the report and print where it is."""
    from geosim.cli import UserError
    from geosim.experiments import SweepError
    from geosim.report import write_report

    try:
        page = write_report(args.directory, args.out)
    except SweepError as exc:
        raise UserError(str(exc)) from None
    print(f"report written to {page}")
    return 0
