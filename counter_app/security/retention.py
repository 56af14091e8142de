"""Retention (PIPL art. 19 and 47: keep personal data no longer than the purpose needs).

Once the platform reports a case finished (completed, or rejected), its personal data stays
on the window for ``retention_days`` (default 30) so the clerk can still answer questions, and
is then purged:

- every version of the case loses its encrypted payload and phone index; a masked receipt
  (``cases.masked_summary``) and ``purged_at`` stay, as do the content digest, the seal, the
  transitions and the audit trail (the audit entries hold no personal data);
- attachment files are deleted and their rows marked ``purged_at``, unless a case that is not
  purged still refers to the same file (the store is content-addressed: one photo may serve a
  later case) — including drafts, whose references are inside their encrypted payload;
- worklist entries taken by the case (online applications, with personal data) are deleted.

The ID-number blind index is kept: it is a keyed hash, not the number, and it lets the window
find the masked receipt when the veteran comes back.

Database changes commit first; files are deleted afterwards, and a later run deletes files
left behind by a crash in between (rows already marked purged).

Thread contract: run from one background job at a time; each case is its own transaction.
"""
from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select

from counter_app import audit
from counter_app.cases import SYSTEM, Actor, CaseError
from counter_app.lifecycle import EDITABLE_STATES, CaseState
from counter_app.masking import mask_id_number, mask_name
from counter_app.security.vault import DecryptionError, Vault
from counter_app.store.models import (
    Attachment, CaseAttachment, CaseRow, CaseTransition, FollowUp, Handover, Notification, SigningJob, WorklistEntry,
)

if TYPE_CHECKING:  # pragma: no cover
    from counter_app.services import Window

# Withdrawn cases are finished too: their personal data has no purpose left at the window.
FINISHED_STATES = (CaseState.COMPLETED.value, CaseState.REJECTED.value, CaseState.WITHDRAWN.value)
# A file no row or draft refers to is left by a crash or an abandoned capture; younger ones may
# belong to a capture in progress in another process.
ORPHAN_MIN_AGE = _dt.timedelta(days=1)


@dataclass
class PurgeReport:
    cases: list[str] = field(default_factory=list)        # case numbers purged
    rows: int = 0                                         # versions purged
    files_deleted: int = 0
    files_kept_shared: int = 0
    errors: list[str] = field(default_factory=list)
    drafts_withdrawn: list[str] = field(default_factory=list)  # abandoned drafts, withdrawn then purged
    orphans_deleted: int = 0

    def to_dict(self) -> dict:
        return {"cases": self.cases, "rows": self.rows, "files_deleted": self.files_deleted,
                "files_kept_shared": self.files_kept_shared, "errors": self.errors,
                "drafts_withdrawn": self.drafts_withdrawn, "orphans_deleted": self.orphans_deleted}


def due_case_numbers(window: "Window", now: _dt.datetime, retention_days: int) -> list[str]:
    """Case numbers whose newest version finished at least ``retention_days`` ago and still hold data."""
    cutoff = now - _dt.timedelta(days=retention_days)
    with window.sessions() as s:
        latest = (select(CaseRow.case_no, func.max(CaseRow.version).label("v")).group_by(CaseRow.case_no).subquery())
        rows = s.execute(select(CaseRow).join(latest, (CaseRow.case_no == latest.c.case_no) & (CaseRow.version == latest.c.v))
                         .where(CaseRow.state.in_(FINISHED_STATES), CaseRow.purged_at.is_(None))).scalars().all()
        due = []
        for row in rows:
            finished = s.execute(select(func.max(CaseTransition.at)).where(
                CaseTransition.case_id == row.id, CaseTransition.to_state == row.state)).scalar_one_or_none()
            if finished is not None and finished <= cutoff:
                due.append(row.case_no)
        return sorted(due)


def _masked_summary(window: "Window", row: CaseRow) -> dict:
    summary = {"items": [int(x) for x in row.items.split(",") if x], "retirement_type": row.retirement_type,
               "accepted_on": row.accepted_on.isoformat() if row.accepted_on else None, "state": row.state,
               "operator": row.operator, "name": "", "id_number": ""}
    try:
        app = window.cases._decrypt_app(row)
    except (DecryptionError, ValueError):
        summary["note"] = "清除前数据已无法解密"
        return summary
    summary["name"] = mask_name(app.applicant.name)
    summary["id_number"] = mask_id_number(app.applicant.id_number)
    return summary


def _referenced_elsewhere(s, sha: str, purging: set[str]) -> bool:  # noqa: ANN001
    live = s.execute(select(func.count()).select_from(CaseAttachment).join(CaseRow, CaseRow.id == CaseAttachment.case_id)
                     .where(CaseAttachment.sha256 == sha, CaseRow.purged_at.is_(None),
                            CaseRow.id.not_in(sorted(purging)))).scalar_one()
    return live > 0


def _draft_references(window: "Window", *, strict: bool = False) -> set[str]:
    """Hashes that unfinished drafts point at (only inside their encrypted payload). ``strict``:
    raise DecryptionError when a draft cannot be read (the caller then cannot tell what is unused)."""
    refs: set[str] = set()
    with window.sessions() as s:
        drafts = s.execute(select(CaseRow).where(CaseRow.state.in_([st.value for st in EDITABLE_STATES]),
                                                 CaseRow.payload_enc.is_not(None))).scalars().all()
        for row in drafts:
            try:
                app = window.cases._decrypt_app(row)
            except (DecryptionError, ValueError, CaseError):
                if strict:
                    raise DecryptionError("draft unreadable") from None
                continue  # cannot tell: keep nothing on its account, archive verify will flag the row
            refs.update(h for h in (app.photo, app.signature, app.settlement_letter_scan) if h)
            for rec in app.materials.values():
                refs.update(rec.attachments)
    return refs


def purge_case(window: "Window", case_no: str, *, now: _dt.datetime, actor: Actor = SYSTEM,
               report: PurgeReport | None = None, draft_refs: set[str] | None = None) -> PurgeReport:
    report = report or PurgeReport()
    draft_refs = _draft_references(window) if draft_refs is None else draft_refs
    doomed_files: list[str] = []
    with window.sessions.begin() as s:
        rows = s.execute(select(CaseRow).where(CaseRow.case_no == case_no, CaseRow.purged_at.is_(None))).scalars().all()
        if not rows:
            return report
        ids = {r.id for r in rows}
        shas = set(s.execute(select(CaseAttachment.sha256).where(CaseAttachment.case_id.in_(ids))).scalars())
        # The center-signed PDFs carry the same personal data (the form's case JSON too).
        shas |= set(s.execute(select(SigningJob.signed_sha256).where(SigningJob.case_id.in_(ids),
                                                                     SigningJob.signed_sha256.is_not(None))).scalars())
        for row in rows:
            row.masked_summary = _masked_summary(window, row)
            # One UPDATE with purged_at set: the immutability trigger lets only the purge through.
            row.payload_enc = None
            row.phone_bidx = None
            row.purged_at = now
        s.execute(delete(WorklistEntry).where(WorklistEntry.taken_case_id.in_(ids)))
        # 出件 records hold the receiver's name and signature: they go with the case's personal data.
        for h in s.execute(select(Handover).where(Handover.case_id.in_(ids))).scalars().all():
            if h.detail_enc is not None:
                detail = json.loads(window.vault.decrypt(h.detail_enc, Vault.associated_data("handovers", "detail_enc",
                                                                                             h.id)))
                if detail.get("signature"):
                    shas.add(detail["signature"])
            s.delete(h)
        s.execute(delete(Notification).where(Notification.case_id.in_(ids)))  # texts may name the applicant
        # The stamped 落户介绍信 scanned back after acceptance names the applicant too.
        for f in s.execute(select(FollowUp).where(FollowUp.case_id.in_(ids))).scalars().all():
            if f.sha256:
                shas.add(f.sha256)
            s.delete(f)
        s.flush()
        kept = 0
        for sha in sorted(shas):
            if sha in draft_refs or _referenced_elsewhere(s, sha, ids):
                kept += 1
                continue
            att = s.get(Attachment, sha)
            if att is not None and att.purged_at is None:
                att.purged_at = now
            doomed_files.append(sha)
        audit.append(s, actor.username, "purge", case_no,
                     {"versions": sorted(r.version for r in rows), "files": len(doomed_files), "files_shared": kept},
                     at=now)
    for sha in doomed_files:
        window.files.delete(sha)
    report.cases.append(case_no)
    report.rows += len(rows)
    report.files_deleted += len(doomed_files)
    report.files_kept_shared += kept
    return report


