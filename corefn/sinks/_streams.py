"""What object stores wrap around an SDK's streams, the same way on every cloud.

A download read as the caller goes must fail like every other call (the SinkError family, not
the SDK's exception), and an upload from a caller's one-pass stream must report its size
without asking the service again. Blob Storage and Cloud Storage had a copy of each; S3's
:class:`corefn.sinks.s3compat.GuardedStream` differs on purpose (unbuffered, ``read()`` all at
once straight from botocore's body) and stays its own.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import IO, Any

from corefn.sinks._errors import Translate, translated


class TranslatedReader(io.RawIOBase):
    """A raw stream over an SDK's ``read(n)`` whose errors are translated for ``sink``; ``close``
    (if given) releases the SDK's reader once. Wrap it in ``io.BufferedReader`` for small reads."""

    def __init__(
        self, read: Callable[[int], bytes], sink: str, translate: Translate, close: Callable[[], object] | None = None
    ) -> None:
        super().__init__()
        self._read = read
        self._sink = sink
        self._translate = translate
        self._close = close

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        with translated(self._sink, self._translate):
            data = self._read(len(view))
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed and self._close is not None:
            self._close()
        super().close()


class CountingReader(io.RawIOBase):
    """A caller's stream, counting what the SDK reads from it, so ``put`` can report the size.
    ``tell()`` is the count: Cloud Storage's resumable upload asks for it (it only seeks to
    recover a failed chunk, which a one-pass source cannot replay anyway)."""

    def __init__(self, source: IO[bytes]) -> None:
        super().__init__()
        self._source = source
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        readinto = getattr(self._source, "readinto", None)
        if readinto is not None:  # no intermediate copy of each block
            done = int(readinto(view) or 0)
        else:
            data = self._source.read(len(view)) or b""
            view[: len(data)] = data
            done = len(data)
        self.count += done
        return done

    def tell(self) -> int:
        return self.count
