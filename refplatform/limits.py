"""Request limits of the reference platform, enforced before a body is in memory.

- ``BodyLimit`` (ASGI middleware): a declared ``Content-Length`` over the route's limit is refused
  at once; a chunked body is counted as it arrives and refused with ``413 too_large`` the moment
  it passes the limit, so a 200 MB upload costs the server one chunk of memory, not 200 MB.
- JSON nesting and numbers are bounded by the contract's models (``counter_app.sync.models``):
  a body nested 100,000 deep is a ``400``, never a stack overflow.
- ``allowed_methods``: the ``Allow`` header of a ``405`` lists every method the path serves.
"""
from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.routing import Match

from counter_app.sync import contract as C

MAX_JSON_BYTES = 2 * 1024 * 1024  # a case JSON is ~20 KB; attachments travel separately


class BodyTooLarge(HTTPException):
    """Raised from ``receive``: FastAPI re-raises HTTPExceptions met while reading a body."""

    def __init__(self, limit: int):
        super().__init__(413, f"body over {limit} bytes")
        self.limit = limit


def _json_413(limit: int) -> bytes:
    mb = max(1, limit // (1024 * 1024))
    return json.dumps(C.error_body(C.E_TOO_LARGE, f"请求内容超过{mb}MB上限，平台拒绝接收。"),
                      ensure_ascii=False).encode("utf-8")


class BodyLimit:
    """Pure ASGI middleware. ``limit_for(scope)`` gives the byte limit of one request."""

    def __init__(self, app, *, attachment_prefix: str, json_limit: int = MAX_JSON_BYTES,
                 attachment_limit: int = C.MAX_ATTACHMENT_BYTES):
        self.app = app
        self.attachment_prefix = attachment_prefix
        self.json_limit = json_limit
        self.attachment_limit = attachment_limit

    def limit_for(self, scope) -> int:
        if scope.get("method") == "PUT" and scope.get("path", "").startswith(self.attachment_prefix):
            return self.attachment_limit
        return self.json_limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = next((v for k, v in scope.get("headers", []) if k == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(send, limit)
            return
        seen = 0
        started = False

        async def counted_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(send, limit)

    @staticmethod
    async def _refuse(send, limit: int) -> None:
        body = _json_413(limit)
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


def allowed_methods(app, scope) -> list[str]:
    """Every method some route serves at this path (for the ``Allow`` header of a 405)."""
    methods: set[str] = set()
    for route in app.router.routes:
        match, _ = route.matches(scope)
        if match is not Match.NONE and getattr(route, "methods", None):
            methods |= set(route.methods)
    return sorted(methods)
