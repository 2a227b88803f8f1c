"""``azuredeploy.json`` (everything but the blob triggers' Event Grid subscriptions) and
``eventgrid.json`` (those subscriptions, deployed after the code is published: their webhook
endpoint exists only once the host has loaded the functions,
https://learn.microsoft.com/en-us/azure/azure-functions/functions-event-grid-blob-trigger).

Design (the README says the same to the user):

- two storage accounts: the runtime's (``AzureWebJobsStorage__accountName``: keys, leases,
  checkpoints, deployment packages) and the app's data (its containers, queues, tables), so the
  host's account-wide roles never reach the app's data; both refuse shared keys
  (``allowSharedKeyAccess: false``): every connection is the function's managed identity;
- Cosmos DB, Event Hubs and Service Bus only when the app declares them, local auth disabled;
- one Flex Consumption app per handler (see :mod:`corefn_azure._roles`), a system-assigned
  identity each, role assignments scoped to each resource the handler uses;
- every ``COREFN_SINK_*`` set: a URL naming account and resource (no key: managed identity), or
  a Key Vault reference (``@Microsoft.KeyVault(...)``) for SQL and cache URLs, whose values
  are ``secureString`` parameters written into the vault by the deployment;
- Application Insights with local auth disabled (Entra-authenticated telemetry);
- ``prefix`` (stage) parameter in every name, so dev and prod coexist in one subscription.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from corefn.policy import retry_policy
from corefn_azure._flow_functions import FLOW_GROUP, FLOW_SERVICES
from corefn_azure._roles import (
    API_KEY_SECRET,
    HOST_ROLES,
    ROLE_IDS,
    Need,
    azure_name,
    dead_letter_container,
    handler_needs,
    secret_name,
    sink_service,
)

if TYPE_CHECKING:
    from corefn.app import App
    from corefn.specs import HandlerSpec
    from corefn_azure.generator import FunctionPlan

SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
API = {
    "storage": "2023-05-01", "web": "2024-04-01", "insights": "2020-02-02", "logs": "2023-09-01",
    "keyvault": "2023-07-01", "eventhub": "2024-01-01", "servicebus": "2022-10-01-preview",
    "cosmos": "2024-05-15", "roles": "2022-04-01", "eventgrid": "2022-06-15",
}  # fmt: skip
DEFAULT_MEMORY_MB = 2048
#: secrets carry an expiry date (checkov CKV_AZURE_41): 2100-01-01, rotate by redeploying
SECRET_EXPIRY = 4102444800
#: Flex Consumption instance sizes (https://learn.microsoft.com/en-us/azure/azure-functions/flex-consumption-plan#instance-memory)
INSTANCE_MEMORY = (512, 2048, 4096)


def _p(name: str) -> str:
    return f"parameters('{name}')"


def _v(name: str) -> str:
    return f"variables('{name}')"


def app_groups(app: App, functions: list[FunctionPlan]) -> dict[str, list[FunctionPlan]]:
    """Function app key → the functions it runs (one per handler unless ``function_app=``)."""
    groups: dict[str, list[FunctionPlan]] = {}
    for fn in functions:
        spec = app.handler(fn.handler)
        opts = {**app.defaults.provider.get("azure", {}), **spec.options.provider.get("azure", {})}
        key = azure_name("container", str(opts.get("function_app", fn.name)))[:30] if fn.service not in FLOW_SERVICES else FLOW_GROUP
        groups.setdefault(key, []).append(fn)
    return groups


class Arm:
    """Builds one template: parameters, variables, resources."""

    def __init__(self, app: App, functions: list[FunctionPlan], app_ref: str) -> None:
        self.app, self.functions, self.app_ref = app, functions, app_ref
        self.groups = app_groups(app, functions)
        self.specs = {s.name: s for s in app.handlers}
        self.resources: list[dict[str, Any]] = []
        self.ids: dict[tuple[str, str], str] = {}  # (kind, name) → resourceId expression
        self.parameters: dict[str, Any] = {
            "prefix": {"type": "string", "defaultValue": "dev", "minLength": 1, "maxLength": 12,
                       "metadata": {"description": "Stage / name prefix: dev and prod coexist in one subscription"}},
            "location": {"type": "string", "defaultValue": "[resourceGroup().location]"},
        }  # fmt: skip
        self.variables: dict[str, Any] = {
            "suffix": "[uniqueString(resourceGroup().id, parameters('prefix'))]",
            "short": "[take(toLower(replace(parameters('prefix'), '-', '')), 8)]",
            "hostAccount": "[concat(variables('short'), 'h', variables('suffix'))]",
            "dataAccount": "[concat(variables('short'), 'd', variables('suffix'))]",
        }

    # ------------------------------------------------------------------ helpers

    def add(self, kind: str, name: str, resource: dict[str, Any], rid: str) -> None:
        self.resources.append(resource)
        self.ids[(kind, name)] = rid

    def need_scope(self, need: Need) -> str:
        rid = self.ids.get((need.kind, need.name))
        if rid is None:
            raise KeyError(f"no resource for {need}")
        return rid

    # ---------------------------------------------------------------- resources

    def storage(self) -> None:
        for which in ("hostAccount", "dataAccount"):
            self.resources.append({
                "type": "Microsoft.Storage/storageAccounts", "apiVersion": API["storage"], "name": f"[{_v(which)}]",
                "location": f"[{_p('location')}]", "kind": "StorageV2", "sku": {"name": "Standard_LRS"},
                "properties": {
                    "allowSharedKeyAccess": False, "allowBlobPublicAccess": False, "minimumTlsVersion": "TLS1_2",
                    "supportsHttpsTrafficOnly": True, "defaultToOAuthAuthentication": True,
                    "encryption": {"keySource": "Microsoft.Storage", "requireInfrastructureEncryption": True,
                                   "services": {"blob": {"enabled": True}, "file": {"enabled": True},
                                                "queue": {"enabled": True, "keyType": "Account"},
                                                "table": {"enabled": True, "keyType": "Account"}}},
                },
            })  # fmt: skip
        self.ids[("hoststorage", "")] = f"resourceId('Microsoft.Storage/storageAccounts', {_v('hostAccount')})"
        # children nest in their service resource: their names are then plain literals, within
        # the schema's length rules (an expression for "account/default/name" is not)
        host = self.service("host", "blobServices", {})
        data_blobs = self.service("data", "blobServices", {"deleteRetentionPolicy": {"enabled": True, "days": 7}})
        queues = self.service("data", "queueServices", {})
        tables = self.service("data", "tableServices", {})
        for group in self.groups:
            self.child(host, "host", "blobServices", "containers", f"deploy-{group}")
        if any(f.service == "blob" for f in self.functions):
            from corefn_azure._arm_eventgrid import EVENT_GRID_DEAD_LETTERS

            self.child(data_blobs, "data", "blobServices", "containers", EVENT_GRID_DEAD_LETTERS)
        for kind, name in sorted(self.wanted()):
            parent, service, child = {"container": (data_blobs, "blobServices", "containers"),
                                      "queue": (queues, "queueServices", "queues"),
                                      "table": (tables, "tableServices", "tables")}[kind]  # fmt: skip
            self.child(parent, "data", service, child, name)
        for parent in (queues, tables):
            if parent["resources"]:
                self.resources.append(parent)

    def service(self, account: str, service: str, properties: dict[str, Any]) -> dict[str, Any]:
        var = _v("hostAccount" if account == "host" else "dataAccount")
        resource: dict[str, Any] = {
            "type": f"Microsoft.Storage/storageAccounts/{service}", "apiVersion": API["storage"],
            "name": f"[concat({var}, '/default')]", "dependsOn": [f"[resourceId('Microsoft.Storage/storageAccounts', {var})]"],
            "properties": properties, "resources": [],
        }  # fmt: skip
        if service == "blobServices":
            self.resources.append(resource)
        return resource

    def child(self, parent: dict[str, Any], account: str, service: str, child: str, name: str) -> None:
        var = _v("hostAccount" if account == "host" else "dataAccount")
        body: dict[str, Any] = {"type": child, "apiVersion": API["storage"], "name": name,
                                "dependsOn": [f"[resourceId('Microsoft.Storage/storageAccounts/{service}', {var}, 'default')]"]}  # fmt: skip
        body["properties"] = {"publicAccess": "None"} if child == "containers" else {}
        parent["resources"].append(body)
        kind = {"containers": "container", "queues": "queue", "tables": "table"}[child]
        self.ids[(kind if account == "data" else f"host{kind}", name)] = (
            f"resourceId('Microsoft.Storage/storageAccounts/{service}/{child}', {var}, 'default', '{name}')"
        )

    def wanted(self) -> set[tuple[str, str]]:
        """Every data resource the app declares or its handlers need."""
        found: set[tuple[str, str]] = set()
        for spec in self.app.handlers:
            found.update((n.kind, n.name) for n in handler_needs(self.app, spec))
        for sink in self.app.sinks:
            from corefn_azure._roles import sink_needs

            found.update((n.kind, n.name) for n in sink_needs(self.app, sink))
        for spec in self.app.handlers:
            if spec.kind == "queue" and (spec.options.provider.get("azure", {}).get("service", "storage") == "storage"):
                found.add(("queue", azure_name("queue", spec.resource or "")))
        return {(k, n) for k, n in found if k in ("container", "queue", "table")}

    def messaging(self) -> None:
        wanted: set[tuple[str, str]] = set()
        for spec in self.app.handlers:
            wanted.update((n.kind, n.name) for n in handler_needs(self.app, spec))
        from corefn_azure._roles import sink_needs

        for sink in self.app.sinks:
            wanted.update((n.kind, n.name) for n in sink_needs(self.app, sink))
        hubs = sorted(n for k, n in wanted if k == "eventhub")
        if hubs:
            ns = f"concat({_v('short')}, '-eh-', {_v('suffix')})"
            self.variables["eventHubNamespace"] = f"[{ns}]"
            nsid = f"resourceId('Microsoft.EventHub/namespaces', {_v('eventHubNamespace')})"
            self.resources.append({
                "type": "Microsoft.EventHub/namespaces", "apiVersion": API["eventhub"], "name": f"[{_v('eventHubNamespace')}]",
                "location": f"[{_p('location')}]", "sku": {"name": "Standard", "tier": "Standard", "capacity": 1},
                "properties": {"disableLocalAuth": True, "minimumTlsVersion": "1.2"},
            })  # fmt: skip
            for hub in hubs:
                self.add("eventhub", hub, {
                    "type": "Microsoft.EventHub/namespaces/eventhubs", "apiVersion": API["eventhub"],
                    "name": f"[concat({_v('eventHubNamespace')}, '/{hub}')]", "dependsOn": [f"[{nsid}]"],
                    "properties": {"partitionCount": 2, "messageRetentionInDays": 1},
                }, f"resourceId('Microsoft.EventHub/namespaces/eventhubs', {_v('eventHubNamespace')}, '{hub}')")  # fmt: skip
        sb = sorted((k, n) for k, n in wanted if k in ("sbqueue", "sbtopic"))
        if sb:
            self.variables["serviceBusNamespace"] = f"[concat({_v('short')}, '-sb-', {_v('suffix')})]"
            nsid = f"resourceId('Microsoft.ServiceBus/namespaces', {_v('serviceBusNamespace')})"
            self.resources.append({
                "type": "Microsoft.ServiceBus/namespaces", "apiVersion": API["servicebus"], "name": f"[{_v('serviceBusNamespace')}]",
                "location": f"[{_p('location')}]", "sku": {"name": "Standard", "tier": "Standard"},
                "properties": {"disableLocalAuth": True, "minimumTlsVersion": "1.2"},
            })  # fmt: skip
            for kind, name in sb:
                child = "queues" if kind == "sbqueue" else "topics"
                body: dict[str, Any] = {
                    "type": f"Microsoft.ServiceBus/namespaces/{child}", "apiVersion": API["servicebus"],
                    "name": f"[concat({_v('serviceBusNamespace')}, '/{name}')]", "dependsOn": [f"[{nsid}]"],
                    "properties": self.servicebus_properties(kind, name, sb),
                }  # fmt: skip
                if kind == "sbtopic":
                    body["resources"] = self.subscriptions(name, sb)
                self.add(kind, name, body, f"resourceId('Microsoft.ServiceBus/namespaces/{child}', {_v('serviceBusNamespace')}, '{name}')")

    def subscriptions(self, topic: str, entities: list[tuple[str, str]]) -> list[dict[str, Any]]:
        """The topic's subscriptions, one per topic handler (named as the generated trigger
        names it), nested so their names are plain literals."""
        from corefn_azure.policy import compile_policy

        out = []
        for spec in self.app.handlers:
            opts = {**self.app.defaults.provider.get("azure", {}), **spec.options.provider.get("azure", {})}
            if spec.kind != "topic" or azure_name("queue", opts.get("topic_name", spec.resource or "")) != topic:
                continue
            compiled = compile_policy(self.app, retry_policy(self.app, spec)).settings
            out.append({
                "type": "subscriptions", "apiVersion": API["servicebus"],
                "name": getattr(spec.trigger, "subscription", None) or spec.name,
                "dependsOn": [f"[resourceId('Microsoft.ServiceBus/namespaces/topics', {_v('serviceBusNamespace')}, '{topic}')]"],
                "properties": {"maxDeliveryCount": compiled["maxDeliveryCount"], "deadLetteringOnMessageExpiration": True,
                               "requiresSession": bool(spec.options.ordered), **self.forward(compiled, entities)},
            })  # fmt: skip
        return out

    @staticmethod
    def forward(compiled: Any, entities: list[tuple[str, str]]) -> dict[str, str]:
        """``forwardDeadLetteredMessagesTo`` when the handler's dead letter is a Service Bus
        entity of this namespace (else the entity's own dead-letter sub-queue keeps them)."""
        dead = compiled.get("DeadLetter") or {}
        name = azure_name("queue", dead["name"]) if dead.get("name") else None
        return {"forwardDeadLetteredMessagesTo": name} if name and any(n == name for _, n in entities) else {}

    def servicebus_properties(self, kind: str, name: str, entities: list[tuple[str, str]]) -> dict[str, Any]:
        from corefn_azure.policy import compile_policy

        if kind != "sbqueue":
            return {}
        for spec in self.app.handlers:
            if spec.kind == "queue" and azure_name("queue", spec.resource or "") == name:
                compiled = compile_policy(self.app, retry_policy(self.app, spec)).settings
                return {"maxDeliveryCount": compiled["maxDeliveryCount"], "deadLetteringOnMessageExpiration": True,
                        "requiresSession": bool(spec.options.ordered), **self.forward(compiled, entities)}  # fmt: skip
        return {}

    def cosmos(self) -> None:
        wanted: set[tuple[str, str]] = set()
        for spec in self.app.handlers:
            wanted.update((n.kind, n.name) for n in handler_needs(self.app, spec))
        containers: dict[str, Any] = {s.name: s for s in self.app.sinks if s.kind == "table" and sink_service(self.app, s) == "cosmos"}
        for spec in self.app.handlers:  # a change feed on a container the app does not write
            if spec.kind == "nosql" and spec.resource and spec.resource not in containers:
                containers[spec.resource] = None
        if not containers:
            return
        self.variables["cosmosAccount"] = f"[concat({_v('short')}, '-cosmos-', {_v('suffix')})]"
        account = f"resourceId('Microsoft.DocumentDB/databaseAccounts', {_v('cosmosAccount')})"
        database = azure_name("container", self.app.name)
        self.resources.append({
            "type": "Microsoft.DocumentDB/databaseAccounts", "apiVersion": API["cosmos"], "name": f"[{_v('cosmosAccount')}]",
            "location": f"[{_p('location')}]", "kind": "GlobalDocumentDB",
            "properties": {"databaseAccountOfferType": "Standard", "disableLocalAuth": True, "disableKeyBasedMetadataWriteAccess": True,
                           "minimalTlsVersion": "Tls12", "capabilities": [{"name": "EnableServerless"}],
                           "locations": [{"locationName": f"[{_p('location')}]", "failoverPriority": 0}]},
        })  # fmt: skip
        dbid = f"resourceId('Microsoft.DocumentDB/databaseAccounts/sqlDatabases', {_v('cosmosAccount')}, '{database}')"
        self.add("cosmosdb", database, {
            "type": "Microsoft.DocumentDB/databaseAccounts/sqlDatabases", "apiVersion": API["cosmos"],
            "name": f"[concat({_v('cosmosAccount')}, '/{database}')]", "dependsOn": [f"[{account}]"],
            "properties": {"resource": {"id": database}},
        }, dbid)  # fmt: skip
        if any(spec.kind == "nosql" for spec in self.app.handlers):
            # the change feed's lease container: with data-plane RBAC only, the trigger cannot create it
            # (https://learn.microsoft.com/en-us/azure/azure-functions/functions-bindings-cosmosdb-v2-trigger#connections)
            self.add("cosmoscontainer", "leases", {
                "type": "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers", "apiVersion": API["cosmos"],
                "name": f"[concat({_v('cosmosAccount')}, '/{database}/leases')]", "dependsOn": [f"[{dbid}]"],
                "properties": {"resource": {"id": "leases", "partitionKey": {"paths": ["/id"], "kind": "Hash"}}},
            }, f"resourceId('Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers', {_v('cosmosAccount')}, '{database}', 'leases')")  # fmt: skip
        for name, sink in sorted(containers.items()):
            key = str(sink.options.get("key", "id")) if sink is not None else "id"
            cname = azure_name("container", name)
            self.add("cosmoscontainer", cname, {
                "type": "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers", "apiVersion": API["cosmos"],
                "name": f"[concat({_v('cosmosAccount')}, '/{database}/{cname}')]", "dependsOn": [f"[{dbid}]"],
                "properties": {"resource": {"id": cname, "partitionKey": {"paths": [f"/{key}"], "kind": "Hash"}}},
            }, f"resourceId('Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers', {_v('cosmosAccount')}, '{database}', '{cname}')")  # fmt: skip

    def vault_and_insights(self) -> None:
        secrets = [s for s in self.app.sinks if sink_service(self.app, s) == "secret"]
        self.variables["vault"] = f"[concat({_v('short')}, '-kv-', take({_v('suffix')}, 10))]"
        vault = f"resourceId('Microsoft.KeyVault/vaults', {_v('vault')})"
        self.resources.append({
            "type": "Microsoft.KeyVault/vaults", "apiVersion": API["keyvault"], "name": f"[{_v('vault')}]",
            "location": f"[{_p('location')}]",
            "properties": {"tenantId": "[subscription().tenantId]", "sku": {"family": "A", "name": "standard"},
                           "enableRbacAuthorization": True, "enableSoftDelete": True, "softDeleteRetentionInDays": 7,
                           "enablePurgeProtection": True, "publicNetworkAccess": "Enabled"},
        })  # fmt: skip
        for sink in secrets:
            param = f"secret{''.join(p.capitalize() for p in secret_name(sink).split('-')[2:])}"
            self.parameters[param] = {"type": "securestring", "metadata": {"description": f"URL of sink {sink.name!r} (kept in Key Vault as {secret_name(sink)})"}}
            self.add("secret", secret_name(sink), {
                "type": "Microsoft.KeyVault/vaults/secrets", "apiVersion": API["keyvault"],
                "name": f"[concat({_v('vault')}, '/{secret_name(sink)}')]", "dependsOn": [f"[{vault}]"],
                "properties": {"value": f"[{_p(param)}]", "contentType": "text/plain",
                               "attributes": {"exp": SECRET_EXPIRY}},
            }, f"resourceId('Microsoft.KeyVault/vaults/secrets', {_v('vault')}, '{secret_name(sink)}')")  # fmt: skip
        if any(s.kind == "http" and s.options.api_key for s in self.app.handlers):
            self.parameters["apiKey"] = {"type": "securestring", "minLength": 16,
                                         "metadata": {"description": f"The API key clients send (kept in Key Vault as {API_KEY_SECRET})"}}
            self.add("secret", API_KEY_SECRET, {
                "type": "Microsoft.KeyVault/vaults/secrets", "apiVersion": API["keyvault"],
                "name": f"[concat({_v('vault')}, '/{API_KEY_SECRET}')]", "dependsOn": [f"[{vault}]"],
                "properties": {"value": f"[{_p('apiKey')}]", "contentType": "text/plain", "attributes": {"exp": SECRET_EXPIRY}},
            }, f"resourceId('Microsoft.KeyVault/vaults/secrets', {_v('vault')}, '{API_KEY_SECRET}')")  # fmt: skip
        self.resources.append({
            "type": "Microsoft.OperationalInsights/workspaces", "apiVersion": API["logs"], "name": f"[concat({_p('prefix')}, '-logs-', {_v('suffix')})]",
            "location": f"[{_p('location')}]", "properties": {"sku": {"name": "PerGB2018"}, "retentionInDays": 30},
        })  # fmt: skip
        workspace = f"resourceId('Microsoft.OperationalInsights/workspaces', concat({_p('prefix')}, '-logs-', {_v('suffix')}))"
        self.variables["insights"] = f"[concat({_p('prefix')}, '-insights-', {_v('suffix')})]"
        self.add("insights", "", {
            "type": "Microsoft.Insights/components", "apiVersion": API["insights"], "name": f"[{_v('insights')}]",
            "location": f"[{_p('location')}]", "kind": "web", "dependsOn": [f"[{workspace}]"],
            "properties": {"Application_Type": "web", "WorkspaceResourceId": f"[{workspace}]", "DisableLocalAuth": True},
        }, f"resourceId('Microsoft.Insights/components', {_v('insights')})")  # fmt: skip

    def function_apps(self) -> None:
        from corefn_azure._arm_apps import function_app

        for group, functions in self.groups.items():
            specs = [self.specs[f.handler] for f in functions]
            function_app(self, group, functions, specs)

    def build(self) -> dict[str, Any]:
        self.storage()
        self.messaging()
        self.cosmos()
        self.vault_and_insights()
        self.function_apps()
        return {
            "$schema": SCHEMA, "contentVersion": "1.0.0.0",
            "metadata": {"description": f"corefn app {self.app.name!r} ({self.app_ref}) on Azure Functions Flex Consumption; see README.md"},
            "parameters": self.parameters, "variables": self.variables, "resources": self.resources,
            "outputs": {f"url_{g}": {"type": "string", "value": f"[concat('https://', reference(resourceId('Microsoft.Web/sites', concat({_p('prefix')}, '-{g}-', {_v('suffix')})), '{API['web']}').defaultHostName)]"}
                        for g, fns in self.groups.items() if any(f.service == "http" for f in fns)},
        }  # fmt: skip


def azuredeploy(app: App, functions: list[FunctionPlan], app_ref: str) -> dict[str, Any]:
    return Arm(app, functions, app_ref).build()


def needs_of(app: App, specs: list[HandlerSpec]) -> list[Need]:
    found: set[Need] = set()
    for spec in specs:
        found.update(handler_needs(app, spec))
    return sorted(found)


__all__ = ["HOST_ROLES", "ROLE_IDS", "azuredeploy", "dead_letter_container", "needs_of"]
