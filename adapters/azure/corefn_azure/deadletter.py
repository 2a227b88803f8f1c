"""Dead letters for Event Hubs and Cosmos DB handlers, which Azure does not have: once the
function's retry policy is spent (:mod:`corefn_azure.policy`: ``@app.retry``), the host moves its
checkpoint past the batch, so corefn writes each failed record to the handler's dead letter first.

The generated ``function_app.py`` calls :func:`run` for these functions instead of
:func:`corefn_azure.runtime.run`. On a failure it reads the attempt from the host's
``context.retry_context`` (``retry_count`` of ``max_retry_count``; ``-1`` = retried forever, so
never dead-lettered, https://learn.microsoft.com/en-us/azure/azure-functions/functions-bindings-error-pages#retries):
before the last attempt it only re-raises (the host retries); on the last one it writes every
record of the batch to the dead letter, then re-raises (the invocation is logged as failed and
the host moves on). A record that cannot be written is an error of its own, raised with the
handler's (the record is then lost to the checkpoint, but never silently).

The dead letter's URL is the app setting :func:`setting_name` (``COREFN_DEADLETTER_<HANDLER>``,
written by the ARM template): ``az://account/container`` (one JSON blob per record) or
``azqueue://account/queue`` (one JSON message per record). The JSON names the handler, the
function's invocation, the error, and the record: its body (text, else base64) and its Event
Hubs position (partition key, sequence number, offset, enqueued time) or Cosmos DB document.
"""

from __future__ import annotations

import base64
import json
import os
from datetime import UTC, datetime
from typing import Any

from corefn.errors import ConfigurationError


def setting_name(handler: str) -> str:
    return "COREFN_DEADLETTER_" + "".join(c if c.isalnum() else "_" for c in handler).upper()


def is_last_attempt(context: Any) -> bool:
    """Whether the host will not retry this invocation again (no retry context: no policy, so
    the first attempt is the last)."""
    retry = getattr(context, "retry_context", None)
    if retry is None:
        return True
    limit = int(getattr(retry, "max_retry_count", 0))
    return limit >= 0 and int(getattr(retry, "retry_count", 0)) >= limit


def _body(data: bytes) -> dict[str, Any]:
    try:
        return {"body": data.decode()}
    except UnicodeDecodeError:
        return {"body_base64": base64.b64encode(data).decode()}


def records(binding: Any) -> list[dict[str, Any]]:
    """Each record of an Event Hubs event (or list of them) or a Cosmos DB document list."""
    items = list(binding) if isinstance(binding, list) or type(binding).__name__ == "DocumentList" else [binding]
    out = []
    for item in items:
        if hasattr(item, "get_body"):  # func.EventHubEvent
            enqueued = getattr(item, "enqueued_time", None)
            out.append({**_body(item.get_body()), "partition_key": item.partition_key, "sequence_number": item.sequence_number,
                        "offset": item.offset, "enqueued_time": enqueued.isoformat() if enqueued else None})  # fmt: skip
        elif hasattr(item, "to_json"):  # func.Document
            out.append({"document": json.loads(item.to_json())})
        else:
            out.append({"document": item})
    return out


def write(handler: str, binding: Any, context: Any, error: BaseException) -> int:
    """Write every record of ``binding`` to ``handler``'s dead letter; the number written."""
    from corefn.sinks import open_sink
    from corefn.specs import SinkSpec

    url = os.environ.get(setting_name(handler))
    if not url:
        raise ConfigurationError(f"handler {handler!r} failed on its last attempt and {setting_name(handler)} (its dead letter) is not set") from error
    kind = "object" if url.startswith("az://") else "publisher"
    target = open_sink(SinkSpec(kind, f"{handler}-dead-letter"), url)  # type: ignore[arg-type]
    invocation = str(getattr(context, "invocation_id", "") or "local")
    now = datetime.now(UTC)
    found = records(binding)
    for index, record in enumerate(found):
        letter = {"handler": handler, "invocation_id": invocation, "time": now.isoformat(),
                  "error": f"{type(error).__name__}: {error}", "record": record}  # fmt: skip
        data = json.dumps(letter, ensure_ascii=False, default=str).encode()
        if kind == "object":
            target.put(f"{handler}/{now:%Y/%m/%d}/{invocation}-{index:04d}.json", data, content_type="application/json")
        else:
            target.send(data)
    return len(found)


def run(app: Any, handler: str, binding: Any, context: Any = None, *rest: Any) -> Any:
    """:func:`corefn_azure.runtime.run`, dead-lettering the batch when its last attempt fails."""
    from corefn_azure.runtime import run as serve

    try:
        return serve(app, handler, binding, context, *rest)
    except Exception as error:
        if is_last_attempt(context):
            write(handler, binding, context, error)
        raise
