"""Event Hubs (``eventhub://``): the publisher contract through azure-core's real HTTP pipeline,
with its transport replaced by an in-memory Event Hubs REST gateway.

What is faked, and where: no Event Hubs emulator runs here (Microsoft's is AMQP-only and ships as
containers), so, as for Service Bus (``test_azure_servicebus.py``, whose fake this one extends),
the azure-core ``transport`` implements the REST send API: ``POST /{hub}/messages`` as a JSON
batch or a single raw event with ``BrokerProperties`` (``PartitionKey``), the SAS
``Authorization`` header (HMAC recomputed and checked) **or** a bearer token, which stands for a
managed identity: the credential is a fake too (there is no Entra ID here), handing out a token
the fake gateway accepts for the Event Hubs audience only. Above the transport everything is real.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable
from typing import Any

import pytest

from corefn.errors import ConfigurationError, SinkUnavailableError
from corefn.sinks.base import Publisher
from corefn_azure.sinks.eventhub import TOKEN_SCOPE, EventHubPublisher, parse_url
from tests.sinks.contract import PublisherContract, Receive, Received, make_spec, unique
from tests.sinks.test_azure_servicebus import CONNECTION, HOST, FakeServiceBus

TOKEN = "an-entra-id-token-for-event-hubs"


class FakeEventHubs(FakeServiceBus):
    """The Service Bus fake with Event Hubs' message properties and bearer tokens."""

    def __init__(self) -> None:
        super().__init__()
        self.bearer_accepted = 0

    def _authorized(self, url: str, header: str) -> bool:
        if header == f"Bearer {TOKEN}":
            self.bearer_accepted += 1
            return True
        return super()._authorized(url, header)

    def send(self, request: Any, **kwargs: Any) -> Any:
        assert urllib.parse.parse_qs(urllib.parse.urlsplit(request.url).query)["api-version"] == ["2014-01"]
        return super().send(request, **kwargs)

    def _store(self, entity: str, body: bytes, broker: dict[str, Any], user: dict[str, Any]) -> None:
        assert set(broker) <= {"PartitionKey"}, broker
        self.entities[entity].append(Received(body=body, attributes=user, group=broker.get("PartitionKey")))


class FakeCredential:
    """Stands for the managed identity (azure-identity's credential protocol)."""

    def __init__(self) -> None:
        self.scopes: list[str] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        self.scopes += scopes
        return AccessToken(TOKEN if scopes == (TOKEN_SCOPE,) else "wrong-audience", int(time.time()) + 3600)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeEventHubs:
    monkeypatch.setenv("AZURE_EVENTHUB_CONNECTION_STRING", CONNECTION)
    return FakeEventHubs()


@pytest.fixture
def hub(fake: FakeEventHubs) -> str:
    name = unique("telemetry")
    fake.entities[name] = []
    return name


MakePublisher = Callable[..., EventHubPublisher]


@pytest.fixture
def make_publisher(fake: FakeEventHubs, hub: str) -> MakePublisher:
    def make(name: str = hub) -> EventHubPublisher:
        return EventHubPublisher(make_spec("publisher"), f"eventhub://corefn-test/{name}", transport=fake)

    return make


class TestEventHubContract(PublisherContract):
    ordered = True  # one partition key keeps its order

    @pytest.fixture
    def publisher(self, make_publisher: MakePublisher) -> Publisher:
        return make_publisher()

    @pytest.fixture
    def receive(self, fake: FakeEventHubs, hub: str) -> Receive:
        def receive(count: int, timeout: float = 15.0) -> list[Received]:
            return fake.entities[hub][:count]

        return receive


def test_partition_key_and_attributes(make_publisher: MakePublisher, fake: FakeEventHubs, hub: str) -> None:
    publisher = make_publisher()
    first = publisher.send(b'{"t": 21.5}', {"device": "d1"}, group="d1")
    ids = publisher.send_batch([b"a", b"b"], {"device": "d2"})
    assert len({first, *ids}) == 3
    assert [(r.body, r.attributes, r.group) for r in fake.entities[hub]] == [
        (b'{"t": 21.5}', {"device": "d1"}, "d1"), (b"a", {"device": "d2"}, None), (b"b", {"device": "d2"}, None),
    ]  # fmt: skip


def test_no_key_signs_in_with_the_managed_identity(fake: FakeEventHubs, hub: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import corefn_azure.sinks as azure_sinks

    monkeypatch.delenv("AZURE_EVENTHUB_CONNECTION_STRING")
    monkeypatch.delenv("EventHubConnection", raising=False)
    credential = FakeCredential()
    monkeypatch.setattr(azure_sinks, "_IDENTITY", [credential])
    publisher = EventHubPublisher(make_spec("publisher"), f"eventhub://{HOST}/{hub}", transport=fake)
    publisher.send("one")
    publisher.send("two")
    assert credential.scopes == [TOKEN_SCOPE]  # one token, reused until near expiry
    assert fake.bearer_accepted == 2 and len(fake.entities[hub]) == 2


def test_a_key_for_another_namespace_is_refused_and_a_wrong_key_is_unavailable(fake: FakeEventHubs, hub: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_EVENTHUB_CONNECTION_STRING", CONNECTION.replace(HOST, "other.servicebus.windows.net"))
    with pytest.raises(ConfigurationError, match="AZURE_EVENTHUB_CONNECTION_STRING"):
        EventHubPublisher(make_spec("publisher"), f"eventhub://corefn-test/{hub}", transport=fake)
    monkeypatch.setenv("AZURE_EVENTHUB_CONNECTION_STRING", CONNECTION.replace("SharedAccessKey=", "SharedAccessKey=x"))
    with pytest.raises(SinkUnavailableError):
        EventHubPublisher(make_spec("publisher"), f"eventhub://corefn-test/{hub}", transport=fake).send("x")


def test_url_forms_and_permissions() -> None:
    assert parse_url("eventhub://ns/hub") == ("ns.servicebus.windows.net", "hub")
    assert parse_url("eventhub://ns.servicebus.windows.net/hub") == ("ns.servicebus.windows.net", "hub")
    with pytest.raises(ConfigurationError):
        parse_url("eventhub://ns")
    (grant,) = EventHubPublisher.permissions("eventhub://ns/hub", "publisher")
    assert grant.actions == ("Azure Event Hubs Data Sender",) and grant.resource == "namespaces/ns/eventhubs/hub"


def test_cloudevents_are_amqp_binding_user_properties(fake: FakeEventHubs, hub: str) -> None:
    """Event Hubs speaks AMQP too: ``cloudevents=True`` sends the same ``cloudEvents:`` user
    properties as Service Bus, the group still the partition key (no emulator: the messages built)."""
    from corefn.cloudevents.bindings import from_amqp
    from corefn.events import TopicMessage

    spec = make_spec("publisher", "telemetry", target="stream", cloudevents=True)
    sent = EventHubPublisher(spec, f"eventhub://corefn-test/{hub}", transport=fake).send("21.5", {"unit": "C"}, group="dev-1")
    (message,) = fake.entities[hub]
    assert message.group == "dev-1" and message.body == b"21.5" and message.attributes["cloudEvents:id"] == sent
    event = from_amqp(None, message.attributes, message.body)
    assert isinstance(event, TopicMessage) and event.topic == "telemetry" and event.body.text == "21.5"
    assert event.attributes == {"unit": "C"} and event.group == "dev-1"
