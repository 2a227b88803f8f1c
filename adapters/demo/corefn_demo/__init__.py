"""A corefn adapter for an imaginary provider, "demo", whose payloads say what they are. It is
the smallest complete adapter — shapes (``http.py``, ``queue.py``), a generator, samples and one
entry point in its own ``pyproject.toml`` — and proves that a fifth cloud touches nothing in
``corefn/`` nor in another adapter: the test suite builds and installs it as its own package."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from corefn.adapters import BaseAdapter, WarmupShape, load_sample
from corefn_demo.http import DemoHttp
from corefn_demo.queue import DemoQueue

if TYPE_CHECKING:
    from corefn.app import App


class DemoAdapter(BaseAdapter):
    name = "demo"
    shapes = (WarmupShape, DemoHttp, DemoQueue)

    def generate(self, app: App, app_ref: str) -> Mapping[str, str | bytes]:
        from corefn_demo.generator import plan, render

        return render(app, app_ref, plan(app))

    def sample(self, trigger: str) -> Any:
        return load_sample("corefn_demo.samples", "demo", trigger)


adapter = DemoAdapter()

__all__ = ["DemoAdapter", "DemoHttp", "DemoQueue", "adapter"]
