"""``corefn check``'s rules, table-driven: for each rule one declaration that breaks a cloud's limit
and one that does not, against the adapters' real ``limits.toml`` (and, for the trigger rule, a
``services.toml`` fixture in the lock-in report's schema)."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from corefn import facts
from corefn.app import App
from corefn.facts import CloudFacts
from corefn.limits import RULES, _schedule, check
from corefn.specs import Options

Declare = Callable[[App], Any]


@cache
def real(cloud: str) -> CloudFacts:
    return facts.load(cloud)


def handler(event: Any) -> None:
    return None


def app_with(declare: Declare, **provider: dict[str, Any]) -> App:
    app = App("limits", defaults=Options(provider=provider) if provider else None)
    declare(app)(handler)
    return app


def http(**options: Any) -> Declare:
    return lambda app: app.get("/x", **options)


def queue(**options: Any) -> Declare:
    return lambda app: app.queue("jobs", **options)


def stream(**options: Any) -> Declare:
    return lambda app: app.stream("clicks", **options)


def nosql(**options: Any) -> Declare:
    return lambda app: app.nosql("orders", **options)


def timer(schedule: str, tz: str = "UTC", **options: Any) -> Declare:
    return lambda app: app.timer(schedule, tz=tz, **options)


AZURE_FLEX = {"azure": {"plan": "flex"}}  # the default, as corefn deploy's ARM template creates it
AZURE_CONSUMPTION = {"azure": {"plan": "consumption"}}
AZURE_PREMIUM_SB = {"azure": {"plan": "premium", "service": "servicebus"}}

# (rule, cloud, declaration, app-wide provider options, breaks?)
CASES: list[tuple[str, str, Declare, dict[str, Any], bool]] = [
    ("timeout-range", "aws", http(timeout=901), {}, True),
    ("timeout-range", "aws", http(timeout=900), {}, False),
    ("timeout-range", "azure", queue(timeout=601), AZURE_CONSUMPTION, True),
    ("timeout-range", "azure", queue(timeout=3600), AZURE_FLEX, False),
    ("timeout-range", "gcp", queue(timeout=541), {}, True),
    ("timeout-range", "gcp", http(timeout=3600), {}, False),
    ("timeout-range", "openwhisk", http(timeout=301), {}, True),
    ("timeout-range", "openwhisk", http(timeout=0.1), {}, False),
    ("memory-range", "aws", http(memory=10241), {}, True),
    ("memory-range", "aws", http(memory=10240), {}, False),
    ("memory-range", "azure", http(memory=2048), AZURE_CONSUMPTION, True),
    ("memory-range", "azure", http(memory=1024), AZURE_FLEX, True),
    ("memory-range", "azure", http(memory=2048), AZURE_FLEX, False),
    ("memory-range", "gcp", http(memory=32769), {}, True),
    ("memory-range", "openwhisk", http(memory=1024), {}, True),
    ("memory-range", "openwhisk", http(memory=512), {}, False),
    ("batch-size-range", "aws", queue(batch_size=11), {}, True),
    ("batch-size-range", "aws", queue(batch_size=10), {}, False),
    ("batch-size-range", "aws", stream(batch_size=10001), {}, True),
    ("batch-size-range", "aws", stream(batch_size=10000), {}, False),
    ("batch-size-range", "azure", queue(batch_size=33), {}, True),
    ("batch-size-range", "azure", queue(batch_size=32), {}, False),
    ("max-attempts-range", "gcp", queue(max_attempts=3), {}, True),
    ("max-attempts-range", "gcp", queue(max_attempts=5), {}, False),
    ("max-attempts-range", "aws", queue(max_attempts=1001), {}, True),
    ("max-attempts-range", "aws", queue(max_attempts=1000), {}, False),
    ("gateway-timeout", "aws", http(timeout=31), {}, True),
    ("gateway-timeout", "aws", http(timeout=30), {}, False),
    ("gateway-timeout", "aws", http(timeout=30), {"aws": {"api": "rest"}}, True),
    ("gateway-timeout", "aws", http(timeout=29), {"aws": {"api": "rest"}}, False),
    ("gateway-timeout", "azure", http(timeout=231), {}, True),
    ("gateway-timeout", "azure", http(timeout=230), {}, False),
    ("gateway-timeout", "openwhisk", http(timeout=61), {}, True),
    ("gateway-timeout", "gcp", http(timeout=3600), {}, False),
    ("queue-visibility", "azure", queue(timeout=301), AZURE_PREMIUM_SB, True),
    ("queue-visibility", "azure", queue(timeout=300), AZURE_PREMIUM_SB, False),
    ("queue-visibility", "azure", queue(timeout=600), {}, False),  # Queue Storage: the host keeps it hidden
    ("queue-visibility", "gcp", queue(timeout=601), {}, True),
    ("queue-visibility", "aws", queue(timeout=900), {}, False),
    ("stream-retry", "aws", stream(max_attempts=0), {}, True),
    ("stream-retry", "aws", stream(max_attempts=3), {}, False),
    ("stream-retry", "azure", stream(max_attempts=0), {}, True),
    ("stream-retry", "azure", stream(), {}, False),
    ("stream-retry", "gcp", stream(max_attempts=0), {}, True),
    ("schedule-day-fields", "aws", timer("0 9 1 * 1"), {}, True),
    ("schedule-day-fields", "aws", timer("0 9 1 * *"), {}, False),
    ("schedule-day-fields", "gcp", timer("0 9 1 * 1"), {}, False),
    ("schedule-dst", "azure", timer("0 9 * * *", "Europe/Berlin"), {}, True),
    ("schedule-dst", "azure", timer("0 9 * * *", "Europe/Berlin"), AZURE_FLEX, True),
    ("schedule-dst", "azure", timer("0 9 * * *", "Asia/Seoul"), {}, False),
    ("schedule-dst", "azure", timer("*/5 * * * *", "Europe/Berlin"), {}, False),
    ("schedule-dst", "azure", timer("0 9 * * *", "Europe/Berlin"), {"azure": {"plan": "premium"}}, False),
    ("schedule-dst", "aws", timer("0 9 * * *", "Europe/Berlin"), {}, False),
    ("schedule-syntax", "aws", timer("0 9 * * 5-0"), {}, True),  # wraps past Saturday
    ("schedule-syntax", "aws", timer("0 9 * * 5,6,0"), {}, False),
    ("schedule-syntax", "aws", timer("0 9 1 * 1"), {}, False),  # the day-field rule's, not twice
    ("schedule-syntax", "azure", timer("0 8 * * 1", "Europe/Berlin"), {}, False),  # 07:00 UTC Monday: fine
    ("schedule-syntax", "azure", timer("30 0 * * 1", "Europe/Berlin"), {}, True),  # Sunday 23:30 UTC
    ("schedule-syntax", "azure", timer("30 0 * * 1", "Europe/Berlin"), {"azure": {"plan": "premium"}}, False),
    ("schedule-syntax", "gcp", timer("0 9 * * 5-0"), {}, False),  # no hook: unix-cron takes it
]


@pytest.mark.parametrize(("rule", "cloud", "declare", "provider", "breaks"), CASES)
def test_rule(rule: str, cloud: str, declare: Declare, provider: dict[str, Any], breaks: bool) -> None:
    found = check(app_with(declare, **provider), [real(cloud)], rules=[rule])
    assert bool(found) is breaks, found
    for finding in found:
        assert (finding.rule, finding.cloud, finding.handler) == (rule, cloud, "handler")
        assert finding.source.startswith("https://")
        assert finding.value and finding.limit and finding.message


def test_every_rule_has_a_breaking_and_a_passing_case() -> None:
    covered = {(rule, breaks) for rule, _, _, _, breaks in CASES}
    untested = {rule for rule in RULES if rule not in ("trigger-support", "schedule-frequency", "flow-payload", "flow-support", "private-network", "max-age-range", "least-privilege")}
    assert {(rule, True) for rule in untested} | {(rule, False) for rule in untested} <= covered


def test_findings_name_the_number_and_the_limit() -> None:
    [finding] = check(app_with(http(timeout=60)), [real("aws")], rules=["gateway-timeout"])
    assert finding.severity == "error"
    assert (finding.value, finding.limit) == ("timeout 60 s", "gateway 30 s")
    assert finding.source == "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html"


def test_stream_retry_unset_is_the_portable_policys_five_attempts() -> None:
    assert check(app_with(nosql()), [real("aws")], rules=["stream-retry"]) == []


def test_a_handler_within_every_limit_is_not_mentioned() -> None:
    app = App("fine")
    app.get("/ok", timeout=10, memory=512)(handler)  # 512 MB: an instance size of Azure Flex Consumption too
    app.timer("*/5 * * * *", tz="Europe/Berlin", name="tick")(handler)
    app.queue("jobs", timeout=30, batch_size=10, max_attempts=5, name="work")(handler)
    app.stream("clicks", max_attempts=3, name="clicks")(handler)
    assert check(app, [real(c) for c in ("aws", "azure", "gcp", "openwhisk")]) == []


# ------------------------------------------------------------------ rules with synthetic facts


def synthetic(limits: str = "", services: str | None = None) -> CloudFacts:
    """A cloud whose facts are given here: rules are data-driven, so a limit no real cloud has
    today (a schedule floor above a minute) is still checked."""
    topics: dict[str, Any] = {"limits": tomllib.loads(limits)}
    if services is not None:
        topics["services"] = tomllib.loads(services)
    return CloudFacts("fake", topics, {})


FIVE_MINUTES = '[limits.schedule_interval]\nmin = 300\nunit = "s"\nsource = "https://example.com/cron"\n'


@pytest.mark.parametrize(("schedule", "breaks"), [("* * * * *", True), ("*/7 * * * *", True), ("*/5 * * * *", False), ("0 * * * *", False)])
def test_schedule_frequency(schedule: str, breaks: bool) -> None:
    found = check(app_with(timer(schedule)), [synthetic(FIVE_MINUTES)], rules=["schedule-frequency"])
    assert bool(found) is breaks


def test_shortest_gap_reads_the_real_runs_not_the_step() -> None:
    assert _schedule.shortest_gap("*/7 * * * *") == 240  # :56 then :00
    assert _schedule.shortest_gap("0 9 * * *", "Europe/Berlin") == 82800  # the spring-forward night


def test_dst_transitions_are_found_with_zoneinfo() -> None:
    days = [d.date() for d in _schedule.transitions("Europe/Berlin", date(2026, 12, 6))]
    assert days == [date(2027, 3, 28), date(2027, 10, 31)]
    assert _schedule.transitions("Asia/Seoul", date(2026, 12, 6)) == []


SERVICES = (Path(__file__).parent / "fixtures" / "services.toml").read_text()


@pytest.mark.parametrize(
    ("declare", "severity", "source"),
    [
        (queue(), "error", "https://example.com/queue"),  # only an unsupported entry
        (nosql(), "error", "corefn_fake/facts/services.toml"),  # no entry at all
        (lambda app: app.topic("news"), None, None),  # bridged: it deploys (the lock-in report's business)
        (stream(), None, None),  # the best of a bridged and a native entry
        (http(), None, None),
    ],
)
def test_trigger_support_reads_services_toml(declare: Declare, severity: str | None, source: str | None) -> None:
    found = check(app_with(declare), [synthetic(services=SERVICES)], rules=["trigger-support"])
    assert [(f.severity, f.source) for f in found] == ([(severity, source)] if severity else [])


def test_trigger_support_is_skipped_without_a_services_file() -> None:
    assert check(app_with(queue()), [synthetic()], rules=["trigger-support"]) == []


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp", "openwhisk"])
def test_each_cloud_ships_dated_limits_and_prices(cloud: str) -> None:
    loaded = real(cloud)
    assert set(loaded.checked) >= {"limits", "prices"}
    rows = list(facts.iter_facts(loaded.topic("limits")))
    assert rows and all(fact["source"].startswith("https://") for _, fact in rows)


class StartsFlow:
    """Stands in for the flows package's FlowStarter (a handler that starts flow ``flow``)."""

    def __init__(self, flow: str) -> None:
        self.flow = flow
        self.__name__ = "handler"

    def __call__(self, event: Any, ctx: Any) -> None:
        return None


