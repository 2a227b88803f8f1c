"""Native, bridged or unsupported, per cloud, for every trigger, sink and feature of a subject;
the portability score; the lock-in points; and the migration checklist.

The rule (each cloud's ``services.toml`` applies it fact by fact): *native* = configured by the
functions service's own deployment (a trigger option); *bridged* = the user must create or run
another service; *unsupported* = nothing does the job. A cloud's support for a kind is the best
of its entries (native > bridged > unsupported), and the service named is that entry's.

The score (stated in every rendering, from :data:`WEIGHTS`, :data:`POINTS` and
:data:`FINDING_PENALTY`): the weighted share of points over the items, in percent, minus a fixed
penalty per provider-specific code point that ties the app to another cloud, capped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from corefn.facts import CloudFacts
from corefn.report.differences import differences
from corefn.report.model import Finding, Subject

RANK = {"native": 2, "bridged": 1, "unsupported": 0}
#: points an item earns by its support
POINTS = {"native": 1.0, "bridged": 0.5, "unsupported": 0.0}
#: weight of an item by what it is: a trigger or a feature to rebuild costs more than a sink
WEIGHTS = {"trigger": 3, "sink": 2, "feature": 3}
#: points off per provider-specific code point tying the app to another cloud, and the cap
FINDING_PENALTY = 5
FINDING_CAP = 30


def score_rule() -> str:
    """The score's definition in words, for every rendering."""
    return (
        f"score = 100 × Σ(weight × points) / Σ(weight) over the items, where a trigger weighs {WEIGHTS['trigger']}, "
        f"a sink {WEIGHTS['sink']} and a feature {WEIGHTS['feature']}, and native earns {POINTS['native']:g}, "
        f"bridged {POINTS['bridged']:g}, unsupported {POINTS['unsupported']:g}; minus {FINDING_PENALTY} per "
        f"provider-specific code point that ties the app to another cloud (a raw payload read counts against "
        f"every cloud), at most {FINDING_CAP}; rounded to an integer from 0 to 100"
    )


@dataclass
class Item:
    what: str
    kind: str
    name: str
    support: str
    service: str | None
    note: str = ""
    source: str | None = None  # the provider page the fact comes from (not in the JSON form)

    def to_json(self) -> dict[str, Any]:
        return {"what": self.what, "kind": self.kind, "name": self.name, "support": self.support, "service": self.service}


@dataclass
class CloudResult:
    cloud: str
    score: int
    items: list[Item]
    platform: Mapping[str, Any] = field(default_factory=dict)
    checked: str | None = None


@dataclass
class Report:
    subject: Subject
    clouds: dict[str, CloudResult]
    differences: list[dict[str, Any]]
    lock_in: list[dict[str, Any]]
    checklist: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        """The JSON form (a contract: see the README's ``corefn report`` entry)."""
        return {
            "version": 1,
            "app": self.subject.app,
            "source": self.subject.source,
            "handlers": [{"name": h.name, "trigger": dict(h.trigger)} for h in self.subject.handlers],
            "clouds": {
                cloud: {"score": result.score, "items": [i.to_json() for i in result.items]}
                for cloud, result in self.clouds.items()
            },
            "differences": [{k: d[k] for k in ("handler", "topic", "text")} for d in self.differences],
            "lock_in": [{k: x[k] for k in ("handler", "name", "text")} for x in self.lock_in],
            "checklist": list(self.checklist),
        }


