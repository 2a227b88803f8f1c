"""Azure Service Bus as a publisher, over its REST send API (azure-core's HTTP pipeline).

URL: ``servicebus://namespace/queue-or-topic`` (``namespace`` is the short name, or a full
host such as ``ns.servicebus.chinacloudapi.cn``). Credentials: a shared access key from the
connection string in ``AZURE_SERVICEBUS_CONNECTION_STRING`` (else ``AzureWebJobsServiceBus``,
the Functions default setting), which must be for this namespace; tokens are signed locally
(HMAC-SHA256, Service Bus SAS). Without a connection string, Microsoft Entra ID: a bearer
token of the function's managed identity (:func:`corefn_azure.sinks.identity_credential`, scope
``https://servicebus.azure.net/.default``, role "Azure Service Bus Data Sender"). The queue or
topic must exist.

Why REST and not azure-servicebus' AMQP client: a function usually sends a few messages per
invocation, and one HTTPS request per send (or per batch) beats opening an AMQP connection,
a CBS token exchange and a sender link on every cold start; the Functions host and every SDK
receiver read REST-sent messages like any other. The pipeline is azure-core's, with its retry
policy (which honours ``Retry-After`` on 429 / 503 "ServerBusy").

Messages: UTF-8 bodies go through the batch format (``application/vnd.microsoft.servicebus.json``,
up to 100 messages or ~200 KB per request), with attributes as ``UserProperties``; a binary
body is sent alone as the raw HTTP body with attributes as custom-property headers (string
values JSON-quoted, as the REST API types header values). ``group``
is the ``SessionId`` (ordered delivery on session-enabled entities). Each message gets a
``MessageId`` generated here, which ``send`` returns (the service assigns none over REST).

CloudEvents: with ``cloudevents=True`` on the sink, every message is its CloudEvent in the AMQP
binding's binary mode (Service Bus user properties are AMQP application properties):
``cloudEvents:<attribute>`` user properties beside the caller's own, the body as it is, the
CloudEvent's ``id`` as the ``MessageId`` (:func:`corefn.cloudevents.bindings.amqp_message`).
The binding maps ``datacontenttype`` to the AMQP ``content-type`` property, which the REST batch
format cannot set (its BrokerProperties have no ContentType:
https://learn.microsoft.com/en-us/rest/api/servicebus/message-headers-and-properties), so it is
also sent as the ``cloudEvents:datacontenttype`` property, which CloudEvents' AMQP readers map to
the same attribute. A binary body, which only a single raw send carries and whose custom-property
headers cannot be named ``cloudEvents:…`` (a colon ends an HTTP header name), is sent in
structured mode instead: the JSON form as the body, ``Content-Type: application/cloudevents+json``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
import urllib.parse
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, NamedTuple

from corefn.cloudevents.bindings import AMQP_PREFIX, STRUCTURED_CONTENT_TYPE, amqp_message, structured
from corefn.cloudevents.publisher import cloudevents_wanted, message
from corefn.errors import ConfigurationError, SinkError, SinkNotFoundError
from corefn.kit.sinks import Body, body_bytes, check_attributes
from corefn.sinks.base import Permission
from corefn.specs import SinkSpec
from corefn_azure.sinks import STATUS_ERRORS, azure_errors, identity_credential, sdk_required

API_VERSION = "2017-04"
CONNECTION_VARIABLES = ("AZURE_SERVICEBUS_CONNECTION_STRING", "AzureWebJobsServiceBus")
#: Entra ID token audience of the Service Bus data plane
TOKEN_SCOPE = "https://servicebus.azure.net/.default"
BATCH_CONTENT_TYPE = "application/vnd.microsoft.servicebus.json"
BATCH_MESSAGES = 100
BATCH_BYTES = 200_000  # under the 256 KB request limit of the Standard tier, with room for JSON
TOKEN_SECONDS = 3600
CONTENT_TYPES: dict[type, str] = {bytes: "application/octet-stream", str: "text/plain; charset=utf-8"}
#: the send API answers 410 for a missing queue or topic and 403 for "quota exceeded or
#: message too large" (its 401 is the authorization failure)
STATUSES: dict[int, type[SinkError]] = {**STATUS_ERRORS, 403: SinkError, 410: SinkNotFoundError}


class Message(NamedTuple):
    id: str
    data: bytes
    broker: dict[str, Any]
    user: dict[str, str]
    #: the Content-Type of a raw send; None for the batch format (UTF-8 text only)
    content_type: str | None


def _is_text(data: bytes) -> bool:
    try:
        data.decode()
    except UnicodeDecodeError:
        return False
    return True


def parse_url(url: str) -> tuple[str, str]:
    """(namespace host, entity) from ``servicebus://namespace/entity``."""
    parts = [part for part in url.partition("://")[2].split("?")[0].split("/") if part]
    if len(parts) != 2:
        raise ConfigurationError(f"sink URL {url!r}: use servicebus://NAMESPACE/QUEUE-OR-TOPIC")
    namespace, entity = parts
    return (namespace if "." in namespace else f"{namespace}.servicebus.windows.net"), entity


