"""An IoT device-management site, moved to functions (its whole To-Be architecture) in
one plain module: no cloud SDK, the same code on every cloud and on ``corefn run``.

==========================================  ===============================================
what                                        how
==========================================  ===============================================
device API (register, get, readings,        HTTP with an API key (``COREFN_API_KEY``; the
telemetry, photo upload)                    caller sends ``x-api-key``)
readings that must never be lost            queue ``readings``: 5 attempts, then the
                                            dead-letter queue ``readings-dead``; stored in
                                            SQL idempotently (a redelivery is no duplicate)
telemetry, real-time aggregates per device  stream ``telemetry``, partition = device id
                                            (in order per device); aggregates in the NoSQL
                                            table ``device-stats``
device state                                NoSQL table ``devices`` (key ``id``)
photo uploads                               bucket ``photos``, prefix ``devices/``: the image
                                            pipeline's own ``imaging`` module makes the
                                            watermarked copy and the thumbnail
periodic summary                            timer every 5 minutes in Asia/Seoul time: the
                                            readings of the last 5 minutes per device into
                                            SQL (``summaries`` in the ``reports`` database)
==========================================  ===============================================
"""

from __future__ import annotations

import re
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import reports_db  # this folder's SQL (SQLAlchemy is imported on first use)

from corefn import (
    App,
    Context,
    HttpError,
    HttpRequest,
    HttpResponse,
    QueueMessage,
    SinkConflictError,
    SinkNotFoundError,
    StorageEvent,
    StreamRecord,
    TimerEvent,
)

# The image pipeline's imaging module is reused, not copied: it lives in the sibling example.
# It is imported by the photo handler only, so the API's functions do not pay Pillow's import
# on a cold start.
_PIPELINE = str(Path(__file__).resolve().parent.parent / "image_pipeline")
if _PIPELINE not in sys.path:
    sys.path.append(_PIPELINE)

app = App("iot-site")

devices = app.table("devices", key="id")
stats = app.table("device-stats", key="device")
readings = app.publisher("readings")
telemetry = app.publisher("telemetry")
reports = app.sql("reports")
photos = app.object_store("photos")
photo_watermarked = app.object_store("photo-watermarked")
photo_thumbnails = app.object_store("photo-thumbnails")

SEOUL = ZoneInfo("Asia/Seoul")
DEVICE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
PHOTO_NAME = re.compile(r"^[\w.-]{1,100}$")
#: reading / telemetry field → allowed range
MEASURES: dict[str, tuple[float, float]] = {"temperature": (-80.0, 150.0), "humidity": (0.0, 100.0)}


# ------------------------------------------------------------------------------- device API


def _body(req: HttpRequest) -> dict[str, Any]:
    try:
        body = req.json()
    except ValueError:
        raise HttpError(400, "the body must be JSON") from None
    if not isinstance(body, dict):
        raise HttpError(400, "the body must be a JSON object")
    return body


def _device(device_id: str) -> dict[str, Any]:
    found = devices.get(device_id) if DEVICE_ID.match(device_id) else None
    if found is None:
        raise HttpError(404, f"no device {device_id!r}")
    return found


def _measures(body: dict[str, Any]) -> dict[str, float]:
    values = {}
    for name, (low, high) in MEASURES.items():
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise HttpError(422, f"{name} must be a number between {low:g} and {high:g}")
        values[name] = float(value)
    if not values:
        raise HttpError(422, f"give at least one of {', '.join(MEASURES)}")
    return values


def _time(body: dict[str, Any]) -> str:
    given = body.get("time")
    if given is None:
        return datetime.now(UTC).isoformat()
    try:
        parsed = datetime.fromisoformat(str(given))
    except ValueError:
        raise HttpError(422, "time must be ISO 8601 with a UTC offset") from None
    if parsed.tzinfo is None:
        raise HttpError(422, "time must carry its UTC offset (devices disagree on local time)")
    return parsed.astimezone(UTC).isoformat()


@app.http("POST", "/devices", api_key=True, uses=[devices])
def register_device(req: HttpRequest) -> HttpResponse:
    body = _body(req)
    device_id = str(body.get("id", ""))
    if not DEVICE_ID.match(device_id):
        raise HttpError(422, "id must be 1-63 lower-case letters, digits or '-'")
    item = {"id": device_id, "name": str(body.get("name", device_id)), "site": str(body.get("site", "")),
            "registered": datetime.now(UTC).isoformat(), "readings": 0}  # fmt: skip
    try:
        devices.put(item, if_absent=True)
    except SinkConflictError:
        raise HttpError(409, f"device {device_id!r} is already registered") from None
    return HttpResponse.json(item, 201, {"location": f"/devices/{device_id}"})


@app.http("GET", "/devices/{id}", api_key=True, uses=[devices, stats])
def get_device(req: HttpRequest) -> dict[str, Any]:
    device = _device(req.params["id"])
    return {**device, "stats": stats.get(device["id"])}


@app.http("POST", "/devices/{id}/readings", api_key=True, uses=[devices, readings])
def post_reading(req: HttpRequest) -> HttpResponse:
    """Accepted once it is in the queue: from there it is retried until stored, or dead-lettered."""
    device = _device(req.params["id"])
    body = _body(req)
    reading = {"id": uuid.uuid4().hex, "device": device["id"], "time": _time(body), **_measures(body)}
    readings.send(reading)
    return HttpResponse.json({"accepted": reading["id"]}, 202)


@app.http("POST", "/devices/{id}/telemetry", api_key=True, uses=[devices, telemetry])
def post_telemetry(req: HttpRequest) -> HttpResponse:
    device = _device(req.params["id"])
    body = _body(req)
    sample = {"device": device["id"], "time": _time(body), **_measures(body)}
    telemetry.send(sample, group=device["id"])  # the partition key: one device's samples stay in order
    return HttpResponse.json({"accepted": True}, 202)


