"""Service Bus (``servicebus://``): the publisher contract through azure-core's real HTTP
pipeline, with its transport replaced by :class:`FakeServiceBus`.

What is faked, and where: there is no Service Bus emulator here that speaks HTTP (Microsoft's
emulator is AMQP-only and ships as containers), so the azure-core ``transport`` is an in-memory
implementation of the Service Bus REST send API: ``POST /{entity}/messages`` in both forms
(a JSON batch, ``application/vnd.microsoft.servicebus.json``, and a single raw message with
``BrokerProperties`` and custom-property headers), the SAS ``Authorization`` header (the fake
recomputes the HMAC and checks resource and expiry), 404 for a missing entity, 413 past the
256 KB request limit, and 429 / 503 with ``Retry-After`` on demand. Above the transport
everything is real: request building, signing, azure-core's retry policy, error mapping.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

import pytest

from corefn.errors import ConfigurationError, SinkError, SinkNotFoundError, SinkThrottledError, SinkUnavailableError
from corefn.sinks.base import Publisher
from corefn_azure.sinks.servicebus import ServiceBusPublisher, parse_url, sas_token, shared_access_key
from tests.sinks.contract import PublisherContract, Receive, Received, make_spec, unique
from tests.sinks.fake_transport import FakeTransport

KEY_NAME, KEY = "SendOnly", base64.b64encode(b"a throwaway service bus key").decode()
HOST = "corefn-test.servicebus.windows.net"
CONNECTION = f"Endpoint=sb://{HOST}/;SharedAccessKeyName={KEY_NAME};SharedAccessKey={KEY}"


def _response(request: Any, status: int, headers: dict[str, str] | None = None) -> Any:
    from azure.core.pipeline.transport import HttpResponse
    from requests.structures import CaseInsensitiveDict

    class Response(HttpResponse):
        def body(self) -> bytes:
            return b"" if status < 400 else f"<Error><Code>{status}</Code></Error>".encode()

    response = Response(request, None)
    response.status_code = status
    response.reason = "Created" if status == 201 else "Error"
    response.headers = CaseInsensitiveDict(headers or {})
    response.content_type = "application/xml"
    return response


class FakeServiceBus(FakeTransport):
    """An azure-core HttpTransport holding each entity's messages in memory."""

    def __init__(self) -> None:
        self.entities: dict[str, list[Received]] = {}
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.fail: list[tuple[int, dict[str, str]]] = []  # (status, headers) for the next requests
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        """azure-core's retry policy sleeps through the transport: record instead of waiting."""
        self.slept.append(seconds)

    def _authorized(self, url: str, header: str) -> bool:
        scheme, _, token = header.partition(" ")
        fields = dict(urllib.parse.parse_qsl(token))
        resource = url.split("/messages")[0]
        text = f"{urllib.parse.quote_plus(fields.get('sr', ''))}\n{fields.get('se', '')}"
        signature = base64.b64encode(hmac.new(KEY.encode(), text.encode(), hashlib.sha256).digest()).decode()
        return (scheme == "SharedAccessSignature" and fields.get("sr") == resource and fields.get("skn") == KEY_NAME
                and int(fields.get("se", 0)) > time.time() and hmac.compare_digest(fields.get("sig", ""), signature))  # fmt: skip

    def send(self, request: Any, **kwargs: Any) -> Any:
        headers = {k.lower(): v for k, v in request.headers.items()}
        body = bytes(request.data or b"") if not isinstance(request.data, str) else request.data.encode()
        self.requests.append((request.url, headers, body))
        parts = urllib.parse.urlsplit(request.url)
        entity, _, tail = parts.path.strip("/").partition("/")
        if request.method != "POST" or tail != "messages" or parts.hostname != HOST:
            return _response(request, 400)
        if not self._authorized(request.url, headers.get("authorization", "")):
            return _response(request, 401)
        if self.fail:
            status, extra = self.fail.pop(0)
            return _response(request, status, extra)
        if entity not in self.entities:
            return _response(request, 410)  # the send API's "queue or topic doesn't exist"
        if len(body) > 256 * 1024:
            return _response(request, 403)  # its "quota exceeded or message too large"
        if headers.get("content-type") == "application/vnd.microsoft.servicebus.json":  # exactly, no charset
            batch = json.loads(body)
            assert isinstance(batch, list) and all(isinstance(m["Body"], str) for m in batch)
            for m in batch:
                self._store(entity, m["Body"].encode(), m.get("BrokerProperties", {}), m.get("UserProperties", {}))
        else:
            broker = json.loads(headers.get("brokerproperties", "{}"))
            skip = {"authorization", "content-type", "brokerproperties", "content-length", "user-agent", "accept",
                    "x-ms-client-request-id"}  # fmt: skip
            user = {k: json.loads(v) for k, v in request.headers.items() if k.lower() not in skip}
            self._store(entity, body, broker, user)
        return _response(request, 201)

    def _store(self, entity: str, body: bytes, broker: dict[str, Any], user: dict[str, Any]) -> None:
        assert broker.get("MessageId"), "every message carries the id send() returns"
        self.entities[entity].append(Received(body=body, attributes={**user, "MessageId": broker["MessageId"]},
                                              group=broker.get("SessionId")))  # fmt: skip


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeServiceBus:
    monkeypatch.setenv("AZURE_SERVICEBUS_CONNECTION_STRING", CONNECTION)
    return FakeServiceBus()


