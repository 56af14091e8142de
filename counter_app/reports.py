"""Data for the supervisors' daily acceptance report (``printing.report`` draws it).

Only masked personal data leaves this module.
"""
from __future__ import annotations

import datetime as _dt
from typing import Any

from sqlalchemy import select

from counter_app.cases import CHINA_TZ, CaseSummary
from counter_app.report_data import DailyReportData
from counter_app.statuses import OutboxStatus
from counter_app.store.models import CaseRow, OutboxEntry


def daily_rows(window: Any, day: _dt.date, window_no: str | None = None) -> list[CaseSummary]:
    """Cases accepted (finalized) on ``day`` at this center, optionally one window only."""
    window.cases.refresh_sla()
    rows = [c for c in window.cases.list_cases(day=day) if c.accepted_on == day]
    if window_no:
        with window.sessions() as s:
            ids = set(s.execute(select(CaseRow.id).where(CaseRow.window_no == window_no)).scalars())
        rows = [r for r in rows if r.id in ids]
    return rows


def quarantined_count(window: Any) -> int:
    with window.sessions() as s:
        return len(s.execute(select(OutboxEntry.id).where(OutboxEntry.status == OutboxStatus.QUARANTINED)).all())


def daily_report_data(window: Any, day: _dt.date, window_no: str | None = None, *,
                      operator: str = "") -> DailyReportData:
    """Everything the daily report of ``day`` shows (printing reads no database)."""
    rows = daily_rows(window, day, window_no)
    return DailyReportData.from_summaries(
        day=day, center=window.settings.center_name, center_code=window.settings.center_code,
        window_no=window_no, operator=operator, printed_at=_dt.datetime.now(CHINA_TZ), cases=rows)
