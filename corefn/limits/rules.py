"""The limit rules: each reads one handler's declaration and one fact row of the target cloud.

Every rule is generic: what differs per cloud is data in the adapter's ``facts/limits.toml`` (or
``services.toml``), so a fifth cloud brings its limits with it and nothing here changes. A rule
returns nothing when the handler is within the limit or when the cloud has no row for it (an
unknown limit is not a broken one). ``RULES`` maps each rule id to its function, in the order
findings are reported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from corefn.limits import _rows, _schedule

if TYPE_CHECKING:
    from corefn.app import App
    from corefn.facts import CloudFacts
    from corefn.specs import HandlerSpec


@dataclass(frozen=True, slots=True)
class Finding:
    """One broken (``error``) or risky (``warning``) limit: which rule, which handler on which
    cloud, the declared number, the limit, and the provider page the limit comes from."""

    rule: str
    severity: str
    cloud: str
    handler: str
    value: str
    limit: str
    message: str
    source: str

    def to_dict(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


class Target:
    """One handler on one cloud, with the rows that apply to it."""

    __slots__ = ("app", "spec", "cloud", "facts", "context")

    def __init__(self, app: App, spec: HandlerSpec, cloud: str, facts: CloudFacts) -> None:
        self.app, self.spec, self.cloud, self.facts = app, spec, cloud, facts
        meta = facts.topic("limits").get("meta", {})
        self.context = _rows.handler_context(app, spec, cloud, meta.get("options", {}))

    def row(self, name: str) -> Mapping[str, Any] | None:
        return _rows.select(_rows.candidates(self.facts.topic("limits").get("limits", {}), name), self.context)

    def finding(
        self, rule: str, row: Mapping[str, Any], value: str, limit: str, message: str, severity: str | None = None
    ) -> Finding:
        note = row.get("note")
        text = f"{message} ({note})" if note else message
        return Finding(rule, severity or str(row.get("severity", "error")), self.cloud, self.spec.name, value, limit, text,
                       str(row.get("source", "")))  # fmt: skip


Rule = Callable[[Target], Iterator[Finding]]


def _number(value: float) -> str:
    """``900``, ``0.1``, ``1048576``: whole numbers in full (``:g`` would write 1.04858e+06)."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _range(rule: str, option: str, fact: str) -> Rule:
    """A rule for a numeric option that must lie within ``[min, max]`` or among ``allowed``."""

    def check(t: Target) -> Iterator[Finding]:
        value = getattr(t.spec.options, option)
        row = t.row(fact)
        if value is None or row is None or (option == "max_attempts" and value == 0):
            return
        unit = f" {row['unit']}" if "unit" in row else ""
        shown = f"{option} {_number(value)}{unit}"
        if "allowed" in row and value not in row["allowed"]:
            allowed = ", ".join(_number(v) for v in row["allowed"])
            yield t.finding(rule, row, shown, f"one of {allowed}{unit}", f"{option}={_number(value)} is not a size {t.cloud} offers")
        elif "max" in row and value > row["max"]:
            yield t.finding(rule, row, shown, f"max {_number(row['max'])}{unit}", f"{option}={_number(value)} is above {t.cloud}'s maximum")
        elif "min" in row and value < row["min"]:
            yield t.finding(rule, row, shown, f"min {_number(row['min'])}{unit}", f"{option}={_number(value)} is below {t.cloud}'s minimum")

    return check


def gateway_timeout(t: Target) -> Iterator[Finding]:
    """An HTTP handler allowed to run longer than the gateway in front of it waits: the caller gets
    a gateway timeout while the function goes on running (and billing)."""
    timeout, row = t.spec.options.timeout, t.row("gateway_timeout")
    if t.spec.kind != "http" or timeout is None or row is None or "max" not in row or timeout <= row["max"]:
        return
    yield t.finding("gateway-timeout", row, f"timeout {_number(timeout)} s", f"gateway {_number(row['max'])} s",
                    f"the HTTP gateway gives up after {_number(row['max'])} s, before the handler's timeout")  # fmt: skip


