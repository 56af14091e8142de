"""Draining the outbox: every finalized case reaches the platform exactly once.

Why it is exactly once, whatever fails when:
- the case and its outbox entry (with its ``Idempotency-Key``) were committed in one transaction
  by ``CaseService.finalize``, so a case that exists is queued and its key is fixed forever;
- each send carries that key and the business key ``case_no/vN``; the platform answers a resend of
  the same content with its first answer, so a request whose answer was lost (connection cut after
  the body was sent, a timeout, the window killed before it recorded the answer) is simply sent
  again later;
- the entry is marked acknowledged, the case moved to 平台已接收 and the ``sync_ack`` audit entry
  written in one transaction, only after the platform's receipt is in hand.

Order and isolation: entries go oldest first. A network error, a 5xx, 408 or 429 ends the pass
(the platform is unwell; the worker backs off, honouring ``Retry-After``) and puts this entry on
its own exponential backoff with full jitter. A 4xx saying the data is wrong puts that case in the
**quarantine lane** with the platform's message and the pass goes on with the next case: one bad
case never blocks the others. 401/403 stops the pass until the credential is fixed.

Thread contract: :meth:`OutboxDrainer.drain` is called on the sync worker's thread (or the CLI)
and blocks on the network and the database; for the length of the call it runs two helpers of its
own (``<caller>-prepare`` reads and decrypts ahead, ``<caller>-ack`` commits receipts), joined
before it returns. All network I/O and ``on_acked`` callbacks stay on the calling thread. Module
functions that only read (``waiting_entries``, ``quarantined_entries``) are quick.
"""
from __future__ import annotations

import datetime as _dt
import logging
import queue
import threading
import uuid
from dataclasses import dataclass
from typing import Callable, Iterator

from sqlalchemy import bindparam, select, update

from counter_app import audit
from counter_app.store.files import AttachmentCorrupt, AttachmentMissing
from counter_app.lifecycle import CaseState, ItemStatus
from counter_app.police_items import POLICE_ITEMS, held_for_letter
from counter_app.store.models import CaseRow, OutboxEntry
from counter_app.statuses import DrainStop, OutboxStatus
from counter_app.sync import contract as C
from counter_app.sync.backoff import RetryPolicy
from counter_app.sync.client import (
    AttachmentsMissing, CredentialsError, PlatformClient, RejectedError, SyncError, TransientError,
)

log = logging.getLogger(__name__)

WAITING, ACKED, QUARANTINED = OutboxStatus.WAITING, OutboxStatus.ACKED, OutboxStatus.QUARANTINED


def utcnow() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


@dataclass(frozen=True)
class PendingEntry:
    id: int
    case_id: str
    idempotency_key: str
    business_key: str
    attempts: int
    created_at: _dt.datetime


def waiting_entries(window, *, due_before: _dt.datetime | None = None, limit: int | None = None,
                    exclude: set[int] | frozenset[int] = frozenset()) -> list[PendingEntry]:
    """Waiting entries, oldest first (optionally only those due by ``due_before``)."""
    with window.sessions() as s:
        q = select(OutboxEntry).where(OutboxEntry.status == WAITING)
        if due_before is not None:
            q = q.where(OutboxEntry.next_attempt_at <= due_before)
        if exclude:
            q = q.where(OutboxEntry.id.not_in(list(exclude)))
        q = q.order_by(OutboxEntry.created_at, OutboxEntry.id)
        if limit:
            q = q.limit(limit)
        return [PendingEntry(e.id, e.case_id, e.idempotency_key, e.business_key, e.attempts, e.created_at)
                for e in s.execute(q).scalars()]


def next_due_at(window) -> _dt.datetime | None:
    from sqlalchemy import func

    with window.sessions() as s:
        return s.execute(select(func.min(OutboxEntry.next_attempt_at)).where(OutboxEntry.status == WAITING)).scalar()


