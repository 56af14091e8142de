"""Department progress on a case's items, and the deadlines behind every date shown.

The platform reports each item's status; intermediate steps it skips are filled in, the case
moves on (in progress, completed) and every item's due date and SLA state follow. ``_plan`` is the
one computation of a case's deadlines (receipt, detail, worklist, report).

Part of :class:`counter_app.cases.CaseService`.
"""
from __future__ import annotations

import datetime as _dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from counter_app.case_json import as_utc
from counter_app.case_types import SYSTEM, Actor, CaseError
from counter_app.clock import CHINA_TZ
from counter_app.lifecycle import (
    ITEM_DONE_FOR_SLA, ITEM_FINAL, CaseState, IllegalTransition, ItemStatus, check_item_transition, item_path,
)
from counter_app.police_items import POLICE_ITEMS, held_for_letter
from counter_app.scheme import ITEMS
from counter_app.store.models import CaseRow, ItemProgress, ItemStatusEvent
from counter_app.workdays import CARD_MAKING, plan_deadlines, sla_state


class CaseProgress:
    def record_item_status(self, case_id: str, item: int, status: ItemStatus, *, at: _dt.datetime | None = None,
                           source: str = "platform", note: str = "", actor: Actor = SYSTEM) -> bool:
        """Apply a department status; intermediate steps are filled in when the platform skips
        ahead. Returns False when it is not news (same or earlier status)."""
        at = at or self.clock()
        with self.sessions.begin() as s:
            row = self._row(s, case_id)
            prog = s.execute(select(ItemProgress).where(ItemProgress.case_id == row.id, ItemProgress.item == item)
                             ).scalar_one_or_none()
            if prog is None:
                raise CaseError(f"办件{row.case_no}没有事项{item}。")
            current = ItemStatus(prog.status)
            if current == status:
                return False
            path = item_path(item, status)
            if current not in path:
                try:
                    check_item_transition(item, current, status)
                except IllegalTransition as exc:
                    raise CaseError(exc.message) from None
                steps = [status]
            else:
                steps = path[path.index(current) + 1:]
            prev = current
            for st in steps:
                s.add(ItemStatusEvent(case_id=row.id, item=item, from_status=prev.value, to_status=st.value, at=at,
                                      source=source, operator=actor.username, note=note if st == status else ""))
                prev = st
            prog.status = status.value
            prog.updated_at = at
            prog.note = note
            s.flush()
            self._refresh_case_state(s, row, actor)
            # Downstream due dates move with the actual date, and a finished item is "done",
            # not left "at risk" from before (the UI colours by this).
            self._refresh_row_sla(s, row, self._today())
        return True

    def _refresh_case_state(self, s: Session, row: CaseRow, actor: Actor) -> None:
        progress = s.execute(select(ItemProgress).where(ItemProgress.case_id == row.id)).scalars().all()
        statuses = {ItemStatus(p.status) for p in progress}
        state = CaseState(row.state)
        if state == CaseState.ACKNOWLEDGED and statuses - {ItemStatus.PENDING_PUSH, ItemStatus.PUSHED}:
            self._transition(s, row, CaseState.IN_PROGRESS, actor, "部门开始办理")
            state = CaseState.IN_PROGRESS
        if state == CaseState.IN_PROGRESS and progress and all(ItemStatus(p.status) in ITEM_FINAL for p in progress):
            self._transition(s, row, CaseState.COMPLETED, actor, "全部事项办理结束")

    def mark_acknowledged(self, s: Session, row: CaseRow, actor: Actor = SYSTEM) -> None:
        if CaseState(row.state) == CaseState.QUEUED:
            self._transition(s, row, CaseState.ACKNOWLEDGED, actor, "省平台已接收")
            held = POLICE_ITEMS if row.id in held_for_letter(s.connection(), [row.id]) else ()
            for p in s.execute(select(ItemProgress).where(ItemProgress.case_id == row.id)).scalars():
                if p.status == ItemStatus.PENDING_PUSH.value and p.item not in held:
                    s.add(ItemStatusEvent(case_id=row.id, item=p.item, from_status=p.status,
                                          to_status=ItemStatus.PUSHED.value, at=self.clock(), source="platform"))
                    p.status = ItemStatus.PUSHED.value

    def refresh_sla(self, today: _dt.date | None = None) -> int:
        """Recompute every open item's due date and SLA state (after progress or a new day)."""
        today = today or self._today()
        changed = 0
        with self.sessions.begin() as s:
            rows = s.execute(select(CaseRow).where(CaseRow.accepted_on.is_not(None),
                                                   CaseRow.state.in_([CaseState.QUEUED.value, CaseState.ACKNOWLEDGED.value,
                                                                      CaseState.IN_PROGRESS.value]))).scalars().all()
            for row in rows:
                changed += self._refresh_row_sla(s, row, today)
        return changed

    def _plan(self, s: Session, row: CaseRow, items: list[int]) -> dict:
        """The one computation of a case's deadlines, behind every date shown anywhere (receipt,
        detail, worklist, report): chosen items, acceptance day, and the days the departments
        actually finished the items others wait for."""
        if row.accepted_on is None:
            return {}
        completed: dict[int, _dt.date] = {}
        visited: dict[int, _dt.date] = {}  # items timed from the applicant's visit: the day of 受理
        for p in s.execute(select(ItemProgress).where(ItemProgress.case_id == row.id)).scalars():
            if ItemStatus(p.status) in ITEM_DONE_FOR_SLA:
                completed[p.item] = as_utc(p.updated_at).astimezone(CHINA_TZ).date()
            if ITEMS[p.item].starts_on_visit and ItemStatus(p.status) not in (ItemStatus.PENDING_PUSH,
                                                                               ItemStatus.PUSHED):
                first = s.execute(select(func.min(ItemStatusEvent.at)).where(
                    ItemStatusEvent.case_id == row.id, ItemStatusEvent.item == p.item,
                    ItemStatusEvent.to_status == ItemStatus.ACCEPTED.value)).scalar()
                visited[p.item] = as_utc(first or p.updated_at).astimezone(CHINA_TZ).date()
        return plan_deadlines(self.calendar, row.accepted_on, items, completed, visited)

    def deadlines(self, case_id: str) -> dict:
        """``{item or None: Deadline}`` of a case ({} before it is accepted)."""
        with self.sessions() as s:
            row = self._row(s, case_id)
            return self._plan(s, row, [int(x) for x in row.items.split(",") if x])

    def _refresh_row_sla(self, s: Session, row: CaseRow, today: _dt.date) -> int:
        progress = s.execute(select(ItemProgress).where(ItemProgress.case_id == row.id)).scalars().all()
        plan = self._plan(s, row, [p.item for p in progress])
        changed = 0
        for p in progress:
            d = plan[p.item]
            done = ItemStatus(p.status) in ITEM_DONE_FOR_SLA or ItemStatus(p.status) in (
                ItemStatus.NOT_ACCEPTED, ItemStatus.DISAPPROVED)
            if ItemStatus(p.status) == ItemStatus.CARD_MAKING and CARD_MAKING in plan:
                d, done = plan[CARD_MAKING], False  # the card-making clock runs now (its own 7 WD)
            new = sla_state(self.calendar, d, today, done=done).value
            if new != p.sla or d.due != p.due:
                p.sla, p.due = new, d.due
                changed += 1
        return changed
