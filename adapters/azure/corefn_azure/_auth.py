"""``auth=Jwt(...)`` on Azure: App Service authentication ("Easy Auth") where it can verify, and the
identity it then vouches for.

Trust (``Work with user identities in Azure App Service authentication``,
https://learn.microsoft.com/azure/app-service/configure-authentication-user-identities): App Service
injects the caller's claims as ``X-MS-CLIENT-PRINCIPAL`` (base64 JSON, ``claims`` a list of
``{"typ", "val"}``), and "external requests aren't allowed to set these headers, so they're present
only if App Service sets them" — *when the authentication module is on*. Without it the header is
just something the caller sent. So the header is read only when the platform says the module is
on: ``WEBSITE_AUTH_ENABLED=True``, a read-only variable App Service injects
(https://learn.microsoft.com/azure/app-service/reference-app-settings, "Authentication &
Authorization"). Anywhere else (locally, a plan without it) the header is ignored and the function
verifies the bearer token itself.

What is configured: ``auth/authsettingsV2.json``, an ARM template setting the site's
``Microsoft.Web/sites/config`` ``authsettingsV2`` with the Microsoft Entra provider for a ``Jwt``
whose issuer is Entra's (``login.microsoftonline.com`` / ``sts.windows.net``): App Service then
rejects a bad bearer token with 401 before the function runs, while unauthenticated requests still
reach routes without ``auth=`` (``AllowAnonymous``; corefn answers 401 on protected ones). Other
issuers are verified in the function (App Service's custom OpenID Connect providers sign users in;
they are not documented to validate API bearer tokens).
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from corefn.auth import Auth, Jwt

if TYPE_CHECKING:
    from corefn.events.base import Headers
    from corefn.specs import HandlerSpec

#: hosts of Microsoft Entra ID issuers (v2.0 and v1 tokens)
ENTRA_HOSTS = frozenset({"login.microsoftonline.com", "sts.windows.net"})
PRINCIPAL_HEADER = "x-ms-client-principal"
ARM_SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
#: Microsoft.Web API version of the authsettingsV2 resource written
WEB_API_VERSION = "2022-09-01"


def platform_verifies() -> bool:
    return os.environ.get("WEBSITE_AUTH_ENABLED", "").lower() == "true"


def vouched_identity(headers: Headers) -> Auth | None:
    """The caller App Service authenticated, or ``None`` (no module, no header, or unreadable)."""
    if not platform_verifies():
        return None
    value = headers.get(PRINCIPAL_HEADER)
    if not value:
        return None
    try:
        principal = json.loads(base64.b64decode(value))
        pairs = [(c["typ"], c["val"]) for c in principal["claims"]]
    except (ValueError, TypeError, KeyError):
        return None
    claims: dict[str, Any] = {}
    for typ, val in pairs:  # a repeated claim type (roles, groups) becomes a list
        if typ in claims:
            old = claims[typ]
            claims[typ] = [*old, val] if isinstance(old, list) else [old, val]
        else:
            claims[typ] = val
    role_typ = principal.get("role_typ")
    if isinstance(role_typ, str) and role_typ != "roles" and role_typ in claims:
        claims.setdefault("roles", claims[role_typ])
    subject = headers.get("x-ms-client-principal-id") or claims.get("sub") or claims.get("oid")
    return Auth(claims, subject=subject if isinstance(subject, str) else None, via="azure:app-service")


def is_entra(config: Jwt) -> bool:
    return (urlsplit(config.issuer).hostname or "") in ENTRA_HOSTS


def auth_settings(specs: Iterable[HandlerSpec]) -> tuple[dict[str, Any] | None, list[str]]:
    """The ARM template for App Service authentication, or ``None``, and notes for the README."""
    configs = [s.options.auth for s in specs if s.kind == "http" and isinstance(s.options.auth, Jwt)]
    entra = [c for c in configs if is_entra(c)]
    notes = [f"issuer {c.issuer}: verified in the function (not a Microsoft Entra issuer)" for c in configs if not is_entra(c)]
    if not entra:
        return None, sorted(set(notes))
    issuers = sorted({c.issuer for c in entra})
    if len(issuers) > 1:
        notes.append(f"App Service authentication takes one Entra issuer: {issuers[0]} is configured, the others verify in the function")
    chosen = [c for c in entra if c.issuer == issuers[0]]
    audiences = sorted({a for c in chosen for a in c.audience})
    tenant_client = next((a for a in audiences if not a.startswith("api://")), audiences[0])
    properties = {
        "platform": {"enabled": True},
        "globalValidation": {"requireAuthentication": False, "unauthenticatedClientAction": "AllowAnonymous"},
        "identityProviders": {"azureActiveDirectory": {
            "enabled": True,
            "registration": {"openIdIssuer": issuers[0], "clientId": tenant_client},
            "validation": {"allowedAudiences": audiences},
        }},
        "login": {"tokenStore": {"enabled": False}},
    }  # fmt: skip
    template = {
        "$schema": ARM_SCHEMA,
        "contentVersion": "1.0.0.0",
        "parameters": {"siteName": {"type": "string", "metadata": {"description": "The function app's name"}}},
        "resources": [{
            "type": "Microsoft.Web/sites/config",
            "apiVersion": WEB_API_VERSION,
            "name": "[format('{0}/{1}', parameters('siteName'), 'authsettingsV2')]",
            "properties": properties,
        }],
    }  # fmt: skip
    return template, sorted(set(notes))
