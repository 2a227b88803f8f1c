"""Classification per kind × cloud, from the clouds' real facts files: each row is what the
provider's documentation says today (the page is in the fact's ``source``)."""

from __future__ import annotations

import pytest

from corefn.facts import CloudFacts, load_all
from corefn.report import build
from corefn.report.classify import best
from corefn.report.model import Handler, Need, Subject

CLOUDS = ["aws", "azure", "gcp", "openwhisk"]
N, B, U = "native", "bridged", "unsupported"

#: (what, kind, publisher target) → expected support on aws, azure, gcp, openwhisk
EXPECTED: dict[tuple[str, str, str | None], tuple[str, str, str, str]] = {
    ("trigger", "http", None): (N, N, N, N),
    ("trigger", "storage", None): (N, N, N, B),  # OpenWhisk: bucket webhook to a web action
    ("trigger", "queue", None): (N, N, N, B),  # OpenWhisk: Kafka feed
    ("trigger", "topic", None): (N, N, N, B),
    ("trigger", "timer", None): (N, N, B, N),  # GCP: a Cloud Scheduler job
    ("trigger", "stream", None): (N, N, B, B),  # GCP: an ordered Pub/Sub subscription made by hand
    ("trigger", "nosql", None): (N, N, N, B),  # OpenWhisk: the Cloudant changes feed
    ("trigger", "invoke", None): (N, N, N, N),
    ("sink", "object", None): (N, N, N, B),
    ("sink", "table", None): (N, N, N, B),
    ("sink", "cache", None): (N, N, N, B),
    ("sink", "sql", None): (N, N, N, B),
    ("sink", "publisher", "queue"): (N, N, N, B),
    ("sink", "publisher", "stream"): (N, N, N, B),
    ("feature", "layer", None): (N, U, U, B),
    ("feature", "direct-integration", None): (N, B, U, U),
    ("feature", "state-machine", None): (N, B, B, B),
    ("feature", "provider-event", None): (N, U, U, U),
}

SERVICES = {  # the service each cloud names for a few rows (the report's concrete names)
    ("trigger", "queue"): ("Amazon SQS", "Azure Queue Storage", "Pub/Sub", "Kafka"),
    ("trigger", "timer"): ("EventBridge Scheduler", "timer trigger", "Cloud Scheduler", "alarms"),
    ("sink", "publisher"): ("Amazon Kinesis", "Event Hubs", "Pub/Sub", "Kafka"),
}


def _subject(what: str, kind: str, target: str | None) -> Subject:
    subject = Subject(app="t", source="app")
    if what == "trigger":
        subject.handlers.append(Handler("h", {"kind": kind}))
    else:
        subject.needs.append(Need(what, kind, "x", {"target": target} if target else {}))
    return subject


@pytest.mark.parametrize(("what", "kind", "target"), list(EXPECTED), ids=lambda v: str(v))
def test_support_per_kind_and_cloud(what: str, kind: str, target: str | None) -> None:
    report = build(_subject(what, kind, target), CLOUDS)
    got = tuple(report.clouds[c].items[0].support for c in CLOUDS)
    assert got == EXPECTED[(what, kind, target)]
    for cloud in CLOUDS:
        item = report.clouds[cloud].items[0]
        assert (item.service is None) == (item.support == "unsupported"), (cloud, item)


@pytest.mark.parametrize(("what", "kind"), list(SERVICES))
def test_service_names_are_the_clouds_own(what: str, kind: str) -> None:
    target = "stream" if kind == "publisher" else None
    report = build(_subject(what, kind, target), CLOUDS)
    for cloud, word in zip(CLOUDS, SERVICES[(what, kind)], strict=True):
        assert word in (report.clouds[cloud].items[0].service or ""), cloud


def test_every_trigger_kind_has_a_fact_on_every_cloud() -> None:
    """A kind silently missing from a facts file would be reported unsupported: every cloud states
    each trigger kind explicitly."""
    from corefn.report.model import TRIGGER_FIELDS

    for cloud, facts in load_all(CLOUDS).items():
        assert set(facts.topic("services")["triggers"]) == set(TRIGGER_FIELDS), cloud


def _facts(entries: dict[str, dict[str, object]]) -> CloudFacts:
    return CloudFacts("x", {"services": {"sinks": {"publisher": entries}}}, {})


