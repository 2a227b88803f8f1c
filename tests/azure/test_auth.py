"""``auth=Jwt(...)`` on Azure: the App Service principal is trusted only when the platform's
authentication module is on (``WEBSITE_AUTH_ENABLED``), and only for the route's issuer and
audience; the generated ``authsettingsV2`` template round-trips through the Azure SDK's own model."""

from __future__ import annotations

import base64
import json
from typing import Any

import azure.functions as func
import pytest

from corefn.adapters import get_adapter, handle
from corefn.context import Context
from tests.azure.auth_app import API, ISSUER, app


def principal(claims: list[tuple[str, str]]) -> str:
    body = {"auth_typ": "aad", "claims": [{"typ": t, "val": v} for t, v in claims],
            "name_typ": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name", "role_typ": "roles"}  # fmt: skip
    return base64.b64encode(json.dumps(body).encode()).decode()


GOOD = [("iss", ISSUER), ("aud", "api://orders"), ("oid", "u-7"), ("roles", "Orders.Read"), ("roles", "Orders.Write")]


def call(headers: dict[str, str]) -> func.HttpResponse:
    request = func.HttpRequest(method="GET", url="https://azauth.azurewebsites.net/me", headers=headers, body=b"")
    return handle(get_adapter("azure"), app, request, Context(cloud="azure", app=app))  # type: ignore[no-any-return]


def test_the_principal_is_trusted_when_app_service_authentication_is_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBSITE_AUTH_ENABLED", "True")
    answer = call({"x-ms-client-principal": principal(GOOD), "x-ms-client-principal-id": "u-7"})
    assert answer.status_code == 200, answer.get_body()
    assert json.loads(answer.get_body()) == {"sub": "u-7", "via": "azure:app-service", "roles": ["Orders.Read", "Orders.Write"]}
    assert call({"x-ms-client-principal": principal([*GOOD[:3], ("roles", "Other")])}).status_code == 403


def test_without_the_module_the_header_is_the_caller_s_and_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEBSITE_AUTH_ENABLED", raising=False)
    answer = call({"x-ms-client-principal": principal(GOOD)})
    assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("claims", [
    [("iss", "https://login.microsoftonline.com/other-tenant/v2.0"), *GOOD[1:]],
    [GOOD[0], ("aud", "api://another-app"), *GOOD[2:]],
])  # fmt: skip
def test_a_principal_for_another_issuer_or_audience_is_refused(monkeypatch: pytest.MonkeyPatch, claims: list[tuple[str, str]]) -> None:
    monkeypatch.setenv("WEBSITE_AUTH_ENABLED", "True")
    assert call({"x-ms-client-principal": principal(claims)}).status_code == 401


def test_an_unreadable_principal_is_no_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBSITE_AUTH_ENABLED", "True")
    assert call({"x-ms-client-principal": "not base64 json"}).status_code == 401


def generated() -> dict[str, str | bytes]:
    return dict(get_adapter("azure").generate(app, "tests.azure.auth_app:app"))


def test_the_generator_configures_entra_for_entra_issuers_only() -> None:
    files = generated()
    template = json.loads(files["auth/authsettingsV2.json"])
    (resource,) = template["resources"]
    assert resource["type"] == "Microsoft.Web/sites/config" and "authsettingsV2" in resource["name"]
    aad = resource["properties"]["identityProviders"]["azureActiveDirectory"]
    assert aad["registration"]["openIdIssuer"] == ISSUER
    assert aad["validation"]["allowedAudiences"] == sorted(API.audience)
    assert resource["properties"]["globalValidation"]["unauthenticatedClientAction"] == "AllowAnonymous"
    notes = files["auth/NOTES.txt"]
    assert isinstance(notes, str) and "https://accounts.google.com: verified in the function" in notes
    pins = {line.split("==")[0].lower() for line in str(files["requirements.txt"]).splitlines() if "==" in line}
    assert {"pyjwt", "cryptography"} <= pins  # the bundle verifies tokens in the function: PyJWT ships


def _unknown_keys(model: Any, data: dict[str, Any], path: str = "properties") -> list[str]:
    """Keys of ``data`` the SDK model does not declare, recursively (the model keeps unknown keys
    silently, so they are looked up in its declared REST fields)."""
    fields = {f._rest_name: attr for attr, f in type(model)._attr_to_rest_field.items()}
    bad = [f"{path}.{k}" for k in data if k not in fields]
    for key, value in data.items():
        child = getattr(model, fields[key]) if key in fields else None
        if isinstance(value, dict) and hasattr(type(child), "_attr_to_rest_field"):
            bad += _unknown_keys(child, value, f"{path}.{key}")
    return bad


def test_the_auth_settings_are_what_the_azure_sdk_model_declares() -> None:
    """Validated against the provider's own model of ``authsettingsV2`` (azure-mgmt-web, dev extra):
    every key, at every level, is a field the Microsoft.Web API declares."""
    models = pytest.importorskip("azure.mgmt.web.models", reason="azure-mgmt-web (dev extra) is not installed")
    template = json.loads(generated()["auth/authsettingsV2.json"])
    properties = template["resources"][0]["properties"]
    settings = models.SiteAuthSettingsV2({"properties": properties})
    assert _unknown_keys(settings.properties, properties) == []
    assert settings.properties.identity_providers.azure_active_directory.validation.allowed_audiences == sorted(API.audience)
    assert _unknown_keys(settings.properties, {**properties, "platfrom": {}}) == ["properties.platfrom"]  # the check can fail
