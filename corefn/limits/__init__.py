"""``corefn check``: the provider limits an app's declarations break, before it is deployed.

Each rule in :data:`corefn.limits.rules.RULES` reads one handler's declaration (options, trigger)
and one row of the target cloud's facts. Limits are data in each adapter's ``facts/limits.toml``
(read through :mod:`corefn.facts`: every row names its provider page, every file its check date),
so the core knows no cloud. Keys of ``limits.toml``:

``[meta] options``
    what ``corefn deploy`` writes for provider options a handler does not set (``plan``, ``api``).
``[limits.NAME]`` / ``[limits.NAME.LABEL]``
    a row; ``when = ["kind=http", "api=rest"]`` restricts it (see :mod:`corefn.limits._rows`).
    Values by NAME: ``timeout`` / ``memory`` / ``batch_size`` / ``max_attempts`` (``min``, ``max``
    or ``allowed``, ``unit``); ``gateway_timeout`` (``max`` s); ``queue_visibility``
    (``visibility`` s, or ``factor`` x timeout capped at ``max``); ``stream_retry`` (``retention``
    s); ``schedule_interval`` (``min`` s); ``schedule_day_fields``
    (``both = false``: one day field must be ``?``); ``schedule_time_zone`` (``supported``);
    ``private_network`` (``placement``: ``none`` when the deployment gives functions no way into a
    private network, ``automatic`` when it places users of SQL / cache sinks there itself);
    ``least_privilege`` (``per_function``: each function has its own identity, so ``uses=`` narrows it);
    ``message_size`` / ``payload_size`` (``max`` bytes a trigger can deliver; flows read the step
    limit from the adapter's ``workflows.toml``). Any row may set ``severity`` (default
    ``error``) and a ``note`` quoted in the finding.

What data cannot say, an adapter may answer with its own code: an optional ``corefn_<cloud>.limits``
module offering ``schedule_error(schedule, tz, options)`` runs the adapter's schedule translation
(the one ``corefn deploy`` uses) and says why it refuses a schedule. The core finds it by name
and never imports an adapter otherwise.

The trigger rule reads ``services.toml`` (written for the lock-in report): a kind with no entry is
unsupported. A handler within every limit produces no finding.
"""

from __future__ import annotations

from collections.abc import Iterable

from corefn.app import App
from corefn.facts import CloudFacts
from corefn.limits.rules import RULES, Finding, Target


def check(app: App, facts: Iterable[CloudFacts], rules: Iterable[str] | None = None) -> list[Finding]:
    """Every finding of ``rules`` (default: all) for every handler of ``app`` on each cloud."""
    wanted = list(rules) if rules is not None else list(RULES)
    found: list[Finding] = []
    for cloud_facts in facts:
        for spec in app.handlers:
            target = Target(app, spec, cloud_facts.cloud, cloud_facts)
            for rule in wanted:
                found.extend(RULES[rule](target))
    return found


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.severity == "error" for f in findings)


__all__ = ["RULES", "Finding", "Target", "check", "has_errors"]
