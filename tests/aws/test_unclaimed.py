"""Payloads that look like HTTP requests but want another answer — WebSocket API routes — are
claimed by no AWS shape: ``corefn inspect`` refuses them without ``--cloud`` (exit 2) and reads
them as a direct invoke with it, and the Lambda entry point hands them whole to the invoke
handler. API Gateway Lambda authorizers have their own shapes (``corefn_aws.authorizer``); a
payload with only some of an authorizer's marks is still never read as an HTTP request."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from corefn.adapters import parse
from corefn.errors import UnrecognizedPayloadError
from tests.aws.conftest import EVENTS, load

UNCLAIMED = sorted(p.name.removesuffix(".json") for p in EVENTS.glob("invoke-*.json") if ".expected" not in p.name)
ROOT = Path(__file__).resolve().parents[2]


def test_every_kind_is_covered() -> None:
    assert {"invoke-apigw-websocket-connect", "invoke-apigw-websocket-message"} <= set(UNCLAIMED)


@pytest.mark.parametrize("name", UNCLAIMED)
def test_no_aws_shape_claims_it(name: str) -> None:
    payload = load(name)
    parsed = parse(payload, cloud="aws")
    assert parsed.shape is None
    (event,) = parsed.events
    assert event.kind == "invoke" and event.payload == payload  # type: ignore[attr-defined]
    with pytest.raises(UnrecognizedPayloadError):
        parse(payload)


@pytest.mark.parametrize("key", ["type", "methodArn"])
def test_one_authorizer_mark_is_enough(key: str) -> None:
    payload = load("authorizer-apigw-request-v1")
    del payload[key]
    assert parse(payload, cloud="aws").shape is None


@pytest.mark.parametrize("args, code, shape", [([], 2, None), (["--cloud", "aws"], 0, "invoke")])
def test_the_inspect_command(args: list[str], code: int, shape: str | None) -> None:
    path = EVENTS / "invoke-apigw-websocket-message.json"
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from corefn.cli import main; sys.exit(main())", "inspect", str(path), *args],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )
    assert done.returncode == code, done.stderr
    if shape is None:
        assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    else:
        assert json.loads(done.stdout)["shape"] == shape
