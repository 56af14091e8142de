"""Data-key rotation that re-encrypts what is stored, so a leaked copy of the old key store
opens nothing afterwards.

Order (each step durable before the next; a killed rotation is resumed by running it again):
1. record the rotation in ``settings`` (the key ids being retired);
2. add a new data key (new writes use it at once) and re-seal the keys to the recovery key;
3. re-encrypt, in small transactions, every case payload and worklist entry still under a
   retiring key; then every attachment file (temporary file, fsync, atomic rename);
4. check nothing readable is left under a retiring key, remove those keys from the wrap and
   re-wrap the rest under a new master (the old master is not kept), re-seal to the recovery
   key, clear the record, audit.

Until step 4 the old keys stay in the key store, so an interruption never loses data. The blind
index key is not rotated (the indexes would have to be recomputed from every plaintext); a leaked
old copy can therefore still test whether a given ID number is in the store, but not read anything.
A blob that no key opens (damaged) is counted and left as it is.
"""
from __future__ import annotations

import datetime as _dt
import struct
from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy import select, text

from counter_app.security.keystore import KeyStoreError
from counter_app.security.vault import MAGIC, DecryptionError, Vault

SETTING_KEY = "key_rotation"
BATCH = 50
PROGRESS_MARK = "进度："  # the prefix of the progress lines `keys rotate` writes to standard error


@dataclass
class RotationReport:
    new_key_id: int
    retired: list[int]
    rows: int = 0
    files: int = 0
    damaged: list[str] = field(default_factory=list)
    resumed: bool = False

    def to_dict(self) -> dict:
        return {"new_key_id": self.new_key_id, "retired": self.retired, "rows": self.rows, "files": self.files,
                "damaged": self.damaged, "resumed": self.resumed}


def key_id_of(blob: bytes | None) -> int | None:
    if not blob or blob[:3] != MAGIC or len(blob) < 8:
        return None
    return struct.unpack(">I", blob[4:8])[0]


def _state(window) -> dict | None:  # noqa: ANN001
    from counter_app.store.models import Setting

    with window.sessions() as s:
        row = s.get(Setting, SETTING_KEY)
        return dict(row.value) if row is not None and isinstance(row.value, dict) else None


def _save_state(window, value: dict | None) -> None:  # noqa: ANN001
    from counter_app.store.models import Setting

    with window.sessions.begin() as s:
        row = s.get(Setting, SETTING_KEY)
        if value is None:
            if row is not None:
                s.delete(row)
        elif row is None:
            s.add(Setting(key=SETTING_KEY, value=value))
        else:
            row.value = value


def in_progress(window) -> bool:  # noqa: ANN001
    return _state(window) is not None


def _reencrypt_rows(window, model, id_attr: str, ad_of: Callable[[str], bytes], retiring: set[int],
                    report: RotationReport, say: Callable[[str], None]) -> None:  # noqa: ANN001
    last = ""
    while True:
        with window.sessions.begin() as s:
            key_col = getattr(model, id_attr)
            rows = list(s.execute(select(model).where(key_col > last).order_by(key_col).limit(BATCH)).scalars())
            if not rows:
                return
            # The immutability trigger forbids any change of a finalized payload. Re-encryption
            # keeps the plaintext, so the trigger is lifted for this one transaction only and
            # restored from its own stored SQL before commit (DDL is transactional in SQLite).
            triggers = s.execute(text("SELECT name, sql FROM sqlite_master WHERE type='trigger' AND tbl_name=:t"),
                                 {"t": model.__tablename__}).all()
            for name, _sql in triggers:
                s.execute(text(f'DROP TRIGGER "{name}"'))
            for row in rows:
                rid = getattr(row, id_attr)
                if key_id_of(row.payload_enc) in retiring:
                    try:
                        plain = window.vault.decrypt(row.payload_enc, ad_of(rid))
                    except DecryptionError:
                        report.damaged.append(f"{model.__tablename__}:{rid}")
                        continue
                    row.payload_enc = window.vault.encrypt(plain, ad_of(rid))
                    report.rows += 1
            s.flush()
            for _name, sql in triggers:
                s.execute(text(sql))
            last = getattr(rows[-1], id_attr)
        say(f"已重新加密数据 {report.rows} 条")


