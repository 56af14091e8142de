"""The HTTP face of the reference platform (FastAPI): the contract's routes, declared with the
contract's models (``counter_app.sync.models``); ``docs/openapi.yaml`` is generated from this app
(``refplatform.openapi_doc``) and a test checks the committed copy is current.

Handlers are thin: authenticate the caller, call :class:`PlatformStore`, shape the answer. Errors
are JSON ``{"code", "message", "detail"}`` with a Chinese message the window shows as it is; every
status a route can answer is declared on it. Bodies are limited before they are read
(``limits.BodyLimit``); attachment uploads are streamed to disk.

Personal data never reaches a log: look-ups are POSTs (the ID number is in the body, not the URL)
and the access log is off unless asked for.
"""
from __future__ import annotations

import datetime as _dt
import re
import threading
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Header, Path, Query, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException as StarletteHTTPException

from counter_app.sync import contract as C
from counter_app.sync import models as M
from counter_app.sync.models import Role
from refplatform import followups
from refplatform.acknowledged import acknowledged
from refplatform.blobs import OffsetMismatch
from refplatform.credentials import Caller
from refplatform.errors import PlatformError
from refplatform.limits import BodyLimit, allowed_methods
from refplatform.openapi_doc import contract_openapi, errors
from refplatform.store import PlatformStore, offset_error
from refplatform.submission import validation_message

P = C.API_PREFIX
_RANGE = re.compile(r"^bytes ([0-9]+)-([0-9]+)/([0-9]+)$")
_COMPLETE = re.compile(r"^bytes \*/([0-9]+)$")
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
# Content-Range is checked in code, not by a schema pattern: its numbers must agree with each other
# and with the body, which no pattern says, so every refusal of a well-formed string is a 422.
RANGE_TEXT = ("`bytes START-END/TOTAL` (END inclusive, START equal to the platform's offset) or `bytes */TOTAL` "
              "to complete an upload whose bytes all arrived; without it the body is the whole file.")

# Optional parameters are typed "str" with a default of None: documented as a string, never as
# "string or null" (a client would send the text "null").
Sha256Path = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")]
DateQuery = Annotated[str, Query(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", json_schema_extra={"format": "date"},
                                        description="YYYY-MM-DD (China time); today when absent")]


class Sha256Convertor(Convertor):
    """``/attachments/{sha256:sha256}``: only a hash is an attachment's name, so ``PUT
    /attachments/query`` is a method the path does not serve (405), not a malformed hash."""
    regex = "[0-9a-f]{64}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("sha256", Sha256Convertor())


def _day(value: str | None) -> _dt.date | None:
    if value is None:
        return None
    try:
        return _dt.date.fromisoformat(value)
    except ValueError:
        raise PlatformError(400, C.E_INVALID_REQUEST, "日期不正确，应为YYYY-MM-DD。") from None
PlatformIdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key", pattern=UUID_PATTERN,
                                       description="A UUID written in the same transaction as the case (or rating); "
                                                   "identical on every resend.")]
bearer = HTTPBearer(auto_error=False, scheme_name="windowCredential",
                    description="The credential IT enrolled for this window (or the center's supervisor), bound to "
                                "one center, one window and a role; kept in the window's OS keyring.")
BINARY = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}


def _received(res) -> JSONResponse:  # noqa: ANN001 - the store's Received
    """An idempotent POST's answer: 201 the first time, 200 with the replay header afterwards."""
    return JSONResponse(res.body, status_code=res.status, headers={C.REPLAYED_HEADER: "true"} if res.replayed else {})


def authenticated(request: Request, cred: HTTPAuthorizationCredentials | None = Security(bearer)) -> Caller:
    who = request.app.state.store.authenticate(cred.credentials.strip()) if cred is not None else None
    if who is None:
        raise PlatformError(401, C.E_UNAUTHORIZED, "窗口凭据无效或缺失，请重新登记省平台窗口凭据。",
                            headers={"WWW-Authenticate": 'Bearer realm="counter-app"'})
    return who


