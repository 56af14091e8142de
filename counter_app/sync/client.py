"""``PlatformClient``: one method per endpoint of the contract (``docs/openapi.yaml``).

Every failure becomes one of four exceptions, which is all the outbox needs to decide:

- :class:`TransientError` — network down, timeout, connection cut, 5xx, 408, 429, an unexpected
  answer: try again later (``retry_after`` when the server said when);
- :class:`RejectedError` — a 4xx saying the data is wrong: the case goes to the quarantine lane;
- :class:`CredentialsError` — 401/403: the window must (re)enter its credential;
- :class:`AttachmentsMissing` — the platform does not hold all attachments yet: upload, then resend.

Each carries a Chinese ``message`` fit for the clerk. A real platform with a different interface
plugs in by writing another class with these methods.

Thread contract: all methods block on the network (timeouts apply); never call them on the GUI
thread. One client (its ``requests.Session``) per thread.
"""
from __future__ import annotations

import datetime as _dt
import email.utils
from typing import Any, Iterable

import requests

from counter_app.sync import contract as C
from counter_app.sync.transport import DEFAULT_TIMEOUT, PinMismatch, check_url


class SyncError(Exception):
    def __init__(self, message: str, *, status: int | None = None, code: str = "", detail: dict | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.detail = detail or {}


class TransientError(SyncError):
    def __init__(self, message: str, *, status: int | None = None, code: str = "", retry_after: float | None = None,
                 offline: bool = False, detail: dict | None = None):
        super().__init__(message, status=status, code=code, detail=detail)
        self.retry_after = retry_after
        self.offline = offline  # the platform could not be reached at all


class RejectedError(SyncError):
    pass


class CredentialsError(SyncError):
    pass


class AttachmentsMissing(SyncError):
    def __init__(self, message: str, missing: list[str]):
        super().__init__(message, status=409, code=C.E_ATTACHMENTS_MISSING)
        self.missing = missing


def parse_retry_after(value: str | None, now: _dt.datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.timezone.utc)
    now = now or _dt.datetime.now(_dt.timezone.utc)
    return max(0.0, (when - now).total_seconds())


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
                 timeout: tuple[float, float] = DEFAULT_TIMEOUT, upload_chunk: int = C.UPLOAD_CHUNK_BYTES):
        self.base_url = check_url(base_url)
        self.token = token
        self.session = session or requests.Session()
        self.timeout = timeout
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
        try:
            resp = self.session.request(method, self.base_url + C.API_PREFIX + path, data=data, headers=h,
                                        params=params, timeout=timeout or self.timeout, allow_redirects=False)
        except (requests.exceptions.RequestException, OSError) as exc:
            raise TransientError(_network_message(exc), offline=True) from exc
        if resp.status_code in tuple(ok):
            return resp
        raise self._error(resp)

    def _error(self, resp: requests.Response) -> SyncError:
        status = resp.status_code
        code, message, detail = "", "", {}
        try:
            body = resp.json()
            if isinstance(body, dict):
                code = str(body.get("code") or "")
                message = str(body.get("message") or "")
                detail = body.get("detail") or {}
        except ValueError:
            pass
        if status in (401, 403):
            return CredentialsError(message or "省平台拒绝了本窗口的凭据，请重新登记凭据。", status=status, code=code)
        if status == 409 and code == C.E_ATTACHMENTS_MISSING:
            return AttachmentsMissing(message or "平台尚未收齐附件。", list(detail.get("missing") or []))
        if status in (408, 429) or status >= 500:
            wait = parse_retry_after(resp.headers.get("Retry-After"))
            text = {408: "省平台请求超时", 429: "省平台繁忙（请求过多）"}.get(status, f"省平台暂时无法处理（{status}）")
            return TransientError(f"{text}，稍后自动重试。", status=status, code=code, retry_after=wait)
        if status in (400, 409, 413, 422) and (code in C.DATA_ERRORS or not code):
            return RejectedError(message or f"省平台拒收（{status}）。", status=status, code=code)
        # 404/405/415 and anything unexpected: the contract does not match (wrong address or version);
        # not the case's fault, so it is retried rather than quarantined.
        return TransientError(message or f"省平台接口地址或版本不匹配（{status}），请检查设置。", status=status, code=code,
                              detail=detail if isinstance(detail, dict) else {})

    @staticmethod
    def _json(resp: requests.Response) -> Any:
        try:
            return resp.json()
        except ValueError:
            raise TransientError("省平台返回了无法识别的内容（可能被网关或认证页面拦截）。") from None

    # ---- endpoints ----------------------------------------------------------------
    def health(self, *, timeout: tuple[float, float] = (3.0, 5.0)) -> dict:
        """The connectivity probe: the platform endpoint itself, not the OS's "online" flag."""
        body = self._json(self._request("GET", "/health", auth=False, timeout=timeout))
        if not isinstance(body, dict) or body.get("api") != "v1" or body.get("status") != "ok":
            raise TransientError("省平台地址返回的不是本接口（可能被网关或认证页面拦截）。")
        return body

    def whoami(self) -> dict:
        return self._json(self._request("GET", "/auth/whoami"))

    def worklist(self, center_code: str, day: _dt.date | None = None) -> dict:
        params = {"center_code": center_code}
        if day:
            params["date"] = day.isoformat()
        return self._json(self._request("GET", "/worklist", params=params))

    def attachment_states(self, hashes: list[str]) -> dict[str, dict]:
        if not hashes:
            return {}
        body = self._json(self._request("POST", "/attachments/query", json_body={"sha256": hashes}))
        return {a["sha256"]: a for a in body.get("attachments", [])}

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
                    pos = int(exc.detail.get("received", 0))
                    continue
                raise
            sent += end - pos
            state = self._json(resp)
            if state.get("state") == "complete":
                return sent
            pos = int(state.get("received", end))
        raise TransientError(f"附件{sha256[:12]}…上传未能完成（平台未确认收齐），稍后重试。")

    def submit_case(self, idempotency_key: str, submission: dict) -> tuple[dict, bool]:
        """POST the case; returns (answer, replayed)."""
        resp = self._request("POST", "/cases", json_body=submission, headers={C.IDEMPOTENCY_HEADER: idempotency_key})
        body = self._json(resp)
        if not isinstance(body, dict) or not isinstance(body.get("receipt"), dict) \
                or body["receipt"].get("business_key") != submission.get("business_key"):
            raise TransientError("省平台的回执与所报办件不符，稍后重试。")
        return body, resp.status_code == 200

    def list_cases(self, *, page: int = 1, page_size: int = 100, center_code: str | None = None) -> dict:
        params: dict[str, Any] = {"page": page, "page_size": page_size}
        if center_code:
            params["center_code"] = center_code
        return self._json(self._request("GET", "/cases", params=params))

    def get_case(self, platform_case_id: str) -> dict:
        return self._json(self._request("GET", f"/cases/{platform_case_id}"))

    def progress(self, business_keys: list[str]) -> dict:
        return self._json(self._request("POST", "/progress/query", json_body={"business_keys": business_keys}))

    def lookup(self, id_number: str, checks: Iterable[str] = C.DATA_SHARING_CHECKS) -> dict:
        return self._json(self._request("POST", "/data-sharing/lookup",
                                        json_body={"id_number": id_number, "checks": list(checks)}))

    def submit_rating(self, idempotency_key: str, *, business_key: str, stage: str, level: str, reason: str = "",
                      rated_at: str = "") -> dict:
        resp = self._request("POST", "/ratings", headers={C.IDEMPOTENCY_HEADER: idempotency_key},
                             json_body={"business_key": business_key, "stage": stage, "level": level,
                                        "reason": reason, "rated_at": rated_at})
        return self._json(resp)


def client_for(window, *, token: str | None = None, timeout: tuple[float, float] = DEFAULT_TIMEOUT) -> PlatformClient:
    """A client for this window's configured platform (env overrides applied)."""
    from counter_app.sync.credentials import get_token
    from counter_app.sync.transport import session_for

    return PlatformClient(window.settings.platform_url_effective, token or get_token(window),
                          session_for(window.settings), timeout=timeout)

