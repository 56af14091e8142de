"""The clerk's worklist as rows: the one owner of the worklist query.

Online applications not yet taken at the window (oldest fetched first), then today's cases
(newest first), then older cases still open (newest first). Each row carries only masked
values — the masked name and ID number, the state, the time-limit state of its most urgent
item, the items done, the claim of another window — never a full name or ID number.

Read with ``sqlite3`` from a connection of :mod:`counter_app.queries.local_store` (schema
revision checked) and decrypted with the store's vault: the GUI shows these rows before the
full services (SQLAlchemy) are open, and reads them the same way afterwards.

Thread contract: blocking (database, decryption); call from a worker. One connection per thread.
"""
from __future__ import annotations

import datetime as _dt
import json
import logging
import sqlite3
from dataclasses import dataclass, field
from typing import Iterable

from counter_app.clock import CHINA_TZ
from counter_app.lifecycle import ITEM_FINAL, OPEN_STATES, CaseState, ItemStatus
from counter_app.masking import mask_id_number, mask_name
from counter_app.sla_order import worst_sla

log = logging.getLogger(__name__)

ONLINE = "online"  # a row that is an online application not yet taken at the window
CASE = "case"

DAMAGED_TEXT = "数据损坏，请联系技术人员"   # as ``counter_app.cases`` lists a case that does not open
UNREADABLE_ONLINE = "（无法读取）"
ONLINE_CASE_NO = "（网上申请）"
ONLINE_TITLE = "网上已审核，待窗口核验"

EDITABLE = ("draft", "identity_verified", "materials_complete")
# Items at their department's end (办结 or further) count as done on the list.
FINISHED_ITEMS = frozenset({s.value for s in ITEM_FINAL} | {ItemStatus.CARD_MAKING.value, ItemStatus.MAILED.value})
# Cases whose work is over: their items' stored SLA state is whatever it was when the last
# refresh ran (the core refreshes open cases only), so the list does not colour them.
FINISHED_STATES = {"completed": "done", "rejected": None, "withdrawn": None, "superseded": None}
_OPEN = tuple(sorted(s.value for s in OPEN_STATES))

# How SQLAlchemy's SQLite dialect stores a UtcDateTime (naive UTC): compared as text.
_STORED = "%Y-%m-%d %H:%M:%S.%f"


@dataclass
class WorklistRow:
    kind: str                    # ONLINE or CASE
    key: str                     # platform id (ONLINE) or case id (CASE)
    case_no: str
    masked_name: str
    masked_id: str
    items: list[int] = field(default_factory=list)
    state: str = ""              # CaseState value, or "online"
    state_title: str = ""
    sla: str | None = None
    done_items: int = 0
    source: str = "walk_in"
    accepted_on: _dt.date | None = None
    version: int = 1
    claim_note: str = ""         # "正在02号窗口受理": another window holds this online application

    @property
    def editable(self) -> bool:
        return self.kind == ONLINE or self.state in EDITABLE

    @property
    def progress_text(self) -> str:
        if self.kind == ONLINE or not self.items:
            return f"{len(self.items)}项" if self.items else ""
        if self.state in EDITABLE:
            return f"{len(self.items)}项（受理中）"
        return f"{self.done_items}/{len(self.items)}项办结"


def row_sla(state: str, sla: str | None) -> str | None:
    return FINISHED_STATES[state] if state in FINISHED_STATES else sla


def associated_data(table: str, row_id: str) -> bytes:
    # = Vault.associated_data(table, "payload_enc", row_id), without importing the vault here
    return f"{table}\x1fpayload_enc\x1f{row_id}".encode()


def _date(text: str | None) -> _dt.date | None:
    return _dt.date.fromisoformat(text) if text else None


def _stored(moment: _dt.datetime) -> str:
    return moment.astimezone(_dt.timezone.utc).replace(tzinfo=None).strftime(_STORED)


# ---------------------------------------------------------------------- online applications

def _applicant_of(payload: dict) -> tuple[str, str, list[int]]:
    app = payload.get("application", payload) if isinstance(payload, dict) else {}
    applicant = app.get("applicant", {}) if isinstance(app, dict) else {}
    items = app.get("items", []) if isinstance(app, dict) else []
    return (str(applicant.get("name", "") or ""), str(applicant.get("id_number", "") or ""),
            [int(i) for i in items if str(i).isdigit()])


