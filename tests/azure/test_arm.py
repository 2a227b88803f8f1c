"""The ARM templates, offline:

- both templates of both examples and of a sample using every Azure service validate against
  Microsoft's published deployment-template schemas (vendored in ``schemas/arm``): the template's
  own shape against ``deploymentTemplate.json``, each resource against its provider's definition
  for its exact type and API version (a resource no vendored schema defines fails);
- no setting holds a key or a connection string; every ``COREFN_SINK_*`` is set; secrets are Key
  Vault references and ``secureString`` parameters;
- per function app: its role assignments are exactly the host's plus what its handlers' triggers
  and ``uses=`` need (``corefn_azure._roles``), each scoped to one resource the template creates;
- the compiled retry policy is what the templates, ``host.json`` and ``function_app.py`` say.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from corefn.app import App
from corefn.loader import load_app
from corefn.policy import compile_policies
from corefn_azure import adapter
from corefn_azure._arm import app_groups, needs_of
from corefn_azure._roles import HOST_ROLES
from corefn_azure.generator import plan

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = Path(__file__).resolve().parent / "schemas" / "arm"
EXAMPLES = ("examples/iot_site/app.py:app", "examples/image_pipeline/app.py:app")


def _registry() -> tuple[Any, dict[tuple[str, str], str]]:
    """A referencing registry of the vendored schemas (by their published ids) and
    (type, apiVersion) → ``$ref`` of its resource definition."""
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    registry: Any = Registry()
    definitions: dict[tuple[str, str], str] = {}
    for path in sorted(SCHEMAS.glob("*.json")):
        document = json.loads(path.read_text())
        uri = document["id"].rstrip("#")
        registry = registry.with_resource(uri, Resource(contents=document, specification=DRAFT4))
        for section in ("resourceDefinitions", "extension_resourceDefinitions"):
            for name, definition in document.get(section, {}).items():
                props = definition.get("properties", {})
                for rtype in props.get("type", {}).get("enum", []):
                    for version in props.get("apiVersion", {}).get("enum", []):
                        definitions.setdefault((rtype.lower(), version), f"{uri}#/{section}/{name}")
    return registry, definitions


REGISTRY, DEFINITIONS = _registry()


def _validator(ref: str) -> Any:
    """The resource's half of ARM's union: ``resourceBase`` and its provider's definition."""
    from jsonschema import Draft4Validator

    return Draft4Validator({"allOf": [{"$ref": TEMPLATE_ID + "#/definitions/resourceBase"}, {"$ref": ref}]}, registry=REGISTRY)


TEMPLATE_ID = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json"


def _shape_validator() -> Any:
    """``deploymentTemplate.json`` whose resource union (``allOf: [resourceBase, oneOf: [every
    provider's definitions]]``, hundreds of unvendored files) is cut to ``resourceBase``: the
    provider half is checked per resource by :func:`validate`, against the one definition of
    the resource's type and API version."""
    from jsonschema import Draft4Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    registry: Any = Registry()
    for path in sorted(SCHEMAS.glob("*.json")):
        document = json.loads(path.read_text())
        if document["id"].rstrip("#") == TEMPLATE_ID:
            document["definitions"]["resource"] = {"$ref": "#/definitions/resourceBase"}
        registry = registry.with_resource(document["id"].rstrip("#"), Resource(contents=document, specification=DRAFT4))
    return Draft4Validator({"$ref": TEMPLATE_ID + "#"}, registry=registry)


SHAPE = _shape_validator()


def validate(template: dict[str, Any]) -> list[str]:
    errors = [f"template: {e.message[:300]} at {list(e.absolute_path)}" for e in SHAPE.iter_errors(template)]
    for resource in template["resources"]:
        ref = DEFINITIONS.get((resource["type"].lower(), resource["apiVersion"]))
        if ref is None:
            errors.append(f"{resource['type']}@{resource['apiVersion']}: no vendored schema defines it")
            continue
        errors += [f"{resource['type']} {resource['name']}: {e.message[:300]} at {list(e.absolute_path)}" for e in _validator(ref).iter_errors(resource)]
    return errors


