"""Differences that bite when moving a handler between clouds: ordering, delivery and poison
rules, message sizes, timeouts, memory ranges, ``/tmp``, cron syntax and time zones, private
networks. Every sentence is assembled from the clouds' facts (``services.toml``: the trigger
entry that carries the handler on that cloud, and its ``platform`` tables); nothing here knows a
provider. A topic is reported only where the clouds disagree, and ``flag`` says what the
handler's own declaration breaks (it becomes a checklist step).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from corefn.facts import CloudFacts
from corefn.kinds import KINDS
from corefn.report.model import Handler, Subject

#: kinds whose events the platform keeps and redelivers (published messages and resource changes):
#: the ones ordering, delivery and poison rules apply to
MESSAGE_KINDS = frozenset(k.name for k in KINDS if k.nature in ("message", "change"))


def differences(subject: Subject, facts: Mapping[str, CloudFacts]) -> list[dict[str, Any]]:
    from corefn.report.classify import best

    out: list[dict[str, Any]] = []
    platforms = {c: f.topic("services").get("platform", {}) for c, f in facts.items()}
    for h in subject.handlers:
        ordered = bool(h.options.get("ordered"))
        via = h.options.get("via")
        entries = {c: best(f, "triggers", h.kind, ordered=ordered, via=via)[1] or {} for c, f in facts.items()}
        for topic, text, flag in _for_handler(h, entries, platforms, h.name in subject.uses_tmp):
            out.append({"handler": h.name, "topic": topic, "text": text, "flag": flag})
    out.extend(_private_network(subject, facts, platforms))
    out.extend(_flows(subject, facts))
    return out


def _flows(subject: Subject, facts: Mapping[str, CloudFacts]) -> list[dict[str, Any]]:
    """How much a flow's step may carry on each cloud's workflow service (each cloud's
    ``workflows.toml``, ``[workflows.step_payload]``): the smallest bounds a portable flow."""
    out: list[dict[str, Any]] = []
    limits = {c: f.topic("workflows").get("workflows", {}).get("step_payload") for c, f in facts.items()}
    parts = []
    for cloud, fact in limits.items():
        if not isinstance(fact, Mapping):
            parts.append(f"{cloud}: no workflow limit stated")
            continue
        spill = f", larger payloads spill to {fact['spills_to']}" if fact.get("spills_to") else ""
        parts.append(f"{cloud} ({fact.get('service', 'workflows')}): {fact.get('max')} {fact.get('unit', '')}{spill}")
    if not any(isinstance(f, Mapping) for f in limits.values()):
        return out
    for need in subject.needs:
        if need.what == "feature" and need.options.get("portable"):
            out.append({"handler": need.name, "topic": "flow payload", "flag": None,
                        "text": "largest step input or result: " + "; ".join(parts)})
            constructs = _flow_constructs(need, facts)
            if constructs:
                out.append({"handler": need.name, "topic": "flow constructs", "flag": None, "text": constructs})
    return out


def _flow_constructs(need: Any, facts: Mapping[str, CloudFacts]) -> str | None:
    """Which of the flow's constructs (``need.options["constructs"]``) each cloud's workflow
    service cannot run (``unsupported``) or runs differently from ``corefn run`` (``differs``), from
    each cloud's ``workflows.toml`` ``[workflows.constructs.<construct>]``; None when none."""
    parts = []
    for cloud, fact in facts.items():
        table = fact.topic("workflows").get("workflows", {}).get("constructs", {})
        used = [c for c in need.options.get("constructs", ()) if isinstance(table.get(c), Mapping)]
        lacking = [c for c in used if "unsupported" in table[c]]
        differing = [f"{c} ({table[c]['differs']})" for c in used if "differs" in table[c] and c not in lacking]
        if lacking:
            parts.append(f"{cloud} cannot run its {', '.join(lacking)}")
        if differing:
            parts.append(f"{cloud} runs differently: {'; '.join(differing)}")
    return "; ".join(parts) or None


def _label(cloud: str, entry: Mapping[str, Any]) -> str:
    service = entry.get("service")
    return f"{cloud} ({service})" if service else cloud


def _compare(entries: Mapping[str, Mapping[str, Any]], key: str) -> str | None:
    values = {c: e[key] for c, e in entries.items() if key in e}
    if len(set(map(str, values.values()))) < 2 and len(values) == len(entries):
        return None
    if not values:
        return None
    parts = [f"{_label(c, entries[c])}: {v}" for c, v in values.items()]
    silent = [c for c in entries if c not in values]
    if silent:
        parts.append(f"{', '.join(silent)}: no rule stated")
    return "; ".join(parts)


def _for_handler(
    h: Handler, entries: Mapping[str, Mapping[str, Any]], platforms: Mapping[str, Mapping[str, Any]], uses_tmp: bool
) -> list[tuple[str, str, str | None]]:
    found: list[tuple[str, str, str | None]] = []
    if h.kind in MESSAGE_KINDS:
        text = _compare(entries, "ordering")
        if text:
            need = "this handler needs order. " if h.options.get("ordered") else ""
            found.append(("ordering", f"{need}{text}", None))
        text = _compare(entries, "delivery")
        if text:
            attempts = h.options.get("max_attempts")
            declared = f"declared: {attempts} attempts, then dead-letter. " if attempts else ""
            found.append(("delivery", f"{declared}{text}", None))
    sizes = {c: int(e["max_message_kb"]) for c, e in entries.items() if "max_message_kb" in e}
    if len(set(sizes.values())) > 1:
        smallest = min(sizes.values())
        parts = "; ".join(f"{_label(c, entries[c])}: {kb:,} KB" for c, kb in sizes.items())
        found.append(("size", f"largest message or request: {parts}. Portable only below {smallest:,} KB; "
                      "pass larger data as a reference to an object", None))
    found.extend(_timeout(h, entries, platforms))
    found.extend(_memory(h, platforms))
    if uses_tmp or h.kind == "storage":
        text = "; ".join(f"{c}: {p['tmp']['text']}" for c, p in platforms.items() if "text" in p.get("tmp", {}))
        if text:
            found.append(("tmp", f"local files: {text}", None))
    if h.kind == "timer":
        found.extend(_schedule(h, platforms))
    return found


