"""The reference platform's own store: SQLite through SQLAlchemy, its own metadata (not the window's).

Everything the HTTP layer and the bundle import do goes through :class:`PlatformStore`, so a case
received over HTTP and one imported from an offline bundle meet the same deduplication:

- same ``Idempotency-Key`` and same content digest: the first answer again (``replayed``);
- same key, different content: refused (``idempotency_key_reused``, 422);
- a new key for a business key already held with the same content: recognised, first answer again
  (a window that lost its key, or a bundle imported after the case arrived over the network);
- a new key for a business key already held with different content: refused (``business_key_conflict``, 409).

Every write transaction starts with ``BEGIN IMMEDIATE`` so check-then-insert is atomic when two
requests for the same case race (a killed client's request still being served while it resends).
WAL with ``synchronous=NORMAL``: committed data survives the server process being killed.

Attachments are files named by their SHA-256 under ``blobs/``; an upload in progress is a ``.part``
file whose size is the resume offset. The hash is verified before the file takes its final name.

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
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON, Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint,
    func, select,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from counter_app.identity import check_id_number
from counter_app.lifecycle import ItemStatus
from refplatform.departments import DepartmentClock, plan_items
from refplatform.synthetic import data_sharing_answers, worklist_for
from counter_app.scheme import ITEMS, RATINGS
from counter_app.store.models import UtcDateTime
from counter_app.sync import contract as C
from counter_app.clock import CHINA_TZ

log = logging.getLogger(__name__)


class RefBase(DeclarativeBase):
    pass


class Credential(RefBase):
    """A window credential the platform accepts (only its hash is kept, plus the bundle keys derived from it)."""

    __tablename__ = "credentials"
    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    credential_id: Mapped[str] = mapped_column(String(16), unique=True)
    label: Mapped[str] = mapped_column(String(64))
    bundle_enc_key: Mapped[bytes] = mapped_column(LargeBinary)
    bundle_mac_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime())


class PlatformCase(RefBase):
    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform_case_id: Mapped[str] = mapped_column(String(32), unique=True)
    business_key: Mapped[str] = mapped_column(String(48), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(36), unique=True)
    content_digest: Mapped[str] = mapped_column(String(64))
    case_no: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    center_code: Mapped[str] = mapped_column(String(6), index=True)
    window_no: Mapped[str] = mapped_column(String(2))
    online_application_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    payload: Mapped[str] = mapped_column(Text)  # the case JSON as received
    receipt: Mapped[dict] = mapped_column(JSON)
    received_count: Mapped[int] = mapped_column(Integer, default=1)
    first_received_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime())
    last_received_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime())
    source: Mapped[str] = mapped_column(String(8))  # http / bundle
    credential_label: Mapped[str] = mapped_column(String(64))
    seal_verified: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    seal_note: Mapped[str] = mapped_column(Text, default="")
    audit_head_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    audit_head_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)


class CaseItem(RefBase):
    __tablename__ = "case_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    item: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(24))
    note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime())
    __table_args__ = (UniqueConstraint("case_id", "item"),)


class ItemEvent(RefBase):
    __tablename__ = "item_events"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    item: Mapped[int] = mapped_column(Integer)
    from_status: Mapped[str | None] = mapped_column(String(24), nullable=True)
    to_status: Mapped[str] = mapped_column(String(24))
    at: Mapped[_dt.datetime] = mapped_column(UtcDateTime())
    note: Mapped[str] = mapped_column(Text, default="")


class ScheduledStep(RefBase):
    __tablename__ = "schedule"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    item: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(24))
    due_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime())
    note: Mapped[str] = mapped_column(Text, default="")
    applied: Mapped[bool] = mapped_column(Boolean, default=False)
    __table_args__ = (Index("ix_schedule_pending", "applied", "due_at"),)


class WorklistRow(RefBase):
    __tablename__ = "worklist"
    platform_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    center_code: Mapped[str] = mapped_column(String(6), index=True)
    day: Mapped[_dt.date] = mapped_column(Date)
    payload: Mapped[dict] = mapped_column(JSON)
    taken_business_key: Mapped[str | None] = mapped_column(String(48), nullable=True)


class RatingRow(RefBase):
    __tablename__ = "ratings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(36), unique=True)
    business_key: Mapped[str] = mapped_column(String(48), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text, default="")
    rated_at: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime())


class WindowSealKey(RefBase):
    """The seal public key first seen from each window credential (trust on first use): later seals
    from that credential must carry the same key, or they are recorded as not verified."""

    __tablename__ = "window_seal_keys"
    credential_label: Mapped[str] = mapped_column(String(64), primary_key=True)
    public_key: Mapped[str] = mapped_column(String(128))
    first_seen: Mapped[_dt.datetime] = mapped_column(UtcDateTime())


class BundleImport(RefBase):
    __tablename__ = "bundle_imports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    credential_label: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime())
    summary: Mapped[dict] = mapped_column(JSON)


class PlatformError(Exception):
    """A refusal with an HTTP status, a contract error code and a Chinese message."""

    def __init__(self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None, **detail: Any):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.detail = detail

    def body(self) -> dict:
        return C.error_body(self.code, self.message, **self.detail)


@dataclass
class Received:
    status: int  # 201 new, 200 replay
    body: dict
    replayed: bool


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


class OffsetMismatch(Exception):
    def __init__(self, offset: int):
        super().__init__(offset)
        self.offset = offset


class BlobStore:
    """Attachment files by SHA-256, with resumable uploads (``.part`` files)."""

    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def part(self, sha256: str) -> Path:
        return self.root / sha256[:2] / (sha256 + ".part")

    def _lock(self, sha256: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(sha256, threading.Lock())

    def held(self, sha256: str) -> bool:
        return self.path(sha256).exists()

    def state(self, sha256: str) -> dict:
        if self.held(sha256):
            size = self.path(sha256).stat().st_size
            return {"sha256": sha256, "state": "complete", "received": size, "size": size}
        try:
            received = self.part(sha256).stat().st_size
            return {"sha256": sha256, "state": "partial", "received": received}
        except FileNotFoundError:
            return {"sha256": sha256, "state": "absent", "received": 0}

    def partial_uploads(self) -> list[str]:
        return sorted(p.name[:-5] for p in self.root.glob("*/*.part"))

    def append(self, sha256: str, start: int, data: bytes, total: int) -> dict:
        if total > C.MAX_ATTACHMENT_BYTES:
            raise PlatformError(413, C.E_TOO_LARGE, f"附件超过{C.MAX_ATTACHMENT_BYTES // (1024 * 1024)}MB上限。")
        if start < 0 or start + len(data) > total:
            raise PlatformError(400, C.E_INVALID_REQUEST, "上传范围不正确（Content-Range 超出文件长度）。")
        with self._lock(sha256):
            if self.held(sha256):
                return self.state(sha256)
            part = self.part(sha256)
            part.parent.mkdir(parents=True, exist_ok=True)
            current = part.stat().st_size if part.exists() else 0
            if current > total:  # a leftover of another attempt with another length: start afresh
                part.unlink()
                current = 0
            if start != current:
                raise OffsetMismatch(current)
            with open(part, "ab") as fh:
                fh.write(data)
                fh.flush()
                if current + len(data) == total:
                    os.fsync(fh.fileno())
            if current + len(data) < total:
                return {"sha256": sha256, "state": "partial", "received": current + len(data)}
            digest = hashlib.sha256()
            with open(part, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(chunk)
            if digest.hexdigest() != sha256:
                part.unlink(missing_ok=True)
                raise PlatformError(422, C.E_ATTACHMENT_HASH,
                                    f"附件{sha256[:12]}…的内容与其SHA-256摘要不符，平台已丢弃，请重新上传。")
            os.replace(part, self.path(sha256))
            return self.state(sha256)

    def read(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()


def _iso(value: _dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(CHINA_TZ).isoformat(timespec="seconds")


class PlatformStore:
    def __init__(self, data_dir: Path, *, clock: DepartmentClock | None = None):
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.clock = clock or DepartmentClock()
        self.engine = make_engine(self.data_dir / "platform.sqlite3")
        RefBase.metadata.create_all(self.engine)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.blobs = BlobStore(self.data_dir / "blobs")
        self._credentials: dict[str, str] = {}
        self._verify_seal = _seal_verifier()
        self._load_credentials()

    def close(self) -> None:
        self.engine.dispose()

    # ---- credentials ------------------------------------------------------------------
    def _load_credentials(self) -> None:
        with self.sessions() as s:
            self._credentials = {c.token_sha256: c.label for c in s.execute(select(Credential)).scalars()}

    def add_token(self, token: str, label: str | None = None) -> str:
        from counter_app.sync.bundle import credential_id, derive_bundle_keys

        token = token.strip()
        if len(token) < 8:
            raise ValueError("窗口凭据至少8个字符。")
        digest = token_sha256(token)
        cid = credential_id(token)
        enc, mac = derive_bundle_keys(token)
        with self.sessions.begin() as s:
            row = s.get(Credential, digest)
            if row is None:
                s.add(Credential(token_sha256=digest, credential_id=cid, label=label or f"window-{cid[:8]}",
                                 bundle_enc_key=enc, bundle_mac_key=mac, created_at=self.clock.now()))
        self._load_credentials()
        return self._credentials[digest]

    def authenticate(self, token: str) -> str | None:
        digest = token_sha256(token)
        for known, label in self._credentials.items():
            if hmac.compare_digest(known, digest):
                return label
        return None

    def bundle_keys(self, cid: str) -> CredentialKeys | None:
        with self.sessions() as s:
            row = s.execute(select(Credential).where(Credential.credential_id == cid)).scalar_one_or_none()
            if row is None:
                return None
            return CredentialKeys(row.label, row.credential_id, row.bundle_enc_key, row.bundle_mac_key)

    def has_credentials(self) -> bool:
        return bool(self._credentials)

    # ---- cases ------------------------------------------------------------------------
    def receive_case(self, idempotency_key: str | None, body: Any, *, credential: str, source: str = "http") -> Received:
        if not idempotency_key or not C.UUID_RE.match(idempotency_key):
            raise PlatformError(400, C.E_INVALID_REQUEST, "缺少 Idempotency-Key 请求头，或其不是UUID。")
        bk, case, digest = _check_submission(body)
        now = self.clock.now()
        with self.sessions.begin() as s:
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
            missing = [h for h in hashes if not self.blobs.held(h)]
            if missing:
                raise PlatformError(409, C.E_ATTACHMENTS_MISSING, f"平台尚未收齐该办件的{len(missing)}个附件，请先上传。",
                                    missing=missing)
            seal_ok, seal_note = self._check_seal(s, credential, case, digest, hashes, now)
            seq = (s.execute(select(func.max(PlatformCase.id))).scalar() or 0) + 1
            pid = f"HN{case['center_code']}{now.astimezone(CHINA_TZ):%Y%m%d}{seq:07d}"
            items = sorted(int(n) for n in case["application"]["items"])
            row = PlatformCase(
                platform_case_id=pid, business_key=bk, idempotency_key=idempotency_key, content_digest=digest,
                case_no=case["case_no"], version=int(case["version"]), center_code=case["center_code"],
                window_no=case["window_no"], online_application_id=case["application"].get("online_application_id") or None,
                payload=json.dumps(case, ensure_ascii=False), receipt={}, received_count=1, first_received_at=now,
                last_received_at=now, source=source, credential_label=credential, seal_verified=seal_ok,
                seal_note=seal_note,
                audit_head_seq=_int_or_none((body.get("audit_head") or {}).get("seq")),
                audit_head_hash=_str_or_none((body.get("audit_head") or {}).get("hash")),
            )
            s.add(row)
            s.flush()
            for n in items:
                s.add(CaseItem(case_id=row.id, item=n, status=ItemStatus.PUSHED.value, updated_at=now))
                s.add(ItemEvent(case_id=row.id, item=n, from_status=ItemStatus.PENDING_PUSH.value,
                                to_status=ItemStatus.PUSHED.value, at=now, note=""))
            for step in plan_items(bk, items, now, self.clock.step_seconds):
                s.add(ScheduledStep(case_id=row.id, item=step.item, status=step.status.value, due_at=step.at,
                                    note=step.note))
            row.receipt = {
                "platform_case_id": pid, "business_key": bk, "content_digest": digest,
                "received_at": _iso(now), "items": items, "seal_verified": seal_ok,
                "message": f"省平台已接收办件{case['case_no']}（第{case['version']}版），联办事项已推送至相关部门。",
            }
            if row.online_application_id:
                wl = s.get(WorklistRow, row.online_application_id)
                if wl is not None and wl.taken_business_key is None:
                    wl.taken_business_key = bk
            return Received(201, self._answer(row, replayed=False), False)

    @staticmethod
    def _answer(row: PlatformCase, *, replayed: bool) -> dict:
        return {"receipt": row.receipt, "replayed": replayed, "received_count": row.received_count}

    def _check_seal(self, s: Session, credential: str, case: dict, digest: str, hashes: list[str],
                    now: _dt.datetime) -> tuple[bool | None, str]:
        """Verify the window's seal when the security module is installed; the result is recorded
        with the case and never blocks its receipt."""
        seal = case.get("seal")
        if not seal:
            return None, "办件未附电子印章。"
        if self._verify_seal is None:
            return None, "本平台未配置印章验证。"
        verify, explain = self._verify_seal
        pinned = s.get(WindowSealKey, credential)
        offered = seal.get("public_key") if isinstance(seal, dict) else None
        trusted = [pinned.public_key] if pinned is not None else ([offered] if isinstance(offered, str) else None)
        try:
            ok = bool(verify(seal, digest, hashes, trusted_keys=trusted))
            problem = explain(seal, digest, hashes, trusted_keys=trusted) if (not ok and explain) else None
        except Exception as exc:  # noqa: BLE001 - a verifier failure is recorded, never blocks receipt
            return None, f"印章验证出错：{type(exc).__name__}"
        if ok and pinned is None and isinstance(offered, str):
            s.add(WindowSealKey(credential_label=credential, public_key=offered, first_seen=now))
        return ok, "印章验证通过。" if ok else f"印章验证未通过：{problem or '签名无效。'}"

    def list_cases(self, *, page: int = 1, page_size: int = 100, center_code: str | None = None) -> dict:
        page = max(1, page)
        page_size = max(1, min(page_size, 1000))
        with self.sessions() as s:
            q = select(PlatformCase).order_by(PlatformCase.id)
            cq = select(func.count()).select_from(PlatformCase)
            if center_code:
                q = q.where(PlatformCase.center_code == center_code)
                cq = cq.where(PlatformCase.center_code == center_code)
            total = s.execute(cq).scalar_one()
            rows = s.execute(q.offset((page - 1) * page_size).limit(page_size)).scalars().all()
            return {"page": page, "page_size": page_size, "total": total, "items": [
                {"platform_case_id": r.platform_case_id, "business_key": r.business_key,
                 "idempotency_key": r.idempotency_key, "case_no": r.case_no, "version": r.version,
                 "center_code": r.center_code, "window_no": r.window_no, "content_digest": r.content_digest,
                 "received_count": r.received_count, "first_received_at": _iso(r.first_received_at),
                 "last_received_at": _iso(r.last_received_at), "source": r.source, "seal_verified": r.seal_verified,
                 "attachments_held": all(self.blobs.held(h) for h in C.attachment_hashes(json.loads(r.payload)))}
                for r in rows]}

    def get_case(self, platform_case_id: str) -> dict:
        with self.sessions() as s:
            row = s.execute(select(PlatformCase).where(PlatformCase.platform_case_id == platform_case_id)
                            ).scalar_one_or_none()
            if row is None:
                raise PlatformError(404, C.E_NOT_FOUND, "平台没有该办件。")
            return {"receipt": row.receipt, "received_count": row.received_count, "case": json.loads(row.payload),
                    "seal_verified": row.seal_verified, "seal_note": row.seal_note,
                    "audit_head": {"seq": row.audit_head_seq, "hash": row.audit_head_hash}}

    # ---- department progress -------------------------------------------------------------
    def advance(self, now: _dt.datetime | None = None, limit: int = 2000) -> int:
        """Apply every scheduled department step whose time has come. Returns how many."""
        now = now or self.clock.now()
        with self.sessions.begin() as s:
            steps = s.execute(select(ScheduledStep).where(ScheduledStep.applied.is_(False), ScheduledStep.due_at <= now)
                              .order_by(ScheduledStep.due_at, ScheduledStep.id).limit(limit)).scalars().all()
            for st in steps:
                item = s.execute(select(CaseItem).where(CaseItem.case_id == st.case_id, CaseItem.item == st.item)
                                 ).scalar_one()
                s.add(ItemEvent(case_id=st.case_id, item=st.item, from_status=item.status, to_status=st.status,
                                at=st.due_at, note=st.note))
                item.status, item.note, item.updated_at = st.status, st.note, st.due_at
                st.applied = True
            return len(steps)

    def progress(self, business_keys: list[str]) -> dict:
        if len(business_keys) > 500:
            raise PlatformError(400, C.E_INVALID_REQUEST, "一次最多查询500个办件。")
        self.advance()
        out, unknown = [], []
        with self.sessions() as s:
            for bk in business_keys:
                row = s.execute(select(PlatformCase).where(PlatformCase.business_key == bk)).scalar_one_or_none()
                if row is None:
                    unknown.append(bk)
                    continue
                events = s.execute(select(ItemEvent).where(ItemEvent.case_id == row.id).order_by(ItemEvent.seq)
                                   ).scalars().all()
                items = []
                for it in s.execute(select(CaseItem).where(CaseItem.case_id == row.id).order_by(CaseItem.item)).scalars():
                    items.append({"item": it.item, "department": ITEMS[it.item].department.value,
                                  "status": it.status, "updated_at": _iso(it.updated_at), "note": it.note,
                                  "history": [{"status": e.to_status, "at": _iso(e.at), "note": e.note}
                                              for e in events if e.item == it.item]})
                out.append({"business_key": bk, "platform_case_id": row.platform_case_id, "items": items})
        return {"cases": out, "unknown": unknown, "as_of": _iso(self.clock.now())}

    # ---- attachments -------------------------------------------------------------------
    def attachment_states(self, hashes: list[str]) -> dict:
        if len(hashes) > 2000:
            raise PlatformError(400, C.E_INVALID_REQUEST, "一次最多查询2000个附件。")
        for h in hashes:
            if not isinstance(h, str) or not C.SHA256_RE.match(h):
                raise PlatformError(400, C.E_INVALID_REQUEST, "附件摘要格式不正确（应为64位小写十六进制SHA-256）。")
        return {"attachments": [self.blobs.state(h) for h in hashes]}

    def put_attachment(self, sha256: str, start: int, data: bytes, total: int) -> dict:
        try:
            return self.blobs.append(sha256, start, data, total)
        except OffsetMismatch as exc:
            raise PlatformError(409, C.E_UPLOAD_OFFSET, f"续传位置不符：平台已收到{exc.offset}字节。",
                                headers={C.UPLOAD_OFFSET_HEADER: str(exc.offset)}, received=exc.offset) from None

    # ---- worklist ---------------------------------------------------------------------
    def worklist(self, center_code: str, day: _dt.date | None = None) -> dict:
        if not center_code or not center_code.isdigit() or len(center_code) != 6:
            raise PlatformError(400, C.E_INVALID_REQUEST, "服务中心代码应为6位数字。")
        day = day or self.clock.now().astimezone(CHINA_TZ).date()
        with self.sessions.begin() as s:
            have = s.execute(select(func.count()).select_from(WorklistRow).where(
                WorklistRow.center_code == center_code, WorklistRow.day == day)).scalar_one()
            if not have:
                for entry in worklist_for(center_code, day):
                    if s.get(WorklistRow, entry["platform_id"]) is None:
                        s.add(WorklistRow(platform_id=entry["platform_id"], center_code=center_code, day=day,
                                          payload=entry))
            rows = s.execute(select(WorklistRow).where(WorklistRow.center_code == center_code,
                                                       WorklistRow.taken_business_key.is_(None))
                             .order_by(WorklistRow.platform_id)).scalars().all()
            return {"center_code": center_code, "date": day.isoformat(), "entries": [r.payload for r in rows]}

    # ---- data sharing ----------------------------------------------------------------
    def lookup(self, body: Any) -> dict:
        if not isinstance(body, dict):
            raise PlatformError(400, C.E_INVALID_REQUEST, "请求体应为JSON对象。")
        idn = body.get("id_number")
        check = check_id_number(idn if isinstance(idn, str) else "")
        if not check.ok:
            raise PlatformError(422, C.E_INVALID_REQUEST, "公民身份号码不正确，无法进行数据共享校验。")
        checks = body.get("checks") or list(C.DATA_SHARING_CHECKS)
        if not isinstance(checks, list) or any(c not in C.DATA_SHARING_CHECKS for c in checks):
            raise PlatformError(400, C.E_INVALID_REQUEST, "校验项目不正确，可选："
                                + "、".join(C.DATA_SHARING_CHECKS))
        return {"results": data_sharing_answers(idn, checks, self.clock.now().astimezone(CHINA_TZ))}

    # ---- ratings ----------------------------------------------------------------------
    def receive_rating(self, idempotency_key: str | None, body: Any) -> Received:
        if not idempotency_key or not C.UUID_RE.match(idempotency_key):
            raise PlatformError(400, C.E_INVALID_REQUEST, "缺少 Idempotency-Key 请求头，或其不是UUID。")
        if not isinstance(body, dict):
            raise PlatformError(400, C.E_INVALID_REQUEST, "请求体应为JSON对象。")
        bk, stage, level = body.get("business_key"), body.get("stage"), body.get("level")
        reason = body.get("reason") or ""
        if stage not in C.RATING_STAGES:
            raise PlatformError(422, C.E_INVALID_REQUEST, "评价环节应为 acceptance（受理）或 completion（办结）。")
        if level not in RATINGS:
            raise PlatformError(422, C.E_INVALID_REQUEST, "评价等级应为：" + "、".join(RATINGS) + "。")
        if level in RATINGS[3:] and not str(reason).strip():
            raise PlatformError(422, C.E_INVALID_REQUEST, "差评须填写原因。")
        with self.sessions.begin() as s:
            prior = s.execute(select(RatingRow).where(RatingRow.idempotency_key == idempotency_key)).scalar_one_or_none()
            if prior is not None:
                if (prior.business_key, prior.stage, prior.level) != (bk, stage, level):
                    raise PlatformError(422, C.E_KEY_REUSED, "该幂等键已用于另一条评价。")
                return Received(200, {"rating_id": prior.id, "replayed": True}, True)
            if s.execute(select(PlatformCase.id).where(PlatformCase.business_key == bk)).first() is None:
                raise PlatformError(404, C.E_NOT_FOUND, "平台没有该办件，评价暂不能提交。")
            row = RatingRow(idempotency_key=idempotency_key, business_key=bk, stage=stage, level=level,
                            reason=str(reason)[:500], rated_at=str(body.get("rated_at") or ""),
                            received_at=self.clock.now())
            s.add(row)
            s.flush()
            return Received(201, {"rating_id": row.id, "replayed": False}, False)

    def ratings(self) -> list[dict]:
        with self.sessions() as s:
            return [{"business_key": r.business_key, "stage": r.stage, "level": r.level, "reason": r.reason}
                    for r in s.execute(select(RatingRow).order_by(RatingRow.id)).scalars()]

    def record_import(self, manifest_sha256: str, label: str, summary: dict) -> None:
        with self.sessions.begin() as s:
            s.add(BundleImport(manifest_sha256=manifest_sha256, credential_label=label, imported_at=self.clock.now(),
                               summary=summary))


def _int_or_none(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _str_or_none(v: Any) -> str | None:
    return v if isinstance(v, str) and len(v) <= 64 else None


def _invalid(msg: str) -> PlatformError:
    return PlatformError(422, C.E_INVALID_CASE, msg)


def _check_submission(body: Any) -> tuple[str, dict, str]:
    """The checks a case must pass to be received; returns (business key, case, content digest)."""
    if not isinstance(body, dict):
        raise PlatformError(400, C.E_INVALID_REQUEST, "请求体应为JSON对象。")
    bk, case = body.get("business_key"), body.get("case")
    if not isinstance(bk, str) or not C.BUSINESS_KEY_RE.match(bk):
        raise _invalid("业务键格式不正确（应为“办件编号/v版本号”）。")
    if not isinstance(case, dict):
        raise _invalid("缺少办件数据（case）。")
    if case.get("schema") != C.CASE_SCHEMA:
        raise _invalid(f"办件数据格式版本不受支持：{case.get('schema')!r}（应为 {C.CASE_SCHEMA}）。")
    if C.business_key(str(case.get("case_no")), case.get("version")) != bk:
        raise _invalid("业务键与办件编号、版本号不一致。")
    if not isinstance(case.get("center_code"), str) or not str(case["center_code"]).isdigit() \
            or len(case["center_code"]) != 6 or not bk.startswith(case["center_code"]):
        raise _invalid("服务中心代码与办件编号不一致。")
    if not isinstance(case.get("window_no"), str) or len(case["window_no"]) != 2:
        raise _invalid("窗口号不正确。")
    app = case.get("application")
    if not isinstance(app, dict):
        raise _invalid("缺少申请内容（application）。")
    items = app.get("items")
    if not isinstance(items, list) or not items or any(not isinstance(n, int) or n not in ITEMS for n in items):
        raise _invalid("联办事项不正确：应至少选择一项，且编号在1–11之间。")
    applicant = app.get("applicant") if isinstance(app.get("applicant"), dict) else {}
    if not check_id_number(str(applicant.get("id_number") or "")).ok:
        raise _invalid("申请人公民身份号码校验不通过，请核对后发起更正。")
    if not str(applicant.get("name") or "").strip():
        raise _invalid("缺少申请人姓名。")
    atts = case.get("attachments")
    if not isinstance(atts, list) or any(not isinstance(a, dict) or not C.SHA256_RE.match(str(a.get("sha256", "")))
                                         for a in atts):
        raise _invalid("附件清单格式不正确。")
    if not case.get("finalized_at"):
        raise _invalid("办件尚未定稿（缺少定稿时间）。")
    digest = C.content_digest(case)
    if case.get("content_digest") != digest:
        raise PlatformError(422, C.E_DIGEST_MISMATCH, "办件内容摘要与内容不符（内容在签字定稿后被改动或传输损坏）。")
    return bk, case, digest


def _seal_verifier():
    """(verify_seal, seal_problem) from the security module when it is installed."""
    try:
        from counter_app.security.seal import verify_seal  # type: ignore[attr-defined]
    except ImportError:
        return None
    try:
        from counter_app.security.seal import seal_problem  # type: ignore[attr-defined]
    except ImportError:
        seal_problem = None
    return verify_seal, seal_problem



