"""The center, not only the window: the worklist with claims, and the center's figures.

- Worklist: online applications approved by county VA for the caller's center. An entry taken
  (a case was received for it) leaves the list; an entry another window is accepting carries its
  ``claim`` (the window shows "正在X号窗口受理").
- Claims: opening an entry claims it for the window for ``CLAIM_TTL`` (renewed by claiming again);
  cancelling releases it; an expired claim is free for anyone. Two windows never both accept it.
- Report: the supervisor's day at a glance for the whole center — per window and clerk, items,
  department statuses, overdue items, ratings — masked (names 张*军, ID numbers 410***…123X).

Functions over a ``PlatformStore`` (passed in) so the store module stays about cases.
"""
from __future__ import annotations

import datetime as _dt
import json
from collections import Counter
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from counter_app.lifecycle import ITEM_DONE_FOR_SLA, ITEM_FINAL
from counter_app.masking import mask_id_number, mask_name
from counter_app.sync import contract as C
from refplatform.credentials import Caller
from refplatform.errors import PlatformError
from refplatform.synthetic import worklist_for
from refplatform.tables import CaseItem, PlatformCase, RatingRow, WorklistRow

if TYPE_CHECKING:
    from refplatform.store import PlatformStore

CHINA_TZ = _dt.timezone(_dt.timedelta(hours=8))
CLAIM_TTL = _dt.timedelta(minutes=30)
# The platform has no online applications from other years: a far date is an empty list, not
# a synthetic one (and never a person born in the year 185).
WORKLIST_DAYS = 400
_DONE = frozenset(s.value for s in ITEM_DONE_FOR_SLA) | frozenset(s.value for s in ITEM_FINAL)