@pytest.mark.parametrize(
    ("cloud", "declare", "breaks"),
    [
        ("aws", lambda app: app.post("/start"), True),  # 6 MB requests, 256 KiB states
        ("aws", lambda app: app.queue("jobs"), True),  # 1 MiB messages
        ("gcp", lambda app: app.queue("jobs", ordered=True), True),  # 10 MB push messages, 512 KB variables
        ("gcp", lambda app: app.queue("jobs"), True),  # every queue is a push subscription: 10 MB messages
        ("openwhisk", lambda app: app.post("/start"), False),  # no workflow service row
    ],
)
def test_flow_payload(cloud: str, declare: Declare, breaks: bool) -> None:
    app = App("flows")
    declare(app)(StartsFlow("pipeline"))
    found = check(app, [real(cloud)], rules=["flow-payload"])
    assert bool(found) is breaks
    assert all(f.severity == "warning" and "'pipeline'" in f.message for f in found)


def test_flow_payload_ignores_plain_handlers() -> None:
    assert check(app_with(lambda app: app.post("/start")), [real("aws")], rules=["flow-payload"]) == []


def test_dst_finding_names_the_next_offset_changes() -> None:
    from corefn.limits.rules import Target, schedule_dst

    app = app_with(timer("0 9 * * *", "Europe/Berlin"))
    [finding] = schedule_dst(Target(app, app.handlers[0], "azure", real("azure")), today=date(2026, 12, 6))
    assert "60 min off" in finding.message and "2027-03-28, 2027-10-31" in finding.message


