"""Trade agreements among the modelled economies, from the WTO RTA-IS and DESTA copies.

Owns turning the curated agreement records (wto_rta_focal.csv, aladi_aces.csv,
agreement_replacements.csv, agreements_desta_added.csv) into one membership row per agreement
and party: type, entry into force per party, exit, replacement, and whether the agreement gives
tariff preferences in a given base year (docs/data.md, "Agreements"). `desta_focal_dyads.csv`
is the cross-check.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

# WTO RTA-IS party names -> geosim codes (EU-27 member states count as EUU only in EU agreements).
WTO_NAMES = {
    "Argentina": "ARG", "Bolivia, Plurinational State of": "BOL", "Brazil": "BRA", "Chile": "CHL",
    "Colombia": "COL", "Ecuador": "ECU", "Guyana": "GUY", "Paraguay": "PRY", "Peru": "PER",
    "Suriname": "SUR", "Uruguay": "URY", "Venezuela, Bolivarian Republic of": "VEN",
    "Mexico": "MEX", "Belize": "BLZ", "Costa Rica": "CRI", "El Salvador": "SLV",
    "Guatemala": "GTM", "Honduras": "HND", "Nicaragua": "NIC", "Panama": "PAN",
    "Antigua and Barbuda": "ATG", "Bahamas": "BHS", "Barbados": "BRB", "Cuba": "CUB",
    "Dominica": "DMA", "Dominican Republic": "DOM", "Grenada": "GRD", "Haiti": "HTI",
    "Jamaica": "JAM", "Saint Kitts and Nevis": "KNA", "Saint Lucia": "LCA",
    "Saint Vincent and the Grenadines": "VCT", "Trinidad and Tobago": "TTO",
    "United States of America": "USA", "Canada": "CAN", "China": "CHN", "European Union": "EUU",
    "Japan": "JPN", "Korea, Republic of": "KOR", "India": "IND",
}
EU27_NAMES = (
    "Austria", "Belgium", "Bulgaria", "Croatia", "Cyprus", "Czech Republic", "Denmark", "Estonia",
    "Finland", "France", "Germany", "Greece", "Hungary", "Ireland", "Italy", "Latvia", "Lithuania",
    "Luxembourg", "Malta", "Netherlands", "Poland", "Portugal", "Romania", "Slovak Republic",
    "Slovenia", "Spain", "Sweden",
)
# Groups that sign as one party in RTA-IS (members among the modelled economies).
WTO_GROUPS = {
    "Southern Common Market (MERCOSUR)": ("ARG", "BRA", "PRY", "URY"),
    "Central American Common Market (CACM)": ("CRI", "GTM", "HND", "NIC", "PAN", "SLV"),
}
# Bloc names the scenarios and tests use, by RTA-IS id; other agreements keep the RTA-IS name.
BLOC_NAMES = {
    1087: "USMCA", 122: "NAFTA", 130: "Mercosur", 27: "CAFTA-DR", 889: "Pacific Alliance",
    640: "CPTPP", 141: "CARICOM",
}
WTO_TYPES = {  # RTA-IS type -> bloc_type
    "FTA": "FTA", "FTA & EIA": "FTA", "CU": "customs union", "CU & EIA": "customs union",
    "EIA": "economic integration", "PSA": "partial scope", "PSA & EIA": "partial scope",
}
# Types whose parties grant each other general tariff preferences once in force.
PREFERENTIAL_TYPES = ("FTA", "customs union")
# CARICOM members that do not apply its free trade in goods / common external tariff.
CARICOM_OUTSIDE_CSME = ("BHS", "HTI")
NOT_IN_FORCE_YEAR = 9999  # RTA-IS writes 01-Jan-9999 for a party that has not ratified yet
# A non-modelled economy on one side of an agreement with several modelled ones (a hub): the
# agreement gives no preferences among the modelled parties, so it is left out.
OTHER_HUBS = ("United Kingdom", "Egypt", "Israel", "Southern African Customs Union (SACU)",
              "Chinese Taipei", "EFTA")

COLUMNS = ["bloc", "bloc_type", "wto_type", "iso3", "entry_date", "entry_year", "exit_year",
           "status", "preferential", "replaced_by", "wto_rta_id", "source", "note"]

_SPAN = re.compile(r"^\s*(\S*)\s*-\s*(\S*)\s*$")


def _read(name: str, sources: Path) -> pd.DataFrame:
    return pd.read_csv(sources / name, dtype=str, keep_default_na=False)


def _date(text: str) -> str:
    """'01-Jul-2013' or '2013-07-01' -> '2013-07-01' ('' stays '')."""
    text = text.strip()
    if not text:
        return ""
    return pd.Timestamp(text).strftime("%Y-%m-%d") if not text.endswith("9999") else "9999-01-01"


def _parties(row: pd.Series) -> list[str]:
    """Modelled economies among an agreement's current and original signatories."""
    names = {p.strip() for col in ("Current signatories", "Original signatories")
             for p in row[col].split(";") if p.strip()}
    eu = "European Union" in names or len(names & set(EU27_NAMES)) >= 10
    out: set[str] = set()
    for name in names:
        if name in WTO_NAMES:
            out.add(WTO_NAMES[name])
        elif name in WTO_GROUPS:
            out |= set(WTO_GROUPS[name])
        elif name in EU27_NAMES and eu:
            out.add("EUU")
    return sorted(out)


