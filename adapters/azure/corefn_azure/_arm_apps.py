"""One Flex Consumption function app of ``azuredeploy.json``: its plan, the app with a
system-assigned identity, its identity-based connection settings, every ``COREFN_SINK_*``, the
``AzureWebJobs.<name>.Disabled`` settings of the functions it does not own, and its role
assignments (the host's on the runtime account and Application Insights, then each handler's
needs from :mod:`corefn_azure._roles`).

Settings rules:

- Flex Consumption takes the language and version from ``functionAppConfig.runtime`` and
  refuses ``FUNCTIONS_WORKER_RUNTIME`` and ``FUNCTIONS_EXTENSION_VERSION`` as settings
  (https://learn.microsoft.com/en-us/azure/azure-functions/flex-consumption-plan#deprecated-properties-and-settings);
- identity-based connections are ``<CONNECTION>__accountName`` (storage),
  ``__fullyQualifiedNamespace`` (Event Hubs, Service Bus), ``__accountEndpoint`` (Cosmos DB)
  (https://learn.microsoft.com/en-us/azure/azure-functions/functions-reference#configure-an-identity-based-connection);
- Key Vault references ``@Microsoft.KeyVault(VaultName=...;SecretName=...)`` are resolved by the
  platform with the app's identity
  (https://learn.microsoft.com/en-us/azure/app-service/app-service-key-vault-references).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from corefn_azure._flow_functions import arm_settings
from corefn_azure._roles import API_KEY_SECRET, HOST_ROLES, ROLE_IDS, Need, azure_name, secret_name, sink_service

if TYPE_CHECKING:
    from corefn.specs import HandlerSpec
    from corefn_azure._arm import Arm
    from corefn_azure.generator import FunctionPlan

COSMOS_ROLE_PREFIX = "Cosmos DB"


def _connections(functions: list[FunctionPlan]) -> dict[str, str]:
    """connection setting name → service, from the generated decorators."""
    found: dict[str, str] = {}
    for fn in functions:
        match = re.search(r'connection="([^"]+)"', fn.decorator)
        if match:
            found[match[1]] = fn.service
    return found


def sink_url(arm: Arm, sink: Any) -> str:
    """The ``COREFN_SINK_*`` value: an ARM expression naming account and resource (no key: the
    backend authenticates with the managed identity), or a Key Vault reference."""
    from corefn_azure._arm import _v

    service = sink_service(arm.app, sink)
    if service == "blob":
        return f"[concat('az://', {_v('dataAccount')}, '/{azure_name('container', sink.name)}')]"
    if service == "table":
        return f"[concat('aztable://', {_v('dataAccount')}, '/{azure_name('table', sink.name)}')]"
    if service == "queue":
        return f"[concat('azqueue://', {_v('dataAccount')}, '/{azure_name('queue', sink.name)}')]"
    if service == "eventhub":
        return f"[concat('eventhub://', {_v('eventHubNamespace')}, '.servicebus.windows.net/{azure_name('queue', sink.name)}')]"
    if service == "servicebus":
        return f"[concat('servicebus://', {_v('serviceBusNamespace')}, '.servicebus.windows.net/{azure_name('queue', sink.name)}')]"
    if service == "cosmos":
        database = azure_name("container", arm.app.name)
        return f"[concat('cosmos://', {_v('cosmosAccount')}, '.documents.azure.com/{database}/{azure_name('container', sink.name)}')]"
    return f"[concat('@Microsoft.KeyVault(VaultName=', {_v('vault')}, ';SecretName={secret_name(sink)})')]"


def app_settings(arm: Arm, group: str, functions: list[FunctionPlan]) -> list[dict[str, str]]:
    from corefn.loader import bundled_ref
    from corefn_azure._arm import _v

    settings: dict[str, str] = {
        "AzureWebJobsStorage__accountName": f"[{_v('hostAccount')}]",
        "APPLICATIONINSIGHTS_CONNECTION_STRING": f"[reference(resourceId('Microsoft.Insights/components', {_v('insights')}), '2020-02-02').ConnectionString]",
        "APPLICATIONINSIGHTS_AUTHENTICATION_STRING": "Authorization=AAD",
        "COREFN_APP": bundled_ref(arm.app_ref),
        "COREFN_STAGE": "[parameters('prefix')]",
        **arm_settings(arm.app, functions),  # the flows' task hub, and whether this app runs Durable functions
    }
    for name, service in sorted(_connections(functions).items()):
        if service in ("blob", "queue"):
            settings[f"{name}__accountName"] = f"[{_v('dataAccount')}]"
        elif service == "eventhub":
            settings[f"{name}__fullyQualifiedNamespace"] = f"[concat({_v('eventHubNamespace')}, '.servicebus.windows.net')]"
        elif service == "servicebus":
            settings[f"{name}__fullyQualifiedNamespace"] = f"[concat({_v('serviceBusNamespace')}, '.servicebus.windows.net')]"
        elif service == "cosmos":
            settings[f"{name}__accountEndpoint"] = f"[concat('https://', {_v('cosmosAccount')}, '.documents.azure.com:443/')]"
    for sink in arm.app.sinks:
        settings[sink.env_var] = sink_url(arm, sink)
    if any(arm.specs[f.handler].kind == "http" and arm.specs[f.handler].options.api_key for f in functions):
        settings[arm.app.api_key_env] = f"[concat('@Microsoft.KeyVault(VaultName=', {_v('vault')}, ';SecretName={API_KEY_SECRET})')]"
    own = {f.name for f in functions}
    for other in arm.functions:
        if other.name not in own:
            settings[f"AzureWebJobs.{other.name}.Disabled"] = "true"
    for fn in functions:
        spec = arm.specs[fn.handler]
        if spec.kind in ("stream", "nosql"):
            from corefn_azure.deadletter import setting_name

            settings[setting_name(fn.handler)] = dead_letter_url(arm, spec)
    return [{"name": k, "value": v} for k, v in settings.items()]


def dead_letter_url(arm: Arm, spec: HandlerSpec) -> str:
    """Where corefn writes a stream or change-feed record whose retries are spent."""
    from corefn.policy import retry_policy
    from corefn_azure._arm import _v
    from corefn_azure._roles import dead_letter_container
    from corefn_azure.policy import compile_policy

    dead = compile_policy(arm.app, retry_policy(arm.app, spec)).settings["DeadLetter"]
    if dead["kind"] == "queue":
        return f"[concat('azqueue://', {_v('dataAccount')}, '/{azure_name('queue', dead['name'])}')]"
    name = azure_name("container", dead["name"]) if dead["name"] else dead_letter_container(spec)
    return f"[concat('az://', {_v('dataAccount')}, '/{name}')]"


def instance_memory(specs: list[HandlerSpec]) -> int:
    from corefn_azure._arm import DEFAULT_MEMORY_MB, INSTANCE_MEMORY

    wanted = max([s.options.memory or DEFAULT_MEMORY_MB for s in specs] or [DEFAULT_MEMORY_MB])
    return next((size for size in INSTANCE_MEMORY if size >= wanted), INSTANCE_MEMORY[-1])


def role_assignment(arm: Arm, site: str, principal: str, need: Need, scope: str) -> dict[str, Any]:
    from corefn_azure._arm import API

    if need.role.startswith(COSMOS_ROLE_PREFIX):
        from corefn_azure._arm import _v

        account = f"resourceId('Microsoft.DocumentDB/databaseAccounts', {_v('cosmosAccount')})"
        return {
            "type": "Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments", "apiVersion": API["cosmos"],
            "name": f"[concat({_v('cosmosAccount')}, '/', guid({scope}, {site}, '{need.role}'))]",
            "dependsOn": [f"[{site}]", f"[{scope}]"],
            "properties": {"roleDefinitionId": f"[concat({account}, '/sqlRoleDefinitions/{ROLE_IDS[need.role]}')]",
                           "principalId": f"[{principal}]", "scope": f"[{scope}]"},
            "metadata": {"corefn": {"role": need.role, "kind": need.kind, "name": need.name}},
        }  # fmt: skip
    return {
        "type": "Microsoft.Authorization/roleAssignments", "apiVersion": API["roles"],
        "name": f"[guid({scope}, {site}, '{need.role}')]", "scope": f"[{scope}]", "dependsOn": [f"[{site}]", f"[{scope}]"],
        "properties": {"roleDefinitionId": f"[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '{ROLE_IDS[need.role]}')]",
                       "principalId": f"[{principal}]", "principalType": "ServicePrincipal"},
        "metadata": {"corefn": {"role": need.role, "kind": need.kind, "name": need.name}},
    }  # fmt: skip


def function_app(arm: Arm, group: str, functions: list[FunctionPlan], specs: list[HandlerSpec]) -> None:
    from corefn_azure._arm import API, _p, _v, needs_of
    from corefn_azure.generator import RUNTIME

    name = f"concat({_p('prefix')}, '-{group}-', {_v('suffix')})"
    plan_id = f"resourceId('Microsoft.Web/serverfarms', concat({_p('prefix')}, '-{group}-plan-', {_v('suffix')}))"
    site = f"resourceId('Microsoft.Web/sites', {name})"
    deploy = arm.ids[("hostcontainer", f"deploy-{group}")]
    arm.resources.append({
        "type": "Microsoft.Web/serverfarms", "apiVersion": API["web"], "name": f"[concat({_p('prefix')}, '-{group}-plan-', {_v('suffix')})]",
        "location": f"[{_p('location')}]", "kind": "functionapp", "sku": {"name": "FC1", "tier": "FlexConsumption"},
        "properties": {"reserved": True},
    })  # fmt: skip
    arm.resources.append({
        "type": "Microsoft.Web/sites", "apiVersion": API["web"], "name": f"[{name}]", "location": f"[{_p('location')}]",
        "kind": "functionapp,linux", "identity": {"type": "SystemAssigned"},
        "tags": {"corefn-functions": ",".join(f.name for f in functions)},
        "dependsOn": [f"[{plan_id}]", f"[{deploy}]", f"[resourceId('Microsoft.Insights/components', {_v('insights')})]"],
        "properties": {
            "serverFarmId": f"[{plan_id}]", "httpsOnly": True, "clientCertMode": "Optional",
            "siteConfig": {"minTlsVersion": "1.2", "ftpsState": "Disabled", "http20Enabled": True,
                           "appSettings": app_settings(arm, group, functions)},
            "functionAppConfig": {
                "deployment": {"storage": {"type": "blobContainer",
                                           "value": f"[concat(reference({arm.ids[('hoststorage', '')]}, '{API['storage']}').primaryEndpoints.blob, 'deploy-{group}')]",
                                           "authentication": {"type": "SystemAssignedIdentity"}}},
                "scaleAndConcurrency": {"maximumInstanceCount": 100, "instanceMemoryMB": instance_memory(specs)},
                "runtime": {"name": "python", "version": RUNTIME.removeprefix("python")},
            },
        },
    })  # fmt: skip
    principal = f"reference({site}, '{API['web']}', 'full').identity.principalId"
    for role, kind, rname in HOST_ROLES:
        need = Need(role, kind, rname)
        arm.resources.append(role_assignment(arm, site, principal, need, arm.need_scope(need)))
    for need in needs_of(arm.app, specs):
        arm.resources.append(role_assignment(arm, site, principal, need, arm.need_scope(need)))
