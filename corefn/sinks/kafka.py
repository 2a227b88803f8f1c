"""Apache Kafka as a publisher (kafka-python): IBM Event Streams, Confluent Cloud, Amazon MSK,
Azure Event Hubs' Kafka endpoint or a broker of your own; written once here because it belongs to
no one cloud (``pip install 'corefn[kafka]'``; the SDK is imported when the sink is first opened).

URL: ``kafka://broker:port/topic``; several bootstrap brokers are comma-separated
(``kafka://b0:9093,b1:9093/orders``), as Event Streams lists them in ``kafka_brokers_sasl``.

Credentials: ``KAFKA_API_KEY`` is an Event Streams API key, sent the way IBM documents
(SASL_SSL, mechanism PLAIN, user ``token``, password = the key); otherwise
``KAFKA_SASL_USERNAME`` / ``KAFKA_SASL_PASSWORD`` with ``KAFKA_SASL_MECHANISM`` (default
PLAIN) for any SASL Kafka; with neither, plain TCP (a local broker). ``KAFKA_SECURITY_PROTOCOL``
overrides the protocol either way.

Messages: the body is the record value, attributes become record headers (UTF-8 values), and
``group`` is the record key, so one group always lands in one partition and is read in order.
The id returned is ``{partition}:{offset}``, unique within the topic (Kafka has no message ids).
``send`` waits for the broker's acknowledgement from all in-sync replicas (``acks=all``, what
Event Streams recommends); ``send_batch`` queues every record first and then waits, so they go
out in as few requests as the producer's batching allows. Event Streams caps a record at 1 MB.

CloudEvents: with ``cloudevents=True`` on the sink, every record is the message's CloudEvent in
the Kafka binding's binary mode (:func:`corefn.cloudevents.bindings.kafka_record`: ``ce_``
headers, ``content-type``, the body as the value, the group as the key), the caller's attributes
plain headers beside them; a Knative KafkaSource delivers such a record as that CloudEvent.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from typing import Any, ClassVar

from corefn.cloudevents.bindings import kafka_record
from corefn.cloudevents.publisher import cloudevents_wanted, message
from corefn.errors import ConfigurationError, SinkError, SinkNotFoundError, SinkThrottledError, SinkUnavailableError
from corefn.sinks._errors import sdk_required, translated
from corefn.sinks._publish import Body, body_bytes, check_attributes
from corefn.sinks.base import Permission
from corefn.specs import SinkSpec

SEND_TIMEOUT = 30.0
EXTRA = "kafka"

#: kafka-python exception class name (matched along the MRO) → error class
KAFKA_ERRORS: dict[str, type[SinkError]] = {
    "UnknownTopicOrPartitionError": SinkNotFoundError,
    "ThrottlingQuotaExceededError": SinkThrottledError,
    "QuotaViolationError": SinkThrottledError,
    "NoBrokersAvailable": SinkUnavailableError,  # kafka-python 2; 3 times out bootstrapping instead
    "KafkaTimeoutError": SinkUnavailableError,
    "KafkaConnectionError": SinkUnavailableError,
    "TopicAuthorizationFailedError": SinkUnavailableError,  # kafka-python 2 has no AuthorizationError base
    "AuthorizationError": SinkUnavailableError,
    "SaslAuthenticationFailedError": SinkUnavailableError,
    "MessageSizeTooLargeError": SinkError,
    "KafkaError": SinkError,
}


def to_sink_error(sink: str, exc: BaseException) -> SinkError | None:
    for cls in type(exc).__mro__:
        family = KAFKA_ERRORS.get(cls.__name__)
        if family is not None and cls.__module__.startswith("kafka"):
            if family is SinkError and getattr(exc, "retriable", False):
                family = SinkUnavailableError
            return family(sink, f"Kafka: {type(exc).__name__}: {exc}", exc)
    return None


def kafka_errors(sink: str) -> AbstractContextManager[None]:
    """Re-raise kafka-python exceptions as the SinkError family (the original is ``cause``)."""
    return translated(sink, to_sink_error)


def parse_url(url: str) -> tuple[list[str], str]:
    """(bootstrap brokers, topic) from ``kafka://host:port[,host:port...]/topic``."""
    rest = url.partition("://")[2].split("?")[0]
    hosts, _, topic = rest.partition("/")
    brokers = [host.strip() for host in hosts.split(",") if host.strip()]
    if not brokers or not topic or "/" in topic:
        raise ConfigurationError(f"sink URL {url!r}: use kafka://BROKER:PORT[,BROKER:PORT...]/TOPIC")
    return brokers, topic


