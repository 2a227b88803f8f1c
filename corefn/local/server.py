"""The local HTTP server: a small hand-written ASGI app served by uvicorn.

Everything HTTP-specific that the clouds share — routing, 404 / 405, CORS, the API key check,
turning a handler's return value into a response — is :func:`corefn.dispatch.dispatch_http`'s
job; this module only does what a gateway in front of it does:

- binds ``127.0.0.1`` unless told otherwise (a laptop's runtime is not a public server);
- refuses bodies over the size limit with 413 before reading them whole (Lambda's 6 MB
  synchronous payload limit by default), from ``content-length`` or while streaming;
- answers 504 when the handler has not answered within the timeout (API Gateway's 29 s). The
  handler's thread cannot be killed; it finishes in the background, its answer discarded, as a
  Lambda keeps running after API Gateway has given up.

How handlers run: every request's dispatch runs in a thread pool, sync and ``async def`` handlers
alike (see :class:`Dispatcher` for how fast handlers share thread hops). ``dispatch_http`` runs
async handlers on an event loop kept per pool thread (:func:`corefn.dispatch.call_handler`), so
an async handler runs on a loop of its own, as it does in a Lambda or Azure worker, and a handler
that blocks (``time.sleep``, a sync SDK call) stalls one pool thread, never the server's loop.
Awaiting async handlers on the server loop would save the hop, but it would need a second copy
of ``dispatch_http`` (CORS, API key, error mapping) that could drift from the one the clouds use.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from corefn.context import Context
from corefn.dispatch import dispatch_http
from corefn.events.http import HttpRequest, HttpResponse
from corefn.kit.asgi import (
    Receive,
    Scope,
    Send,
    TooLarge,
    http_request,
    lifespan,
    read_body,
    scope_headers,
    send_response,
)
from corefn.local.console import CONSOLE_PREFIX
from corefn.local.idempotency import ImmediateRecords

if TYPE_CHECKING:
    from corefn.app import App
    from corefn.local.console import Console
    from corefn.local.settings import Settings

#: how finely request timeouts are timed (seconds): requests due in the same tick share a timer
TICK = 0.01


def _json(status: int, text: str) -> HttpResponse:
    return HttpResponse.json({"error": text}, status)


class LocalGateway:
    """The ASGI application."""

    def __init__(
        self, app: App, settings: Settings, console: Console | None = None, threads: int = 32, web: Any = None
    ) -> None:
        self.app = app
        self.timeout = settings.http_timeout
        self.max_body = settings.max_body
        self.console = console
        self.dispatcher = Dispatcher(app, threads)
        self.web = web  # the browser console (corefn.local.webconsole.WebConsole), under /_corefn/
        self._flush_due = False
        self._due: dict[float, set[asyncio.Future[HttpResponse]]] = {}  # timeout tick -> requests due then
        self._expired: set[asyncio.Future[HttpResponse]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        if self.web is not None and (scope["path"] == CONSOLE_PREFIX or scope["path"].startswith(CONSOLE_PREFIX + "/")):
            await self.web(scope, receive, send)
            return
        started = time.perf_counter()
        try:
            body = await read_body(scope, receive, self.max_body)
        except TooLarge:
            response = _json(413, f"request body larger than {self.max_body} bytes")
            await send_response(send, response)
            self._log(scope, response, None, started)
            return
        request = http_request(scope, scope_headers(scope), body, os.urandom(16).hex())  # uuid4().hex's content, no UUID object
        ctx = Context(cloud="local", app=self.app, invocation_id=request.id or "", deadline=time.time() + self.timeout)
        if self.web is not None:  # under corefn run: idempotent routes keep their records in the runtime's store
            ctx.idempotency = ImmediateRecords(self.web.runtime.store)
        future = self.dispatcher.submit(request, ctx)
        due = self._expire_at(future)
        try:
            response = await future
        except asyncio.CancelledError:
            if future not in self._expired:  # the request itself was cancelled (shutdown)
                raise
            self._expired.discard(future)
            response = HttpResponse.json(
                {"error": f"handler did not answer within {self.timeout:g} s", "invocation_id": ctx.invocation_id}, 504
            )
        finally:
            bucket = self._due.get(due)
            if bucket is not None:
                bucket.discard(future)
        await send_response(send, response)
        self._log(scope, response, ctx.function, started)

    def _expire_at(self, future: asyncio.Future[HttpResponse]) -> float:
        """Arrange for ``future`` to be cancelled, and so answered 504, at the timeout. Deadlines
        are rounded up to ``TICK`` and share one timer per tick: ``asyncio.wait_for`` put a timer
        per request into the loop's heap, whose Python-level comparisons cost more, at a few
        thousand requests a second, than the rest of the request's bookkeeping."""
        loop = asyncio.get_running_loop()
        due = math.ceil((loop.time() + self.timeout) / TICK) * TICK
        bucket = self._due.get(due)
        if bucket is None:
            bucket = self._due[due] = set()
            loop.call_at(due, self._expire, due)
        bucket.add(future)
        return due

    def _expire(self, due: float) -> None:
        for future in self._due.pop(due, ()):
            if not future.done():
                self._expired.add(future)
                future.cancel()  # a pool thread still running it finds the future cancelled: its answer is dropped

    def _log(self, scope: Scope, response: HttpResponse, handler: str | None, started: float) -> None:
        console = self.console
        if console is not None:
            console.http(scope["method"], scope["path"], response.status, handler, time.perf_counter() - started, flush=False)
            if not self._flush_due:  # one flush per event-loop pass, however many requests it answered
                self._flush_due = True
                asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_due = False
        if self.console is not None:
            self.console.flush()


