"""Azure Event Hubs as a publisher (``eventhub://namespace/hub``), over its REST send API
(azure-core's HTTP pipeline), the same gateway and message format as Service Bus
(:mod:`corefn_azure.sinks.servicebus`, whose publisher this one specialises).

URL: ``eventhub://namespace/hub`` (``namespace`` short, or a full host such as
``ns.servicebus.windows.net``). Credentials: a shared-access-key connection string of the
namespace in ``AZURE_EVENTHUB_CONNECTION_STRING`` (else ``EventHubConnection``, the generated
trigger's setting, when it holds one); tokens are signed locally (SAS, HMAC-SHA256). Without one,
Microsoft Entra ID: the function's managed identity (scope ``https://eventhubs.azure.net/.default``,
role "Azure Event Hubs Data Sender"; what the generated ARM template grants).

Why REST rather than azure-eventhub's AMQP producer: a function sends a few events per
invocation, and one HTTPS request per send (or batch of up to 100) beats an AMQP connection,
a CBS token exchange and a sender link on every cold start; consumers (the Functions trigger,
azure-eventhub receivers) read REST-sent events like any other
(https://learn.microsoft.com/en-us/rest/api/eventhub/send-event,
https://learn.microsoft.com/en-us/rest/api/eventhub/send-batch-events).

``group`` is the event's partition key (events of one key keep their order); a batch with
attributes carries them as each event's ``UserProperties``. ``send`` returns an id corefn
generates (Event Hubs assigns sequence numbers, which its REST answer does not return).
``cloudevents=True`` sends the AMQP binding's ``cloudEvents:`` user properties, as Service Bus does.
"""

from __future__ import annotations

from typing import Any, ClassVar

from corefn.errors import ConfigurationError
from corefn.sinks.base import Permission
from corefn.specs import SinkSpec
from corefn_azure.sinks import sdk_required
from corefn_azure.sinks.servicebus import ServiceBusPublisher

API_VERSION = "2014-01"
CONNECTION_VARIABLES = ("AZURE_EVENTHUB_CONNECTION_STRING", "EventHubConnection")
TOKEN_SCOPE = "https://eventhubs.azure.net/.default"


def parse_url(url: str) -> tuple[str, str]:
    """(namespace host, hub) from ``eventhub://namespace/hub``."""
    parts = [part for part in url.partition("://")[2].split("?")[0].split("/") if part]
    if len(parts) != 2:
        raise ConfigurationError(f"sink URL {url!r}: use eventhub://NAMESPACE/HUB")
    namespace, hub = parts
    return (namespace if "." in namespace else f"{namespace}.servicebus.windows.net"), hub


class EventHubPublisher(ServiceBusPublisher):
    scheme: ClassVar[str] = "eventhub"
    api_version: ClassVar[str] = API_VERSION
    connection_variables: ClassVar[tuple[str, ...]] = CONNECTION_VARIABLES
    token_scope: ClassVar[str] = TOKEN_SCOPE

    def __init__(self, spec: SinkSpec, url: str, **client_options: Any) -> None:
        host, hub = parse_url(url)
        super().__init__(spec, f"servicebus://{host}/{hub}", **client_options)

    @classmethod
    def permissions(cls, url: str, kind: str) -> list[Permission]:
        host, hub = parse_url(url)
        return [Permission("azure", ("Azure Event Hubs Data Sender",), f"namespaces/{host.split('.')[0]}/eventhubs/{hub}")]

    def _broker(self, message_id: str, group: str | None) -> dict[str, Any]:
        """Only ``PartitionKey`` means something to Event Hubs (the id stays corefn's)."""
        return {"PartitionKey": group} if group else {}


def open_backend(spec: SinkSpec, url: str) -> EventHubPublisher:
    with sdk_required():
        return EventHubPublisher(spec, url)