def claim_note(entry: dict, own_window_no: str) -> str:
    """"正在02号窗口受理" for an entry another window holds; "" otherwise."""
    claim = entry.get("claim") or {}
    other = claim.get("window_no")
    return f"正在{other}号窗口受理" if other and other != own_window_no else ""


def live_claim_note(payload: dict, own_window_no: str, now: _dt.datetime) -> str:
    """The claim note while another window's claim (as last fetched) has not expired."""
    claim = payload.get("claim") if isinstance(payload, dict) else None
    try:
        expires = _dt.datetime.fromisoformat(str((claim or {}).get("expires_at")))
        live = expires > now
    except (ValueError, TypeError):  # no claim, or a stamp without a zone
        return ""
    return claim_note(payload, own_window_no) if live else ""


def online_rows(conn: sqlite3.Connection, vault, *, own_window_no: str, now: _dt.datetime,
                id_bidx: str | None = None, name: str | None = None) -> list[WorklistRow]:
    """Online applications not yet taken at the window, oldest fetched first (optionally only
    those of one ID number's blind index, or whose name contains ``name``)."""
    sql = "SELECT platform_id, payload_enc, approved_on FROM worklist WHERE taken_case_id IS NULL"
    args: list = []
    if id_bidx is not None:
        sql += " AND id_bidx = ?"
        args.append(id_bidx)
    rows: list[WorklistRow] = []
    for platform_id, blob, approved_on in conn.execute(sql + " ORDER BY fetched_at, platform_id", args):
        note = ""
        try:
            payload = json.loads(vault.decrypt(blob, associated_data("worklist", platform_id)))
            full_name, id_number, items = _applicant_of(payload)
            note = live_claim_note(payload, own_window_no, now)
        except Exception:  # one damaged row must not hide the others
            log.warning("无法读取网上申请 %s", platform_id)
            full_name, id_number, items = "", "", []
        if name is not None and name not in full_name:
            continue
        rows.append(WorklistRow(kind=ONLINE, key=platform_id, case_no=ONLINE_CASE_NO,
                                masked_name=mask_name(full_name) or UNREADABLE_ONLINE,
                                masked_id=mask_id_number(id_number), items=items, state=ONLINE,
                                state_title=note or ONLINE_TITLE, source="online",
                                accepted_on=_date(approved_on), claim_note=note))
    return rows


# ---------------------------------------------------------------------- cases

_CASE_COLUMNS = "id, case_no, version, state, source, items, accepted_on, payload_enc, masked_summary"


def masked_applicant(vault, case_id: str, case_no: str, blob: bytes | None, summary: str | None) -> tuple[str, str]:
    """The masked name and ID number of a stored case; a case whose data does not open is
    listed as damaged (never a traceback, never another row's data)."""
    if blob is None:  # purged: only the masked summary kept at purge remains
        kept = json.loads(summary) if summary else {}
        return kept.get("name", ""), kept.get("id_number", "")
    try:
        applicant = json.loads(vault.decrypt(blob, associated_data("cases", case_id)))["applicant"]
        return mask_name(applicant.get("name")), mask_id_number(applicant.get("id_number"))
    except Exception as exc:  # noqa: BLE001 - undecryptable, not JSON, no applicant: damaged
        log.error("办件 %s 的加密数据无法打开：%s", case_no, type(exc).__name__)
        return DAMAGED_TEXT, "*" * 18


def _progress(conn: sqlite3.Connection, case_ids: list[str]) -> dict[str, list[tuple[str, str | None]]]:
    out: dict[str, list[tuple[str, str | None]]] = {}
    for start in range(0, len(case_ids), 500):  # SQLite's limit on bound parameters
        chunk = case_ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for case_id, status, sla in conn.execute(
                f"SELECT case_id, status, sla FROM item_progress WHERE case_id IN ({marks})", chunk):  # noqa: S608
            out.setdefault(case_id, []).append((status, sla))
    return out