class Dispatcher:
    """Runs ``dispatch_http`` off the event loop, with fewer thread hops under load.

    A hop to a pool thread and back costs two thread wake-ups, more than a small handler's whole
    run. So requests for handlers observed to be fast (under ``FAST`` seconds on average) that
    arrive in the same loop iteration go to the pool as one job and come back in one
    ``call_soon_threadsafe``; a handler with no history yet, or a slow one, gets a pool thread of
    its own, so it never delays another request. A usually-fast handler that suddenly blocks can
    delay the requests batched behind it once; its average then moves it to the slow side.
    """

    FAST = 0.002

    def __init__(self, app: App, threads: int) -> None:
        self.app = app
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="corefn-http")
        self.speed: dict[str, float] = {}
        self.batch: list[tuple[HttpRequest, Context, asyncio.Future[HttpResponse]]] = []

    def submit(self, request: HttpRequest, ctx: Context) -> asyncio.Future[HttpResponse]:
        loop = asyncio.get_running_loop()
        spec = self.app.router.match(request.method, request.path)[0]
        average = self.speed.get(spec.name) if spec is not None else 0.0
        if average is None or average >= self.FAST:
            return loop.run_in_executor(self.pool, self._timed, request, ctx)
        future: asyncio.Future[HttpResponse] = loop.create_future()
        self.batch.append((request, ctx, future))
        if len(self.batch) == 1:
            loop.call_soon(self._flush, loop)
        return future

    def _timed(self, request: HttpRequest, ctx: Context) -> HttpResponse:
        started = time.perf_counter()
        try:
            return dispatch_http(self.app, request, ctx)
        finally:
            self._observe(ctx.function, time.perf_counter() - started)

    def _observe(self, name: str | None, seconds: float) -> None:
        if name is not None:
            old = self.speed.get(name)
            self.speed[name] = seconds if old is None or seconds > old * 10 else 0.8 * old + 0.2 * seconds

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        batch, self.batch = self.batch, []
        self.pool.submit(self._run_batch, loop, batch)

    def _run_batch(self, loop: asyncio.AbstractEventLoop, batch: list[tuple[HttpRequest, Context, asyncio.Future[HttpResponse]]]) -> None:
        done: list[tuple[asyncio.Future[HttpResponse], HttpResponse | None, BaseException | None]] = []
        for request, ctx, future in batch:
            try:
                done.append((future, self._timed(request, ctx), None))
            except BaseException as error:  # dispatch_http answers 500 itself; this is a bug
                done.append((future, None, error))
        loop.call_soon_threadsafe(_resolve, done)


def _resolve(done: list[tuple[asyncio.Future[HttpResponse], HttpResponse | None, BaseException | None]]) -> None:
    for future, response, error in done:
        if future.done():  # timed out meanwhile
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(response)  # type: ignore[arg-type]


def serve_in_background(gateway: LocalGateway, host: str, port: int, on_started: Callable[[], None] | None = None) -> None:
    """Run uvicorn in a daemon thread (it then installs no signal handler): for apps without HTTP
    routes, whose main thread waits for SIGINT / SIGTERM itself and exits 0, as before the
    console existed."""
    import threading

    thread = threading.Thread(target=serve, args=(gateway, host, port, on_started), name="corefn-console", daemon=True)
    thread.start()


def serve(gateway: LocalGateway, host: str, port: int, on_started: Callable[[], None] | None = None) -> None:
    """Run uvicorn in this thread until SIGINT / SIGTERM (uvicorn installs the handlers)."""
    import uvicorn

    config = uvicorn.Config(
        gateway, host=host, port=port, lifespan="off", access_log=False, log_level="warning",
        server_header=False, timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    if on_started is not None:
        original = server.startup

        async def startup(sockets: Any = None) -> None:
            await original(sockets=sockets)
            on_started()

        server.startup = startup  # type: ignore[method-assign]
    server.run()
