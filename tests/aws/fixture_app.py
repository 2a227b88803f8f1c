"""The app the AWS tests deploy "into Lambda": a handler for every resource name the payload
fixtures in tests/events/aws/ carry, each recording what it received, and a switch that makes
chosen events fail (by id, key or body) so partial-failure answers can be checked."""

from __future__ import annotations

from typing import Any

from corefn import App
from corefn.context import Context
from corefn.errors import HttpError
from corefn.events import Allow, HttpRequest, HttpResponse

app = App("fixture-app")

#: (handler name, event) in the order handlers ran
RECEIVED: list[tuple[str, Any]] = []
#: events whose id, key, body or sequence is in here raise
FAIL: set[str] = set()


def record(name: str, event: Any) -> None:
    RECEIVED.append((name, event))
    for attr in ("id", "key", "sequence", "text"):
        value = getattr(event, attr, None)
        if isinstance(value, str) and value in FAIL:
            raise RuntimeError(f"{name} told to fail on {value}")


def reset() -> None:
    RECEIVED.clear()
    FAIL.clear()


# ------------------------------------------------------------------------------------ http


@app.http(["GET", "POST"], "/my/path")
def my_path(req: HttpRequest) -> dict[str, Any]:
    record("my_path", req)
    return {"method": req.method, "query": req.query.to_dict()}


@app.http("POST", "/hello/world")
def hello_world(req: HttpRequest) -> str:
    record("hello_world", req)
    return "hello " + req.json()["a"].__str__()


@app.http(["GET", "POST"], "/")
def root(req: HttpRequest) -> str:
    record("root", req)
    return "root"


@app.http(["GET", "POST"], "/lambda")
def alb_lambda(req: HttpRequest) -> HttpResponse:
    record("alb_lambda", req)
    return HttpResponse(201, {"content-type": "text/plain", "x-test": "1"}, b"made", cookies=("a=1; Path=/", "b=2; Path=/"))


@app.http("GET", "/testpath")
def lattice_v1(req: HttpRequest) -> HttpResponse:
    record("lattice_v1", req)
    return HttpResponse(202, {"content-type": "application/json"}, req.body.content, cookies=("a=1", "b=2"))


@app.http("GET", "/newpath")
def lattice_v2(req: HttpRequest) -> bytes:
    record("lattice_v2", req)
    return b"\x00\xff"


@app.http("PUT", "/devices/{id}/photo")
def device_photo(req: HttpRequest) -> bytes:
    record("device_photo", req)
    return req.body.content[::-1]


@app.http("GET", "/search/{term}")
def search(req: HttpRequest) -> HttpResponse:
    record("search", req)
    return HttpResponse(200, {"content-type": "application/json"}, b'{"ok": true}', cookies=("seen=1", "theme=dark"))


@app.http("POST", "/orders/{batch}")
def orders(req: HttpRequest) -> dict[str, Any]:
    record("orders", req)
    if req.params["batch"] == "explode":
        raise HttpError(409, "conflict")
    return {"batch": req.params["batch"]}


# --------------------------------------------------------------------------------- storage


@app.storage("lambda-artifacts-deafc19498e3f2df", on="*")
def artifacts(event: Any) -> None:
    record("artifacts", event)


@app.storage("sourcebucket")
def source_bucket(event: Any) -> None:
    record("source_bucket", event)


@app.storage("example-bucket", on="*")
def example_bucket(event: Any) -> None:
    record("example_bucket", event)


@app.storage("amzn-s3-demo-bucket1", on="*")
def demo_bucket(event: Any) -> None:
    record("demo_bucket", event)


@app.storage("photo-uploads", on="*")
def photo_uploads(event: Any, ctx: Context) -> None:
    record("photo_uploads", event)


# ------------------------------------------------------------------------- queues & topics


@app.queue("my-queue")
def my_queue(message: Any) -> None:
    record("my_queue", message)


@app.queue("TestLambda")
def test_lambda(message: Any) -> None:
    record("test_lambda", message)


@app.queue("orders.fifo", ordered=True)
def fifo_orders(message: Any) -> None:
    record("fifo_orders", message)


@app.queue("bulk", batch=True)
def bulk(batch: Any) -> None:
    for message in batch:
        RECEIVED.append(("bulk", message))
        if message.id in FAIL:
            batch.fail(message, RuntimeError("told to fail"))


@app.topic("sns-lambda")
def sns_lambda(message: Any) -> None:
    record("sns_lambda", message)


# ----------------------------------------------------------------------------------- timers


@app.timer("*/5 * * * *", name="SampleRule")
def sample_rule(event: Any) -> None:
    record("SampleRule", event)


@app.timer("0 9 * * 1-5", tz="Asia/Seoul", name="my-schedule")
def my_schedule(event: Any) -> None:
    record("my-schedule", event)


@app.timer("0 * * * *", name="aaaaa")
def scheduler_tick(event: Any) -> None:
    record("aaaaa", event)


# ------------------------------------------------------------------------ streams & tables


@app.stream("lambda-stream")
def lambda_stream(record_: Any) -> None:
    record("lambda_stream", record_)


@app.stream("telemetry")
def telemetry(record_: Any) -> None:
    record("telemetry", record_)


@app.stream("simple-stream")
def simple_stream(record_: Any) -> None:
    record("simple_stream", record_)


@app.nosql("ExampleTableWithStream")
def example_table(change: Any) -> None:
    record("example_table", change)


@app.nosql("devices")
def devices(change: Any) -> None:
    record("devices", change)


# ----------------------------------------------------------------------------------- invoke


@app.authorizer("gatekeeper")
def gatekeeper(request: Any) -> Allow:
    record("gatekeeper", request)
    return Allow("user-1", {"tenant": "t1"})


@app.invoke("resize")
def resize(event: Any, ctx: Context) -> dict[str, Any]:
    record("resize", event)
    return {"resized": event.payload, "invocation_id": ctx.invocation_id, "cloud": ctx.cloud, "remaining": ctx.remaining()}
