"""Random gravity-shaped worlds for tests and benchmarks: `synthetic_world(n, seed)`.

Owns only the generator; the result is a `World` shaped like the embedded 2023 one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geosim.data import World
from geosim.data.agreements import COLUMNS as _MEMBERSHIP_COLUMNS


def _codes(n: int) -> list[str]:
    """USA, CHN, then three-letter codes AAA, AAB, ... (never USA or CHN again)."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    codes = ["USA", "CHN"][:n]
    k = 0
    while len(codes) < n:
        code = letters[k // 676 % 26] + letters[k // 26 % 26] + letters[k % 26]
        k += 1
        if code not in ("USA", "CHN"):
            codes.append(code)
    return codes


def synthetic_world(n: int, seed: int = 0) -> World:
    """A random world of n economies whose flows follow a gravity equation.

    Economy 0 is "USA" (the largest), economy 1 "CHN" (the second largest); the others get
    codes AAA, AAB, ... and about 80% of them are Latin American (`is_lac`), so LAC economies
    are a majority. Coordinates are uniform on the globe, GDP is lognormal, off-diagonal flows
    are GDP_i · GDP_j / distance_ij scaled to 15–40% of GDP traded, and domestic sales give
    each importer a domestic share of absorption drawn from 0.6–0.9.

    Args:
        n: number of economies (at least 2).
        seed: random seed; the same (n, seed) always gives the same world.

    Raises:
        ValueError: n < 2.
    """
    if n < 2:
        raise ValueError(f"synthetic_world needs n >= 2 economies, got {n}")
    rng = np.random.default_rng(seed)
    iso3 = _codes(n)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    lon = rng.uniform(-180, 180, n)
    gdp = rng.lognormal(mean=np.log(1e11), sigma=1.5, size=n)
    gdp[:2] = gdp.max() * np.array([8.0, 6.0])
    population = gdp / rng.lognormal(np.log(1.5e4), 0.6, n)

    p, q = np.radians(lat), np.radians(lon)
    cos_angle = (np.sin(p)[:, None] * np.sin(p)[None, :]
                 + np.cos(p)[:, None] * np.cos(p)[None, :] * np.cos(q[:, None] - q[None, :]))
    distance = 6371.0 * np.arccos(np.clip(cos_angle, -1.0, 1.0))
    np.fill_diagonal(distance, 0.0)
    distance = np.maximum(distance, distance.T)
    floor = np.where(np.eye(n, dtype=bool), np.inf, np.maximum(distance, 100.0))

    flows = np.outer(gdp, gdp) / floor
    openness = rng.uniform(0.15, 0.4, n)
    flows *= (openness * gdp / flows.sum(axis=1))[:, None]
    imports = flows.sum(axis=0)
    domestic_share = rng.uniform(0.6, 0.9, n)
    np.fill_diagonal(flows, domestic_share / (1 - domestic_share) * imports)

    provenance = np.full((n, n), "imputed", dtype="<U13")
    np.fill_diagonal(provenance, "domestic")
    tariff = rng.uniform(0.0, 0.12, (n, n))
    np.fill_diagonal(tariff, 0.0)
    is_lac = rng.uniform(size=n) < 0.8
    is_lac[:2] = False

    lac = [i for i in range(n) if is_lac[i]]
    investment = pd.DataFrame(
        [(src, iso3[h], "fdi", float(round(0.02 * gdp[h])), "synthetic")
         for src in iso3[:2] for h in lac],
        columns=["source", "host", "kind", "value_usd", "note"],
    )
    off = flows * (1 - np.eye(n))
    targets = []
    for h in lac:
        for ind, value in (("china_export_share", off[h, 1] / off[h].sum()),
                           ("us_export_share", off[h, 0] / off[h].sum()),
                           ("china_import_share", off[1, h] / off[:, h].sum()),
                           ("us_import_share", off[0, h] / off[:, h].sum())):
            targets.append((iso3[h], ind, float(value), "="))
    sector_fields = _sectors(flows, tariff, seed)
    return World(
        iso3=tuple(iso3),
        name=tuple(f"Synthetic {c}" for c in iso3),
        is_lac=is_lac,
        gdp=gdp,
        population=population,
        lat=lat,
        lon=lon,
        distance_km=distance,
        flows=flows,
        provenance=provenance,
        tariff=tariff,
        memberships=pd.DataFrame(columns=_MEMBERSHIP_COLUMNS),
        investment=investment,
        growth=rng.uniform(0.01, 0.04, n),
        targets=pd.DataFrame(targets, columns=["iso3", "indicator", "value", "bound"]),
        base_year=2023,
        **sector_fields,
    )


SYNTHETIC_SECTORS = ("AGR", "ENE", "MIN", "MAN", "SRV")


def _sectors(flows: np.ndarray, tariff: np.ndarray, seed: int) -> dict:
    """A random gravity-shaped split of `flows` into 5 sectors (4 goods + services).

    Each pair's goods flow is split by exporter composition × importer mix (Dirichlet draws),
    so sectors sum to the pair's flow; services live on the diagonal only (40-70 % of domestic
    sales). IO coefficients: a Dirichlet input mix × an intermediate share of 0.3-0.6, scaled
    like the shipped worlds' (`cap_intermediate`). θ: the shipped Caliendo-Parro values.
    A separate random stream (seed, 17): the one-sector fields are those of before.
    """
    from geosim.data.sectors import cap_intermediate, sectors, theta

    rng = np.random.default_rng([seed, 17])
    n, j = flows.shape[0], len(SYNTHETIC_SECTORS)
    goods = j - 1
    supply = rng.dirichlet(np.ones(goods), n)  # exporter composition
    demand = rng.dirichlet(np.full(goods, 2.0), n)  # importer mix
    mix = supply[:, None, :] * demand[None, :, :]
    mix /= mix.sum(axis=2, keepdims=True)
    split = np.zeros((j, n, n))
    split[:goods] = np.moveaxis(mix * flows[:, :, None], 2, 0)
    services = rng.uniform(0.4, 0.7, n)
    dom = np.diag(flows)
    for i in range(n):
        split[:, i, i] = 0.0
        split[:goods, i, i] = dom[i] * (1 - services[i]) * supply[i]
        split[goods, i, i] = dom[i] * services[i]
    provenance = np.where(split > 0, "imputed", "zero").astype("<U14")
    provenance[goods] = "not_traded"
    idx = np.arange(n)
    provenance[:, idx, idx] = "domestic"
    io = rng.dirichlet(np.ones(j), (n, j)).transpose(0, 2, 1)  # io[i, k, j]: columns sum to 1
    io *= rng.uniform(0.3, 0.6, (n, 1, j))
    io, _ = cap_intermediate(io, split)
    shipped = dict(zip(sectors(), theta(), strict=True))
    is_goods = np.arange(j) < goods
    return {"sectors": SYNTHETIC_SECTORS, "sector_flows": split,
            "sector_provenance": provenance, "io": io, "value_added_share": 1.0 - io.sum(axis=1),
            "theta": np.array([shipped[s] for s in SYNTHETIC_SECTORS]),
            "sector_tariff": is_goods[:, None, None] * tariff[None, :, :]}