def producer_config(brokers: list[str], known: Iterable[str] | None = None) -> dict[str, Any]:
    """KafkaProducer settings from the environment (see the module docstring). ``known`` are the
    settings the installed kafka-python has: only those of the optional ones are used."""
    config: dict[str, Any] = {
        "bootstrap_servers": brokers,
        "client_id": "corefn",
        "acks": "all",
        "linger_ms": 5,
        "max_block_ms": 15_000,
        "max_request_size": 1_000_000,
    }
    if api_key := os.environ.get("KAFKA_API_KEY"):
        config |= {"security_protocol": "SASL_SSL", "sasl_mechanism": "PLAIN",
                   "sasl_plain_username": "token", "sasl_plain_password": api_key}  # fmt: skip
    elif username := os.environ.get("KAFKA_SASL_USERNAME"):
        config |= {"security_protocol": "SASL_SSL", "sasl_mechanism": os.environ.get("KAFKA_SASL_MECHANISM", "PLAIN"),
                   "sasl_plain_username": username, "sasl_plain_password": os.environ.get("KAFKA_SASL_PASSWORD", "")}  # fmt: skip
    if protocol := os.environ.get("KAFKA_SECURITY_PROTOCOL"):
        config["security_protocol"] = protocol
    if known is None or "bootstrap_timeout_ms" in known:  # kafka-python 3 waits 30 s by default
        config["bootstrap_timeout_ms"] = 10_000
    return config


class KafkaPublisher:
    families: ClassVar[tuple[str, ...]] = ("publisher",)
    private_network: ClassVar[bool] = False
    #: honours ``cloudevents=True`` itself, in binary mode (see the module docstring)
    sends_cloudevents: ClassVar[bool] = True

    def __init__(self, spec: SinkSpec, url: str) -> None:
        from kafka import KafkaProducer

        self.spec = spec
        brokers, self.topic = parse_url(url)
        self.cloudevents = cloudevents_wanted(spec)
        with kafka_errors(spec.name):
            self._producer = KafkaProducer(**producer_config(brokers, KafkaProducer.DEFAULT_CONFIG))

    @classmethod
    def needs_private_network(cls, url: str) -> bool:
        """A public endpoint (private endpoints are an option of the account, never a need)."""
        return False

    @classmethod
    def permissions(cls, url: str, family: str) -> list[Permission]:
        """The IBM Event Streams grant (Writer on the topic, an IBM IAM role); other Kafka
        services authorise the SASL credentials on their own side, which deploy does not write."""
        _, topic = parse_url(url)
        return [Permission("openwhisk", ("Writer",), f"messagehub:topic/{topic}")]

    def _queue(self, body: Body, attributes: Mapping[str, str] | None, group: str | None) -> Any:
        own = check_attributes(attributes, self.spec.name)
        if self.cloudevents:
            form = message(self.spec, body, None, group)
            headers, key, value = kafka_record(form, own, self.spec.name)
        else:
            headers, key, value = [(k, v.encode()) for k, v in own.items()], (group.encode() if group else None), body_bytes(body)
        with kafka_errors(self.spec.name):
            return self._producer.send(self.topic, value=value, key=key, headers=headers or None)

    def _wait(self, future: Any) -> str:
        with kafka_errors(self.spec.name):
            metadata = future.get(timeout=SEND_TIMEOUT)
        return f"{metadata.partition}:{metadata.offset}"

    def send(self, body: Body, attributes: Mapping[str, str] | None = None, *, group: str | None = None) -> str:
        return self._wait(self._queue(body, attributes, group))

    def send_batch(self, bodies: Iterable[Body], attributes: Mapping[str, str] | None = None) -> list[str]:
        futures = [self._queue(body, attributes, None) for body in bodies]
        with kafka_errors(self.spec.name):
            self._producer.flush(timeout=SEND_TIMEOUT)
        return [self._wait(future) for future in futures]


def open_backend(spec: SinkSpec, url: str) -> KafkaPublisher:
    with sdk_required(EXTRA, {"kafka": lambda name: "kafka-python"}):
        return KafkaPublisher(spec, url)
