"""The page's explanation panel (like NetLogo's Info tab): the model, the levers, the colours,
the accession rule. Plain Markdown, kept next to the page so it changes with it."""

from __future__ import annotations

from geosim.parameters import PARAMETERS


def _default(name: str) -> str:
    return f"{PARAMETERS[name].default:g}"


INFO = f"""
**What the model is.** geosim simulates trade and investment between 41 economies from 2023:
the 33 countries of Latin America and the Caribbean, the United States, Canada, China, the EU,
Japan, Korea, India and the rest of the world. Each year a general-equilibrium *gravity* trade
model works out who buys from whom, given tariffs, trade agreements, transport costs and the
investment ties between countries, sector by sector (agriculture and food, energy, metals and
ores, machinery and electronics, vehicles, other manufactures, services), with the inputs each
sector buys from the others. Investors (US public and private, Chinese policy banks and
state firms, EU private firms) choose where to put their money; countries drift politically
towards the partners they trade and invest with; trade blocs decide on new members.

**The run and the baseline.** Every tab runs its own model, and beside it the *baseline*
scenario (no policy events) with the same parameters and seed, stepped year by year with it.
The charts draw the baseline dashed; the table's "vs baseline" columns are this run minus the
baseline in the same year, in percentage points (pp): the effect of the policy events you chose.
The baseline shares σ: to see what σ does, compare with a run at its default value (another
tab, or the downloaded CSV).

**The levers** (sidebar; they take effect on **Reset**, a new run from the first year). Every
slider shows the value the chosen scenario has, and sets the value it shows: choosing a
scenario puts the sliders at its policies (the seed stays); a slider moved replaces the
scenario's value, and a slider left where it is keeps the scenario as written. The line "This
run" under the header reads them back from the scenario the run has.

- *Scenario*: a shipped set of policy events (`geosim list`).
- *Who applies to join USMCA* / *USMCA year*: these countries apply in that year (the
  scenario's own applicants, if it has some, when left "as in the scenario"); the members vote
  and each applicant weighs the offer (below).
- *US programme, $bn/yr*: the yearly budget of the US public investment programme (0: none).
  A scenario's own programme keeps its years and targets (e.g. *pivot*: $10 bn/yr 2025-2040);
  a new one runs 2025-2035 in renewables, technology and transport across the region.
- *China lending, $bn/yr*: the yearly lending of Chinese policy banks after the scenario's
  last change to it (default {_default("china_lending_bn")}, business as usual; *pivot*
  multiplies it by 5 from 2026, so its slider shows 5). Another value is set from the year of
  that change (2026 in *pivot*), or from 2025 in a scenario without one; it is a policy, which
  the baseline does not have.
- *US-China tariff, ±pp*: in 2025 the US changes its tariff on Chinese goods by this much,
  and China answers in kind, on top of the scenario's own tariffs (*tariff_escalation* already
  sets 60 % both ways in 2025; its slider still starts at 0).
- *Trade elasticity σ*: the one-sector trade elasticity (default {_default("sigma")}), in
  which the model's estimated trade-cost changes (agreements, trends, investment ties) are
  stated. By sector, tariffs act through each sector's own published elasticity, and a higher
  σ does not always make trade move more: compare with a run at its default.
- *Seed*: the random draws of investors' choices; the same settings and seed give the same run.

**The map.** Circles are Latin American and Caribbean countries at their capitals, area by
GDP. Their colour is China's share of the country's trade (exports plus imports) in even
5-point steps; the black line on the colour bar is the region's share in the first year,
trade-weighted (the region's trade with China over all its trade), the same definition as the
headline and the table. Blue rings: USMCA members. Lines: trade flows, red with China, blue with
the United States, grey for the rest. Grey boxes on the margins: Asia-Pacific (left) and Europe
and the rest of the world (right); they keep their places.

**One sector.** *Sector in the map and table* (above the charts) shows one sector's trade:
the circles' colour becomes China's share of the country's trade in that sector, the lines that
sector's flows, the colour bar names the sector and marks the region's first-year share of it,
and the table's shares and changes are that sector's. The header, the charts and the CSV stay on
all trade. Services are not offered: the data has no trade in services across borders.

**The accession rule.** When a country applies to a bloc, each member computes its own
welfare change from the accession with the trade model; a member vetoes when its change is
below {_default("admission_threshold_pct")} % (a scenario can set a `majority` rule instead:
members holding more than half of the bloc's GDP must agree). The applicant then adds up
its *economic gain* (its welfare change from joining, in %, from the trade model) and a
*political term* ({_default("alignment_weight_pct")} % × its political alignment with the
bloc's leader, from
−1: aligned with China, to +1: aligned with the US). It joins when that score is at least
{_default("accept_threshold_pct")} %. So a country declines when joining brings it almost
nothing (e.g. it already has a free-trade agreement with the United States) and its politics
do not make up for it; it joins when the gain, or its alignment, is large enough. The
*Accession decisions* card gives the numbers behind every decision.

**Where the money goes.** The bar chart shows the stocks of foreign direct investment and
official lending in the ten largest hosts, by investor, in billions of US dollars (hover a bar
for its value).

**Reading values.** Hover a point on a chart for its value; click a column header of the
table to sort it (again to reverse); click a row to chart that country; "Download CSV" saves
the run so far: every economy and year, the run's settings in the first columns (scenario, seed,
the policies) and the baseline's shares beside the run's, shares in % as on the page (columns
ending in `_pct`); the file is named by the settings (scenario, seed, the levers moved, years).
"""
