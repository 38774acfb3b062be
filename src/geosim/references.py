"""Business-as-usual references: the same model without the scenario's policy events (same
world, parameters, seed, horizon and other events), whose investment stocks a run's investment
effects are measured above.

References are kept per process (the last `REFERENCE_CACHE_SIZE`): a sweep's paired baseline
run, a comparison's baseline and a Shapley decomposition's runs share one path. The same key
always gives the same path, so sharing changes nothing but the time spent.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING

from geosim.data import World, load_world
from geosim.parameters import resolve
from geosim.scenario import Scenario, load_scenario

if TYPE_CHECKING:
    from geosim.model import GeoModel

# Business-as-usual reference models kept per process (a sweep's runs share them).
REFERENCE_CACHE_SIZE = 8

_REFERENCES: OrderedDict[tuple, GeoModel] = OrderedDict()


def without_policies(spec: Scenario) -> Scenario:
    """The scenario without its policy events (for the shipped scenarios starting in 2023, the
    baseline)."""
    kept = tuple(e for e in spec.events if not e.policy)
    return dataclasses.replace(spec, name=f"{spec.name} (business as usual)", events=kept)


def business_as_usual(model: GeoModel, build: type[GeoModel]) -> GeoModel | None:
    """The model's reference, built by ``build`` (GeoModel; not the class of ``model``, which
    may be a front end's) or shared; None when the scenario has no policy, since it is then its
    own reference."""
    spec = model.scenario_spec
    reference_spec = without_policies(spec)
    if len(reference_spec.events) == len(spec.events):
        return None
    key = _key(model.world, spec, model.params, model.entropy, reference_spec.events)
    if key in _REFERENCES:
        _REFERENCES.move_to_end(key)
        return _REFERENCES[key]
    reference = build(reference_spec, parameters=model.params, seed=model.entropy,
                      world=model.world)
    _REFERENCES[key] = reference
    if len(_REFERENCES) > REFERENCE_CACHE_SIZE:
        _REFERENCES.popitem(last=False)
    return reference


def held(scenario: Scenario | str, *, parameters: Mapping[str, float] | None, seed: int,
         world: World | None) -> GeoModel | None:
    """A reference this process already holds that is exactly the model
    ``GeoModel(scenario, parameters=..., seed=seed, world=world)`` would be (a scenario without
    policy events, same world, horizon, parameters, seed and events), or None.

    A sweep's paired baseline run is its run's reference: reusing it gives the same tables
    without simulating the same path twice.
    """
    spec = load_scenario(scenario)
    if any(e.policy for e in spec.events):
        return None
    params = resolve({**spec.parameters, **(parameters or {})})
    key = _key(world or load_world(spec.start), spec, params, seed, spec.events)
    model = _REFERENCES.get(key)
    if model is not None:
        _REFERENCES.move_to_end(key)
    return model


def forget() -> None:
    """Drop every reference this process holds."""
    _REFERENCES.clear()


def _key(world: World, spec: Scenario, params: Mapping[str, float], entropy: int,
         events: tuple) -> tuple:
    return (id(world), spec.start, spec.end, tuple(sorted(params.items())), entropy,
            tuple(repr(e) for e in events))
