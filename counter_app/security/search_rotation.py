"""Rotating the search key: every blind index (ID number, phone) recomputed under a new key, the
old search key destroyed, so a leaked copy of the old key store can no longer test whether a
given ID number is in the store.

Order (a killed rotation is resumed by running it again; at every point the stored indexes and
the generation recorded beside them in the database agree, and the key store holds that key):
1. a new search key is added to the key store (wrapped under the master), then the rotation is
   recorded in ``settings`` with that generation;
2. the new indexes are computed from the decrypted cases and worklist entries, read in small
   batches (nothing written yet);
3. ONE transaction writes every index and the new generation (``search_generation``): a kill
   before its commit leaves the old indexes under the old key, after it the new ones under the
   new key. A year of cases is a few thousand rows of 64 characters: the write lock is held for
   a fraction of a second;
4. every other search key is destroyed and the keys re-wrapped under a new master, re-sealed to
   the recovery key; audited; the record cleared.

Generation 0 is the original blind-index key: it also keys the integrity MACs (audit head file,
archive checkpoints inside the chain, the backup file key), which cannot be recomputed, so it stays
in the key store for those; from the first rotation on it keys no index. A purged case has no
plaintext left to index: its ID-number index is cleared (it holds no personal data to find).
Run it with the program closed (like ``--data-key``): a running window would keep writing indexes
under the generation it read at start.
"""
from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field

import logging

from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from counter_app.application import application_from_dict
from counter_app.identity import normalise_id_number, normalise_phone
from counter_app.security.keystore import KeyStoreError
from counter_app.security.vault import DecryptionError, Vault

GENERATION_KEY = "search_generation"
STATE_KEY = "search_key_rotation"
BATCH = 200
log = logging.getLogger(__name__)


@dataclass
class SearchRotationReport:
    generation: int
    retired: list[int]
    rows: int = 0
    damaged: list[str] = field(default_factory=list)
    resumed: bool = False

    def to_dict(self) -> dict:
        return {"generation": self.generation, "retired": self.retired, "rows": self.rows,
                "damaged": self.damaged, "resumed": self.resumed}


def _setting(session, key: str):  # noqa: ANN001
    from counter_app.store.models import Setting

    row = session.get(Setting, key)
    return row.value if row is not None else None


def _put(session, key: str, value) -> None:  # noqa: ANN001
    from counter_app.store.models import Setting

    row = session.get(Setting, key)
    if value is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(Setting(key=key, value=value))
    else:
        row.value = value


def stored_generation(sessions) -> int:  # noqa: ANN001
    with sessions() as s:
        value = _setting(s, GENERATION_KEY)
    return int(value) if isinstance(value, int) else 0


def activate(vault: Vault, sessions, *, damaged: bool = False) -> None:  # noqa: ANN001
    """At every open: the vault computes indexes under the generation the database's indexes use.
    A damaged store whose settings cannot be read is opened read-only anyway; its searches may
    then miss (logged), its lists and export keep working."""
    try:
        vault.search_generation = stored_generation(sessions)
    except DatabaseError:
        if not damaged:
            raise
        log.error("数据库损坏，无法读取检索密钥代数：按身份证号查找可能查不到，列表与导出不受影响")


def in_progress(window) -> bool:  # noqa: ANN001
    with window.sessions() as s:
        return isinstance(_setting(s, STATE_KEY), dict)


def _case_tokens(window, gen: int, report: SearchRotationReport) -> dict[str, tuple[str, str | None]]:  # noqa: ANN001
    from counter_app.store.models import CaseRow

    vault, out, last = window.vault, {}, ""
    while True:
        with window.sessions() as s:
            rows = s.execute(select(CaseRow.id, CaseRow.payload_enc, CaseRow.purged_at).where(CaseRow.id > last)
                             .order_by(CaseRow.id).limit(BATCH)).all()
        if not rows:
            return out
        for rid, blob, purged in rows:
            if purged is not None or blob is None:
                out[rid] = ("", None)
                continue
            try:
                app = application_from_dict(json.loads(vault.decrypt(blob, Vault.associated_data("cases", "payload_enc",
                                                                                                  rid))))
            except (DecryptionError, ValueError, KeyError, TypeError):
                report.damaged.append(f"cases:{rid}")
                continue
            phone = app.applicant.phone
            out[rid] = (vault.search_token("id_number", normalise_id_number(app.applicant.id_number), gen),
                        vault.search_token("phone", normalise_phone(phone), gen) if phone else None)
        last = rows[-1][0]