def best(
    facts: CloudFacts, section: str, kind: str, target: str | None = None, ordered: bool = False, via: str | None = None
) -> tuple[str, Mapping[str, Any] | None]:
    """``(support, fact)`` of the best entry for ``kind`` in ``section`` (``triggers``, ``sinks``,
    ``features``); ``("unsupported", None)`` when the cloud has no entry. A publisher's ``target``
    (queue, topic, stream) keeps only the entries whose ``targets`` name it; a handler that needs
    order prefers, at equal support, an entry that keeps it (``ordered = true``: SQS FIFO rather
    than nothing, Service Bus sessions rather than Queue Storage). ``via`` names the entry that
    carries the handler when its source says so (a template's EventBridge rule is ``eventbridge``,
    not SNS); other clouds have no such entry and choose as usual."""
    entries = facts.topic("services").get(section, {}).get(kind, {})
    if via and isinstance(entries.get(via), Mapping):
        entry = entries[via]
        support = str(entry.get("support", "unsupported"))
        return (support if support in RANK else "unsupported", entry)
    chosen: tuple[str, Mapping[str, Any] | None] = ("unsupported", None)
    rank = (-1, False)
    for entry in entries.values():
        if target and "targets" in entry and target not in entry["targets"]:
            continue
        support = str(entry.get("support", "unsupported"))
        support = support if support in RANK else "unsupported"
        key = (RANK[support], ordered and bool(entry.get("ordered")))
        if key > rank:
            chosen, rank = (support, entry), key
    return chosen


def classify(subject: Subject, facts: Mapping[str, CloudFacts]) -> Report:
    _pinned_findings(subject, facts)
    clouds: dict[str, CloudResult] = {}
    for cloud, cloud_facts in facts.items():
        items: list[Item] = []
        for handler in subject.handlers:
            support, entry = best(cloud_facts, "triggers", handler.kind, ordered=bool(handler.options.get("ordered")),
                                  via=handler.options.get("via"))
            items.append(_item("trigger", handler.kind, handler.name, support, entry))
        for need in subject.needs:
            section = "sinks" if need.what == "sink" else "features"
            support, entry = best(cloud_facts, section, need.kind, need.options.get("target"))
            items.append(_item(need.what, need.kind, need.name, support, entry))
        checked = cloud_facts.checked.get("services")
        clouds[cloud] = CloudResult(
            cloud, _score(items, subject, cloud), items,
            cloud_facts.topic("services").get("platform", {}), checked.isoformat() if checked else None,
        )
    diffs = differences(subject, facts)
    lock_in = _lock_in(subject, clouds)
    report = Report(subject, clouds, diffs, lock_in, [])
    report.checklist = _checklist(report)
    return report


def _pinned_findings(subject: Subject, facts: Mapping[str, CloudFacts]) -> None:
    """A sink the app's config file pins to one cloud's backend (``cosmos://``) ties every
    deployment to that cloud: the clouds' facts say which scheme is whose (``schemes``)."""
    for need in subject.needs:
        pinned = need.options.get("pinned")
        if need.what != "sink" or not pinned:
            continue
        scheme, where = pinned
        for cloud, cloud_facts in facts.items():
            for entry in cloud_facts.topic("services").get("sinks", {}).get(need.kind, {}).values():
                if scheme in entry.get("schemes", ()):
                    name = f"{need.kind} sink {need.name} pinned to {scheme}://"
                    if not any(f.name == name for f in subject.findings):
                        subject.findings.append(Finding(
                            "*", name, f"{where}: sink '{need.name}' is pinned to {scheme}:// ({entry['service']}), "
                            f"which only {cloud} serves; give each target its URL in its own deployment settings",
                            cloud, "S", action="Unpin"))


def _item(what: str, kind: str, name: str, support: str, entry: Mapping[str, Any] | None) -> Item:
    service = str(entry["service"]) if entry and support != "unsupported" and "service" in entry else None
    note = str(entry.get("note", "")) if entry else ""
    source = str(entry["source"]) if entry and "source" in entry else None
    return Item(what, kind, name, support, service, note, source)


def _score(items: list[Item], subject: Subject, cloud: str) -> int:
    total = sum(WEIGHTS[i.what] for i in items)
    base = 100.0 if not total else 100.0 * sum(WEIGHTS[i.what] * POINTS[i.support] for i in items) / total
    ties = sum(1 for f in subject.findings if f.scored and f.provider != cloud)
    return max(0, min(100, round(base - min(FINDING_CAP, FINDING_PENALTY * ties))))


