"""What each handler's identity needs on Azure: built-in roles, each on one resource, worked out
from its trigger, its ``uses=`` sinks and its dead letter. The ARM generator assigns exactly
these (and the host's own roles on the runtime storage account); the tests check that every
assignment in the template is one of them.

Identity: a function app has one identity, shared by every function it hosts. corefn therefore
deploys **one function app per handler** (each with its own system-assigned identity, plan and
deployment container), all running the same package; an app disables the functions that are
not its own (``AzureWebJobs.<name>.Disabled``,
https://learn.microsoft.com/en-us/azure/azure-functions/disable-function). Handlers that share
``provider={"azure": {"function_app": "NAME"}}`` share one app and the union of their roles
(one host name for an HTTP API, at the price of a shared identity).

Roles per binding (https://learn.microsoft.com/en-us/azure/azure-functions/functions-reference#grant-permission-to-the-identity
and each binding's "identity-based connections" section); Cosmos DB data roles are its own
``sqlRoleDefinitions`` (https://learn.microsoft.com/en-us/azure/cosmos-db/how-to-setup-rbac).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from corefn.policy import retry_policy, used_sinks

if TYPE_CHECKING:
    from corefn.app import App
    from corefn.specs import HandlerSpec, SinkSpec

#: built-in role name → role definition id (https://learn.microsoft.com/en-us/azure/role-based-access-control/built-in-roles)
ROLE_IDS: dict[str, str] = {
    "Storage Blob Data Owner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Storage Queue Data Contributor": "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
    "Storage Queue Data Message Processor": "8a0f0c08-91a1-4084-bc3d-661d67233fed",
    "Storage Queue Data Message Sender": "c6a89b2d-59bc-44d0-9896-0f6e12d7b80a",
    "Storage Queue Data Reader": "19e7f393-937e-4f77-808e-94535e297925",
    "Storage Table Data Contributor": "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
    "Azure Event Hubs Data Receiver": "a638d3c7-ab3a-418d-83e6-5f17a39d4fde",
    "Azure Event Hubs Data Sender": "2b629674-e913-4c01-ae53-ef4638d8f975",
    "Azure Service Bus Data Receiver": "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0",
    "Azure Service Bus Data Sender": "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39",
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
    "Monitoring Metrics Publisher": "3913510d-42f4-4e42-8a64-420c390055eb",
    # Cosmos DB's data-plane roles (sqlRoleDefinitions of the account)
    "Cosmos DB Built-in Data Contributor": "00000000-0000-0000-0000-000000000002",
}
#: the host's own roles on the runtime storage account (AzureWebJobsStorage: keys, leases,
#: checkpoints, the deployment package) and on Application Insights (Entra-authenticated telemetry)
HOST_ROLES = (
    ("Storage Blob Data Owner", "hoststorage", ""),
    ("Storage Queue Data Contributor", "hoststorage", ""),
    ("Storage Table Data Contributor", "hoststorage", ""),
    ("Monitoring Metrics Publisher", "insights", ""),
)
#: the blob trigger's poison queue (https://learn.microsoft.com/en-us/azure/azure-functions/functions-bindings-storage-blob-trigger#poison-blobs)
BLOB_POISON_QUEUE = "webjobs-blobtrigger-poison"
#: the Key Vault secret holding the app's API key (``App.api_key_env``)
API_KEY_SECRET = "corefn-api-key"


@dataclass(frozen=True, order=True, slots=True)
class Need:
    """One role on one resource: ``kind`` is container, queue, table, eventhub, sbqueue,
    sbtopic, sbsubscription, cosmoscontainer, cosmosdb, secret (``name`` its Azure name)."""

    role: str
    kind: str
    name: str


def azure_name(kind: str, name: str) -> str:
    """A corefn name as Azure accepts it: tables are letters and digits only
    (https://learn.microsoft.com/en-us/rest/api/storageservices/understanding-the-table-service-data-model#table-names);
    containers and queues are lower case with single hyphens."""
    if kind == "table":
        clean = re.sub(r"[^A-Za-z0-9]", "", name)
        return clean if clean[:1].isalpha() else f"t{clean}"
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", name.lower())).strip("-")


def sink_service(app: App, sink: SinkSpec) -> str:
    """Which Azure service backs a sink: ``table`` sinks are Table Storage unless a change-feed
    handler reads them or they ask for Cosmos DB; publishers follow their target (queue: Queue
    Storage unless ``service="servicebus"``; topic: Service Bus; stream: Event Hubs)."""
    wanted = sink.options.get("azure_service")
    if sink.kind == "object":
        return "blob"
    if sink.kind == "table":
        fed = any(h.kind == "nosql" and h.resource == sink.name for h in app.handlers)
        return "cosmos" if fed or wanted == "cosmos" else "table"
    if sink.kind == "publisher":
        target = sink.resource_type
        readers = {h.kind for h in app.handlers if h.resource == sink.name}
        if target == "stream" or "stream" in readers:
            return "eventhub"
        if target == "topic" or wanted == "servicebus" or "topic" in readers:
            return "servicebus"
        return "queue"
    return "secret"  # sql, cache: a URL with a password, kept in Key Vault


def sink_needs(app: App, sink: SinkSpec) -> list[Need]:
    service = sink_service(app, sink)
    if service == "blob":
        return [Need("Storage Blob Data Contributor", "container", azure_name("container", sink.name))]
    if service == "table":
        return [Need("Storage Table Data Contributor", "table", azure_name("table", sink.name))]
    if service == "cosmos":
        return [Need("Cosmos DB Built-in Data Contributor", "cosmoscontainer", azure_name("container", sink.name))]
    if service == "eventhub":
        return [Need("Azure Event Hubs Data Sender", "eventhub", azure_name("queue", sink.name))]
    if service == "servicebus":
        kind = "sbtopic" if sink.resource_type == "topic" else "sbqueue"
        return [Need("Azure Service Bus Data Sender", kind, azure_name("queue", sink.name))]
    if service == "queue":
        return [Need("Storage Queue Data Message Sender", "queue", azure_name("queue", sink.name))]
    return [Need("Key Vault Secrets User", "secret", secret_name(sink))]


def secret_name(sink: SinkSpec) -> str:
    """Key Vault secret names are letters, digits and hyphens."""
    return "corefn-sink-" + re.sub(r"[^A-Za-z0-9-]", "-", sink.name).lower()


def dead_letter_container(spec: HandlerSpec) -> str:
    return azure_name("container", f"deadletter-{spec.name}")[:63]


def trigger_needs(app: App, spec: HandlerSpec) -> list[Need]:
    from corefn_azure.policy import compile_policy

    opts = {**app.defaults.provider.get("azure", {}), **spec.options.provider.get("azure", {})}
    kind, resource = spec.kind, spec.resource or ""
    if kind == "storage":
        return [Need("Storage Blob Data Owner", "container", azure_name("container", opts.get("container", resource))),
                Need("Storage Queue Data Contributor", "queue", BLOB_POISON_QUEUE)]  # fmt: skip
    if kind == "queue" and opts.get("service", "storage") == "storage":
        queue = azure_name("queue", opts.get("queue_name", resource))
        return [Need("Storage Queue Data Reader", "queue", queue), Need("Storage Queue Data Message Processor", "queue", queue),
                Need("Storage Queue Data Message Sender", "queue", f"{queue}-poison")]  # fmt: skip
    if kind == "queue":
        return [Need("Azure Service Bus Data Receiver", "sbqueue", azure_name("queue", opts.get("queue_name", resource)))]
    if kind == "topic":
        return [Need("Azure Service Bus Data Receiver", "sbtopic", azure_name("queue", opts.get("topic_name", resource)))]
    needs: list[Need] = []
    if kind == "stream":
        needs.append(Need("Azure Event Hubs Data Receiver", "eventhub", azure_name("queue", opts.get("event_hub_name", resource))))
    elif kind == "nosql":
        needs.append(Need("Cosmos DB Built-in Data Contributor", "cosmosdb", azure_name("container", str(opts.get("database", app.name)))))
    else:
        return needs
    dead = compile_policy(app, retry_policy(app, spec)).settings["DeadLetter"]
    if dead["kind"] == "bucket":
        needs.append(Need("Storage Blob Data Contributor", "container", azure_name("container", dead["name"]) if dead["name"] else dead_letter_container(spec)))
    else:
        needs.append(Need("Storage Queue Data Message Sender", "queue", azure_name("queue", dead["name"])))
    return needs


def handler_needs(app: App, spec: HandlerSpec) -> list[Need]:
    """Every role the handler's function needs, sorted and without repeats."""
    found = set(trigger_needs(app, spec))
    if spec.kind == "http" and spec.options.api_key:
        found.add(Need("Key Vault Secrets User", "secret", API_KEY_SECRET))
    for sink in used_sinks(app, spec):
        found.update(sink_needs(app, sink))
    owned = {(n.kind, n.name) for n in found if n.role == "Storage Blob Data Owner"}
    return sorted(n for n in found if not (n.role == "Storage Blob Data Contributor" and (n.kind, n.name) in owned))
