"""Cases in the local store: create and edit drafts, read, list, export, import.

Sealing and queueing a case (**where a case is queued**) is ``counter_app.finalize``; corrections
and their approval ``counter_app.correction_approval``; department progress and deadlines
``counter_app.case_progress``; the case JSON ``counter_app.case_json``; the records and errors
handed out ``counter_app.case_types`` (re-exported here, where callers have always found them).

Thread contract: a CaseService may be shared between threads; each call opens its own
session. Calls block on disk I/O, so the GUI calls them from a worker.
"""
from __future__ import annotations

import datetime as _dt
import json
import logging
import uuid
from typing import Any, Callable, Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from counter_app import audit
from counter_app.application import Application, application_from_dict, application_to_dict, parse_application
from counter_app.case_json import build_case_json, canonical_json, iso, operator_name, sealable_content, supersedes_no
from counter_app.case_number import CaseNumber
from counter_app.case_progress import CaseProgress
from counter_app.case_types import (
    DAMAGED_TEXT, SYSTEM, AccessDenied, Actor, CaseDamaged, CaseError, CaseRecord, CaseSummary,
)
from counter_app.clock import CHINA_TZ
from counter_app.correction_approval import CaseCorrections
from counter_app.finalize import CaseFinalizing
from counter_app.identity import normalise_id_number, normalise_phone
from counter_app.lifecycle import EDITABLE_STATES, OPEN_STATES, CaseState, IllegalTransition, check_case_transition
from counter_app.masking import mask_id_number, mask_name, mask_text
from counter_app.problems import Problem
from counter_app.rules import normalise, validate
from counter_app.security.roles import Permission, allowed, denial_message
from counter_app.security.vault import DecryptionError, Vault
from counter_app.statuses import OutboxStatus
from counter_app.store.files import DiskFull, FileStore
from counter_app.store.models import (
    Attachment, CaseAttachment, CaseRow, CaseTransition, DailySequence, ItemProgress, Operator, OutboxEntry,
)
from counter_app.workdays import WorkCalendar, worst_sla

__all__ = [  # what callers import from here
    "DAMAGED_TEXT", "SYSTEM", "AccessDenied", "Actor", "CHINA_TZ", "CaseDamaged", "CaseError", "CaseRecord",
    "CaseService", "CaseSummary", "canonical_json", "sealable_content",
]

log = logging.getLogger(__name__)


# What the unattended "system" actor (imports, demo seeding, the sync worker) may do.
_SYSTEM_PERMISSIONS = frozenset({Permission.HANDLE_CASE})


