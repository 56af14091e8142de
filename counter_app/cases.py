"""Cases in the local store: create, edit while a draft, finalize (seal + queue), correct.

This is where a case is queued: :meth:`CaseService.finalize` writes the case, its outbox entry
and the audit entry in one ``BEGIN IMMEDIATE`` transaction, so after a crash either all three
exist or none does.

Thread contract: a CaseService may be shared between threads; each call opens its own
session. Calls block on disk I/O, so the GUI calls them from a worker.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from counter_app import audit
from counter_app.application import Application, application_from_dict, application_to_dict, parse_application
from counter_app.case_number import CaseNumber
from counter_app.identity import normalise_id_number, normalise_phone
from counter_app.lifecycle import (
    EDITABLE_STATES, ITEM_DONE_FOR_SLA, OPEN_STATES, CaseState, IllegalTransition, ItemStatus,
    check_case_transition, check_item_transition, item_path,
)
from counter_app.masking import mask_id_number, mask_name, mask_text
from counter_app.problems import Problem
from counter_app import signing_queue
from counter_app.signing_queue import documents_to_sign
from counter_app.rules import blocking, chosen_only, normalise, validate
from counter_app.scheme import ITEMS
from counter_app.eligibility_override import check_override
from counter_app.security.roles import Permission, allowed, denial_message
from counter_app.security.vault import DecryptionError, Vault
from counter_app.statuses import OutboxStatus
from counter_app.store.files import DiskFull, FileStore
from counter_app.store.models import (
    Attachment, AuditEntry, CaseAttachment, CaseRow, CaseTransition, DailySequence, ItemProgress, ItemStatusEvent,
    Operator, OutboxEntry, SigningJob,
)
from counter_app.workdays import CARD_MAKING, WorkCalendar, plan_deadlines, sla_state, worst_sla
from counter_app.clock import CHINA_TZ
from counter_app.errors import UserError

log = logging.getLogger(__name__)



DAMAGED_TEXT = "数据损坏，请联系技术人员"


class CaseError(UserError):
    """An operation refused for a reason the clerk can understand (Chinese message)."""

    def __init__(self, message: str, problems: list[Problem] | None = None, existing_case_no: str | None = None):
        super().__init__(message)
        self.message = message
        self.problems = problems or []
        self.existing_case_no = existing_case_no


class CaseDamaged(CaseError):
    """The case's encrypted data does not open (a damaged row): shown as damaged, never a traceback."""

    def __init__(self, case_no: str):
        super().__init__(f"办件 {case_no} 的{DAMAGED_TEXT}（加密数据无法打开）。其他办件不受影响；"
                         "技术人员可从最近的数据库备份中核对该办件。")
        self.case_no = case_no


@dataclass(frozen=True)
class Actor:
    username: str
    role: str = "clerk"  # clerk / supervisor / it_admin / system


SYSTEM = Actor("system", "system")


class AccessDenied(CaseError):
    """The actor's role does not allow the operation (checked in the core, not only in the UI)."""


# What the unattended "system" actor (imports, demo seeding, the sync worker) may do.
_SYSTEM_PERMISSIONS = frozenset({Permission.HANDLE_CASE})


@dataclass
class CaseSummary:
    """What lists show: no personal data beyond the masked name and ID number."""

    id: str
    case_no: str
    version: int
    state: CaseState
    masked_name: str
    masked_id: str
    items: list[int]
    retirement_type: str | None
    accepted_on: _dt.date | None
    operator: str
    synced: bool
    sla: str | None = None
    rating: str | None = None
    source: str = "walk_in"
    damaged: bool = False  # the encrypted data does not open: shown as DAMAGED_TEXT, masked number


@dataclass
class CaseRecord:
    id: str
    case_no: str
    version: int
    state: CaseState
    application: Application
    center_code: str
    window_no: str
    operator: str
    created_at: _dt.datetime
    accepted_on: _dt.date | None
    finalized_at: _dt.datetime | None
    supersedes_id: str | None
    content_digest: str | None
    seal: dict | None
    progress: list[dict] = field(default_factory=list)
    transitions: list[dict] = field(default_factory=list)
    attachments: list[dict] = field(default_factory=list)
    outbox: dict | None = None
    rating: str | None = None


def canonical_json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


