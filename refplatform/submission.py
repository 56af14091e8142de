"""The checks a submitted case must pass, over HTTP or from an offline bundle.

The shape is the contract's model (``counter_app.sync.models.Submission``); what a schema cannot
say — the business key agrees with the case number and version, the ID number's check digit, the
content digest equals the recomputed one — is checked here and refused with ``422``.
"""
from __future__ import annotations

import datetime as _dt
from typing import Any

from pydantic import ValidationError

from counter_app.identity import check_id_number
from counter_app.sync import contract as C
from counter_app.sync.models import Submission
from refplatform.errors import PlatformError


def _invalid(msg: str) -> PlatformError:
    return PlatformError(422, C.E_INVALID_CASE, msg)


def field_path(loc: tuple) -> str:
    return ".".join(str(p) for p in loc if p not in ("body",)) or "请求体"


def validation_message(exc: ValidationError | Any, prefix: str = "请求内容不符合接口约定") -> str:
    """Names the first wrong field and what is wrong, never its value (it may be personal data)."""
    errors = exc.errors() if hasattr(exc, "errors") else []
    if not errors:
        return prefix + "。"
    first = errors[0]
    return f"{prefix}：{field_path(tuple(first.get('loc', ())))}（{first.get('type', 'invalid')}）。"


def check_submission(body: Any) -> tuple[str, dict, str]:
    """Returns (business key, case, content digest) or raises PlatformError."""
    if not isinstance(body, dict):
        raise PlatformError(400, C.E_INVALID_REQUEST, "请求体应为JSON对象。")
    try:
        Submission.model_validate(body)
    except ValidationError as exc:
        raise _invalid(validation_message(exc, "办件数据不符合接口约定")) from None
    bk, case = body["business_key"], body["case"]
    if C.business_key(case["case_no"], case["version"]) != bk:
        raise _invalid("业务键与办件编号、版本号不一致。")
    if not case["case_no"].startswith(f"{case['center_code']}-"):
        raise _invalid("服务中心代码与办件编号不一致。")
    if int(case["version"]) > 1 and not case.get("supersedes"):
        raise _invalid("更正版本须写明所更正的版本（supersedes）。")
    if not check_id_number(case["application"]["applicant"]["id_number"]).ok:
        raise _invalid("申请人公民身份号码校验不通过，请核对后发起更正。")
    digest = C.content_digest(case)
    if case.get("content_digest") != digest:
        raise PlatformError(422, C.E_DIGEST_MISMATCH, "办件内容摘要与内容不符（内容在签字定稿后被改动或传输损坏）。")
    return bk, case, digest


def deadlines_of(case: dict) -> dict[int, _dt.date]:
    """Each item's due date as the window computed it (informational ``deadlines``), for the
    center's overdue figures. Entries that do not parse are left out."""
    out: dict[int, _dt.date] = {}
    for d in case.get("deadlines") or []:
        if not isinstance(d, dict):
            continue
        try:
            out[int(d.get("item"))] = _dt.date.fromisoformat(str(d.get("due")))
        except (TypeError, ValueError):
            continue
    return out