def test_numbers_in_findings_are_written_in_full() -> None:
    from corefn.limits.rules import _number

    assert [_number(v) for v in (900, 0.1, 1048576, 604800.0, 2.5)] == ["900", "0.1", "1048576", "604800", "2.5"]


def sinks_app(private: bool | None = None) -> App:
    app = App("nets")
    options = {} if private is None else {"private_network": private}
    app.cache("sessions", **options)
    app.get("/x")(handler)
    return app


@pytest.mark.parametrize(("private", "breaks"), [(None, True), (True, True), (False, False)])
def test_private_network_on_gcp_is_the_connector_deploy_attaches(private: bool | None, breaks: bool) -> None:
    """GCP's deploy.sh attaches a VPC connector to SQL and cache users: only a handler placed there
    for want of uses= is worth a warning."""
    found = check(sinks_app(private), [real("gcp")], rules=["private-network"])
    assert bool(found) is breaks
    assert all(f.severity == "warning" and "sessions" in f.value and "declare uses=" in f.message for f in found)


def test_private_network_not_checked_where_the_cloud_has_no_row() -> None:
    assert check(sinks_app(), [real("azure")], rules=["private-network"]) == []


AUTOMATIC = '[limits.private_network]\nplacement = "automatic"\nsource = "https://example.com/vpc"\n'


