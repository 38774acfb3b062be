"""Samplers: turn a sweep's parameters into a design (one row per sample) and per-run seeds.

Owns grid, random, Latin hypercube, Sobol (Saltelli scheme, SALib) and Morris (SALib) designs.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from geosim.experiments.spec import SweepSpec


@dataclass(frozen=True)
class Design:
    """The samples of a sweep.

    Attributes:
        values: per sample, the value passed to the model for each parameter.
        labels: per sample, the value shown in tables (a level's label, else the value).
        unit: the samples in the unit hypercube (n × D) that SALib analyses; None for grids.
    """

    values: list[dict[str, Any]]
    labels: list[dict[str, Any]]
    unit: np.ndarray | None

    def __len__(self) -> int:
        return len(self.values)


def problem(spec: SweepSpec) -> dict[str, Any]:
    """The SALib problem for a sweep: every parameter on [0, 1] (the inverse CDF maps it)."""
    names = spec.parameter_names
    return {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}


def design_size(spec: SweepSpec) -> int:
    """Number of samples a sweep's design has, without building it."""
    d = len(spec.parameters)
    n = spec.samples
    settings = len(spec.lever_settings)
    if spec.sampler == "grid":
        return settings * int(np.prod([len(p.grid()) for p in spec.parameters]))
    if spec.sampler == "sobol":
        return n * (2 * d + 2 if spec.options.get("calc_second_order", True) else d + 2)
    if spec.sampler == "morris":
        return n * (d + 1)
    return settings * n


def design(spec: SweepSpec) -> Design:
    """Build the sweep's design, deterministically from its root seed.

    The design's random stream is `SeedSequence(seed)`; the runs' streams are its children
    `SeedSequence(seed, spawn_key=(sample_id, replicate))` (see `run_seed`), so they never overlap.
    """
    if spec.levers:
        return _crossed(spec, design(dataclasses.replace(spec, levers=())))
    if spec.sampler == "grid":
        return _grid(spec)
    rng = np.random.default_rng(np.random.SeedSequence(spec.seed))
    unit = UNIT_SAMPLERS[spec.sampler](spec, rng)
    columns = [p.from_unit(unit[:, j]) for j, p in enumerate(spec.parameters)]
    names = spec.parameter_names
    values = [dict(zip(names, (c[i][0] for c in columns), strict=True)) for i in range(len(unit))]
    labels = [dict(zip(names, (c[i][1] for c in columns), strict=True)) for i in range(len(unit))]
    return Design(values, labels, unit)


def _crossed(spec: SweepSpec, worlds: Design) -> Design:
    """Every lever setting crossed with every sample of the parameters (lever-major): sample
    `k * n + i` is setting k in world i, so settings compare on the same worlds."""
    values, labels = [], []
    for setting, setting_labels in spec.lever_settings:
        values += [{**setting, **v} for v in worlds.values]
        labels += [{**setting_labels, **lab} for lab in worlds.labels]
    return Design(values, labels, None)


def run_seed(root: int, sample_id: int, replicate: int) -> int:
    """The seed of one run: a 63-bit integer from `SeedSequence(root, spawn_key=(s, r))`.

    It depends only on (root, sample, replicate), so it is stable under resume and on any engine.
    """
    ss = np.random.SeedSequence(root, spawn_key=(sample_id, replicate))
    return int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def seed_block(spec: SweepSpec) -> int:
    """Consecutive samples of a design that share their seeds (common random numbers): a Sobol
    base row (A, the AB_i and BA_i, B: 2D + 2 samples, or D + 2 without S2) or a Morris
    trajectory (D + 1); 1 for the other samplers.

    The estimators compare the samples of one block (f(AB_i) − f(A), a trajectory's elementary
    effects); with one random stream per block the seed's noise cancels in those differences
    instead of adding its variance to every total index, and runs that differ only in a
    scenario's policy fields share their business-as-usual reference (the driver groups them).
    """
    return block_size(spec.sampler, len(spec.parameters),
                      spec.options.get("calc_second_order", True))


def block_size(sampler: str, d: int, second_order: bool = True) -> int:
    """The samples of one block of ``sampler`` over ``d`` inputs (`seed_block`): Sobol 2D + 2
    (D + 2 without second order), Morris D + 1, otherwise 1."""
    if sampler == "sobol":
        return 2 * d + 2 if second_order else d + 2
    if sampler == "morris":
        return d + 1
    return 1


def runs(spec: SweepSpec, n_samples: int) -> Iterator[tuple[int, int, int, int]]:
    """Yield (run_id, sample_id, replicate, seed) in submission order (sample-major)."""
    # With levers, every setting runs its world with the same seeds (common random numbers);
    # within a world, the samples of one block share them (`seed_block`).
    worlds = n_samples // len(spec.lever_settings) if spec.levers else n_samples
    block = seed_block(spec)
    for s in range(n_samples):
        for r in range(spec.replications):
            yield s * spec.replications + r, s, r, run_seed(spec.seed, s % worlds // block, r)


def _grid(spec: SweepSpec) -> Design:
    names = spec.parameter_names
    values, labels = [], []
    for combo in itertools.product(*(p.grid() for p in spec.parameters)):
        values.append(dict(zip(names, (v for v, _ in combo), strict=True)))
        labels.append(dict(zip(names, (lab for _, lab in combo), strict=True)))
    return Design(values, labels, None)


def _random(spec: SweepSpec, rng: np.random.Generator) -> np.ndarray:
    return rng.random((spec.samples, len(spec.parameters)))


def _lhs(spec: SweepSpec, rng: np.random.Generator) -> np.ndarray:
    """Latin hypercube: each parameter's n strata hit once, in independent random orders."""
    n, d = spec.samples, len(spec.parameters)
    strata = np.argsort(rng.random((d, n)), axis=1).T  # a random permutation per column
    return (strata + rng.random((n, d))) / n


def _sobol(spec: SweepSpec, rng: np.random.Generator) -> np.ndarray:
    """Saltelli's scheme on a scrambled Sobol sequence: N(2D+2) rows, or N(D+2) without S2."""
    from SALib.sample import sobol

    return sobol.sample(
        problem(spec),
        spec.samples,
        calc_second_order=spec.options.get("calc_second_order", True),
        scramble=spec.options.get("scramble", True),
        seed=int(rng.integers(2**31)),
    )


def _morris(spec: SweepSpec, rng: np.random.Generator) -> np.ndarray:
    """Morris trajectories on a p-level grid: N(D+1) rows."""
    from SALib.sample import morris

    return morris.sample(problem(spec), spec.samples,
                         num_levels=spec.options.get("num_levels", 4), seed=rng)


UNIT_SAMPLERS = {"random": _random, "lhs": _lhs, "sobol": _sobol, "morris": _morris}