def full_app() -> App:
    """Every Azure service the templates create: Cosmos DB (a change-feed handler), Service Bus
    (a topic and a Service Bus queue), Event Hubs, Queue Storage, blobs, a SQL secret."""
    from corefn.specs import Options

    app = App("full")
    orders = app.table("orders", key="id")
    events = app.publisher("events", target="topic")
    jobs = app.publisher("jobs", azure_service="servicebus")
    clicks = app.publisher("clicks", target="stream")
    files = app.object_store("files")
    db = app.sql("db")

    @app.nosql("orders", uses=[events], max_attempts=3, dead_letter="files")
    def on_order(event: Any) -> None: ...

    @app.topic("events", uses=[files])
    def on_event(msg: Any) -> None: ...

    @app.queue("jobs", uses=[db], max_attempts=7, provider={"azure": {"service": "servicebus"}})
    def on_job(msg: Any) -> None: ...

    @app.stream("clicks", uses=[orders, jobs], max_attempts=0)
    def on_click(event: Any) -> None: ...

    @app.storage("files", on="created", suffix=".csv", uses=[clicks])
    def on_file(event: Any) -> None: ...

    @app.http("GET", "/orders", uses=[orders], provider={"azure": {"function_app": "api"}})
    def list_orders(req: Any) -> Any: ...

    @app.http("POST", "/orders", uses=[orders, events], provider={"azure": {"function_app": "api"}})
    def add_order(req: Any) -> Any: ...

    del Options
    return app


def _apps() -> list[tuple[str, App, str]]:
    return [(ref, load_app(ref), ref) for ref in EXAMPLES] + [("full", full_app(), "full:app")]


CASES = _apps()


