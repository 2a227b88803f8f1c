"""Every corefn event as a CloudEvents 1.0 event, and back: corefn's types, sources, subjects and
extensions are documented with the mapping in :mod:`corefn.cloudevents`.

The mapping itself lives in the core (:mod:`corefn.cloudevents`, no SDK), shared with the core's
publishers; this module re-exports it and adds the SDK's objects.

:func:`to_cloudevent` / :func:`from_cloudevent` work on the SDK's ``CloudEvent`` (the
``cloudevents`` package, ``pip install 'corefn[knative]'``), so a publisher sends it with the SDK's
``to_binary`` / ``to_structured``; :func:`to_json_form` / :func:`from_json_form` work on the
JSON-format dict and need no SDK.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from corefn import cloudevents as _core
from corefn.cloudevents import TYPES, is_json_type, kind_of, split_subject, to_json_form, type_of
from corefn.errors import MissingExtraError
from corefn.events import Event
from corefn_knative._envelope import PROVIDER, KnativeReader

if TYPE_CHECKING:
    from cloudevents.http import CloudEvent

_TEXT = "text/plain; charset=utf-8"


def from_json_form(raw: dict[str, Any], shape: str = "corefn-cloudevent") -> Event:
    """The corefn event a ``dev.corefn.*`` CloudEvent (JSON form) carries, errors naming the
    Knative adapter (:func:`corefn.cloudevents.from_json_form`)."""
    return _core.from_json_form(raw, shape, PROVIDER)


# ------------------------------------------------------------------------------- the SDK


def _sdk() -> Any:
    try:
        from cloudevents import http
    except ImportError:
        raise MissingExtraError("cloudevents", "knative") from None
    return http


def to_cloudevent(event: Event) -> CloudEvent:
    """``event`` as the ``cloudevents`` SDK's CloudEvent (data as bytes where the JSON form has
    ``data_base64``), ready for ``cloudevents.conversion.to_binary`` / ``to_structured``."""
    form = to_json_form(event)
    data: Any = form.pop("data", None)
    encoded = form.pop("data_base64", None)
    if encoded is not None:
        import base64

        data = base64.b64decode(encoded)
    elif isinstance(data, str) and form.get("datacontenttype") == _TEXT:
        # the SDK's binary mode writes a str as a JSON string ("\"text\""): give it the bytes
        data = data.encode("utf-8")
    return _sdk().CloudEvent.create(form, data)  # type: ignore[no-any-return]


def from_cloudevent(ce: CloudEvent | dict[str, Any]) -> Event:
    """The corefn event carried by a ``dev.corefn.*`` CloudEvent: the SDK's object or its JSON
    form. Raises :class:`~corefn.errors.EventShapeError` for anything else."""
    if isinstance(ce, dict):
        return from_json_form(ce)
    form: dict[str, Any] = dict(ce.get_attributes())
    data = ce.get_data()
    if isinstance(data, (bytes, bytearray, str)) and is_json_type(form.get("datacontenttype")):
        # the SDK hands JSON data over as its text when read with data_unmarshaller=lambda b: b
        # (the body's bytes in binary mode, the value re-serialised in structured mode)
        try:
            data = json.loads(data)
        except ValueError:
            raise KnativeReader("corefn-cloudevent").error("data", "is not the JSON its datacontenttype says") from None
    if isinstance(data, (bytes, bytearray)):
        import base64

        form["data_base64"] = base64.b64encode(bytes(data)).decode("ascii")
    elif data is not None:
        form["data"] = data
    return from_json_form(form)


__all__ = ["TYPES", "from_cloudevent", "from_json_form", "kind_of", "split_subject", "to_cloudevent", "to_json_form", "type_of"]