def _reencrypt_files(window, retiring: set[int], report: RotationReport,  # noqa: ANN001
                     say: Callable[[str], None]) -> None:
    root = window.files.root
    for path in sorted(p for p in root.rglob("*") if p.is_file() and ".tmp" not in p.name):
        with open(path, "rb") as fh:
            head = fh.read(8)
        if key_id_of(head) not in retiring:
            continue
        ad = Vault.associated_data("attachments", "file", path.name)
        try:
            plain = window.vault.decrypt(path.read_bytes(), ad)
        except DecryptionError:
            report.damaged.append(f"attachment:{path.name[:12]}")
            continue
        window.files.replace_blob(path, window.vault.encrypt(plain, ad))
        report.files += 1
        say(f"已重新加密附件文件 {report.files} 个")


def _remaining(window, retiring: set[int]) -> int:  # noqa: ANN001
    from counter_app.store.models import CaseRow, WorklistEntry

    left = 0
    with window.sessions() as s:
        for blob in s.execute(select(CaseRow.payload_enc)).scalars():
            left += key_id_of(blob) in retiring
        for blob in s.execute(select(WorklistEntry.payload_enc)).scalars():
            left += key_id_of(blob) in retiring
    return left


def rotate_data_keys(window, *, operator: str,  # noqa: ANN001 - services.Window
                     progress: Callable[[str], None] | None = None) -> RotationReport:
    """Run (or resume) a full data-key rotation; see the module docstring for the order.
    ``progress`` hears each durable step (in Chinese, no personal data), e.g. for IT's terminal."""
    say = progress or (lambda _message: None)
    from counter_app import audit
    from counter_app.security import recovery
    from counter_app.store.models import CaseRow, WorklistEntry

    state = _state(window)
    resumed = state is not None
    if state is None:
        state = {"retiring": window.vault.key_ids,
                 "started_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
        _save_state(window, state)
    say("已记录本次密钥轮换" if not resumed else "继续上次中断的密钥轮换")
    retiring = set(int(k) for k in state["retiring"])
    if max(window.vault.key_ids) in retiring:
        window.vault.rotate_data_key()
    recovery.refresh(window)
    new_id = max(window.vault.key_ids)
    say(f"新数据密钥（编号 {new_id}）已启用")
    report = RotationReport(new_id, sorted(retiring), resumed=resumed)
    _reencrypt_rows(window, CaseRow, "id", lambda rid: Vault.associated_data("cases", "payload_enc", rid),
                    retiring, report, say)
    _reencrypt_rows(window, WorklistEntry, "platform_id",
                    lambda pid: Vault.associated_data("worklist", "payload_enc", pid), retiring, report, say)
    _reencrypt_files(window, retiring, report, say)
    damaged_rows = len([d for d in report.damaged if not d.startswith("attachment:")])
    if _remaining(window, retiring) > damaged_rows:
        # Only a write racing the rotation with an old key could do this; keep the old keys.
        raise KeyStoreError("密钥轮换未完成：仍有数据使用旧密钥。旧密钥已保留，数据未受影响；请再次执行 counter-app keys rotate --data-key。")
    say("数据已全部重新加密，正在销毁旧密钥")
    window.vault.destroy_data_keys(sorted(retiring))
    recovery.refresh(window)
    with window.sessions.begin() as s:
        audit.append(s, operator, "key_rotate", "data-key",
                     {"new_key_id": new_id, "retired": sorted(retiring), "rows": report.rows,
                      "files": report.files, "damaged": len(report.damaged), "resumed": resumed,
                      "master": window.vault.master_fingerprint()})
    _save_state(window, None)
    return report
