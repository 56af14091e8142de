"""The platform's answers, checked at the boundary (``docs/openapi.yaml``).

Each ``parse_*`` takes the decoded JSON of one endpoint's answer and returns it — the same
dict, so callers index it as the contract describes — once it is known to have that shape, or
raises :class:`MalformedAnswer` naming the first field that is wrong. ``PlatformClient`` runs every
answer through here before returning it, so nothing downstream (the outbox, the worklist store,
progress) ever sees an unchecked answer, and a bad answer is refused whole before anything is
written from it.

What is checked: every field the window or a caller of the client reads, with the presence the
contract requires and the contract's type. Fields nobody reads are passed through unchecked,
so additive changes to ``v1`` (new optional fields) keep working. Enumerations the window only
compares against (an item's department status) are checked as strings: a status this window
does not know is skipped when applied (``progress._rank``), not a reason to refuse the others.

Messages name the field and what was expected, never its value: an answer may carry an
applicant's name or ID number, and these messages end up in the outbox and the status file.

Pure functions, no I/O: any thread.
"""
from __future__ import annotations

import datetime as _dt
import email.utils
import functools
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, TypedDict, TypeVar

from pydantic import BaseModel, ValidationError

from counter_app.scheme import ITEMS
from counter_app.sync import contract as C
from counter_app.sync import models as M
from counter_app.sync.errors import RETRY_LATER, MalformedAnswer, TransientError

# What the clerk should do after a malformed answer, per kind of call: the worker's calls are
# retried on their own; the look-up and the credential check are asked for by the clerk.
ASK_PAPER = "请改为核验纸质材料。"
TRY_AGAIN = "请稍后再试。"

ATTACHMENT_STATES = ("complete", "partial", "absent")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_MAX_MESSAGE = 300
_MAX_PLATFORM_ID = 64  # WorklistEntry.platform_id is a String(64) primary key


# ---- the answers' shapes (what a caller may rely on after parsing) -----------------------------
class AttachmentState(TypedDict, total=False):
    sha256: str            # required
    state: str             # required: one of ATTACHMENT_STATES
    received: int          # required: bytes held, the resume offset (0 <= received)
    size: int


class WorklistAnswer(TypedDict, total=False):
    entries: list[dict]    # required; each: platform_id (str), approved_on (ISO date), application (object)


class Receipt(TypedDict, total=False):
    platform_case_id: str  # required
    business_key: str      # required: the one that was sent


class SubmissionAnswer(TypedDict, total=False):
    receipt: Receipt       # required


class ProgressAnswer(TypedDict, total=False):
    cases: list[dict]      # required; each: business_key (str), items (list of checked ItemProgress)
    unknown: list[str]     # required


class LookupAnswer(TypedDict, total=False):
    results: dict[str, dict]  # required; each known check's result an object with typed fields


class RatingAnswer(TypedDict, total=False):
    rating_id: int         # required
    replayed: bool         # required


@dataclass(frozen=True)
class ErrorBody:
    """What an error answer said, kept only where it has the contract's shape."""
    code: str = ""
    message: str = ""      # Chinese, fit to show as it is; "" when the answer had none
    detail: dict = field(default_factory=dict)


# ---- field checks ------------------------------------------------------------------------------
class _Bad(Exception):
    """One field is wrong; turned into MalformedAnswer (with the call's advice) by ``_answer``."""

    def __init__(self, problem: str):
        super().__init__(problem)
        self.problem = problem


_F = TypeVar("_F", bound=Callable[..., Any])


def _answer(advice: str = RETRY_LATER, *, model: type[BaseModel] | None = None) -> Callable[[_F], _F]:
    """The field checks of ``fn`` (their messages name the field in the clerk's terms), then the
    contract's own model (``models``), the same type the platform declares its answer with: an
    answer passes only if it is what the generated ``docs/openapi.yaml`` says."""
    def wrap(fn: _F) -> _F:
        @functools.wraps(fn)
        def parse(*args: Any, **kwargs: Any) -> Any:
            try:
                result = fn(*args, **kwargs)
                if model is not None:
                    _conforms(model, args[0])
                return result
            except _Bad as exc:
                raise MalformedAnswer(exc.problem, advice=advice) from None
        return parse  # type: ignore[return-value]
    return wrap