def queue_visibility(t: Target) -> Iterator[Finding]:
    """A queue message becomes visible again (and is delivered a second time, in parallel) when the
    handler runs longer than the queue hides it. ``visibility`` is a fixed window; ``factor`` and
    ``max`` describe one the deployment sets from the timeout, capped by the service."""
    timeout, row = t.spec.options.timeout, t.row("queue_visibility")
    if t.spec.kind not in ("queue", "topic") or timeout is None or row is None:
        return
    if "visibility" in row:
        window = float(row["visibility"])
    else:
        window = min(float(row.get("max", float("inf"))), float(row.get("factor", 1)) * timeout)
    if timeout > window:
        yield t.finding("queue-visibility", row, f"timeout {_number(timeout)} s", f"visibility {_number(window)} s",
                        "the message is delivered again while the handler still runs")  # fmt: skip


def stream_retry(t: Target) -> Iterator[Finding]:
    """A stream or change-feed handler retried until the record expires: one poison record blocks
    its shard (partition, ordering key) for the whole retention period. ``max_attempts=0`` asks for
    that (an error); with ``max_age`` the wait is bounded by it (a warning). Unset, the portable
    retry policy (:mod:`corefn.policy`) gives up after 5 attempts, so nothing is reported."""
    row = t.row("stream_retry")
    if t.spec.kind not in ("stream", "nosql") or row is None or t.spec.options.max_attempts != 0:
        return
    max_age = t.spec.options.max_age
    retention = float(row.get("retention", 0))
    held = f"for up to {_number(retention / 3600)} h" if retention else "indefinitely"
    if max_age:
        yield t.finding("stream-retry", row, f"max_attempts 0, max_age {_number(max_age)} s", f"retention {_number(retention)} s",
                        f"a record that keeps failing blocks its shard for up to {_number(max_age)} s before it is "
                        "dead-lettered", severity="warning")  # fmt: skip
    else:
        yield t.finding("stream-retry", row, "max_attempts 0 (until expiry)", f"retention {_number(retention)} s",
                        f"a record that keeps failing blocks its shard {held}; set max_attempts or max_age, and a dead letter")  # fmt: skip


def _timer(t: Target) -> tuple[str, str] | None:
    if t.spec.kind != "timer":
        return None
    trigger: Any = t.spec.trigger
    return str(trigger.schedule), str(trigger.tz)


def schedule_day_fields(t: Target) -> Iterator[Finding]:
    """Unix cron ORs day-of-month and day-of-week when both are restricted; EventBridge cannot say
    that (one of them must be ``?``)."""
    timer, row = _timer(t), t.row("schedule_day_fields")
    if timer is None or row is None or row.get("both", True):
        return
    fields = timer[0].split()
    if fields[2] not in ("*", "?") and fields[4] not in ("*", "?"):
        yield t.finding("schedule-day-fields", row, f"schedule {timer[0]!r}", "one day field",
                        "the schedule restricts both day of month and day of week")  # fmt: skip


def schedule_frequency(t: Target) -> Iterator[Finding]:
    timer, row = _timer(t), t.row("schedule_interval")
    if timer is None or row is None or "min" not in row:
        return
    gap = _schedule.shortest_gap(*timer)
    if gap < row["min"]:
        yield t.finding("schedule-frequency", row, f"every {_number(gap)} s", f"min {_number(row['min'])} s",
                        f"the schedule {timer[0]!r} runs more often than {t.cloud} allows")  # fmt: skip


