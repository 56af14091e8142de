"""The supervisor's override of the 服务对象 tests (see :mod:`counter_app.eligibility`).

The override travels inside the application (the platform sees who decided and why) and is
bound by an audit entry over case, supervisor and reason; finalizing checks that entry, so an
override typed into an imported JSON, or edited after the decision, does not count.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from counter_app import audit
from counter_app.application import EligibilityOverride
from counter_app.clock import CHINA_TZ
from counter_app.eligibility import OVERRIDABLE, override_digest
from counter_app.lifecycle import EDITABLE_STATES, CaseState
from counter_app.rules import validate
from counter_app.security.roles import Permission
from counter_app.store.models import AuditEntry, CaseTransition

ACTION = "eligibility_override"


def grant_override(cases, case_id: str, actor, reason: str):
    """A supervisor serves this applicant although a 服务对象 test refuses them; returns the case.

    Refused for a clerk, without a reason, for a finalized case, and when nothing needs overriding."""
    from counter_app.cases import CaseError

    cases._require(actor, Permission.OVERRIDE_ELIGIBILITY)
    reason = " ".join(reason.split())
    if len(reason) < 4:
        raise CaseError("请填写特批理由（至少4个字），例如申请人的实际需求。")
    rec = cases.get(case_id)
    if CaseState(rec.state) not in EDITABLE_STATES:
        raise CaseError("办件已定稿，不能再特批服务对象。")
    app = rec.application.copy()
    app.eligibility_override = None
    if not any(p.code in OVERRIDABLE for p in validate(app, today=cases._today())):
        raise CaseError("该申请人属于服务对象（当年度退役、河南省内安置），无需特批。")
    app.eligibility_override = EligibilityOverride(actor.username, reason,
                                                   cases.clock().astimezone(CHINA_TZ).isoformat(timespec="seconds"))
    saved = cases.save_draft(case_id, app, actor)
    with cases.sessions.begin() as s:
        cases._require_operator(s, actor, Permission.OVERRIDE_ELIGIBILITY)
        s.add(CaseTransition(case_id=case_id, from_state=saved.state, to_state=saved.state, at=cases.clock(),
                             operator=actor.username, reason="服务对象特批"))
        audit.append(s, actor.username, ACTION, saved.case_no,
                     {"case_id": case_id, "override_sha256": override_digest(case_id, app.eligibility_override)})
    return cases.get(case_id)


def check_override(s: Session, case_id: str, case_no: str, ov: EligibilityOverride | None) -> str | None:
    """None when there is no override or it matches an audit entry; else the reason to refuse."""
    if ov is None:
        return None
    digest = override_digest(case_id, ov)
    q = select(AuditEntry).where(AuditEntry.action == ACTION, AuditEntry.subject == case_no)
    for entry in s.execute(q).scalars():
        if (entry.detail or {}).get("override_sha256") == digest and entry.operator == ov.supervisor:
            return None
    return "申请中的服务对象特批没有对应的审核负责人记录（或在特批后被修改），请由审核负责人在本机重新特批。"
