"""A corefn adapter for an imaginary provider, "demo", whose payloads say what they are. It is
the smallest complete adapter — shapes (``http.py``, ``queue.py``), a generator, samples and one
entry point in its own ``pyproject.toml`` — and proves that a fifth cloud touches nothing in
``corefn/`` nor in another adapter: the test suite builds and installs it as its own package."""

from __future__ import annotations

from corefn.adapters import WarmupShape
from corefn.kit import Provider
from corefn_demo.http import DemoHttp
from corefn_demo.queue import DemoQueue

adapter = Provider("demo", (WarmupShape, DemoHttp, DemoQueue), generator="corefn_demo.generator", samples="corefn_demo.samples")

__all__ = ["DemoHttp", "DemoQueue", "adapter"]