def _conforms(model: type[BaseModel], body: Any) -> None:
    try:
        model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "应答内容"
        raise _Bad(f"{where} 不符合接口约定（{first.get('type', 'invalid')}）") from None


def _at(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _where(path: str) -> str:
    return path or "应答内容"


def _obj(v: Any, path: str) -> dict:
    if not isinstance(v, dict):
        raise _Bad(f"{_where(path)} 应为对象")
    return v


def _list(v: Any, path: str) -> list:
    if not isinstance(v, list):
        raise _Bad(f"{_where(path)} 应为列表")
    return v


def _req(obj: Mapping, key: str, path: str) -> Any:
    if key not in obj or obj[key] is None:
        raise _Bad(f"缺少 {_at(path, key)}")
    return obj[key]


def _str(v: Any, path: str, *, nonempty: bool = False, max_len: int | None = None) -> str:
    if not isinstance(v, str) or (nonempty and not v.strip()) or (max_len is not None and len(v) > max_len):
        limit = f"（不超过{max_len}字符）" if max_len else ""
        raise _Bad(f"{path} 应为{'非空' if nonempty else ''}字符串{limit}")
    return v


def _opt_str(obj: Mapping, key: str, path: str) -> None:
    v = obj.get(key)
    if v is not None and not isinstance(v, str):
        raise _Bad(f"{_at(path, key)} 应为字符串")


def _bool(v: Any, path: str) -> bool:
    if not isinstance(v, bool):
        raise _Bad(f"{path} 应为是/否（true/false）")
    return v


def _opt_bool(obj: Mapping, key: str, path: str) -> None:
    if obj.get(key) is not None:  # null: the platform could not say, the same as absent
        _bool(obj[key], _at(path, key))


def _int(v: Any, path: str, *, lo: int | None = None, hi: int | None = None) -> int:
    # bool is an int in Python but not in JSON: true is not a byte count.
    if isinstance(v, bool) or not isinstance(v, int) or (lo is not None and v < lo) or (hi is not None and v > hi):
        if lo is not None and hi is not None:
            rng = f"{lo}至{hi}的整数"
        elif lo == 0:
            rng = "非负整数"
        elif lo is not None:
            rng = f"不小于{lo}的整数"
        else:
            rng = "整数"
        raise _Bad(f"{path} 应为{rng}")
    return v


def _date(v: Any, path: str) -> str:
    try:
        _dt.date.fromisoformat(_str(v, path))
    except ValueError:
        raise _Bad(f"{path} 应为日期（YYYY-MM-DD）") from None
    return v


def _datetime(v: Any, path: str) -> str:
    try:
        _dt.datetime.fromisoformat(_str(v, path))
    except ValueError:
        raise _Bad(f"{path} 应为ISO 8601时间") from None
    return v


def _sha256(v: Any, path: str) -> str:
    if not isinstance(v, str) or not C.SHA256_RE.fullmatch(v):  # match() would let a trailing "\n" through
        raise _Bad(f"{path} 应为附件摘要（64位小写十六进制SHA-256）")
    return v


def _one_of(v: Any, path: str, allowed: tuple[str, ...]) -> str:
    if v not in allowed:
        raise _Bad(f"{path} 应为 {'/'.join(allowed)} 之一")
    return v


def _attachment_state(v: Any, path: str, *, total: int | None = None, keyed: bool = True) -> AttachmentState:
    a = _obj(v, path)
    if keyed:  # a query's answer is looked up by hash; an upload's answer is about the one sent
        _sha256(_req(a, "sha256", path), _at(path, "sha256"))
    _one_of(_req(a, "state", path), _at(path, "state"), ATTACHMENT_STATES)
    _int(_req(a, "received", path), _at(path, "received"), lo=0, hi=total)
    if a.get("size") is not None:
        _int(a["size"], _at(path, "size"), lo=0)
    return a  # type: ignore[return-value]


# ---- one parser per endpoint -------------------------------------------------------------------
def parse_health(body: Any) -> dict:
    """``GET /health``. Anything but ``{"status": "ok", "api": "v1"}`` is not this interface
    (a captive portal, a gateway's page, another service on that address)."""
    if not isinstance(body, dict) or body.get("api") != "v1" or body.get("status") != "ok":
        raise TransientError("省平台地址返回的不是本接口（可能被网关或认证页面拦截）。")
    return body


@_answer(TRY_AGAIN, model=M.WhoAmI)
def parse_whoami(body: Any) -> dict:
    """``GET /auth/whoami``: ``window`` is the platform's label for this credential."""
    _str(_req(_obj(body, ""), "window", ""), "window", nonempty=True)
    return body


@_answer(model=M.WorklistAnswer)
def parse_worklist(body: Any) -> WorklistAnswer:
    """``GET /worklist``. Refused whole when any entry is wrong: the store removes the entries an
    answer no longer lists, so dropping one bad entry would silently delete it at this window."""
    entries = _list(_req(_obj(body, ""), "entries", ""), "entries")
    seen: set[str] = set()
    for i, e in enumerate(entries):
        p = _at("entries", i)
        _obj(e, p)
        pid = _str(_req(e, "platform_id", p), _at(p, "platform_id"), nonempty=True, max_len=_MAX_PLATFORM_ID)
        if pid in seen:
            raise _Bad(f"{_at(p, 'platform_id')} 与前面的条目重复")
        seen.add(pid)
        _date(_req(e, "approved_on", p), _at(p, "approved_on"))
        app = _obj(_req(e, "application", p), _at(p, "application"))
        pa = _at(p, "application")
        # The store indexes the applicant's ID number and the worklist shows the name; the rest of
        # the application is the core's to judge (``parse_application``) when the clerk opens it.
        if app.get("applicant") is not None:
            applicant = _obj(app["applicant"], _at(pa, "applicant"))
            for key in ("name", "id_number"):
                _opt_str(applicant, key, _at(pa, "applicant"))
    return body  # type: ignore[return-value]


@_answer(model=M.AttachmentStates)
def parse_attachment_states(body: Any) -> dict[str, AttachmentState]:
    """``POST /attachments/query`` → ``{sha256: state}``."""
    items = _list(_req(_obj(body, ""), "attachments", ""), "attachments")
    return {a["sha256"]: a for a in (_attachment_state(v, _at("attachments", i)) for i, v in enumerate(items))}


@_answer(model=M.AttachmentState)
def parse_upload_state(body: Any, total: int) -> AttachmentState:
    """``PUT /attachments/{sha256}``: the state after a chunk; ``received`` never beyond the file."""
    return _attachment_state(body, "", total=total, keyed=False)


@_answer()
def parse_upload_offset(detail: Mapping, total: int) -> int:
    """``409 upload_offset_mismatch``: where the platform actually is (``detail.received``)."""
    return _int(_req(detail, "received", "detail"), "detail.received", lo=0, hi=total)


@_answer()
def parse_missing(detail: Mapping) -> list[str]:
    """``409 attachments_missing``: the hashes to upload (``detail.missing``), at least one."""
    missing = _req(detail, "missing", "detail")
    if not isinstance(missing, list) or not missing:
        raise _Bad("detail.missing 应为非空的附件摘要列表")
    return [_sha256(h, _at("detail.missing", i)) for i, h in enumerate(missing)]


@_answer(model=M.SubmissionAnswer)
def parse_submission_answer(body: Any, business_key: str, content_digest: str | None = None) -> SubmissionAnswer:
    """``POST /cases``: the receipt must be for the case that was sent, and for its content: a
    receipt that echoes the business key with another digest (or none) is not a receipt."""
    receipt = _obj(_req(_obj(body, ""), "receipt", ""), "receipt")
    if receipt.get("business_key") != business_key:
        raise TransientError("省平台的回执与所报办件不符，稍后重试。")
    if content_digest is not None and receipt.get("content_digest") != content_digest:
        raise TransientError("省平台回执中的内容摘要与本办件不符（平台可能没有完整收到），未当作已接收，稍后重试。")
    _str(_req(receipt, "platform_case_id", "receipt"), "receipt.platform_case_id", nonempty=True)
    return body  # type: ignore[return-value]


@_answer(model=M.Acknowledged)
def parse_acknowledged(body: Any) -> dict:
    """``GET /acknowledged``: counted and compared with the store, so the count must be a count."""
    _int(_req(_obj(body, ""), "cases", ""), "cases", lo=0)
    return body


@_answer(TRY_AGAIN, model=M.CaseListing)
def parse_case_listing(body: Any) -> dict:
    """``GET /cases`` (a platform-side view: operators and tests)."""
    _obj(body, "")
    _int(_req(body, "page", ""), "page", lo=1)
    _int(_req(body, "page_size", ""), "page_size", lo=1)
    _int(_req(body, "total", ""), "total", lo=0)
    for i, it in enumerate(_list(_req(body, "items", ""), "items")):
        p = _at("items", i)
        _obj(it, p)
        for key in ("platform_case_id", "business_key", "idempotency_key"):
            _str(_req(it, key, p), _at(p, key), nonempty=True)
        _int(_req(it, "received_count", p), _at(p, "received_count"), lo=1)
    return body


@_answer(TRY_AGAIN, model=M.CaseDetail)
def parse_case_detail(body: Any) -> dict:
    """``GET /cases/{platform_case_id}`` (a platform-side view: operators and tests)."""
    _obj(body, "")
    _obj(_req(body, "receipt", ""), "receipt")
    _int(_req(body, "received_count", ""), "received_count", lo=1)
    _obj(_req(body, "case", ""), "case")
    return body


def _progress_event(ev: Any, path: str) -> None:
    _obj(ev, path)
    _str(_req(ev, "status", path), _at(path, "status"), nonempty=True)
    _datetime(_req(ev, "at", path), _at(path, "at"))
    _opt_str(ev, "note", path)


@_answer(model=M.ProgressAnswer)
def parse_progress(body: Any) -> ProgressAnswer:
    """``POST /progress/query``. Refused whole when anything is wrong, so no case of a bad answer
    is half applied."""
    _obj(body, "")
    for i, bk in enumerate(_list(_req(body, "unknown", ""), "unknown")):
        _str(bk, _at("unknown", i))
    lo, hi = min(ITEMS), max(ITEMS)
    for ci, case in enumerate(_list(_req(body, "cases", ""), "cases")):
        cp = _at("cases", ci)
        _obj(case, cp)
        _str(_req(case, "business_key", cp), _at(cp, "business_key"), nonempty=True)
        for ii, it in enumerate(_list(_req(case, "items", cp), _at(cp, "items"))):
            ip = _at(_at(cp, "items"), ii)
            _obj(it, ip)
            _int(_req(it, "item", ip), _at(ip, "item"), lo=lo, hi=hi)
            _str(_req(it, "status", ip), _at(ip, "status"), nonempty=True)
            _datetime(_req(it, "updated_at", ip), _at(ip, "updated_at"))
            _opt_str(it, "note", ip)
            for ei, ev in enumerate(_list(_req(it, "history", ip), _at(ip, "history"))):
                _progress_event(ev, _at(_at(ip, "history"), ei))
        for ni, n in enumerate(_list(case.get("notifications", []), _at(cp, "notifications"))):
            _notification(n, _at(_at(cp, "notifications"), ni), lo, hi)
    return body  # type: ignore[return-value]


def _notification(n: Any, path: str, lo: int, hi: int) -> None:
    _obj(n, path)
    _datetime(_req(n, "at", path), _at(path, "at"))
    if _str(_req(n, "channel", path), _at(path, "channel")) not in C.NOTIFICATION_CHANNELS:
        raise _Bad(f"{_at(path, 'channel')} 是未知的通知渠道")
    if _str(_req(n, "kind", path), _at(path, "kind")) not in C.NOTIFICATION_KINDS:
        raise _Bad(f"{_at(path, 'kind')} 是未知的通知类型")
    if n.get("item") is not None:
        _int(n["item"], _at(path, "item"), lo=lo, hi=hi)
    _str(_req(n, "text", path), _at(path, "text"), nonempty=True, max_len=500)


@_answer(ASK_PAPER, model=M.LookupAnswer)
def parse_lookup(body: Any) -> LookupAnswer:
    """``POST /data-sharing/lookup``: each known check's result, with the types the form reads
    (``ui.acceptance.form_step`` fills fields from ``verified``/``value``/``found``/…)."""
    results = _obj(_req(_obj(body, ""), "results", ""), "results")
    for check in C.DATA_SHARING_CHECKS:
        if results.get(check) is None:
            continue  # not asked, or the platform could not say: the clerk checks the paper
        p = _at("results", check)
        r = _obj(results[check], p)
        _opt_bool(r, "verified", p)
        _opt_bool(r, "found", p)
        _opt_bool(r, "value", p)
        for key in ("certificate_no", "bank_name", "account", "note", "source", "checked_at", "retirement_type",
                    *C.VETERAN_FILE_FIELDS):
            _opt_str(r, key, p)
    return body  # type: ignore[return-value]


@_answer(model=M.RatingAnswer)
def parse_rating_answer(body: Any) -> RatingAnswer:
    """``POST /ratings``."""
    _obj(body, "")
    _int(_req(body, "rating_id", ""), "rating_id")
    _bool(_req(body, "replayed", ""), "replayed")
    return body  # type: ignore[return-value]


@_answer(model=M.SettlementLetterAnswer)
def parse_settlement_letter_answer(body: Any) -> dict:
    """``POST /settlement-letters``."""
    _obj(body, "")
    _bool(_req(body, "replayed", ""), "replayed")
    return body


@_answer(model=M.RatingInvitationAnswer)
def parse_rating_invitation_answer(body: Any) -> dict:
    """``POST /ratings/invitations``."""
    _obj(body, "")
    _int(_req(body, "invitation_id", ""), "invitation_id", lo=1)
    return body


def parse_retry_after(value: str | None, now: _dt.datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date); None when
    it is absent or neither."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # str.isdigit alone also accepts "²"
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.timezone.utc)
    now = now or _dt.datetime.now(_dt.timezone.utc)
    return max(0.0, (when - now).total_seconds())


