"""Upkeep runs off the GUI thread and reports back: SLA states refreshed, retention run."""
from __future__ import annotations

from ui.context import AppContext
from ui.housekeeping import Housekeeping
from ui.tasks import TaskRunners


def test_housekeeping_runs_on_the_db_runner_and_reports(qtbot, window):
    from tests.core.helpers import finalized_case

    from sqlalchemy import text

    rec = finalized_case(window)
    with window.engine.begin() as c:  # a state computed yesterday: no longer right today
        c.execute(text("UPDATE item_progress SET sla = 'overdue' WHERE case_id = :id AND item = 9"), {"id": rec.id})
    tasks = TaskRunners()
    ctx = AppContext(window=window, tasks=tasks)
    hk = Housekeeping(ctx, parent=tasks, interval_ms=60_000)
    with qtbot.waitSignal(hk.did_run, timeout=30_000) as blocker:
        hk.start()
    counts = blocker.args[0]
    assert counts["errors"] == 0 and counts["purged_cases"] == 0 and counts["sla_changed"] >= 1
    assert {p["item"]: p["sla"] for p in window.cases.get(rec.id).progress}[9] != "overdue"
    # The first round also takes the automatic, verified, encrypted backup.
    assert counts["backup"] and (window.home / "backups" / counts["backup"]).is_file()
    hk.stop()
    tasks.shutdown()
