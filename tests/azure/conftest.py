"""Azure test helpers: the generated function app of ``sample_app``, imported from a temp dir."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from corefn_azure import adapter
from tests.azure import sample_app

APP_REF = "tests.azure.sample_app:app"


def import_generated(folder: Path, name: str) -> ModuleType:
    files = adapter.generate(sample_app.app, APP_REF)
    for path, content in files.items():
        target = folder / path
        target.write_text(content) if isinstance(content, str) else target.write_bytes(content)
    spec = importlib.util.spec_from_file_location(name, folder / "function_app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def function_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    module = import_generated(tmp_path_factory.mktemp("azure-app"), "corefn_test_function_app")
    yield module
    sys.modules.pop("corefn_test_function_app", None)


@pytest.fixture
def seen() -> Iterator[dict[str, list[object]]]:
    sample_app.SEEN.clear()
    yield sample_app.SEEN
    sample_app.SEEN.clear()