def test_the_best_entry_wins_and_targets_filter_publishers() -> None:
    facts = _facts({
        "a": {"support": "bridged", "service": "A", "targets": ["queue"]},
        "b": {"support": "native", "service": "B", "targets": ["stream"]},
        "c": {"support": "unsupported", "service": "C"},
    })
    assert best(facts, "sinks", "publisher")[1] == {"support": "native", "service": "B", "targets": ["stream"]}
    assert best(facts, "sinks", "publisher", "queue")[0] == "bridged"
    assert best(facts, "sinks", "publisher", "topic")[0] == "unsupported"  # only "c" names no target
    assert best(facts, "sinks", "cache") == ("unsupported", None)


def test_an_ordered_queue_gets_a_service_that_keeps_order() -> None:
    subject = Subject(app="t", source="app")
    subject.handlers.append(Handler("fifo", {"kind": "queue", "queue": "q"}, {"ordered": True}))
    subject.handlers.append(Handler("plain", {"kind": "queue", "queue": "q"}, {"ordered": False}))
    report = build(subject, CLOUDS)
    services = {c: [i.service for i in r.items] for c, r in report.clouds.items()}
    assert services["azure"] == ["Azure Service Bus queue trigger", "Azure Queue Storage trigger"]
    assert services["aws"][0] == services["aws"][1]  # SQS carries both: FIFO is a queue setting
    ordering = next(d for d in report.differences if d["handler"] == "fifo" and d["topic"] == "ordering")
    assert ordering["text"].startswith("this handler needs order.") and "FIFO per session" in ordering["text"]


def test_clouds_come_from_the_installed_adapters() -> None:
    """The test suite registers a demo adapter with no facts: it is a column, and has nothing."""
    report = build(_subject("trigger", "queue", None))
    assert "demo" in report.clouds and set(CLOUDS) <= set(report.clouds)
    assert report.clouds["demo"].items[0].support == "unsupported"
    assert report.clouds["demo"].score == 0


def test_score_weights_and_penalty() -> None:
    from corefn.report.model import Finding

    subject = Subject(app="t", source="app")
    subject.handlers.append(Handler("h", {"kind": "timer", "schedule": "0 3 * * *", "tz": "UTC"}))  # gcp bridged
    subject.needs.append(Need("sink", "object", "o"))
    subject.findings.append(Finding("h", "aws SDK import boto3", "x.py:1: ...", "aws"))
    report = build(subject, CLOUDS)
    assert report.clouds["aws"].score == 100  # boto3 ties the app to aws, not away from it
    assert report.clouds["azure"].score == 95  # 100 - 5
    assert report.clouds["gcp"].score == round(100 * (3 * 0.5 + 2 * 1) / 5) - 5  # 70 - 5


def test_a_corefn_flow_is_a_workflow_feature_not_a_lock_in_point() -> None:
    from corefn.loader import load_app
    from corefn.report import report_app
    from corefn.report.diagram import mermaid

    report = report_app(load_app("examples/image_pipeline/flow.py:app"), CLOUDS)
    flows = {c: [i for i in r.items if i.what == "feature"] for c, r in report.clouds.items()}
    assert {c: [(i.kind, i.name, i.support) for i in items] for c, items in flows.items()} == {
        "aws": [("state-machine", "process-upload", "native")],
        "azure": [("state-machine", "process-upload", "bridged")],
        "gcp": [("state-machine", "process-upload", "bridged")],
        "openwhisk": [("state-machine", "process-upload", "bridged")],
    }
    assert report.lock_in == []
    payload = next(d for d in report.differences if d["topic"] == "flow payload")
    assert payload["handler"] == "process-upload"
    assert "aws (Step Functions): 256 KiB" in payload["text"] and "azure (Durable Functions" in payload["text"]
    constructs = next(d for d in report.differences if d["topic"] == "flow constructs")["text"]
    assert "openwhisk runs differently: parallel (" in constructs and "cannot run" not in constructs  # a conductor runs them all
    assert "aws runs differently: parallel (" in constructs and "azure runs differently: timeout (" in constructs
    assert any(s["what"].startswith("On gcp, create and run Workflows") and "feature process-upload" in s["what"]
               for s in report.checklist)
    picture = mermaid(report, report.clouds["aws"])
    node = next(line.split("[")[0].strip() for line in picture.splitlines() if "<br/>process-upload" in line
                and "Step Functions" in line)
    assert {line.split("--> ")[1] for line in picture.splitlines() if line.strip().startswith(f"{node} -->")} == {
        f"aws_f{n}" for n in range(6)}  # the flow calls its six task handlers
