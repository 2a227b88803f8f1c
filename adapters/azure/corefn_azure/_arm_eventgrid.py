"""``eventgrid.json``, the second phase: the data account's Event Grid system topic and one
subscription per blob-triggered function, delivering ``Microsoft.Storage.BlobCreated`` events to
the blob extension's webhook
(``https://<host>/runtime/webhooks/blobs?functionName=Host.Functions.<name>&code=<blobs_extension key>``,
https://learn.microsoft.com/en-us/azure/azure-functions/functions-event-grid-blob-trigger).
That endpoint answers Event Grid's validation handshake only once the published code is running,
so this template is deployed after ``azuredeploy.json`` **and** the code publish.

Retries and dead letters come from the compiled policy (:mod:`corefn_azure.policy`): the
subscription's ``retryPolicy`` and a dead-letter container written with the system topic's own
managed identity (``deadLetterWithResourceIdentity``; no storage key).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from corefn.policy import retry_policy
from corefn.specs import StorageTrigger
from corefn_azure._roles import ROLE_IDS, azure_name

if TYPE_CHECKING:
    from corefn.app import App
    from corefn_azure.generator import FunctionPlan

#: where Event Grid puts events it could not deliver (created by azuredeploy.json)
EVENT_GRID_DEAD_LETTERS = "eventgrid-deadletter"


def blob_functions(app: App, functions: list[FunctionPlan]) -> list[FunctionPlan]:
    return [f for f in functions if f.service == "blob"]


def eventgrid(app: App, functions: list[FunctionPlan]) -> dict[str, Any] | None:
    from corefn_azure._arm import API, SCHEMA, Arm, app_groups
    from corefn_azure.policy import compile_policy

    blobs = blob_functions(app, functions)
    if not blobs:
        return None
    base = Arm(app, functions, "")
    groups = {f.name: g for g, fns in app_groups(app, functions).items() for f in fns}
    topic_name = "[concat(variables('short'), '-blobs-', variables('suffix'))]"
    topic = "resourceId('Microsoft.EventGrid/systemTopics', concat(variables('short'), '-blobs-', variables('suffix')))"
    data = "resourceId('Microsoft.Storage/storageAccounts', variables('dataAccount'))"
    dead = f"resourceId('Microsoft.Storage/storageAccounts/blobServices/containers', variables('dataAccount'), 'default', '{EVENT_GRID_DEAD_LETTERS}')"
    role = ROLE_IDS["Storage Blob Data Contributor"]
    resources: list[dict[str, Any]] = [
        {"type": "Microsoft.EventGrid/systemTopics", "apiVersion": API["eventgrid"], "name": topic_name,
         "location": "[parameters('location')]", "identity": {"type": "SystemAssigned"},
         "properties": {"source": f"[{data}]", "topicType": "Microsoft.Storage.StorageAccounts"}},
        {"type": "Microsoft.Authorization/roleAssignments", "apiVersion": API["roles"], "scope": f"[{dead}]",
         "name": f"[guid({dead}, {topic}, 'dead letters')]", "dependsOn": [f"[{topic}]"],
         "properties": {"roleDefinitionId": f"[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '{role}')]",
                        "principalId": f"[reference({topic}, '{API['eventgrid']}', 'full').identity.principalId]",
                        "principalType": "ServicePrincipal"}},
    ]  # fmt: skip
    for fn in blobs:
        spec = app.handler(fn.handler)
        trigger = spec.trigger
        assert isinstance(trigger, StorageTrigger)  # blob functions serve storage handlers only
        settings = compile_policy(app, retry_policy(app, spec)).settings
        site = f"concat(parameters('prefix'), '-{groups[fn.name]}-', variables('suffix'))"
        key = f"listKeys(resourceId('Microsoft.Web/sites/host', {site}, 'default'), '{API['web']}').systemKeys.blobs_extension"
        host = f"reference(resourceId('Microsoft.Web/sites', {site}), '{API['web']}').defaultHostName"
        container = azure_name("container", str(spec.options.provider.get("azure", {}).get("container", trigger.bucket)))
        filters: dict[str, Any] = {
            "includedEventTypes": ["Microsoft.Storage.BlobCreated"],
            "subjectBeginsWith": f"/blobServices/default/containers/{container}/blobs/{trigger.prefix}",
        }
        if trigger.suffix:
            filters["subjectEndsWith"] = trigger.suffix
        resources.append({
            "type": "Microsoft.EventGrid/systemTopics/eventSubscriptions", "apiVersion": API["eventgrid"],
            "name": f"[concat(variables('short'), '-blobs-', variables('suffix'), '/{fn.name.replace('_', '-')}')]",
            "dependsOn": [f"[{topic}]", f"[resourceId('Microsoft.Authorization/roleAssignments', guid({dead}, {topic}, 'dead letters'))]"],
            "properties": {
                "destination": {"endpointType": "WebHook", "properties": {
                    "endpointUrl": f"[concat('https://', {host}, '/runtime/webhooks/blobs?functionName=Host.Functions.{fn.name}&code=', {key})]"}},
                "filter": filters, "eventDeliverySchema": "EventGridSchema",
                "retryPolicy": {"maxDeliveryAttempts": settings["maxDeliveryAttempts"], "eventTimeToLiveInMinutes": settings["eventTimeToLiveInMinutes"]},
                "deadLetterWithResourceIdentity": {
                    "identity": {"type": "SystemAssigned"},
                    "deadLetterDestination": {"endpointType": "StorageBlob", "properties": {"resourceId": f"[{data}]", "blobContainerName": EVENT_GRID_DEAD_LETTERS}}},
            },
        })  # fmt: skip
    return {
        "$schema": SCHEMA, "contentVersion": "1.0.0.0",
        "metadata": {"description": f"corefn app {app.name!r}: Event Grid subscriptions of the blob triggers; deploy after the code is published (README.md)"},
        "parameters": {k: base.parameters[k] for k in ("prefix", "location")},
        "variables": {k: base.variables[k] for k in ("suffix", "short", "dataAccount")},
        "resources": resources,
    }  # fmt: skip