def _lock_in(subject: Subject, clouds: Mapping[str, CloudResult]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for need in subject.needs:
        if need.what != "feature" or need.options.get("portable"):
            continue  # a corefn flow is written once for every cloud: not a lock-in point
        by_support: dict[str, list[str]] = {}
        for cloud, result in clouds.items():
            item = next(i for i in result.items if i.what == "feature" and i.name == need.name and i.kind == need.kind)
            label = f"{cloud} ({item.service})" if item.service and item.support != "native" else cloud
            by_support.setdefault(item.support, []).append(label)
        if set(by_support) == {"native"}:
            continue
        parts = [f"{support} on {', '.join(names)}" for support, names in sorted(by_support.items(), key=lambda kv: -RANK[kv[0]])]
        where = f"{need.where}: " if need.where else ""
        detail = f"{need.detail}; " if need.detail else ""
        out.append({"handler": need.options.get("handler", "*"), "name": f"{need.kind}: {need.name}",
                    "text": f"{where}{detail}{'; '.join(parts)}", "effort": "L" if "unsupported" in by_support else "M",
                    "from": "feature"})
    for finding in subject.findings:
        out.append({"handler": finding.handler, "name": finding.name, "text": finding.text, "effort": finding.effort,
                    "from": "include" if not finding.scored else "code", "action": finding.action})
    return out


def _checklist(report: Report) -> list[dict[str, Any]]:
    steps: list[tuple[str, str]] = []
    subject = report.subject
    for x in report.lock_in:
        if x["from"] == "include":
            steps.append((f"Resolve {x['name'].removeprefix('include: ')} by hand: {x['text']}", "M"))
    portable_names = {n.name for n in subject.needs if n.what == "feature" and n.options.get("portable")}
    missing: dict[tuple[str, str, str], list[str]] = {}
    bridged: dict[tuple[str, str], list[str]] = {}
    for cloud, result in report.clouds.items():
        for item in result.items:
            if item.support == "unsupported" and (item.what != "feature" or item.name in portable_names):
                missing.setdefault((item.what, item.kind, item.name), []).append(cloud)
            elif item.support == "bridged":
                bridged.setdefault((cloud, item.service or item.kind), []).append(f"{item.what} {item.name}")
    for (what, kind, name), where in missing.items():
        steps.append((f"Replace {what} '{name}' ({kind}): no counterpart on {', '.join(where)}; "
                      f"redesign it with a trigger or sink every target has", "L"))
    for x in report.lock_in:
        if x["from"] == "feature":
            steps.append((f"Rework {x['name']}: {x['text']}", x["effort"]))
    portable = {n.name for n in subject.needs if n.what == "feature" and n.options.get("portable")}
    for (cloud, service), names in bridged.items():
        names = [n for n in names if not n.startswith("feature ") or n.removeprefix("feature ") in portable]
        if not names:
            continue
        steps.append((f"On {cloud}, create and run {service} for {', '.join(names)}", "M"))
    if subject.source == "template" and subject.handlers:
        steps.append((f"Port the {len({h.name.split('.')[0] for h in subject.handlers})} functions' code to corefn "
                      f"handlers ({len(subject.handlers)} handlers, one per function and event)", "L"))
    for x in report.lock_in:
        if x["from"] == "code":
            steps.append((f"{x['action']} {x['name']} ({x['handler']}): {x['text']}", x["effort"]))
    for d in report.differences:
        if d.get("flag"):
            steps.append((f"Adjust {d['handler']} ({d['topic']}): {d['flag']}", "S"))
    if subject.source == "app":
        steps.append(("Generate each target's deployment (corefn deploy APP --cloud NAME) and run the app's tests "
                      "against each target", "S"))
    else:
        steps.append(("Run corefn report on the ported app to confirm its portability score", "S"))
    return [{"step": n, "what": what, "effort": effort} for n, (what, effort) in enumerate(steps, 1)]