def schedule_dst(t: Target, today: date | None = None) -> Iterator[Finding]:
    """A local-time schedule on a target that runs schedules in UTC: it can only be converted with
    one offset, so across a daylight-saving change it fires an hour off (Azure's Consumption and
    Flex plans ignore ``WEBSITE_TIME_ZONE``)."""
    timer, row = _timer(t), t.row("schedule_time_zone")
    if timer is None or row is None or row.get("supported", True) or timer[1] == "UTC":
        return
    start = today or date.today()
    moved = _schedule.moved_by_dst(timer[0], timer[1], start.year)
    if moved is None:
        return
    standard, summer = moved
    changes = ", ".join(day.date().isoformat() for day in _schedule.transitions(timer[1], start))
    shift = _number((summer - standard).total_seconds() / 60)
    yield t.finding("schedule-dst", row, f"schedule {timer[0]!r} in {timer[1]}", "UTC only",
                    f"{t.cloud} runs timers in UTC, so the schedule fires {shift} min off local time for part of the year "
                    f"(next offset changes: {changes}); schedule in UTC or use a plan with time zones")  # fmt: skip


#: byte multipliers of the units workflows.toml writes sizes in (the services and the flows
#: engine count a KB as 1,024 bytes: Step Functions' 256 KiB is 262,144 bytes)
SIZE_UNITS = {"B": 1, "bytes": 1, "KB": 1024, "KiB": 1024, "MB": 1024 * 1024, "MiB": 1024 * 1024}


def flow_payload(t: Target) -> Iterator[Finding]:
    """A flow started by a trigger whose payload may be larger than the cloud's workflow service
    passes between steps: the event's JSON form is the flow's input, so a big enough request or
    message fails the run (Step Functions' ``States.DataLimitExceeded`` is not even catchable).
    The step limit is the adapter's ``workflows.toml`` ``[workflows.step_payload]`` (written with
    the flows engine); a limit marked ``binding = false`` spills (Durable Functions keeps large
    messages in blobs) and is not a finding. A handler that starts a flow is the flows package's
    ``FlowStarter``, recognised by its ``flow`` name so the check does not import the engine."""
    flow = getattr(t.spec.handler, "flow", None)
    if not isinstance(flow, str):
        return
    step = t.facts.get("workflows", "workflows.step_payload")
    trigger_row = t.row("payload_size" if t.spec.kind == "http" else "message_size")
    if step is None or not step.get("binding", True) or trigger_row is None or "max" not in trigger_row or "max" not in step:
        return
    limit = int(step["max"] * SIZE_UNITS.get(str(step.get("unit", "B")), 1))
    if trigger_row["max"] > limit:
        what = "request" if t.spec.kind == "http" else f"{t.spec.kind} message"
        yield t.finding("flow-payload", {**step, "note": None}, f"{what} up to {trigger_row['max']:,} bytes",
                        f"flow payload {limit:,} bytes",
                        f"a {what} can start flow {flow!r} with more JSON than {step.get('service', t.cloud)} passes "
                        "between steps; pass a key to an object store instead", severity="warning")  # fmt: skip


def _owned_flows(t: Target) -> list[Any]:
    """The flows whose findings are reported on ``t``'s handler: the one that starts them (the
    first trigger applied to the flow), else, for a flow nothing starts, its first step."""
    from corefn.flows.deploying import starters

    started = starters(t.app)
    owned = []
    for flow in t.app.flows:
        first = next((handler for handler, name in started.items() if name == flow.name), None)
        tasks = flow.tasks()
        if (first or (tasks[0].handler if tasks else None)) == t.spec.name:
            owned.append(flow)
    return owned


def flow_support(t: Target) -> Iterator[Finding]:
    """What the cloud cannot deploy or express of a flow, on the handler that starts it: an error
    when the cloud's adapter does not deploy flows at all (``corefn deploy`` refuses the app) or
    lacks a construct the flow uses (``unsupported``), a warning where its workflow service runs
    the construct differently from ``corefn run`` (``differs``); the constructs are the adapter's
    ``workflows.toml`` ``[workflows.constructs.<construct>]`` (see
    :data:`corefn.flows.deploying.CONSTRUCTS`)."""
    owned = _owned_flows(t)
    if not owned:
        return
    from corefn.adapters import get_adapter
    from corefn.errors import ConfigurationError
    from corefn.flows.deploying import constructs, deploys_flows

    try:
        deploys = deploys_flows(get_adapter(t.cloud))
    except ConfigurationError:  # facts without an installed adapter: nothing deploys there
        deploys = False
    for flow in owned:
        if not deploys:
            yield t.finding("flow-support", {}, f"flow {flow.name!r}", "flows not deployed",
                            f"corefn deploy cannot deploy flows to {t.cloud} yet: it refuses the app")  # fmt: skip
            continue
        for node, construct in constructs(flow):
            fact = t.facts.get("workflows", f"workflows.constructs.{construct}")
            if fact is None:
                continue
            what = f"flow {flow.name!r}: {construct} {node!r}"
            if "unsupported" in fact:
                yield t.finding("flow-support", fact, what, f"no {construct}", str(fact["unsupported"]))
            elif "differs" in fact:
                yield t.finding("flow-support", fact, what, f"{construct} differs", str(fact["differs"]), severity="warning")


