"""No silent fallback: inside a cloud function (detected from the variables each platform's
runtime sets) a sink with no URL is a ConfigurationError at cold start naming the sink and its
setting; local defaults exist off-cloud only (``corefn run``, tests)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from corefn import App
from corefn.errors import ConfigurationError
from corefn.sinks import CLOUD_MARKERS, check_configured, running_cloud, sink_url

MARKERS = [var for var, _ in CLOUD_MARKERS]


@pytest.fixture
def off_cloud(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in MARKERS:
        monkeypatch.delenv(var, raising=False)
    for var in ("COREFN_SINK_ORDERS", "COREFN_SINK_PHOTOS", "COREFN_HANDLER", "COREFN_CONFIG"):
        monkeypatch.delenv(var, raising=False)


def _app() -> App:
    app = App("shop")
    orders = app.table("orders")
    app.object_store("photos")

    @app.queue("jobs", uses=[orders])
    def work(message: Any) -> None: ...

    return app


@pytest.mark.parametrize("var, cloud", CLOUD_MARKERS)
def test_each_platforms_own_variable_names_its_cloud(off_cloud: None, monkeypatch: pytest.MonkeyPatch, var: str, cloud: str) -> None:
    assert running_cloud() is None
    monkeypatch.setenv(var, "x")
    assert running_cloud() == cloud


def test_off_cloud_an_unconfigured_sink_is_a_local_default(off_cloud: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COREFN_STATE_DIR", str(tmp_path))
    spec = _app().sink("orders").spec
    assert sink_url(spec) == f"sqlite:///{tmp_path.as_posix()}/tables.db"


@pytest.mark.parametrize("var", MARKERS)
def test_on_a_cloud_an_unconfigured_sink_names_its_setting(off_cloud: None, monkeypatch: pytest.MonkeyPatch, var: str) -> None:
    monkeypatch.setenv(var, "fn")
    with pytest.raises(ConfigurationError, match="COREFN_SINK_ORDERS") as caught:
        sink_url(_app().sink("orders").spec)
    assert "'orders'" in str(caught.value)


def test_the_cold_start_check_covers_the_pinned_handlers_sinks_only(off_cloud: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "shop-dev-work")
    app = _app()
    with pytest.raises(ConfigurationError, match="COREFN_SINK_ORDERS"):
        check_configured(app, "work")
    monkeypatch.setenv("COREFN_SINK_ORDERS", "sqlite://")
    check_configured(app, "work")  # photos is not used by work: not required
    with pytest.raises(ConfigurationError, match="COREFN_SINK_PHOTOS"):
        check_configured(app, None)  # no pinned handler: the function serves them all


def test_loading_the_app_in_a_cloud_fails_at_cold_start(off_cloud: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from corefn.loader import load_app

    module = tmp_path / "coldapp.py"
    module.write_text("from corefn import App\napp = App('cold')\nstore = app.object_store('photos')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("K_SERVICE", "cold")
    try:
        with pytest.raises(ConfigurationError, match="COREFN_SINK_PHOTOS"):
            load_app("coldapp:app")
        monkeypatch.setenv("COREFN_SINK_PHOTOS", f"file://{tmp_path}/p")
        assert load_app("coldapp:app").name == "cold"
    finally:
        sys.modules.pop("coldapp", None)
