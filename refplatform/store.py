"""The reference platform's store: credentials, cases, progress, attachments, ratings.

Everything the HTTP layer and the bundle import do goes through :class:`PlatformStore`, so a case
received over HTTP and one imported from an offline bundle meet the same checks and deduplication:

- same ``Idempotency-Key`` and same content digest: the first answer again (``replayed``);
- same key, different content: refused (``idempotency_key_reused``, 422);
- a new key for a business key already held with the same content: recognised, first answer again;
- a new key for a business key already held with different content: refused (``business_key_conflict``, 409).

Scoping (``credentials.Caller``): a window writes only its own case numbers (first versions); a
correction (vN>1) comes from the case's center and carries a named supervisor's approval under the
window's seal, checked against the key enrolled for that window; reads are about the caller's
center only. One open case per person across the province (``person_has_open_case``).

The store runs on SQLite (WAL, ``BEGIN IMMEDIATE``) or on any SQLAlchemy database given by URL
(the bench uses PostgreSQL): uniqueness is the database's (business key, idempotency key), and a
write that loses a race is retried once against what the winner wrote.

Thread contract: a PlatformStore is shared by the server's worker threads; each method opens its
own session.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import create_engine, func, insert, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from counter_app.identity import normalise_id_number
from counter_app.lifecycle import ITEM_FINAL, ItemStatus
from counter_app.scheme import ITEMS
from counter_app.sync import contract as C
from counter_app.sync.models import Role
from refplatform import center as center_views
from refplatform import followups
from refplatform.blobs import BlobStore, OffsetMismatch
from refplatform.credentials import Caller, Enrolment
from refplatform.departments import LETTER_MISSING, DepartmentClock, plan_items, sms_for_events
from refplatform.errors import PlatformError, Received
from refplatform.submission import check_submission, deadlines_of
from refplatform.tables import (
    BundleImport, CaseItem, Credential, ItemEvent, PlatformCase, RatingRow, RefBase, ScheduledStep,
)

log = logging.getLogger(__name__)
CHINA_TZ = _dt.timezone(_dt.timedelta(hours=8))
OPEN_ITEM_STATUSES = frozenset(s.value for s in ItemStatus) - frozenset(s.value for s in ITEM_FINAL)


@dataclass
class CredentialKeys:
    label: str
    credential_id: str
    enc_key: bytes
    mac_key: bytes


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def make_engine(path: Path):
    # The same SQLite settings as the window's store; a demo/test stand-in needs no FULL fsync.
    from counter_app.store.db import make_engine as sqlite_engine

    return sqlite_engine(path, synchronous="NORMAL")


def iso(value: _dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(CHINA_TZ).isoformat(timespec="seconds")


def _private_secret(path: Path) -> bytes:
    """The platform's key for person hashes, made once, kept 0600 beside the data."""
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        key = secrets.token_bytes(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key.hex())
        return key


