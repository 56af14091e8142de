"""``PlatformClient``: one method per endpoint of the contract (``docs/openapi.yaml``).

Every failure becomes one of four exceptions, which is all the outbox needs to decide:

- :class:`TransientError` — network down, timeout, connection cut, 5xx, 408, 429, an unexpected
  answer: try again later (``retry_after`` when the server said when);
- :class:`RejectedError` — a 4xx saying the data is wrong: the case goes to the quarantine lane;
- :class:`CredentialsError` — 401/403: the window must (re)enter its credential;
- :class:`AttachmentsMissing` — the platform does not hold all attachments yet: upload, then resend.

Each carries a Chinese ``message`` fit for the clerk. The exceptions live in ``errors.py`` and are
re-exported here.

Every answer is checked at this boundary (``responses.py``) before a method returns it: a method
returns the contract's shape, or raises :class:`MalformedAnswer` (a ``TransientError``) when the
platform or a gateway in front of it answered something else. A real platform with a different
interface plugs in by writing another class with these methods, honouring the same promise.

Thread contract: all methods block on the network (timeouts apply); never call them on the GUI
thread. One client (its ``requests.Session``) per thread.
"""
from __future__ import annotations

import datetime as _dt
from typing import Any, Iterable

import requests

from counter_app.sync import contract as C
from counter_app.sync import responses as R
from counter_app.sync.errors import (  # noqa: F401 - re-exported: the rest of the program imports them from here
    AttachmentsMissing, CredentialsError, MalformedAnswer, RejectedError, SyncError, TransientError,
)
from counter_app.sync.responses import parse_retry_after  # noqa: F401 - re-exported
from counter_app.sync.transport import DEFAULT_DEADLINE, DEFAULT_TIMEOUT, Deadline, PinMismatch, check_url, make_session


def _network_message(exc: Exception) -> str:
    if isinstance(exc, PinMismatch) or isinstance(getattr(exc, "__context__", None), PinMismatch) \
            or "与固定的指纹不符" in str(exc):
        return "省平台服务器证书与固定的证书指纹不符，已拒绝连接（可能被冒充）。请联系技术人员核实证书。"
    if isinstance(exc, requests.exceptions.SSLError):
        return "无法验证省平台服务器证书（证书不受信任、已过期或与地址不符）。请检查政务外网CA证书设置。"
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "连接省平台超时：网络不通或VPN未连接。"
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return "省平台响应超时，稍后自动重试。"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "无法连接省平台：网络中断、VPN未连接或平台暂停服务。办件已保存在本机，恢复后自动上报。"
    return f"与省平台通信出错（{type(exc).__name__}），稍后自动重试。"