def shared_access_key(host: str, variables: tuple[str, ...] = CONNECTION_VARIABLES) -> tuple[str, str] | None:
    """(key name, key) from the first of ``variables`` set, checked to be for ``host``; ``None``
    when none is set (then the managed identity signs in)."""
    text = next((os.environ[v] for v in variables if os.environ.get(v)), "")
    if not text:
        return None
    fields = {name.strip().lower(): value.strip() for name, _, value in (p.partition("=") for p in text.split(";") if p.strip())}
    endpoint_host = urllib.parse.urlsplit(fields.get("endpoint", "")).hostname
    if endpoint_host != host or "sharedaccesskey" not in fields:
        raise ConfigurationError(
            f"{host}: {' / '.join(variables)} must be a shared-access-key connection string of this namespace "
            "(or unset, for the managed identity)"
        )
    return fields.get("sharedaccesskeyname", "RootManageSharedAccessKey"), fields["sharedaccesskey"]


def sas_token(resource: str, key_name: str, key: str, expiry: int) -> str:
    """A Service Bus SAS token: HMAC-SHA256 of the URL-encoded resource and the expiry time."""
    encoded = urllib.parse.quote_plus(resource)
    signature = hmac.new(key.encode(), f"{encoded}\n{expiry}".encode(), hashlib.sha256).digest()
    sig = urllib.parse.quote_plus(base64.b64encode(signature).decode())
    return f"SharedAccessSignature sr={encoded}&sig={sig}&se={expiry}&skn={key_name}"