@pytest.fixture
def entity(fake: FakeServiceBus) -> str:
    name = unique("orders")
    fake.entities[name] = []
    return name


MakePublisher = Callable[..., ServiceBusPublisher]


@pytest.fixture
def make_publisher(fake: FakeServiceBus, entity: str) -> MakePublisher:
    def make(name: str = entity) -> ServiceBusPublisher:
        return ServiceBusPublisher(make_spec("publisher"), f"servicebus://corefn-test/{name}", transport=fake)

    return make


class TestServiceBusContract(PublisherContract):
    ordered = True  # one group = one session, delivered in order

    @pytest.fixture
    def publisher(self, make_publisher: MakePublisher) -> Publisher:
        return make_publisher()

    @pytest.fixture
    def receive(self, fake: FakeServiceBus, entity: str) -> Receive:
        def receive(count: int, timeout: float = 15.0) -> list[Received]:
            return fake.entities[entity][:count]

        return receive


def test_ids_sessions_and_properties(make_publisher: MakePublisher, fake: FakeServiceBus, entity: str) -> None:
    message_id = make_publisher().send({"n": 1}, {"kind": "order"}, group="customer-7")
    (message,) = fake.entities[entity]
    assert message.attributes == {"kind": "order", "MessageId": message_id}
    assert message.group == "customer-7"
    url, headers, body = fake.requests[-1]
    assert url == f"https://{HOST}/{entity}/messages?api-version=2017-04"
    assert json.loads(body)[0]["BrokerProperties"] == {"MessageId": message_id, "SessionId": "customer-7"}


def test_binary_body_is_sent_raw_in_order(make_publisher: MakePublisher, fake: FakeServiceBus, entity: str) -> None:
    make_publisher().send_batch(["first", b"\xff\x00binary", "third"], {"k": "v"})
    assert [m.body for m in fake.entities[entity]] == [b"first", b"\xff\x00binary", b"third"]
    assert fake.entities[entity][1].attributes["k"] == "v"
    assert [r[1]["content-type"] for r in fake.requests] == [
        "application/vnd.microsoft.servicebus.json", "application/octet-stream", "application/vnd.microsoft.servicebus.json"]  # fmt: skip


def test_large_batches_are_split_under_the_request_limit(make_publisher: MakePublisher, fake: FakeServiceBus, entity: str) -> None:
    ids = make_publisher().send_batch(["x" * 30_000] * 20)  # 600 KB in all
    assert len(ids) == 20 and len(fake.entities[entity]) == 20
    assert len(fake.requests) >= 3 and all(len(body) <= 256 * 1024 for _, _, body in fake.requests)


def test_token_is_reused_until_near_expiry(make_publisher: MakePublisher, fake: FakeServiceBus) -> None:
    publisher = make_publisher()
    publisher.send("a")
    publisher.send("b")
    assert fake.requests[0][1]["authorization"] == fake.requests[1][1]["authorization"]


def test_missing_entity_is_not_found(make_publisher: MakePublisher) -> None:
    with pytest.raises(SinkNotFoundError):
        make_publisher("nope").send("x")


def test_throttling_is_retried_then_mapped(make_publisher: MakePublisher, fake: FakeServiceBus, entity: str) -> None:
    fake.fail = [(503, {"Retry-After": "0"})]
    make_publisher().send("after one ServerBusy")  # azure-core's retry policy absorbs it
    assert len(fake.entities[entity]) == 1
    fake.fail = [(429, {"Retry-After": "7"})] * 10
    with pytest.raises(SinkThrottledError) as caught:
        make_publisher().send("x")
    assert caught.value.retry_after == 7.0
    assert fake.slept[-3:] == [7.0, 7.0, 7.0]  # three retries, each waiting what the service asked


