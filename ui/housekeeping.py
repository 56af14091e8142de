"""Routine upkeep while the window is open: the retention purge and the SLA refresh.

Runs at start-up and then every few hours on the database runner (never the GUI thread):
- ``security.retention.run_retention`` purges personal data of cases the platform reported
  completed more than ``retention_days`` ago (PIPL minimum retention), keeping the masked record;
- ``CaseService.refresh_sla`` moves every open item to at-risk / overdue as working days pass,
  so the worklist colours are right the morning after.
"""
from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer, Signal

log = logging.getLogger(__name__)

INTERVAL_MS = 4 * 60 * 60 * 1000


def upkeep(window) -> dict:
    """One round (worker thread). Returns counts for the log; no personal data in it."""
    from counter_app.security.retention import run_retention
    from counter_app.store.backups import BackupError, maybe_backup
    from counter_app.store.health import full_check

    # The full integrity check is slow on a large store: here, off the GUI thread, not at start.
    problem = full_check(window.db_path)
    if problem is not None:
        log.error("数据库完整性检查未通过：%s。请技术人员恢复最近的备份（counter-app db restore）。", problem)
        return {"integrity": "failed"}
    report = run_retention(window)
    changed = window.cases.refresh_sla()
    try:
        backup = maybe_backup(window)
    except BackupError as exc:
        log.error("自动备份失败：%s", exc.message)
        backup = None
    return {"purged_cases": len(report.cases), "files_deleted": report.files_deleted,
            "drafts_withdrawn": len(report.drafts_withdrawn), "orphans_deleted": report.orphans_deleted,
            "sla_changed": changed, "errors": len(report.errors), "backup": backup.name if backup else None}


class Housekeeping(QObject):
    """Owned by the GUI thread; schedules :func:`upkeep` on ``ctx.tasks.db``."""

    did_run = Signal(dict)

    def __init__(self, ctx, parent: QObject | None = None, interval_ms: int = INTERVAL_MS):
        super().__init__(parent)
        self._ctx = ctx
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.run_now)

    def start(self) -> None:
        self._timer.start()
        self.run_now()

    def stop(self) -> None:
        self._timer.stop()

    def run_now(self) -> None:
        if self._ctx.window is None:
            return
        self._ctx.tasks.db.run(upkeep, self._ctx.window, on_success=self._done, on_failure=self._failed)

    def _done(self, counts: dict) -> None:
        log.info("例行维护完成：%s", counts)
        self.did_run.emit(counts)

    def _failed(self, exc: BaseException) -> None:
        log.warning("例行维护失败（%s），下次将重试。", type(exc).__name__)