def _specific(text: str) -> dict[str, tuple[str, str]]:
    """RTA-IS 'Specific Entry/Exit dates' -> {iso3: (entry, exit)} for modelled economies."""
    out = {}
    for part in text.split(";"):
        name, _, span = part.strip().rstrip(")").rpartition("(")
        match = _SPAN.match(span)
        code = WTO_NAMES.get(name.strip())
        if code and match:
            out[code] = (_date(match.group(1)), _date(match.group(2)))
    return out


def _wto_rows(sources: Path) -> list[dict]:
    wto = _read("wto_rta_focal.csv", sources)
    repl = _read("agreement_replacements.csv", sources)
    replaced = {r.wto_rta_id: r for r in repl.itertuples()}
    rows = []
    for _, r in wto.iterrows():
        rid = int(r["RTA ID"])
        if any(side.strip() in OTHER_HUBS for side in r["RTA Name"].split(" - ")):
            continue
        name = BLOC_NAMES.get(rid, r["RTA Name"].strip())
        entry_all = _date(r["Date of Entry into Force (G)"] or r["Date of Entry into Force (S)"])
        specific = _specific(r["Specific Entry/Exit dates"])
        rep = replaced.get(str(rid))
        for iso in _parties(r):
            entry, exit_ = specific.get(iso, ("", ""))
            entry = entry or entry_all
            exit_ = exit_ or _date(r["Inactive Date"])
            if entry.startswith(str(NOT_IN_FORCE_YEAR)):
                continue
            note = ""
            if iso in specific:
                note = "entry/exit for this party from RTA-IS 'Specific Entry/Exit dates'"
            rows.append({
                "bloc": name, "bloc_type": WTO_TYPES[r["Type"]], "wto_type": r["Type"],
                "iso3": iso, "entry_date": entry, "exit_date": exit_,
                "replaced_by": rep.replaced_by if rep is not None else "",
                "wto_rta_id": str(rid),
                "source": f"WTO RTA-IS id {rid} ({r['RTA Name'].strip()})"
                          + (f"; replacement: {rep.source}" if rep is not None else ""),
                "note": note,
            })
    return rows


def _ace_rows(sources: Path) -> list[dict]:
    """ALADI economic complementation agreements (notified to the WTO under LAIA, RTA-IS id 135).

    Rule: RTA-IS types them all as partial scope; one counts as an FTA when its RTA-IS
    description says it forms a free trade area / zone or frees trade in all goods between the
    parties (column `comprehensive`, with the quoted basis); otherwise it stays partial scope.
    """
    rows = []
    for r in _read("aladi_aces.csv", sources).itertuples():
        comprehensive = r.comprehensive == "yes"
        for iso in r.parties.split():
            exit_ = r.exit_date
            for spec in r.party_exit.split():
                code, _, date = spec.partition("=")
                if code == iso:
                    exit_ = date
            rows.append({
                "bloc": r.name, "bloc_type": "FTA" if comprehensive else "partial scope",
                "wto_type": "PSA", "iso3": iso, "entry_date": r.entry_date, "exit_date": exit_,
                "replaced_by": r.replaced_by if exit_ else "",
                "wto_rta_id": "135",
                "source": f"WTO RTA-IS id 135 (LAIA), AAP.CE {r.ace}: {r.basis}",
                "note": r.note,
            })
    return rows


