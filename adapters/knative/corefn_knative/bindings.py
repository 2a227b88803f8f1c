"""corefn events as CloudEvents on Kafka, Pub/Sub and AMQP in binary content mode: the core's
bindings (:mod:`corefn.cloudevents.bindings`, shared with the core's publishers), re-exported
where the Knative adapter's readers have always found them."""

from __future__ import annotations

from corefn.cloudevents.bindings import from_amqp, from_kafka, from_pubsub, to_amqp, to_kafka, to_pubsub

__all__ = ["from_amqp", "from_kafka", "from_pubsub", "to_amqp", "to_kafka", "to_pubsub"]
