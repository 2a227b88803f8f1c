"""What a handler may know about its invocation besides the event itself."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping

TYPE_CHECKING = False
if TYPE_CHECKING:
    import logging
    from typing import Any

    from corefn.app import App


class _Sinks(Mapping[str, "Any"]):
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


class Context:
    """Invocation facts: ``invocation_id`` (the provider's request id), ``cloud`` (aws, azure,
    gcp, openwhisk or local), ``function`` (the handler name), a ``deadline`` in
    ``time.time()`` seconds, a ``logger`` that stamps every line with the invocation and event
    ids, and ``sinks``. ``raw`` is the provider's own context object (the Lambda context, ...).
    ``idempotency`` is where a runtime keeps idempotent handlers' records when it has a store of
    its own (the local runtime); ``None`` means the sink the handler declares.

    A runtime that learns the deadline by asking (Lambda's ``get_remaining_time_in_millis()``)
    passes the question as ``remaining_ms`` instead of a ``deadline``: it is asked when
    ``deadline`` is first read, so an invocation that never reads it never pays for the call.
    The answer is the same as asking up front: Lambda derives the milliseconds left from a fixed
    deadline, so now + remaining is that deadline whenever it is asked.
    """

    __slots__ = ("cloud", "invocation_id", "function", "_deadline", "_remaining_ms", "app", "raw", "event_id", "idempotency", "_logger")

    def __init__(
        self,
        cloud: str = "local",
        invocation_id: str | None = None,
        function: str | None = None,
        deadline: float | None = None,
        app: App | None = None,
        raw: Any = None,
        event_id: str | None = None,
        remaining_ms: Callable[[], float | None] | None = None,
    ) -> None:
        self.cloud = cloud
        self.invocation_id = invocation_id or os.urandom(16).hex()
        self.function = function
        self._deadline = deadline
        self._remaining_ms = remaining_ms
        self.app = app
        self.raw = raw
        self.event_id = event_id
        self.idempotency: Any = None
        self._logger: logging.LoggerAdapter[logging.Logger] | None = None

    def __repr__(self) -> str:
        return f"Context(cloud={self.cloud!r}, invocation_id={self.invocation_id!r}, function={self.function!r})"

    @property
    def deadline(self) -> float | None:
        """The instant, in ``time.time()`` seconds, the provider kills the invocation; ``None``
        if unbounded."""
        if self._remaining_ms is not None:
            milliseconds, self._remaining_ms = self._remaining_ms(), None
            self._deadline = None if milliseconds is None else time.time() + milliseconds / 1000
        return self._deadline

    @deadline.setter
    def deadline(self, value: float | None) -> None:
        self._deadline, self._remaining_ms = value, None

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

    def start_flow(self, name: str, data: Any = None, *, key: str | None = None) -> str:
        """Start a run of the app's flow ``name`` with input ``data`` (JSON, within the step
        payload limit) and return its id; ``key`` makes the start idempotent (a second start
        with the same key returns the first run's id). Locally the run is recorded in the state
        folder and the running ``corefn run`` (or the next one) executes it; on a cloud the adapter
        starts it in the cloud's workflow service (:mod:`corefn.flows.deploying`)."""
        from corefn.errors import ConfigurationError

        if self.app is None:
            raise ConfigurationError("ctx.start_flow needs the context of a dispatched handler (it knows the app)")
        self.app.get_flow(name)
        if self.cloud != "local":  # the cloud's workflow service, through its adapter
            from corefn.flows.deploying import start_on_cloud

            return start_on_cloud(self, name, data, key)
        from corefn.flows.store import start_run
        from corefn.sinks import state_dir

        return start_run(state_dir(), name, data, key, started_by=self.function)
