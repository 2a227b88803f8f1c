"""Direct invocation with a JSON payload (Lambda Invoke, OpenWhisk action invoke, `corefn invoke`).

``name`` is the invoke handler asked for, when the caller says (``corefn invoke APP NAME``); on the
clouds the deployed function already is that handler.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from corefn.events.base import Event


@dataclass(frozen=True, slots=True, kw_only=True)
class InvokeEvent(Event):
    kind: ClassVar[str] = "invoke"
    payload: Any = None
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": "invoke", "payload": self.payload}
        if self.name is not None:
            out["name"] = self.name
        if self.id is not None:
            out["id"] = self.id
        return out
