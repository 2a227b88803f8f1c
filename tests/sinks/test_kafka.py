"""Kafka (``kafka://``, IBM Event Streams and any other broker): the publisher contract against a FAKE producer.

What is faked, and where: there is no Kafka broker here, and faking the Kafka wire protocol
under kafka-python would be a project of its own, so these tests replace the
``kafka.KafkaProducer`` CLASS with :class:`FakeProducer` (an in-memory topic log). Everything
above that boundary is the real backend: URL parsing, the producer settings built from the
environment (checked against kafka-python's real ``DEFAULT_CONFIG`` keys), value / key / header
encoding (checked with the same types kafka-python enforces), partitioning (kafka-python's own
``murmur2`` key hash), ids, waiting, and the mapping of kafka-python's real exception classes.
Not covered here: the network, SASL handshakes and broker-side limits.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest

from corefn.errors import ConfigurationError, SinkError, SinkNotFoundError, SinkThrottledError, SinkUnavailableError
from corefn.sinks.base import Publisher
from corefn.sinks.kafka import KafkaPublisher, open_backend, parse_url, producer_config
from tests.sinks.contract import PublisherContract, Receive, Received, make_spec, unique

PARTITIONS = 3
# kafka-python 3 reads its protocol schemas with importlib.resources' deprecated helpers
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


class FakeCluster:
    """Topics as per-partition logs of (key, value, headers)."""

    def __init__(self) -> None:
        self.topics: dict[str, dict[int, list[tuple[bytes | None, bytes, list[tuple[str, bytes]]]]]] = {}
        self.producers: list[FakeProducer] = []
        self.fail_next: BaseException | None = None
        self.real_settings: frozenset[str] = frozenset()
        self.unreachable = False

    def create(self, topic: str) -> str:
        self.topics[topic] = defaultdict(list)
        return topic

    def records(self, topic: str) -> list[tuple[int, int, bytes | None, bytes, list[tuple[str, bytes]]]]:
        return [(p, o, *record) for p, log in sorted(self.topics[topic].items()) for o, record in enumerate(log)]


class FakeFuture:
    def __init__(self, result: Any = None, error: BaseException | None = None) -> None:
        self.result, self.error = result, error

    def get(self, timeout: float | None = None) -> Any:
        assert timeout is not None, "the backend must not wait forever"
        if self.error is not None:
            raise self.error
        return self.result


class FakeProducer:
    """Stands in for kafka.KafkaProducer: same constructor contract, same send() checks."""

    cluster: FakeCluster

    def __init__(self, **config: Any) -> None:
        unknown = set(config) - set(self.cluster.real_settings)
        assert not unknown, f"kafka-python has no settings {unknown}"
        if self.cluster.unreachable:  # kafka-python 3 bootstraps in the constructor, then gives up
            from kafka.errors import KafkaTimeoutError

            raise KafkaTimeoutError(f"Bootstrap failed after {config.get('bootstrap_timeout_ms')} ms")
        self.config = config
        self.flushes = 0
        self.spread = itertools.cycle(range(PARTITIONS))
        self.cluster.producers.append(self)

    def send(self, topic: str, value: Any = None, key: Any = None, headers: Any = None, partition: Any = None,
             timestamp_ms: Any = None) -> FakeFuture:  # fmt: skip
        from kafka.errors import KafkaTimeoutError
        from kafka.partitioner.default import murmur2
        from kafka.producer.future import RecordMetadata

        assert isinstance(value, bytes) and (key is None or isinstance(key, bytes))
        assert headers is None or all(isinstance(k, str) and isinstance(v, bytes) for k, v in headers)
        if topic not in self.cluster.topics:  # kafka-python blocks for metadata, then gives up
            raise KafkaTimeoutError(f"Failed to update metadata after {self.config['max_block_ms'] / 1000} secs.")
        if self.cluster.fail_next is not None:
            error, self.cluster.fail_next = self.cluster.fail_next, None
            return FakeFuture(error=error)
        # kafka-python's (and Java's) keyed partitioning; keyless records spread round the partitions
        chosen = (murmur2(key) & 0x7FFFFFFF) % PARTITIONS if key is not None else next(self.spread)
        log = self.cluster.topics[topic][chosen]
        log.append((key, value, list(headers or [])))
        return FakeFuture(RecordMetadata(topic, chosen, None, len(log) - 1, 0, None, len(key or b""), len(value), -1))

    def flush(self, timeout: float | None = None) -> None:
        self.flushes += 1


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCluster]:
    import kafka

    cluster = FakeCluster()
    cluster.real_settings = frozenset(kafka.KafkaProducer.DEFAULT_CONFIG)  # before swapping the class
    settings = dict(kafka.KafkaProducer.DEFAULT_CONFIG)
    fake = type("KafkaProducer", (FakeProducer,), {"cluster": cluster, "DEFAULT_CONFIG": settings})
    monkeypatch.setattr(kafka, "KafkaProducer", fake)
    for name in ("KAFKA_API_KEY", "KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD", "KAFKA_SECURITY_PROTOCOL"):
        monkeypatch.delenv(name, raising=False)
    yield cluster


@pytest.fixture
def topic(cluster: FakeCluster) -> str:
    return cluster.create(unique("topic"))


class TestEventStreamsContract(PublisherContract):
    ordered = True  # one group = one record key = one partition

    @pytest.fixture
    def publisher(self, topic: str) -> Publisher:
        return open_backend(make_spec("publisher"), f"kafka://broker-0:9093,broker-1:9093/{topic}")

    @pytest.fixture
    def receive(self, cluster: FakeCluster, topic: str) -> Receive:
        def receive(count: int, timeout: float = 15.0) -> list[Received]:
            return [
                Received(body=value, attributes={k: v.decode() for k, v in headers}, group=key.decode() if key else None)
                for _, _, key, value, headers in cluster.records(topic)
            ][:count]

        return receive


def test_records_carry_key_headers_and_ids(cluster: FakeCluster, topic: str) -> None:
    publisher = open_backend(make_spec("publisher"), f"kafka://b:9093/{topic}")
    first = publisher.send({"t": 1}, {"kind": "reading"}, group="device-7")
    second = publisher.send("x", group="device-7")
    partition, offset = first.split(":")
    assert second == f"{partition}:{int(offset) + 1}"  # same key, same partition, next offset
    ((p, o, key, value, headers), _) = cluster.records(topic)
    assert (key, value, headers) == (b"device-7", b'{"t":1}', [("kind", b"reading")])


def test_batch_is_queued_then_flushed_once(cluster: FakeCluster, topic: str) -> None:
    publisher = open_backend(make_spec("publisher"), f"kafka://b:9093/{topic}")
    ids = publisher.send_batch(["a", "b", "c"])
    assert len(set(ids)) == 3
    assert cluster.producers[0].flushes == 1


def test_one_producer_per_backend(cluster: FakeCluster, topic: str) -> None:
    publisher = open_backend(make_spec("publisher"), f"kafka://b:9093/{topic}")
    for _ in range(3):
        publisher.send("x")
    assert len(cluster.producers) == 1


def test_event_streams_api_key_is_sasl_plain_as_token(monkeypatch: pytest.MonkeyPatch, cluster: FakeCluster, topic: str) -> None:
    monkeypatch.setenv("KAFKA_API_KEY", "secret-key")
    open_backend(make_spec("publisher"), f"kafka://b0:9093,b1:9093/{topic}")
    config = cluster.producers[0].config
    assert config["bootstrap_servers"] == ["b0:9093", "b1:9093"]
    assert (config["security_protocol"], config["sasl_mechanism"]) == ("SASL_SSL", "PLAIN")
    assert (config["sasl_plain_username"], config["sasl_plain_password"]) == ("token", "secret-key")
    assert config["acks"] == "all"


def test_generic_sasl_and_protocol_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAFKA_API_KEY", raising=False)
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "alice")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "pw")
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    config = producer_config(["b:9092"])
    assert (config["security_protocol"], config["sasl_mechanism"], config["sasl_plain_username"]) == (
        "SASL_PLAINTEXT", "SCRAM-SHA-512", "alice")  # fmt: skip


def test_no_credentials_is_plain_tcp(cluster: FakeCluster) -> None:
    assert "security_protocol" not in producer_config(["localhost:9092"])


def test_unknown_topic_times_out_as_unavailable(cluster: FakeCluster) -> None:
    publisher = open_backend(make_spec("publisher"), "kafka://b:9093/missing")
    with pytest.raises(SinkUnavailableError) as caught:
        publisher.send("x")
    assert type(caught.value.cause).__name__ == "KafkaTimeoutError"


@pytest.mark.parametrize(("error", "family"), [
    ("UnknownTopicOrPartitionError", SinkNotFoundError),
    ("ThrottlingQuotaExceededError", SinkThrottledError),
    ("MessageSizeTooLargeError", SinkError),
    ("TopicAuthorizationFailedError", SinkUnavailableError),
    ("SaslAuthenticationFailedError", SinkUnavailableError),
    ("NotLeaderForPartitionError", SinkUnavailableError),  # retriable: unavailable, not a plain error
])  # fmt: skip
def test_broker_errors_map_to_the_family(cluster: FakeCluster, topic: str, error: str, family: type[SinkError]) -> None:
    import kafka.errors

    cluster.fail_next = getattr(kafka.errors, error)()
    publisher = open_backend(make_spec("publisher"), f"kafka://b:9093/{topic}")
    with pytest.raises(family) as caught:
        publisher.send("x")
    assert type(caught.value) is family
    assert type(caught.value.cause).__name__ == error


def test_url_forms() -> None:
    assert parse_url("kafka://a:1,b:2/orders") == (["a:1", "b:2"], "orders")
    for bad in ("kafka://a:1", "kafka:///orders", "kafka://a:1/x/y"):
        with pytest.raises(ConfigurationError):
            parse_url(bad)


def test_permissions() -> None:
    (grant,) = KafkaPublisher.permissions("kafka://b:9093/orders", "publisher")
    assert (grant.cloud, grant.actions, grant.resource) == ("openwhisk", ("Writer",), "messagehub:topic/orders")




def test_no_reachable_broker_at_open_is_unavailable(cluster: FakeCluster) -> None:
    cluster.unreachable = True
    with pytest.raises(SinkUnavailableError) as caught:
        open_backend(make_spec("publisher"), "kafka://b:9093/t")
    assert type(caught.value.cause).__name__ == "KafkaTimeoutError"
    assert cluster.producers == [] and "10000 ms" in str(caught.value)  # not kafka-python's 30 s default


def test_cloudevents_records_are_binary_mode_cloudevents_any_reader_takes(cluster: FakeCluster, topic: str) -> None:
    """``cloudevents=True``: each record is its message's CloudEvent in the Kafka binding's binary
    mode; the body, key and the caller's headers stay what they are without the option, corefn's
    reader gives the message back, and the cloudevents SDK's Kafka binding reads the same event."""
    from cloudevents.kafka import KafkaMessage
    from cloudevents.kafka import from_binary as sdk_from_binary

    from corefn.cloudevents.bindings import from_kafka
    from corefn.events import TopicMessage

    publisher = open_backend(make_spec("publisher", "readings", target="stream", cloudevents=True), f"kafka://b:9093/{topic}")
    publisher.send({"t": 1}, {"kind": "reading"}, group="device-7")
    publisher.send(b"\xff\x00raw")
    (_, _, key, value, headers), (_, _, key2, value2, headers2) = sorted(cluster.records(topic), key=lambda r: r[3] != b'{"t":1}')
    assert (key, value, ("kind", b"reading") in headers) == (b"device-7", b'{"t":1}', True)
    named = dict(headers)
    assert named["ce_specversion"] == b"1.0" and named["ce_type"] == b"dev.corefn.topic.message"
    assert named["ce_source"] == b"/corefn/topic/readings" and named["content-type"] == b"application/json"
    message = from_kafka(headers, key, value)
    assert isinstance(message, TopicMessage) and message.topic == "readings" and message.group == "device-7"
    assert message.body.json() == {"t": 1} and message.attributes == {"kind": "reading"}
    assert message.id == named["ce_id"].decode()
    read = sdk_from_binary(KafkaMessage(dict(headers), key, value), data_unmarshaller=lambda b: b)
    assert (read["type"], read["source"], read["id"], read.get_data()) == ("dev.corefn.topic.message", "/corefn/topic/readings",
                                                                          message.id, b'{"t":1}')  # fmt: skip
    assert key2 is None and value2 == b"\xff\x00raw" and dict(headers2)["content-type"] == b"application/octet-stream"
    assert from_kafka(headers2, key2, value2).body.content == b"\xff\x00raw"  # type: ignore[attr-defined]


def test_cloudevents_refuses_attribute_names_of_the_binding(cluster: FakeCluster, topic: str) -> None:
    publisher = open_backend(make_spec("publisher", cloudevents=True), f"kafka://b:9093/{topic}")
    with pytest.raises(ConfigurationError, match="ce_id"):
        publisher.send("x", {"ce_id": "mine"})
    with pytest.raises(ConfigurationError, match="True or False"):
        open_backend(make_spec("publisher", cloudevents="binary"), f"kafka://b:9093/{topic}")
