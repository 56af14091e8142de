"""Department progress flowing back: per-item statuses of open cases, pulled from the platform.

Each status change is stored with the time the department made it (``record_item_status`` fills
in skipped intermediate steps), then the SLA state of open cases is recomputed. Statuses the
window already has, or earlier ones, are skipped: the platform's history is replayed only
forward, so a pull that overlaps the previous one changes nothing.

Thread contract: blocks on the network and the database; sync worker thread or CLI only.
"""
from __future__ import annotations

import datetime as _dt
import logging
from dataclasses import dataclass

from sqlalchemy import select

from counter_app.cases import CaseError
from counter_app.lifecycle import CaseState, ItemStatus, item_rank
from counter_app.statuses import OutboxStatus
from counter_app.store.models import CaseRow, ItemProgress, OutboxEntry
from counter_app.sync.client import PlatformClient
from counter_app.sync.followups import awaiting_channel_rating, store_channel_ratings
from counter_app.sync.notifications import store_notifications

log = logging.getLogger(__name__)
OPEN_AT_PLATFORM = (CaseState.ACKNOWLEDGED.value, CaseState.IN_PROGRESS.value)


@dataclass
class ProgressReport:
    checked: int = 0
    changed_items: int = 0
    unknown: int = 0


def _rank(item: int, status: str) -> int:
    try:
        return item_rank(item, ItemStatus(status))
    except ValueError:
        return -1


def _parse_time(value: str | None) -> _dt.datetime | None:
    if not value:
        return None
    try:
        t = _dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=_dt.timezone.utc)


def open_cases(window) -> list[tuple[str, str]]:
    """(case id, business key) of cases the platform has and that are not finished."""
    with window.sessions() as s:
        rows = s.execute(select(CaseRow.id, OutboxEntry.business_key).join(OutboxEntry, OutboxEntry.case_id == CaseRow.id)
                         .where(CaseRow.state.in_(OPEN_AT_PLATFORM), OutboxEntry.status == OutboxStatus.ACKED)
                         .order_by(CaseRow.accepted_on)).all()
        return [(r[0], r[1]) for r in rows]


def apply_case_progress(window, case_id: str, items: list[dict]) -> int:
    """Apply one case's items from a progress answer; returns the number of status changes."""
    with window.sessions() as s:
        local = {p.item: p.status for p in s.execute(select(ItemProgress).where(ItemProgress.case_id == case_id)).scalars()}
    changed = 0
    for it in items:
        n = it.get("item")
        if n not in local:
            continue
        current = _rank(n, local[n])
        history = it.get("history") or [{"status": it.get("status"), "at": it.get("updated_at"), "note": it.get("note")}]
        for ev in history:
            status = ev.get("status")
            rank = _rank(n, status)
            if rank <= current:
                continue
            try:
                if window.cases.record_item_status(case_id, n, ItemStatus(status), at=_parse_time(ev.get("at")),
                                                   source="platform", note=str(ev.get("note") or "")):
                    changed += 1
                current, local[n] = rank, status
            except CaseError as exc:  # a status that does not follow ours: keep ours, say so
                log.warning("事项%s进度无法应用：%s", n, exc.message)
                break
    return changed


def pull_progress(window, client: PlatformClient, *, batch: int = 200) -> ProgressReport:
    """Ask for the progress of every open case (``batch`` business keys per request) and apply it.

    Each answer has passed ``responses.parse_progress`` before anything of it is applied, so a
    refused answer (``SyncError``) changes nothing; answers of earlier batches stay applied."""
    report = ProgressReport()
    cases = open_cases(window) + awaiting_channel_rating(window)
    by_key = {bk: cid for cid, bk in cases}
    keys = list(by_key)
    for i in range(0, len(keys), batch):
        answer = client.progress(keys[i:i + batch])
        report.unknown += len(answer["unknown"])
        for c in answer["cases"]:
            cid = by_key.get(c["business_key"])
            if cid is None:
                continue
            report.checked += 1
            report.changed_items += apply_case_progress(window, cid, c["items"])
            store_notifications(window, cid, c.get("notifications") or [])
            store_channel_ratings(window, cid, c.get("ratings") or [])
    if report.changed_items:
        window.cases.refresh_sla()
    return report