@app.http("PUT", "/devices/{id}/photos/{name}", api_key=True, uses=[devices, photos])
def upload_photo(req: HttpRequest) -> HttpResponse:
    device = _device(req.params["id"])
    name = req.params["name"]
    if not PHOTO_NAME.match(name):
        raise HttpError(422, "photo names are letters, digits, '.', '_' or '-'")
    data = req.body.content
    if not data:
        raise HttpError(422, "empty photo")
    key = f"devices/{device['id']}/{name}"
    photos.put(key, data, content_type=req.headers.get("content-type") or None)
    return HttpResponse.json({"key": key}, 202)


# -------------------------------------------------------------------------- background work


def update_device(
    device_id: str, change: Callable[[dict[str, Any]], None], attempts: int = 10
) -> dict[str, Any] | None:
    """Read, change, write back only if nobody wrote in between (the table's ``_version``):
    the reading, photo and API handlers update one device item concurrently, and a blind
    ``put`` would lose the other's update. ``None`` when the device does not exist."""
    for _ in range(attempts):
        device = devices.get(device_id)
        if device is None:
            return None
        change(device)
        try:
            return devices.put(device, if_version=device.get("_version"))
        except SinkConflictError:
            continue  # someone else won: read their version and apply the change again
    raise SinkConflictError("devices", f"device {device_id!r} kept changing; giving up after {attempts} attempts")


@app.queue("readings", max_attempts=5, dead_letter="readings-dead", uses=[reports, devices])
def store_reading(message: QueueMessage, ctx: Context) -> None:
    """At-least-once: the reading's id is the SQL primary key, so a redelivery stores nothing new
    and counts nothing twice."""
    reading = message.json()
    if reports_db.insert_reading(reports, reading):

        def count(device: dict[str, Any]) -> None:
            device.update(readings=int(device.get("readings", 0)) + 1, last_reading=reading, last_seen=reading["time"])

        if update_device(reading["device"], count) is None:
            ctx.logger.warning(
                "reading %s stored for %r, which is no longer registered", reading["id"], reading["device"]
            )
    else:
        ctx.logger.info("reading %s was already stored (redelivery)", reading["id"])


@app.stream("telemetry", uses=[stats])
def aggregate_telemetry(record: StreamRecord) -> None:
    """Running count / min / max / mean per device and measure, updated record by record (the
    stream keeps one device's records in order, so one writer per device at a time)."""
    sample = record.json()
    current = stats.get(sample["device"]) or {"device": sample["device"]}
    for name in MEASURES:
        if name not in sample:
            continue
        value = float(sample[name])
        agg = current.get(name) or {"count": 0, "sum": 0.0, "min": value, "max": value}
        agg = {
            "count": agg["count"] + 1,
            "sum": agg["sum"] + value,
            "min": min(agg["min"], value),
            "max": max(agg["max"], value),
        }
        current[name] = {**agg, "mean": agg["sum"] / agg["count"], "last": value}
    current["updated"] = sample["time"]
    stats.put(current)


@app.timer("*/5 * * * *", tz="Asia/Seoul", uses=[reports])
def summarize(event: TimerEvent, ctx: Context) -> None:
    """The readings of the 5 minutes before this tick, per device, into ``summaries``; the window
    is labelled in Seoul time as well (the business reads Seoul time; functions run in UTC)."""
    end = (event.time or datetime.now(UTC)).astimezone(UTC).replace(second=0, microsecond=0)
    start = end - timedelta(minutes=5)
    rows = reports_db.summarize_window(reports, start, end, start.astimezone(SEOUL).strftime("%Y-%m-%d %H:%M"))
    ctx.logger.info(
        "summary %s..%s (Asia/Seoul %s): %d device(s)",
        start.isoformat(),
        end.isoformat(),
        start.astimezone(SEOUL).strftime("%H:%M"),
        rows,
    )


# Pillow holds a decoded image of up to the pipeline's pixel limit several times over: 2 GB, not
# Lambda's 256 MB default (an out-of-memory kill is no rejection).
@app.storage(
    "photos",
    on="created",
    prefix="devices/",
    memory=2048,
    timeout=60,
    uses=[devices, photos, photo_watermarked, photo_thumbnails],
)
def process_photo(event: StorageEvent, ctx: Context) -> None:
    """The image pipeline's work on a device photo; a bad photo is logged and noted on the device
    (retrying cannot fix it), a key outside ``devices/`` never gets here (trigger filter)."""
    import imaging

    _, device_id, _ = event.key.split("/", 2)
    if devices.get(device_id) is None:
        ctx.logger.warning("skipped %s: no device %r", event.key, device_id)
        return
    try:
        with photos.open(event.key) as stream:
            result = imaging.render(stream, imaging.Settings.from_env())
    except SinkNotFoundError:
        ctx.logger.warning("skipped %s: deleted before it could be read", event.key)
        return
    except imaging.RejectedUpload as problem:
        ctx.logger.warning("rejected photo %s (%s: %s)", event.key, problem.reason, problem)
        rejected = {"key": event.key, "rejected": problem.reason}
        update_device(device_id, lambda device: device.update(last_photo=rejected))
        return
    out = {}
    for name, store, rendition in (
        ("watermarked", photo_watermarked, result.watermarked),
        ("thumbnail", photo_thumbnails, result.thumbnail),
    ):
        key = imaging.output_key(event.key, rendition.extension)
        store.put(key, rendition.stream(), content_type=rendition.content_type)
        out[name] = key
    photo = {"key": event.key, **out, "size": list(result.source_size)}
    update_device(device_id, lambda device: device.update(last_photo=photo))
