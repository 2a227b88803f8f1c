"""The image pipeline as a flow: each upload to ``originals`` starts one run of

    validate → (watermark ∥ thumbnail) → index → notify

where every step is its own small invoke handler (one function does one thing; the flow, not the
functions, knows the order). Run it with::

    corefn run examples/image_pipeline/flow.py:app --until-idle --seed originals=examples/image_pipeline/samples

``app.py`` beside it does the same job in one storage handler; this module reuses its image code
(:mod:`imaging`, :mod:`watermark`) and its buckets, and adds a table and a topic.

What happens to bad input, decided in the declaration (the bottom of this file):

- ``validate`` reads only the header: an empty upload, something that is not an image, or a
  decompression bomb raises a :class:`imaging.RejectedUpload`, caught at once into
  ``reject-invalid`` (no retry: it can never succeed).
- ``watermark`` and ``thumbnail`` decode the pixels. A file that decodes short
  (:class:`imaging.TruncatedImage`) is retried twice, 0.2 s then 0.4 s later: a JPEG read while
  its upload is still being written looks exactly like that. After the third attempt it is
  truncated for good, and the parallel step's catch records it in ``rejected``.
- A sink that throttles or cannot be reached is retried with back-off (index, notify); anything
  else fails the run, kept with its step log in the state folder's ``flows.db``.

Each branch decodes the upload itself (two functions, two decodes): the price of running the
renditions in parallel as separate functions, where ``app.py`` decodes once.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import imaging  # this folder's module: the loader puts an app file's folder on sys.path
from watermark import apply_watermark

from corefn import App, Context, InvokeEvent, TopicMessage
from corefn.flows import Catch, Retry, parallel, step

app = App("image-pipeline-flow")

originals = app.object_store("originals")
watermarked = app.object_store("watermarked")
thumbnails = app.object_store("thumbnails")
rejected = app.object_store("rejected")
uploads = app.table("uploads", key="key")
processed = app.publisher("processed")

_settings: list[imaging.Settings] = []


def settings() -> imaging.Settings:
    """Read once per process (warm invocations reuse it)."""
    if not _settings:
        _settings.append(imaging.Settings.from_env())
    return _settings[0]


def _decoded(key: str) -> tuple[Any, str, bytes | None]:
    """The upload's pixels (raises a RejectedUpload), its format and its ICC profile."""
    image = imaging.open_image(originals.get(key), settings())
    fmt = str(image.format)
    icc = image.info.get("icc_profile")
    decoded = imaging.decode(image)
    return decoded, fmt, decoded.info.get("icc_profile", icc)


@app.invoke()
def validate(event: InvokeEvent) -> dict[str, Any]:
    """The storage event (JSON) → what the next steps need, after a header-only check."""
    upload = event.payload
    if upload.get("size") == 0:
        raise imaging.EmptyUpload("the upload is empty (0 bytes)")
    image = imaging.open_image(originals.get(upload["key"]), settings())
    return {"key": upload["key"], "format": image.format, "width": image.width, "height": image.height}


@app.invoke()
def watermark(event: InvokeEvent) -> dict[str, Any]:
    key = event.payload["key"]
    image, fmt, icc = _decoded(key)
    apply_watermark(image, settings())
    rendition = imaging.encode(image, settings().output_format(fmt), settings(), icc)
    out = imaging.output_key(key, rendition.extension)
    watermarked.put(out, rendition.stream(), content_type=rendition.content_type)
    return {"key": key, "watermarked": out, "size": list(rendition.size)}


@app.invoke()
def thumbnail(event: InvokeEvent) -> dict[str, Any]:
    key = event.payload["key"]
    image, fmt, icc = _decoded(key)
    small = imaging.make_thumbnail(image, settings().thumb_size)
    rendition = imaging.encode(small, settings().output_format(fmt), settings(), icc)
    out = imaging.output_key(key, rendition.extension)
    thumbnails.put(out, rendition.stream(), content_type=rendition.content_type)
    return {"key": key, "thumbnail": out, "size": list(rendition.size)}


@app.invoke()
def index(event: InvokeEvent) -> dict[str, Any]:
    """The parallel step's result is ``[watermark's, thumbnail's]``: one row per upload."""
    marked, thumb = event.payload
    item = {
        "key": marked["key"],
        "watermarked": marked["watermarked"],
        "thumbnail": thumb["thumbnail"],
        "width": marked["size"][0],
        "height": marked["size"][1],
        "indexed_at": datetime.now(UTC).isoformat(),
    }
    uploads.put(item)
    return item


@app.invoke()
def notify(event: InvokeEvent) -> dict[str, Any]:
    message_id = processed.send(event.payload)
    return {"key": event.payload["key"], "outcome": "done", "message": message_id}


@app.invoke()
def reject(event: InvokeEvent, ctx: Context) -> dict[str, Any]:
    """A catch's fallback: ``{"input": <the failed step's input>, "error": {"type", "message"}}``."""
    failed, error = event.payload["input"], event.payload["error"]
    reason = {"EmptyUpload": "empty", "NotAnImage": "not-an-image", "TruncatedImage": "truncated", "TooLarge": "too-large"}
    record = {
        "key": failed["key"],
        "reason": reason.get(error["type"], "rejected"),
        "error": f"{error['type']}: {error['message']}",
        "rejected_at": datetime.now(UTC).isoformat(),
    }
    rejected.put(f"{failed['key']}.json", json.dumps(record, indent=2).encode(), content_type="application/json")
    ctx.logger.warning("rejected %s (%s)", failed["key"], record["error"])
    return {"key": failed["key"], "outcome": "rejected", "reason": record["reason"]}


@app.topic("processed")
def announce(message: TopicMessage, ctx: Context) -> None:
    """A subscriber of the topic the flow notifies (a search indexer, a web hook, …)."""
    ctx.logger.info("processed %s", message.body.json()["key"])


SINK_TROUBLE = Retry(("SinkThrottledError", "SinkUnavailableError"), attempts=4, backoff=1.0)
STILL_UPLOADING = Retry("TruncatedImage", attempts=3, backoff=0.2)

pipeline = app.flow(
    "process-upload",
    [
        step("validate", catch=Catch(step("reject", name="reject-invalid"), errors="RejectedUpload")),
        parallel(
            step("watermark", retry=[STILL_UPLOADING, SINK_TROUBLE]),
            step("thumbnail", retry=[STILL_UPLOADING, SINK_TROUBLE]),
            name="renditions",
            catch=Catch(step("reject", name="reject-unreadable"), errors="RejectedUpload"),
        ),
        step("index", retry=SINK_TROUBLE),
        step("notify", retry=SINK_TROUBLE),
    ],
    timeout=300,
)
app.storage("originals", on="created")(pipeline)
