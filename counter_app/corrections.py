"""A supervisor's review of a correction: what changed (before → after), and a refusal with reason.

Approval lives with the case service (``CaseService.approve_correction``); here are the two other
halves of the review. A refused correction goes back to the clerk as it is (the accepted version
stays valid); the reason goes to the case's timeline and the audit trail, and the draft leaves the
supervisor's list until it is changed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from counter_app import audit
from counter_app.application import application_to_dict
from counter_app.cases import AccessDenied, Actor, CaseError, CaseRecord, CaseService
from counter_app.correction_reasons import REFUSAL, REQUEST, record_reason, stored_reasons
from counter_app.store.models import CaseTransition
from counter_app.masking import mask_id_number, mask_phone, mask_text
from counter_app.security.roles import Permission

# Parts of the case that are not what the applicant declared: never listed as changes.
_NOT_CONTENT = ("signature", "materials", "photo", "application_date")


@dataclass(frozen=True)
class Change:
    path: str      # dotted, as the form binds it: "applicant.phone"
    before: str
    after: str


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, inner in value.items():
            out.update(_flat(inner, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value}


def _shown(path: str, value: Any) -> str:
    if value is None or value == "":
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(str(v) for v in value) or "（空）"
    text = str(value)
    if path.endswith("id_number"):
        return mask_id_number(text)
    if path.endswith("phone"):
        return mask_phone(text)
    return text


def correction_changes(cases: CaseService, case_id: str) -> list[Change]:
    """Every field whose value differs between the accepted version and its correction draft."""
    draft = cases.get(case_id)
    if not draft.supersedes_id:
        raise CaseError("这不是更正版本。")
    original = cases.get(draft.supersedes_id)
    before = _flat({k: v for k, v in application_to_dict(original.application).items() if k not in _NOT_CONTENT})
    after = _flat({k: v for k, v in application_to_dict(draft.application).items() if k not in _NOT_CONTENT})
    return [Change(path, _shown(path, before.get(path)), _shown(path, after.get(path)))
            for path in sorted(set(before) | set(after)) if before.get(path) != after.get(path)]


def reject_correction(cases: CaseService, case_id: str, actor: Actor, reason: str) -> CaseRecord:
    """A supervisor refuses a correction draft, saying why; the same rules as approving apply
    (a supervisor, not the one who accepted or started it)."""
    if not reason.strip():
        raise CaseError("请填写不予批准的原因，受理员会看到它。")
    cases._require(actor, Permission.APPROVE_CORRECTION)
    with cases.sessions.begin() as s:
        row, digest = cases.correction_to_decide(s, case_id, actor)
        s.add(CaseTransition(case_id=row.id, from_state=row.state, to_state=row.state, at=cases.clock(),
                             operator=actor.username, reason=mask_text(f"更正未批准：{reason.strip()}")))
        record_reason(s, cases.vault, row.id, REFUSAL, actor.username, reason, cases.clock())
        audit.append(s, actor.username, "correction_rejected", row.case_no,
                     {"case_id": row.id, "version": row.version, "content_sha256": digest,
                      "reason": mask_text(reason.strip())})
    return cases.get(case_id)


def correction_reason(cases: CaseService, case_id: str, actor: Actor) -> str:
    """Why this correction was asked for, in the clerk's own words: for a supervisor of the case's
    service center (the one who reviews it). Everyone else sees the masked copy on the timeline."""
    cases._require(actor, Permission.APPROVE_CORRECTION)
    with cases.sessions() as s:
        cases._require_operator(s, actor, Permission.APPROVE_CORRECTION)
        row = cases._row(s, case_id)
        if row.center_code != cases.center_code:
            raise AccessDenied("只有本服务中心的审核负责人可以查看这条更正的原因。")
        if not row.supersedes_id:
            raise CaseError("这不是更正版本。")
        asked = stored_reasons(s, cases.vault, row.id, REQUEST)
        if asked:
            return asked[-1].text
        # a correction started before the reasons were kept encrypted: only the masked copy exists
        masked = s.execute(select(CaseTransition.reason).where(
            CaseTransition.case_id == row.id, CaseTransition.reason.like("更正原因：%"))).scalar()
        return (masked or "")[len("更正原因："):] + "（早期记录，仅存脱敏文本）" if masked else ""


def rejected_as_it_stands(cases: CaseService, case_id: str) -> bool:
    """True when the supervisor's last word on this draft is a refusal and it was not changed since."""
    from sqlalchemy import select

    from counter_app.store.models import AuditEntry

    with cases.sessions() as s:
        row = cases._row(s, case_id)
        q = (select(AuditEntry).where(AuditEntry.subject == row.case_no,
                                      AuditEntry.action.in_(("correction_rejected", "correction_approved")))
             .order_by(AuditEntry.seq.desc()))
        for entry in s.execute(q).scalars():
            if (entry.detail or {}).get("case_id") != row.id:
                continue
            if entry.action != "correction_rejected":
                return False
            current = cases.correction_content_digest(cases._decrypt_app(row))
            return entry.detail.get("content_sha256") == current
    return False
