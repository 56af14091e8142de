"""Which time-limit (SLA) state is the most urgent: the one rule the worklist, the case detail and
the report use to show a case's 时限 as its most urgent item's.

Its own module, without the working-day calendar and the scheme (``counter_app.workdays``): the
worklist read at start (``counter_app.queries.worklist``) needs only this.
"""
from __future__ import annotations

from typing import Iterable

SLA_ORDER = ("overdue", "at_risk", "on_time", "no_deadline", "done")


def worst_sla(states: Iterable[str | None]) -> str | None:
    """A case's 时限 as the worklist, the detail and the report show it: its most urgent item."""
    known = [s for s in states if s in SLA_ORDER]
    return min(known, key=SLA_ORDER.index) if known else None
