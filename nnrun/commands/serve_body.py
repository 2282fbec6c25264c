"""How ``nnrun serve`` takes request bodies: a body larger than the server's limit is
refused (413) before it is parsed, in the JSON every error of the server has; a body
sent as a form (``curl -d``'s default Content-Type) or with none is read as JSON."""

from __future__ import annotations

import asyncio
import json


class BodyLimit:
    """ASGI middleware that answers 413 to a request body larger than ``max_body_bytes``:
    at once when its Content-Length says so, before a byte of it is read, and for a body
    without one (chunked) as soon as the bytes received pass the limit. The application
    then sees the client leave, and whatever it would answer is dropped.

    Not FastAPI's ``max_body_size``: only its newest releases have it (older ones take the
    keyword as an extra and bound nothing), and it answers a Content-Length past the limit
    with plain text, where a client of this server reads JSON."""

    def __init__(self, app, max_body_bytes: int) -> None:
        self.app, self.max_body_bytes = app, max_body_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_body_bytes:  # the server refused any other value
            return await self._refuse(send)
        received, started, refused = 0, False, False

        async def counting_receive():
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    refused = True
                    if not started:
                        await self._refuse(send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            if not refused:
                await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except asyncio.CancelledError:
            # Shutting down, the server cancels a request still waiting for its body from a
            # client that stalled: it is told so, and no traceback is printed for it.
            if not started:
                await _answer(send, 503, "the server is shutting down and the request's body did not arrive in "
                                         "time; send it again to a running server", "shutting_down")

    async def _refuse(self, send) -> None:
        await _answer(send, 413, f"the body is larger than {self.max_body_bytes} bytes, the most this server "
                                 "accepts; send fewer instances in each request, or start nnrun serve with a larger "
                                 "--max-body-bytes", "too_large")


class FormAsJson:
    """ASGI middleware that reads a POST body sent as ``application/x-www-form-urlencoded``
    (what ``curl -d`` sends unless told otherwise) or with no Content-Type as the JSON it
    is: the server takes nothing else, so there is no form to mistake it for."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            headers = [(k, v) for k, v in scope["headers"] if k != b"content-type"]
            sent = dict(scope["headers"]).get(b"content-type", b"").split(b";")[0].strip().lower()
            if sent in (b"", b"application/x-www-form-urlencoded"):
                scope = {**scope, "headers": [*headers, (b"content-type", b"application/json")]}
        await self.app(scope, receive, send)


async def _answer(send, status: int, message: str, kind: str) -> None:
    """An error answered by the middleware itself, in the body every error of the server has."""
    body = json.dumps({"detail": [{"loc": ["body"], "instance": None, "field": None, "msg": message, "type": kind}]},
                      separators=(",", ":")).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