def adapter_hook(cloud: str, name: str) -> Callable[..., Any] | None:
    """A function the adapter's limits module (its Provider's ``limits``, ``corefn_<cloud>.limits``
    by default) offers the check (the adapter's own translations, such as its cron converter), or
    None when it offers none. Imported by name, as :func:`corefn.facts.facts_package` finds facts,
    so the core never imports an adapter."""
    import importlib

    from corefn.adapters import get_adapter

    where = get_adapter(cloud).limits
    try:
        module = importlib.import_module(where)
    except ModuleNotFoundError as exc:
        if exc.name is not None and not where.startswith(exc.name):
            raise  # the module exists but one of its own imports failed: say so
        return None
    hook = getattr(module, name, None)
    return hook if callable(hook) else None


def schedule_syntax(t: Target) -> Iterator[Finding]:
    """A schedule the cloud's deployment refuses to translate (a weekday range wrapping past
    Saturday for EventBridge, a UTC rewrite crossing midnight for Azure), found by the adapter's
    own translation through ``schedule_error(schedule, tz, options) -> (reason, page) | None``."""
    timer = _timer(t)
    hook = adapter_hook(t.cloud, "schedule_error") if timer else None
    if timer is None or hook is None:
        return
    refused = hook(timer[0], timer[1], t.context)
    if refused:
        reason, page = refused
        yield t.finding("schedule-syntax", {"source": page}, f"schedule {timer[0]!r} in {timer[1]}", "not expressible", reason)


#: sink kinds that usually live inside a private network (RDS / Cloud SQL private IP, ElastiCache,
#: Memorystore) unless the sink says ``private_network=False`` (a public endpoint)
PRIVATE_SINK_KINDS = ("sql", "cache")


def _private_sinks(t: Target, kinds: tuple[str, ...]) -> tuple[list[str], bool]:
    """The private-network sinks (of ``kinds``) ``t``'s handler may touch, and whether that is only
    because it declares no ``uses=`` (then its function is given every sink of the app)."""
    uses = t.spec.options.uses
    wanted = set(uses) if uses is not None else None
    names = [
        s.name for s in t.app.sinks
        if s.kind in kinds and s.options.get("private_network", True) is not False
        and (wanted is None or s.name in wanted)
    ]  # fmt: skip
    return names, wanted is None


def private_network(t: Target) -> Iterator[Finding]:
    """A handler using a database or cache that only a private network reaches, on a cloud whose
    deployment gives it none (``placement = "none"``); or, where the deployment puts such users in the network itself
    (``placement = "automatic"``), a handler placed there only because it declares no ``uses=``
    (VPC functions pay for the network interface on cold start and need NAT to reach the internet).
    ``sink_kinds`` says which sink kinds live in a private network there (default SQL and caches)."""
    row = t.row("private_network")
    if row is None:
        return
    names, implicit = _private_sinks(t, tuple(row.get("sink_kinds", PRIVATE_SINK_KINDS)))
    if not names:
        return
    listed = ", ".join(names)
    if row.get("placement") == "none":
        how = "it declares no uses=, so it may use " if implicit else "it uses "
        yield t.finding("private-network", row, f"uses {listed}", "no private network",
                        f"{how}{listed}, reachable only from a private network that {t.cloud}'s deployment does not give "
                        "it; set private_network=False on a sink with a public endpoint")  # fmt: skip
    elif row.get("placement") == "automatic" and implicit:
        yield t.finding("private-network", row, f"may use {listed}", "private network not needed",
                        f"the handler declares no uses=, so it is placed in the private network for {listed} "
                        "whether it touches them or not; declare uses=", severity="warning")  # fmt: skip


