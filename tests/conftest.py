"""Every test runs once per backend: the autouse ``backend`` fixture below.

Set PYNN_REQUIRE_C=1 (CI does) to make a missing C core an error instead of a skip.
"""
import os

import pytest

import pynn


@pytest.fixture(params=["c", "numpy"], autouse=True)
def backend(request):
    name = request.param
    if name not in pynn.available_backends():
        if os.environ.get("PYNN_REQUIRE_C") == "1":
            pytest.fail("PYNN_REQUIRE_C=1 but the C core of pynn is not built")
        pytest.skip("the C core of pynn is not built")
    previous = pynn.backend()
    pynn.set_backend(name)
    try:
        yield name
    finally:
        pynn.set_backend(previous)


def pytest_report_header(config):
    """Say which pynn is under test: an installed copy or a checkout, and its backends."""
    return "pynn %s from %s; backends: %s" % (
        pynn.__version__, os.path.dirname(pynn.__file__), ", ".join(pynn.available_backends()))


# Property tests (tests/test_properties.py, issue 5): hypothesis runs a fixed, derandomized set
# of examples, so CI is deterministic; HYPOTHESIS_PROFILE=explore searches with fresh randomness.
try:
    from hypothesis import HealthCheck, settings
except ImportError:  # hypothesis is in the test extra; without it those tests are skipped
    pass
else:
    # the autouse backend fixture is function-scoped but fixed for a whole test: no reset needed
    _health = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
    settings.register_profile("pynn", max_examples=60, deadline=None, derandomize=True, database=None,
                              suppress_health_check=_health, print_blob=True)
    settings.register_profile("explore", max_examples=1000, deadline=None, suppress_health_check=_health)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "pynn"))
