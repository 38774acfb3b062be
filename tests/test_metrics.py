"""China-dependency outcomes: known answers on a small hand-written world (shares, HHI, top
partners, regional aggregation) and invariants (shares sum to one over partners)."""

from __future__ import annotations

import numpy as np
import pytest

from geosim import metrics

# Four economies: A and B (the region), C (China), U (the US). X[exporter, importer], with
# domestic sales on the diagonal (which every share must ignore).
A, B, C, U = range(4)
X = np.array([
    [100.0, 10.0, 30.0, 60.0],  # A exports 100 abroad: 10 to B, 30 to China, 60 to the US
    [20.0, 500.0, 50.0, 30.0],  # B exports 100 abroad: 20 to A, 50 to China, 30 to the US
    [40.0, 60.0, 900.0, 100.0],
    [40.0, 40.0, 20.0, 800.0],
])
REGION = np.array([True, True, False, False])
AMERICAS = np.array([True, True, False, True])


def country():
    return metrics.country_metrics(
        X, china=C, usa=U, gdp=np.array([200.0, 600.0, 1000.0, 900.0]),
        real_gdp_index=np.ones(4), welfare_index=np.ones(4),
        china_finance=np.array([5.0, 0.0, 0.0, 0.0]), all_finance=np.array([20.0, 0.0, 0, 0]),
        china_official=np.array([4.0, 0.0, 0.0, 0.0]))


def test_partner_shares_by_hand():
    out = country()
    assert out["china_export_share"][A] == pytest.approx(0.30)
    assert out["us_export_share"][A] == pytest.approx(0.60)
    assert out["china_export_share"][B] == pytest.approx(0.50)
    # A imports 20 from B, 40 from China, 40 from the US
    assert out["china_import_share"][A] == pytest.approx(0.40)
    assert out["us_import_share"][A] == pytest.approx(0.40)
    # trade share: (30 + 40) / (100 + 100)
    assert out["china_trade_share"][A] == pytest.approx(0.35)
    assert out["china_fdi_share"][A] == pytest.approx(0.25)
    assert out["china_debt_gdp"][A] == pytest.approx(0.02)
    assert out["china_fdi_share"][B] == 0.0  # no finance at all: zero, not NaN


def test_concentration_and_top_partners_by_hand():
    out = country()
    assert out["partner_hhi_exports"][A] == pytest.approx(0.1**2 + 0.3**2 + 0.6**2)
    assert out["partner_hhi_exports"][B] == pytest.approx(0.2**2 + 0.5**2 + 0.3**2)
    assert out["top_export_partner"][A] == U and out["top_export_partner"][B] == C
    # A's imports: B 20, C 40, U 40: a tie goes to the first in the world's order (China)
    assert out["top_import_partner"][A] == C


def test_shares_sum_to_one_over_partners_and_ignore_domestic_sales():
    exports, imports = metrics.partner_shares(X)
    np.testing.assert_allclose(exports.sum(axis=1), 1.0)
    np.testing.assert_allclose(imports.sum(axis=1), 1.0)
    assert np.all(np.diag(exports) == 0) and np.all(np.diag(imports) == 0)
    doubled = X.copy()
    np.fill_diagonal(doubled, 2 * np.diag(X))
    np.testing.assert_allclose(metrics.partner_shares(doubled)[0], exports)
    assert metrics.hhi(np.array([[1.0, 0.0], [0.5, 0.5]])) == pytest.approx([1.0, 0.5])


def test_regional_aggregation_is_trade_weighted_by_hand():
    region = metrics.region_metrics(X, REGION, AMERICAS, china=C, usa=U,
                                    real_gdp=np.array([1.1, 1.0, 1.0, 1.0]),
                                    base_gdp=np.array([200.0, 600.0, 1000.0, 900.0]))
    # region exports 200 abroad (incl. A<->B): 80 to China, 90 to the US
    assert region["china_export_share"] == pytest.approx(80 / 200)
    assert region["us_export_share"] == pytest.approx(90 / 200)
    # region imports: A 100, B 110; from China 40 + 60
    assert region["china_import_share"] == pytest.approx(100 / 210)
    assert region["china_trade_share"] == pytest.approx(180 / 410)
    # a large trader weighs more than the mean of the members' shares would give it
    assert region["china_export_share"] != pytest.approx(np.mean([0.3, 0.5]) + 1e-3)
    assert region["n_top_partner_china_exports"] == 1  # B
    assert region["n_top_partner_china_imports"] == 2  # A (tie, first) and B (60 of 110)
    assert region["trade_with_china"] == pytest.approx(80 + 100)
    # intra-Americas: A, B, US among themselves, off the diagonal
    assert region["intra_americas_trade"] == pytest.approx(10 + 60 + 20 + 30 + 40 + 40)
    assert region["real_gdp_index"] == pytest.approx((200 * 1.1 + 600) / 800)