Who = Annotated[Caller, Depends(authenticated)]


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

    app = FastAPI(title="河南省退役军人服务“一件事”窗口 ⇄ 省一体化政务服务平台 接口", version=C.CONTRACT_VERSION,
                  lifespan=lifespan, openapi_url=P + "/openapi.json", docs_url=None, redoc_url=None,
                  separate_input_output_schemas=False)
    app.state.store = store
    app.add_middleware(BodyLimit, attachment_prefix=P + "/attachments/")
    app.openapi = lambda: contract_openapi(app)  # type: ignore[method-assign]

    @app.exception_handler(PlatformError)
    async def _platform_error(_req: Request, exc: PlatformError):
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(req: Request, exc: RequestValidationError):
        if req.method == "POST" and req.url.path == P + "/cases" and any(
                e.get("loc", ("",))[0] == "body" for e in exc.errors()):
            return JSONResponse(C.error_body(C.E_INVALID_CASE, validation_message(exc, "办件数据不符合接口约定")),
                                status_code=422)
        return JSONResponse(C.error_body(C.E_INVALID_REQUEST, validation_message(exc, "请求参数不正确")), status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(req: Request, exc: StarletteHTTPException):
        if exc.status_code == 405:
            allow = ", ".join(allowed_methods(req.app, req.scope))
            return JSONResponse(C.error_body(C.E_METHOD_NOT_ALLOWED, f"该接口不支持{req.method}请求（支持：{allow}）。"),
                                status_code=405, headers={"Allow": allow})
        if exc.status_code == 413:
            return JSONResponse(C.error_body(C.E_TOO_LARGE, "请求内容超过大小上限，平台拒绝接收。"), status_code=413,
                                headers={"Connection": "close"})
        if exc.status_code == 404:
            return JSONResponse(C.error_body(C.E_NOT_FOUND, "接口不存在（请检查平台地址与接口版本）。"), status_code=404)
        return JSONResponse(C.error_body(C.E_INVALID_REQUEST, "请求不正确：请求体无法解析。"), status_code=400)

    @app.get(P + "/health", operation_id="health", tags=["window"], response_model=M.Health, response_model_exclude_unset=True,
             summary="Connectivity probe (the platform endpoint itself, not the OS's online flag)")
    def health():
        return {"status": "ok", "service": C.SERVICE_NAME, "api": "v1",
                "time": store.clock.now().isoformat(timespec="seconds")}

    @app.get(P + "/auth/whoami", operation_id="whoami", tags=["window"], response_model=M.WhoAmI, response_model_exclude_unset=True,
             responses=errors(401), summary="Which credential this is: its center, window and role")
    def whoami(who: Who):
        return {"window": who.label, "center_code": who.center_code, "window_no": who.window_no,
                "role": who.role.value, "operator": who.operator, "seal_key_enrolled": bool(who.seal_public_key)}

    @app.get(P + "/worklist", operation_id="worklist", tags=["window"], response_model=M.WorklistAnswer, response_model_exclude_unset=True,
             responses=errors(400, 401, 403),
             summary="The caller's center's worklist: online applications approved by county VA, with claims")
    def worklist(who: Who, center_code: Annotated[str, Query(pattern=r"^[0-9]{6}$")] = None,
                 date: DateQuery = None):
        if center_code:
            who.require_center(center_code)
        return store.worklist(who, _day(date))

    @app.post(P + "/worklist/{platform_id}/claim", operation_id="claim", tags=["window"],
              response_model=M.ClaimAnswer, response_model_exclude_unset=True, responses=errors(400, 401, 403, 404, 409),
              summary="Claim an online application for this window (opening it at the counter)")
    def claim(who: Who, platform_id: PlatformIdPath):
        return store.claim(who, platform_id)

    @app.delete(P + "/worklist/{platform_id}/claim", operation_id="release_claim", tags=["window"],
                response_model=M.ClaimAnswer, response_model_exclude_unset=True, responses=errors(400, 401, 403, 404, 409),
                summary="Release this window's claim (the clerk cancelled the acceptance)")
    def release_claim(who: Who, platform_id: PlatformIdPath):
        return store.release(who, platform_id)

    @app.post(P + "/attachments/query", operation_id="attachment_states", tags=["window"],
              response_model=M.AttachmentStates, response_model_exclude_unset=True, responses=errors(400, 401, 413),
              summary="Which attachments the platform already holds for this center")
    def attachments_query(who: Who, body: M.AttachmentQuery):
        return store.attachment_states(who, body.sha256)

    @app.head(P + "/attachments/{sha256:sha256}", operation_id="attachment_head", tags=["platform"],
              summary="Resume offset of an attachment (Upload-Offset header)",
              responses={200: {"description": "Held completely or partly.", "headers": {
                  C.UPLOAD_OFFSET_HEADER: {"schema": {"type": "integer"}, "description": "bytes received so far"},
                  "Upload-Complete": {"schema": {"type": "string", "enum": ["true", "false"]}}}},
                  404: {"description": "Nothing received yet."}, 400: {"description": "Not a SHA-256."},
                  401: {"description": "Missing or unknown credential."}})
    def attachment_head(who: Who, sha256: Sha256Path):
        st = store.blobs_for(who.center_code).state(sha256)
        if st["state"] == "absent":
            return Response(status_code=404, headers={C.UPLOAD_OFFSET_HEADER: "0"})
        return Response(status_code=200, headers={C.UPLOAD_OFFSET_HEADER: str(st["received"]),
                                                  "Upload-Complete": "true" if st["state"] == "complete" else "false"})

    @app.put(P + "/attachments/{sha256:sha256}", operation_id="upload_attachment", tags=["window"],
             response_model=M.AttachmentState, response_model_exclude_unset=True, responses=errors(400, 401, 404, 409, 413, 422),
             summary="Upload an attachment, resumable, addressed by its SHA-256 (streamed to disk)",
             openapi_extra={"requestBody": {"required": True, "content": BINARY}})
    async def attachment_put(who: Who, sha256: Sha256Path, request: Request,
                             content_range: Annotated[str, Header(alias="Content-Range", max_length=64,
                                                                         description=RANGE_TEXT)] = None):
        start, end, total = 0, None, None
        if content_range:
            done, m = _COMPLETE.match(content_range), _RANGE.match(content_range)
            if done:  # every byte arrived earlier; an empty body completes the upload
                start = total = int(done.group(1))
            elif m:
                start, end, total = int(m.group(1)), int(m.group(2)), int(m.group(3))
            else:
                raise PlatformError(422, C.E_INVALID_REQUEST, "Content-Range 应为“bytes 起-止/总长”或“bytes */总长”。")
        blobs = store.blobs_for(who.center_code)
        try:
            upload = await run_in_threadpool(blobs.begin, sha256, start, end=end, total=total)
        except OffsetMismatch as exc:
            raise offset_error(exc.offset) from None
        try:
            async for chunk in request.stream():
                await run_in_threadpool(upload.write, chunk)
        except BaseException:
            upload.abort()
            raise
        st = await run_in_threadpool(upload.finish)
        return JSONResponse(st, headers={C.UPLOAD_OFFSET_HEADER: str(st["received"])})

    @app.get(P + "/attachments/{sha256:sha256}", operation_id="download_attachment", tags=["platform"],
             response_class=Response, responses={200: {"description": "The file.", "content": BINARY},
                                                 **errors(400, 401, 403, 404)},
             summary="The attachment's bytes (the center's supervisor only)")
    def attachment_get(who: Who, sha256: Sha256Path):
        if who.role is not Role.SUPERVISOR:  # a window uploads; it never needs another window's photo
            raise PlatformError(403, C.E_FORBIDDEN, "窗口凭据不能下载附件；如需调阅，请由审核负责人查看。")
        blobs = store.blobs_for(who.center_code)
        if not blobs.held(sha256):
            raise PlatformError(404, C.E_NOT_FOUND, "平台没有该附件。")
        return Response(blobs.read(sha256), media_type="application/octet-stream")

    @app.post(P + "/cases", operation_id="submit_case", tags=["window"], status_code=201,
              response_model=M.SubmissionAnswer, response_model_exclude_unset=True,
              responses={200: {"model": M.SubmissionAnswer, "description": "Already received (a resend): the first "
                               "answer again.", "headers": {C.REPLAYED_HEADER: {"schema": {"type": "string",
                                                                                             "enum": ["true"]}}}},
                         **errors(400, 401, 403, 409, 413, 422)},
              summary="Submit a finalized case of this window (or a correction from this center)")
    async def submit_case(who: Who, body: M.Submission, idempotency_key: IdempotencyKey, request: Request):
        # The digest is over the JSON as sent: the model checked its shape, the store keeps the original.
        raw = await request.json()
        res = await run_in_threadpool(store.receive_case, idempotency_key, raw, caller=who)
        return _received(res)

    @app.get(P + "/cases", operation_id="list_cases", tags=["platform"], response_model=M.CaseListing, response_model_exclude_unset=True,
             responses=errors(400, 401, 403),
             summary="This window's cases (a supervisor: the center's), paged")
    def list_cases(who: Who, page: Annotated[int, Query(ge=1, le=100_000)] = 1,
                   page_size: Annotated[int, Query(ge=1, le=1000)] = 100,
                   center_code: Annotated[str, Query(pattern=r"^[0-9]{6}$")] = None):
        return store.list_cases(who, page=page, page_size=page_size, center_code=center_code)

    @app.get(P + "/acknowledged", operation_id="acknowledged", tags=["window"], response_model=M.Acknowledged,
             response_model_exclude_unset=True, responses=errors(401, 403),
             summary="What the platform holds from this window: case count, key digest, highest audit head")
    def acknowledged_state(who: Who):
        return acknowledged(store, who)

    @app.get(P + "/cases/{platform_case_id}", operation_id="get_case", tags=["platform"],
             response_model=M.CaseDetail, response_model_exclude_unset=True, responses=errors(400, 401, 404),
             summary="One received case of this window (a supervisor: of the center)")
    def get_case(who: Who, platform_case_id: Annotated[str, Path(pattern=r"^HN[0-9]{21}$")]):
        return store.get_case(platform_case_id, who)

    @app.post(P + "/progress/query", operation_id="progress", tags=["window"], response_model=M.ProgressAnswer, response_model_exclude_unset=True,
              responses=errors(400, 401, 413), summary="Per-item department progress of this center's cases")
    def progress(who: Who, body: M.ProgressQuery):
        return store.progress(body.business_keys, who)

    @app.post(P + "/data-sharing/lookup", operation_id="lookup", tags=["window"], response_model=M.LookupAnswer, response_model_exclude_unset=True,
              responses=errors(400, 401, 413, 422), summary="数据共享校验 — the look-ups the form marks")
    def lookup(who: Who, body: M.LookupRequest):
        return store.lookup(who, body.id_number, list(body.checks) if body.checks else None)

    @app.post(P + "/persons/open-case", operation_id="open_case", tags=["window"], response_model=M.PersonAnswer, response_model_exclude_unset=True,
              responses=errors(400, 401, 413),
              summary="Whether this veteran already has an open case anywhere in the province")
    def open_case(who: Who, body: M.PersonQuery):
        return {"open_case": store.open_case_for(body.id_number)}

    @app.post(P + "/ratings", operation_id="submit_rating", tags=["window"], status_code=201,
              response_model=M.RatingAnswer, response_model_exclude_unset=True,
              responses={200: {"model": M.RatingAnswer, "description": "Already recorded under this key."},
                         **errors(400, 401, 404, 413, 422)},
              summary="好差评 — a service rating after acceptance or after completion")
    def rating(who: Who, body: M.RatingRequest, idempotency_key: IdempotencyKey):
        res = store.receive_rating(who, idempotency_key, body.model_dump())
        return _received(res)

    @app.post(P + "/settlement-letters", operation_id="submit_settlement_letter", tags=["window"], status_code=201,
              response_model=M.SettlementLetterAnswer, response_model_exclude_unset=True,
              responses={200: {"model": M.SettlementLetterAnswer, "description": "Already received under this key."},
                         **errors(400, 401, 404, 409, 413, 422)},
              summary="The stamped 落户介绍信 of a received case, scanned back after acceptance (releases items 4, 5)")
    def settlement_letter(who: Who, body: M.SettlementLetterSubmission, idempotency_key: IdempotencyKey):
        res = followups.receive_settlement_letter(store, who, idempotency_key, body.model_dump())
        return _received(res)

    @app.post(P + "/ratings/invitations", operation_id="request_rating_invitation", tags=["window"], status_code=201,
              response_model=M.RatingInvitationAnswer, response_model_exclude_unset=True,
              responses={200: {"model": M.RatingInvitationAnswer, "description": "Already sent under this key."},
                         **errors(400, 401, 404, 409, 413, 422)},
              summary="好差评 after completion through the platform's channel: send the applicant the invitation")
    def rating_invitation(who: Who, body: M.RatingInvitationRequest, idempotency_key: IdempotencyKey):
        res = followups.receive_rating_invitation(store, who, idempotency_key, body.model_dump())
        return _received(res)

    @app.get(P + "/center/report", operation_id="center_report", tags=["window"], response_model=M.CenterReport, response_model_exclude_unset=True,
             responses=errors(400, 401), summary="The caller's center's figures for a day (masked)")
    def center_report(who: Who, date: DateQuery = None):
        return store.center_report(who, _day(date))

    return app
