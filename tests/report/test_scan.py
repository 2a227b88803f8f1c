"""Provider-specific code found by the AST scan of a real app's modules, each at its file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from corefn.loader import load_app
from corefn.report import from_app

APP = '''\
import os
import boto3
from corefn import App
import helpers

app = App("scanned")
stats = app.table("stats")
cache = app.cache("hot", private_network=True)


def _count():
    return stats.get("n")


@app.queue("jobs", memory=256, timeout=600, max_attempts=3)
def work(msg, ctx):
    region = os.environ["AWS_REGION"]
    body = msg.raw["Records"]
    with open("/tmp/scratch", "w") as f:
        f.write(str(_count()))
    return ctx.sinks["hot"]


@app.get("/status", provider={"aws": {"reserved_concurrency": 2}})
def status(req):
    return {"service": os.getenv("K_SERVICE"), "ow": os.environ.get("__OW_ACTIVATION_ID")}
'''

HELPERS = '''\
from azure.storage.blob import BlobServiceClient

def client():
    return BlobServiceClient
'''


@pytest.fixture
def scanned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    (tmp_path / "scanned_app.py").write_text(APP)
    (tmp_path / "helpers.py").write_text(HELPERS)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return from_app(load_app(str(tmp_path / "scanned_app.py")))


def test_findings_name_the_file_and_line(scanned) -> None:  # type: ignore[no-untyped-def]
    found = {(f.handler, f.name, f.text.split(": ")[0], f.provider) for f in scanned.findings}
    assert ("*", "aws SDK import boto3", "scanned_app.py:2", "aws") in found
    assert ("work", "aws environment variable AWS_REGION", "scanned_app.py:17", "aws") in found
    assert ("work", "raw payload read", "scanned_app.py:18", None) in found
    assert ("status", "gcp environment variable K_SERVICE", "scanned_app.py:26", "gcp") in found
    assert ("status", "openwhisk environment variable __OW_ACTIVATION_ID", "scanned_app.py:26", "openwhisk") in found
    # a local module the app imports is read too
    assert ("*", "azure SDK import azure.storage.blob", "helpers.py:1", "azure") in found
    assert any(f.name == "provider option aws.reserved_concurrency" and f.handler == "status" for f in scanned.findings)
    assert len(scanned.findings) == 7


def test_sinks_and_tmp_per_handler(scanned) -> None:  # type: ignore[no-untyped-def]
    handlers = {h.name: h for h in scanned.handlers}
    assert handlers["work"].sinks == ["hot", "stats"]  # through the module helper _count, and ctx.sinks
    assert handlers["status"].sinks == []
    assert scanned.uses_tmp == {"work"}
    assert handlers["work"].where == "scanned_app.py:15"  # the declaration (its decorator)
    assert handlers["work"].options["timeout"] == 600


def test_the_differences_follow_the_declarations(scanned) -> None:  # type: ignore[no-untyped-def]
    from corefn.report import build

    report = build(scanned, ["aws", "azure", "gcp", "openwhisk"])
    topics = {(d["handler"], d["topic"]): d for d in report.differences}
    assert topics[("work", "timeout")]["flag"] == (
        "its declared timeout of 600 s exceeds the limit on gcp (540 s), openwhisk (300 s)"
    )
    assert topics[("work", "memory")]["flag"] == "its declared memory of 256 MB is outside the range on azure (512-4,096 MB)"
    assert ("work", "tmp") in topics and ("status", "tmp") not in topics
    assert "declared: 3 attempts" in topics[("work", "delivery")]["text"]
    network = topics[("work", "private-network")]["text"]
    # declared private_network=True: every cloud needs its way into a private network
    assert "ElastiCache" in network and "Memorystore" in network and "Redis (IBM Cloud Databases" in network
    assert "reachable without" not in network
    steps = [s["what"] for s in report.checklist]
    assert any("declared timeout of 600 s" in s for s in steps)
    assert any(s.startswith("Remove aws SDK import boto3") and "scanned_app.py:2" in s for s in steps)


def test_a_portable_app_has_no_findings() -> None:
    subject = from_app(load_app("examples/image_pipeline/app.py"))
    assert subject.findings == []
    assert subject.handlers and all(h.where and h.where.startswith("examples/image_pipeline/") for h in subject.handlers)


def test_a_sink_pinned_to_one_cloud_in_corefn_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from corefn.report import build

    (tmp_path / "corefn.toml").write_text('[sinks]\ndevices = "cosmos://acct/db/devices"\nreports = "postgresql://db/x"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COREFN_CONFIG", raising=False)
    report = build(from_app(load_app(str(Path(__file__).resolve().parents[2] / "examples/iot_site/app.py"))),
                   ["aws", "azure", "gcp", "openwhisk"])
    pinned = [x for x in report.lock_in if "pinned" in x["name"]]
    assert [x["name"] for x in pinned] == ["table sink devices pinned to cosmos://"]  # postgresql is anyone's
    assert "corefn.toml: sink 'devices' is pinned to cosmos:// (Azure Cosmos DB for NoSQL), which only azure serves" in pinned[0]["text"]
    assert report.clouds["azure"].score - report.clouds["aws"].score == 5
