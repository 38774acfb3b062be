"""The agreements table against the public record: pairs a trade economist looks up first.

The expected years and types below are typed from the WTO RTA-IS record (the RTA id is given
with each), not read from the table under test.
"""

from __future__ import annotations

import pandas as pd
import pytest

from geosim.data import load_world

# (iso3 a, iso3 b, RTA-IS id, year of entry into force for this pair, bloc_type)
PAIRS = [
    ("MEX", "CRI", 20, 1995, "FTA"),  # Costa Rica - Mexico, in force 1995-01-01
    ("MEX", "URY", 651, 2004, "FTA"),  # Mexico - Uruguay, 2004-07-15
    ("MEX", "PAN", 779, 2015, "FTA"),  # Mexico - Panama, 2015-07-01
    ("MEX", "COL", 649, 1995, "FTA"),  # Colombia - Mexico, 1995-01-01
    ("CHL", "COL", 509, 2009, "FTA"),  # Chile - Colombia, 2009-05-08
    ("CHL", "PER", 514, 2009, "FTA"),  # Peru - Chile, 2009-03-01
    ("CHN", "CHL", 8, 2006, "FTA"),  # Chile - China, 2006-10-01
    ("CHN", "PER", 666, 2010, "FTA"),  # Peru - China, 2010-03-01
    ("CHN", "CRI", 677, 2011, "FTA"),  # China - Costa Rica, 2011-08-01
    ("USA", "PER", 180, 2009, "FTA"),  # United States - Peru, 2009-02-01
    ("CAN", "PER", 672, 2009, "FTA"),  # Canada - Peru, 2009-08-01
    ("MEX", "HND", 863, 2013, "FTA"),  # Mexico - Central America: Honduras 01-Jan-2013
    ("MEX", "CRI", 863, 2013, "FTA"),  # ... Costa Rica 01-Jul-2013
    ("MEX", "GTM", 863, 2013, "FTA"),  # ... Guatemala 01-Sep-2013
    ("MEX", "SLV", 863, 2012, "FTA"),  # ... El Salvador 01-Sep-2012
    ("ARG", "BRA", 130, 1991, "customs union"),  # MERCOSUR, 1991-11-29
]


@pytest.fixture(scope="module")
def members() -> pd.DataFrame:
    return load_world().memberships


def pair_rows(m: pd.DataFrame, a: str, b: str, rta_id: int) -> pd.DataFrame:
    rows = m[pd.to_numeric(m.wto_rta_id, errors="coerce") == rta_id]
    return rows[rows.iso3.isin([a, b])]


@pytest.mark.parametrize(("a", "b", "rta_id", "year", "kind"), PAIRS)
def test_pair_shares_the_agreement(members, a, b, rta_id, year, kind):
    rows = pair_rows(members, a, b, rta_id)
    assert set(rows.iso3) == {a, b}, f"{a}-{b}: RTA-IS id {rta_id} missing"
    assert int(rows.entry_year.max()) == year, rows.to_string()
    assert set(rows.bloc_type) == {kind}


def test_replacements(members):
    nafta = members[members.bloc == "NAFTA"]
    usmca = members[members.bloc == "USMCA"]
    assert set(nafta.iso3) == set(usmca.iso3) == {"USA", "CAN", "MEX"}
    assert (nafta.exit_year == 2020).all() and (nafta.replaced_by == "USMCA").all()
    assert (nafta.status == "terminated").all() and not nafta.preferential.any()
    assert (usmca.entry_year == 2020).all() and usmca.preferential.all()
    crmx = members[pd.to_numeric(members.wto_rta_id, errors="coerce") == 20]
    assert (crmx.exit_year == 2013).all()  # inactive 2013-07-01
    assert (crmx.replaced_by == "Mexico - Central America").all()


def test_partial_scope_rule(members):
    """RTA-IS PSAs give no preference; ALADI ACEs that form a free trade area do."""
    psa = members[members.wto_type.isin(["PSA", "PSA & EIA"])]
    assert len(psa) > 50
    ids = pd.to_numeric(members.wto_rta_id, errors="coerce")
    arg_mex = members[ids == 661]  # Argentina - Mexico (PSA)
    assert set(arg_mex.bloc_type) == {"partial scope"} and not arg_mex.preferential.any()
    ace35 = members[members.bloc == "Mercosur - Chile (ALADI ACE 35)"]
    assert set(ace35.iso3) == {"ARG", "BRA", "CHL", "PRY", "URY"}
    assert set(ace35.bloc_type) == {"FTA"} and ace35.preferential.all()
    assert (ace35.entry_year == 1996).all()
    for ace in ("36", "58", "72"):
        rows = members[members.bloc.str.contains(f"ACE {ace})", regex=False)]
        assert len(rows) and set(rows.bloc_type) == {"FTA"}, ace


def test_future_entries_kept_not_preferential(members):
    ids = pd.to_numeric(members.wto_rta_id, errors="coerce")
    chn_ecu = members[ids == 1213]  # China - Ecuador, 2024-05-01
    assert set(chn_ecu.iso3) == {"CHN", "ECU"}
    assert (chn_ecu.status == "in force").all() and not chn_ecu.preferential.any()
    assert (chn_ecu.entry_year == 2024).all()


def test_venezuela_withdrawals_match_desta(members):
    """DESTA's withdrawal years for Venezuela (Andean Community, G3, Mercosur) are exit years."""
    from geosim.data import SOURCES_DIR

    desta = pd.read_csv(SOURCES_DIR / "desta_withdrawals_venezuela.csv")
    years = {name: int(y) for name, y in zip(desta.name, desta.year, strict=True)}
    ven = members[members.iso3 == "VEN"].set_index("bloc").exit_year
    assert ven["Andean Community (CAN)"] == years[
        "Andean Group Cartagena Agreement withdrawal Venezuela"] == 2006
    assert ven["Colombia - Mexico - Venezuela (G3; ALADI ACE 33)"] == years[
        "Group of Three withdrawal Venezuela"] == 2006
    assert ven["Mercosur"] == years["MERCOSUR withdrawal Venezuela"] == 2017