def _worklist_tokens(window, gen: int, report: SearchRotationReport) -> dict[str, str]:  # noqa: ANN001
    from counter_app.store.models import WorklistEntry

    vault, out = window.vault, {}
    with window.sessions() as s:
        rows = s.execute(select(WorklistEntry.platform_id, WorklistEntry.payload_enc)).all()
    for pid, blob in rows:
        try:
            entry = json.loads(vault.decrypt(blob, Vault.associated_data("worklist", "payload_enc", pid)))
        except (DecryptionError, ValueError, TypeError):
            report.damaged.append(f"worklist:{pid}")
            continue
        number = str(((entry.get("application") or {}).get("applicant") or {}).get("id_number") or "")
        try:
            out[pid] = vault.search_token("id_number", normalise_id_number(number), gen) if number else ""
        except Exception:  # noqa: BLE001 - an entry without a usable ID number keeps an empty index, as stored
            out[pid] = ""
    return out


def _switch(window, gen: int, cases: dict, worklist: dict) -> None:  # noqa: ANN001
    """Every index and the generation in one transaction (see the module docstring, step 3)."""
    with window.sessions.begin() as s:
        # The immutability trigger forbids changing a finalized case; the index is not its content.
        # Lifted for this transaction only and restored from its own SQL before commit.
        triggers = s.execute(text("SELECT name, sql FROM sqlite_master WHERE type='trigger' AND tbl_name='cases'")).all()
        for name, _sql in triggers:
            s.execute(text(f'DROP TRIGGER "{name}"'))
        for rid, (id_token, phone_token) in cases.items():
            s.execute(text("UPDATE cases SET id_bidx=:i, phone_bidx=:p WHERE id=:r"),
                      {"i": id_token, "p": phone_token, "r": rid})
        for pid, token in worklist.items():
            s.execute(text("UPDATE worklist SET id_bidx=:i WHERE platform_id=:p"), {"i": token, "p": pid})
        for _name, sql in triggers:
            s.execute(text(sql))
        _put(s, GENERATION_KEY, gen)


def rotate_search_key(window, *, operator: str) -> SearchRotationReport:  # noqa: ANN001 - services.Window
    """Run (or resume) a search-key rotation; see the module docstring for the order."""
    from counter_app import audit
    from counter_app.security import recovery

    with window.sessions() as s:
        state = _setting(s, STATE_KEY)
    resumed = isinstance(state, dict)
    active = stored_generation(window.sessions)
    if not resumed or state.get("to") not in window.vault.search_generations:
        gen = window.vault.add_search_key()  # stored before anything refers to it
        state = {"from": active, "to": gen,
                 "started_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
        with window.sessions.begin() as s:
            _put(s, STATE_KEY, state)
        recovery.refresh(window)
    gen = int(state["to"])
    retired = [g for g in window.vault.search_generations if g != gen]
    report = SearchRotationReport(gen, retired, resumed=resumed)
    if active != gen:
        cases = _case_tokens(window, gen, report)
        worklist = _worklist_tokens(window, gen, report)
        _switch(window, gen, cases, worklist)
        report.rows = len(cases) + len(worklist)
    window.vault.search_generation = gen
    if stored_generation(window.sessions) != gen:
        raise KeyStoreError("检索密钥轮换未完成：旧检索密钥已保留，数据未受影响；请再次执行 counter-app keys rotate --search-key。")
    window.vault.destroy_search_keys(keep=gen)
    recovery.refresh(window)
    with window.sessions.begin() as s:
        audit.append(s, operator, "key_rotate", "search-key",
                     {"generation": gen, "rows": report.rows, "damaged": len(report.damaged), "resumed": resumed,
                      "master": window.vault.master_fingerprint()})
        _put(s, STATE_KEY, None)
    return report