class CaseService(CaseFinalizing, CaseCorrections, CaseProgress):
    """Cases of this window. The domains live in their own modules: sealing and queueing in
    ``counter_app.finalize``, corrections in ``counter_app.correction_approval``, department
    progress and deadlines in ``counter_app.case_progress``; drafts, reading and export here."""

    def __init__(self, sessions: sessionmaker[Session], vault: Vault, files: FileStore, calendar: WorkCalendar,
                 *, center_code: str, window_no: str, clock: Callable[[], _dt.datetime] | None = None,
                 sealer: Any = None, center_name: str = ""):
        self.sessions = sessions
        self.vault = vault
        self.files = files
        self.calendar = calendar
        self.center_code = center_code
        self.center_name = center_name
        self.window_no = window_no
        self.clock = clock or (lambda: _dt.datetime.now(_dt.timezone.utc))
        self.sealer = sealer  # security.seal.Sealer, optional until keys exist
        self._pending_meta: dict[str, tuple[int, str]] = {}  # sha256 -> (size, mime) not yet in a row

    # ---- helpers -----------------------------------------------------------------
    def _today(self) -> _dt.date:
        return self.clock().astimezone(CHINA_TZ).date()

    def _encrypt_app(self, row_id: str, app: Application) -> bytes:
        return self.vault.encrypt(canonical_json(application_to_dict(app)),
                                  Vault.associated_data("cases", "payload_enc", row_id))

    def _decrypt_app(self, row: CaseRow) -> Application:
        if row.payload_enc is None:
            return Application()
        try:
            raw = self.vault.decrypt(row.payload_enc, Vault.associated_data("cases", "payload_enc", row.id))
            return application_from_dict(json.loads(raw))
        except (DecryptionError, ValueError, KeyError, TypeError) as exc:
            log.error("办件 %s 第%s版的加密数据无法打开：%s", row.case_no, row.version, type(exc).__name__)
            raise CaseDamaged(row.case_no) from None

    def id_index(self, id_number: str) -> str:
        return self.vault.blind_index("id_number", normalise_id_number(id_number))

    def phone_index(self, phone: str) -> str:
        return self.vault.blind_index("phone", normalise_phone(phone))

    def _next_case_number(self, s: Session, day: _dt.date) -> CaseNumber:
        seq = s.get(DailySequence, (day, self.center_code, self.window_no))
        if seq is None:
            seq = DailySequence(day=day, center_code=self.center_code, window_no=self.window_no, last=0)
            s.add(seq)
        seq.last += 1
        return CaseNumber(self.center_code, self.window_no, day, seq.last)

    def _transition(self, s: Session, row: CaseRow, target: CaseState, actor: Actor, reason: str = "") -> None:
        current = CaseState(row.state)
        check_case_transition(current, target)
        row.state = target.value
        row.updated_at = self.clock()
        # Reasons are free text kept in clear for the timeline: scrub any ID or phone number typed in.
        s.add(CaseTransition(case_id=row.id, from_state=current.value, to_state=target.value, at=self.clock(),
                             operator=actor.username, reason=mask_text(reason)))

    def _open_case_for(self, s: Session, id_bidx: str, exclude: Iterable[str] = ()) -> CaseRow | None:
        q = select(CaseRow).where(CaseRow.id_bidx == id_bidx, CaseRow.state.in_([st.value for st in OPEN_STATES]))
        for row in s.execute(q).scalars():
            if row.id in exclude:
                continue
            return row
        return None

    # ---- create / edit -------------------------------------------------------------
    def create_draft(self, app: Application, actor: Actor, *, supersedes: CaseRow | None = None) -> CaseRecord:
        self._require(actor, Permission.HANDLE_CASE)
        app = normalise(app.copy())
        if not app.application_date:
            app.application_date = self._today().isoformat()
        id_problems = [p for p in validate(app, today=self._today()) if p.field == "applicant.id_number"]
        if id_problems:
            raise CaseError(id_problems[0].message, id_problems)
        bidx = self.id_index(app.applicant.id_number)
        with self.sessions.begin() as s:
            existing = self._open_case_for(s, bidx, exclude=[supersedes.id] if supersedes else [])
            if existing is not None:
                raise CaseError(f"该公民身份号码已有未办结的办件：{existing.case_no}，请在工作台打开该办件继续办理。",
                                existing_case_no=existing.case_no)
            row_id = uuid.uuid4().hex
            if supersedes is not None:
                case_no, version = supersedes.case_no, supersedes.version + 1
            else:
                case_no, version = str(self._next_case_number(s, self._today())), 1
            row = CaseRow(
                id=row_id, case_no=case_no, version=version, supersedes_id=supersedes.id if supersedes else None,
                state=CaseState.DRAFT.value, source=app.source, online_application_id=app.online_application_id or None,
                center_code=self.center_code, window_no=self.window_no, operator=actor.username,
                retirement_type=app.retirement_type.value if app.retirement_type else None,
                items=",".join(map(str, app.items)), id_bidx=bidx,
                phone_bidx=self.phone_index(app.applicant.phone) if app.applicant.phone else None,
                payload_enc=self._encrypt_app(row_id, app), created_at=self.clock(), updated_at=self.clock(),
            )
            s.add(row)
            s.flush()
            s.add(CaseTransition(case_id=row_id, from_state=None, to_state=CaseState.DRAFT.value, at=self.clock(),
                                 operator=actor.username, reason="更正" if supersedes else "新建"))
            audit.append(s, actor.username, "correction" if supersedes else "case_create", case_no,
                         {"version": version, "source": app.source})
        return self.get(row_id)

    def save_draft(self, case_id: str, app: Application, actor: Actor) -> CaseRecord:
        app = normalise(app.copy())
        with self.sessions.begin() as s:
            row = self._row(s, case_id)
            if CaseState(row.state) not in EDITABLE_STATES:
                raise CaseError(f"办件{row.case_no}已定稿，不能修改；如需更正请发起更正（生成新版本）。")
            new_bidx = self.id_index(app.applicant.id_number)
            if new_bidx != row.id_bidx:
                existing = self._open_case_for(s, new_bidx, exclude=[row.id, row.supersedes_id or ""])
                if existing is not None:
                    raise CaseError(f"该公民身份号码已有未办结的办件：{existing.case_no}。",
                                    existing_case_no=existing.case_no)
            row.payload_enc = self._encrypt_app(row.id, app)
            row.id_bidx = new_bidx
            row.phone_bidx = self.phone_index(app.applicant.phone) if app.applicant.phone else None
            row.items = ",".join(map(str, app.items))
            row.retirement_type = app.retirement_type.value if app.retirement_type else None
            row.updated_at = self.clock()
        return self.get(case_id)

    def transition(self, case_id: str, target: CaseState, actor: Actor, reason: str = "") -> CaseRecord:
        with self.sessions.begin() as s:
            row = self._row(s, case_id)
            try:
                self._transition(s, row, target, actor, reason)
            except IllegalTransition as exc:
                raise CaseError(exc.message) from None
            if target in (CaseState.REJECTED, CaseState.WITHDRAWN):
                audit.append(s, actor.username, "transition", row.case_no, {"to": target.value})
        return self.get(case_id)

    def put_attachment(self, data: bytes, mime: str) -> str:
        """Store bytes (encrypted, content-addressed, fsynced); returns the SHA-256. Idempotent.

        Only the file is written here; its ``attachments`` row is inserted by the transaction
        that first makes a case refer to it (finalize), so scanning costs no database commit.
        A file no finalized case refers to is a draft's scan (its hash is in the draft) or,
        after a crash, an orphan that ``FileStore`` garbage collection may remove."""
        try:
            digest = self.files.put(data)
        except DiskFull as exc:
            raise CaseError(exc.message) from None
        self._pending_meta[digest] = (len(data), mime)
        return digest

    def confirm_shown(self, case_id: str) -> None:
        """The clerk saw the "accepted" confirmation; cases committed but never confirmed
        (a crash between commit and screen) are offered again on restart."""
        with self.sessions.begin() as s:
            row = self._row(s, case_id)
            row.confirmed_at = self.clock()

    def unconfirmed(self) -> list[CaseSummary]:
        with self.sessions() as s:
            rows = s.execute(select(CaseRow).where(CaseRow.finalized_at.is_not(None), CaseRow.confirmed_at.is_(None),
                                                   CaseRow.purged_at.is_(None))).scalars().all()
            return [self._summary(s, r) for r in rows]

    # ---- roles, correction approval, reveal ------------------------------------------------
    # Role matrix: counter_app/security/roles.py. Approval and reveal trust only the operators
    # table (active account, current role), not the role an Actor object claims.
    def _require(self, actor: Actor, permission: Permission) -> None:
        if actor.role == "system" and permission in _SYSTEM_PERMISSIONS:
            return
        if not allowed(actor.role, permission):
            raise AccessDenied(denial_message(actor.role, permission))

    def _require_operator(self, s: Session, actor: Actor, permission: Permission) -> None:
        op = s.get(Operator, actor.username)
        if op is None or not op.active:
            raise AccessDenied("当前账户不存在或已停用，请重新登录。")
        if op.role != actor.role or not allowed(op.role, permission):
            raise AccessDenied(denial_message(op.role, permission))

    def reveal(self, case_id: str, actor: Actor) -> dict:
        """The full, unmasked case JSON for an authorised role; every reveal is audited."""
        self._require(actor, Permission.REVEAL)
        with self.sessions.begin() as s:
            self._require_operator(s, actor, Permission.REVEAL)
            row = self._row(s, case_id)
            if row.purged_at is not None:
                raise CaseError(f"办件{row.case_no}的个人信息已按保留期限清除，只保留脱敏回执。")
            data = self._export(s, row, self._decrypt_app(row))
            audit.append(s, actor.username, "reveal", row.case_no, {"version": row.version})
        return data

    # ---- reading ----------------------------------------------------------------------
    def _row(self, s: Session, case_id: str) -> CaseRow:
        row = s.get(CaseRow, case_id)
        if row is None:
            raise CaseError("找不到该办件。")
        return row

    def get(self, case_id: str) -> CaseRecord:
        with self.sessions() as s:
            row = self._row(s, case_id)
            return self._record(s, row)

    def get_by_number(self, case_no: str, version: int | None = None) -> CaseRecord:
        try:
            canonical = str(CaseNumber.parse(case_no))
        except ValueError as exc:
            raise CaseError(str(exc)) from None
        with self.sessions() as s:
            q = select(CaseRow).where(CaseRow.case_no == canonical)
            q = q.where(CaseRow.version == version) if version else q.order_by(CaseRow.version.desc())
            row = s.execute(q.limit(1)).scalar_one_or_none()
            if row is None:
                raise CaseError(f"找不到办件 {canonical}。")
            return self._record(s, row)

    def _record(self, s: Session, row: CaseRow) -> CaseRecord:
        outbox = s.execute(select(OutboxEntry).where(OutboxEntry.case_id == row.id)).scalar_one_or_none()
        return CaseRecord(
            id=row.id, case_no=row.case_no, version=row.version, state=CaseState(row.state),
            application=self._decrypt_app(row), center_code=row.center_code, window_no=row.window_no,
            operator=row.operator, created_at=row.created_at, accepted_on=row.accepted_on,
            finalized_at=row.finalized_at, supersedes_id=row.supersedes_id, content_digest=row.content_digest,
            seal=row.seal, rating=row.rating,
            progress=[{"item": p.item, "status": p.status, "updated_at": iso(p.updated_at), "note": p.note,
                       "due": p.due.isoformat() if p.due else None, "sla": p.sla} for p in row.progress],
            transitions=[{"from": t.from_state, "to": t.to_state, "at": iso(t.at), "operator": t.operator,
                          "reason": t.reason} for t in row.transitions],
            attachments=[{"sha256": a.sha256, "role": a.role, "material": a.material} for a in row.attachments],
            outbox=({"status": outbox.status, "attempts": outbox.attempts, "last_error": outbox.last_error,
                     "idempotency_key": outbox.idempotency_key} if outbox else None),
        )

    def _summary(self, s: Session, row: CaseRow) -> CaseSummary:
        damaged = False
        if row.payload_enc is not None:
            try:
                app = self._decrypt_app(row)
                name, idn = mask_name(app.applicant.name), mask_id_number(app.applicant.id_number)
            except CaseDamaged:
                # One damaged row must not take the list down for everyone: it is shown as damaged.
                damaged, name, idn = True, DAMAGED_TEXT, "*" * 18
        else:
            ms = row.masked_summary or {}
            name, idn = ms.get("name", ""), ms.get("id_number", "")
        outbox = s.execute(select(OutboxEntry.status).where(OutboxEntry.case_id == row.id)).scalar_one_or_none()
        worst = worst_sla(p.sla for p in row.progress)
        return CaseSummary(id=row.id, case_no=row.case_no, version=row.version, state=CaseState(row.state),
                           masked_name=name, masked_id=idn,
                           items=[int(x) for x in row.items.split(",") if x], retirement_type=row.retirement_type,
                           accepted_on=row.accepted_on, operator=row.operator, synced=outbox == OutboxStatus.ACKED,
                           sla=worst, rating=row.rating, source=row.source, damaged=damaged)

    def list_cases(self, *, day: _dt.date | None = None, states: Iterable[CaseState] | None = None,
                   include_superseded: bool = False, limit: int | None = None) -> list[CaseSummary]:
        with self.sessions() as s:
            q = select(CaseRow).order_by(CaseRow.created_at.desc())
            if day is not None:
                start = _dt.datetime.combine(day, _dt.time(), CHINA_TZ)
                q = q.where((CaseRow.accepted_on == day) |
                            ((CaseRow.accepted_on.is_(None)) & (CaseRow.created_at >= start.astimezone(_dt.timezone.utc))
                             & (CaseRow.created_at < (start + _dt.timedelta(days=1)).astimezone(_dt.timezone.utc))))
            if states is not None:
                q = q.where(CaseRow.state.in_([st.value for st in states]))
            elif not include_superseded:
                q = q.where(CaseRow.state != CaseState.SUPERSEDED.value)
            if limit:
                q = q.limit(limit)
            return [self._summary(s, r) for r in s.execute(q).scalars()]

    def find_by_id_number(self, id_number: str) -> list[CaseSummary]:
        bidx = self.id_index(id_number)
        with self.sessions() as s:
            rows = s.execute(select(CaseRow).where(CaseRow.id_bidx == bidx).order_by(CaseRow.created_at.desc())).scalars()
            return [self._summary(s, r) for r in rows]

    def find_by_phone(self, phone: str) -> list[CaseSummary]:
        bidx = self.phone_index(phone)
        with self.sessions() as s:
            rows = s.execute(select(CaseRow).where(CaseRow.phone_bidx == bidx)).scalars()
            return [self._summary(s, r) for r in rows]

    def open_case_number(self, id_number: str) -> str | None:
        with self.sessions() as s:
            row = self._open_case_for(s, self.id_index(id_number))
            return row.case_no if row else None

    def count(self) -> int:
        with self.sessions() as s:
            return s.execute(select(func.count()).select_from(CaseRow)).scalar_one()

    # ---- export / import --------------------------------------------------------------
    def export(self, case_id: str) -> dict:
        with self.sessions() as s:
            row = self._row(s, case_id)
            return self._export(s, row, self._decrypt_app(row))

    def _export(self, s: Session, row: CaseRow, app: Application) -> dict:
        atts = [{"sha256": ca.sha256, "role": ca.role, "material": ca.material, "mime": at.mime, "size": at.size}
                for ca, at in s.execute(select(CaseAttachment, Attachment)
                                        .join(Attachment, Attachment.sha256 == CaseAttachment.sha256)
                                        .where(CaseAttachment.case_id == row.id)).all()]
        outbox = s.execute(select(OutboxEntry).where(OutboxEntry.case_id == row.id)).scalar_one_or_none()
        progress = s.execute(select(ItemProgress).where(ItemProgress.case_id == row.id).order_by(ItemProgress.item)).scalars()
        return build_case_json(
            case_no=row.case_no, version=row.version, supersedes=supersedes_no(s, row.supersedes_id), state=row.state,
            center_code=row.center_code, center_name=self.center_name, window_no=row.window_no,
            operator=row.operator, operator_name=operator_name(s, row.operator), created_at=row.created_at,
            finalized_at=row.finalized_at, application=application_to_dict(app),
            correction=self._correction_block(s, row) if row.supersedes_id else None,
            items_progress=[{"item": p.item, "status": p.status, "updated_at": iso(p.updated_at), "note": p.note}
                            for p in progress],
            deadlines=[d.to_dict() for d in self._plan(s, row, list(app.items)).values()], attachments=atts,
            platform={"acknowledged": bool(outbox and outbox.status == OutboxStatus.ACKED),
                      "acknowledged_at": iso(outbox.acked_at) if outbox else None,
                      "receipt": outbox.receipt if outbox else None},
            content_digest=row.content_digest, seal=row.seal)

    def import_case(self, data: Any, actor: Actor) -> tuple[CaseRecord, list[Problem]]:
        """A case JSON (or a bare application) becomes a new draft; problems are returned, not raised,
        except those that make a draft impossible (a bad ID number, a duplicate open case)."""
        app, problems = parse_application(data)
        hard = [p for p in problems if p.code in ("not_object", "unknown_field")]
        unknown = [p.field for p in hard if p.code == "unknown_field"]
        if unknown:  # never silently dropped: the whole file is refused and says which keys
            raise CaseError(f"导入的办件含有无法识别的字段：{'、'.join(unknown)}。未导入任何内容；"
                            "请核对字段名（见 docs/case-schema.json），或联系技术人员升级程序。", problems)
        if hard:
            raise CaseError(hard[0].message, problems)
        rec = self.create_draft(app, actor)
        problems.extend(validate(rec.application, today=self._today()))
        return rec, problems
