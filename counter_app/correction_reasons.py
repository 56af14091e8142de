"""The reasons of a correction, kept readable for the people who must read them.

A clerk who starts a correction writes why ("联系电话登记为13800000000，应为13812345678"); a
supervisor who refuses one writes why too. The case's timeline keeps a masked copy (it is shown in
lists and exported); the words themselves are personal data and are stored encrypted at rest in
``correction_reasons.reason_enc`` (the vault's field encryption, bound to the row), so that the
supervisor who reviews the correction reads exactly what was asked (``corrections.correction_reason``).
"""
from __future__ import annotations

import datetime as _dt
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from counter_app.security.vault import Vault
from counter_app.store.models import CorrectionReason

REQUEST = "request"   # the clerk's reason for starting the correction
REFUSAL = "refusal"   # the supervisor's reason for sending it back


@dataclass(frozen=True)
class StoredReason:
    kind: str
    at: _dt.datetime
    operator: str
    text: str


def _ad(row_id: str) -> bytes:
    return Vault.associated_data("correction_reasons", "reason_enc", row_id)


def record_reason(s: Session, vault: Vault, case_id: str, kind: str, operator: str, reason: str,
                  at: _dt.datetime) -> None:
    """Store ``reason`` encrypted, in the caller's transaction (the timeline's masked copy is the
    caller's)."""
    row_id = uuid.uuid4().hex
    s.add(CorrectionReason(id=row_id, case_id=case_id, kind=kind, at=at, operator=operator,
                           reason_enc=vault.encrypt(reason.strip().encode("utf-8"), _ad(row_id))))


def stored_reasons(s: Session, vault: Vault, case_id: str, kind: str | None = None) -> list[StoredReason]:
    """The decrypted reasons of a case, oldest first."""
    q = select(CorrectionReason).where(CorrectionReason.case_id == case_id)
    if kind is not None:
        q = q.where(CorrectionReason.kind == kind)
    rows = s.execute(q.order_by(CorrectionReason.at, CorrectionReason.id)).scalars().all()
    return [StoredReason(r.kind, r.at, r.operator, vault.decrypt(r.reason_enc, _ad(r.id)).decode("utf-8"))
            for r in rows]