def _case_rows(conn: sqlite3.Connection, vault, records: list[tuple]) -> list[WorklistRow]:
    progress = _progress(conn, [r[0] for r in records])
    rows = []
    for case_id, case_no, version, state, source, items, accepted_on, blob, summary in records:
        name, idn = masked_applicant(vault, case_id, case_no, blob, summary)
        steps = progress.get(case_id, [])
        rows.append(WorklistRow(kind=CASE, key=case_id, case_no=case_no, masked_name=name, masked_id=idn,
                                items=[int(x) for x in (items or "").split(",") if x], state=state,
                                state_title=CaseState(state).title,
                                sla=row_sla(state, worst_sla(sla for _, sla in steps)),
                                done_items=sum(1 for status, _ in steps if status in FINISHED_ITEMS),
                                source=source, accepted_on=_date(accepted_on), version=version))
    return rows


def todays_cases(conn: sqlite3.Connection, day: _dt.date) -> list[tuple]:
    """Cases accepted on ``day`` (or, not accepted yet, created that Beijing day), newest first,
    corrected-away versions left out."""
    start = _dt.datetime.combine(day, _dt.time(), CHINA_TZ)
    return conn.execute(
        f"SELECT {_CASE_COLUMNS} FROM cases WHERE (accepted_on = ? OR (accepted_on IS NULL AND created_at >= ? "  # noqa: S608
        "AND created_at < ?)) AND state != 'superseded' ORDER BY created_at DESC",
        (day.isoformat(), _stored(start), _stored(start + _dt.timedelta(days=1)))).fetchall()


def open_cases(conn: sqlite3.Connection) -> list[tuple]:
    """Cases still open (any day), newest first."""
    marks = ",".join("?" * len(_OPEN))
    return conn.execute(f"SELECT {_CASE_COLUMNS} FROM cases WHERE state IN ({marks}) "  # noqa: S608
                        "ORDER BY created_at DESC", _OPEN).fetchall()


def case_rows(conn: sqlite3.Connection, vault, case_ids: Iterable[str]) -> list[WorklistRow]:
    """Rows of the given cases, in the order given (a search's hits)."""
    ids = list(dict.fromkeys(case_ids))
    found: dict[str, tuple] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for record in conn.execute(f"SELECT {_CASE_COLUMNS} FROM cases WHERE id IN ({marks})", chunk):  # noqa: S608
            found[record[0]] = record
    return _case_rows(conn, vault, [found[i] for i in ids if i in found])


# ---------------------------------------------------------------------- the list

def read_worklist(conn: sqlite3.Connection, vault, *, today: _dt.date, own_window_no: str,
                  now: _dt.datetime) -> list[WorklistRow]:
    """Online applications waiting, then today's cases, then older cases still open."""
    todays = todays_cases(conn, today)
    seen = {r[0] for r in todays}
    older_open = [r for r in open_cases(conn) if r[0] not in seen]
    return (online_rows(conn, vault, own_window_no=own_window_no, now=now)
            + _case_rows(conn, vault, todays) + _case_rows(conn, vault, older_open))


def beijing_day(now: _dt.datetime) -> _dt.date:
    return now.astimezone(CHINA_TZ).date()


def utc_now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


@dataclass
class StoredWorklist:
    """The worklist as the store held it at start, read before the full services opened, and
    the key store opened for it (handed on to the full open, so a keyring is opened once).
    ``rows`` is None when the store could not be read that way; ``reason`` says why (for the log:
    the full services then read it, or refuse with their own message)."""

    rows: list[WorklistRow] | None
    keystore: object | None
    reason: str = ""


def read_stored_worklist(home, window_no: str) -> StoredWorklist:
    """The worklist straight from the data directory ``home`` (read-only ``sqlite3``, the store's
    decryption; no SQLAlchemy), for a screen to show while the full services open. Worker thread."""
    from counter_app.queries.local_store import open_local_store, window_keystore

    keystore = None
    try:
        keystore = window_keystore(home)
        store = open_local_store(home, keystore)
    except Exception as exc:  # noqa: BLE001 - any refusal here is the full open's to report
        return StoredWorklist(None, keystore, getattr(exc, "message", None) or type(exc).__name__)
    try:
        now = utc_now()
        return StoredWorklist(read_worklist(store.conn, store.vault, today=beijing_day(now),
                                            own_window_no=str(window_no), now=now), keystore)
    finally:
        store.close()
