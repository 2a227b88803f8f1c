"""The README of a generated Azure Functions project: exact commands from a fresh machine (two
phases: infrastructure, code, then the Event Grid subscriptions), what gets created and what
costs money, teardown, each handler's compiled retry policy and role assignments, and the
checkov checks the template fails on purpose, with the reason (``tests/azure`` runs checkov on
both templates and fails on any check not listed here)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from corefn.policy import compile_policies
from corefn_azure._flow_functions import readme_lines

if TYPE_CHECKING:
    from corefn.app import App
    from corefn_azure.generator import FunctionPlan

#: checkov checks a generated template fails by design → why (the test allows exactly these)
CHECKOV_ACCEPTED: dict[str, str] = {
    "CKV_AZURE_222": "the app serves a public HTTP API (or is reached by Event Grid's webhook) and has no virtual network: "
    "public network access stays on; put the apps behind a virtual network and private endpoints for an internal API",
    "CKV_AZURE_17": "client certificates are not asked for: clients authenticate with corefn's API key (api_key=True) over HTTPS only",
    "CKV_AZURE_212": "Flex Consumption scales from zero; a minimum (always-ready) instance count is billed every second; "
    "set functionAppConfig.scaleAndConcurrency.alwaysReady for production latency",
    "CKV_AZURE_225": "zone redundancy of a Flex Consumption plan is available in some regions only; set zoneRedundant on the plan where yours has it",
    "CKV_AZURE_213": "App Service health checks probe an HTTP path on a fixed instance; Flex Consumption instances come and go per "
    "event and the platform replaces failed ones itself",
}


def _what(app: App, main: dict[str, Any], second: dict[str, Any] | None) -> list[str]:
    counts: dict[str, int] = {}
    for resource in main["resources"] + (second or {"resources": []})["resources"]:
        counts[resource["type"]] = counts.get(resource["type"], 0) + 1
    costs = {
        "Microsoft.Storage/storageAccounts": "Standard LRS: per GB stored and per 10,000 operations (cents a month when idle)",
        "Microsoft.Web/serverfarms": "Flex Consumption (FC1): no charge while idle; per GB-second of instance memory and per million executions",
        "Microsoft.Web/sites": "no charge of its own (billed through its plan)",
        "Microsoft.EventHub/namespaces": "Standard tier: **billed per throughput unit hour even when idle** (about USD 22 a month per unit)",
        "Microsoft.ServiceBus/namespaces": "Standard tier: **a base charge per hour even when idle** (about USD 10 a month) plus operations",
        "Microsoft.DocumentDB/databaseAccounts": "serverless: per request unit and per GB stored, nothing while idle",
        "Microsoft.KeyVault/vaults": "per 10,000 operations (the platform reads each reference about once a day per app)",
        "Microsoft.OperationalInsights/workspaces": "per GB ingested (the first 5 GB a month free); 30 days retention",
        "Microsoft.Insights/components": "billed through the workspace",
        "Microsoft.EventGrid/systemTopics": "per million operations (the first 100,000 a month free)",
        "Microsoft.Authorization/roleAssignments": "free",
        "Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments": "free",
    }
    return [f"- {counts[t]} × `{t}`" + (f": {costs[t]}" if t in costs else "") for t in sorted(counts)]


def _commands(app: App, main: dict[str, Any], second: dict[str, Any] | None) -> list[str]:
    params = main["parameters"]
    group = f"{app.name}-dev"
    overrides = ["prefix=dev"]
    lines = [
        "    # 1. tools: the Azure CLI and Azure Functions Core Tools (any OS), then sign in",
        "    #    https://learn.microsoft.com/cli/azure/install-azure-cli",
        "    npm install -g azure-functions-core-tools@4 --unsafe-perm true",
        "    az login",
        f"    az group create --name {group} --location westeurope   # a region with Flex Consumption",
    ]
    secrets = [p for p, v in params.items() if v.get("type") == "securestring"]
    if secrets:
        lines.append("    # 2. secrets: written into the template's Key Vault by the deployment; settings hold only references")
        for p in secrets:
            value = "\"$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')\"" if p == "apiKey" else "'postgresql+psycopg://USER:PASSWORD@HOST:5432/DB?sslmode=require'"
            lines.append(f"    # {params[p]['metadata']['description']}")
            lines.append(f"    export {p.upper()}={value}")
            overrides.append(f'{p}="${p.upper()}"')
    lines += [
        "    # 3. phase 1, the infrastructure (from this folder)",
        f"    az deployment group create --resource-group {group} --template-file azuredeploy.json \\",
        f"        --parameters {' '.join(overrides)}",
        "    # 4. the code: one package, published to every app of the stage (each runs only its own functions)",
        f"    for app in $(az functionapp list --resource-group {group} --query \"[?tags.\\\"corefn-functions\\\"].name\" -o tsv); do",
        "        func azure functionapp publish \"$app\" --python",
        "    done",
    ]
    if second is not None:
        lines += [
            "    # 5. phase 2, after the code is running: the Event Grid subscriptions of the blob triggers",
            "    #    (Event Grid validates the webhook, which exists only once the functions are loaded)",
            f"    az deployment group create --resource-group {group} --template-file eventgrid.json --parameters prefix=dev",
        ]
    lines += [
        "    # teardown: everything above lives in the resource group (Key Vault stays soft-deleted 7 days,",
        "    # purge protection keeps its name reserved for that time)",
        f"    az group delete --name {group} --yes",
    ]
    return lines


def readme(app: App, app_ref: str, functions: list[FunctionPlan], main: dict[str, Any], second: dict[str, Any] | None) -> str:
    from corefn_azure._arm import app_groups, needs_of
    from corefn_azure.deadletter import setting_name

    specs = {s.name: s for s in app.handlers}
    compiled = compile_policies(app, "azure")
    out = [
        f"# {app.name} on Azure Functions (Flex Consumption, Python 3.12)",
        "",
        f"Generated by corefn from `{app_ref}`: regenerate (`corefn deploy {app_ref} --cloud azure`) instead of editing.",
        "This folder is deployable as it is: `function_app.py`, the app and every local module it imports,",
        "corefn's core and the Azure adapter (vendored), and `requirements.txt` (third-party packages only,",
        "pinned from corefn's `deploy/locks/azure-python3.12.txt`). The remote build installs them from PyPI.",
        "",
        "## Deploy from a fresh machine",
        "",
        *_commands(app, main, second),
        "",
        "## What gets created and what it costs",
        "",
        *_what(app, main, second),
        "",
        "No setting holds an account key or a connection string with a key: storage, Event Hubs, Service Bus and",
        "Cosmos DB are reached with each app's managed identity (`<CONNECTION>__accountName`,",
        "`__fullyQualifiedNamespace`, `__accountEndpoint`; the sinks' URLs name the account and no key), and every",
        "account refuses shared keys. SQL / cache URLs and the API key are Key Vault references.",
        "",
        "## One function app per handler",
        "",
        "A function app has one identity, shared by all its functions. To give each handler only the roles its",
        "trigger and `uses=` need, every handler runs in its own app (own plan, identity and deployment container);",
        "all apps get the same package and disable the functions that are not theirs (`AzureWebJobs.<name>.Disabled`).",
        "Handlers given the same `provider={\"azure\": {\"function_app\": \"NAME\"}}` share one app (one host name for an",
        "HTTP API) and the union of their roles. Each HTTP app has its own host name (template outputs `url_*`).",
        "",
        "| app | functions | roles (scope) |",
        "|---|---|---|",
    ]
    for group, fns in app_groups(app, functions).items():
        needs = needs_of(app, [specs[f.handler] for f in fns])
        roles = "<br>".join(f"{n.role} ({n.kind} `{n.name}`)" for n in needs) or "none beyond the host's"
        out.append(f"| `{group}` | {', '.join(f.name for f in fns)} | {roles} |")
    out += [
        "",
        "Every app also has, for its host: Storage Blob Data Owner, Queue Data Contributor and Table Data",
        "Contributor on the runtime storage account (which holds no app data) and Monitoring Metrics Publisher on",
        "Application Insights.",
        *readme_lines(app),
        "",
        "## Retries and dead letters",
        "",
    ]
    for name, policy in compiled.items():
        spec = specs[name]
        fields = ", ".join(f"{k}={v}" for k, v in policy.settings.items())
        out.append(f"- `{name}` ({spec.kind}): {fields or 'not retried (the caller sees the error)'}")
        out.extend(f"  - {note}" for note in policy.notes)
        if spec.kind in ("stream", "nosql"):
            out.append(f"  - the dead letter's URL is the app setting `{setting_name(name)}`")
    out += [
        "",
        "Event Hubs and Cosmos DB have no dead-letter destination: when a record's retries are spent, corefn writes it",
        "to the handler's dead letter (a blob per record in the container named above, or a queue message) before the",
        "host moves its checkpoint on. Queue Storage moves a message to `<queue>-poison` after `maxDequeueCount`",
        "deliveries; Service Bus to the entity's dead-letter sub-queue after `maxDeliveryCount`; Event Grid puts blob",
        "events it could not deliver in the `eventgrid-deadletter` container.",
        "",
        "## checkov findings accepted by design",
        "",
        "`checkov --skip-download` on both templates passes every identity, encryption-at-rest and key-exposure",
        "check; these fail on purpose:",
        "",
        *[f"- {check}: {why}" for check, why in CHECKOV_ACCEPTED.items()],
        "",
    ]
    return "\n".join(out)
