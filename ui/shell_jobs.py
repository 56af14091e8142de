"""The main window's blocking jobs (``ctx.tasks.db``): recovered cases, the lock's audit entry.

Module functions, not widget methods, so a worker never holds a widget (see ``ui.background``).
"""
from __future__ import annotations


def recovered_case_numbers(window) -> list[tuple[str, str]]:
    """(case id, case number) of cases committed but never confirmed. Blocks: ``ctx.tasks.db``."""
    return [(c.id, c.case_no) for c in window.cases.unconfirmed()]


def record_lock(session) -> None:
    """The audit entry for a lock: "idle" when the session agrees the operator was idle, else
    "manual" (Ctrl+L, or an idle time shorter than the session's minute granularity). Blocks: db."""
    if not session.check_idle():
        session.lock()


def confirm_recovered(window, case_ids: list[str]) -> None:
    """The clerk saw the recovery notice. Blocks: ``ctx.tasks.db``."""
    for case_id in case_ids:
        window.cases.confirm_shown(case_id)