class ServiceBusPublisher:
    families: ClassVar[tuple[str, ...]] = ("publisher",)
    private_network: ClassVar[bool] = False
    scheme: ClassVar[str] = "servicebus"
    api_version: ClassVar[str] = API_VERSION
    connection_variables: ClassVar[tuple[str, ...]] = CONNECTION_VARIABLES
    token_scope: ClassVar[str] = TOKEN_SCOPE
    #: honours ``cloudevents=True`` itself (see the module docstring)
    sends_cloudevents: ClassVar[bool] = True

    def __init__(self, spec: SinkSpec, url: str, **client_options: Any) -> None:
        """``client_options`` go to azure-core's ``PipelineClient`` (e.g. a ``transport``)."""
        from azure.core import PipelineClient
        from azure.core.pipeline.policies import RetryPolicy, UserAgentPolicy

        self.spec = spec
        self.cloudevents = cloudevents_wanted(spec)
        self.host, self.entity = parse_url(url)
        self._key = shared_access_key(self.host, self.connection_variables)
        self._identity: Any = None if self._key is not None else identity_credential(f"{self.scheme}://{self.host}/{self.entity}")
        self.resource = f"https://{self.host}/{self.entity}"
        self._token: tuple[int, str] = (0, "")
        policies = [UserAgentPolicy("corefn"), RetryPolicy(retry_total=3, retry_backoff_max=10)]
        self._client = PipelineClient(base_url=f"https://{self.host}", policies=policies, **client_options)

    @classmethod
    def needs_private_network(cls, url: str) -> bool:
        """A public endpoint (private endpoints are an option of the account, never a need)."""
        return False

    @classmethod
    def permissions(cls, url: str, family: str) -> list[Permission]:
        host, entity = parse_url(url)
        return [Permission("azure", ("Azure Service Bus Data Sender",), f"namespaces/{host.split('.')[0]}/entities/{entity}")]

    def _authorization(self) -> str:
        """A SAS token signed with the key, or the identity's bearer token; either is reused
        until five minutes before it expires."""
        expiry, token = self._token
        now = int(time.time())
        if expiry - now < 300:
            if self._key is not None:
                expiry = now + TOKEN_SECONDS
                self._token = (expiry, sas_token(self.resource, self._key[0], self._key[1], expiry))
            else:
                with azure_errors(self.spec.name):
                    access = self._identity.get_token(self.token_scope)
                self._token = (int(access.expires_on), f"Bearer {access.token}")
        return self._token[1]

    def _post(self, content: bytes, headers: dict[str, str]) -> None:
        from azure.core.exceptions import HttpResponseError
        from azure.core.rest import HttpRequest

        url = f"{self.resource}/messages?api-version={self.api_version}"
        request = HttpRequest("POST", url, headers={**headers, "Authorization": self._authorization()}, content=content)
        with azure_errors(self.spec.name, STATUSES):
            response = self._client.send_request(request)
            if response.status_code >= 400:
                raise HttpResponseError(response=response)

    def _message(self, body: Any, attributes: Mapping[str, str] | None, group: str | None) -> Message:
        """One message: its id, body bytes, BrokerProperties, user properties and the content
        type of a raw send (None: the batch format). The content type is no broker property: it
        can only be set on a single raw send, as the Content-Type header."""
        user = check_attributes(attributes, self.spec.name)
        data = body_bytes(body)
        if not self.cloudevents:
            message_id = uuid.uuid4().hex
            return Message(message_id, data, self._broker(message_id, group), user, None if _is_text(data) else CONTENT_TYPES[bytes])
        if not _is_text(data):  # structured mode, see the module docstring
            form = message(self.spec, body, user, group)
            return Message(form["id"], structured(form), self._broker(form["id"], group), {}, STRUCTURED_CONTENT_TYPE)
        form = message(self.spec, body, None, group)
        content_type, properties, data = amqp_message(form, user, self.spec.name)
        if content_type is not None:
            properties[AMQP_PREFIX + "datacontenttype"] = content_type
        return Message(form["id"], data, self._broker(form["id"], group), properties, None)

    def _broker(self, message_id: str, group: str | None) -> dict[str, Any]:
        """BrokerProperties: the id, and the group as the ``SessionId`` (ordered delivery on
        session-enabled entities)."""
        return {"MessageId": message_id, "SessionId": group} if group else {"MessageId": message_id}

    def send(self, body: Body, attributes: Mapping[str, str] | None = None, *, group: str | None = None) -> str:
        return self._send([self._message(body, attributes, group)])[0]

    def send_batch(self, bodies: Iterable[Body], attributes: Mapping[str, str] | None = None) -> list[str]:
        return self._send([self._message(body, attributes, None) for body in bodies])

    def _send(self, messages: list[Message]) -> list[str]:
        batch: list[dict[str, Any]] = []
        size = 0
        for item in messages:
            if item.content_type is not None:  # the batch format carries text only: send this one raw
                if batch:  # after what came before it, keeping the caller's order
                    self._post_batch(batch)
                    batch, size = [], 0
                headers = {"Content-Type": item.content_type, "BrokerProperties": json.dumps(item.broker)}
                self._post(item.data, headers | {name: json.dumps(value) for name, value in item.user.items()})
                continue
            entry = {"Body": item.data.decode(), "BrokerProperties": item.broker, "UserProperties": item.user}
            entry_size = len(json.dumps(entry).encode())
            if batch and (len(batch) == BATCH_MESSAGES or size + entry_size > BATCH_BYTES):
                self._post_batch(batch)
                batch, size = [], 0
            batch.append(entry)
            size += entry_size
        if batch:
            self._post_batch(batch)
        return [item.id for item in messages]

    def _post_batch(self, batch: list[dict[str, Any]]) -> None:
        self._post(json.dumps(batch, ensure_ascii=False).encode(), {"Content-Type": BATCH_CONTENT_TYPE})


def open_backend(spec: SinkSpec, url: str) -> ServiceBusPublisher:
    with sdk_required():
        return ServiceBusPublisher(spec, url)
