"""Diagnostic of the back-test's US export share (docs/validation.md): how much of the miss is the
demand side of the one-sector engine?

Re-runs `geosim backtest --seed 1` with the observed nominal GDP paths of some economies replaced
by the world's (their demand then grows like the world's, removing every relative demand shift)
and prints the mean absolute errors over the scored economies. A bound, not a model variant:
nothing here is used by geosim.

    python docs/diagnostics/backtest_demand.py
"""

from __future__ import annotations

from unittest import mock

from geosim import references, runner
from geosim.backtest import scored_economies, skill_summary, skill_table
from geosim.data import observed_gdp
from geosim.reports import BACKTEST_SCENARIO, observed_worlds

VARIANTS = {
    "observed paths (the back-test)": (),
    "US demand grows like the world's": ("USA",),
    "China's demand grows like the world's": ("CHN",),
    "US and China like the world": ("USA", "CHN"),
    "every economy like the world": ("ALL",),
}


def world_like(codes: tuple[str, ...]) -> dict[tuple[str, int], float]:
    """Observed GDP with the paths of `codes` (ALL: every economy) rescaled to world growth
    since 2012 (the world: the sum of the shipped economies, ROW included)."""
    gdp = observed_gdp()
    world = {y: sum(v for (_, yy), v in gdp.items() if yy == y) for y in range(2010, 2024)}
    return {(iso, y): (gdp[(iso, 2012)] * world[y] / world[2012]
                       if (iso in codes or "ALL" in codes) and (iso, 2012) in gdp else v)
            for (iso, y), v in gdp.items()}


def main() -> None:
    first, last = observed_worlds()
    scored = scored_economies(first, last)
    economies = [c for c in first.lac if c in last.iso3]
    print("| variant | China exp. | US exp. | China imp. | US imp. |\n|---|---:|---:|---:|---:|")
    for label, codes in VARIANTS.items():
        references.forget()  # business-as-usual references are cached by parameters only
        with mock.patch("geosim.drivers.observed_gdp", return_value=world_like(codes)):
            sim = runner.simulate(BACKTEST_SCENARIO, seed=1, world=first)
        summary = skill_summary(skill_table(sim.countries, first, last, economies), scored)
        cells = " | ".join(f"{v:.1f}" for v in summary["model_mae_pp"])
        print(f"| {label} | {cells} |")
    cells = " | ".join(f"{v:.1f}" for v in summary["persistence_mae_pp"])
    print(f"| persistence | {cells} |")


if __name__ == "__main__":
    main()
