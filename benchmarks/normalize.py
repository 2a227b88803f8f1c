"""An API Gateway HTTP API (v2) event to a request object with method, path, headers, query and
body read: corefn's AWS adapter side by side with Powertools' ``APIGatewayProxyEventV2``.

Both sides start from the same payload dict and read the same things: the method, the path,
one header by case-insensitive name, one query parameter and the body as text. Candidates run
interleaved, round after round, and each keeps its best round (the least disturbed by other
work on the machine); figures are microseconds of this thread's CPU time per event
(``time.thread_time``), and only ratios within one run mean anything.

    python benchmarks/normalize.py [--number 20000] [--rounds 9]

Two payloads: AWS's published HTTP API sample (2 headers, and a JWT authorizer's claims, which
corefn turns into ``req.auth`` only when a handler reads it; neither side reads it here) and the
same request with the 21 headers a browser sends.
Target (issue 25): corefn at most half of Powertools' time.

Not quite the same work: Powertools reads v2's comma-joined ``queryStringParameters``
(``a=1&a=2`` becomes ``"1,2"``); corefn parses ``rawQueryString`` and keeps every value, as the
JSON-form contract requires. The last line shows what the core's ``HttpRequest`` constructor
alone costs (with ready-made Headers/Query/Body), the floor of any eager adapter.
"""

from __future__ import annotations

import argparse
import json
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from corefn.adapters import find_shape
from corefn.events import Body, Headers, HttpRequest, Query
from corefn_aws import adapter
from corefn_aws.http import HttpApiV2

ROOT = Path(__file__).resolve().parent.parent
TARGET = 0.5
EVENTS = ROOT / "tests" / "events" / "aws"


def payloads() -> dict[str, dict[str, Any]]:
    small = json.loads((EVENTS / "http-apigw-v2.json").read_text())
    browser = json.loads(json.dumps(small))
    browser["headers"] = {**json.loads((EVENTS / "http-function-url.json").read_text())["headers"], "header1": "value1"}
    return {"AWS sample (2 headers)": small, "browser request (21 headers)": browser}


def powertools(payload: dict[str, Any]) -> tuple[Any, ...]:
    event = APIGatewayProxyEventV2(payload)
    query = event.query_string_parameters or {}
    return (event.request_context.http.method, event.raw_path, event.headers.get("header1"), query.get("parameter1"), event.body)


def corefn_shape(payload: dict[str, Any]) -> tuple[Any, ...]:
    (request,) = HttpApiV2(payload).to_events()
    return (request.method, request.path, request.headers.get("header1"), request.query.get("parameter1"), request.body.text)


def corefn_detected(payload: dict[str, Any]) -> tuple[Any, ...]:
    """The same, with the adapter's detection first (what the Lambda handler does)."""
    shape = find_shape(adapter, payload)
    assert shape is not None
    (request,) = shape(payload).to_events()
    return (request.method, request.path, request.headers.get("header1"), request.query.get("parameter1"), request.body.text)


_H, _Q, _B = Headers({}), Query(""), Body("")


def constructor_only(payload: dict[str, Any]) -> Any:
    return HttpRequest(method="GET", path="/", headers=_H, query=_Q, body=_B, cookies=(), client_ip=None, id=None, raw=payload)


CANDIDATES: dict[str, Callable[[dict[str, Any]], Any]] = {
    "powertools APIGatewayProxyEventV2": powertools,
    "corefn apigw-v2 to_events + reads": corefn_shape,
    "corefn detect + to_events + reads": corefn_detected,
    "(core HttpRequest constructor only)": constructor_only,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--number", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    for label, payload in payloads().items():
        assert corefn_shape(payload)[:3] == powertools(payload)[:3]  # same method, path, header
        best = {name: float("inf") for name in CANDIDATES}
        for _ in range(args.rounds):
            for name, fn in CANDIDATES.items():
                seconds = timeit.timeit(lambda fn=fn, payload=payload: fn(payload), number=args.number, timer=time.thread_time)  # type: ignore[misc]
                best[name] = min(best[name], seconds / args.number * 1e6)
        base = best["powertools APIGatewayProxyEventV2"]
        print(f"{label}:")
        for name, us in best.items():
            print(f"  {name:38s} {us:6.2f} us/op   ratio {us / base:.2f}")
        ratio = best["corefn apigw-v2 to_events + reads"] / base
        print(f"verdict ({label}): corefn / Powertools = {ratio:.2f} (target <= {TARGET}) {'MET' if ratio <= TARGET else 'MISSED'}")


if __name__ == "__main__":
    main()