def _iso(value: _dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(CHINA_TZ).isoformat(timespec="seconds")


def _today(store: "PlatformStore") -> _dt.date:
    return store.clock.now().astimezone(CHINA_TZ).date()


def _claim_of(row: WorklistRow, now: _dt.datetime) -> dict | None:
    if row.claimed_by_window and row.claim_expires_at and row.claim_expires_at > now:
        return {"platform_id": row.platform_id, "window_no": row.claimed_by_window,
                "claimed_at": _iso(row.claimed_at), "expires_at": _iso(row.claim_expires_at)}
    return None


def worklist(store: "PlatformStore", caller: Caller, day: _dt.date | None) -> dict:
    today = _today(store)
    day = day or today
    now = store.clock.now()
    with store.sessions() as s:  # the day's list exists after the first call: read without a write lock
        have = s.execute(select(func.count()).select_from(WorklistRow).where(
            WorklistRow.center_code == caller.center_code, WorklistRow.day == day)).scalar_one()
    with (store.writing() if not have else store.sessions()) as s:
        if abs((day - today).days) <= WORKLIST_DAYS:
            if not have:
                for entry in worklist_for(caller.center_code, day):
                    if s.get(WorklistRow, entry["platform_id"]) is None:
                        s.add(WorklistRow(platform_id=entry["platform_id"], center_code=caller.center_code, day=day,
                                          payload=entry))
                s.flush()
        rows = s.execute(select(WorklistRow).where(WorklistRow.center_code == caller.center_code,
                                                   WorklistRow.taken_business_key.is_(None))
                         .order_by(WorklistRow.platform_id)).scalars().all()
        return {"center_code": caller.center_code, "date": day.isoformat(),
                "entries": [{**r.payload, "claim": _claim_of(r, now)} for r in rows]}


def _entry(s: Session, caller: Caller, platform_id: str) -> WorklistRow:
    row = s.get(WorklistRow, platform_id)
    if row is None or row.center_code != caller.center_code:
        raise PlatformError(404, C.E_NOT_FOUND, "本服务中心的工作台没有该网上申请。")
    if row.taken_business_key:
        raise PlatformError(409, C.E_CLAIMED_ELSEWHERE, "该网上申请已受理完毕（已上报省平台），无需再次受理。",
                            case_no=row.taken_business_key.split("/")[0])
    return row


def claim(store: "PlatformStore", caller: Caller, platform_id: str) -> dict:
    window = caller.require_window()
    now = store.clock.now()
    with store.writing() as s:
        row = _entry(s, caller, platform_id)
        held = _claim_of(row, now)
        if held is not None and held["window_no"] != window:
            raise PlatformError(409, C.E_CLAIMED_ELSEWHERE, f"正在{held['window_no']}号窗口受理，请勿重复受理。",
                                window_no=held["window_no"], expires_at=held["expires_at"])
        if held is None:
            row.claimed_at = now
        row.claimed_by_window, row.claimed_by_label = window, caller.label
        row.claim_expires_at = now + CLAIM_TTL
        return {"platform_id": platform_id, "claim": _claim_of(row, now)}


def release(store: "PlatformStore", caller: Caller, platform_id: str) -> dict:
    window = caller.require_window()
    now = store.clock.now()
    with store.writing() as s:
        row = s.get(WorklistRow, platform_id)
        if row is None or row.center_code != caller.center_code:
            raise PlatformError(404, C.E_NOT_FOUND, "本服务中心的工作台没有该网上申请。")
        held = _claim_of(row, now)
        if held is not None and held["window_no"] != window:
            raise PlatformError(409, C.E_CLAIMED_ELSEWHERE, f"该申请正在{held['window_no']}号窗口受理，本窗口不能释放。",
                                window_no=held["window_no"], expires_at=held["expires_at"])
        row.claimed_by_window = row.claimed_by_label = None
        row.claimed_at = row.claim_expires_at = None
        return {"platform_id": platform_id, "claim": None}


def check_not_held_elsewhere(s: Session, platform_id: str, caller: Caller, case_no: str, now: _dt.datetime) -> None:
    """A case made from an online application is received only from the window that holds its claim
    (or from any window of the center when no claim is held), and only once."""
    row = s.get(WorklistRow, platform_id)
    if row is None or row.center_code != caller.center_code:
        return
    if row.taken_business_key and row.taken_business_key.split("/")[0] != case_no:
        raise PlatformError(409, C.E_CLAIMED_ELSEWHERE,
                            f"该网上申请已由办件{row.taken_business_key.split('/')[0]}受理，不能再次受理。",
                            case_no=row.taken_business_key.split("/")[0])
    held = _claim_of(row, now)
    if held is not None and held["window_no"] != caller.window_no:
        raise PlatformError(409, C.E_CLAIMED_ELSEWHERE,
                            f"该网上申请正在{held['window_no']}号窗口受理，本窗口的办件不能上报；"
                            "请与该窗口核对后作废本窗口的办件。",
                            window_no=held["window_no"], expires_at=held["expires_at"])


def mark_taken(s: Session, platform_id: str, caller: Caller, business_key: str) -> None:
    row = s.get(WorklistRow, platform_id)
    if row is not None and row.center_code == caller.center_code and row.taken_business_key is None:
        row.taken_business_key = business_key
        row.claimed_by_window = row.claimed_by_label = None
        row.claimed_at = row.claim_expires_at = None


def report(store: "PlatformStore", caller: Caller, day: _dt.date | None) -> dict:
    """The center's figures for ``day`` (cases accepted that day; statuses as of now)."""
    store.advance()
    today = _today(store)
    day = day or today
    with store.sessions() as s:
        rows = s.execute(select(PlatformCase).where(PlatformCase.center_code == caller.center_code,
                                                    PlatformCase.accepted_on == day,
                                                    PlatformCase.superseded.is_(False))
                         .order_by(PlatformCase.window_no, PlatformCase.id)).scalars().all()
        ids = [r.id for r in rows]
        items_by_case: dict[int, list[CaseItem]] = {}
        if ids:
            for it in s.execute(select(CaseItem).where(CaseItem.case_id.in_(ids))).scalars():
                items_by_case.setdefault(it.case_id, []).append(it)
        keys = [r.business_key for r in rows]
        rated = s.execute(select(RatingRow).where(RatingRow.business_key.in_(keys))).scalars().all() if keys else []
        ratings = Counter(r.level for r in rated)
        rating_of = {r.business_key: r.level for r in rated if r.stage == "acceptance"}
    cases, items, statuses = [], Counter(), Counter()
    per_window: dict[tuple[str, str], Counter] = {}
    for r in rows:
        its = items_by_case.get(r.id, [])
        overdue = sorted(it.item for it in its if it.due is not None and it.due < today and it.status not in _DONE)
        open_ = any(it.status not in {s.value for s in ITEM_FINAL} for it in its)
        status = "overdue" if overdue else ("open" if open_ else "completed")
        application = json.loads(r.payload).get("application", {})
        applicant = application.get("applicant", {})
        cases.append({"case_no": r.case_no, "version": r.version, "window_no": r.window_no, "operator": r.operator,
                      "applicant": mask_name(applicant.get("name")), "id_number": mask_id_number(applicant.get("id_number")),
                      "items": sorted(it.item for it in its), "status": status, "overdue_items": overdue,
                      "accepted_at": _iso(r.first_received_at), "retirement_type": application.get("retirement_type"),
                      "rating": rating_of.get(r.business_key)})
        items.update(str(it.item) for it in its)
        statuses.update(it.status for it in its)
        w = per_window.setdefault((r.window_no, r.operator), Counter())
        w["accepted"] += 1
        w[status if status != "overdue" else "open"] += 1
        w["overdue"] += status == "overdue"
    by_window = [{"window_no": w, "operator": op, "accepted": c["accepted"], "open": c["open"],
                  "completed": c["completed"], "overdue": c["overdue"]} for (w, op), c in sorted(per_window.items())]
    return {"center_code": caller.center_code, "date": day.isoformat(), "as_of": _iso(store.clock.now()),
            "accepted": len(cases), "open": sum(c["status"] != "completed" for c in cases),
            "completed": sum(c["status"] == "completed" for c in cases),
            "overdue": sum(c["status"] == "overdue" for c in cases), "by_window": by_window,
            "items": dict(sorted(items.items(), key=lambda kv: int(kv[0]))), "statuses": dict(statuses),
            "ratings": dict(ratings), "cases": cases}
