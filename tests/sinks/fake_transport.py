"""The part of azure-core's HttpTransport protocol that in-memory fakes all answer the same way."""

from __future__ import annotations

from typing import Any, Self


class FakeTransport:
    """A context manager that opens and closes nothing: the fakes that subclass it keep their
    state in memory and answer ``send(request)`` themselves."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *args: Any) -> None:
        pass

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass
