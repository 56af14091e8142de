"""What the supervisors' daily report shows, as plain data (``printing.report`` draws it).

Kept apart from ``counter_app.reports`` (which reads the store) so that printing depends on
these dataclasses only, never on the database. Only masked personal data is held here.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any, Iterable

from counter_app.case_number import CaseNumber, CaseNumberError


@dataclass
class ReportCase:
    """One accepted case as the report sees it (no personal data beyond the masked name)."""

    case_no: str
    masked_name: str
    clerk: str                      # operator who accepted it
    items: list[int]
    retirement_type: str | None     # RetirementType value
    state: str                      # CaseState value
    synced: bool                    # the platform has it (outbox acknowledged)
    sla: str | None = None          # worst SlaState value over its items
    rating: str | None = None       # one of scheme.RATINGS, None = not rated yet
    window_no: str = ""             # "" = read from the case number

    @property
    def window(self) -> str:
        if self.window_no:
            return self.window_no
        try:
            return CaseNumber.parse(self.case_no).window
        except CaseNumberError:
            return ""


@dataclass
class DailyReportData:
    """Everything the daily report shows. ``window_no`` None means all windows of the center."""

    day: _dt.date
    center: str
    operator: str                   # who prints the report
    printed_at: _dt.datetime
    cases: list[ReportCase] = field(default_factory=list)
    window_no: str | None = None
    center_code: str = ""

    @property
    def date(self) -> _dt.date:
        return self.day

    @classmethod
    def from_summaries(cls, *, day: _dt.date, center: str, operator: str, printed_at: _dt.datetime,
                       cases: Iterable[Any], window_no: str | None = None,
                       center_code: str = "") -> "DailyReportData":
        """Build from ``counter_app.cases.CaseSummary`` rows (not imported here: printing reads this
        module and must not load the store); a row's window is read from its case number."""
        rows = [ReportCase(case_no=c.case_no, masked_name=c.masked_name, clerk=c.operator, items=list(c.items),
                           retirement_type=c.retirement_type, state=c.state.value, synced=c.synced, sla=c.sla,
                           rating=c.rating)
                for c in cases]
        return cls(day=day, center=center, operator=operator, printed_at=printed_at, cases=rows,
                   window_no=window_no, center_code=center_code)
