"""Corrections: a new version of a sealed case, and a supervisor's approval of it.

A correction starts as a draft superseding the accepted version; it can be finalized only with
a named supervisor's approval of its content as it stands (later edits void the approval), and
that approval travels sealed inside the case JSON. The review (what changed, refusal) is
``counter_app.corrections``.

Part of :class:`counter_app.cases.CaseService`.
"""
from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from counter_app import audit
from counter_app.application import Application, application_to_dict
from counter_app.case_json import canonical_json, iso
from counter_app.case_types import AccessDenied, Actor, CaseError, CaseRecord
from counter_app.correction_reasons import REQUEST, record_reason
from counter_app.lifecycle import EDITABLE_STATES, CaseState
from counter_app.masking import mask_text
from counter_app.security.roles import Permission
from counter_app.store.models import AuditEntry, CaseRow, CaseTransition


class CaseCorrections:
    def start_correction(self, case_id: str, actor: Actor, reason: str) -> CaseRecord:
        self._require(actor, Permission.START_CORRECTION)
        if not reason.strip():
            raise CaseError("请填写更正原因。")
        with self.sessions() as s:
            old = self._row(s, case_id)
            if old.finalized_at is None:
                raise CaseError("办件尚未提交，直接修改即可，无需更正。")
            if CaseState(old.state) in (CaseState.SUPERSEDED, CaseState.WITHDRAWN):
                raise CaseError("该版本已被更正或撤回，请打开最新版本。")
            newer = s.execute(select(CaseRow).where(CaseRow.supersedes_id == old.id)).scalar_one_or_none()
            if newer is not None:
                raise CaseError(f"该办件已有更正中的第{newer.version}版。")
            app = self._decrypt_app(old)
        rec = self.create_draft(app, actor, supersedes=old)
        with self.sessions.begin() as s:
            s.add(CaseTransition(case_id=rec.id, from_state=CaseState.DRAFT.value, to_state=CaseState.DRAFT.value,
                                 at=self.clock(), operator=actor.username, reason=f"更正原因：{mask_text(reason)}"))
            # the words in full, encrypted, for the supervisor who reviews it (the timeline's are masked)
            record_reason(s, self.vault, rec.id, REQUEST, actor.username, reason, self.clock())
        return self.get(rec.id)

    @staticmethod
    def correction_content_digest(app: Application) -> str:
        """What a supervisor approves: the corrected application except the applicant's signature,
        which is collected on the corrected form after approval."""
        data = application_to_dict(app)
        data.pop("signature", None)
        return hashlib.sha256(canonical_json(data)).hexdigest()

    def _approval_entry(self, s: Session, row: CaseRow) -> AuditEntry | None:
        q = (select(AuditEntry).where(AuditEntry.action == "correction_approved", AuditEntry.subject == row.case_no)
             .order_by(AuditEntry.seq.desc()))
        for entry in s.execute(q).scalars():
            if (entry.detail or {}).get("case_id") == row.id:
                return entry
        return None

    def _correction_block(self, s: Session, row: Any) -> dict | None:
        """The approval a correction carries to the platform, inside the sealed part of the case:
        the platform accepts a version > 1 only with a named supervisor's approval under the seal."""
        entry = self._approval_entry(s, row)
        if entry is None:
            return None
        return {"approved_by": entry.operator, "approved_at": iso(entry.at)}

    def _check_correction_approved(self, s: Session, row: CaseRow, app: Application) -> None:
        entry = self._approval_entry(s, row)
        if entry is None:
            raise CaseError(f"办件{row.case_no}的更正（第{row.version}版）须经审核负责人审批后才能提交。")
        if entry.detail.get("content_sha256") != self.correction_content_digest(app):
            raise CaseError("更正内容在审批后又被修改，请重新提交审核负责人审批。")

    def correction_to_decide(self, s, case_id: str, actor: Actor) -> tuple[CaseRow, str]:
        """The correction draft ``actor`` may approve or refuse, with the digest of its content now.
        Refused for a clerk, for the supervisor who accepted the original version and for the one
        who started the correction: nobody decides on their own case."""
        self._require_operator(s, actor, Permission.APPROVE_CORRECTION)
        row = self._row(s, case_id)
        if not row.supersedes_id or CaseState(row.state) not in EDITABLE_STATES:
            raise CaseError("只能审批尚未提交的更正版本。")
        original = self._row(s, row.supersedes_id)
        if actor.username in (original.operator, row.operator):
            raise AccessDenied("不能审批自己受理或自己发起的办件更正，请由其他审核负责人审批。")
        return row, self.correction_content_digest(self._decrypt_app(row))

    def approve_correction(self, case_id: str, actor: Actor) -> CaseRecord:
        """A supervisor approves a correction draft as it stands now (later edits void it).
        Refused for a clerk, for the supervisor who accepted the original version and for the
        one who started the correction: nobody approves their own case."""
        self._require(actor, Permission.APPROVE_CORRECTION)
        with self.sessions.begin() as s:
            row, digest = self.correction_to_decide(s, case_id, actor)
            s.add(CaseTransition(case_id=row.id, from_state=row.state, to_state=row.state, at=self.clock(),
                                 operator=actor.username, reason="更正已审批"))
            audit.append(s, actor.username, "correction_approved", row.case_no,
                         {"case_id": row.id, "version": row.version, "content_sha256": digest})
        return self.get(case_id)

    def correction_approval(self, case_id: str) -> dict | None:
        """The approval of a correction draft (approver, time, still valid for the stored draft), or None."""
        with self.sessions() as s:
            row = self._row(s, case_id)
            entry = self._approval_entry(s, row)
            if entry is None:
                return None
            current = self.correction_content_digest(self._decrypt_app(row)) if row.payload_enc else None
            return {"approver": entry.operator, "at": iso(entry.at),
                    "valid": current == entry.detail.get("content_sha256")}
