"""The tamper-evident audit trail.

Each entry stores the SHA-256 of the previous entry's hash and its own canonical content,
so editing, deleting or reordering any entry breaks every later link. Entries carry no
personal data: subjects are case numbers, details are masked or categorical.
Appending happens inside the caller's write transaction (BEGIN IMMEDIATE), which serialises
writers, so sequence numbers have no gaps.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from counter_app.store.models import AuditEntry

GENESIS = "0" * 64

ACTIONS = frozenset({
    "login", "login_failed", "logout", "lockout", "reveal", "print", "export", "finalize", "correction",
    "correction_approved", "sync_ack", "settings", "case_create", "case_import", "transition", "purge",
    "key_rotate", "rating", "quarantine", "diagnostics",
})


def entry_hash(prev_hash: str, seq: int, at: str, operator: str, action: str, subject: str, detail: dict) -> str:
    canonical = json.dumps([seq, at, operator, action, subject, detail], ensure_ascii=False,
                           sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def append(session: Session, operator: str, action: str, subject: str = "", detail: dict | None = None,
           at: _dt.datetime | None = None) -> AuditEntry:
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    detail = detail or {}
    at = at or _dt.datetime.now(_dt.timezone.utc)
    last = session.execute(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).scalar_one_or_none()
    seq = (last.seq + 1) if last else 1
    prev = last.hash if last else GENESIS
    at_text = at.isoformat()
    h = entry_hash(prev, seq, at_text, operator, action, subject, detail)
    entry = AuditEntry(seq=seq, at=at, operator=operator, action=action, subject=subject, detail=detail,
                       prev_hash=prev, hash=h)
    session.add(entry)
    session.flush()
    return entry


@dataclass
class ChainReport:
    ok: bool
    entries: int
    head: str
    first_broken_seq: int | None = None
    message: str = ""


def verify(session: Session) -> ChainReport:
    prev = GENESIS
    expected_seq = 1
    count = 0
    for e in session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars():
        count += 1
        at = e.at
        if e.seq != expected_seq:
            return ChainReport(False, count, prev, expected_seq, f"第{expected_seq}条审计记录缺失或顺序被改动。")
        if e.prev_hash != prev:
            return ChainReport(False, count, prev, e.seq, f"第{e.seq}条审计记录与前一条的链接不符（前面的记录被删除、改动或重排）。")
        if entry_hash(prev, e.seq, at.isoformat(), e.operator, e.action, e.subject, e.detail) != e.hash:
            return ChainReport(False, count, prev, e.seq, f"第{e.seq}条审计记录的内容被改动。")
        prev = e.hash
        expected_seq += 1
    return ChainReport(True, count, prev, None, "审计链完整。")


def head(session: Session) -> tuple[int, str]:
    last = session.execute(select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)).first()
    return (last[0], last[1]) if last else (0, GENESIS)


def count(session: Session) -> int:
    return session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
