"""A Knative Broker as a publisher: each message is POSTed to the Broker's ingress as a
binary-mode CloudEvent (HTTP protocol binding: attributes as ``ce-`` headers, the body as is).

URL: ``knative://HOST[:PORT]/NAMESPACE/BROKER`` (plain HTTP, what a Broker's in-cluster ingress
serves: ``http://broker-ingress.knative-eventing.svc.cluster.local/NAMESPACE/BROKER``,
https://knative.dev/docs/eventing/brokers/) or ``knatives://`` for HTTPS. ``?type=T`` sends every
message with CloudEvent type ``T`` (a Trigger filtering on ``T`` receives it as its topic
message); without it the message is corefn's own ``dev.corefn.queue.message`` (target queue) or
``dev.corefn.topic.message`` (topic, stream) with source ``/corefn/<queue|topic>/<sink name>``
(:data:`corefn.cloudevents.MESSAGE_KINDS`), which the generated Trigger of
a topic handler declared on that name filters on.

The ingress answers 202 once the event is accepted; anything else is a :class:`SinkError`
(429 / 5xx as throttled / unavailable, so callers can retry), never a silent drop. Standard
library HTTP only: no SDK to install, nothing imported until the first send.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import ClassVar
from urllib.parse import parse_qs, quote, urlsplit

from corefn.cloudevents import MESSAGE_KINDS, TYPES
from corefn.errors import ConfigurationError, SinkError, SinkThrottledError, SinkUnavailableError
from corefn.kit.sinks import Body, Permission, SinkSpec, body_bytes, check_attributes

TIMEOUT = 30.0


class BrokerPublisher:
    families: ClassVar[tuple[str, ...]] = ("publisher",)
    private_network: ClassVar[bool] = True  # a Broker's ingress is cluster-internal
    #: every message already is a CloudEvent: ``cloudevents=True`` changes nothing here
    sends_cloudevents: ClassVar[bool] = True

    def __init__(self, spec: SinkSpec, url: str) -> None:
        parts = urlsplit(url)
        if not parts.hostname or len([p for p in parts.path.split("/") if p]) != 2:
            raise ConfigurationError(f"sink {spec.name!r}: a Broker URL is knative://HOST/NAMESPACE/BROKER, got {url!r}")
        scheme = "https" if parts.scheme == "knatives" else "http"
        self.spec = spec
        self.endpoint = f"{scheme}://{parts.netloc}{parts.path}"
        kind = MESSAGE_KINDS.get(str(spec.options.get("target") or "topic"), "topic")
        declared = parse_qs(parts.query).get("type")
        self.type = declared[0] if declared else TYPES[kind]
        self.source = f"/corefn/{kind}/{quote(spec.name, safe='')}"

    @classmethod
    def needs_private_network(cls, url: str) -> bool:
        return True

    @classmethod
    def permissions(cls, url: str, family: str) -> list[Permission]:
        """A Broker ingress takes any event from inside the cluster; restricting who may send is
        a NetworkPolicy (or Knative's sender authorization), not a grant."""
        return []

    def headers(self, data: bytes, attributes: Mapping[str, str], group: str | None) -> dict[str, str]:
        headers = {
            "ce-specversion": "1.0",
            "ce-id": str(uuid.uuid4()),
            "ce-type": self.type,
            "ce-source": self.source,
            "ce-time": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "content-type": _content_type(data),
        }
        if group is not None:
            headers["ce-partitionkey"] = quote(group, safe="")
        if attributes:  # one JSON extension, as corefn_knative.cloudevent reads them back (any name)
            headers["ce-corefnattributes"] = quote(json.dumps(dict(attributes), separators=(",", ":")), safe="")
        return headers

    def send(self, body: Body, attributes: Mapping[str, str] | None = None, *, group: str | None = None) -> str:
        import urllib.error
        import urllib.request

        data = body_bytes(body)
        headers = self.headers(data, check_attributes(attributes, self.spec.name), group)
        request = urllib.request.Request(self.endpoint, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
            detail = exc.read()[:200].decode("utf-8", "replace")
            if status == 429:
                raise SinkThrottledError(self.spec.name, f"the Broker at {self.endpoint} answered 429: {detail}", exc) from exc
            if status >= 500:
                raise SinkUnavailableError(self.spec.name, f"the Broker at {self.endpoint} answered {status}: {detail}", exc) from exc
            raise SinkError(self.spec.name, f"the Broker at {self.endpoint} refused the event ({status}): {detail}", exc) from exc
        except OSError as exc:
            raise SinkUnavailableError(self.spec.name, f"cannot reach the Broker at {self.endpoint}: {exc}", exc) from exc
        if not 200 <= status < 300:
            raise SinkError(self.spec.name, f"the Broker at {self.endpoint} answered {status}")
        return headers["ce-id"]

    def send_batch(self, bodies: Iterable[Body], attributes: Mapping[str, str] | None = None) -> list[str]:
        return [self.send(body, attributes) for body in bodies]


def _content_type(data: bytes) -> str:
    """JSON when the bytes are JSON, text when they are UTF-8, else octet-stream: what a
    consumer needs to read the body back (body_bytes sends dicts and lists as JSON)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    try:
        json.loads(text)
    except ValueError:
        return "text/plain; charset=utf-8"
    return "application/json"


def open_backend(spec: SinkSpec, url: str) -> BrokerPublisher:
    return BrokerPublisher(spec, url)