def build_submission(window, case_id: str, *, audit_head: tuple[int, str] | None = None) -> dict:
    """The body of ``POST /cases`` for one case: business key, the case JSON, the audit head."""
    exported = window.cases.export(case_id)
    case = C.submission_case(exported)
    if audit_head is None:
        with window.sessions() as s:
            audit_head = audit.head(s)
    seq, head = audit_head
    return {"business_key": C.business_key(case["case_no"], case["version"]), "case": case,
            "audit_head": {"seq": seq, "hash": head}}


def retry_all_now(window, *, now: _dt.datetime | None = None) -> int:
    """Make every waiting entry due now (the clerk pressed 立即上报, or the network came back)."""
    now = now or utcnow()
    with window.sessions.begin() as s:
        res = s.execute(update(OutboxEntry).where(OutboxEntry.status == WAITING, OutboxEntry.next_attempt_at > now)
                        .values(next_attempt_at=now))
        return res.rowcount or 0


def requeue(window, case_no_or_key: str, operator: str) -> str:
    """Put a quarantined case back in the queue (after the platform or the data was fixed).
    Accepts a case number (latest version) or a business key. Returns the business key."""
    with window.sessions.begin() as s:
        q = select(OutboxEntry).where(OutboxEntry.status == QUARANTINED)
        if "/v" in case_no_or_key:
            q = q.where(OutboxEntry.business_key == case_no_or_key)
        else:
            q = q.where(OutboxEntry.business_key.like(case_no_or_key + "/v%"))
        entry = s.execute(q.order_by(OutboxEntry.id.desc()).limit(1)).scalar_one_or_none()
        if entry is None:
            raise LookupError(f"隔离区中没有办件 {case_no_or_key}。")
        entry.status, entry.attempts, entry.next_attempt_at = WAITING, 0, utcnow()
        audit.append(s, operator, "quarantine", entry.business_key.split("/v")[0],
                     {"requeued": True, "business_key": entry.business_key})
        return entry.business_key


def quarantined_entries(window) -> list[dict]:
    with window.sessions() as s:
        rows = s.execute(select(OutboxEntry).where(OutboxEntry.status == QUARANTINED).order_by(OutboxEntry.created_at)
                         ).scalars()
        return [{"case_id": e.case_id, "business_key": e.business_key, "message": e.last_error,
                 "attempts": e.attempts, "queued_at": e.created_at} for e in rows]


@dataclass
class DrainReport:
    sent: int = 0          # newly received by the platform
    replayed: int = 0      # the platform already had it (a resend recognised)
    quarantined: int = 0
    deferred: int = 0      # transient failures put on backoff
    uploaded_bytes: int = 0
    stop: DrainStop | None = None  # None: the queue is done
    error: str = ""          # the last error, in Chinese
    retry_after: float | None = None

    @property
    def acked(self) -> int:
        return self.sent + self.replayed


class _Stop(Exception):
    pass


class _AckWriter:
    """Commits platform receipts on its own thread, as many per transaction as have arrived."""

    def __init__(self, drainer: "OutboxDrainer", name: str):
        self._drainer = drainer
        self._q: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._committed: list[tuple[str, dict]] = []
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def put(self, ack: tuple[PendingEntry, dict, bool]) -> None:
        self._q.put(ack)

    def close(self) -> None:
        self._q.put(None)
        self._thread.join(60)

    def take_committed(self) -> list[tuple[str, dict]]:
        with self._lock:
            out, self._committed = self._committed, []
        return out

    def _run(self) -> None:
        done = False
        while not done:
            group = [self._q.get()]
            while True:
                try:
                    group.append(self._q.get_nowait())
                except queue.Empty:
                    break
            if None in group:
                done = True
                group = [g for g in group if g is not None]
            if not group:
                continue
            try:
                self._drainer._ack_many(group)
            except Exception:  # noqa: BLE001 - unrecorded receipts are harmless: the resend is recognised
                log.exception("记录平台回执失败，将重新上报（平台会识别为重复）")
                continue
            with self._lock:
                self._committed.extend((e.business_key, answer) for e, answer, _ in group)


