"""Detection: OpenWhisk's signatures are explicit, and strict enough that no other cloud's
payload is ever claimed by an OpenWhisk shape (``--cloud openwhisk`` must refuse, not misread)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from corefn.adapters import WarmupShape, parse
from corefn.errors import EventShapeError, WrongCloudError
from corefn_openwhisk import SHAPES

SHARED = Path("/work/shared/events")
LOCAL = Path(__file__).parent.parent / "events"
#: every other cloud with payload fixtures (tests/events/<cloud>/)
OTHER_CLOUDS = sorted(p.name for p in LOCAL.iterdir() if p.is_dir() and p.name != "openwhisk")


def _other_payloads() -> list[Path]:
    found: dict[str, Path] = {}
    for root in (SHARED, LOCAL):
        for cloud in OTHER_CLOUDS:
            for path in sorted((root / cloud).glob("*.json")) if (root / cloud).is_dir() else []:
                if not path.name.endswith(".expected.json"):
                    found.setdefault(f"{cloud}/{path.name}", path)
    return [found[k] for k in sorted(found)]


OTHERS = _other_payloads()


def test_there_are_other_clouds_payloads_to_check() -> None:
    assert len(OTHERS) >= 30


@pytest.mark.parametrize("path", OTHERS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_no_openwhisk_shape_claims_another_clouds_payload(path: Path) -> None:
    payload = json.loads(path.read_text())
    claimed = [s.name for s in SHAPES if s is not WarmupShape and s.matches(payload)]
    assert claimed == [], f"{path} claimed by {claimed}"


@pytest.mark.parametrize(
    "payload, shape",
    [
        ({"__ow_method": "get", "__ow_headers": {}, "__ow_path": ""}, "web"),
        ({"corefn_timer": "t"}, "alarm"),
        ({"notification": {"event_type": "Object:Write"}}, "cos"),
        ({"messages": [{"topic": "t", "partition": 0, "offset": 1}]}, "kafka"),
        ({"id": "x", "seq": "1-a", "changes": []}, "cloudant"),
        ({"corefn": "warmup"}, "warmup"),
    ],
)
def test_each_signature_picks_its_shape(payload: dict[str, Any], shape: str) -> None:
    assert next(s.name for s in SHAPES if s.matches(payload)) == shape


@pytest.mark.parametrize(
    "payload",
    [
        {"name": "Odin", "place": "Asgard"},  # an alarm without corefn's markers
        {"messages": []},  # empty batch: nothing says Kafka
        {"messages": [{"mid": "m1", "text": "hi"}]},  # some other queue's batch
        {"notification": {"event_type": "ObjectCreated:Put"}},  # not a COS event type
        {"id": "x", "seq": 1},  # no changes list
        {"notification": "Object:Write"},
        [1, 2],
        "text",
    ],
)
def test_near_misses_are_not_claimed(payload: Any) -> None:
    assert [s.name for s in SHAPES if s.matches(payload)] == []


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"__ow_method": 5}, "__ow_method"),
        ({"__ow_method": "get", "__ow_headers": "nope"}, "__ow_headers"),
        ({"messages": [{"topic": "t", "partition": "zero", "offset": 1}]}, "messages[0].partition"),
        ({"notification": {"event_type": "Object:Restore", "bucket_name": "b", "object_name": "k"}}, "notification.event_type"),
        ({"id": "x", "seq": "1-a", "changes": [{"rev": "nonsense"}]}, "changes[0].rev"),
        ({"corefn_timer": 7}, "corefn_timer"),
    ],
)
def test_malformed_signed_payloads_are_errors_not_invokes(payload: Any, field: str) -> None:
    with pytest.raises(EventShapeError) as info:
        parse(payload, cloud="openwhisk")
    assert info.value.field == field and info.value.provider == "openwhisk"


def test_unsigned_payload_is_an_invoke_only_with_cloud() -> None:
    parsed = parse({"width": 100}, cloud="openwhisk")
    assert parsed.shape_name == "invoke" and parsed.events[0].to_dict() == {"kind": "invoke", "payload": {"width": 100}}


def test_another_clouds_payload_is_refused_under_cloud_openwhisk() -> None:
    s3 = json.loads((SHARED / "aws" / "storage-s3-put.json").read_text())
    try:
        parse(s3, cloud="aws")
    except Exception:
        pytest.skip("the AWS adapter is not installed yet")
    with pytest.raises(WrongCloudError):
        parse(s3, cloud="openwhisk")


def test_import_pulls_in_no_cloud_sdk() -> None:
    code = (
        "import sys\nbefore = set(sys.modules)\n"
        "import corefn_openwhisk, corefn_openwhisk.runtime, corefn_openwhisk.invoke\n"
        "bad = [m for m in set(sys.modules) - before if m.split('.')[0] in "
        "('boto3', 'botocore', 'ibmcloudant', 'ibm_cloud_sdk_core', 'kafka', 'requests', 'yaml', 'flask', 'azure', 'google')]\n"
        "print(bad)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"
