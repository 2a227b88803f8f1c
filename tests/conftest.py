"""Shared test set-up: the emulator fixtures, and the demo adapter (adapters/demo/, a package of
its own, on the test path through pytest's ``pythonpath``) registered for in-process tests;
tests/test_fifth_cloud.py installs it for real."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from corefn_demo import adapter as demo_adapter

from corefn import adapters

pytest_plugins = ["tests.fixtures.emulators"]


@pytest.fixture(autouse=True, scope="session")
def _demo_adapter() -> Iterator[None]:
    adapters.register(demo_adapter)
    yield
    adapters.unregister("demo")


@pytest.fixture(autouse=True)
def _cloud_markers_restored() -> Iterator[None]:
    """Some SDKs set a platform's own variable in-process (functions-framework sets
    ``FUNCTION_TARGET`` when it builds an app): restore them after each test, or every later test
    in the process would believe it runs in that cloud (where unconfigured sinks are errors)."""
    import os

    from corefn.sinks import CLOUD_MARKERS

    saved = {var: os.environ.get(var) for var, _ in CLOUD_MARKERS}
    yield
    for var, value in saved.items():
        if value is None:
            os.environ.pop(var, None)
        else:
            os.environ[var] = value