def parse_error(body: Any) -> ErrorBody:
    """An error answer (any status): what can be used of it, never an exception — it often comes
    from a gateway, not the platform. A ``message`` is kept only when it is Chinese text (it is
    shown to the clerk as it is); otherwise the caller uses its own wording."""
    if not isinstance(body, dict):
        return ErrorBody()
    code = body.get("code") if isinstance(body.get("code"), str) else ""
    message = body.get("message")
    message = " ".join(message.split())[:_MAX_MESSAGE] if isinstance(message, str) and _CJK.search(message) else ""
    detail = body.get("detail") if isinstance(body.get("detail"), dict) else {}
    return ErrorBody(code=code, message=message, detail=detail)


@_answer(TRY_AGAIN, model=M.ClaimAnswer)
def parse_claim(body: Any) -> dict:
    """``POST``/``DELETE /worklist/{platform_id}/claim``."""
    return _obj(body, "")


@_answer(TRY_AGAIN, model=M.PersonAnswer)
def parse_person(body: Any) -> dict:
    """``POST /persons/open-case``: the open case of this veteran anywhere in the province, or null."""
    return _obj(body, "")


@_answer(model=M.CenterReport)
def parse_center_report(body: Any) -> dict:
    """``GET /center/report``: the center's figures, already masked by the platform."""
    return _obj(body, "")
