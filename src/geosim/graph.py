"""The trade graph: a `networkx.DiGraph` of a world's economies, rewritten in place each year.

Owns the graph's layout (node and edge attributes) and its upkeep from the model's arrays; no
Mesa. Nodes: name, lon, lat, gdp, is_lac, blocs; edges: flow, tariff, distance_km, shared_blocs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

import networkx as nx
import numpy as np

from geosim.data import World


class Bloc(Protocol):
    """What the graph reads of a trade bloc."""

    name: str
    members: dict[str, int]


class TradeGraph:
    """A world's trade graph with views on its attribute dicts for fast in-place updates."""

    def __init__(self, world: World):
        self.world = world
        graph = nx.DiGraph()
        for i, iso in enumerate(world.iso3):
            graph.add_node(iso, name=world.name[i], lon=float(world.lon[i]),
                           lat=float(world.lat[i]), gdp=float(world.gdp[i]),
                           is_lac=bool(world.is_lac[i]), blocs=[])
        n = len(world.iso3)
        pairs = [(i, j) for i in range(n) for j in range(n) if i != j]
        for i, j in pairs:
            graph.add_edge(world.iso3[i], world.iso3[j], flow=0.0, tariff=0.0,
                           distance_km=float(world.distance_km[i, j]), shared_blocs=[])
        self._edges = [(graph.edges[world.iso3[i], world.iso3[j]], i, j) for i, j in pairs]
        self._nodes = [graph.nodes[iso] for iso in world.iso3]
        self.graph = graph

    def update(self, flows: np.ndarray, tariff: np.ndarray, gdp: np.ndarray) -> None:
        """Rewrite this year's flows, tariffs and GDP in place."""
        for attrs, i, j in self._edges:
            attrs["flow"] = float(flows[i, j])
            attrs["tariff"] = float(tariff[i, j])
        for i, attrs in enumerate(self._nodes):
            attrs["gdp"] = float(gdp[i])

    def set_blocs(self, blocs: Iterable[Bloc]) -> None:
        """Each node's blocs and each edge's shared blocs from the blocs' current members."""
        member_of: dict[str, list[str]] = {iso: [] for iso in self.world.iso3}
        for bloc in blocs:
            for iso in bloc.members:
                member_of[iso].append(bloc.name)
        for iso, attrs in zip(self.world.iso3, self._nodes, strict=True):
            attrs["blocs"] = member_of[iso]
        iso3 = self.world.iso3
        for attrs, i, j in self._edges:
            attrs["shared_blocs"] = sorted(set(member_of[iso3[i]]) & set(member_of[iso3[j]]))
