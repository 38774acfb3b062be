"""Chinese official finance by sector (issue 17 §3): AidData's projects classified into the
investment sectors, each host's mix shrunk toward the region's, base-year stocks and yearly
projects split by it, and no record after a world's base year."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geosim.data import finance, load_world
from geosim.investment import INVESTOR_PROFILES, sector_split
from geosim.model import GeoModel
from geosim.policies import SECTORS
from geosim.scenario import scenario_from_dict
from geosim.template import build_template

ROOT = Path(__file__).resolve().parents[1]
HEADER = {"description": "test", "status": "hypothetical", "sources": ["test"]}
POLICY_BANK = next(k for k, p in enumerate(INVESTOR_PROFILES) if p.recorded_mix)


@pytest.mark.parametrize(("sector", "title", "expected"), [
    ("Energy Generation and Supply",
     "China Exim Bank loans Ecuador 1.7 billion USD for CCS hydroelectric facility", "renewables"),
    ("Energy Generation and Supply",
     "China gives loan to construct Villonaco wind turbine farm in Ecuador in 2011", "renewables"),
    ("Other Multisector",
     "Ecuador Signs $2B loan with CDB for renewable energy purposes (linked to #36358)",
     "renewables"),
    ("Energy Generation and Supply",
     "CDB funds $4 billion PDVSA and CNPC joint venture Sinovensa in Orinoco belt",
     "mining_energy"),
    ("Energy Generation and Supply", "CDB loans $750 million USD for GASCAC Pipeline",
     "mining_energy"),
    ("Energy Generation and Supply",
     "China to finance construction of Candiota 3 power plant in Brazil", "mining_energy"),
    ("Transport and Storage",
     "China commits 2.1 Billion USD loan for rehabilitation of Belgrano Cargas railway",
     "transport"),
    ("Other Multisector", "China Offered Preferential export credits for the Major "
     "Infrastructure Development Project in Jamaica", "transport"),
    ("Transport and Storage",
     "$1.23 bln Joint China Exim Bank and Bank of China Loan for Shipbuilding in Brazil",
     "manufacturing"),
    ("Industry, Mining, Construction", "CDB loans 75 million USD to Colombian Cementos "
     "Argosfrom to finance new cement plant in Cartagena", "manufacturing"),
    ("Industry, Mining, Construction",
     "China funds Construction of Milk Pasteurization Plant in Venezuela", "agriculture"),
    ("Industry, Mining, Construction", "China EXIM Bank commits 50 million USD loan to Suriname "
     "housing", "other"),
    ("Communications", "CDB Loans Up to 375 Million USD to Nextel Mexico for 3G Network",
     "technology"),
    ("Agriculture, Forestry and Fishing", "China donates equipment worth S/. 240,000 to fight "
     "yellow rust", "agriculture"),
    ("Agriculture, Forestry and Fishing",
     "China Offers Jamaica USD 230 Million to Build Chinese Garden", "other"),
    ("Action Relating to Debt", "China forgives US$ 6 billion worth of Cuban Debt", "other"),
    ("General Budget Support", "Ecuador receives $1.4 billion from China for budget", "other"),
    ("Other Social infrastructure and services", "ICBC loans Venezuela oil firm 4 billion USD "
     "for construction of housing projects (linked to #37918)", "other"),
    ("Trade and Tourism", "China EXIM Bank loans $2.45 billion to Bahamas for the Baha Mar Resort",
     "other"),
    ("Other Multisector",
     "China donates US$2.5 million in computers and agricultural equipment to Ecuador", "other"),
    ("A sector AidData never used", "China builds a wind farm", "other"),
])
def test_classifier_on_real_titles(sector, title, expected):
    assert finance.classify(sector, title) == expected


def test_categories_are_the_model_sectors_and_other():
    assert set(finance.CATEGORIES) == set(SECTORS) | {"other"}
    assert {r.category for r in finance.RULES} <= set(finance.CATEGORIES)
    p = finance.projects()
    assert len(p) == 226 and p["category"].isin(finance.CATEGORIES).all()
    assert p.loc[p["usd_current"].idxmax(), "category"] == "other"  # Cuba's debt relief


def test_shrinkage_closed_form():
    region = np.array([0.2, 0.1, 0.1, 0.5, 0.0, 0.1])
    own = np.array([0.0, 3e9, 0.0, 1e9, 0.0, 0.0])
    np.testing.assert_allclose(finance.shrunk_mix(np.zeros(6), region), region)  # A = 0
    np.testing.assert_allclose(finance.shrunk_mix(own * 1e9, region), own / own.sum(),
                               atol=1e-8)  # A -> infinity
    # A = P: the mean of the two, and the weight on the own mix is A / (A + P)
    np.testing.assert_allclose(finance.shrunk_mix(own, region, prior_usd=4e9),
                               0.5 * own / own.sum() + 0.5 * region)
    np.testing.assert_allclose(finance.shrunk_mix(own, region, prior_usd=1e9),
                               0.8 * own / own.sum() + 0.2 * region)


@pytest.mark.parametrize("base_year", [2012, 2023])
def test_mixes_sum_to_one_and_hosts_without_records_take_the_region(base_year):
    world = load_world(base_year)
    mix = finance.host_mixes(world.iso3, base_year, SECTORS)
    table = finance.amounts(base_year)
    region = finance.regional_mix(table, SECTORS)
    np.testing.assert_allclose(mix.sum(axis=1), 1.0, rtol=1e-12)
    assert (mix > 0).all() and (region > 0).all()  # every programme sector can take money
    unrecorded = [i for i, c in enumerate(world.iso3)
                  if c not in table.index or table.loc[c, list(SECTORS)].sum() == 0]
    assert "CUB" in [world.iso3[i] for i in unrecorded]  # debt relief only: nothing classified
    np.testing.assert_allclose(mix[unrecorded], np.broadcast_to(region, (len(unrecorded), 6)))
    ecu = world.index("ECU")  # hydro and oil: renewables and energy above the region's
    assert mix[ecu, SECTORS.index("renewables")] > region[SECTORS.index("renewables")]
    assert mix[ecu, SECTORS.index("transport")] < region[SECTORS.index("transport")]


def test_the_2012_world_sees_no_later_record(tmp_path):
    full = pd.read_csv(finance.PROJECTS_PATH)
    early = tmp_path / "early.csv"
    full[full["year"] <= 2012].to_csv(early, index=False)
    hosts = load_world(2012).iso3
    # records dated 2013-2014 (Sinovensa $4.0 bn, Belgrano $2.1 bn, CCS $1.7 bn) change nothing
    np.testing.assert_array_equal(finance.host_mixes(hosts, 2012, SECTORS),
                                  finance.host_mixes(hosts, 2100, SECTORS, path=early))
    assert not np.allclose(finance.host_mixes(hosts, 2012, SECTORS),
                           finance.host_mixes(hosts, 2023, SECTORS))
    # and the 2012 world's template uses exactly these mixes
    template = build_template(load_world(2012), 2012, 2023)
    np.testing.assert_array_equal(template.sector_mix[POLICY_BANK],
                                  finance.host_mixes(hosts, 2012, SECTORS))


@pytest.mark.parametrize("base_year", [2012, 2023])
def test_stocks_keep_their_host_totals(base_year):
    world = load_world(base_year)
    template = build_template(world, base_year, base_year + 10)
    inv = world.investment
    for k, prof in enumerate(INVESTOR_PROFILES):
        rows = inv[(inv["source"] == prof.stock_source) & (inv["kind"] == prof.stock_kind)]
        expected = rows.groupby("host")["value_usd"].sum().reindex(list(world.iso3),
                                                                   fill_value=0.0)
        np.testing.assert_allclose(template.stock[k].sum(axis=1), expected.to_numpy(),
                                   rtol=1e-12)
        np.testing.assert_allclose(template.stock[k], expected.to_numpy()[:, None]
                                   * template.sector_mix[k], rtol=1e-12)
    # the state firms and the western investors keep one fixed mix (AEI rows carry no sector)
    for k, prof in enumerate(INVESTOR_PROFILES):
        if not prof.recorded_mix:
            assert np.ptp(template.sector_mix[k], axis=0).max() == 0


def test_a_world_before_the_first_record_keeps_the_profile_mix():
    world = load_world(2012)
    early = build_template(dataclasses.replace(world, base_year=1999), 1999, 2005)
    assert finance.classified_usd(1999) == 0 and finance.classified_usd(2005) > 0
    fixed = np.asarray(INVESTOR_PROFILES[POLICY_BANK].sector_mix)
    np.testing.assert_allclose(early.sector_mix[POLICY_BANK],
                               np.broadcast_to(fixed / fixed.sum(), (len(world.iso3), 6)))


def test_sector_split_per_host():
    mix = np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 2.0]])
    np.testing.assert_allclose(sector_split(np.array([4.0, 3.0]), mix),
                               [[2.0, 2.0, 0.0], [0.0, 0.0, 3.0]])
    np.testing.assert_allclose(sector_split(np.array([4.0]), np.array([1.0, 3.0])), [[1.0, 3.0]])
    assert sector_split(np.array([0.0, 3.0]), np.array([[0.0, 0.0], [1.0, 0.0]]))[0].sum() == 0
    with pytest.raises(ValueError, match="sector mix is zero"):
        sector_split(np.array([1.0, 3.0]), np.array([[0.0, 0.0], [1.0, 0.0]]))


def test_policy_bank_projects_follow_their_hosts_and_the_us_programme_its_sectors():
    model = GeoModel(scenario_from_dict({**HEADER, "end": 2026}), seed=3)
    model.year += 1
    bank = model.investors["china_policy_banks"]
    spent = bank.allocate()
    hosts = spent.sum(axis=1) > 0
    np.testing.assert_allclose(spent[hosts] / spent[hosts].sum(axis=1, keepdims=True),
                               bank.mix[hosts], rtol=1e-9)
    us = model.investors["us_public"]
    model.change_budget("us_public", None, 0.0)
    model.add_programme(investor="us_public", until=2030, budget_bn=10.0, hosts=["ECU", "PER"],
                        sectors=("renewables", "technology", "transport"), incentive=1.0)
    by_sector = pd.Series(us.allocate().sum(axis=0), index=SECTORS)
    assert by_sector[["renewables", "technology", "transport"]].sum() > 1e9
    assert by_sector[["mining_energy", "agriculture", "manufacturing"]].sum() == 0


@pytest.mark.skipif(not (ROOT.parent / "shared/data/history").is_dir(),
                    reason="the project's gathered data (../shared) is not here")
def test_the_curated_projects_rebuild_byte_for_byte(tmp_path):
    spec = importlib.util.spec_from_file_location("curate_aiddata",
                                                  ROOT / "tools/curate_aiddata.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    out = tmp_path / "projects.csv"
    tool.curate().to_csv(out, index=False, lineterminator="\n")
    assert out.read_bytes() == finance.PROJECTS_PATH.read_bytes()
    # the older by-year and by-sector sums are the same projects
    by_sector = pd.read_csv(finance.PROJECTS_PATH.parent /
                            "aiddata_geocoded_lac_by_sector_2000_2014.csv")
    assert finance.projects()["usd_current"].sum() == pytest.approx(by_sector["usd_current"].sum())
