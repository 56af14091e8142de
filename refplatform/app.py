"""The HTTP face of the reference platform (FastAPI): the routes of ``docs/openapi.yaml``.

Handlers are thin: parse the request, call :class:`PlatformStore`, shape the answer. Errors are
JSON ``{"code", "message", "detail"}`` with a Chinese message; the window shows ``message`` as is.
Request bodies are parsed by hand rather than through pydantic models so that every refusal carries
the contract's error code and a message a clerk can act on.

Personal data never reaches a log: look-ups are POSTs (the ID number is in the body, not the URL)
and the access log is off unless asked for.
"""
from __future__ import annotations

import datetime as _dt
import json
import re
import threading
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from refplatform.store import PlatformError, PlatformStore
from counter_app.sync import contract as C

P = C.API_PREFIX
_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")
_COMPLETE = re.compile(r"^bytes \*/(\d+)$")


def create_app(store: PlatformStore, *, tick_seconds: float | None = None) -> FastAPI:
    """``tick_seconds``: how often the department clock applies due steps in the background."""
    stop = threading.Event()
    tick = tick_seconds if tick_seconds is not None else max(0.05, min(1.0, store.clock.step_seconds / 4))

    def ticker() -> None:
        while not stop.wait(tick):
            try:
                store.advance()
            except Exception:  # noqa: BLE001 - the clock must keep running; next tick retries
                pass

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        t = threading.Thread(target=ticker, name="department-clock", daemon=True)
        t.start()
        try:
            yield
        finally:
            stop.set()
            t.join(5)

    app = FastAPI(title="省一体化政务服务平台（参考实现）退役军人服务“一件事”接口", version="1.0.0",
                  lifespan=lifespan, openapi_url=P + "/openapi.json", docs_url=None, redoc_url=None)
    app.state.store = store

    @app.exception_handler(PlatformError)
    async def _platform_error(_req: Request, exc: PlatformError):
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_req: Request, exc: RequestValidationError):
        return JSONResponse(C.error_body(C.E_INVALID_REQUEST, "请求参数不正确。"), status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_req: Request, exc: StarletteHTTPException):
        code = C.E_NOT_FOUND if exc.status_code == 404 else C.E_INVALID_REQUEST
        msg = "接口不存在（请检查平台地址与接口版本）。" if exc.status_code == 404 else "请求方式不正确。"
        return JSONResponse(C.error_body(code, msg), status_code=exc.status_code)

    def window(request: Request) -> str:
        auth = request.headers.get("authorization", "")
        label = None
        if auth[:7].lower() == "bearer ":
            label = store.authenticate(auth[7:].strip())
        if label is None:
            raise PlatformError(401, C.E_UNAUTHORIZED, "窗口凭据无效或缺失，请重新登记省平台窗口凭据。",
                                headers={"WWW-Authenticate": 'Bearer realm="counter-app"'})
        return label

    async def json_body(request: Request) -> Any:
        raw = await request.body()
        try:
            return json.loads(raw or b"null")
        except ValueError:
            raise PlatformError(400, C.E_INVALID_REQUEST, "请求体不是有效的JSON。") from None

    @app.get(P + "/health")
    def health():
        return {"status": "ok", "service": C.SERVICE_NAME, "api": "v1",
                "time": store.clock.now().isoformat(timespec="seconds")}

    @app.get(P + "/auth/whoami")
    def whoami(label: str = Depends(window)):
        return {"window": label}

    @app.get(P + "/worklist")
    def worklist(center_code: str, date: str | None = None, _w: str = Depends(window)):
        day = None
        if date:
            try:
                day = _dt.date.fromisoformat(date)
            except ValueError:
                raise PlatformError(400, C.E_INVALID_REQUEST, "日期格式应为YYYY-MM-DD。") from None
        return store.worklist(center_code, day)

    @app.post(P + "/attachments/query")
    async def attachments_query(request: Request, _w: str = Depends(window)):
        body = await json_body(request)
        hashes = body.get("sha256") if isinstance(body, dict) else None
        if not isinstance(hashes, list):
            raise PlatformError(400, C.E_INVALID_REQUEST, "请求体应为 {\"sha256\": [...]}。")
        return await run_in_threadpool(store.attachment_states, hashes)

    @app.head(P + "/attachments/{sha256}")
    def attachment_head(sha256: str, _w: str = Depends(window)):
        _check_sha(sha256)
        st = store.blobs.state(sha256)
        if st["state"] == "absent":
            return Response(status_code=404, headers={C.UPLOAD_OFFSET_HEADER: "0"})
        return Response(status_code=200, headers={C.UPLOAD_OFFSET_HEADER: str(st["received"]),
                                                  "Upload-Complete": "true" if st["state"] == "complete" else "false"})

    @app.put(P + "/attachments/{sha256}")
    async def attachment_put(sha256: str, request: Request, _w: str = Depends(window)):
        _check_sha(sha256)
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > C.MAX_ATTACHMENT_BYTES:
            raise PlatformError(413, C.E_TOO_LARGE, "附件超过大小上限。")
        data = await request.body()
        rng = request.headers.get("content-range")
        done = _COMPLETE.match(rng.strip()) if rng else None
        if done:
            # Every byte arrived earlier but the upload was never completed (the platform stopped
            # between the last write and the hash check): an empty body at offset TOTAL completes it.
            if data:
                raise PlatformError(400, C.E_INVALID_REQUEST, "“bytes */总长度”的请求体必须为空。")
            start = total = int(done.group(1))
        elif rng:
            m = _RANGE.match(rng.strip())
            if not m or int(m.group(2)) - int(m.group(1)) + 1 != len(data):
                raise PlatformError(400, C.E_INVALID_REQUEST, "Content-Range 与请求体长度不符。")
            start, total = int(m.group(1)), int(m.group(3))
        else:
            start, total = 0, len(data)
        st = await run_in_threadpool(store.put_attachment, sha256, start, data, total)
        return JSONResponse(st, headers={C.UPLOAD_OFFSET_HEADER: str(st["received"])})

    @app.get(P + "/attachments/{sha256}")
    def attachment_get(sha256: str, _w: str = Depends(window)):
        _check_sha(sha256)
        if not store.blobs.held(sha256):
            raise PlatformError(404, C.E_NOT_FOUND, "平台没有该附件。")
        return Response(store.blobs.read(sha256), media_type="application/octet-stream")

    @app.post(P + "/cases")
    async def submit_case(request: Request, label: str = Depends(window)):
        body = await json_body(request)
        res = await run_in_threadpool(store.receive_case, request.headers.get(C.IDEMPOTENCY_HEADER), body,
                                      credential=label)
        return JSONResponse(res.body, status_code=res.status,
                            headers={C.REPLAYED_HEADER: "true"} if res.replayed else {})

    @app.get(P + "/cases")
    def list_cases(page: int = 1, page_size: int = 100, center_code: str | None = None, _w: str = Depends(window)):
        return store.list_cases(page=page, page_size=page_size, center_code=center_code)

    @app.get(P + "/cases/{platform_case_id}")
    def get_case(platform_case_id: str, _w: str = Depends(window)):
        return store.get_case(platform_case_id)

    @app.post(P + "/progress/query")
    async def progress(request: Request, _w: str = Depends(window)):
        body = await json_body(request)
        keys = body.get("business_keys") if isinstance(body, dict) else None
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise PlatformError(400, C.E_INVALID_REQUEST, "请求体应为 {\"business_keys\": [...]}。")
        return await run_in_threadpool(store.progress, keys)

    @app.post(P + "/data-sharing/lookup")
    async def lookup(request: Request, _w: str = Depends(window)):
        body = await json_body(request)
        return await run_in_threadpool(store.lookup, body)

    @app.post(P + "/ratings")
    async def rating(request: Request, _w: str = Depends(window)):
        body = await json_body(request)
        res = await run_in_threadpool(store.receive_rating, request.headers.get(C.IDEMPOTENCY_HEADER), body)
        return JSONResponse(res.body, status_code=res.status,
                            headers={C.REPLAYED_HEADER: "true"} if res.replayed else {})

    return app


def _check_sha(sha256: str) -> None:
    if not C.SHA256_RE.match(sha256):
        raise PlatformError(400, C.E_INVALID_REQUEST, "附件摘要格式不正确（应为64位小写十六进制SHA-256）。")