def _timeout(
    h: Handler, entries: Mapping[str, Mapping[str, Any]], platforms: Mapping[str, Mapping[str, Any]]
) -> list[tuple[str, str, str | None]]:
    limits: dict[str, tuple[int | None, str]] = {}
    for cloud, platform in platforms.items():
        fn = platform.get("function", {})
        entry = entries.get(cloud, {})
        if h.kind == "http" and "timeout_s" in entry:
            limits[cloud] = (int(entry["timeout_s"]), f"{entry['timeout_s']} s ({entry.get('service', 'HTTP')})")
        elif "timeout_max_s" in fn:
            limits[cloud] = (int(fn["timeout_max_s"]), f"{fn['timeout_max_s']} s")
        elif "timeout" in fn:
            limits[cloud] = (None, str(fn["timeout"]))
    if len({text for _, text in limits.values()}) < 2:
        return []
    text = "longest run: " + "; ".join(f"{c}: {t}" for c, (_, t) in limits.items())
    declared = h.options.get("timeout")
    flag = None
    if declared:
        short = [f"{c} ({n} s)" for c, (n, _) in limits.items() if n is not None and n < float(declared)]
        if short:
            flag = f"its declared timeout of {declared:g} s exceeds the limit on {', '.join(short)}"
            text = f"declared {declared:g} s. {text}"
    return [("timeout", text, flag)]


def _memory(h: Handler, platforms: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str, str | None]]:
    ranges = {
        c: (int(p["function"]["memory_min_mb"]), int(p["function"]["memory_max_mb"]), str(p["function"].get("note", "")))
        for c, p in platforms.items()
        if "memory_min_mb" in p.get("function", {}) and "memory_max_mb" in p.get("function", {})
    }
    if len({(lo, hi) for lo, hi, _ in ranges.values()}) < 2:
        return []
    text = "allowed: " + "; ".join(f"{c}: {lo:,}-{hi:,} MB" + (f" ({note})" if note else "")
                                   for c, (lo, hi, note) in ranges.items())
    declared = h.options.get("memory")
    flag = None
    if declared:
        outside = [f"{c} ({lo:,}-{hi:,} MB)" for c, (lo, hi, _) in ranges.items() if not lo <= int(declared) <= hi]
        text = f"declared {declared} MB. {text}"
        if outside:
            flag = f"its declared memory of {declared} MB is outside the range on {', '.join(outside)}"
    return [("memory", text, flag)]


def _schedule(h: Handler, platforms: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str, str | None]]:
    schedule = h.trigger.get("schedule")
    tz = str(h.trigger.get("tz") or "UTC")
    rules = {c: p["schedule"] for c, p in platforms.items() if "schedule" in p}
    if not rules:
        return []
    parts = [f"{c}: {r.get('syntax', '?')}; time zone: {r.get('time_zones', '?')}" for c, r in rules.items()]
    text = f"schedule {schedule!r} in {tz}. " + " | ".join(parts)
    flag = None
    text_form = str(schedule or "").strip()
    if text_form.startswith("cron(") and text_form.endswith(")"):  # an EventBridge expression from a template
        text_form = text_form[5:-1]
    fields = text_form.split()
    # a schedule whose hour, day, month and weekday are all "*" (or "?") fires at the same instants
    # in any zone; rate() expressions have no time of day at all
    zone_matters = len(fields) in (5, 6) and any(f not in ("*", "?") for f in fields[1:5])
    if zone_matters and tz.upper() not in ("UTC", "ETC/UTC", "Z"):
        utc_only = [c for c, r in rules.items() if r.get("any_zone") is False]
        if utc_only:
            flag = (f"{', '.join(utc_only)} evaluate{'s' if len(utc_only) == 1 else ''} schedules in UTC only: "
                    f"rewrite '{schedule}' in UTC (and it shifts by an hour with daylight saving time in {tz})")
    return [("schedule", text, flag)]


def _private_network(
    subject: Subject, facts: Mapping[str, CloudFacts], platforms: Mapping[str, Mapping[str, Any]]
) -> list[dict[str, Any]]:
    from corefn.report.classify import best

    out: list[dict[str, Any]] = []
    for need in subject.needs:
        if need.what != "sink":
            continue
        private = {}
        declared = bool(need.options.get("private_network"))  # the app says the backend lives in a private network
        for cloud, f in facts.items():
            _, entry = best(f, "sinks", need.kind, need.options.get("target"))
            if entry and (declared or entry.get("private_network")):
                how = platforms[cloud].get("network", {}).get("private", "a private network")
                private[cloud] = f"{entry.get('service')} is private: {how}"
        if not private:
            continue
        users = [h.name for h in subject.handlers if need.name in h.sinks] or ["*"]
        text = f"{need.kind} sink '{need.name}': " + "; ".join(f"{c}: {t}" for c, t in private.items())
        others = [c for c in facts if c not in private]
        if others:
            text += f"; {', '.join(others)}: reachable without a private network"
        for user in users:
            out.append({"handler": user, "topic": "private-network", "text": text, "flag": None})
    return out
