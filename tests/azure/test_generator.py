"""The Azure generator's decisions: NCRONTAB schedules and time zones per plan, host.json retry
and batch settings, routes, trigger choices, and the errors for what Azure cannot express."""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest

from corefn import App
from corefn.errors import ConfigurationError
from corefn.specs import Options
from corefn_azure import adapter
from corefn_azure._schedule import ScheduleWarning, to_ncrontab, to_utc
from corefn_azure.generator import azure_route


def noop(event: Any) -> None:
    return None


def files(app: App) -> dict[str, Any]:
    out = dict(adapter.generate(app, "pkg.mod:app"))
    return {
        "function_app.py": out["function_app.py"],
        "host": json.loads(out["host.json"]),
        "settings": json.loads(out["local.settings.json.example"])["Values"],
        "requirements": out["requirements.txt"],
    }


@pytest.mark.parametrize(
    "cron, ncrontab",
    [("*/5 * * * *", "0 */5 * * * *"), ("0 9 * * 1-5", "0 0 9 * * 1-5"), ("30 2 1 * 7", "0 30 2 1 * 0"), ("0 0 * * 5,7", "0 0 0 * * 5,0")],
)
def test_cron_becomes_six_field_ncrontab(cron: str, ncrontab: str) -> None:
    assert to_ncrontab(cron) == ncrontab


def test_fixed_offset_zone_is_converted_to_utc_exactly() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no DST, so no warning
        assert to_utc("0 9 * * *", "Asia/Seoul") == "0 0 * * *"
        assert to_utc("0 0 * * *", "Asia/Kolkata") == "30 18 * * *"
        assert to_utc("15 10,22 * * *", "Asia/Tokyo") == "15 1,13 * * *"


def test_dst_zone_is_converted_with_its_standard_offset_and_warns() -> None:
    with pytest.warns(ScheduleWarning, match="daylight saving"):
        assert to_utc("0 9 * * *", "Europe/Berlin") == "0 8 * * *"
    with pytest.warns(ScheduleWarning):
        assert to_utc("0 9 * * *", "America/New_York") == "0 14 * * *"


def test_conversion_that_crosses_midnight_with_restricted_days_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="cross midnight"):
        to_utc("0 1 * * 1", "Asia/Seoul")
    assert to_utc("0 10 * * 1", "Asia/Seoul") == "0 1 * * 1"  # same day: fine


def test_consumption_plan_converts_timer_and_sets_no_time_zone() -> None:
    app = App("t")
    app.timer("0 9 * * *", tz="Asia/Seoul")(noop)
    out = files(app)
    assert 'schedule="0 0 0 * * *"' in out["function_app.py"]
    assert "WEBSITE_TIME_ZONE" not in out["settings"]


def test_premium_plan_keeps_schedule_and_sets_website_time_zone() -> None:
    app = App("t", defaults=Options(provider={"azure": {"plan": "premium"}}))
    app.timer("0 9 * * *", tz="Asia/Seoul")(noop)
    out = files(app)
    assert 'schedule="0 0 9 * * *"' in out["function_app.py"]
    assert out["settings"]["WEBSITE_TIME_ZONE"] == "Asia/Seoul"
    app.timer("0 9 * * *", tz="Europe/Paris", name="paris")(noop)
    with pytest.raises(ConfigurationError, match="one zone per app"):
        files(app)


def test_host_json_sets_max_dequeue_count_explicitly() -> None:
    app = App("q")
    app.queue("orders")(noop)
    host = files(app)["host"]
    assert host["extensions"]["queues"]["maxDequeueCount"] == 5
    assert host["extensions"]["http"]["routePrefix"] == ""
    assert host["extensionBundle"]["id"] == "Microsoft.Azure.Functions.ExtensionBundle"

    app = App("q")
    app.queue("orders", max_attempts=3, batch_size=64, timeout=90)(noop)
    host = files(app)["host"]
    assert host["extensions"]["queues"] == {"maxDequeueCount": 3, "messageEncoding": "base64", "batchSize": 32}
    assert host["functionTimeout"] == "00:01:30"
    app.queue("refunds", max_attempts=7, name="refunds")(noop)
    with pytest.raises(ConfigurationError, match="once per function app"):
        files(app)


def test_routes_methods_and_cors() -> None:
    assert azure_route("/files/{path+}") == "files/{*path}"
    assert azure_route("/devices/{id}") == "devices/{id}"
    app = App("h")
    from corefn.app import Cors

    app.cors = Cors()
    app.http(["GET", "PUT"], "/files/{path+}")(noop)
    text = files(app)["function_app.py"]
    assert 'route="files/{*path}"' in text and 'methods=["GET", "OPTIONS", "PUT"]' in text


def test_storage_trigger_choice() -> None:
    app = App("s")
    app.storage("originals", prefix="in/", suffix=".jpg", name="thumbs")(noop)
    app.storage("uploads", on="deleted", name="gone")(noop)
    text = files(app)["function_app.py"]
    assert '@app.blob_trigger(arg_name="blob", path="originals/in/{name}.jpg"' in text
    assert "@app.event_grid_trigger" in text
    app = App("s")
    app.storage("uploads", on="deleted", provider={"azure": {"storage_trigger": "blob"}})(noop)
    with pytest.raises(ConfigurationError, match="only reports created blobs"):
        files(app)


def test_invoke_handlers_get_no_function_and_names_are_sanitised() -> None:
    app = App("i")
    app.invoke("resize")(noop)
    app.queue("jobs", name="job-runner")(noop)
    text = files(app)["function_app.py"]
    assert "resize" not in text
    assert '@app.function_name(name="job_runner")' in text and 'run(APP, "job-runner", msg, context, "queue-message")' in text


def test_generation_is_deterministic_and_settings_list_connections() -> None:
    from tests.azure.sample_app import app

    first, second = adapter.generate(app, "x:app"), adapter.generate(app, "x:app")
    assert first == second
    values = json.loads(first["local.settings.json.example"])["Values"]  # type: ignore[arg-type]
    assert values["COREFN_APP"] == "x:app" and values["FUNCTIONS_WORKER_RUNTIME"] == "python"
    assert {"ServiceBusConnection", "EventHubConnection", "CosmosDBConnection", "COREFN_SINK_DEVICES"} <= set(values)
    pins = str(first["requirements.txt"]).splitlines()[2:]
    assert "azure-functions==" in "\n".join(pins) and not any(line.startswith("corefn") for line in pins)