@dataclass
class _Prepared:
    """One case read and decrypted ahead of sending (or why it could not be)."""

    entry: PendingEntry
    sub: dict | None
    data: dict[str, bytes]
    error: str = ""
    code: str = ""


class OutboxDrainer:
    def __init__(self, window, client: PlatformClient, *, policy: RetryPolicy | None = None,
                 clock: Callable[[], _dt.datetime] | None = None, batch_size: int = 25,
                 on_acked: Callable[[str, dict], None] | None = None, prefetch: bool = True):
        self.window = window
        self.client = client
        self.policy = policy or RetryPolicy()
        self.clock = clock or utcnow
        self.batch_size = batch_size
        self.on_acked = on_acked
        self.prefetch = prefetch

    def drain(self, *, stop: threading.Event | None = None, ignore_schedule: bool = False,
              limit: int | None = None) -> DrainReport:
        """Send due entries oldest first until the queue is done, a pass-ending error, or ``stop``.

        Three threads share the work so that local work and the network overlap (the platform is
        another machine): a *preparer* reads and decrypts the next cases and their attachments in
        batches, the calling thread sends, and an *ack writer* records the platform's receipts,
        committing whatever has accumulated in one transaction (one fsync for several cases). A
        crash between a platform answer and that commit only means a resend, which the platform
        recognises. All network I/O happens on the calling thread, and so do ``on_acked`` calls
        (after the receipts they announce are committed).
        """
        report = DrainReport()
        halt = threading.Event()
        name = threading.current_thread().name
        acks = _AckWriter(self, f"{name}-ack")
        preparer = None
        if self.prefetch:
            handoff: queue.Queue = queue.Queue(maxsize=2)
            preparer = threading.Thread(target=self._prepare, args=(handoff, halt, ignore_schedule, limit),
                                        name=f"{name}-prepare", daemon=True)
            preparer.start()
            source = iter(handoff.get, None)
        else:
            source = self._batches(halt, ignore_schedule, limit)
        try:
            for batch in source:
                if stop is not None and stop.is_set():
                    report.stop = DrainStop.STOPPED
                    return report
                try:
                    self._send_batch(batch, report, stop, acks)
                except _Stop:
                    return report
            return report
        finally:
            halt.set()
            while preparer is not None and preparer.is_alive():  # unblock it if it waits to hand over
                try:
                    if handoff.get(timeout=0.05) is None:
                        break
                except queue.Empty:
                    pass
            if preparer is not None:
                preparer.join(10)
            acks.close()
            self._announce(acks)

    # ---- preparing (on the preparer thread, or inline) -----------------------------------
    def _batches(self, halt: threading.Event, ignore_schedule: bool, limit: int | None) -> Iterator[list["_Prepared"]]:
        seen: set[int] = set()
        while not halt.is_set():
            if limit is not None and len(seen) >= limit:
                return
            batch = waiting_entries(self.window, due_before=None if ignore_schedule else self.clock(),
                                    limit=self.batch_size, exclude=seen)
            if limit is not None:
                batch = batch[:limit - len(seen)]
            if not batch:
                return
            with self.window.sessions() as s:
                head = audit.head(s)
            prepared: list[_Prepared] = []
            for e in batch:
                if halt.is_set():
                    return
                seen.add(e.id)
                prepared.append(self._prepare_one(e, head))
            yield prepared

    def _prepare(self, out: "queue.Queue", halt: threading.Event, ignore_schedule: bool,
                 limit: int | None) -> None:
        try:
            for prepared in self._batches(halt, ignore_schedule, limit):
                while not halt.is_set():
                    try:
                        out.put(prepared, timeout=0.1)
                        break
                    except queue.Full:
                        continue
        except Exception:  # noqa: BLE001 - e.g. the database went away; the sender ends the pass
            log.exception("准备上报数据时出错")
        finally:
            while True:
                try:
                    out.put(None, timeout=0.1)
                    return
                except queue.Full:
                    if halt.is_set():
                        try:
                            out.get_nowait()
                        except queue.Empty:
                            pass

    def _prepare_one(self, e: PendingEntry, head: tuple[int, str]) -> "_Prepared":
        try:
            sub = build_submission(self.window, e.case_id, audit_head=head)
            data = {h: self.window.files.get(h) for h in C.attachment_hashes(sub["case"])}
        except (AttachmentMissing, AttachmentCorrupt) as exc:
            return _Prepared(e, None, {}, f"{exc}。请重新扫描该材料并发起更正。", "local_attachment")
        except Exception as exc:  # noqa: BLE001 - a record that cannot be read is quarantined, not fatal
            log.exception("办件 %s 无法读取", e.business_key)
            return _Prepared(e, None, {}, f"本机办件数据无法读取（{type(exc).__name__}），请联系技术人员。", "local_error")
        return _Prepared(e, sub, data)

    # ---- one batch (calling thread) ---------------------------------------------------------
    def _announce(self, acks: "_AckWriter") -> None:
        if self.on_acked is not None:
            for bk, answer in acks.take_committed():
                self.on_acked(bk, answer)

    def _send_batch(self, batch: list["_Prepared"], report: DrainReport, stop: threading.Event | None,
                    acks: "_AckWriter") -> None:
        ready = []
        for p in batch:
            if p.sub is None:
                self._quarantine(p.entry, p.error, p.code, report)
            else:
                ready.append(p)
        if not ready:
            return
        hashes = sorted({h for p in ready for h in p.data})
        try:
            states = self.client.attachment_states(hashes)
        except SyncError as exc:
            self._fail(ready[0].entry, exc, report)
            raise _Stop from None
        received: list[tuple[tuple[PendingEntry, dict, bool], "_Prepared"]] = []
        try:
            for p in ready:
                if stop is not None and stop.is_set():
                    report.stop = DrainStop.STOPPED
                    raise _Stop
                ack = self._send_one(p, states, report)
                if ack is not None:
                    received.append((ack, p))
        finally:
            self._confirm_and_ack(received, report, acks)

    def _confirm_and_ack(self, received: list, report: DrainReport, acks: "_AckWriter") -> None:
        """A receipt counts only when the platform, asked once more after it, holds every
        attachment of the case completely (one query per batch). Otherwise the case stays waiting."""
        if not received:
            return
        hashes = sorted({h for _, p in received for h in p.data})
        try:
            held = self.client.attachment_states(hashes)
        except SyncError as exc:
            self._fail(received[0][1].entry, exc, report)
            raise _Stop from None
        for ack, p in received:
            missing = [h for h in p.data if (held.get(h) or {}).get("state") != "complete"]
            if missing:
                self._fail(p.entry, TransientError(
                    f"省平台回执已到，但平台未确认收齐附件（{len(missing)}个），未当作已接收，稍后重试。"), report)
                continue
            acks.put(ack)
            if ack[2]:
                report.replayed += 1
            else:
                report.sent += 1
        self._announce(acks)

    def _send_one(self, p: "_Prepared", states: dict[str, dict], report: DrainReport
                  ) -> tuple[PendingEntry, dict, bool] | None:
        e, sub = p.entry, p.sub
        try:
            try:
                self._upload_missing(p, states, report)
                answer, replayed = self.client.submit_case(e.idempotency_key, sub)
            except AttachmentsMissing as exc:
                # The platform lost (or never completed) some attachment since we asked: upload, resend once.
                states.update(self.client.attachment_states(exc.missing))
                for h in exc.missing:
                    states.setdefault(h, {"state": "absent", "received": 0})
                self._upload_missing(p, states, report)
                answer, replayed = self.client.submit_case(e.idempotency_key, sub)
        except RejectedError as exc:
            self._quarantine(e, exc.message, exc.code or str(exc.status), report)
            return None
        except SyncError as exc:  # transient, credentials, or attachments still missing
            self._fail(e, exc, report)
            raise _Stop from None
        return e, answer, replayed

    def _upload_missing(self, p: "_Prepared", states: dict[str, dict], report: DrainReport) -> None:
        for h, data in p.data.items():
            st = states.get(h) or {"state": "absent", "received": 0}
            if st.get("state") == "complete":
                continue
            report.uploaded_bytes += self.client.upload_attachment(h, data, offset=int(st.get("received") or 0))
            states[h] = {"sha256": h, "state": "complete", "received": len(data)}

    # ---- outcomes (each one transaction) ----------------------------------------------------
    def _ack_many(self, acks: list[tuple[PendingEntry, dict, bool]]) -> None:
        """Record platform receipts: outbox acked, case 平台已接收, ``sync_ack`` audit — one transaction."""
        if not acks:
            return
        with self.window.sessions.begin() as s:
            ot = OutboxEntry.__table__
            ids = [e.id for e, _, _ in acks]
            current = {r.id: r for r in s.execute(select(ot.c.id, ot.c.status, ot.c.attempts, ot.c.case_id)
                                                  .where(ot.c.id.in_(ids)))}
            todo = [(e, answer, replayed) for e, answer, replayed in acks
                    if e.id in current and current[e.id].status != ACKED]
            if not todo:
                return
            now = self.clock()
            conn = s.connection()
            conn.execute(ot.update().where(ot.c.id == bindparam("oid")), [
                {"oid": e.id, "status": ACKED, "acked_at": now, "receipt": answer.get("receipt") or {},
                 "attempts": current[e.id].attempts + 1, "last_error": ""} for e, answer, _ in todo])
            cases = mark_acknowledged_bulk(self.window, s, [current[e.id].case_id for e, _, _ in todo])
            for e, answer, replayed in todo:
                case_no, version = cases[current[e.id].case_id]
                audit.append(s, "system", "sync_ack", case_no,
                             {"version": version, "platform_case_id": (answer.get("receipt") or {}).get("platform_case_id"),
                              "replayed": replayed})

    def _quarantine(self, e: PendingEntry, message: str, code: str, report: DrainReport) -> None:
        with self.window.sessions.begin() as s:
            entry = s.get(OutboxEntry, e.id)
            if entry is None or entry.status != WAITING:
                return
            entry.status = QUARANTINED
            entry.attempts += 1
            entry.last_error = message
            audit.append(s, "system", "quarantine", e.business_key.split("/v")[0],
                         {"business_key": e.business_key, "code": code})
        report.quarantined += 1
        report.error = message
        log.warning("办件 %s 进入隔离区（%s）", e.business_key, code)

    def _fail(self, e: PendingEntry, exc: SyncError, report: DrainReport) -> None:
        report.error = exc.message
        if isinstance(exc, CredentialsError):
            report.stop = DrainStop.CREDENTIALS
            return
        retry_after = getattr(exc, "retry_after", None)
        report.retry_after = retry_after
        report.stop = DrainStop.OFFLINE if getattr(exc, "offline", False) else DrainStop.BUSY
        report.deferred += 1
        with self.window.sessions.begin() as s:
            entry = s.get(OutboxEntry, e.id)
            if entry is None or entry.status != WAITING:
                return
            entry.attempts += 1
            entry.next_attempt_at = self.clock() + _dt.timedelta(
                seconds=self.policy.delay(entry.attempts, retry_after))
            entry.last_error = exc.message