def test_wrong_key_is_unavailable(fake: FakeServiceBus, entity: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_SERVICEBUS_CONNECTION_STRING", CONNECTION.replace(KEY, "d3Jvbmc="))
    publisher = ServiceBusPublisher(make_spec("publisher"), f"servicebus://corefn-test/{entity}", transport=fake)
    with pytest.raises(SinkUnavailableError):
        publisher.send("x")


def test_oversized_single_message_is_an_error(make_publisher: MakePublisher) -> None:
    with pytest.raises(SinkError) as caught:
        make_publisher().send("x" * 300_000)
    assert type(caught.value) is SinkError  # 403 here is not an authorization failure


def test_connection_string_must_match_the_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_SERVICEBUS_CONNECTION_STRING", CONNECTION)
    assert shared_access_key(HOST) == (KEY_NAME, KEY)
    with pytest.raises(ConfigurationError, match="AZURE_SERVICEBUS_CONNECTION_STRING"):
        shared_access_key("other.servicebus.windows.net")
    monkeypatch.delenv("AZURE_SERVICEBUS_CONNECTION_STRING")
    monkeypatch.setenv("AzureWebJobsServiceBus", CONNECTION)
    assert shared_access_key(HOST) == (KEY_NAME, KEY)
    monkeypatch.delenv("AzureWebJobsServiceBus")
    assert shared_access_key(HOST) is None  # no key: the managed identity signs in


def test_sas_token_format() -> None:
    token = sas_token("https://ns.servicebus.windows.net/q", "name", "key", 1700000000)
    assert token.startswith("SharedAccessSignature sr=https%3A%2F%2Fns.servicebus.windows.net%2Fq&sig=")
    assert token.endswith("&se=1700000000&skn=name")


def test_url_forms_and_permissions() -> None:
    assert parse_url("servicebus://ns/orders") == ("ns.servicebus.windows.net", "orders")
    assert parse_url("servicebus://ns.servicebus.chinacloudapi.cn/orders")[0] == "ns.servicebus.chinacloudapi.cn"
    with pytest.raises(ConfigurationError):
        parse_url("servicebus://ns")
    (grant,) = ServiceBusPublisher.permissions("servicebus://ns/orders", "publisher")
    assert (grant.actions, grant.resource) == (("Azure Service Bus Data Sender",), "namespaces/ns/entities/orders")


def test_cloudevents_are_amqp_binding_user_properties(fake: FakeServiceBus, entity: str) -> None:
    """``cloudEvents:<attribute>`` user properties (AMQP binding §3.1.3.1) on a text message, read
    back as the same corefn message; a binary body goes raw in structured mode. No Service Bus
    emulator runs here (see the module docstring): what is checked is the messages built."""
    from corefn.cloudevents import from_json_form
    from corefn.cloudevents.bindings import from_amqp
    from corefn.events import QueueMessage

    spec = make_spec("publisher", "orders", target="queue", cloudevents=True)
    publisher = ServiceBusPublisher(spec, f"servicebus://corefn-test/{entity}", transport=fake)
    sent = publisher.send({"n": 1}, {"kind": "order"}, group="customer-7")
    (message,) = fake.entities[entity]
    properties = {k: v for k, v in message.attributes.items() if k != "MessageId"}
    assert message.body == b'{"n":1}' and message.group == "customer-7" and message.attributes["MessageId"] == sent
    assert properties["kind"] == "order" and properties["cloudEvents:specversion"] == "1.0"
    assert (properties["cloudEvents:type"], properties["cloudEvents:source"], properties["cloudEvents:id"]) == (
        "dev.corefn.queue.message", "/corefn/queue/orders", sent)  # fmt: skip
    assert properties["cloudEvents:datacontenttype"] == "application/json"
    event = from_amqp(None, properties, message.body)
    assert isinstance(event, QueueMessage) and event.queue == "orders" and event.group == "customer-7"
    assert event.body.json() == {"n": 1} and event.attributes == {"kind": "order"} and event.id == sent

    publisher.send(b"\xff\x00", {"kind": "blob"})
    _, headers, body = fake.requests[-1]
    assert headers["content-type"] == "application/cloudevents+json; charset=utf-8"
    raw = from_json_form(json.loads(body))
    assert isinstance(raw, QueueMessage) and raw.body.content == b"\xff\x00" and raw.attributes == {"kind": "blob"}