class CaseService:
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

    def _ensure_attachment_row(self, s: Session, digest: str) -> None:
        if s.get(Attachment, digest) is not None:
            return
        meta = self._pending_meta.pop(digest, None)
        if meta is None:  # stored by an earlier run of the program: read it back for size and type
            data = self.files.get(digest)
            meta = (len(data), _sniff_mime(data))
        s.add(Attachment(sha256=digest, size=meta[0], mime=meta[1], created_at=self.clock()))

    # ---- finalize ------------------------------------------------------------------
    def finalize(self, case_id: str, app: Application, actor: Actor, *, form_pdf: bytes | None = None,
                 signed_scan: bytes | None = None) -> CaseRecord:
        """Validate, seal and queue: case (SIGNED → QUEUED), outbox entry and audit entry in one transaction.
        A correction (a version superseding another) is refused until a supervisor approved it.

        This is the hot path of the counter (it runs while the applicant waits), so the writes are
        a handful of Core statements in one ``BEGIN IMMEDIATE`` transaction rather than ORM units of
        work; everything that needs no lock (validation, encryption, deadlines) happens before it."""
        self._require(actor, Permission.HANDLE_CASE)
        try:
            # Before anything is sealed: a finalize that cannot commit must fail here, with a sentence.
            self.files.ensure_space(len(form_pdf or b"") + len(signed_scan or b""))
        except DiskFull as exc:
            raise CaseError(exc.message) from None
        app = chosen_only(normalise(app.copy()))  # only chosen items' choices are sealed
        problems = blocking(validate(app, today=self._today(), for_finalize=True))
        if problems:
            raise CaseError("还有未完成的内容，不能提交：" + problems[0].message, problems)
        refs: list[tuple[str, str, int | None]] = []
        if form_pdf is not None:
            refs.append((self.put_attachment(form_pdf, "application/pdf"), "form_pdf", None))
        if signed_scan is not None:
            refs.append((self.put_attachment(signed_scan, "application/pdf"), "signed_form", None))
        if app.photo:
            refs.append((app.photo, "photo", None))
        if app.signature:
            refs.append((app.signature, "signature", None))
        if app.settlement_letter_scan:
            refs.append((app.settlement_letter_scan, "settlement_letter", None))
        for n, rec in app.materials.items():
            for h in rec.attachments:
                refs.append((h, "material", n))
        refs = list(dict.fromkeys(refs))  # the same scan ticked twice for one material counts once
        hashes = sorted({h for h, _, _ in refs})
        for h in hashes:
            if not self.files.exists(h):
                raise CaseError(f"附件{h[:12]}…不在本机存储中，请重新扫描或导入。")
        now = self.clock()
        accepted = now.astimezone(CHINA_TZ).date()
        plan = plan_deadlines(self.calendar, accepted, app.items)
        payload = self._encrypt_app(case_id, app)
        id_bidx = self.id_index(app.applicant.id_number)
        phone_bidx = self.phone_index(app.applicant.phone) if app.applicant.phone else None
        cases_t, att_t = CaseRow.__table__, Attachment.__table__
        with self.sessions.begin() as s:
            conn = s.connection()
            row = conn.execute(select(cases_t).where(cases_t.c.id == case_id)).one_or_none()
            if row is None:
                raise CaseError("找不到该办件。")
            state = CaseState(row.state)
            if state not in EDITABLE_STATES:
                raise CaseError(f"办件{row.case_no}已提交，不能重复提交。")
            correction = None
            if row.supersedes_id:
                self._check_correction_approved(s, row, app)
                correction = self._correction_block(s, row)
            refusal = check_override(s, case_id, row.case_no, app.eligibility_override)
            if refusal:
                raise CaseError(refusal)
            meta = {r.sha256: (r.size, r.mime) for r in conn.execute(
                select(att_t.c.sha256, att_t.c.size, att_t.c.mime).where(att_t.c.sha256.in_(hashes)))}
            new_rows = []
            for h in hashes:
                if h not in meta:
                    m = self._pending_meta.get(h)
                    if m is None:  # stored by an earlier run of the program: read it back for size and type
                        data = self.files.get(h)
                        m = (len(data), _sniff_mime(data))
                    meta[h] = m
                    new_rows.append({"sha256": h, "size": m[0], "mime": m[1], "created_at": now})
            if new_rows:
                conn.execute(att_t.insert(), new_rows)

            steps: list[tuple[CaseState, CaseState, str]] = []
            current = state
            for target in [*_LATER_EDIT_STATES[state], CaseState.SIGNED, CaseState.QUEUED]:
                check_case_transition(current, target)
                steps.append((current, target, _FINALIZE_REASONS.get(target, "")))
                current = target

            case_json = {
                "schema": "counter-app/case/v1", "case_no": row.case_no, "version": row.version,
                "supersedes": _supersedes_no_core(conn, row.supersedes_id),
                "center_code": row.center_code, "window_no": row.window_no, "operator": row.operator,
                "finalized_at": _iso(now), "application": application_to_dict(app),
                **({"correction": correction} if correction else {}),
                "attachments": sorted(({"sha256": h, "role": role, "material": material, "mime": meta[h][1],
                                        "size": meta[h][0]} for h, role, material in refs),
                                      key=lambda a: (a["role"], a["sha256"])),
            }
            digest = hashlib.sha256(canonical_json(_sealable(case_json))).hexdigest()
            seal = self.sealer.seal(digest, hashes) if self.sealer is not None else None
            # One UPDATE: the immutability trigger refuses any later change of the sealed columns.
            conn.execute(cases_t.update().where(cases_t.c.id == case_id).values(
                payload_enc=payload, items=",".join(map(str, app.items)),
                retirement_type=app.retirement_type.value if app.retirement_type else None,
                id_bidx=id_bidx, phone_bidx=phone_bidx, accepted_on=accepted, finalized_at=now,
                content_digest=digest, seal=seal, state=CaseState.QUEUED.value, updated_at=now))
            conn.execute(CaseTransition.__table__.insert(), [
                {"case_id": case_id, "from_state": a.value, "to_state": b.value, "at": now,
                 "operator": actor.username, "reason": reason} for a, b, reason in steps])
            if refs:
                conn.execute(CaseAttachment.__table__.insert(), [
                    {"case_id": case_id, "sha256": h, "role": role, "material": material} for h, role, material in refs])
            conn.execute(ItemProgress.__table__.insert(), [
                {"case_id": case_id, "item": n, "status": ItemStatus.PENDING_PUSH.value, "updated_at": now,
                 "note": "", "due": plan[n].due, "sla": sla_state(self.calendar, plan[n], accepted).value}
                for n in app.items])
            idempotency_key = str(uuid.uuid4())
            conn.execute(OutboxEntry.__table__.insert().values(
                case_id=case_id, idempotency_key=idempotency_key, business_key=f"{row.case_no}/v{row.version}",
                status=OutboxStatus.WAITING, attempts=0, last_error="", next_attempt_at=now, created_at=now))
            # The center's PDF signature comes later, from the signing worker: queue it with the case.
            conn.execute(SigningJob.__table__.insert(), signing_queue.job_rows(case_id, documents_to_sign(app), now))
            tt = CaseTransition.__table__
            history = conn.execute(select(tt).where(tt.c.case_id == case_id).order_by(tt.c.id)).all()
            if row.supersedes_id:
                old = s.get(CaseRow, row.supersedes_id)
                if old is not None and CaseState.SUPERSEDED in _transitions_from(old.state):
                    self._transition(s, old, CaseState.SUPERSEDED, actor, f"被第{row.version}版更正")
            audit.append(s, actor.username, "finalize", row.case_no,
                         {"version": row.version, "digest": digest, "items": app.items})
        for h in hashes:
            self._pending_meta.pop(h, None)
        # The record as stored, built from what this transaction wrote (re-reading and decrypting
        # it would cost a third of the finalize time while the applicant waits).
        return CaseRecord(
            id=case_id, case_no=row.case_no, version=row.version, state=CaseState.QUEUED, application=app,
            center_code=row.center_code, window_no=row.window_no, operator=row.operator, created_at=row.created_at,
            accepted_on=accepted, finalized_at=now, supersedes_id=row.supersedes_id, content_digest=digest,
            seal=seal, rating=row.rating,
            progress=[{"item": n, "status": ItemStatus.PENDING_PUSH.value, "updated_at": _iso(now), "note": "",
                       "due": plan[n].due.isoformat() if plan[n].due else None,
                       "sla": sla_state(self.calendar, plan[n], accepted).value} for n in sorted(app.items)],
            transitions=[{"from": t.from_state, "to": t.to_state, "at": _iso(t.at), "operator": t.operator,
                          "reason": t.reason} for t in history],
            attachments=[{"sha256": h, "role": role, "material": material} for h, role, material in refs],
            outbox={"status": OutboxStatus.WAITING.value, "attempts": 0, "last_error": "", "idempotency_key": idempotency_key},
        )

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

    # ---- corrections ------------------------------------------------------------------
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
        return self.get(rec.id)

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
        return {"approved_by": entry.operator, "approved_at": _iso(entry.at)}

    def _check_correction_approved(self, s: Session, row: CaseRow, app: Application) -> None:
        entry = self._approval_entry(s, row)
        if entry is None:
            raise CaseError(f"办件{row.case_no}的更正（第{row.version}版）须经审核负责人审批后才能提交。")
        if entry.detail.get("content_sha256") != self.correction_content_digest(app):
            raise CaseError("更正内容在审批后又被修改，请重新提交审核负责人审批。")

    def approve_correction(self, case_id: str, actor: Actor) -> CaseRecord:
        """A supervisor approves a correction draft as it stands now (later edits void it).
        Refused for a clerk, for the supervisor who accepted the original version and for the
        one who started the correction: nobody approves their own case."""
        self._require(actor, Permission.APPROVE_CORRECTION)
        with self.sessions.begin() as s:
            self._require_operator(s, actor, Permission.APPROVE_CORRECTION)
            row = self._row(s, case_id)
            if not row.supersedes_id or CaseState(row.state) not in EDITABLE_STATES:
                raise CaseError("只能审批尚未提交的更正版本。")
            original = self._row(s, row.supersedes_id)
            if actor.username in (original.operator, row.operator):
                raise AccessDenied("不能审批自己受理或自己发起的办件更正，请由其他审核负责人审批。")
            digest = self.correction_content_digest(self._decrypt_app(row))
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
            return {"approver": entry.operator, "at": _iso(entry.at),
                    "valid": current == entry.detail.get("content_sha256")}

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

    # ---- department progress ------------------------------------------------------------
    def record_item_status(self, case_id: str, item: int, status: ItemStatus, *, at: _dt.datetime | None = None,
                           source: str = "platform", note: str = "", actor: Actor = SYSTEM) -> bool:
        """Apply a department status; intermediate steps are filled in when the platform skips
        ahead. Returns False when it is not news (same or earlier status)."""
        at = at or self.clock()
        with self.sessions.begin() as s:
            row = self._row(s, case_id)
            prog = s.execute(select(ItemProgress).where(ItemProgress.case_id == row.id, ItemProgress.item == item)
                             ).scalar_one_or_none()
            if prog is None:
                raise CaseError(f"办件{row.case_no}没有事项{item}。")
            current = ItemStatus(prog.status)
            if current == status:
                return False
            path = item_path(item, status)
            if current not in path:
                try:
                    check_item_transition(item, current, status)
                except IllegalTransition as exc:
                    raise CaseError(exc.message) from None
                steps = [status]
            else:
                steps = path[path.index(current) + 1:]
            prev = current
            for st in steps:
                s.add(ItemStatusEvent(case_id=row.id, item=item, from_status=prev.value, to_status=st.value, at=at,
                                      source=source, operator=actor.username, note=note if st == status else ""))
                prev = st
            prog.status = status.value
            prog.updated_at = at
            prog.note = note
            s.flush()
            self._refresh_case_state(s, row, actor)
            # Downstream due dates move with the actual date, and a finished item is "done",
            # not left "at risk" from before (the UI colours by this).
            self._refresh_row_sla(s, row, self._today())
        return True

    def _refresh_case_state(self, s: Session, row: CaseRow, actor: Actor) -> None:
        progress = s.execute(select(ItemProgress).where(ItemProgress.case_id == row.id)).scalars().all()
        statuses = {ItemStatus(p.status) for p in progress}
        state = CaseState(row.state)
        from counter_app.lifecycle import ITEM_FINAL

        if state == CaseState.ACKNOWLEDGED and statuses - {ItemStatus.PENDING_PUSH, ItemStatus.PUSHED}:
            self._transition(s, row, CaseState.IN_PROGRESS, actor, "部门开始办理")
            state = CaseState.IN_PROGRESS
        if state == CaseState.IN_PROGRESS and progress and all(ItemStatus(p.status) in ITEM_FINAL for p in progress):
            self._transition(s, row, CaseState.COMPLETED, actor, "全部事项办理结束")

    def mark_acknowledged(self, s: Session, row: CaseRow, actor: Actor = SYSTEM) -> None:
        if CaseState(row.state) == CaseState.QUEUED:
            self._transition(s, row, CaseState.ACKNOWLEDGED, actor, "省平台已接收")
            for p in s.execute(select(ItemProgress).where(ItemProgress.case_id == row.id)).scalars():
                if p.status == ItemStatus.PENDING_PUSH.value:
                    s.add(ItemStatusEvent(case_id=row.id, item=p.item, from_status=p.status,
                                          to_status=ItemStatus.PUSHED.value, at=self.clock(), source="platform"))
                    p.status = ItemStatus.PUSHED.value

    def refresh_sla(self, today: _dt.date | None = None) -> int:
        """Recompute every open item's due date and SLA state (after progress or a new day)."""
        today = today or self._today()
        changed = 0
        with self.sessions.begin() as s:
            rows = s.execute(select(CaseRow).where(CaseRow.accepted_on.is_not(None),
                                                   CaseRow.state.in_([CaseState.QUEUED.value, CaseState.ACKNOWLEDGED.value,
                                                                      CaseState.IN_PROGRESS.value]))).scalars().all()
            for row in rows:
                changed += self._refresh_row_sla(s, row, today)
        return changed

    def _plan(self, s: Session, row: CaseRow, items: list[int]) -> dict:
        """The one computation of a case's deadlines, behind every date shown anywhere (receipt,
        detail, worklist, report): chosen items, acceptance day, and the days the departments
        actually finished the items others wait for."""
        if row.accepted_on is None:
            return {}
        completed: dict[int, _dt.date] = {}
        visited: dict[int, _dt.date] = {}  # items timed from the applicant's visit: the day of 受理
        for p in s.execute(select(ItemProgress).where(ItemProgress.case_id == row.id)).scalars():
            if ItemStatus(p.status) in ITEM_DONE_FOR_SLA:
                completed[p.item] = _as_utc(p.updated_at).astimezone(CHINA_TZ).date()
            if ITEMS[p.item].starts_on_visit and ItemStatus(p.status) not in (ItemStatus.PENDING_PUSH,
                                                                               ItemStatus.PUSHED):
                first = s.execute(select(func.min(ItemStatusEvent.at)).where(
                    ItemStatusEvent.case_id == row.id, ItemStatusEvent.item == p.item,
                    ItemStatusEvent.to_status == ItemStatus.ACCEPTED.value)).scalar()
                visited[p.item] = _as_utc(first or p.updated_at).astimezone(CHINA_TZ).date()
        return plan_deadlines(self.calendar, row.accepted_on, items, completed, visited)

    def deadlines(self, case_id: str) -> dict:
        """``{item or None: Deadline}`` of a case ({} before it is accepted)."""
        with self.sessions() as s:
            row = self._row(s, case_id)
            return self._plan(s, row, [int(x) for x in row.items.split(",") if x])

    def _refresh_row_sla(self, s: Session, row: CaseRow, today: _dt.date) -> int:
        progress = s.execute(select(ItemProgress).where(ItemProgress.case_id == row.id)).scalars().all()
        plan = self._plan(s, row, [p.item for p in progress])
        changed = 0
        for p in progress:
            d = plan[p.item]
            done = ItemStatus(p.status) in ITEM_DONE_FOR_SLA or ItemStatus(p.status) in (
                ItemStatus.NOT_ACCEPTED, ItemStatus.DISAPPROVED)
            if ItemStatus(p.status) == ItemStatus.CARD_MAKING and CARD_MAKING in plan:
                d, done = plan[CARD_MAKING], False  # the card-making clock runs now (its own 7 WD)
            new = sla_state(self.calendar, d, today, done=done).value
            if new != p.sla or d.due != p.due:
                p.sla, p.due = new, d.due
                changed += 1
        return changed

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
            progress=[{"item": p.item, "status": p.status, "updated_at": _iso(p.updated_at), "note": p.note,
                       "due": p.due.isoformat() if p.due else None, "sla": p.sla} for p in row.progress],
            transitions=[{"from": t.from_state, "to": t.to_state, "at": _iso(t.at), "operator": t.operator,
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
        atts = []
        for a in s.execute(select(CaseAttachment, Attachment).join(Attachment, Attachment.sha256 == CaseAttachment.sha256)
                           .where(CaseAttachment.case_id == row.id)).all():
            ca, at = a
            atts.append({"sha256": ca.sha256, "role": ca.role, "material": ca.material, "mime": at.mime, "size": at.size})
        outbox = s.execute(select(OutboxEntry).where(OutboxEntry.case_id == row.id)).scalar_one_or_none()
        deadlines = [d.to_dict() for d in self._plan(s, row, list(app.items)).values()]
        progress = s.execute(select(ItemProgress).where(ItemProgress.case_id == row.id).order_by(ItemProgress.item)).scalars()
        return {
            "schema": "counter-app/case/v1",
            "case_no": row.case_no,
            "version": row.version,
            "supersedes": _supersedes_no(s, row),
            "state": row.state,
            "center_code": row.center_code,
            "center_name": self.center_name,
            "window_no": row.window_no,
            "operator": row.operator,
            "operator_name": _operator_name(s, row.operator),
            "created_at": _iso(row.created_at),
            "accepted_at": _iso(row.finalized_at),
            "finalized_at": _iso(row.finalized_at),
            "application": application_to_dict(app),
            **({"correction": c} if row.supersedes_id and (c := self._correction_block(s, row)) else {}),
            "items_progress": [{"item": p.item, "status": p.status, "updated_at": _iso(p.updated_at), "note": p.note}
                               for p in progress],
            "deadlines": deadlines,
            "attachments": sorted(atts, key=lambda a: (a["role"], a["sha256"])),
            "platform": {"acknowledged": bool(outbox and outbox.status == OutboxStatus.ACKED),
                         "acknowledged_at": _iso(outbox.acked_at) if outbox else None,
                         "receipt": outbox.receipt if outbox else None},
            "content_digest": row.content_digest,
            "seal": row.seal,
        }

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


# The steps an editable case still has to pass through on its way to SIGNED, in order.
_LATER_EDIT_STATES = {
    CaseState.DRAFT: (CaseState.IDENTITY_VERIFIED, CaseState.MATERIALS_COMPLETE),
    CaseState.IDENTITY_VERIFIED: (CaseState.MATERIALS_COMPLETE,),
    CaseState.MATERIALS_COMPLETE: (),
}
_FINALIZE_REASONS = {CaseState.SIGNED: "申请人签字确认", CaseState.QUEUED: "进入上报队列"}


def _sniff_mime(data: bytes) -> str:
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"%PDF"):
        return "application/pdf"
    return "application/octet-stream"


def _transitions_from(state: str) -> frozenset[CaseState]:
    from counter_app.lifecycle import CASE_TRANSITIONS

    return CASE_TRANSITIONS[CaseState(state)]


def sealable_content(case_json: dict) -> dict:
    """The parts of a case JSON the window's seal covers (to recompute its digest elsewhere)."""
    return _sealable(case_json)


def _sealable(case_json: dict) -> dict:
    """The parts of the case JSON the seal covers: everything that cannot change after signing."""
    keep = ("schema", "case_no", "version", "supersedes", "center_code", "window_no", "operator", "finalized_at",
            "application", "attachments")
    part = {k: case_json[k] for k in keep}
    if case_json.get("correction") is not None:  # a correction's approval is sealed too (vN>1 only)
        part["correction"] = case_json["correction"]
    return part


def _supersedes_no_core(conn: Any, supersedes_id: str | None) -> str | None:
    if not supersedes_id:
        return None
    t = CaseRow.__table__
    old = conn.execute(select(t.c.case_no, t.c.version).where(t.c.id == supersedes_id)).one_or_none()
    return f"{old.case_no}/v{old.version}" if old else None


def _supersedes_no(s: Session, row: CaseRow) -> str | None:
    if not row.supersedes_id:
        return None
    old = s.get(CaseRow, row.supersedes_id)
    return f"{old.case_no}/v{old.version}" if old else None


def _as_utc(value: _dt.datetime) -> _dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc)


def _operator_name(s: Session, username: str | None) -> str:
    """The name printed as 受理人: the operator's display name, else the account name."""
    if not username:
        return ""
    from counter_app.store.models import Operator

    op = s.get(Operator, username)
    return (op.display_name if op is not None and op.display_name else username)


def _iso(value: _dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.timezone.utc)
    return value.astimezone(CHINA_TZ).isoformat(timespec="seconds")