def least_privilege(t: Target) -> Iterator[Finding]:
    """A handler that declares no ``uses=`` on a cloud whose deployment gives each function its own
    identity (``[limits.least_privilege]``): it is granted every sink of the app (``uses=None``
    means every sink, :func:`corefn.policy.used_sinks`)."""
    if t.spec.options.uses is not None or not t.app.sinks:
        return
    row = t.row("least_privilege")
    if row is None:
        return
    names = ", ".join(s.name for s in t.app.sinks)
    yield t.finding("least-privilege", row, "uses= not declared", f"{len(t.app.sinks)} sinks",
                    f"its function's identity gets every sink's grants ({names}); declare uses= with the sinks it touches",
                    severity="warning")  # fmt: skip


SUPPORT_RANK = {"native": 2, "bridged": 1, "unsupported": 0}


def trigger_support(t: Target) -> Iterator[Finding]:
    """A trigger kind the cloud cannot deploy: no entry, or only ``unsupported`` ones, in the
    adapter's ``services.toml`` (the lock-in report's facts). A bridged kind deploys, so it is
    not a finding here; ``corefn report`` says what the bridge changes."""
    services = t.facts.topic("services")
    if not services:
        return  # no services file: the rule cannot tell (the report says which clouds it skipped)
    entries = services.get("triggers", {}).get(t.spec.kind, {})
    best: Mapping[str, Any] | None = None
    for entry in entries.values() if isinstance(entries, Mapping) else ():
        if isinstance(entry, Mapping) and (best is None or SUPPORT_RANK.get(str(entry.get("support")), 0) > SUPPORT_RANK.get(str(best.get("support")), 0)):
            best = entry
    support = str(best.get("support", "unsupported")) if best else "unsupported"
    if support in ("native", "bridged"):  # a bridge deploys: how it differs is the lock-in report's
        return
    row: Mapping[str, Any] = best or {"source": f"corefn_{t.cloud}/facts/services.toml"}
    yield t.finding("trigger-support", row, f"{t.spec.kind} trigger", "unsupported",
                    f"{t.cloud} cannot deploy a {t.spec.kind} trigger", severity="error")


#: every ``[limits.NAME]`` a rule reads (a name outside this set in a limits.toml is a typo)
LIMIT_NAMES = frozenset({
    "timeout", "memory", "batch_size", "max_attempts", "max_age", "gateway_timeout", "queue_visibility", "stream_retry",
    "schedule_interval", "schedule_day_fields", "schedule_time_zone", "message_size", "payload_size", "private_network",
    "least_privilege",
})  # fmt: skip

RULES: dict[str, Rule] = {
    "trigger-support": trigger_support,
    "timeout-range": _range("timeout-range", "timeout", "timeout"),
    "memory-range": _range("memory-range", "memory", "memory"),
    "batch-size-range": _range("batch-size-range", "batch_size", "batch_size"),
    "max-attempts-range": _range("max-attempts-range", "max_attempts", "max_attempts"),
    "max-age-range": _range("max-age-range", "max_age", "max_age"),
    "gateway-timeout": gateway_timeout,
    "queue-visibility": queue_visibility,
    "stream-retry": stream_retry,
    "schedule-day-fields": schedule_day_fields,
    "schedule-frequency": schedule_frequency,
    "schedule-dst": schedule_dst,
    "schedule-syntax": schedule_syntax,
    "flow-payload": flow_payload,
    "flow-support": flow_support,
    "private-network": private_network,
    "least-privilege": least_privilege,
}