def mark_acknowledged_bulk(window, s, case_ids: list[str]) -> dict[str, tuple[str, int]]:
    """``CaseService.mark_acknowledged`` for many cases at once, as a few set-based statements.

    The same effect, row for row (tests/sync checks it against the core's own function): each case
    still 待上报 (QUEUED) becomes 平台已接收 with its transition recorded by ``system``, and each of
    its items still 待推送 becomes 已推送 with an event from the platform. Per case through the ORM
    this was most of the client's CPU time when draining a backlog. Returns {case id: (case no, version)}.
    """
    from counter_app.lifecycle import CASE_TRANSITIONS
    from counter_app.masking import mask_text
    from counter_app.store.models import CaseTransition, ItemProgress, ItemStatusEvent

    assert CaseState.ACKNOWLEDGED in CASE_TRANSITIONS[CaseState.QUEUED]
    ct, pt = CaseRow.__table__, ItemProgress.__table__
    conn = s.connection()
    rows = conn.execute(select(ct.c.id, ct.c.state, ct.c.case_no, ct.c.version).where(ct.c.id.in_(case_ids))).all()
    info = {r.id: (r.case_no, r.version) for r in rows}
    queued = [r.id for r in rows if r.state == CaseState.QUEUED.value]
    if not queued:
        return info
    now = window.cases.clock()
    conn.execute(ct.update().where(ct.c.id.in_(queued)).values(state=CaseState.ACKNOWLEDGED.value, updated_at=now))
    conn.execute(CaseTransition.__table__.insert(), [
        {"case_id": cid, "from_state": CaseState.QUEUED.value, "to_state": CaseState.ACKNOWLEDGED.value, "at": now,
         "operator": "system", "reason": mask_text("省平台已接收")} for cid in queued])
    held = held_for_letter(conn, queued)  # their police items stay 待推送 until the stamped letter
    pending = [r for r in conn.execute(select(pt.c.case_id, pt.c.item).where(
        pt.c.case_id.in_(queued), pt.c.status == ItemStatus.PENDING_PUSH.value).order_by(pt.c.case_id, pt.c.item)).all()
        if not (r.case_id in held and r.item in POLICE_ITEMS)]
    if pending:
        conn.execute(ItemStatusEvent.__table__.insert(), [
            {"case_id": r.case_id, "item": r.item, "from_status": ItemStatus.PENDING_PUSH.value,
             "to_status": ItemStatus.PUSHED.value, "at": now, "source": "platform", "operator": "", "note": ""}
            for r in pending])
        still = pt.c.status == ItemStatus.PENDING_PUSH.value
        free = [cid for cid in queued if cid not in held]
        if free:
            conn.execute(pt.update().where(pt.c.case_id.in_(free), still).values(status=ItemStatus.PUSHED.value))
        if held:
            conn.execute(pt.update().where(pt.c.case_id.in_(held), pt.c.item.not_in(POLICE_ITEMS), still)
                         .values(status=ItemStatus.PUSHED.value))
    return info


