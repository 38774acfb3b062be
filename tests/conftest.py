"""Shared test settings: hypothesis profiles for the fuzz tests (tests/test_fuzz.py).

`default` keeps `make test` quick (a few dozen derandomised cases per fuzz test); run
`pytest tests/test_fuzz.py --hypothesis-profile=long` for a thousand-plus random cases.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

_COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow,
                                                        HealthCheck.data_too_large,
                                                        HealthCheck.filter_too_much,
                                                        HealthCheck.function_scoped_fixture]}
settings.register_profile("default", max_examples=30, derandomize=True, **_COMMON)
settings.register_profile("long", max_examples=1200, **_COMMON)


def pytest_configure(config) -> None:
    """Load the chosen profile (`--hypothesis-profile`, else this file's `default`) once the
    profiles above are registered, whatever order plugins and conftest files load in."""
    settings.load_profile(config.getoption("hypothesis_profile", None) or "default")
