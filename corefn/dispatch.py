"""From events to handler calls, and from handler outcomes to a result adapters can answer with.

The one place that knows the portable semantics every cloud shares:

- HTTP events are routed by method and path (404 / 405 / CORS preflight answered here), and
  whatever the handler returns becomes an :class:`~corefn.events.HttpResponse`.
- Other events go to the handler declared for their resource (after mapping the provider's
  physical names to the app's logical ones) or to the handler the deployment pinned.
- Batches run record by record unless the handler asked for the whole batch; a failed record is
  recorded, never swallowed.
- Message groups hold after a failure, whatever the handler declared: a group is an ordering unit
  by the provider's definition (see :data:`ORDER_UNIT`), so once one of its records fails, the
  rest of that group in the batch is not run and is reported failed too, and the provider
  redelivers them in order instead of running them twice. ``ordered=True`` on a declaration
  only asks the deploy step for an ordered resource (FIFO queue, sessions, ordering keys).

The result is data (:class:`DispatchResult`); each adapter turns it into its cloud's answer
(``batchItemFailures``, a raised error, a nack, an HTTP response).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence

from corefn._env import getenv
from corefn.errors import ConfigurationError, HttpError, IdempotencyInProgressError, NoHandlerError
from corefn.events.base import Event
from corefn.events.http import HttpRequest, HttpResponse, as_response
from corefn.idempotency import Guard, guard_for
from corefn.kinds import BY_NAME, KINDS, resource_fields

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from corefn.app import App, Cors
    from corefn.context import Context
    from corefn.specs import HandlerSpec

#: the event field that names each kind's resource (from the table of kinds)
RESOURCE_FIELD: dict[str, str] = resource_fields()


class Batch(list["Any"]):
    """The records a batch handler receives. Mark the ones that failed with :meth:`fail`
    (or raise to fail them all); unmarked records count as done."""

    def __init__(self, records: Iterable[Any]) -> None:
        super().__init__(records)
        self.failures: dict[int, BaseException] = {}

    def fail(self, record: Any, error: BaseException | None = None) -> None:
        for index, item in enumerate(self):
            if item is record:
                self.failures[index] = error or RuntimeError("marked failed by the handler")
                return
        raise ValueError("record is not part of this batch")


class NotRunAfterFailure(Exception):
    """Recorded for records that were not run (or, in a batch handler's batch, not counted done)
    because an earlier one of the same partition or message group failed."""


class Outcome:
    """What became of one event: ``error`` is the handler's exception (or NotRunAfterFailure),
    ``skipped`` means a trigger filter (prefix/suffix/operation) left it out — not an error;
    ``replayed`` means an idempotent handler had already handled it: ``result`` is the stored one."""

    __slots__ = ("event", "spec", "error", "result", "skipped", "replayed")

    def __init__(
        self,
        event: Event,
        spec: HandlerSpec | None,
        error: BaseException | None = None,
        result: Any = None,
        skipped: bool = False,
        replayed: bool = False,
    ) -> None:
        self.event = event
        self.spec = spec
        self.error = error
        self.result = result
        self.skipped = skipped
        self.replayed = replayed

    def __repr__(self) -> str:
        state = "skipped" if self.skipped else "replayed" if self.replayed else "ok" if self.error is None else f"failed: {self.error!r}"
        return f"<Outcome {self.event.kind} {self.event.id} {state}>"

    @property
    def ok(self) -> bool:
        return self.error is None


class DispatchResult:
    """Every outcome of one delivery, and the HTTP response when the delivery was a request."""

    __slots__ = ("outcomes", "response")

    def __init__(self, outcomes: list[Outcome] | None = None, response: HttpResponse | None = None) -> None:
        self.outcomes: list[Outcome] = outcomes if outcomes is not None else []
        self.response = response

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.error is not None]

    @property
    def ok(self) -> bool:
        return all(o.error is None for o in self.outcomes)

    def value(self) -> Any:
        """The single result of a direct invocation (or ``None``)."""
        return self.outcomes[0].result if len(self.outcomes) == 1 else [o.result for o in self.outcomes]


def raise_first_failure(result: DispatchResult) -> None:
    """Re-raise the first failed handler's own exception: how a trigger whose platform learns of
    a failure only through an exception (Azure's non-HTTP triggers, Google's event functions)
    gets its retry and, in the end, its dead letter. Never swallowed."""
    failed = result.failed
    if failed:
        raise failed[0].error  # type: ignore[misc]


# ------------------------------------------------------------------------- calling handlers

_runners: Any = None


def call_handler(spec: HandlerSpec, arg: Any, ctx: Context) -> Any:
    """Run one handler, sync or async. Async handlers share one event loop per thread, kept
    between warm invocations (a fresh ``asyncio.run`` per call costs a loop set-up each time)."""
    result = spec.handler(arg, ctx) if spec.takes_context else spec.handler(arg)
    if spec.is_async:
        global _runners
        if _runners is None:
            import threading

            _runners = threading.local()
        runner = getattr(_runners, "runner", None)
        if runner is None:
            import asyncio

            runner = _runners.runner = asyncio.Runner()
        return runner.run(result)
    return result


def _log_failure(spec: HandlerSpec, event: Event, ctx: Context, error: BaseException) -> None:
    from corefn.log import get_logger

    get_logger("dispatch").error(
        "handler %s failed on %s event %s: %s: %s",
        spec.name,
        event.kind,
        event.id,
        type(error).__name__,
        error,
        exc_info=error,
        extra={"invocation_id": ctx.invocation_id, "event_id": event.id, "function": spec.name, "cloud": ctx.cloud},
    )


# ------------------------------------------------------------------------------ resolution


def logical_names() -> Mapping[str, str]:
    """Physical → logical resource names the deploy step wrote into ``COREFN_NAMES`` (a JSON
    object), e.g. ``{"image-pipeline-originals-3f2a": "originals"}``. Parsed once per value."""
    global _names
    text = getenv("COREFN_NAMES") or ""
    cached = _names
    if cached[0] != text:
        cached = _names = (text, parse_names(text))
    return cached[1]


_names: tuple[str, Mapping[str, str]] = ("", {})  # the last COREFN_NAMES value read, parsed


def parse_names(text: str) -> Mapping[str, str]:
    """A ``COREFN_NAMES`` value as a mapping; ConfigurationError when it is not a JSON object."""
    import json

    try:
        names = json.loads(text) if text else {}
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"COREFN_NAMES is not a JSON object: {exc}") from None
    if not isinstance(names, dict):
        raise ConfigurationError("COREFN_NAMES must be a JSON object of physical name → logical name")
    return names


def pinned_handler(name: str | None = None) -> str | None:
    """The handler a deployed function serves: ``name`` when the entry point knows it, else the
    ``COREFN_HANDLER`` the deploy step set, else ``None`` (route by resource name)."""
    return name or getenv("COREFN_HANDLER") or None


def resolve(
    app: App, event: Event, pinned: str | None = None, names: Mapping[str, str] | None = None
) -> tuple[HandlerSpec, Event]:
    """The handler for a non-HTTP event, and the event with its resource renamed to the app's
    logical name. ``pinned`` is the handler a deployed function serves (see :func:`pinned_handler`);
    ``names`` maps physical names to logical ones (default: :func:`logical_names`)."""
    kind = event.kind
    attr = RESOURCE_FIELD.get(kind)
    physical = getattr(event, attr) if attr else None
    if names is None:
        names = logical_names()
    logical = names.get(physical, physical) if physical is not None else None
    if attr is not None and logical != physical:
        event = event.replace(**{attr: logical})
    if pinned:
        spec = app.handler(pinned)
        if spec.kind == kind or (spec.kind, kind) in COMPATIBLE_KINDS:
            return spec, event
        raise ConfigurationError(f"handler {pinned!r} serves {spec.kind} events, not {kind}")
    candidates = app.handlers_of(kind)
    if BY_NAME[kind].is_named_by_handler:
        named = [s for s in candidates if s.name == logical]
    else:
        named = [s for s in candidates if s.resource == logical]
    if len(named) == 1:
        return named[0], event
    if len(named) > 1 and kind == "storage":
        wanted = [s for s in named if s.trigger.wants(event.operation, event.key)]  # type: ignore[attr-defined]
        return (wanted[0] if wanted else named[0]), event
    if logical is None and len(candidates) == 1:  # the payload names no resource (Azure timers)
        return candidates[0], event
    raise NoHandlerError(kind, logical, [f"{s.name}({s.resource or s.name})" for s in candidates])


#: (declared kind, event kind) pairs one handler may serve: a topic subscription delivered as a
#: queue message (SNS → SQS) is still the topic's message.
COMPATIBLE_KINDS = frozenset({("topic", "queue"), ("queue", "topic")})


# ---------------------------------------------------------------------------------- dispatch


def dispatch(
    app: App, events: Sequence[Event], ctx: Context, *, pinned: str | None = None, names: Mapping[str, str] | None = None
) -> DispatchResult:
    """Run the app's handlers over one provider delivery (one HTTP request or one batch)."""
    if len(events) == 1 and isinstance(events[0], HttpRequest):
        return DispatchResult([], dispatch_http(app, events[0], ctx))
    result = DispatchResult()
    pinned = pinned_handler(pinned)  # once per delivery, not once per record
    if names is None:
        names = logical_names()
    groups: dict[str, tuple[HandlerSpec, list[Event]]] = {}
    for event in events:
        if isinstance(event, HttpRequest):
            raise ConfigurationError("an HTTP request cannot be part of a batch")
        spec, event = resolve(app, event, pinned, names)
        groups.setdefault(spec.name, (spec, []))[1].append(event)
    for spec, group in groups.values():
        if spec.batch:
            result.outcomes.extend(_run_batch(spec, group, ctx))
        else:
            result.outcomes.extend(_run_each(spec, group, ctx))
    return result


#: event kind → the field naming its ordering unit, by the providers' definitions: an SQS FIFO
#: message group (``MessageGroupId``) and a Service Bus session are delivered in order one
#: message at a time, a Pub/Sub ordering key in publish order; a Kinesis shard and a Kafka
#: partition are read in sequence. A record whose unit is ``None`` (a standard queue) orders
#: nothing. ``""`` makes the whole delivery one unit: a DynamoDB Streams batch comes from one
#: shard and Lambda retries it from the first failed record, a Cosmos DB change-feed batch from
#: one lease, Cloudant and Firestore send one change at a time.
#: (The ``order_unit`` column of :mod:`corefn.kinds`.)
ORDER_UNIT: dict[str, str] = {k.name: k.order_unit for k in KINDS if k.order_unit is not None}


def order_key(event: Event) -> str | None:
    """The ordering unit ``event`` belongs to in its delivery (see :data:`ORDER_UNIT`)."""
    field = ORDER_UNIT.get(event.kind)
    if field is None:
        return None
    return getattr(event, field, None) if field else ""


def _held(key: str | None) -> NotRunAfterFailure:
    return NotRunAfterFailure(f"an earlier record of {key or 'this delivery'!r} failed; it is redelivered in order")


def _run_each(spec: HandlerSpec, events: list[Event], ctx: Context) -> list[Outcome]:
    outcomes = []
    blocked: set[str] = set()
    wants: Callable[[str, str], bool] | None = getattr(spec.trigger, "wants", None)
    guard = guard_for(spec, ctx) if spec.options.idempotent is not None else None
    for event in events:
        key = order_key(event)
        if key is not None and key in blocked:
            outcomes.append(Outcome(event, spec, _held(key)))
            continue
        if wants is not None and not wants(event.operation, event.key):  # type: ignore[attr-defined]
            outcomes.append(Outcome(event, spec, skipped=True))
            continue
        ctx.function, ctx.event_id = spec.name, event.id
        if guard is not None:
            outcome = _run_guarded(spec, event, ctx, guard)
            outcomes.append(outcome)
            if key is not None and outcome.error is not None:
                blocked.add(key)
            continue
        try:
            outcomes.append(Outcome(event, spec, result=call_handler(spec, event, ctx)))
        except Exception as error:  # a handler failure belongs to the retry path, not to us
            _log_failure(spec, event, ctx, error)
            outcomes.append(Outcome(event, spec, error))
            if key is not None:
                blocked.add(key)
    return outcomes


def _run_guarded(spec: HandlerSpec, event: Event, ctx: Context, guard: Guard) -> Outcome:
    """One event through an idempotent handler (see :mod:`corefn.idempotency`): a completed
    record answers, an in-progress one fails the delivery (retried later), else the handler runs
    and its record is completed, or deleted when it fails."""
    try:
        key = guard.key_of(event)
        claim = guard.begin(key)
    except Exception as error:  # in progress elsewhere, no key, or the record store failed: retry
        _log_guard(spec, event, error)
        return Outcome(event, spec, error)
    if claim is not None:
        return Outcome(event, spec, result=claim.result, replayed=True)
    try:
        result = call_handler(spec, event, ctx)
    except Exception as error:
        _log_failure(spec, event, ctx, error)
        _forget(guard, key, spec, event)
        return Outcome(event, spec, error)
    try:
        guard.complete(key, result)
    except Exception as error:  # the handler did run: acknowledge, so it is not run again now
        _log_guard(spec, event, error, "could not record completion (a redelivery after the in-progress time may run again)")
    return Outcome(event, spec, result=result)


def _forget(guard: Guard, key: str, spec: HandlerSpec, event: Event) -> None:
    try:
        guard.abandon(key)
    except Exception as error:  # the record then blocks retries until its in-progress time ends
        _log_guard(spec, event, error, "could not delete the in-progress record")


def _log_guard(spec: HandlerSpec, event: Event, error: BaseException, what: str = "") -> None:
    from corefn.log import get_logger

    get_logger("idempotency").warning(
        "handler %s, %s event %s: %s%s: %s", spec.name, event.kind, event.id, what + ": " if what else "",
        type(error).__name__, error,
    )


def _run_batch(spec: HandlerSpec, events: list[Event], ctx: Context) -> list[Outcome]:
    guard = guard_for(spec, ctx) if spec.options.idempotent is not None else None
    if guard is not None:
        return _order_failures(spec, _run_batch_guarded(spec, events, ctx, guard))
    batch = Batch(events)
    ctx.function, ctx.event_id = spec.name, None
    try:
        call_handler(spec, batch, ctx)
    except Exception as error:
        _log_failure(spec, events[0], ctx, error)
        return [Outcome(event, spec, error) for event in events]
    return _order_failures(spec, [Outcome(event, spec, batch.failures.get(i)) for i, event in enumerate(events)])


def _run_batch_guarded(spec: HandlerSpec, events: list[Event], ctx: Context, guard: Guard) -> list[Outcome]:
    """A batch handler gets only the records no run has handled or is handling; each of them is
    then completed or forgotten on its own (per-record idempotency, as Powertools' batch utility)."""
    outcomes: list[Outcome | None] = []
    fresh: list[tuple[int, str, Event]] = []
    for event in events:
        try:
            key = guard.key_of(event)
            claim = guard.begin(key)
        except Exception as error:
            _log_guard(spec, event, error)
            outcomes.append(Outcome(event, spec, error))
            continue
        if claim is not None:
            outcomes.append(Outcome(event, spec, result=claim.result, replayed=True))
        else:
            fresh.append((len(outcomes), key, event))
            outcomes.append(None)
    if fresh:
        batch = Batch(event for _, _, event in fresh)
        ctx.function, ctx.event_id = spec.name, None
        try:
            call_handler(spec, batch, ctx)
            failures = batch.failures
        except Exception as error:
            _log_failure(spec, fresh[0][2], ctx, error)
            failures = dict.fromkeys(range(len(fresh)), error)
        for i, (slot, key, event) in enumerate(fresh):
            failed = failures.get(i)
            if failed is None:
                try:
                    guard.complete(key, None)
                except Exception as error:
                    _log_guard(spec, event, error, "could not record completion")
            else:
                _forget(guard, key, spec, event)
            outcomes[slot] = Outcome(event, spec, failed)
    return [o for o in outcomes if o is not None]


def _order_failures(spec: HandlerSpec, outcomes: list[Outcome]) -> list[Outcome]:
    """The handler saw the whole batch: the rest of a failed group is reported failed, whatever
    the handler declared (see :data:`ORDER_UNIT`)."""
    blocked: set[str] = set()
    for outcome in outcomes:
        key = order_key(outcome.event)
        if key is None:
            continue
        if key in blocked and outcome.error is None:
            outcome.error = _held(key)
        elif outcome.error is not None:
            blocked.add(key)
    return outcomes


# ------------------------------------------------------------------------------------ HTTP


def dispatch_http(app: App, request: HttpRequest, ctx: Context) -> HttpResponse:
    """Route, check the API key, run the handler and normalise its answer. Never raises for a
    handler failure: a 500 is what every gateway would answer."""
    cors = app.cors
    origin = request.headers.get("origin") if cors is not None else None
    if cors is not None and request.method == "OPTIONS" and origin and "access-control-request-method" in request.headers:
        return _preflight(cors, origin)
    spec, params, allowed = (app._router or app.router).match(request.method, request.path)
    if spec is None:
        if allowed:
            response = HttpResponse.json({"error": "method not allowed"}, 405, {"allow": ", ".join(sorted(allowed))})
        else:
            response = HttpResponse.json({"error": "not found", "path": request.path}, 404)
        return _with_cors(cors, origin, response)
    options = spec.options
    if options.api_key and not _api_key_ok(app, request):
        return _with_cors(cors, origin, HttpResponse.json({"error": "missing or invalid API key"}, 401))
    if options.auth:
        from corefn.auth._check import authenticate

        verified = authenticate(options.auth, request)
        if isinstance(verified, HttpResponse):
            return _with_cors(cors, origin, verified)
        request = request.replace(auth=verified)
    if params:
        request = request.replace(params=params)
    ctx.function, ctx.event_id = spec.name, request.id
    if options.idempotent is not None:
        return _with_cors(cors, origin, _http_guarded(spec, request, ctx))
    response = _http_call(spec, request, ctx)
    return response if cors is None else _with_cors(cors, origin, response)


def _http_call(spec: HandlerSpec, request: HttpRequest, ctx: Context) -> HttpResponse:
    try:
        return as_response(call_handler(spec, request, ctx))
    except HttpError as error:
        body = {"error": error.detail if error.detail is not None else _reason(error.status)}
        return HttpResponse.json(body, error.status, error.headers)
    except Exception as error:
        _log_failure(spec, request, ctx, error)
        return HttpResponse.json({"error": "internal server error", "invocation_id": ctx.invocation_id}, 500)


def _http_guarded(spec: HandlerSpec, request: HttpRequest, ctx: Context) -> HttpResponse:
    """An idempotent route, after IETF draft-ietf-httpapi-idempotency-key-header: a request
    without an ``Idempotency-Key`` is a 400, one whose first copy is still running a 409, one
    already answered gets the stored response again; a 5xx is not stored (the client may retry)."""
    guard = guard_for(spec, ctx)
    assert guard is not None
    try:
        key = guard.key_of(request)
    except ConfigurationError:
        return HttpResponse.json({"error": "this route is idempotent: send an Idempotency-Key header"}, 400)
    try:
        claim = guard.begin(key)
    except IdempotencyInProgressError:
        return HttpResponse.json({"error": "a request with this Idempotency-Key is still being processed"}, 409)
    except Exception as error:
        _log_failure(spec, request, ctx, error)
        return HttpResponse.json({"error": "internal server error", "invocation_id": ctx.invocation_id}, 500)
    if claim is not None:
        return _stored_response(claim.result)
    response = _http_call(spec, request, ctx)
    try:
        if response.status >= 500:
            guard.abandon(key)
        else:
            guard.complete(key, _storable_response(response))
    except Exception as error:
        _log_guard(spec, request, error, "could not record the response")
    return response


def _storable_response(response: HttpResponse) -> dict[str, Any]:
    import base64

    return {
        "status": response.status, "headers": dict(response.headers), "cookies": list(response.cookies),
        "body": base64.b64encode(response.body).decode("ascii"),
    }


def _stored_response(stored: Any) -> HttpResponse:
    import base64

    return HttpResponse(
        int(stored["status"]), {**stored["headers"], "idempotent-replayed": "true"}, base64.b64decode(stored["body"]),
        tuple(stored.get("cookies") or ()),
    )


def _api_key_ok(app: App, request: HttpRequest) -> bool:
    """Constant-time comparison against the key in ``app.api_key_env`` (fails closed when unset)."""
    import hmac

    expected = os.environ.get(app.api_key_env, "")
    given = request.headers.get("x-api-key", "")
    return bool(expected) and hmac.compare_digest(expected.encode(), given.encode())


def _preflight(cors: Cors, origin: str) -> HttpResponse:
    if not cors.allows(origin):
        return HttpResponse(403)
    headers = _cors_headers(cors, origin)
    headers["access-control-allow-methods"] = ", ".join(cors.methods)
    headers["access-control-allow-headers"] = ", ".join(cors.headers)
    headers["access-control-max-age"] = str(cors.max_age)
    return HttpResponse(204, headers)


def _cors_headers(cors: Cors, origin: str) -> dict[str, str]:
    headers = {"access-control-allow-origin": origin if cors.credentials or "*" not in cors.origins else "*"}
    if cors.credentials:
        headers["access-control-allow-credentials"] = "true"
    if cors.expose:
        headers["access-control-expose-headers"] = ", ".join(cors.expose)
    if headers["access-control-allow-origin"] != "*":
        headers["vary"] = "origin"
    return headers


def _with_cors(cors: Cors | None, origin: str | None, response: HttpResponse) -> HttpResponse:
    if cors is None or not origin or not cors.allows(origin):
        return response
    return response.with_headers(_cors_headers(cors, origin))


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase.lower()
    except ValueError:
        return "error"
