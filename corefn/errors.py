"""Every error corefn raises on purpose, in one tree.

::

    CorefnError
    ├── ConfigurationError (ValueError)      an app, a declaration or a setting is wrong
    │   └── MissingExtraError (ImportError)   a cloud SDK is not installed: names the pip extra
    ├── AppLoadError (ImportError)           `module:attribute` cannot be imported or is no App
    ├── PayloadError (ValueError)            a provider payload cannot be read
    │   ├── UnrecognizedPayloadError          no adapter's shape claims it
    │   ├── WrongCloudError                   `--cloud X` was given a payload of cloud Y
    │   └── EventShapeError                   a shape claimed it, but a field is missing or mistyped
    ├── DispatchError (LookupError)          an event reached no declared handler
    │   └── NoHandlerError
    ├── HttpError                             raise it in an HTTP handler to answer with a status
    ├── IdempotencyInProgressError            an idempotent handler is already running this event:
    │                                         the delivery fails so the trigger retries it later
    └── SinkError                             a sink's backend failed; wraps the provider's exception
        ├── SinkNotFoundError (LookupError)
        ├── SinkConflictError                 a conditional write lost (optimistic concurrency)
        ├── SinkThrottledError                the service asked us to slow down: retry later
        └── SinkUnavailableError              the service cannot be reached now

Why one root: handler code and the CLI catch ``CorefnError`` and know that anything else is a
bug. Why the built-in second bases: callers that already catch ``ValueError`` or ``LookupError``
keep working. A handler's own exceptions are never wrapped: they belong to the trigger's
retry / dead-letter path, not to this tree.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def article(word: str) -> str:
    """``a`` or ``an`` before a cloud's name as it is read aloud: "an aws", "an azure", "an
    openwhisk", "a gcp" (a leading ``u`` is read "you": "a ucloud")."""
    return "an" if word[:1].lower() in "aeio" else "a"


class CorefnError(Exception):
    """Root of every error corefn raises on purpose."""


class ConfigurationError(CorefnError, ValueError):
    """An app declaration or a setting is invalid; the message says which and how to fix it."""


class MissingExtraError(ConfigurationError, ImportError):
    """A cloud SDK is needed but not installed. The message is the exact pip command to run."""

    def __init__(self, package: str, extra: str) -> None:
        self.package = package
        self.extra = extra
        super().__init__(f"{package} is not installed: run  pip install 'corefn[{extra}]'")


class AppLoadError(CorefnError, ImportError):
    """`module:attribute` or `path/to/file.py:attribute` could not be loaded as an App."""


class PayloadError(CorefnError, ValueError):
    """A provider payload could not be turned into corefn events."""

    provider: str | None = None


class UnrecognizedPayloadError(PayloadError):
    """No shape of the adapters consulted claims the payload."""

    def __init__(self, provider: str | None, detail: str = "") -> None:
        self.provider = provider
        where = f"{provider} payload" if provider else "payload of any known cloud"
        super().__init__(f"not a recognised {where}{': ' + detail if detail else ''}")


class WrongCloudError(PayloadError):
    """The caller named one cloud but the payload carries another cloud's signature."""

    def __init__(self, expected: str, actual: str, shape: str) -> None:
        self.provider = expected
        self.actual = actual
        self.shape = shape
        super().__init__(
            f"payload is {article(actual)} {actual} {shape!r} event, not {article(expected)} {expected} one"
            f" (drop --cloud or use --cloud {actual})"
        )


class EventShapeError(PayloadError):
    """A shape claimed the payload but a field is missing or has the wrong type.

    ``field`` is a dotted path into the payload (``Records[0].s3.object.key``) so a person can
    find the offending value without a debugger.
    """

    def __init__(self, provider: str, shape: str, field: str, problem: str = "is missing") -> None:
        self.provider = provider
        self.shape = shape
        self.field = field
        self.problem = problem
        super().__init__(f"{provider} {shape} payload: field {field!r} {problem}")


class DispatchError(CorefnError, LookupError):
    """An event could not be routed to a handler."""


class NoHandlerError(DispatchError):
    """No declared handler serves this event's kind and resource name."""

    def __init__(self, kind: str, resource: str | None, known: list[str] | None = None) -> None:
        self.kind = kind
        self.resource = resource
        hint = f" (declared: {', '.join(known)})" if known else ""
        super().__init__(f"no {kind} handler is declared for {resource!r}{hint}")


class HttpError(CorefnError):
    """Raise in an HTTP handler to answer with ``status`` instead of a 500."""

    def __init__(self, status: int, detail: Any = None, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.detail = detail
        self.headers = headers or {}
        super().__init__(f"HTTP {status}: {detail}" if detail is not None else f"HTTP {status}")


class IdempotencyInProgressError(CorefnError):
    """Another run of an idempotent handler holds this event's record (Powertools'
    ``IdempotencyAlreadyInProgressError``): this delivery fails so the trigger redelivers it
    later, when the first run has finished (then its stored result answers) or died."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"idempotency record {key!r} is in progress in another run; retry later")


class SinkError(CorefnError):
    """A sink's backend failed. ``cause`` is the provider's own exception, kept for debugging."""

    def __init__(self, sink: str, message: str, cause: BaseException | None = None) -> None:
        self.sink = sink
        self.cause = cause
        super().__init__(f"sink {sink!r}: {message}")


class SinkNotFoundError(SinkError, LookupError):
    """The object, item or key does not exist."""


class SinkConflictError(SinkError):
    """A conditional write failed because someone else changed the item first."""


class SinkThrottledError(SinkError):
    """The service is throttling; the caller should back off and retry.

    ``retry_after`` is the wait in seconds the service asked for (HTTP ``Retry-After``), or None.
    """

    def __init__(self, sink: str, message: str, cause: BaseException | None = None, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(sink, message, cause)


class SinkUnavailableError(SinkError):
    """The service cannot be reached (network, auth or configuration)."""


__all__ = [
    "AppLoadError",
    "ConfigurationError",
    "CorefnError",
    "DispatchError",
    "EventShapeError",
    "HttpError",
    "MissingExtraError",
    "NoHandlerError",
    "PayloadError",
    "SinkConflictError",
    "SinkError",
    "SinkNotFoundError",
    "SinkThrottledError",
    "SinkUnavailableError",
    "UnrecognizedPayloadError",
    "WrongCloudError",
]
