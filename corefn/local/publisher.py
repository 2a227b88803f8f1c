"""``local://NAME`` — the publisher backend that writes into the local runtime's durable store.

The local default for every ``app.publisher(...)`` sink: a message sent here is delivered by
``corefn run`` to the handlers that consume ``NAME`` (one per queue, every subscriber of a topic,
the stream's partition for its ``group``), with the runtime's retries and dead letters. It works
whether or not a runtime is running: messages sent before any runtime has started are kept and
routed when one starts (see :meth:`~corefn.local.store.Store.publish`).

Dicts and lists are sent as compact JSON; ``group`` is the FIFO message group of an ordered queue
and the partition key of a stream.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from corefn.errors import SinkUnavailableError
from corefn.sinks._publish import Body, body_bytes, check_attributes
from corefn.sinks.base import Permission
from corefn.specs import SinkSpec, check_name


class LocalPublisher:
    families: ClassVar[tuple[str, ...]] = ("publisher",)

    def __init__(self, spec: SinkSpec, url: str) -> None:
        name = url.partition("://")[2].strip("/") or spec.name
        self.name = check_name(name, "publisher")
        self.target: str | None = spec.options.get("target")
        self.spec = spec

    @classmethod
    def permissions(cls, url: str, family: str) -> list[Permission]:
        return [Permission("local", ("publish",), url)]

    def _store(self) -> Any:
        from corefn.local.store import store_at
        from corefn.sinks import state_dir

        return store_at(state_dir())

    def send(self, body: Body, attributes: Mapping[str, str] | None = None, *, group: str | None = None) -> str:
        return self._publish([(body_bytes(body), check_attributes(attributes, self.spec.name), group)])[0]

    def send_batch(self, bodies: Iterable[Body], attributes: Mapping[str, str] | None = None) -> list[str]:
        attrs = check_attributes(attributes, self.spec.name)
        return self._publish([(body_bytes(b), attrs, None) for b in bodies])

    def _publish(self, messages: list[tuple[bytes, dict[str, str], str | None]]) -> list[str]:
        if not messages:
            return []
        import sqlite3

        from corefn.local.store import published

        try:
            ids: list[str] = self._store().publish(self.name, messages, self.target)
        except sqlite3.Error as exc:
            raise SinkUnavailableError(self.spec.name, f"local queue store: {exc}", exc) from exc
        published(self.name)
        return ids


def open_backend(spec: SinkSpec, url: str) -> LocalPublisher:
    return LocalPublisher(spec, url)
