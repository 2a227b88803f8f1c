"""What a handler may know about its invocation besides the event itself."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import logging

    from corefn.app import App


class _Sinks(Mapping[str, Any]):
    """``ctx.sinks["thumbnails"]``: the app's declared sinks by logical name."""

    __slots__ = ("_app",)

    def __init__(self, app: App | None) -> None:
        self._app = app

    def __getitem__(self, name: str) -> Any:
        if self._app is None:
            raise KeyError(name)
        return self._app.sink(name)

    def __iter__(self) -> Any:
        return iter(() if self._app is None else [s.name for s in self._app.sinks])

    def __len__(self) -> int:
        return 0 if self._app is None else len(self._app.sinks)


@dataclass(slots=True)
class Context:
    """Invocation facts: ``invocation_id`` (the provider's request id), ``cloud`` (aws, azure,
    gcp, openwhisk or local), ``function`` (the handler name), a ``deadline`` in
    ``time.time()`` seconds, a ``logger`` that stamps every line with the invocation and event
    ids, and ``sinks``. ``raw`` is the provider's own context object (the Lambda context, ...).
    """

    cloud: str = "local"
    invocation_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    function: str | None = None
    deadline: float | None = None
    app: App | None = field(default=None, repr=False)
    raw: Any = field(default=None, repr=False)
    event_id: str | None = None
    _logger: logging.LoggerAdapter[logging.Logger] | None = field(default=None, repr=False)

    def remaining(self) -> float | None:
        """Seconds left before the provider kills the invocation, or ``None`` if unbounded."""
        return None if self.deadline is None else max(0.0, self.deadline - time.time())

    @property
    def logger(self) -> logging.LoggerAdapter[logging.Logger]:
        if self._logger is None or self._logger.extra.get("event_id") != self.event_id:  # type: ignore[union-attr]
            from corefn.log import handler_logger

            self._logger = handler_logger(self)
        return self._logger

    @property
    def sinks(self) -> Mapping[str, Any]:
        return _Sinks(self.app)