def rating_key(business_key: str, rating_id: int, stage: str) -> str:
    """A stable idempotency key for a rating (the ratings table has no key column of its own)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"counter-app:rating:{business_key}:{rating_id}:{stage}"))


def push_ratings(window, client: PlatformClient) -> int:
    """Send 好差评 ratings of acknowledged cases not yet sent. Returns how many were sent.
    Stops at the first transient error (the next round retries)."""
    from counter_app.store.models import Rating

    with window.sessions() as s:
        rows = s.execute(select(Rating, OutboxEntry.business_key).join(OutboxEntry, OutboxEntry.case_id == Rating.case_id)
                         .where(Rating.synced.is_(False), OutboxEntry.status == ACKED).order_by(Rating.id)).all()
        todo = [(r.id, bk, r.stage, r.level, r.reason, r.at) for r, bk in rows]
    sent = 0
    for rid, bk, stage, level, reason, at in todo:
        try:
            client.submit_rating(rating_key(bk, rid, stage), business_key=bk, stage=stage, level=level,
                                 reason=reason or "", rated_at=at.isoformat() if at else "")
        except RejectedError as exc:
            log.warning("评价 %s 被平台拒收：%s", rid, exc.code)
            continue
        except SyncError:
            break
        with window.sessions.begin() as s:
            r = s.get(Rating, rid)
            if r is not None:
                r.synced = True
        sent += 1
    return sent
