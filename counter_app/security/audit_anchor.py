"""The audit head kept outside the database, so a store that lost its latest entries is caught.

A flipped bit in the WAL can make SQLite drop the frames not yet checkpointed: the database is
then valid, ``integrity_check`` says ok and the audit chain verifies, only shorter — signed cases
and their audit entries silently gone. After every commit that appended to the audit trail, the
new head (sequence number and hash) is written to ``audit-head.json`` beside the database, with a
keyed MAC (the vault's ``audit_head`` blind-index key) so editing the file by hand is noticed too.
At start :func:`check` compares: a database whose chain is shorter than the file, or whose entry
at that number has another hash, is reported (the store then opens read-only).

The file is replaced atomically but not fsynced per commit (that would double the cost of a
finalize); after a power cut it may hold an older head, which only weakens the check, never
makes it fire falsely.
"""
from __future__ import annotations

import hmac
import json
import os
from pathlib import Path

from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from counter_app.store.models import AuditEntry
from counter_app.store.private import remove_stale_temporaries

FILE_NAME = "audit-head.json"


def _mac(vault, seq: int, h: str) -> str:  # noqa: ANN001 - security.vault.Vault
    return vault.blind_index("audit_head", f"{seq}\x1f{h}")


def write(home: Path, vault, seq: int, h: str) -> None:  # noqa: ANN001
    path = Path(home) / FILE_NAME
    tmp = path.with_name(f"{FILE_NAME}.tmp{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        json.dump({"seq": seq, "hash": h, "mac": _mac(vault, seq, h)}, fh)
    os.replace(tmp, path)


def attach(sessions: sessionmaker[Session], home: Path, vault) -> None:  # noqa: ANN001
    """Write the head file after each commit that appended to the audit trail."""

    @event.listens_for(sessions, "after_commit")
    def _after_commit(session: Session) -> None:
        head = session.info.pop("audit_head", None)
        if head is not None:
            try:
                write(home, vault, *head)
            except OSError:
                pass  # a full disk must not turn a committed case into an error; the next commit retries

    @event.listens_for(sessions, "after_rollback")
    def _after_rollback(session: Session) -> None:
        session.info.pop("audit_head", None)


def check(home: Path, vault, sessions: sessionmaker[Session]) -> str | None:  # noqa: ANN001
    """None when the database's chain reaches the recorded head; else a Chinese message for IT."""
    path = Path(home) / FILE_NAME
    remove_stale_temporaries(Path(home), FILE_NAME)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="ascii"))
        seq, h, mac = int(data["seq"]), str(data["hash"]), str(data["mac"])
    except (OSError, ValueError, KeyError, TypeError):
        return "审计链头文件（audit-head.json）已损坏，无法核对数据库是否完整。请技术人员核对后从备份恢复。"
    if not hmac.compare_digest(mac, _mac(vault, seq, h)):
        return "审计链头文件（audit-head.json）的校验码不符（可能被改动），无法核对数据库是否完整。请技术人员核查。"
    with sessions() as s:
        last = s.execute(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()).limit(1)).scalar_one_or_none() or 0
        at = s.get(AuditEntry, seq)
    if last < seq:
        return (f"数据库缺少最近的记录：审计链只到第{last}条，而本机记录的链头是第{seq}条（可能因磁盘故障丢失了最近的办件）。"
                "为防止数据不一致，程序只允许查看和导出。请技术人员恢复最近的数据库备份，并与省平台核对已上报的办件。")
    if at is not None and at.hash != h:
        return (f"数据库中第{seq}条审计记录与本机记录的链头不符（审计记录被改动或替换）。"
                "程序只允许查看和导出，请技术人员核查。")
    return None
