"""What ``corefn run`` shows: the triggers at start, then one line per invocation (duration and
outcome), retries and dead letters, and a summary per handler at the end.

Colours (rich) on a terminal, plain lines otherwise (CI logs, tests). Invocations are many, so
the line is built cheaply; a worker that drains a large batch of successful no-op deliveries
prints one line for the batch instead of thousands (failures are always printed one by one).
"""

from __future__ import annotations

import itertools
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, TextIO

RECENT = 200
CONSOLE_PREFIX = "/_corefn"

_stamps: tuple[int, str] = (0, "")


def _stamp() -> str:
    """``HH:MM:SS`` of now, formatted once a second (a busy server prints thousands of lines a
    second, and ``strftime`` converts the time zone each call)."""
    global _stamps
    now = int(time.time())
    if _stamps[0] != now:
        _stamps = (now, time.strftime("%H:%M:%S", time.localtime(now)))
    return _stamps[1]

#: outcome → (plain mark, rich style)
MARKS: dict[str, tuple[str, str]] = {
    "ok": ("ok", "green"),
    "retry": ("RETRY", "yellow"),
    "dead": ("DEAD", "bold red"),
    "skipped": ("skip", "dim"),
    "replayed": ("dup", "cyan"),
}


@dataclass(slots=True)
class Tally:
    ok: int = 0
    retried: int = 0
    dead: int = 0
    skipped: int = 0
    replayed: int = 0


@dataclass
class Console:
    """Thread-safe output. ``rich`` is imported only when writing to a terminal."""

    stream: TextIO = field(default_factory=lambda: sys.stdout)
    color: bool | None = None
    tallies: dict[str, Tally] = field(default_factory=dict)
    #: the latest invocations and what runs now, for the browser console (``/_corefn/``)
    recent: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=RECENT))
    running: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: (handler, partition) → the last sequence an ordered handler finished (acked or dead-lettered)
    positions: dict[tuple[str, str], int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: Any = field(default_factory=itertools.count)
    _rich: Any = None

    def __post_init__(self) -> None:
        if self.color is None:
            self.color = self.stream.isatty()
        if self.color:
            from rich.console import Console as RichConsole

            self._rich = RichConsole(file=self.stream, highlight=False, soft_wrap=True)

    def line(self, text: str, style: str = "", flush: bool = True) -> None:
        """Write one line; ``flush=False`` leaves it in the stream's buffer for a caller that
        flushes soon (the HTTP server, once per event-loop pass: a flush per request was one
        write system call each)."""
        with self._lock:
            if self._rich is not None:
                self._rich.print(text, style=style or None, markup=False)
            else:
                self.stream.write(text + "\n")
                if flush:
                    self.stream.flush()

    def flush(self) -> None:
        with self._lock:
            self.stream.flush()

    def tally(self, handler: str) -> Tally:
        found = self.tallies.get(handler)
        if found is None:
            found = self.tallies.setdefault(handler, Tally())
        return found

    # ------------------------------------------------------------------------- invocations

    def started(self, handler: str, what: str) -> int:
        """A run began (shown as running until :meth:`finished`); returns its token."""
        token: int = next(self._ids)
        self.running[token] = {"handler": handler, "what": what, "started": time.time()}
        return token

    def finished(self, token: int) -> None:
        self.running.pop(token, None)

    def advanced(self, handler: str, partition: str, sequence: int) -> None:
        key = (handler, partition)
        if sequence > self.positions.get(key, -1):
            self.positions[key] = sequence

    def _remember(self, handler: str | None, what: str, outcome: str, seconds: float, detail: str = "") -> None:
        self.recent.append(
            {"n": next(self._ids), "at": time.time(), "handler": handler, "what": what, "status": outcome,
             "ms": round(seconds * 1000, 1), "detail": detail}
        )

    def invocation(self, handler: str, what: str, outcome: str, seconds: float, detail: str = "") -> None:
        self._remember(handler, what, outcome, seconds, detail)
        mark, style = MARKS[outcome]
        stamp = time.strftime("%H:%M:%S")
        text = f"{stamp} {mark:<5} {handler} {what} {seconds * 1000:.1f} ms"
        self.line(text + (f"  {detail}" if detail else ""), style if outcome != "ok" else "")

    def batch(self, handler: str, count: int, seconds: float) -> None:
        self._remember(handler, f"{count} deliveries", "ok", seconds)
        stamp = time.strftime("%H:%M:%S")
        self.line(f"{stamp} ok    {handler} {count} deliveries in {seconds * 1000:.1f} ms")

    def http(self, method: str, path: str, status: int, handler: str | None, seconds: float, flush: bool = True) -> None:
        style = "red" if status >= 500 else "yellow" if status >= 400 else ""
        if not path.startswith(CONSOLE_PREFIX):  # the console's own polling is not the app's traffic
            self._remember(handler, f"{method} {path}", str(status), seconds)
        self.line(f"{_stamp()} {status}   {method} {path} {handler or '-'} {seconds * 1000:.1f} ms", style, flush)

    def warn(self, text: str) -> None:
        self.line(f"warning: {text}", "yellow")

    # ----------------------------------------------------------------------------- summary

    def summary(self) -> None:
        if not self.tallies:
            self.line("summary: nothing was delivered")
            return
        width = max(len("handler"), *(len(name) for name in self.tallies))
        self.line("summary:", "bold")
        dups = any(t.replayed for t in self.tallies.values())  # the column only when idempotency answered
        self.line(f"  {'handler':<{width}}  {'ok':>6} {'retried':>8} {'dead':>6} {'skipped':>8}" + (f" {'replayed':>8}" if dups else ""))
        for name, t in sorted(self.tallies.items()):
            extra = f" {t.replayed:>8}" if dups else ""
            self.line(f"  {name:<{width}}  {t.ok:>6} {t.retried:>8} {t.dead:>6} {t.skipped:>8}{extra}", "red" if t.dead else "")

    @property
    def dead_total(self) -> int:
        return sum(t.dead for t in self.tallies.values())
