"""The few ASGI steps every corefn HTTP server takes the same way: the local gateway
(:mod:`corefn.local.server`) and the servers adapters run in a container (the Knative runtime).
Public and stable for adapters; one copy, so a fix (the ``content-length`` that keeps uvicorn
from sending a body chunked, the 413 before a body is read whole) reaches every server.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from corefn.events.base import Body, Headers, Query
from corefn.events.http import HttpRequest, HttpResponse

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class TooLarge(Exception):
    """The request body is over the server's limit (answer 413)."""


def scope_headers(scope: Scope) -> Headers:
    return Headers([(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]])


async def read_body(scope: Scope, receive: Receive, max_body: int) -> bytes:
    """The whole request body; :class:`TooLarge` as soon as ``content-length`` or the bytes
    streamed so far pass ``max_body``, so an oversized body is never held in memory."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                if int(value) > max_body:
                    raise TooLarge
            except ValueError:
                pass
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_body:
            raise TooLarge
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def http_request(scope: Scope, headers: Headers, body: bytes, request_id: str, *, forwarded: bool = False) -> HttpRequest:
    """The corefn request of an ASGI ``http`` scope. ``forwarded``: the server sits behind a proxy
    (Knative's queue-proxy and ingress), so the client is the first ``X-Forwarded-For`` address."""
    client = (scope.get("client") or (None,))[0]
    if forwarded:
        client = headers.get("x-forwarded-for", "").split(",")[0].strip() or client
    return HttpRequest(
        method=scope["method"], path=scope["path"], headers=headers, query=Query(scope["query_string"].decode("latin-1")),
        body=Body(body), client_ip=client, id=request_id,
    )


async def send_response(send: Send, response: HttpResponse) -> None:
    headers = [(k.lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in response.headers.items()]
    if not any(name == b"content-length" for name, _ in headers):  # else uvicorn sends the body chunked
        headers.append((b"content-length", str(len(response.body)).encode()))
    headers.extend((b"set-cookie", c.encode("latin-1")) for c in response.cookies)
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


async def lifespan(receive: Receive, send: Send) -> None:
    """Answer the ASGI lifespan protocol (nothing to start or stop)."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


__all__ = ["Receive", "Scope", "Send", "TooLarge", "http_request", "lifespan", "read_body", "scope_headers", "send_response"]
