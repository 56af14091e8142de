"""The tamper-evident audit trail.

Each entry stores the previous entry's hash and its own hash, the SHA-256 of that previous hash
and its canonical content, so editing, deleting or reordering any entry breaks the link at
that entry. Entries carry no personal data: subjects are case numbers or user names, details
are masked or categorical. The newest hash (:func:`head`) travels with each sync, so the
platform holds an anchor that also exposes a truncated tail (pass it to :func:`verify`).

Appending happens inside the caller's write transaction (BEGIN IMMEDIATE), which serialises
writers, so sequence numbers have no gaps.

Retention (等保 2.0: audit records kept at least six months): :func:`archive_older_than`
moves a prefix of entries older than the cut-off into a JSON-lines file and appends a
*checkpoint* entry (keyed MAC, see ``mac``) naming the last archived hash, so the chain that
stays in the database still verifies from that checkpoint. It refuses any cut-off younger than
six months.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from counter_app.store.models import AuditEntry
from counter_app.errors import UserError

GENESIS = "0" * 64
HASH_ALGORITHM = "sha256"
RETENTION_MONTHS = 6

ACTIONS = frozenset({
    "login", "login_failed", "logout", "lockout", "reveal", "print", "export", "finalize", "correction",
    "correction_approved", "correction_rejected", "sync_ack", "settings", "case_create", "case_import", "transition", "purge",
    "key_rotate", "rating", "quarantine", "diagnostics",
    # added with operators, idle lock and retention
    "operator_add", "operator_change", "unlock", "idle_lock", "audit_archive", "archive_verify",
    # added with the recovery key
    "recovery_key_issue", "key_recover", "backup", "restore",
    # the scheme's points (服务对象 override, letters, delivery)
    "eligibility_override", "handover",
    # the platform acknowledges other cases or another audit head than the store holds (and later agrees)
    "sync_mismatch", "sync_mismatch_cleared",
    # a schema upgrade by an authenticated IT administrator
    "upgrade",
    # after acceptance: the stamped letter scanned back, the platform asked to invite a rating
    "followup",
})

# A keyed MAC over a checkpoint's text; the window passes one built from its vault so that
# someone who can only edit the database cannot write a checkpoint that hides deleted entries.
CheckpointMac = Callable[[str], str]


class AuditError(UserError):
    """The message is Chinese and says what to do (see ``counter_app.errors``)."""


def _canonical(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def entry_hash(prev_hash: str, seq: int, at: str, operator: str, action: str, subject: str, detail: dict) -> str:
    canonical = _canonical([seq, at, operator, action, subject, detail])
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def _utc(at: _dt.datetime) -> _dt.datetime:
    # The store keeps UTC; hashing the same representation it gives back keeps verify stable
    # whatever zone the caller used.
    if at.tzinfo is None:
        raise ValueError("naive datetime given to the audit trail; use an aware datetime")
    return at.astimezone(_dt.timezone.utc)


def append(session: Session, operator: str, action: str, subject: str = "", detail: dict | None = None,
           at: _dt.datetime | None = None) -> AuditEntry:
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    # Round-trip through JSON so the hash covers exactly what the JSON column gives back.
    detail = json.loads(_canonical(detail or {}))
    at = _utc(at or _dt.datetime.now(_dt.timezone.utc))
    last = session.execute(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).scalar_one_or_none()
    seq = (last.seq + 1) if last else 1
    prev = last.hash if last else GENESIS
    h = entry_hash(prev, seq, at.isoformat(), operator, action, subject, detail)
    entry = AuditEntry(seq=seq, at=at, operator=operator, action=action, subject=subject, detail=detail,
                       prev_hash=prev, hash=h)
    session.add(entry)
    session.flush()
    # Read after commit by security.audit_anchor, which keeps the head outside the database.
    session.info["audit_head"] = (seq, h)
    return entry


@dataclass
class ChainReport:
    ok: bool
    entries: int
    head: str
    first_broken_seq: int | None = None
    message: str = ""
    head_seq: int = 0
    first_seq: int = 1

    def to_dict(self) -> dict:
        return asdict(self)


def checkpoint_text(through_seq: int, through_hash: str, archive_sha256: str) -> str:
    return f"audit-checkpoint\x1f{through_seq}\x1f{through_hash}\x1f{archive_sha256}"


def _starting_point(session: Session, first: AuditEntry,
                    mac: CheckpointMac | None) -> tuple[str | None, int, str]:
    """The hash the first remaining entry must link to, vouched for by a checkpoint;
    or (None, first missing seq, why)."""
    if first.seq == 1:
        return GENESIS, 0, ""
    cps = session.execute(select(AuditEntry).where(AuditEntry.action == "audit_archive")
                          .order_by(AuditEntry.seq.desc())).scalars().all()
    for cp in cps:
        d = cp.detail or {}
        if d.get("through_seq") != first.seq - 1:
            continue
        if d.get("through_hash") != first.prev_hash:
            return None, first.seq, f"第{first.seq}条之前的审计记录已不在库中，且与归档检查点（第{cp.seq}条）不符。"
        if mac is not None:
            expected = mac(checkpoint_text(d["through_seq"], d["through_hash"], str(d.get("archive_sha256", ""))))
            if not hmac.compare_digest(expected, str(d.get("mac", ""))):
                return None, cp.seq, f"第{cp.seq}条归档检查点的校验码不符（检查点被伪造或改动）。"
        return first.prev_hash, 0, ""
    # The first missing entry: right after the newest earlier checkpoint, else the very first.
    covered = [cp.detail.get("through_seq") for cp in cps if isinstance((cp.detail or {}).get("through_seq"), int)
               and cp.detail["through_seq"] < first.seq - 1]
    missing = max(covered, default=0) + 1
    span = f"第{missing}条" if missing == first.seq - 1 else f"第{missing}至{first.seq - 1}条"
    return None, missing, f"{span}审计记录缺失，且没有对应的归档检查点。"


def verify(session: Session, *, mac: CheckpointMac | None = None,
           anchor: tuple[int, str] | None = None) -> ChainReport:
    """Walk the chain and report the first broken link.

    ``mac`` checks archive checkpoints (without it a checkpoint is trusted by its place in the
    chain alone). ``anchor`` = (seq, hash) last sent to the platform: the entry must still be
    there with that hash, which exposes deletion of the newest entries.
    """
    first = session.execute(select(AuditEntry).order_by(AuditEntry.seq).limit(1)).scalar_one_or_none()
    count = 0
    if first is None:
        if anchor is not None and anchor[0] > 0:
            return ChainReport(False, 0, GENESIS, 1, "审计记录全部缺失（平台记录的审计链头不在本机）。")
        return ChainReport(True, 0, GENESIS, None, "审计链为空。", 0)
    prev, missing, why = _starting_point(session, first, mac)
    if prev is None:
        return ChainReport(False, 0, GENESIS, missing, why, 0, first.seq)
    expected_seq = first.seq
    anchor_seen = anchor is None or anchor[0] < first.seq  # an archived anchor cannot be checked here
    # Plain rows, not ORM objects: a year of entries verifies without filling the identity map.
    columns = (AuditEntry.seq, AuditEntry.at, AuditEntry.operator, AuditEntry.action, AuditEntry.subject,
               AuditEntry.detail, AuditEntry.prev_hash, AuditEntry.hash)
    for e in session.execute(select(*columns).order_by(AuditEntry.seq)):
        count += 1
        if e.seq != expected_seq:
            return ChainReport(False, count, prev, expected_seq,
                               f"第{expected_seq}条审计记录缺失或顺序被改动。", expected_seq - 1, first.seq)
        if e.prev_hash != prev:
            return ChainReport(False, count, prev, e.seq,
                               f"第{e.seq}条审计记录与前一条的链接不符（前面的记录被删除、改动或重排）。", e.seq - 1, first.seq)
        if entry_hash(prev, e.seq, _utc(e.at).isoformat(), e.operator, e.action, e.subject, e.detail) != e.hash:
            return ChainReport(False, count, prev, e.seq, f"第{e.seq}条审计记录的内容被改动。", e.seq - 1, first.seq)
        if anchor is not None and e.seq == anchor[0]:
            if e.hash != anchor[1]:
                return ChainReport(False, count, prev, e.seq,
                                   f"第{e.seq}条审计记录与已上报平台的链头不符。", e.seq - 1, first.seq)
            anchor_seen = True
        prev = e.hash
        expected_seq += 1
    if not anchor_seen:
        return ChainReport(False, count, prev, expected_seq,
                           f"已上报平台的第{anchor[0]}条审计记录在本机缺失（末尾的记录被删除）。", expected_seq - 1, first.seq)
    return ChainReport(True, count, prev, None, "审计链完整。", expected_seq - 1, first.seq)


def head(session: Session) -> tuple[int, str]:
    last = session.execute(select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)).first()
    return (last[0], last[1]) if last else (0, GENESIS)


def count(session: Session) -> int:
    return session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()


# ---- retention --------------------------------------------------------------------------

def months_before(now: _dt.datetime, months: int) -> _dt.datetime:
    """The same wall-clock moment ``months`` calendar months earlier (day clamped to month end)."""
    y, m = divmod(now.month - 1 - months, 12)
    year, month = now.year + y, m + 1
    import calendar

    day = min(now.day, calendar.monthrange(year, month)[1])
    return now.replace(year=year, month=month, day=day)


def _entry_dict(e: AuditEntry) -> dict:
    return {"seq": e.seq, "at": _utc(e.at).isoformat(), "operator": e.operator, "action": e.action,
            "subject": e.subject, "detail": e.detail, "prev_hash": e.prev_hash, "hash": e.hash}


def archive_older_than(session: Session, cutoff: _dt.datetime, archive_dir: Path, *, mac: CheckpointMac,
                       now: _dt.datetime | None = None, operator: str = "system") -> dict | None:
    """Move the entries older than ``cutoff`` (a contiguous prefix of the chain) to a file and
    leave a checkpoint. Returns the checkpoint detail, or None when nothing is old enough.

    Never touches an entry younger than six months: a younger cut-off is refused outright,
    and the prefix stops at the first entry at or after the cut-off even if later ones are
    older (a clock set back).
    """
    now = _utc(now or _dt.datetime.now(_dt.timezone.utc))
    cutoff = _utc(cutoff)
    if cutoff > months_before(now, RETENTION_MONTHS):
        raise AuditError(f"审计记录至少保留{RETENTION_MONTHS}个月，不能归档{cutoff.date()}之后的记录。")
    report = verify(session, mac=mac)
    if not report.ok:
        raise AuditError("审计链已损坏，不能归档：" + report.message)
    archived: list[AuditEntry] = []
    for e in session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars():
        if _utc(e.at) >= cutoff:
            break
        archived.append(e)
    if not archived:
        return None
    last = archived[-1]
    if last.seq == report.head_seq:
        archived.pop()  # the newest entry stays, so the chain in the database never becomes empty
        if not archived:
            return None
        last = archived[-1]
    archive_dir.mkdir(parents=True, exist_ok=True)
    lines = "".join(_canonical(_entry_dict(e)) + "\n" for e in archived).encode("utf-8")
    sha = hashlib.sha256(lines).hexdigest()
    path = archive_dir / f"audit-{archived[0].seq:09d}-{last.seq:09d}.jsonl"
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(lines)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    detail = {"through_seq": last.seq, "through_hash": last.hash, "from_seq": archived[0].seq,
              "archive_file": path.name, "archive_sha256": sha, "entries": len(archived),
              "cutoff": cutoff.isoformat()}
    detail["mac"] = mac(checkpoint_text(last.seq, last.hash, sha))
    # The checkpoint is appended before the delete, in the same transaction: either both happen or neither.
    append(session, operator, "audit_archive", f"#{archived[0].seq}-{last.seq}", detail, at=now)
    session.execute(delete(AuditEntry).where(AuditEntry.seq <= last.seq))
    session.flush()
    return detail


def verify_archive_file(path: Path, checkpoint: dict) -> tuple[bool, str]:
    """Check an archive file against its checkpoint: file hash, internal links, last hash."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return False, f"无法读取归档文件：{exc}"
    if hashlib.sha256(data).hexdigest() != checkpoint.get("archive_sha256"):
        return False, "归档文件的摘要与检查点不符（文件被改动）。"
    prev = None
    for line in data.decode("utf-8").splitlines():
        e = json.loads(line)
        if prev is not None and e["prev_hash"] != prev:
            return False, f"归档文件中第{e['seq']}条的链接不符。"
        if entry_hash(e["prev_hash"], e["seq"], e["at"], e["operator"], e["action"], e["subject"], e["detail"]) != e["hash"]:
            return False, f"归档文件中第{e['seq']}条的内容被改动。"
        prev = e["hash"]
    if prev != checkpoint.get("through_hash"):
        return False, "归档文件的最后一条与检查点不符。"
    return True, "归档文件完整。"
