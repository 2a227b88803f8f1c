"""The Lambda entry point: ``Handler: corefn_aws.runtime.handler``.

The app comes from ``COREFN_APP`` (``module:attribute``), loaded once per execution environment
and kept for warm invocations; ``COREFN_HANDLER`` pins the declared handler this function serves
(the generator writes one function per handler); ``COREFN_NAMES`` maps physical resource names
to the app's logical ones (read by the dispatcher).
"""

from __future__ import annotations

from corefn.adapters import handle
from corefn.context import Context
from corefn.loader import load_app
from corefn_aws import adapter

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def handler(event: Any, context: Any) -> Any:
    """What Lambda calls. ``context`` is Lambda's context object (``aws_request_id``,
    ``get_remaining_time_in_millis``); anything else, even ``None``, works for local calls."""
    app = load_app()
    request_id = getattr(context, "aws_request_id", None)  # None on a local call: Context makes one up
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    ctx = Context(
        cloud="aws",
        invocation_id=request_id,
        raw=context,
        app=app,
        remaining_ms=remaining if callable(remaining) else None,  # asked when ctx.deadline is read
    )
    return handle(adapter, app, event, ctx)  # handle() reads the pinned COREFN_HANDLER
