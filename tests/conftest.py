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
