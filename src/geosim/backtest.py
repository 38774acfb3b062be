"""Back-test scoring: simulated 2023 partner shares against the observed ones, and persistence.

Owns the skill table (per economy and indicator: observed 2012 and 2023 shares, the simulated
2023 share, the model's error and persistence's error), the rule choosing the economies the
skill score averages over, the summary (mean absolute errors) and its Markdown rendering.
Observed shares are computed from each world's flows with `geosim.metrics.partner_shares`;
persistence carries the 2012 share to 2023.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from geosim.data import INDICATORS, World
from geosim.metrics import partner_shares

SKILL_COLUMNS = ("iso3", "indicator", "observed_2012", "observed_2023", "simulated_2023",
                 "error_pp", "persistence_error_pp")
N_SCORED = 12
_TIE_PP = 1e-9  # errors closer than this are a tie (floating-point noise), not a win


def observed_shares(world: World) -> pd.DataFrame:
    """China's and the US's shares of each economy's exports and imports in a world (fractions),
    one row per economy, one column per indicator in `geosim.data.INDICATORS`."""
    export_share, import_share = partner_shares(world.flows)
    china, usa = world.index("CHN"), world.index("USA")
    return pd.DataFrame({
        "china_export_share": export_share[:, china],
        "us_export_share": export_share[:, usa],
        "china_import_share": import_share[:, china],
        "us_import_share": import_share[:, usa],
    }, index=pd.Index(world.iso3, name="iso3"))


def skill_table(simulated: pd.DataFrame, observed_2012: World, observed_2023: World,
                economies: list[str], year: int | None = None) -> pd.DataFrame:
    """Per economy and indicator: observed 2012 and 2023 shares, the simulated share, errors.

    Args:
        simulated: a run's countries frame (columns year, iso3 and the indicators).
        observed_2012: the start-year world (persistence carries its shares forward).
        observed_2023: the world the simulation is scored against.
        economies: ISO3 codes to score, in the order of the table.
        year: simulated year to score (default the 2023 world's base year); a short run scores
            its last year instead, the column names stay.

    Returns:
        Columns `SKILL_COLUMNS`: shares as fractions; error_pp = |simulated − observed_2023| ×
        100 and persistence_error_pp = |observed_2012 − observed_2023| × 100.

    Raises:
        ValueError: a missing column, a year not simulated, or an economy absent from a world or
            from the simulation (the message names it).
    """
    year = observed_2023.base_year if year is None else year
    missing = [c for c in ("year", "iso3", *INDICATORS) if c not in simulated.columns]
    if missing:
        raise ValueError(f"simulated countries frame: missing column(s) {', '.join(missing)}")
    sim = simulated[simulated["year"] == year].set_index("iso3")
    if sim.empty:
        years = sorted(simulated["year"].unique())
        raise ValueError(f"simulated countries frame: no rows for year {year} "
                         f"(years {years[0]}-{years[-1]})" if years else "no rows")
    first, last = observed_shares(observed_2012), observed_shares(observed_2023)
    for label, frame in (("2012 world", first), ("2023 world", last), ("simulation", sim)):
        absent = [c for c in economies if c not in frame.index]
        if absent:
            raise ValueError(f"{label}: economies not found: {', '.join(absent)}")
    rows = []
    for code in economies:
        for indicator in INDICATORS:
            o12, o23 = float(first.at[code, indicator]), float(last.at[code, indicator])
            s23 = float(sim.at[code, indicator])
            rows.append((code, indicator, o12, o23, s23, abs(s23 - o23) * 100,
                         abs(o12 - o23) * 100))
    return pd.DataFrame(rows, columns=list(SKILL_COLUMNS))


def good_data(world: World, iso3: str) -> bool:
    """True when the economy's exports to China and to the US are its own reports ("observed"),
    not mirrored, share-derived or imputed."""
    i = world.index(iso3)
    return all(world.provenance[i, world.index(p)] == "observed" for p in ("CHN", "USA"))


def scored_economies(observed_2012: World, observed_2023: World, n: int = N_SCORED) -> list[str]:
    """The n largest Latin American economies by 2012 GDP with good data in both worlds.

    Good data (`good_data`): the economy's exports to China and to the US are observed (its own
    reports) in the 2012 world and in the 2023 world; economies whose flows were mirrored,
    derived from shares or imputed (e.g. Venezuela, Cuba, Haiti) are left out.
    """
    lac = [c for c in observed_2012.lac if c in observed_2023.iso3]
    good = [c for c in lac if good_data(observed_2012, c) and good_data(observed_2023, c)]
    return sorted(good, key=lambda c: -observed_2012.gdp[observed_2012.index(c)])[:n]


def skill_summary(table: pd.DataFrame, economies: Sequence[str] | None = None) -> pd.DataFrame:
    """Mean absolute error (pp) of the model and of persistence per indicator.

    Args:
        table: a `skill_table`.
        economies: the economies to average over (default every economy in the table; the
            command passes `scored_economies`).

    Returns:
        One row per indicator: indicator, n, model_mae_pp, persistence_mae_pp,
        beats_persistence (model error below persistence's; a tie is not a win).
    """
    rows = table if economies is None else table[table["iso3"].isin(list(economies))]
    if economies is not None:
        absent = sorted(set(economies) - set(rows["iso3"]))
        if absent:
            raise ValueError(f"skill table: economies not found: {', '.join(absent)}")
    out = []
    for indicator in INDICATORS:
        part = rows[rows["indicator"] == indicator]
        model, persistence = part["error_pp"].mean(), part["persistence_error_pp"].mean()
        out.append({"indicator": indicator, "n": len(part), "model_mae_pp": model,
                    "persistence_mae_pp": persistence,
                    "beats_persistence": bool(model < persistence - _TIE_PP)})
    return pd.DataFrame(out)


_LABELS = {"china_export_share": "China, exports", "us_export_share": "US, exports",
           "china_import_share": "China, imports", "us_import_share": "US, imports"}


def skill_markdown(table: pd.DataFrame, summary: pd.DataFrame | None = None) -> str:
    """Render the skill table (and, if given, its summary) as Markdown tables, shares in %."""
    parts = []
    if summary is not None:
        lines = ["| indicator | economies | model MAE (pp) | persistence MAE (pp) | beats "
                 "persistence |", "|---|---:|---:|---:|---|"]
        for r in summary.itertuples():
            lines.append(f"| {_LABELS.get(r.indicator, r.indicator)} | {r.n} | "
                         f"{r.model_mae_pp:.1f} | {r.persistence_mae_pp:.1f} | "
                         f"{'yes' if r.beats_persistence else 'no'} |")
        parts.append("\n".join(lines))
    lines = ["| economy | indicator | 2012 observed (%) | 2023 observed (%) | 2023 simulated (%) "
             "| model error (pp) | persistence error (pp) |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for r in table.itertuples():
        lines.append(f"| {r.iso3} | {_LABELS.get(r.indicator, r.indicator)} | "
                     f"{100 * r.observed_2012:.1f} | {100 * r.observed_2023:.1f} | "
                     f"{100 * r.simulated_2023:.1f} | {r.error_pp:.1f} | "
                     f"{r.persistence_error_pp:.1f} |")
    parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"
