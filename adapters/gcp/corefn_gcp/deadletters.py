"""Pub/Sub dead-letter topics for ``corefn dead APP ... --cloud gcp --subscription S``.

Pub/Sub forwards a message that failed ``max_delivery_attempts`` times to the subscription's
dead-letter topic (cloud.google.com/pubsub/docs/handling-failures); to read them, a subscription
on that topic is needed: ``--subscription`` names it (``projects/P/subscriptions/S``, or ``S``
with ``GOOGLE_CLOUD_PROJECT``).

What Pub/Sub allows: **list** pulls messages and gives them straight back (``modify_ack_deadline``
0): each look is a delivery attempt on the dead-letter subscription. **redrive** pulls, publishes
each message (data, attributes, ordering key) to the original topic and acknowledges it: the
topic is ``--to``, else the one of the subscription named in the message's
``CloudPubSubDeadLetterSourceSubscription`` attribute. Chosen ids can be redriven (the others are
given back). No **count** (the backlog is a Cloud Monitoring metric,
``subscription/num_undelivered_messages``, not an API call) and no **show** by id (Pub/Sub reads
no message by id).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, ClassVar

from corefn.deadletters import CloudDeadLetter, Redriven, refuse
from corefn.errors import ConfigurationError
from corefn_gcp.sinks import google_errors, sdk_required

SUPPORTS: Mapping[str, str | None] = {
    "count": "Pub/Sub has no backlog call; the backlog is the Cloud Monitoring metric subscription/num_undelivered_messages",
    "list": None,
    "show": "Pub/Sub reads no message by id",
    "redrive": None,
    "redrive_ids": None,
    "redrive_to": None,
}

SOURCE_ATTRIBUTE = "CloudPubSubDeadLetterSourceSubscription"
PULL = 100
PULL_WAIT = 3.0  # seconds a pull may wait for messages


class DeadLetterSubscription:
    cloud: ClassVar[str] = "gcp"
    supports: ClassVar[Mapping[str, str | None]] = SUPPORTS

    def __init__(self, where: Mapping[str, str]) -> None:
        self.name = where.get("subscription")
        self._subscriber: Any = None

    @property
    def path(self) -> str:
        if not self.name:
            raise ConfigurationError("--cloud gcp needs --subscription (a subscription on the dead-letter topic)")
        if self.name.startswith("projects/"):
            return self.name
        project = os.environ.get("GOOGLE_CLOUD_PROJECT")
        if not project:
            raise ConfigurationError(f"--subscription {self.name!r}: give projects/PROJECT/subscriptions/NAME or set GOOGLE_CLOUD_PROJECT")
        return f"projects/{project}/subscriptions/{self.name}"

    @property
    def subscriber(self) -> Any:
        if self._subscriber is None:
            with sdk_required():
                from google.cloud.pubsub_v1 import SubscriberClient

            self._subscriber = SubscriberClient()
        return self._subscriber

    def _pull(self, limit: int) -> list[Any]:
        """One pull; an empty subscription holds a pull open until its deadline, which is
        then the answer "nothing left" (not an error)."""
        from google.api_core.exceptions import DeadlineExceeded

        try:
            answer = self.subscriber.pull(request={"subscription": self.path, "max_messages": limit}, timeout=PULL_WAIT, retry=None)
        except DeadlineExceeded:
            return []
        return list(answer.received_messages)

    def _give_back(self, received: list[Any]) -> None:
        if received:
            self.subscriber.modify_ack_deadline(
                request={"subscription": self.path, "ack_ids": [r.ack_id for r in received], "ack_deadline_seconds": 0}
            )

    def count(self) -> int | None:
        raise refuse(self, "count")

    def peek(self, limit: int = 10) -> list[CloudDeadLetter]:
        with google_errors(self.path):
            received = self._pull(limit)
            self._give_back(received)
        return [_letter(r) for r in received]

    def show(self, id: str) -> CloudDeadLetter:
        raise refuse(self, "show")

    def redrive(self, ids: list[str] | None = None, to: str | None = None) -> Redriven:
        with sdk_required():
            from google.cloud.pubsub_v1 import PublisherClient

        publisher = PublisherClient()
        wanted = set(ids) if ids else None
        moved, seen = 0, set()
        others: list[Any] = []  # pulled but not asked for: held until the end, then given back
        topics: dict[str, str] = {}
        with google_errors(self.path):
            try:
                while True:
                    received = [r for r in self._pull(PULL) if r.message.message_id not in seen]
                    if not received:
                        break
                    others.extend(received)  # until moved: given back if anything fails
                    for r in received:
                        seen.add(r.message.message_id)
                        if wanted is not None and r.message.message_id not in wanted:
                            continue
                        topic = self._topic_of(r.message, to, topics)
                        attributes = {k: v for k, v in r.message.attributes.items() if not k.startswith("CloudPubSubDeadLetter")}
                        publisher.publish(topic, bytes(r.message.data), ordering_key=r.message.ordering_key or "", **attributes).result(timeout=30)
                        self.subscriber.acknowledge(request={"subscription": self.path, "ack_ids": [r.ack_id]})
                        others.remove(r)
                        moved += 1
            finally:
                self._give_back(others)
        where = to or ", ".join(sorted(set(topics.values()))) or "their topics"
        return Redriven(moved, f"published {moved} message(s) to {where} and acknowledged them on {self.path}")

    def _topic_of(self, message: Any, to: str | None, cache: dict[str, str]) -> str:
        if to:
            return to
        source = message.attributes.get(SOURCE_ATTRIBUTE)
        if not source:
            raise ConfigurationError(
                f"message {message.message_id} does not say where it came from ({SOURCE_ATTRIBUTE}); give --to projects/P/topics/T"
            )
        if source not in cache:
            cache[source] = str(self.subscriber.get_subscription(request={"subscription": source}).topic)
        return cache[source]


def _letter(received: Any) -> CloudDeadLetter:
    message = received.message
    published = message.publish_time.isoformat().replace("+00:00", "Z") if message.publish_time else None
    attempts = message.attributes.get("CloudPubSubDeadLetterSourceDeliveryCount")
    body = bytes(message.data).decode("utf-8", "replace")
    return CloudDeadLetter(str(message.message_id), body, int(attempts) if attempts else None, published, None, dict(message.attributes))


def open_dead_letters(where: Mapping[str, str]) -> DeadLetterSubscription:
    return DeadLetterSubscription(where)
