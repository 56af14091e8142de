"""Today's worklist: online applications approved by county VA, waiting for on-site confirmation.

Entries are stored encrypted in ``WorklistEntry`` (associated data binds each to its platform id)
with a blind index of the applicant's ID number, so the clerk can find "the person in front of me"
without the ID number being stored in clear. Entries the platform no longer lists (taken at another
window, withdrawn) are removed unless this window already took them.

Also here: the 数据共享校验 look-ups the form marks.

Thread contract: ``fetch_worklist`` and ``lookup_data_sharing`` block on the network; call them
from a worker. ``decode_entry`` and ``worklist_entries`` only read and decrypt locally.
"""
from __future__ import annotations

import datetime as _dt
from typing import Iterable

from sqlalchemy import select

from counter_app.store.models import WorklistEntry
from counter_app.store.worklist_entries import associated_data, decode_entry
from counter_app.sync import contract as C
from counter_app.sync.client import PlatformClient, client_for
from counter_app.sync.errors import RejectedError


_ad = associated_data


def worklist_entries(window, *, include_taken: bool = False) -> list[dict]:
    with window.sessions() as s:
        q = select(WorklistEntry).order_by(WorklistEntry.approved_on, WorklistEntry.platform_id)
        if not include_taken:
            q = q.where(WorklistEntry.taken_case_id.is_(None))
        return [decode_entry(window, e) for e in s.execute(q).scalars()]


def store_worklist(window, entries: Iterable[dict], *, now: _dt.datetime | None = None) -> int:
    now = now or _dt.datetime.now(_dt.timezone.utc)
    entries = [e for e in entries if isinstance(e, dict) and e.get("platform_id")]
    listed = {e["platform_id"] for e in entries}
    with window.sessions.begin() as s:
        existing = {r.platform_id: r for r in s.execute(select(WorklistEntry)).scalars()}
        for e in entries:
            pid = str(e["platform_id"])
            applicant = (e.get("application") or {}).get("applicant") or {}
            try:
                bidx = window.cases.id_index(str(applicant.get("id_number") or ""))
            except Exception:  # noqa: BLE001 - an entry without a usable ID number is still shown
                bidx = ""
            blob = window.vault.encrypt(C.canonical_json(e), _ad(pid))
            try:
                approved = _dt.date.fromisoformat(str(e.get("approved_on")))
            except ValueError:
                approved = None
            row = existing.get(pid)
            if row is None:
                s.add(WorklistEntry(platform_id=pid, id_bidx=bidx, payload_enc=blob, approved_on=approved, fetched_at=now))
            else:
                row.id_bidx, row.payload_enc, row.approved_on, row.fetched_at = bidx, blob, approved, now
        for pid, row in existing.items():
            if pid not in listed and row.taken_case_id is None:
                s.delete(row)
    return len(entries)


def fetch_worklist(window, client: PlatformClient | None = None, *, day: _dt.date | None = None) -> int:
    """Fetch the center's worklist and store it; returns the number of entries listed.

    The client hands over only an answer that passed ``responses.parse_worklist``; the store
    then writes it in one transaction. A refused answer (``SyncError``) leaves the stored
    worklist exactly as it was."""
    client = client or client_for(window)
    answer = client.worklist(window.settings.center_code, day)
    return store_worklist(window, answer["entries"])


def lookup_data_sharing(window, id_number: str, *, checks: Iterable[str] = C.DATA_SHARING_CHECKS,
                        client: PlatformClient | None = None) -> dict:
    """数据共享校验: pre-enlistment hukou in Henan, hukou cancelled, property record,
    social-security-card bank account. Returns the platform's ``results`` object::

        {"henan_hukou_before_enlistment": {"verified": bool, "value": bool|None, ...},
         "hukou_cancelled": {...}, "property_record": {"found": bool, "certificate_no": ...},
         "social_security_bank_account": {"found": bool, "bank_name": ..., "account": ...}}

    Raises ``SyncError`` (Chinese ``message``) when the platform cannot answer; the clerk then
    asks for the paper material the rule requires instead.
    """
    client = client or client_for(window)
    checks = list(checks)
    try:
        return client.lookup(id_number, checks)["results"]  # checked by ``responses.parse_lookup``
    except RejectedError as exc:
        # A platform still on contract 1.2 does not know the veteran's file (1.3) and refuses the
        # whole request: ask again without it, so its verified answers still reach the form (the
        # file's fields stay for the clerk to fill). Any other refusal stands.
        rest = [c for c in checks if c != "veteran_file"]
        if exc.code != C.E_INVALID_REQUEST or not rest or len(rest) == len(checks):
            raise
        return client.lookup(id_number, rest)["results"]
