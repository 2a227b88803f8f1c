"""The one table of event kinds: for each kind, its event class, its trigger declaration, the
event field that names the resource it came from, and its nature. Dispatch, the local runtime
and the adapters' runtimes read it; adding a trigger kind is an event module, a trigger class, a
decorator on ``App`` and one row here.

Natures, in the table's order:

- ``request``: a caller waits for the handler's answer (HTTP, a direct invoke); nothing is queued,
  a failure goes back to the caller;
- ``message``: something published a message (queue, topic, stream); the platform keeps it
  until a handler succeeds, then retries and dead-letters;
- ``change``: a resource changed (an object in a bucket, an item in a table); delivered like a
  message, but nobody published it;
- ``schedule``: a clock fired (timer).

The resource field names, per event, what the trigger declaration listens to: ``bucket`` for a
storage event, ``table`` for a change, and, for a timer or an invoke, the handler's own ``name``
(they listen to no resource of the app).

The delivery is how a failed handler's event is retried (:mod:`corefn.policy` draws the rule):
``sync`` (the caller gets the error), ``queue`` (redelivered, then dead-lettered), ``stream``
(retried in order, the batch split where the cloud can) or ``event`` (pushed by the platform,
which retries as far as it allows). It is a column, not derived from the nature: a topic and a
queue are both messages but fail differently, and a new kind must say which it is.

The order unit is the event field that groups records a provider delivers in order (an SQS FIFO
message group, a Kinesis shard or Kafka partition; ``""`` when a whole delivery is one unit, as a
DynamoDB Streams batch is): dispatch stops a unit at its first failure so the rest is redelivered
in order rather than run twice (:data:`corefn.dispatch.ORDER_UNIT`).
"""

from __future__ import annotations

from corefn._aliases import alias, missing
from corefn._record import Record, _set
from corefn.events import (
    AuthorizeRequest,
    Event,
    HttpRequest,
    InvokeEvent,
    NoSqlChange,
    QueueMessage,
    StorageEvent,
    StreamRecord,
    TimerEvent,
    TopicMessage,
)
from corefn.specs import (
    AuthorizerTrigger,
    HttpTrigger,
    InvokeTrigger,
    NoSqlTrigger,
    QueueTrigger,
    StorageTrigger,
    StreamTrigger,
    TimerTrigger,
    TopicTrigger,
    Trigger,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Literal

    Nature = Literal["request", "message", "change", "schedule"]
    Delivery = Literal["sync", "queue", "stream", "event"]

#: the values of the ``Nature`` and ``Delivery`` aliases, in order
_VALUES = {"Nature": ("request", "message", "change", "schedule"), "Delivery": ("sync", "queue", "stream", "event")}


class Kind(Record):
    """One row of the table. A :class:`~corefn._record.Record`, not a dataclass: importing
    ``dataclasses`` costs more than this whole module, and dispatch imports it on cold start."""

    __slots__ = ("name", "event", "trigger", "resource_field", "nature", "delivery", "order_unit")
    name: str
    event: type[Event]
    trigger: type[Trigger]
    #: the event field naming the resource the event came from (None: HTTP, routed by path)
    resource_field: str | None
    nature: Nature
    delivery: Delivery
    #: the event field naming its ordering unit (``""``: the whole delivery is one unit; None:
    #: the kind orders nothing), see :func:`corefn.dispatch.order_key`
    order_unit: str | None

    def __init__(
        self, name: str, event: type[Event], trigger: type[Trigger], resource_field: str | None, nature: Nature,
        delivery: Delivery, order_unit: str | None = None,
    ) -> None:  # fmt: skip
        _set(self, "name", name)
        _set(self, "event", event)
        _set(self, "trigger", trigger)
        _set(self, "resource_field", resource_field)
        _set(self, "nature", nature)
        _set(self, "delivery", delivery)
        _set(self, "order_unit", order_unit)

    @property
    def is_named_by_handler(self) -> bool:
        """Whether the event names its handler rather than a resource (timers, invokes)."""
        return self.resource_field == "name"


#: every event kind, ordered by nature (requests, messages, changes, schedules)
KINDS: tuple[Kind, ...] = (
    Kind("http", HttpRequest, HttpTrigger, None, "request", "sync"),
    Kind("invoke", InvokeEvent, InvokeTrigger, "name", "request", "sync"),
    # an API Gateway Lambda authorizer: a gateway waits for the decision; it names no resource
    Kind("authorizer", AuthorizeRequest, AuthorizerTrigger, None, "request", "sync"),
    Kind("queue", QueueMessage, QueueTrigger, "queue", "message", "queue", order_unit="group"),
    Kind("topic", TopicMessage, TopicTrigger, "topic", "message", "event", order_unit="group"),
    Kind("stream", StreamRecord, StreamTrigger, "stream", "message", "stream", order_unit="partition"),
    Kind("storage", StorageEvent, StorageTrigger, "bucket", "change", "event"),
    Kind("nosql", NoSqlChange, NoSqlTrigger, "table", "change", "stream", order_unit=""),
    Kind("timer", TimerEvent, TimerTrigger, "name", "schedule", "event"),
)

BY_NAME: dict[str, Kind] = {kind.name: kind for kind in KINDS}


def kind(name: str) -> Kind:
    """The row for event kind ``name`` (KeyError names the known kinds)."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"no event kind {name!r}; kinds: {', '.join(BY_NAME)}") from None


def names(*natures: Nature) -> tuple[str, ...]:
    """The kind names of the given natures (all when none given), in the table's order."""
    return tuple(k.name for k in KINDS if not natures or k.nature in natures)


def resource_fields() -> dict[str, str]:
    """Kind → the event field naming its resource, for the kinds that have one."""
    return {k.name: k.resource_field for k in KINDS if k.resource_field is not None}


def __getattr__(name: str) -> Any:
    """``Nature`` and ``Delivery`` at run time (see :mod:`corefn._aliases`)."""
    if name in _VALUES:
        return alias(globals(), name, _VALUES[name])
    raise missing(__name__, name)


__all__ = ["BY_NAME", "KINDS", "Delivery", "Kind", "Nature", "kind", "names", "resource_fields"]
