"""Realistic AWS payloads, one per trigger kind, for ``corefn event aws TRIGGER`` and for tests
that want a starting point to edit: ``sample("queue")`` is an SQS batch as Lambda delivers it.

``timer`` is the EventBridge Scheduler envelope corefn's generated schedules send; ``invoke`` is
what a direct ``lambda invoke`` passes (any JSON).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from corefn.errors import ConfigurationError

TRIGGERS = ("http", "storage", "queue", "topic", "timer", "stream", "nosql", "invoke")


def sample(trigger: str) -> dict[str, Any]:
    """A fresh copy of the sample payload for ``trigger`` (one of :data:`TRIGGERS`)."""
    if trigger not in TRIGGERS:
        raise ConfigurationError(f"no AWS sample for {trigger!r}; samples: {', '.join(TRIGGERS)}")
    text = resources.files(__name__).joinpath(f"{trigger}.json").read_text(encoding="utf-8")
    payload: dict[str, Any] = json.loads(text)
    return payload


__all__ = ["TRIGGERS", "sample"]