class PlatformClient:
    def __init__(self, base_url: str, token: str | None, session: requests.Session | None = None, *,
                 timeout: tuple[float, float] = DEFAULT_TIMEOUT, upload_chunk: int = C.UPLOAD_CHUNK_BYTES,
                 deadline: float = DEFAULT_DEADLINE):
        self.base_url = check_url(base_url)
        self.token = token
        self.session = session or make_session()
        self.timeout = timeout
        self.deadline = deadline
        self.upload_chunk = upload_chunk

    # ---- plumbing -----------------------------------------------------------------
    def _request(self, method: str, path: str, *, auth: bool = True, json_body: Any = None, data: bytes | None = None,
                 headers: dict[str, str] | None = None, params: dict | None = None,
                 timeout: tuple[float, float] | None = None, ok: Iterable[int] = (200, 201)) -> requests.Response:
        h = dict(headers or {})
        if auth:
            if not self.token:
                raise CredentialsError("尚未登记省平台窗口凭据，请由技术人员登记后再上报。")
            h["Authorization"] = f"Bearer {self.token}"
        if json_body is not None:
            data = C.canonical_json(json_body)
            h["Content-Type"] = "application/json; charset=utf-8"
        deadline = Deadline(self.deadline)
        try:
            with deadline:
                resp = self.session.request(method, self.base_url + C.API_PREFIX + path, data=data, headers=h,
                                            params=params, timeout=timeout or self.timeout, allow_redirects=False)
        except (requests.exceptions.RequestException, OSError) as exc:
            if deadline.fired:
                raise TransientError(f"省平台响应过慢：{self.deadline:.0f}秒内未完成一次请求，已中断（网络拥塞或平台异常）。"
                                     "办件已保存在本机，稍后自动重试。", offline=True) from exc
            raise TransientError(_network_message(exc), offline=True) from exc
        if deadline.fired:  # cut just as the answer completed: do not trust a possibly truncated body
            raise TransientError(f"省平台响应过慢：{self.deadline:.0f}秒内未完成一次请求，已中断。稍后自动重试。", offline=True)
        if resp.status_code in tuple(ok):
            return resp
        raise self._error(resp)

    def _error(self, resp: requests.Response) -> SyncError:
        status = resp.status_code
        try:
            err = R.parse_error(resp.json())
        except (ValueError, RecursionError):  # not JSON: a gateway's page; the status says enough
            err = R.ErrorBody()
        code, message, detail = err.code, err.message, err.detail
        if status in (401, 403):
            return CredentialsError(message or "省平台拒绝了本窗口的凭据，请重新登记凭据。", status=status, code=code)
        if status == 409 and code == C.E_ATTACHMENTS_MISSING:
            try:
                missing = R.parse_missing(detail)
            except MalformedAnswer as exc:
                exc.status = status
                return exc
            return AttachmentsMissing(message or "平台尚未收齐附件。", missing)
        if status in (408, 429) or status >= 500:
            wait = R.parse_retry_after(resp.headers.get("Retry-After"))
            text = {408: "省平台请求超时", 429: "省平台繁忙（请求过多）"}.get(status, f"省平台暂时无法处理（{status}）")
            return TransientError(f"{text}，稍后自动重试。", status=status, code=code, retry_after=wait)
        if status in (400, 409, 413, 422) and (code in C.DATA_ERRORS or not code):
            return RejectedError(message or f"省平台拒收（{status}）。", status=status, code=code)
        # 404/405/415 and anything unexpected: the contract does not match (wrong address or version);
        # not the case's fault, so it is retried rather than quarantined.
        return TransientError(message or f"省平台接口地址或版本不匹配（{status}），请检查设置。", status=status, code=code,
                              detail=detail)

    @staticmethod
    def _json(resp: requests.Response) -> Any:
        try:
            return resp.json()
        except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
            raise TransientError("省平台返回了无法识别的内容（可能被网关或认证页面拦截）。") from None

    # ---- endpoints (each answer checked by ``responses`` before it is returned) --------
    def health(self, *, timeout: tuple[float, float] = (3.0, 5.0)) -> dict:
        """The connectivity probe: the platform endpoint itself, not the OS's "online" flag."""
        return R.parse_health(self._json(self._request("GET", "/health", auth=False, timeout=timeout)))

    def whoami(self) -> dict:
        return R.parse_whoami(self._json(self._request("GET", "/auth/whoami")))

    def worklist(self, center_code: str, day: _dt.date | None = None) -> R.WorklistAnswer:
        params = {"center_code": center_code}
        if day:
            params["date"] = day.isoformat()
        return R.parse_worklist(self._json(self._request("GET", "/worklist", params=params)))

    def attachment_states(self, hashes: list[str]) -> dict[str, R.AttachmentState]:
        if not hashes:
            return {}
        body = self._json(self._request("POST", "/attachments/query", json_body={"sha256": hashes}))
        return R.parse_attachment_states(body)

    def upload_attachment(self, sha256: str, data: bytes, *, offset: int = 0, chunk: int | None = None) -> int:
        """Send ``data[offset:]`` in chunks (``Content-Range``); resumes where the platform says it is.
        Returns the number of bytes actually sent."""
        chunk = chunk or self.upload_chunk
        total, sent, pos, corrections = len(data), 0, offset, 0
        if total == 0:
            raise RejectedError("附件为空文件，无法上报。")
        for _ in range(total // chunk + 8):
            end = min(total, pos + chunk)
            # At offset == total every byte is there but the platform never completed the upload
            # (it stopped before checking the hash): an empty "bytes */TOTAL" request completes it.
            rng = f"bytes {pos}-{end - 1}/{total}" if pos < total else f"bytes */{total}"
            try:
                resp = self._request("PUT", f"/attachments/{sha256}", data=data[pos:end],
                                     headers={"Content-Type": "application/octet-stream", "Content-Range": rng})
            except TransientError as exc:
                # Another attempt (a resend after a cut connection) got further or less far than
                # we thought: continue from where the platform actually is.
                if exc.code == C.E_UPLOAD_OFFSET and corrections < 3:
                    corrections += 1
                    pos = R.parse_upload_offset(exc.detail, total)
                    continue
                raise
            sent += end - pos
            state = R.parse_upload_state(self._json(resp), total)
            if state["state"] == "complete":
                return sent
            pos = state["received"]
        raise TransientError(f"附件{sha256[:12]}…上传未能完成（平台未确认收齐），稍后重试。")

    def submit_case(self, idempotency_key: str, submission: dict) -> tuple[R.SubmissionAnswer, bool]:
        """POST the case; returns (answer, replayed)."""
        resp = self._request("POST", "/cases", json_body=submission, headers={C.IDEMPOTENCY_HEADER: idempotency_key})
        digest = (submission.get("case") or {}).get("content_digest")
        return (R.parse_submission_answer(self._json(resp), submission.get("business_key"), digest),
                resp.status_code == 200)

    def list_cases(self, *, page: int = 1, page_size: int = 100, center_code: str | None = None) -> dict:
        params: dict[str, Any] = {"page": page, "page_size": page_size}
        if center_code:
            params["center_code"] = center_code
        return R.parse_case_listing(self._json(self._request("GET", "/cases", params=params)))

    def acknowledged(self) -> dict:
        """What the platform holds from this window (``models.Acknowledged``)."""
        return R.parse_acknowledged(self._json(self._request("GET", "/acknowledged")))

    def get_case(self, platform_case_id: str) -> dict:
        return R.parse_case_detail(self._json(self._request("GET", f"/cases/{platform_case_id}")))

    def progress(self, business_keys: list[str]) -> R.ProgressAnswer:
        body = self._json(self._request("POST", "/progress/query", json_body={"business_keys": business_keys}))
        return R.parse_progress(body)

    def lookup(self, id_number: str, checks: Iterable[str] = C.DATA_SHARING_CHECKS) -> R.LookupAnswer:
        body = self._json(self._request("POST", "/data-sharing/lookup",
                                        json_body={"id_number": id_number, "checks": list(checks)}))
        return R.parse_lookup(body)

    def submit_rating(self, idempotency_key: str, *, business_key: str, stage: str, level: str, reason: str = "",
                      rated_at: str = "") -> R.RatingAnswer:
        resp = self._request("POST", "/ratings", headers={C.IDEMPOTENCY_HEADER: idempotency_key},
                             json_body={"business_key": business_key, "stage": stage, "level": level,
                                        "reason": reason, "rated_at": rated_at})
        return R.parse_rating_answer(self._json(resp))

    # ---- after acceptance (``followups``) -------------------------------------------------------
    def submit_settlement_letter(self, idempotency_key: str, *, business_key: str, sha256: str, mime: str,
                                 scanned_at: str) -> dict:
        """The stamped 落户介绍信 of a received case (uploaded first as an attachment)."""
        resp = self._request("POST", "/settlement-letters", headers={C.IDEMPOTENCY_HEADER: idempotency_key},
                             json_body={"business_key": business_key, "sha256": sha256, "mime": mime,
                                        "scanned_at": scanned_at})
        return R.parse_settlement_letter_answer(self._json(resp))

    def request_rating_invitation(self, idempotency_key: str, *, business_key: str, stage: str = "completion",
                                  channel: str = "sms") -> dict:
        """Ask the platform to invite the applicant to rate through its own channel."""
        resp = self._request("POST", "/ratings/invitations", headers={C.IDEMPOTENCY_HEADER: idempotency_key},
                             json_body={"business_key": business_key, "stage": stage, "channel": channel})
        return R.parse_rating_invitation_answer(self._json(resp))

    # ---- the center: claims, one open case per person, the center's figures -----------------
    def claim(self, platform_id: str) -> dict:
        """Claim an online application for this window. Another window's claim is a
        ``RejectedError`` with code ``claimed_elsewhere`` and the message "正在X号窗口受理"."""
        return R.parse_claim(self._json(self._request("POST", f"/worklist/{platform_id}/claim")))

    def release_claim(self, platform_id: str) -> dict:
        return R.parse_claim(self._json(self._request("DELETE", f"/worklist/{platform_id}/claim")))

    def open_case(self, id_number: str) -> dict | None:
        """This veteran's open case anywhere in the province (``case_no``, center, window), or None."""
        body = self._json(self._request("POST", "/persons/open-case", json_body={"id_number": id_number}))
        return R.parse_person(body)["open_case"]

    def center_report(self, day: _dt.date | None = None) -> dict:
        params = {"date": day.isoformat()} if day else None
        return R.parse_center_report(self._json(self._request("GET", "/center/report", params=params)))


def client_for(window, *, token: str | None = None, timeout: tuple[float, float] = DEFAULT_TIMEOUT) -> PlatformClient:
    """A client for this window's configured platform (env overrides applied)."""
    from counter_app.sync.credentials import get_token
    from counter_app.sync.transport import session_for

    return PlatformClient(window.settings.platform_url_effective, token or get_token(window),
                          session_for(window.settings), timeout=timeout,
                          deadline=float(window.settings.request_deadline_seconds))

