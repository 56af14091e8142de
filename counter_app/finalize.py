"""Finalize: validate, seal and queue a case. **This is where a case is queued.**

:meth:`CaseFinalizing.finalize` writes the sealed case, its transitions, its department items, its
outbox entry, its signing jobs and the audit entry in one ``BEGIN IMMEDIATE`` transaction, so after
a crash either all exist or none does. It returns the sealed record with its case JSON
(``counter_app.case_json``), so the caller does not read back what was just written.

Part of :class:`counter_app.cases.CaseService` (its sessions, vault, files and calendar).
"""
from __future__ import annotations

import uuid

from sqlalchemy import select

from counter_app import audit, signing_queue
from counter_app.application import Application, application_to_dict
from counter_app.case_json import build_case_json, iso, operator_name, sealed_digest, supersedes_no
from counter_app.case_types import Actor, CaseError, CaseRecord
from counter_app.clock import CHINA_TZ
from counter_app.eligibility_override import check_override
from counter_app.lifecycle import CASE_TRANSITIONS, EDITABLE_STATES, CaseState, ItemStatus, check_case_transition
from counter_app.rules import blocking, chosen_only, normalise, validate
from counter_app.security.roles import Permission
from counter_app.signing_queue import documents_to_sign
from counter_app.statuses import OutboxStatus
from counter_app.store.files import DiskFull
from counter_app.store.models import Attachment, CaseAttachment, CaseRow, CaseTransition, ItemProgress, OutboxEntry, SigningJob
from counter_app.workdays import plan_deadlines, sla_state


class CaseFinalizing:
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
                        m = (len(data), sniff_mime(data))
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

            attachments = [{"sha256": h, "role": role, "material": material, "mime": meta[h][1],
                            "size": meta[h][0]} for h, role, material in refs]
            # Accepted now: every item waits to be pushed, nothing is done yet (export's view of it).
            case_json = build_case_json(
                case_no=row.case_no, version=row.version, supersedes=supersedes_no(conn, row.supersedes_id),
                state=CaseState.QUEUED.value, center_code=row.center_code, center_name=self.center_name,
                window_no=row.window_no, operator=row.operator, operator_name=operator_name(conn, row.operator),
                created_at=row.created_at, finalized_at=now, application=application_to_dict(app),
                correction=correction,
                items_progress=[{"item": n, "status": ItemStatus.PENDING_PUSH.value, "updated_at": iso(now),
                                 "note": ""} for n in sorted(app.items)],
                deadlines=[d.to_dict() for d in plan.values()], attachments=attachments,
                platform={"acknowledged": False, "acknowledged_at": None, "receipt": None},
                content_digest=None, seal=None)
            digest = sealed_digest(case_json)
            seal = self.sealer.seal(digest, hashes) if self.sealer is not None else None
            case_json["content_digest"], case_json["seal"] = digest, seal
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
            progress=[{"item": n, "status": ItemStatus.PENDING_PUSH.value, "updated_at": iso(now), "note": "",
                       "due": plan[n].due.isoformat() if plan[n].due else None,
                       "sla": sla_state(self.calendar, plan[n], accepted).value} for n in sorted(app.items)],
            transitions=[{"from": t.from_state, "to": t.to_state, "at": iso(t.at), "operator": t.operator,
                          "reason": t.reason} for t in history],
            attachments=[{"sha256": h, "role": role, "material": material} for h, role, material in refs],
            outbox={"status": OutboxStatus.WAITING.value, "attempts": 0, "last_error": "", "idempotency_key": idempotency_key},
            case_json=case_json,
        )


# The steps an editable case still has to pass through on its way to SIGNED, in order.
_LATER_EDIT_STATES = {
    CaseState.DRAFT: (CaseState.IDENTITY_VERIFIED, CaseState.MATERIALS_COMPLETE),
    CaseState.IDENTITY_VERIFIED: (CaseState.MATERIALS_COMPLETE,),
    CaseState.MATERIALS_COMPLETE: (),
}
_FINALIZE_REASONS = {CaseState.SIGNED: "申请人签字确认", CaseState.QUEUED: "进入上报队列"}


def sniff_mime(data: bytes) -> str:
    """The type of a scan or photo from its first bytes (what the window accepts: JPEG, PNG, PDF)."""
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"%PDF"):
        return "application/pdf"
    return "application/octet-stream"


def _transitions_from(state: str) -> frozenset[CaseState]:
    return CASE_TRANSITIONS[CaseState(state)]