def test_private_network_automatic_placement_warns_without_uses() -> None:
    [finding] = check(sinks_app(), [synthetic(AUTOMATIC)], rules=["private-network"])
    assert finding.severity == "warning" and "declare uses=" in finding.message
    plain = App("plain")
    plain.get("/x")(handler)
    assert check(plain, [synthetic(AUTOMATIC)], rules=["private-network"]) == []  # no private sink at all


def test_private_network_on_gcp_is_silent_for_a_declared_sql_user() -> None:
    app = App("sql")
    reports = app.sql("reports")
    app.get("/x", uses=[reports])(handler)
    assert check(app, [real("gcp")], rules=["private-network"]) == []


def test_stream_retry_bounded_by_max_age_is_a_warning() -> None:
    [finding] = check(app_with(stream(max_attempts=0, max_age=3600)), [real("aws")], rules=["stream-retry"])
    assert finding.severity == "warning" and "3600 s" in finding.message


KINDS = {"http", "storage", "queue", "topic", "timer", "stream", "nosql", "invoke"}


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp", "openwhisk"])
@pytest.mark.parametrize("topic", ["limits", "prices"])
def test_facts_rows_name_known_limits_and_conditions(cloud: str, topic: str) -> None:
    """A typo in a fact file would make a row silently never apply: names and ``when`` keys are
    checked against what the rules and the matcher read."""
    from corefn.limits.rules import LIMIT_NAMES

    data = real(cloud).topic(topic)
    known_keys = {"kind", "ordered"} | set(data.get("meta", {}).get("options", {}))
    if topic == "limits":
        assert set(data.get("limits", {})) <= LIMIT_NAMES
    for path, row in facts.iter_facts(data):
        for condition in row.get("when", ()):
            key, _, value = condition.partition("=")
            assert key in known_keys, (path, condition)
            if key == "kind":
                assert value in KINDS, (path, condition)
            if key == "ordered":
                assert value in ("true", "false"), (path, condition)


@pytest.mark.parametrize(("max_age", "breaks"), [(30, True), (700000, True), (3600, False)])
def test_max_age_range(max_age: int, breaks: bool) -> None:
    found = check(app_with(stream(max_attempts=3, max_age=max_age)), [real("aws")], rules=["max-age-range"])
    assert bool(found) is breaks


def test_flow_payload_with_a_real_flow() -> None:
    from corefn.flows.spec import step

    app = App("flows")
    app.invoke(name="validate")(handler)
    flow = app.flow("pipeline", [step("validate")])
    app.post("/start")(flow)
    found = check(app, [real("aws"), real("gcp")], rules=["flow-payload"])
    assert [(f.cloud, f.handler, f.limit) for f in found] == [
        ("aws", "pipeline", "flow payload 262,144 bytes"),
        ("gcp", "pipeline", "flow payload 524,288 bytes"),
    ]


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp", "openwhisk"])
def test_trigger_support_with_the_adapters_services_toml(cloud: str) -> None:
    """Every kind deploys on every built-in cloud (natively or through a bridge), so the real
    services facts raise nothing; the fixture above covers a kind a cloud lacks."""
    app = App("all-kinds")
    app.get("/x", name="web")(handler)
    app.storage("uploads", name="files")(handler)
    app.queue("jobs", name="work")(handler)
    app.topic("news", name="listen")(handler)
    app.timer("*/5 * * * *", name="tick")(handler)
    app.stream("clicks", name="clicks")(handler)
    app.nosql("orders", name="orders")(handler)
    app.invoke(name="direct")(handler)
    assert real(cloud).topic("services"), "the lock-in report's services.toml is on main"
    assert check(app, [real(cloud)], rules=["trigger-support"]) == []