@pytest.fixture(params=CASES, ids=[c[0] for c in CASES])
def case(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> tuple[App, dict[str, Any], dict[str, Any] | None, str]:
    monkeypatch.chdir(ROOT)
    _, app, ref = request.param
    files = adapter.generate(app, ref)
    second = json.loads(str(files["eventgrid.json"])) if "eventgrid.json" in files else None
    return app, json.loads(str(files["azuredeploy.json"])), second, str(files["function_app.py"])


def test_templates_validate_against_microsofts_schemas(case: Any) -> None:
    _, main, second, _ = case
    assert validate(main) == []
    if second is not None:
        assert validate(second) == []


def test_the_validator_catches_a_wrong_property() -> None:
    app = load_app(EXAMPLES[0]) if False else full_app()
    main = json.loads(str(adapter.generate(app, "full:app")["azuredeploy.json"]))
    broken = json.loads(json.dumps(main))
    site = next(r for r in broken["resources"] if r["type"] == "Microsoft.Web/sites")
    site["properties"]["httpsOnly"] = "sometimes"
    account = next(r for r in broken["resources"] if r["type"] == "Microsoft.Storage/storageAccounts")
    account["sku"] = {"name": "Cheapest"}
    broken["resources"].append({"type": "Microsoft.Web/sites", "apiVersion": "1999-01-01", "name": "x"})
    errors = validate(broken)
    assert any("Microsoft.Web/sites" in e and "httpsOnly" in e or "sometimes" in e for e in errors), errors
    assert any("Cheapest" in e or "sku" in e for e in errors), errors
    assert any("1999-01-01" in e for e in errors), errors


def _settings(main: dict[str, Any]) -> dict[str, dict[str, str]]:
    out = {}
    for site in (r for r in main["resources"] if r["type"] == "Microsoft.Web/sites"):
        out[site["tags"]["corefn-functions"]] = {s["name"]: s["value"] for s in site["properties"]["siteConfig"]["appSettings"]}
    return out


def test_settings_hold_no_key_and_every_sink(case: Any) -> None:
    app, main, _, _ = case
    for functions, settings in _settings(main).items():
        for name, value in settings.items():
            assert not re.search(r"AccountKey|SharedAccessKey|listKeys|InstrumentationKey=", name + value, re.I) or name == "APPLICATIONINSIGHTS_CONNECTION_STRING", (functions, name)
            assert "FUNCTIONS_WORKER_RUNTIME" != name and "FUNCTIONS_EXTENSION_VERSION" != name  # Flex refuses them
        assert settings["AzureWebJobsStorage__accountName"] == "[variables('hostAccount')]"
        assert "AzureWebJobsStorage" not in settings
        for sink in app.sinks:
            assert settings[sink.env_var], (functions, sink.name)
            if sink.kind in ("sql", "cache"):
                assert "@Microsoft.KeyVault(" in settings[sink.env_var]
    for account in (r for r in main["resources"] if r["type"] == "Microsoft.Storage/storageAccounts"):
        assert account["properties"]["allowSharedKeyAccess"] is False
    for rtype in ("Microsoft.EventHub/namespaces", "Microsoft.ServiceBus/namespaces", "Microsoft.DocumentDB/databaseAccounts"):
        for resource in (r for r in main["resources"] if r["type"] == rtype):
            assert resource["properties"]["disableLocalAuth"] is True
    secure = [p for p, v in main["parameters"].items() if v["type"] == "securestring"]
    for secret in (r for r in main["resources"] if r["type"] == "Microsoft.KeyVault/vaults/secrets"):
        assert re.fullmatch(r"\[parameters\('(\w+)'\)\]", secret["properties"]["value"])[1] in secure  # type: ignore[index]


def test_each_app_gets_exactly_its_handlers_roles(case: Any) -> None:
    app, main, _, _ = case
    functions = plan(app, "full:app").functions
    specs = {s.name: s for s in app.handlers}
    declared = {json.dumps(r["name"]) for r in main["resources"]}
    by_app: dict[str, set[tuple[str, str, str]]] = {}
    for resource in main["resources"]:
        if resource["type"] in ("Microsoft.Authorization/roleAssignments", "Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments"):
            site = re.search(r"resourceId\('Microsoft\.Web/sites', concat\(parameters\('prefix'\), '-([\w-]+)-'", resource["dependsOn"][0])
            assert site is not None
            meta = resource["metadata"]["corefn"]
            by_app.setdefault(site[1], set()).add((meta["role"], meta["kind"], meta["name"]))
            assert resource["dependsOn"][1] != resource["dependsOn"][0]
    del declared
    host = set(HOST_ROLES)
    for group, fns in app_groups(app, functions).items():
        needed = {(n.role, n.kind, n.name) for n in needs_of(app, [specs[f.handler] for f in fns])}
        assert by_app[group] == needed | host, group


def test_least_privilege_in_the_iot_site(monkeypatch: pytest.MonkeyPatch) -> None:
    """The read-only device API reads two tables and the API key, nothing else."""
    monkeypatch.chdir(ROOT)
    app = load_app(EXAMPLES[0])
    needs = needs_of(app, [next(s for s in app.handlers if s.name == "get_device")])
    assert {(n.role, n.name) for n in needs} == {
        ("Storage Table Data Contributor", "devices"), ("Storage Table Data Contributor", "devicestats"),
        ("Key Vault Secrets User", "corefn-api-key"),
    }  # fmt: skip


def test_compiled_policy_is_what_the_files_say(monkeypatch: pytest.MonkeyPatch) -> None:
    app = full_app()
    files = adapter.generate(app, "full:app")
    compiled = compile_policies(app, "azure")
    main = json.loads(str(files["azuredeploy.json"]))
    second = json.loads(str(files["eventgrid.json"]))
    code = str(files["function_app.py"])
    queue = next(r for r in main["resources"] if r["type"] == "Microsoft.ServiceBus/namespaces/queues" and "/jobs'" in r["name"])
    assert queue["properties"]["maxDeliveryCount"] == compiled["on_job"].settings["maxDeliveryCount"] == 7
    for handler in ("on_order", "on_click"):
        retry = compiled[handler].settings["retry"]
        block = code.split(f'name="{handler}"')[1].split("def ")[0]
        assert f'max_retry_count="{retry["max_retry_count"]}"' in block
    assert compiled["on_click"].settings["retry"]["max_retry_count"] == -1  # 0 attempts: until the record expires
    assert compiled["on_order"].settings["DeadLetter"] == {"kind": "bucket", "name": "files"}
    subscription = next(r for r in second["resources"] if r["type"].endswith("eventSubscriptions"))
    assert subscription["properties"]["retryPolicy"]["maxDeliveryAttempts"] == compiled["on_file"].settings["maxDeliveryAttempts"] == 5
    assert subscription["properties"]["filter"]["subjectEndsWith"] == ".csv"
    assert 'source="EventGrid"' in code.split('name="on_file"')[1].split("def ")[0]
    settings = _settings(main)
    assert settings["on_order"]["COREFN_DEADLETTER_ON_ORDER"] == "[concat('az://', variables('dataAccount'), '/files')]"


def test_service_bus_subscriptions_and_the_lease_container_are_created() -> None:
    app = full_app()
    main = json.loads(str(adapter.generate(app, "full:app")["azuredeploy.json"]))
    compiled = compile_policies(app, "azure")
    topic = next(r for r in main["resources"] if r["type"] == "Microsoft.ServiceBus/namespaces/topics")
    (subscription,) = topic["resources"]
    assert subscription["name"] == "on_event"  # the generated trigger's subscription_name
    assert subscription["properties"]["maxDeliveryCount"] == compiled["on_event"].settings["maxDeliveryCount"] == 5
    containers = {r["name"].split("/")[-1].rstrip("')]") for r in main["resources"] if r["type"].endswith("sqlDatabases/containers")}
    assert containers == {"orders", "leases"}


def test_host_json_dequeue_count_is_the_compiled_one() -> None:
    app = App("q")

    @app.queue("jobs", max_attempts=0)
    def work(msg: Any) -> None: ...

    host = json.loads(str(adapter.generate(app, "q:app")["host.json"]))
    assert host["extensions"]["queues"]["maxDequeueCount"] == compile_policies(app, "azure")["work"].settings["maxDequeueCount"] == 2016