def _desta_rows(sources: Path) -> list[dict]:
    return [
        {"bloc": r.bloc, "bloc_type": r.bloc_type, "wto_type": "", "iso3": r.iso3,
         "entry_date": r.entry_date, "exit_date": r.exit_date, "replaced_by": "",
         "wto_rta_id": r.wto_rta_id, "source": r.source, "note": r.note}
        for r in _read("agreements_desta_added.csv", sources).itertuples()
    ]


def memberships(sources: Path, iso: list[str], base_year: int) -> pd.DataFrame:
    """One row per agreement and party among `iso`, with flags for `base_year`.

    status: "terminated" when the party's exit year <= base_year, else "in force" (also for an
    entry after base_year: the model schedules it). preferential: the agreement type gives tariff
    preferences (FTA or customs union; partial scope and frameworks do not) and the party is in
    it during base_year (entered by then, not yet exited); CARICOM's BHS and HTI are outside its
    free trade in goods.
    """
    rows = _wto_rows(sources) + _ace_rows(sources) + _desta_rows(sources)
    out = pd.DataFrame(rows)
    out = out[out.iso3.isin(iso)]
    # An agreement with one modelled party left is not an agreement between two of them.
    n_parties = out.groupby("bloc").iso3.transform("nunique")
    out = out[n_parties >= 2].copy()
    out["entry_year"] = pd.to_numeric(out.entry_date.str[:4]).astype("Int64")
    out["exit_year"] = pd.to_numeric(out.exit_date.str[:4].replace("", None)).astype("Int64")
    gone = out.exit_year.notna() & (out.exit_year <= base_year)
    out["status"] = ["terminated" if g else "in force" for g in gone]
    out.loc[out.exit_year.isna(), "replaced_by"] = ""
    out["preferential"] = (
        out.bloc_type.isin(PREFERENTIAL_TYPES)
        & ~gone
        & (out.entry_year <= base_year)
        & ~((out.bloc == "CARICOM") & out.iso3.isin(CARICOM_OUTSIDE_CSME))
    ).astype(bool)
    out = out.sort_values(["bloc", "entry_date", "iso3"], kind="stable").reset_index(drop=True)
    return out[COLUMNS]


def desta_cross_check(sources: Path, members: pd.DataFrame, base_year: int) -> pd.DataFrame:
    """Pairs that DESTA shows with an agreement in force by base_year, against the table.

    Returns one row per pair (iso3_1, iso3_2, desta_first_year, desta_name, table_first_year,
    table_blocs): table_first_year is empty where the table has no agreement for the pair.
    """
    d = _read("desta_focal_dyads.csv", sources)
    d = d[d.entryforceyear != ""]
    d = d.assign(eif=d.entryforceyear.astype(float).astype(int))
    d = d[d.eif <= base_year].sort_values("eif", kind="stable")
    first = d.groupby(["iso3_1", "iso3_2"], sort=True).agg(
        desta_first_year=("eif", "min"), desta_name=("name", "first")).reset_index()
    pairs: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for bloc, g in members.groupby("bloc"):
        for a in g.itertuples():
            for b in g.itertuples():
                if a.iso3 < b.iso3:
                    pairs.setdefault((a.iso3, b.iso3), []).append(
                        (max(int(a.entry_year), int(b.entry_year)), bloc))
    table_year, table_blocs = [], []
    for r in first.itertuples():
        found = pairs.get((r.iso3_1, r.iso3_2), [])
        table_year.append(min(y for y, _ in found) if found else pd.NA)
        table_blocs.append("; ".join(sorted({b for _, b in found})))
    return first.assign(table_first_year=pd.array(table_year, dtype="Int64"),
                        table_blocs=table_blocs)
