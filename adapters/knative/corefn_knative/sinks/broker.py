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

from collections.abc import Iterable, Mapping
from typing import ClassVar
from urllib.parse import parse_qs, quote, urlsplit

from corefn.cloudevents import MESSAGE_KINDS, TYPES
from corefn.cloudevents.bindings import split_data
from corefn.cloudevents.publisher import message
from corefn.errors import ConfigurationError, SinkError, SinkThrottledError, SinkUnavailableError
from corefn.kit.sinks import Body, Permission, SinkSpec

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

    def request(self, body: Body, attributes: Mapping[str, str] | None, group: str | None) -> tuple[dict[str, str], bytes]:
        """The HTTP binary-mode request of one message: the core's CloudEvent of it
        (:func:`corefn.cloudevents.publisher.message`, what every corefn publisher sends) with
        this Broker's type, every attribute a ``ce-`` header (HTTP protocol binding §3.1.3:
        values percent-encoded where the spec asks), ``datacontenttype`` the ``content-type``."""
        form = message(self.spec, body, attributes, group)
        form["type"], form["source"] = self.type, self.source
        attributes_, data = split_data(form)
        content_type = attributes_.pop("datacontenttype", "application/octet-stream")
        headers = {f"ce-{name}": quote(value, safe=_HEADER_SAFE) for name, value in attributes_.items()}
        return {**headers, "content-type": content_type}, data

    def send(self, body: Body, attributes: Mapping[str, str] | None = None, *, group: str | None = None) -> str:
        import urllib.error
        import urllib.request

        headers, data = self.request(body, attributes, group)
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


#: what a ``ce-`` header value keeps as is: printable ASCII but the double quote and the percent
#: sign (HTTP protocol binding §3.1.3.2 percent-encodes those, spaces and anything else)
_HEADER_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"%')


def open_backend(spec: SinkSpec, url: str) -> BrokerPublisher:
    return BrokerPublisher(spec, url)
