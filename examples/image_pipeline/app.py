"""The image pipeline: an upload to ``originals`` becomes a watermarked copy in ``watermarked``
and a thumbnail in ``thumbnails``. Plain Python: no cloud SDK is imported here, and the same
module runs unchanged on AWS, Azure, GCP, OpenWhisk and ``corefn run``.

Where the buckets are is configuration (``COREFN_SINK_<NAME>``, e.g.
``COREFN_SINK_THUMBNAILS=s3://acme-thumbs``); locally they are folders under
``.corefn/objects/``. How the images are made is ``PIPELINE_*`` configuration (see README.md).

Nothing loops: outputs go to *other* buckets, which no handler watches, and the handler refuses
to run when configuration points an output at the watched bucket (it would re-trigger itself on
every thumbnail). Bad uploads never loop either: they are refused without retries (below).

What happens to bad input (decided once, the same on every cloud):

=========================  ====================================================================
upload                     outcome
=========================  ====================================================================
0 bytes, not an image,     :class:`imaging.RejectedUpload`: logged (warning) and recorded as
truncated, decompression   ``rejected/<key>.json`` (reason, error, size); the handler returns
bomb (> MAX_IMAGE_PIXELS)  normally, so the trigger does not retry what can never succeed.
                           That bucket is the pipeline's own dead letter: inspectable, replayable.
a folder marker (``x/``)   skipped with an info line (S3 consoles create them)
object gone meanwhile      skipped with a warning (deleted before we read it; nothing to make)
a key outside the          never reaches this code: the trigger's prefix/suffix filter skips it
watched prefix             (an app that reuses the pipeline with ``prefix=`` gets that for free)
a sink failing (network,   raised: the trigger's retry / dead-letter path takes it (local: 5
throttling) or a bug       attempts, then the dead-letter table; each cloud: see README.md)
=========================  ====================================================================
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import imaging  # this folder's module: the loader puts an app file's folder on sys.path

from corefn import App, ConfigurationError, Context, SinkNotFoundError, StorageEvent

app = App("image-pipeline")

originals = app.object_store("originals")
watermarked = app.object_store("watermarked")
thumbnails = app.object_store("thumbnails")
rejected = app.object_store("rejected")
assets = app.object_store("assets")  # read only when PIPELINE_WATERMARK_LOGO names a logo in it

OUTPUTS = ("watermarked", "thumbnails", "rejected")

_cache: dict[str, Any] = {}
_cache_lock = threading.Lock()


def reset() -> None:
    """Forget what was read from the environment (settings, logo, sink backends): tests, or a
    long-lived worker after a configuration change."""
    with _cache_lock:
        _cache.clear()
    for spec in app.sinks:
        app.sink(spec.name).reset()


def settings() -> imaging.Settings:
    """Read once per process (warm invocations reuse it)."""
    found = _cache.get("settings")
    if found is None:
        with _cache_lock:
            found = _cache["settings"] = imaging.Settings.from_env()
    return found


def logo(key: str | None) -> bytes | None:
    if key is None:
        return None
    found = _cache.get(f"logo:{key}")
    if found is None:
        found = _cache[f"logo:{key}"] = assets.get(key)
    return found


def where(sink: str) -> str:
    """The configured URL of a sink, without its query: ``file:///…/.corefn/objects/thumbnails``,
    ``s3://acme-thumbs``."""
    found = _cache.get(f"url:{sink}")
    if found is None:
        from corefn.sinks import sink_url

        found = _cache[f"url:{sink}"] = sink_url(app.sink(sink).spec).split("?")[0].rstrip("/")
    return str(found)


def check_no_loop() -> None:
    """An output configured onto the watched bucket would re-trigger the pipeline forever."""
    if "loop-checked" in _cache:
        return
    watched = where("originals")
    for name in OUTPUTS:
        if where(name) == watched:
            raise ConfigurationError(
                f"sink {name!r} is configured as the watched bucket {watched}: every output would re-trigger the pipeline"
            )
    _cache["loop-checked"] = True


# Pillow holds a decoded image of up to MAX_IMAGE_PIXELS several times over: 2 GB, not Lambda's
# 256 MB default (an out-of-memory kill is no rejection, and it would be retried).
@app.storage(
    "originals",
    on="created",
    memory=2048,
    timeout=60,
    uses=[originals, watermarked, thumbnails, rejected, assets],
)
def make_renditions(event: StorageEvent, ctx: Context) -> dict[str, Any]:
    """One upload → a watermarked copy and a thumbnail (or a rejection record)."""
    log = ctx.logger
    check_no_loop()
    if event.key.endswith("/"):
        log.info("skipped %s: a folder marker, not an upload", event.key)
        return {"key": event.key, "outcome": "skipped"}
    mark = logo(settings().watermark_logo)  # a missing logo is a deployment problem: raised, retried
    try:
        if event.size == 0:
            raise imaging.EmptyUpload("the upload is empty (0 bytes)")
        with originals.open(event.key) as stream:
            result = imaging.render(stream, settings(), mark)
    except SinkNotFoundError:
        log.warning("skipped %s: the object was deleted before it could be read", event.key)
        return {"key": event.key, "outcome": "gone"}
    except imaging.RejectedUpload as problem:
        return reject(event, problem, ctx)
    written = {}
    for name, store, rendition in (
        ("watermarked", watermarked, result.watermarked),
        ("thumbnails", thumbnails, result.thumbnail),
    ):
        key = imaging.output_key(event.key, rendition.extension)
        # metadata travels as HTTP headers: ASCII values (S3) and identifier names (Azure: no "-")
        store.put(
            key, rendition.stream(), content_type=rendition.content_type, metadata={"source_key": quote(event.key)}
        )
        written[name] = f"{where(name)}/{key}"
    log.info(
        "%s (%s %dx%d%s) -> %s %dx%d at %s ; thumbnail %dx%d at %s",
        event.key,
        result.source_format,
        *result.source_size,
        f", {result.frames} frames" if result.frames > 1 else "",
        result.watermarked.format,
        *result.watermarked.size,
        written["watermarked"],
        *result.thumbnail.size,
        written["thumbnails"],
    )
    return {"key": event.key, "outcome": "done", **written}


def reject(event: StorageEvent, problem: imaging.RejectedUpload, ctx: Context) -> dict[str, Any]:
    """Record why, where a person (or a replay script) can find it, and do not retry."""
    record = {
        "bucket": event.bucket,
        "key": event.key,
        "reason": problem.reason,
        "error": str(problem),
        "size": event.size,
        "event_id": event.id,
        "rejected_at": datetime.now(UTC).isoformat(),
    }
    key = f"{event.key}.json"
    rejected.put(key, json.dumps(record, indent=2).encode(), content_type="application/json")
    at = f"{where('rejected')}/{key}"
    ctx.logger.warning("rejected %s (%s: %s); recorded at %s", event.key, problem.reason, problem, at)
    return {"key": event.key, "outcome": "rejected", "reason": problem.reason, "rejected": at}
