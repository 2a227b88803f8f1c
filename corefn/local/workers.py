"""Workers: threads that claim deliveries for one handler, run it, and settle the outcome.

Each non-HTTP handler gets its own workers, so a slow handler never holds up another one. An
unordered handler (queue, topic, storage, timer) gets ``concurrency`` workers (the handler's
``concurrency`` option, else the runtime's default) that claim different rows; an ordered one
(stream, NoSQL, FIFO queue) gets a single worker that takes the head of each partition.

Handlers run through :func:`corefn.dispatch.dispatch` pinned to the handler, exactly as on a
cloud: per-message handlers one delivery per call, batch handlers up to ``batch_size`` per call
with per-record failures. A handler's exception never reaches the worker loop: it becomes a
retry (exponential back-off) or, at ``max_attempts``, a dead letter. A handler that declares a
``timeout`` and runs past it is counted failed too (its thread cannot be stopped, but a cloud
would have killed it, so the local outcome matches the deployed one).

Ordered handlers take only the head of each partition, so a batch handler on a stream gets at
most one record per partition per call (Kinesis would hand it several consecutive records of one
shard); order and blocking per partition are the same.

Claims are batched and sized from the handler's observed speed (about 50 ms of work per claim):
a no-op handler drains hundreds of rows per transaction, a slow one takes one row at a time so
parallel workers share the load.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from corefn import kinds
from corefn.context import Context
from corefn.dispatch import NotRunAfterFailure, Outcome, dispatch
from corefn.events.base import Event
from corefn.local.deliveries import to_event
from corefn.local.idempotency import LocalRecords
from corefn.local.store import Delivery, Store

if TYPE_CHECKING:
    from corefn.app import App
    from corefn.local.console import Console
    from corefn.local.settings import Settings
    from corefn.specs import HandlerSpec

class HandlerTimeout(TimeoutError):
    """A delivery whose handler outlived its declared ``timeout``: a cloud would have stopped it."""


MAX_CLAIM = 512
FIRST_CLAIM = 2  # rows per claim before the handler's speed is known
CLAIM_BUDGET = 0.05  # seconds of handler work per claim
QUIET_BATCH = 20  # successful deliveries per claim above which one summary line is printed


@dataclass
class HandlerRunner:
    """What the workers of one handler share."""

    app: App
    spec: HandlerSpec
    store: Store
    settings: Settings
    console: Console
    wake: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    _avg: float | None = None

    @property
    def ordered(self) -> bool:
        return self.spec.ordered

    @property
    def max_attempts(self) -> int:
        return self.spec.options.max_attempts or self.settings.max_attempts

    @property
    def timeout(self) -> float | None:
        return self.spec.options.timeout

    def start(self) -> None:
        count = 1 if self.ordered else max(1, self.spec.options.concurrency or self.settings.concurrency)
        for index in range(count):
            thread = threading.Thread(target=self._loop, name=f"corefn-{self.spec.name}-{index}", daemon=True)
            thread.start()
            self.threads.append(thread)

    def _claim_size(self) -> int:
        if self.spec.batch:
            return self.spec.options.batch_size or 10
        avg = self._avg
        if avg is None:  # few rows until the handler's speed is known: a slow handler's first claim of 8
            return FIRST_CLAIM  # left other workers idle (12 uploads: 8 for one worker, none for two)
        return max(1, min(MAX_CLAIM, int(CLAIM_BUDGET / max(avg, 1e-6))))

    def _loop(self) -> None:
        visibility = (self.timeout or 0) + self.settings.visibility
        while not self.stop.is_set():
            try:
                rows = self.store.claim(self.spec.name, self._claim_size(), visibility, self.ordered)
            except Exception as error:  # a locked or broken database: say so, keep trying
                self.console.warn(f"{self.spec.name}: cannot claim deliveries: {error}")
                self.stop.wait(1.0)
                continue
            if not rows:
                self._sleep()
                continue
            try:
                self.run(rows)
            except Exception as error:  # never let one batch kill the worker
                self.console.warn(f"{self.spec.name}: worker error, deliveries will be retried: {error!r}")

    def _sleep(self) -> None:
        wait = self.settings.poll
        next_visible = self.store.next_visible(self.spec.name)
        if next_visible is not None:
            wait = min(wait, max(0.005, next_visible - time.time()))
        self.wake.wait(wait)
        self.wake.clear()

    # --------------------------------------------------------------------------- running

    def run(self, rows: list[Delivery]) -> None:
        over = [row for row in rows if row.attempt > self.max_attempts]
        if over:  # their earlier attempts never settled: the runtime died in them (kill -9, a crash)
            for row in over:
                self.console.tally(self.spec.name).dead += 1
                self.console.invocation(
                    self.spec.name, _describe(row), "dead", 0.0, f"attempt {row.attempt}: the runtime died during every attempt -> dead-lettered"
                )
                self._forward_dead_letter(row)
            self.store.settle([], [], [(row.seq, "the runtime stopped during every attempt") for row in over])
            rows = [row for row in rows if row.attempt <= self.max_attempts]
            if not rows:
                return
        started = time.perf_counter()
        if self.idempotent:  # each call settles with its records in one transaction, at once
            groups = [rows] if self.spec.batch else [[row] for row in rows]
            for group in groups:
                records = LocalRecords(self.store)
                begun = time.perf_counter()
                outcomes = self._call(group, records)
                self._settle(group, outcomes, time.perf_counter() - begun, records)
            self._observe((time.perf_counter() - started) / len(rows))
            return
        if self.spec.batch:
            outcomes = self._call(rows)
        elif self.chunked:
            outcomes = self._call_each(rows)
        else:
            outcomes = []
            for row in rows:
                outcomes.extend(self._call([row]))
        elapsed = time.perf_counter() - started
        self._observe(elapsed / len(rows))
        self._settle(rows, outcomes, elapsed)

    @property
    def idempotent(self) -> bool:
        return self.spec.options.idempotent is not None

    @property
    def chunked(self) -> bool:
        """Whether a claim's rows may run as one dispatch, each row its own handler call (what a
        cloud does with a batch for a per-message handler): not for an ordered handler, whose
        claim holds the heads of several partitions that must not hold one another back, nor
        for a handler with a ``timeout``, which bounds each call on its own."""
        return not self.ordered and not self.timeout

    def _call_each(self, rows: list[Delivery]) -> list[tuple[Outcome | BaseException, float]]:
        """The rows of one claim through one dispatch: one context, one console entry and one
        handler lookup for the claim, where a dispatch per row paid them per message. A row that
        cannot become an event fails alone."""
        started = time.perf_counter()
        events: list[Event] = []
        broken: dict[int, BaseException] = {}
        for index, row in enumerate(rows):
            try:
                events.append(to_event(row))
            except Exception as error:
                broken[index] = error
        outcomes: list[Outcome | BaseException] = []
        if events:
            ctx = Context(cloud="local", app=self.app)
            token = self.console.started(self.spec.name, _describe(rows[0]) if len(rows) == 1 else f"{len(rows)} records")
            try:
                outcomes = list(dispatch(self.app, events, ctx, pinned=self.spec.name).outcomes)
            except Exception as error:  # a configuration error: every row of the claim failed
                outcomes = [error] * len(events)
            finally:
                self.console.finished(token)
        for index in sorted(broken):
            outcomes.insert(index, broken[index])
        seconds = (time.perf_counter() - started) / len(rows)
        return [(outcome, seconds) for outcome in outcomes]

    def _call(self, rows: list[Delivery], records: LocalRecords | None = None) -> list[tuple[Outcome | BaseException, float]]:
        started = time.perf_counter()
        ctx = Context(cloud="local", app=self.app, deadline=time.time() + self.timeout if self.timeout else None)
        ctx.idempotency = records
        token = self.console.started(self.spec.name, _describe(rows[0]) if len(rows) == 1 else f"{len(rows)} records")
        try:
            events = [to_event(row) for row in rows]
            result = dispatch(self.app, events, ctx, pinned=self.spec.name)
        except Exception as error:  # a broken row or a configuration error: a failed delivery
            return [(error, time.perf_counter() - started) for _ in rows]
        finally:
            self.console.finished(token)
        total = time.perf_counter() - started
        seconds = total / len(rows)
        if self.timeout and total > self.timeout:
            # the cloud would have killed the invocation: count it failed (side effects stand there too)
            late = HandlerTimeout(f"ran {total:.1f} s, over its {self.timeout:g} s timeout")
            if records is not None:
                records.fail_all()
            return [(late if isinstance(o, Outcome) and o.error is None and not o.skipped else o, seconds) for o in result.outcomes]
        return [(outcome, seconds) for outcome in result.outcomes]

    def _observe(self, seconds: float) -> None:
        self._avg = seconds if self._avg is None else 0.7 * self._avg + 0.3 * seconds

    def _settle(
        self, rows: list[Delivery], outcomes: list[tuple[Outcome | BaseException, float]], elapsed: float,
        records: LocalRecords | None = None,
    ) -> None:
        done: list[int] = []
        retry: list[tuple[int, float, str]] = []
        dead: list[tuple[int, str]] = []
        release: list[int] = []
        tally = self.console.tally(self.spec.name)
        quiet = len(rows) > QUIET_BATCH
        name = self.spec.name
        for row, (outcome, seconds) in zip(rows, outcomes, strict=True):
            error = outcome if isinstance(outcome, BaseException) else outcome.error
            if error is None:
                done.append(row.seq)
                skipped = isinstance(outcome, Outcome) and outcome.skipped
                replayed = isinstance(outcome, Outcome) and outcome.replayed
                if skipped:
                    tally.skipped += 1
                elif replayed:
                    tally.replayed += 1
                else:
                    tally.ok += 1
                if not quiet:
                    self.console.invocation(name, _describe(row), "skipped" if skipped else "replayed" if replayed else "ok", seconds)
                continue
            if isinstance(error, NotRunAfterFailure):
                release.append(row.seq)
                continue
            what = _describe(row)
            reason = f"{type(error).__name__}: {error}"
            if row.attempt >= self.max_attempts:
                dead.append((row.seq, reason))
                tally.dead += 1
                self.console.invocation(name, what, "dead", seconds, f"attempt {row.attempt}/{self.max_attempts} {reason} -> dead-lettered")
                self._forward_dead_letter(row)
            else:
                delay = self.settings.backoff(row.attempt)
                retry.append((row.seq, delay, reason))
                tally.retried += 1
                self.console.invocation(
                    name, what, "retry", seconds, f"attempt {row.attempt}/{self.max_attempts} {reason} -> retry in {delay:g} s"
                )
        if quiet and done:
            self.console.batch(name, len(done), elapsed)
        if self.ordered:  # stream positions, for the browser console
            finished = set(done) | {seq for seq, _ in dead}
            for row in rows:
                if row.seq in finished and row.partition is not None:
                    self.console.advanced(name, row.partition, row.seq)
        self.store.settle(done, retry, dead, records.apply if records is not None else None)
        self.store.release(release)

    def _forward_dead_letter(self, row: Delivery) -> None:
        """With ``dead_letter="name"``, the poison message is also published to that queue, so a
        handler can consume it (the ``<queue>-poison`` / DLQ pattern); it is always kept in the
        state folder's ``dead`` table."""
        target = self.spec.options.dead_letter
        if not target:
            return
        body = row.body if row.kind in kinds.names("message") else json.dumps(to_event(row).to_dict()).encode()
        attributes = {**row.attributes, "corefn-dead-letter-from": row.resource, "corefn-attempts": str(row.attempt)}
        self.store.publish(target, [(body, attributes, row.key)])


def _describe(row: Delivery) -> str:
    if row.kind == "storage":
        return f"{row.resource}/{row.meta.get('key')} ({row.meta.get('operation')})"
    if row.kind == "timer":
        return f"tick {row.meta.get('time')}{' past due' if row.meta.get('past_due') else ''}"
    if row.partition is not None and row.kind == "stream":
        return f"{row.kind} {row.resource}[{row.partition}] #{row.seq} id={row.id}"
    return f"{row.kind} {row.resource} id={row.id}"
