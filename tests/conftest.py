"""Shared test set-up: the emulator fixtures, and the in-tree demo adapter that proves the
adapter interface without any cloud."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from corefn import adapters
from tests.demo_adapter import adapter as demo_adapter

pytest_plugins = ["tests.fixtures.emulators"]


@pytest.fixture(autouse=True, scope="session")
def _demo_adapter() -> Iterator[None]:
    adapters.register(demo_adapter)
    yield
    adapters.unregister("demo")
