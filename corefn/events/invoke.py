"""Direct invocation with a JSON payload (Lambda Invoke, OpenWhisk action invoke, `corefn invoke`).

``name`` is the invoke handler asked for, when the caller says (``corefn invoke APP NAME``); on the
clouds the deployed function already is that handler.
"""

from __future__ import annotations

from corefn._record import _set
from corefn.events.base import Event

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar


class InvokeEvent(Event):
    __slots__ = ("payload", "name")
    kind: ClassVar[str] = "invoke"
    payload: Any
    name: str | None

    def __init__(self, *, payload: Any = None, name: str | None = None, id: str | None = None, raw: Any = None) -> None:
        _set(self, "payload", payload)
        _set(self, "name", name)
        _set(self, "id", id)
        _set(self, "raw", raw)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": "invoke", "payload": self.payload}
        if self.name is not None:
            out["name"] = self.name
        if self.id is not None:
            out["id"] = self.id
        return out