def sweep_purged_files(window: "Window") -> int:
    """Delete files whose rows are marked purged but which a crash left on disk."""
    with window.sessions() as s:
        shas = s.execute(select(Attachment.sha256).where(Attachment.purged_at.is_not(None))).scalars().all()
    n = 0
    for sha in shas:
        if window.files.exists(sha):
            window.files.delete(sha)
            n += 1
    return n


def run_retention(window: "Window", *, now: _dt.datetime | None = None, retention_days: int | None = None,
                  actor: Actor = SYSTEM) -> PurgeReport:
    """Purge every case that is due. Safe to run repeatedly (e.g. daily and at start-up)."""
    now = now or _dt.datetime.now(_dt.timezone.utc)
    days = window.settings.retention_days if retention_days is None else int(retention_days)
    report = PurgeReport()
    sweep_purged_files(window)
    withdraw_abandoned_drafts(window, now, int(window.settings.draft_retention_days), report)
    due = due_case_numbers(window, now, days)
    draft_refs = _draft_references(window)
    for case_no in due:
        try:
            purge_case(window, case_no, now=now, actor=actor, report=report, draft_refs=draft_refs)
        except Exception as exc:  # noqa: BLE001 - one bad case must not stop the others; reported
            report.errors.append(f"{case_no}：{type(exc).__name__}")
    report.orphans_deleted = collect_orphans(window, now=now)
    return report


def withdraw_abandoned_drafts(window: "Window", now: _dt.datetime, days: int, report: PurgeReport) -> None:
    """Drafts untouched for ``days`` are withdrawn (audited, by the system) and so purged."""
    cutoff = now - _dt.timedelta(days=days)
    with window.sessions() as s:
        stale = s.execute(select(CaseRow.id, CaseRow.case_no).where(
            CaseRow.state.in_([st.value for st in EDITABLE_STATES]), CaseRow.updated_at <= cutoff)).all()
    for case_id, case_no in stale:
        try:
            window.cases.transition(case_id, CaseState.WITHDRAWN, SYSTEM, f"草稿超过{days}天未完成，自动撤回")
        except CaseError as exc:
            report.errors.append(f"{case_no}：{exc.message}")
            continue
        report.drafts_withdrawn.append(case_no)
        purge_case(window, case_no, now=now, report=report)


def collect_orphans(window: "Window", *, now: _dt.datetime, min_age: _dt.timedelta = ORPHAN_MIN_AGE) -> int:
    """Delete attachment files that nothing refers to: no attachment row of a case that still
    holds data, no draft. Skipped entirely when a draft cannot be read (its files are unknown)."""
    try:
        keep = _draft_references(window, strict=True)
    except DecryptionError:
        return 0
    with window.sessions() as s:
        keep.update(s.execute(select(CaseAttachment.sha256).join(CaseRow, CaseRow.id == CaseAttachment.case_id)
                              .where(CaseRow.purged_at.is_(None))).scalars())
        # Files a case refers to outside its sealed attachments: the letter scanned back after
        # acceptance, and the receiver's signature of a handover (inside its encrypted detail).
        keep.update(h for h in s.execute(select(FollowUp.sha256).where(FollowUp.sha256.is_not(None))).scalars())
        for h in s.execute(select(Handover).where(Handover.detail_enc.is_not(None))).scalars():
            detail = json.loads(window.vault.decrypt(h.detail_enc, Vault.associated_data("handovers", "detail_enc", h.id)))
            if detail.get("signature"):
                keep.add(detail["signature"])
    newest = (now - min_age).timestamp()
    deleted = 0
    for path in window.files.root.glob("??/*"):
        name = path.name
        if len(name) != 64 or name in keep:
            continue
        try:
            if path.stat().st_mtime > newest:
                continue
        except FileNotFoundError:
            continue
        window.files.delete(name)
        deleted += 1
    return deleted
