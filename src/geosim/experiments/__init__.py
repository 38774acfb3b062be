"""Experiments: sweep files, samplers, a crash-safe results ledger, local/Dask engines, analysis.

Define (`spec`, `samplers`) -> run (`sweep`, `engines`, `evaluate`, `store`) -> analyze.
"""

# define
from geosim.experiments.samplers import Design, design, run_seed
from geosim.experiments.spec import OutcomeSpec, ParameterSpec, SweepError, SweepSpec, load_sweep

# run
from geosim.experiments.store import load, load_meta, load_series
from geosim.experiments.sweep import SweepReport, prepare, run_sweep

# analyze: `geosim.experiments.analysis` (imports matplotlib; not loaded here)

__all__ = [
    "Design",
    "OutcomeSpec",
    "ParameterSpec",
    "SweepError",
    "SweepReport",
    "SweepSpec",
    "design",
    "load",
    "load_meta",
    "load_series",
    "load_sweep",
    "prepare",
    "run_sweep",
    "run_seed",
]
