"""The warm Lambda round trip: an API Gateway HTTP API (payload 2.0) event in, a hello-JSON
handler run, the response dict out, side by side with the peers doing the same work in the
same process and the same run.

    python benchmarks/warm_lambda.py [--number 20000] [--rounds 9]

Peers (install them with ``pip install -e '.[bench]'``):

- Powertools' ``APIGatewayHttpResolver`` (the same 2.0 event);
- Chalice: its Lambda entry only reads the REST (1.0) proxy format, so it gets the same request
  in that format (AWS's published 1.0 sample, reshaped to ``GET /hello``);
- Mangum + Starlette (the same 2.0 event), the usual way to run an ASGI app on Lambda.

corefn runs its real Lambda entry point (``corefn_aws``'s ``handler``, app from ``COREFN_APP``),
shape detection included. Candidates run interleaved, round after round; each keeps its best
round (the one least disturbed by the other work on this shared machine); figures are
microseconds of this thread's CPU time per invocation (``time.thread_time``: time the process
spends descheduled by its neighbours does not count), and only ratios within one run mean
anything.

Target (issue 25): corefn at most 0.5x the fastest peer.
"""

from __future__ import annotations

import argparse
import copy
import importlib
import json
import os
import sys
import tempfile
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "tests" / "events" / "aws"
TARGET = 0.5

COREFN_APP = '''
from corefn import App

app = App("bench")


@app.get("/hello")
def hello(req):
    return {"message": "hello"}
'''


class LambdaContext:
    """What Lambda passes as ``context``: the attributes the frameworks read."""

    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e812345678"
    function_name = "bench"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def v2_event() -> dict[str, Any]:
    event = json.loads((EVENTS / "http-apigw-v2.json").read_text())
    event.update(rawPath="/hello", rawQueryString="", body=None, routeKey="GET /hello", cookies=None)
    event.pop("queryStringParameters", None)
    event.pop("pathParameters", None)
    event["requestContext"]["http"].update(method="GET", path="/hello")
    event["requestContext"]["routeKey"] = "GET /hello"
    event["requestContext"].pop("authorizer", None)
    return event


def v1_event() -> dict[str, Any]:
    event = json.loads((EVENTS / "http-apigw-v1.json").read_text())
    event.update(path="/hello", resource="/hello", httpMethod="GET", body=None)
    event.update(queryStringParameters=None, multiValueQueryStringParameters=None, pathParameters=None)
    event["requestContext"].update(path="/hello", resourcePath="/hello", httpMethod="GET")
    return event


def corefn_entry() -> Callable[[dict[str, Any], Any], Any]:
    folder = Path(tempfile.mkdtemp(prefix="corefn-warm-"))
    (folder / "warm_bench_app.py").write_text(COREFN_APP)
    sys.path.insert(0, str(folder))
    os.environ["COREFN_APP"] = "warm_bench_app:app"
    for module in ("corefn_aws.runtime", "corefn_aws.handler"):  # the entry module's name (issue 14)
        try:
            return importlib.import_module(module).handler  # type: ignore[no-any-return]
        except ModuleNotFoundError:
            continue
    raise SystemExit("no corefn_aws entry module")


def powertools_entry() -> Callable[[dict[str, Any], Any], Any]:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

    app = APIGatewayHttpResolver()

    @app.get("/hello")
    def hello() -> dict[str, str]:
        return {"message": "hello"}

    return app.resolve


def chalice_entry() -> Callable[[dict[str, Any], Any], Any]:
    from chalice import Chalice

    app = Chalice(app_name="bench")

    @app.route("/hello")
    def hello() -> dict[str, str]:
        return {"message": "hello"}

    return app  # type: ignore[return-value]


def mangum_entry() -> Callable[[dict[str, Any], Any], Any]:
    from mangum import Mangum
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def hello(request: Request) -> JSONResponse:
        return JSONResponse({"message": "hello"})

    return Mangum(Starlette(routes=[Route("/hello", hello)]), lifespan="off")  # type: ignore[no-any-return]


#: name → (entry point factory, event factory)
CANDIDATES: dict[str, tuple[Callable[[], Callable[[dict[str, Any], Any], Any]], Callable[[], dict[str, Any]]]] = {
    "corefn (corefn_aws entry point)": (corefn_entry, v2_event),
    "Powertools APIGatewayHttpResolver": (powertools_entry, v2_event),
    "Chalice (REST 1.0 event)": (chalice_entry, v1_event),
    "Mangum + Starlette": (mangum_entry, v2_event),
}


def answer_body(response: dict[str, Any]) -> Any:
    assert response["statusCode"] == 200, response
    return json.loads(response["body"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--number", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    context = LambdaContext()
    ready: dict[str, tuple[Callable[[dict[str, Any], Any], Any], dict[str, Any]]] = {}
    for name, (entry, event) in CANDIDATES.items():
        try:
            handler = entry()
        except ImportError as exc:
            print(f"  {name}: not installed ({exc.name}); pip install -e '.[bench]'")
            continue
        payload = event()
        # every framework answers the same hello JSON, from a fresh copy and then warm
        assert answer_body(handler(copy.deepcopy(payload), context)) == {"message": "hello"}, name
        ready[name] = (handler, payload)
    best = {name: float("inf") for name in ready}
    for _ in range(args.rounds):
        for name, (handler, payload) in ready.items():
            seconds = timeit.timeit(lambda h=handler, p=payload: h(p, context), number=args.number, timer=time.thread_time)  # type: ignore[misc]
            best[name] = min(best[name], seconds / args.number * 1e6)
    ours = best.pop("corefn (corefn_aws entry point)")
    fastest = min(best.values()) if best else float("nan")
    print(f"warm round trip, HTTP API 2.0 event -> hello JSON -> response dict; best of {args.rounds} x {args.number}")
    print(f"  {'corefn (corefn_aws entry point)':36s} {ours:7.2f} us/op   ratio to fastest peer {ours / fastest:.2f}")
    for name, us in sorted(best.items(), key=lambda item: item[1]):
        print(f"  {name:36s} {us:7.2f} us/op   ratio {us / fastest:.2f}")
    ratio = ours / fastest
    print(f"verdict: corefn / fastest peer = {ratio:.2f} (target <= {TARGET}) {'MET' if ratio <= TARGET else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