@pytest.mark.parametrize(("uses", "cloud", "breaks"), [(None, "aws", True), (["sessions"], "aws", False), (None, "azure", False)])
def test_least_privilege(uses: list[str] | None, cloud: str, breaks: bool) -> None:
    app = App("least")
    app.cache("sessions")
    app.get("/x", uses=uses)(handler)
    found = check(app, [real(cloud)], rules=["least-privilege"])
    assert bool(found) is breaks
    assert all(f.severity == "warning" and "sessions" in f.message for f in found)


def test_least_privilege_is_silent_for_an_app_without_sinks() -> None:
    assert check(app_with(http()), [real("aws")], rules=["least-privilege"]) == []


@pytest.mark.parametrize(("uses", "breaks"), [(None, True), (["sessions"], False), ([], False)])
def test_private_network_on_aws_warns_for_a_vpc_placement_it_may_not_need(uses: list[str] | None, breaks: bool) -> None:
    app = App("nets")
    app.cache("sessions")
    app.get("/x", uses=uses)(handler)
    found = check(app, [real("aws")], rules=["private-network"])
    assert bool(found) is breaks
    assert all(f.severity == "warning" for f in found)


def _flow_app(*nodes: Any, started: bool = True) -> App:
    """An app with one flow ``pipeline`` of ``nodes`` over invoke handlers ``a`` and ``b``, started
    by a queue (or by nothing)."""
    app = App("flows")
    for name in ("a", "b"):
        app.invoke(name=name)(handler)
    flow = app.flow("pipeline", list(nodes))
    if started:
        app.queue("jobs")(flow)
    return app


def test_flow_support_errors_where_a_cloud_cannot_run_the_flow_and_warns_where_it_differs() -> None:
    from corefn.flows import parallel, step

    app = _flow_app(step("a"), parallel(step("a", name="a2"), step("b"), name="both"))
    found = {(f.cloud, f.severity, f.value) for f in check(app, [real(c) for c in ("aws", "azure", "gcp", "openwhisk")], rules=["flow-support"])}
    assert ("aws", "warning", "flow 'pipeline': parallel 'both'") in found  # Step Functions stops the other branches
    assert ("azure", "warning", "flow 'pipeline': timeout 'pipeline'") in found  # no orchestration timeout
    from corefn.adapters import get_adapter
    from corefn.flows.deploying import deploys_flows

    for cloud in ("gcp", "openwhisk"):  # one error while corefn deploy refuses flows there, else the facts' findings
        mine = {f for f in found if f[0] == cloud}
        assert (mine == {(cloud, "error", "flow 'pipeline'")}) is not deploys_flows(get_adapter(cloud)), mine
    assert all(f.handler == "pipeline" for f in check(app, [real("aws")], rules=["flow-support"]))  # on the trigger's function


def test_flow_support_of_a_plain_sequence_on_aws_and_on_an_unstarted_flow() -> None:
    from corefn.flows import step

    assert check(_flow_app(step("a"), step("b")), [real("aws")], rules=["flow-support"]) == []
    unstarted = check(_flow_app(step("a"), step("b"), started=False), [real("azure")], rules=["flow-support"])
    assert [(f.handler, f.severity) for f in unstarted] == [("a", "warning")]  # on the flow's first step


def test_flow_support_reads_unsupported_constructs_from_the_facts() -> None:
    """OpenWhisk's facts (a conductor action) mark wait unsupported, an error, and retry and the
    timeout as running differently, warnings (here an adapter that deploys flows stands in)."""
    from corefn.adapters import register, unregister
    from corefn.flows import Retry, step, wait
    from corefn.kit import Provider

    register(Provider("openwhisk", (), deploys_flows=True))
    try:
        found = check(_flow_app(step("a", retry=Retry("*")), wait(5)), [real("openwhisk")], rules=["flow-support"])
    finally:
        unregister("openwhisk")
    assert {(f.severity, f.limit) for f in found} == {("warning", "retry differs"), ("error", "no wait"), ("warning", "timeout differs")}