class PlatformStore:
    def __init__(self, data_dir: Path, *, clock: DepartmentClock | None = None, database_url: str | None = None):
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.clock = clock or DepartmentClock()
        if database_url:
            self.engine = create_engine(database_url, pool_size=20, max_overflow=20, pool_pre_ping=True)
        else:
            self.engine = make_engine(self.data_dir / "platform.sqlite3")
        self._write_lock = threading.Lock() if self.engine.dialect.name == "sqlite" else nullcontext()
        self._check_layout()
        RefBase.metadata.create_all(self.engine)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._blobs: dict[str, BlobStore] = {}
        self._person_secret = _private_secret(self.data_dir / "person-index.key")
        self._callers: dict[str, Caller] = {}
        self._verify_seal = _seal_verifier()
        self._load_credentials()

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A write transaction. On SQLite the writers of this process queue on a lock first: SQLite
        lets one writer in at a time and makes the others poll with growing sleeps, which under 50
        windows turns into seconds-long tails; a server database takes the writers as they come."""
        with self._write_lock:
            with self.sessions.begin() as s:
                yield s

    def _check_layout(self) -> None:
        insp = inspect(self.engine)
        if insp.has_table("credentials") and "center_code" not in {c["name"] for c in insp.get_columns("credentials")}:
            raise ValueError("参考平台数据目录是旧版本格式（凭据未绑定服务中心与窗口）：请换一个新的数据目录，"
                             "或删除该目录后重新登记凭据。")

    def close(self) -> None:
        self.engine.dispose()

    def blobs_for(self, center_code: str) -> BlobStore:
        store = self._blobs.get(center_code)
        if store is None:
            store = self._blobs.setdefault(center_code, BlobStore(self.data_dir / "blobs" / center_code))
        return store

    def person_key(self, id_number: str) -> str:
        return hmac.new(self._person_secret, normalise_id_number(id_number).encode(), hashlib.sha256).hexdigest()

    # ---- credentials ------------------------------------------------------------------
    def _load_credentials(self) -> None:
        with self.sessions() as s:
            self._callers = {c.token_sha256: _caller(c) for c in s.execute(select(Credential)).scalars()}

    def enrol(self, e: Enrolment, *, label: str | None = None) -> Caller:
        """Register a credential (IT's act). Enrolling the same token again updates its seal key;
        its binding never changes (a moved window gets a new credential)."""
        from counter_app.sync.bundle import credential_id, derive_bundle_keys

        digest = token_sha256(e.token.strip())
        cid = credential_id(e.token.strip())
        enc, mac = derive_bundle_keys(e.token.strip())
        default = (f"{e.center_code}-{e.window_no}" if e.role is Role.WINDOW
                   else f"{e.center_code}-supervisor-{e.operator}")
        with self.writing() as s:
            row = s.get(Credential, digest)
            if row is None:
                s.add(Credential(token_sha256=digest, credential_id=cid, label=label or default,
                                 center_code=e.center_code, window_no=e.window_no, role=e.role.value,
                                 operator=e.operator, seal_public_key=e.seal_public_key, bundle_enc_key=enc,
                                 bundle_mac_key=mac, created_at=self.clock.now()))
            else:
                if (row.center_code, row.window_no, row.role) != (e.center_code, e.window_no, e.role.value):
                    raise ValueError("该凭据已登记给另一个服务中心或窗口；请为新的窗口另发凭据。")
                if e.seal_public_key:
                    row.seal_public_key = e.seal_public_key
        self._load_credentials()
        return self._callers[digest]

    def enrol_seal_key(self, label: str, public_key: str) -> None:
        from refplatform.credentials import check_public_key

        check_public_key(public_key)
        with self.writing() as s:
            row = s.execute(select(Credential).where(Credential.label == label)).scalar_one_or_none()
            if row is None or row.role != Role.WINDOW.value:
                raise ValueError(f"没有名为{label}的窗口凭据。")
            row.seal_public_key = public_key
        self._load_credentials()

    def authenticate(self, token: str) -> Caller | None:
        digest = token_sha256(token)
        for known, caller in self._callers.items():
            if hmac.compare_digest(known, digest):
                return caller
        return None

    def caller_by_label(self, label: str) -> Caller | None:
        return next((c for c in self._callers.values() if c.label == label), None)

    def supervisors_of(self, center_code: str) -> set[str]:
        return {c.operator for c in self._callers.values()
                if c.role is Role.SUPERVISOR and c.center_code == center_code and c.operator}

    def bundle_keys(self, cid: str) -> CredentialKeys | None:
        with self.sessions() as s:
            row = s.execute(select(Credential).where(Credential.credential_id == cid)).scalar_one_or_none()
            if row is None:
                return None
            return CredentialKeys(row.label, row.credential_id, row.bundle_enc_key, row.bundle_mac_key)

    def has_credentials(self) -> bool:
        return bool(self._callers)

    # ---- cases ------------------------------------------------------------------------
    def receive_case(self, idempotency_key: str | None, body: Any, *, caller: Caller, source: str = "http") -> Received:
        if not idempotency_key or not C.UUID_RE.match(idempotency_key):
            raise PlatformError(400, C.E_INVALID_REQUEST, "缺少 Idempotency-Key 请求头，或其不是UUID。")
        bk, case, digest = check_submission(body)
        self._check_scope(caller, case)
        try:
            return self._receive(idempotency_key, body, bk, case, digest, caller, source)
        except IntegrityError:
            # Another request for the same case won the race between our check and our insert:
            # the second pass sees its row and answers as for a resend (or a conflict).
            return self._receive(idempotency_key, body, bk, case, digest, caller, source)

    def _check_scope(self, caller: Caller, case: dict) -> None:
        caller.require_window()
        caller.require_center(case["center_code"])
        if int(case["version"]) == 1:
            caller.require_own_case_no(case["case_no"])
            if case["window_no"] != caller.window_no:
                raise PlatformError(403, C.E_FORBIDDEN, f"办件的窗口号{case['window_no']}与本凭据的窗口"
                                    f"{caller.window_no}不符，请核对窗口设置。")

    def _receive(self, idempotency_key: str, body: dict, bk: str, case: dict, digest: str, caller: Caller,
                 source: str) -> Received:
        now = self.clock.now()
        with self.writing() as s:
            by_key = s.execute(select(PlatformCase).where(PlatformCase.idempotency_key == idempotency_key)
                               ).scalar_one_or_none()
            if by_key is not None and (by_key.content_digest != digest or by_key.business_key != bk):
                raise PlatformError(422, C.E_KEY_REUSED,
                                    f"该幂等键已用于办件{by_key.business_key}，但本次提交的内容不同，平台拒绝接收。")
            existing = by_key or s.execute(select(PlatformCase).where(PlatformCase.business_key == bk)
                                           ).scalar_one_or_none()
            if existing is not None:
                if existing.content_digest != digest:
                    raise PlatformError(409, C.E_BUSINESS_KEY_CONFLICT,
                                        f"办件{existing.case_no}第{existing.version}版已以不同内容提交过；"
                                        "如需修改，请发起更正（生成新版本）后再上报。")
                existing.received_count += 1
                existing.last_received_at = now
                return Received(200, self._answer(existing, replayed=True), True)
            hashes = C.attachment_hashes(case)
            blobs = self.blobs_for(caller.center_code)
            missing = [h for h in hashes if not blobs.held(h)]
            if missing:
                raise PlatformError(409, C.E_ATTACHMENTS_MISSING, f"平台尚未收齐该办件的{len(missing)}个附件，请先上传。",
                                    missing=missing)
            seal_ok, seal_note = self._check_seal(caller, case, digest, hashes)
            version = int(case["version"])
            if version > 1:
                self._check_correction(caller, case, seal_ok, seal_note)
            online_id = case["application"].get("online_application_id")
            if online_id and version == 1:
                center_views.check_not_held_elsewhere(s, str(online_id), caller, case["case_no"], now)
            person = self.person_key(case["application"]["applicant"]["id_number"])
            self._check_one_open_case(s, person, case["case_no"])
            items = sorted(int(n) for n in case["application"]["items"])
            audit_head = body.get("audit_head") or {}
            row = PlatformCase(
                platform_case_id=f"pending-{secrets.token_hex(10)}", business_key=bk, idempotency_key=idempotency_key, content_digest=digest,
                case_no=case["case_no"], version=version, center_code=case["center_code"],
                window_no=case["window_no"], operator=str(case.get("operator") or "")[:64], person_key=person,
                accepted_on=_accepted_on(case, now), superseded=False,
                online_application_id=case["application"].get("online_application_id") or None,
                payload=json.dumps(case, ensure_ascii=False), receipt={}, received_count=1, first_received_at=now,
                last_received_at=now, source=source, credential_label=caller.label, seal_verified=seal_ok,
                seal_note=seal_note, audit_head_seq=audit_head.get("seq"), audit_head_hash=audit_head.get("hash"),
            )
            s.add(row)
            s.flush()
            # Numbered from the row's own id: no "max + 1" for two concurrent requests to share.
            pid = row.platform_case_id = f"HN{case['center_code']}{now.astimezone(CHINA_TZ):%Y%m%d}{row.id:07d}"
            if version > 1:
                for old in s.execute(select(PlatformCase).where(PlatformCase.case_no == case["case_no"],
                                                                PlatformCase.version < version)).scalars():
                    old.superseded = True
            due = deadlines_of(case)
            # 规程 五(四)1: the police items go out with the stamped 落户介绍信 or not at all.
            held = set()
            if 4 in items and not any(isinstance(a, dict) and a.get("role") == "settlement_letter"
                                      for a in case.get("attachments") or []):
                held = {4, 5} & set(items)
            pushed = [n for n in items if n not in held]
            # Core bulk inserts: the ORM's unit of work for ~60 rows was most of a submission's time.
            s.execute(insert(CaseItem), [{"case_id": row.id, "item": n,
                                          "status": (ItemStatus.PENDING_PUSH if n in held else ItemStatus.PUSHED).value,
                                          "updated_at": now, "due": due.get(n),
                                          "note": LETTER_MISSING if n in held else ""} for n in items])
            if pushed:
                s.execute(insert(ItemEvent), [{"case_id": row.id, "item": n,
                                               "from_status": ItemStatus.PENDING_PUSH.value,
                                               "to_status": ItemStatus.PUSHED.value, "at": now, "note": ""}
                                              for n in pushed])
            steps = plan_items(bk, pushed, now, self.clock.step_seconds)
            if steps:
                s.execute(insert(ScheduledStep), [{"case_id": row.id, "item": st.item, "status": st.status.value,
                                                   "due_at": st.at, "note": st.note, "applied": False}
                                                  for st in steps])
            row.receipt = {
                "platform_case_id": pid, "business_key": bk, "content_digest": digest,
                "received_at": iso(now), "items": items, "seal_verified": seal_ok,
                "message": f"省平台已接收办件{case['case_no']}（第{version}版），联办事项已推送至相关部门。",
            }
            if row.online_application_id:
                center_views.mark_taken(s, row.online_application_id, caller, bk)
            return Received(201, self._answer(row, replayed=False), False)

    @staticmethod
    def _answer(row: PlatformCase, *, replayed: bool) -> dict:
        return {"receipt": row.receipt, "replayed": replayed, "received_count": row.received_count}

    def _check_one_open_case(self, s: Session, person: str, case_no: str) -> None:
        """A veteran has at most one open case in the province (its versions are one case)."""
        q = (select(PlatformCase).join(CaseItem, CaseItem.case_id == PlatformCase.id)
             .where(PlatformCase.person_key == person, PlatformCase.case_no != case_no,
                    PlatformCase.superseded.is_(False), CaseItem.status.in_(OPEN_ITEM_STATUSES))
             .order_by(PlatformCase.id).limit(1))
        other = s.execute(q).scalars().first()
        if other is not None:
            raise PlatformError(409, C.E_PERSON_OPEN_CASE,
                                f"该退役军人已有未办结的办件{other.case_no}（{other.center_code}服务中心"
                                f"{other.window_no}号窗口受理），不能重复受理；请查询原办件进度，需要修改时对原办件发起更正。",
                                case_no=other.case_no, center_code=other.center_code, window_no=other.window_no)

    def open_case_for(self, id_number: str) -> dict | None:
        person = self.person_key(id_number)
        with self.sessions() as s:
            q = (select(PlatformCase).join(CaseItem, CaseItem.case_id == PlatformCase.id)
                 .where(PlatformCase.person_key == person, PlatformCase.superseded.is_(False),
                        CaseItem.status.in_(OPEN_ITEM_STATUSES)).order_by(PlatformCase.id).limit(1))
            row = s.execute(q).scalars().first()
            if row is None:
                return None
            return {"case_no": row.case_no, "center_code": row.center_code, "window_no": row.window_no,
                    "accepted_at": iso(row.first_received_at)}

    def _check_seal(self, caller: Caller, case: dict, digest: str, hashes: list[str]) -> tuple[bool | None, str]:
        """Verify the seal against the key enrolled for the sending window (never the key the seal
        itself carries). The result is recorded with the case."""
        seal = case.get("seal")
        if not seal:
            return None, "办件未附电子印章。"
        if self._verify_seal is None:
            return None, "本平台未配置印章验证。"
        if not caller.seal_public_key:
            return None, "该窗口的印章公钥尚未登记，印章未能验证（请由技术人员登记窗口印章公钥）。"
        verify, explain = self._verify_seal
        trusted = [caller.seal_public_key]
        try:
            ok = bool(verify(seal, digest, hashes, trusted_keys=trusted))
            problem = explain(seal, digest, hashes, trusted_keys=trusted) if (not ok and explain) else None
        except Exception as exc:  # noqa: BLE001 - a verifier failure is recorded, never a 500
            return False, f"印章验证出错：{type(exc).__name__}"
        return ok, "印章验证通过。" if ok else f"印章验证未通过：{problem or '签名无效。'}"

    def _check_correction(self, caller: Caller, case: dict, seal_ok: bool | None, seal_note: str) -> None:
        approval = case.get("correction")
        if not isinstance(approval, dict) or not approval.get("approved_by"):
            raise PlatformError(422, C.E_CORRECTION_NOT_APPROVED,
                                "更正版本须写明审批的审核负责人（correction.approved_by），平台不接收未经审批的更正。")
        if approval["approved_by"] not in self.supervisors_of(case["center_code"]):
            raise PlatformError(422, C.E_CORRECTION_NOT_APPROVED,
                                f"审批人“{approval['approved_by']}”不是本服务中心在省平台登记的审核负责人，更正不予接收。")
        if seal_ok is not True:
            raise PlatformError(422, C.E_CORRECTION_NOT_APPROVED,
                                f"更正版本须加盖本窗口已登记的电子印章：{seal_note}")
        expected = f"{case['case_no']}/v"
        sup = case.get("supersedes") or ""
        if not sup.startswith(expected) or not sup[len(expected):].isdigit() \
                or int(sup[len(expected):]) >= int(case["version"]):
            raise PlatformError(422, C.E_INVALID_CASE, "更正版本的“supersedes”应为同一办件的较早版本。")

    def list_cases(self, caller: Caller | None = None, *, page: int = 1, page_size: int = 100,
                   center_code: str | None = None) -> dict:
        """A window's own cases, a supervisor's center; ``caller=None`` is the platform's own operator
        at its console (``counter-app platform cases``), who sees every center."""
        where = []
        if caller is not None:
            if center_code:
                caller.require_center(center_code)
            where.append(PlatformCase.center_code == caller.center_code)
            if caller.role is Role.WINDOW:
                where.append(PlatformCase.window_no == caller.window_no)
        elif center_code:
            where.append(PlatformCase.center_code == center_code)
        with self.sessions() as s:
            total = s.execute(select(func.count()).select_from(PlatformCase).where(*where)).scalar_one()
            rows = s.execute(select(PlatformCase).where(*where).order_by(PlatformCase.id)
                             .offset((page - 1) * page_size).limit(page_size)).scalars().all()
            return {"page": page, "page_size": page_size, "total": total, "items": [
                {"platform_case_id": r.platform_case_id, "business_key": r.business_key,
                 "idempotency_key": r.idempotency_key if caller is None or r.credential_label == caller.label else None,
                 "case_no": r.case_no, "version": r.version,
                 "center_code": r.center_code, "window_no": r.window_no, "content_digest": r.content_digest,
                 "received_count": r.received_count, "first_received_at": iso(r.first_received_at),
                 "last_received_at": iso(r.last_received_at), "source": r.source, "seal_verified": r.seal_verified,
                 "attachments_held": all(self.blobs_for(r.center_code).held(h)
                                         for h in C.attachment_hashes(json.loads(r.payload)))}
                for r in rows]}

    def _visible(self, s: Session, caller: Caller | None, **where: Any) -> PlatformCase | None:
        """The case if the caller may see it in full (None: the platform's own console)."""
        q = select(PlatformCase).filter_by(**where)
        if caller is not None:
            q = q.where(PlatformCase.center_code == caller.center_code)
        row = s.execute(q).scalar_one_or_none()
        if row is None or (caller is not None and not caller.sees_window(row.window_no)):
            return None
        return row

    def get_case(self, platform_case_id: str, caller: Caller | None = None) -> dict:
        with self.sessions() as s:
            row = self._visible(s, caller, platform_case_id=platform_case_id)
            if row is None:  # another center's case is "not found", never "forbidden": no oracle
                raise PlatformError(404, C.E_NOT_FOUND, "平台没有该办件。")
            return {"receipt": row.receipt, "received_count": row.received_count, "case": json.loads(row.payload),
                    "seal_verified": row.seal_verified, "seal_note": row.seal_note,
                    "audit_head": {"seq": row.audit_head_seq, "hash": row.audit_head_hash}}

    # ---- department progress -------------------------------------------------------------
    def advance(self, now: _dt.datetime | None = None, limit: int = 2000) -> int:
        """Apply every scheduled department step whose time has come. Returns how many."""
        now = now or self.clock.now()
        with self.sessions() as s:  # a read first: most calls find nothing due and take no write lock
            if s.execute(select(ScheduledStep.id).where(ScheduledStep.applied.is_(False), ScheduledStep.due_at <= now)
                         .limit(1)).first() is None:
                return 0
        with self.writing() as s:
            # SKIP LOCKED: on a server database two requests advancing at once never apply a step twice
            # (SQLite's BEGIN IMMEDIATE already serialises them and ignores the clause).
            steps = s.execute(select(ScheduledStep).where(ScheduledStep.applied.is_(False), ScheduledStep.due_at <= now)
                              .order_by(ScheduledStep.due_at, ScheduledStep.id).limit(limit)
                              .with_for_update(skip_locked=True)).scalars().all()
            for st in steps:
                item = s.execute(select(CaseItem).where(CaseItem.case_id == st.case_id, CaseItem.item == st.item)
                                 ).scalar_one()
                s.add(ItemEvent(case_id=st.case_id, item=st.item, from_status=item.status, to_status=st.status,
                                at=st.due_at, note=st.note))
                item.status, item.note, item.updated_at = st.status, st.note, st.due_at
                st.applied = True
            return len(steps)

    def progress(self, business_keys: list[str], caller: Caller | None = None) -> dict:
        self.advance()
        out, unknown = [], []
        with self.sessions() as s:  # three queries for the whole batch, not three per case
            q = select(PlatformCase.id, PlatformCase.business_key, PlatformCase.window_no,
                       PlatformCase.platform_case_id).where(PlatformCase.business_key.in_(set(business_keys)))
            if caller is not None:
                q = q.where(PlatformCase.center_code == caller.center_code)
            rows = {r.business_key: r for r in s.execute(q) if caller is None or caller.sees_window(r.window_no)}
            ids = [r.id for r in rows.values()]
            items_of: dict[int, list] = {}
            events_of: dict[tuple[int, int], list] = {}
            if ids:  # plain rows, not ORM objects: a window polls 50 cases with their whole history
                for it in s.execute(select(CaseItem.case_id, CaseItem.item, CaseItem.status, CaseItem.note,
                                           CaseItem.updated_at).where(CaseItem.case_id.in_(ids))
                                    .order_by(CaseItem.item)):
                    items_of.setdefault(it.case_id, []).append(it)
                for e in s.execute(select(ItemEvent.case_id, ItemEvent.item, ItemEvent.to_status, ItemEvent.at,
                                          ItemEvent.note).where(ItemEvent.case_id.in_(ids)).order_by(ItemEvent.seq)):
                    events_of.setdefault((e.case_id, e.item), []).append(e)
            notes, channel_ratings = followups.progress_extras(
                s, ids, {r.id: r.business_key.split("/")[0] for r in rows.values()})
            for bk in business_keys:
                row = rows.get(bk)
                if row is None:
                    unknown.append(bk)
                    continue
                items = [{"item": it.item, "department": ITEMS[it.item].department.value,
                          "status": it.status, "updated_at": iso(it.updated_at), "note": it.note,
                          "history": [{"status": e.to_status, "at": iso(e.at), "note": e.note}
                                      for e in events_of.get((row.id, it.item), [])]}
                         for it in items_of.get(row.id, [])]
                events = sorted((e for it in items_of.get(row.id, []) for e in events_of.get((row.id, it.item), [])),
                                key=lambda e: e.at)
                sms = sorted(sms_for_events(bk.split("/")[0], events) + notes.get(row.id, []), key=lambda n: n["at"])
                out.append({"business_key": bk, "platform_case_id": row.platform_case_id, "items": items,
                            "notifications": sms, "ratings": channel_ratings.get(row.id, [])})
        return {"cases": out, "unknown": unknown, "as_of": iso(self.clock.now())}

    # ---- attachments -------------------------------------------------------------------
    def attachment_states(self, caller: Caller, hashes: list[str]) -> dict:
        blobs = self.blobs_for(caller.center_code)
        return {"attachments": [blobs.state(h) for h in hashes]}

    def put_attachment(self, center_code: str, sha256: str, start: int, data: bytes, total: int) -> dict:
        try:
            return self.blobs_for(center_code).append(sha256, start, data, total)
        except OffsetMismatch as exc:
            raise offset_error(exc.offset) from None

    # ---- worklist, claims, the center's figures: ``center.py`` ---------------------------------
    def worklist(self, caller: Caller, day: _dt.date | None = None) -> dict:
        try:
            return center_views.worklist(self, caller, day)
        except IntegrityError:  # another window generated the same day's list first: read theirs
            return center_views.worklist(self, caller, day)

    def claim(self, caller: Caller, platform_id: str) -> dict:
        return center_views.claim(self, caller, platform_id)

    def release(self, caller: Caller, platform_id: str) -> dict:
        return center_views.release(self, caller, platform_id)

    def center_report(self, caller: Caller, day: _dt.date | None = None) -> dict:
        return center_views.report(self, caller, day)

    # ---- data sharing ----------------------------------------------------------------
    def lookup(self, caller: Caller, id_number: str, checks: list[str] | None) -> dict:
        """数据共享校验; the veteran's file only to the center that received it."""
        from counter_app.identity import check_id_number
        from refplatform.synthetic import data_sharing_answers

        if not check_id_number(id_number).ok:
            raise PlatformError(422, C.E_INVALID_REQUEST, "公民身份号码不正确（校验位不符），无法进行数据共享校验。")
        return {"results": data_sharing_answers(id_number, checks or list(C.DATA_SHARING_CHECKS),
                                                self.clock.now().astimezone(CHINA_TZ), center_code=caller.center_code)}

    # ---- ratings ----------------------------------------------------------------------
    def receive_rating(self, caller: Caller, idempotency_key: str | None, body: dict) -> Received:
        from counter_app.scheme import RATINGS

        if not idempotency_key or not C.UUID_RE.match(idempotency_key):
            raise PlatformError(400, C.E_INVALID_REQUEST, "缺少 Idempotency-Key 请求头，或其不是UUID。")
        bk, stage, level = body["business_key"], body["stage"], body["level"]
        reason = body.get("reason") or ""
        if level in RATINGS[3:] and not str(reason).strip():
            raise PlatformError(422, C.E_INVALID_REQUEST, "差评须填写原因。")
        with self.writing() as s:
            prior = s.execute(select(RatingRow).where(RatingRow.idempotency_key == idempotency_key)).scalar_one_or_none()
            if prior is not None:
                if (prior.business_key, prior.stage, prior.level) != (bk, stage, level):
                    raise PlatformError(422, C.E_KEY_REUSED, "该幂等键已用于另一条评价。")
                return Received(200, {"rating_id": prior.id, "replayed": True}, True)
            if self._visible(s, caller, business_key=bk) is None:
                raise PlatformError(404, C.E_NOT_FOUND, "平台没有该办件，评价暂不能提交。")
            row = RatingRow(idempotency_key=idempotency_key, business_key=bk, center_code=caller.center_code,
                            stage=stage, level=level, reason=str(reason)[:500],
                            rated_at=str(body.get("rated_at") or ""), received_at=self.clock.now())
            s.add(row)
            s.flush()
            return Received(201, {"rating_id": row.id, "replayed": False}, False)

    def ratings(self) -> list[dict]:
        with self.sessions() as s:
            return [{"business_key": r.business_key, "stage": r.stage, "level": r.level, "reason": r.reason}
                    for r in s.execute(select(RatingRow).order_by(RatingRow.id)).scalars()]

    def record_import(self, manifest_sha256: str, label: str, summary: dict) -> None:
        with self.writing() as s:
            s.add(BundleImport(manifest_sha256=manifest_sha256, credential_label=label, imported_at=self.clock.now(),
                               summary=summary))


def offset_error(offset: int) -> PlatformError:
    return PlatformError(409, C.E_UPLOAD_OFFSET, f"续传位置不符：平台已收到{offset}字节。",
                         headers={C.UPLOAD_OFFSET_HEADER: str(offset)}, received=offset)


def _caller(c: Credential) -> Caller:
    return Caller(label=c.label, credential_id=c.credential_id, center_code=c.center_code, window_no=c.window_no,
                  role=Role(c.role), operator=c.operator, seal_public_key=c.seal_public_key)


def _accepted_on(case: dict, now: _dt.datetime) -> _dt.date:
    try:
        return _dt.datetime.fromisoformat(str(case.get("finalized_at"))).astimezone(CHINA_TZ).date()
    except (TypeError, ValueError):
        return now.astimezone(CHINA_TZ).date()


def _seal_verifier():
    """(verify_seal, seal_problem) of the core's seal module."""
    from counter_app.security.seal import seal_problem, verify_seal

    return verify_seal, seal_problem
