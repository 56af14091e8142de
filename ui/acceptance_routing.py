"""How the main window opens and closes the acceptance screen: a walk-in, an online application
(claimed on the platform first), a draft resumed, a case opened from the worklist.

One acceptance at a time: asking for another while one is open shows the open one. Before a new
acceptance, the sync bridge says whether the queue allows it (``acceptance_allowed``); a check
that fails does not stop the clerk. Cancelling an online application releases its claim.

Part of :class:`ui.main_window.MainWindow` (its context, stack, status bar and worklist).
Thread contract: GUI thread only.
"""
from __future__ import annotations

import logging
from types import SimpleNamespace

from PySide6.QtCore import Slot

from ui.background import submit
from ui.errors import show_info, user_message

log = logging.getLogger(__name__)


class AcceptanceRouting:
    @Slot()
    def start_walk_in(self) -> None:
        self._check_then_open({})

    @Slot(str)
    def open_online_application(self, platform_id: str) -> None:
        """Claim it on the platform first (off the GUI thread): another window's claim refuses it;
        an unreachable platform does not stop the clerk, the status line says it is unclaimed."""
        if not self.may_handle:
            return
        if self.acceptance is not None:
            self._resume_acceptance()
            return
        from counter_app.sync.claims import try_claim

        self.status.showMessage("正在省平台认领该网上申请……", 5000)
        self._claiming = platform_id
        submit(self.ctx.tasks.io, try_claim, self.ctx.window, platform_id, on_success=self._claim_answered,
               on_failure=self._claim_failed)

    def _claim_answered(self, outcome) -> None:
        from counter_app.sync.claims import ELSEWHERE

        platform_id, self._claiming = self._claiming, None
        if platform_id is None:
            return
        if outcome.state == ELSEWHERE:
            show_info(self, f"{outcome.message}\n本窗口不能同时受理该网上申请。", "其他窗口正在受理")
            self.worklist.refresh()
            return
        self._check_then_open({"worklist_id": platform_id})
        self.status.showMessage(outcome.message, 15000)

    def _claim_failed(self, exc: BaseException) -> None:
        log.warning("认领网上申请失败：%s", type(exc).__name__)
        self._claim_answered(SimpleNamespace(state="", message=user_message(exc, "认领网上申请")))

    @Slot(str, str)
    def open_case(self, case_id: str, state: str) -> None:
        if state in ("draft", "identity_verified", "materials_complete"):
            self.open_draft(case_id)
        else:
            self.show_case_detail(case_id)

    @Slot(str)
    def open_draft(self, case_id: str) -> None:
        # A draft already exists: continuing it is always allowed (it is not a new acceptance).
        self._open_acceptance({"case_id": case_id})

    def _check_then_open(self, kwargs: dict) -> None:
        if not self.may_handle:
            return
        if self.acceptance is not None:
            self._resume_acceptance()
            return
        from ui.sync_bridge import acceptance_allowed

        self.status.showMessage("正在检查能否受理……", 3000)
        self._pending_open = kwargs
        submit(self.ctx.tasks.db, acceptance_allowed, self.ctx.window, on_success=self._allowed_checked,
                              on_failure=self._allowed_failed)

    def _allowed_checked(self, verdict: tuple[bool, str]) -> None:
        ok, reason = verdict
        if not ok:
            show_info(self, f"暂时不能受理新办件：{reason}\n已受理的办件和草稿不受影响。", "暂停受理")
            return
        if reason:  # allowed, with a warning that the queue is getting old
            self.status.showMessage(reason, 10000)
        self._open_acceptance(self._pending_open)

    def _allowed_failed(self, exc: BaseException) -> None:
        # The check itself failed (database busy...): do not stop the clerk, just log it.
        log.warning("受理前检查失败：%s", exc)
        self._open_acceptance(self._pending_open)

    def _resume_acceptance(self) -> None:
        self.stack.setCurrentWidget(self.acceptance_host)
        self.status.showMessage("请先完成或取消当前正在受理的办件。", 5000)

    def _open_acceptance(self, kwargs: dict) -> None:
        if not self.may_handle:
            return
        if self.acceptance is not None:
            self._resume_acceptance()
            return
        from ui.acceptance import AcceptanceWidget

        try:
            widget = AcceptanceWidget(self.ctx, **kwargs)
        except Exception as exc:  # a broken screen must not take the shell down
            log.exception("打开受理界面失败")
            show_info(self, user_message(exc, "打开受理界面"), "无法打开")
            return
        widget.finished.connect(self._acceptance_finished)
        widget.cancelled.connect(self._acceptance_cancelled)
        self.acceptance = widget
        self.acceptance_host.addWidget(widget)
        self.acceptance_host.setCurrentWidget(widget)
        self.stack.setCurrentWidget(self.acceptance_host)
        widget.setFocus()  # OtherFocusReason

    def _close_acceptance(self) -> None:
        widget, self.acceptance = self.acceptance, None
        if widget is not None:
            widget.close()  # its own closeEvent saves what needs saving and stops its timers
            if self.acceptance_host is not None:
                self.acceptance_host.removeWidget(widget)
            widget.deleteLater()

    @Slot(str)
    def _acceptance_finished(self, case_id: str) -> None:
        self._close_acceptance()
        if self.ctx.sync is not None:
            self.ctx.sync.wake()  # push the new case now rather than at the next interval
        self.status.showMessage("办件已受理并进入上报队列。", 8000)
        self.show_worklist()

    @Slot()
    def _acceptance_cancelled(self) -> None:
        session = self.acceptance.session if self.acceptance is not None else None
        platform_id = session.worklist_id if session is not None else None
        if platform_id and not session.finalized:
            from counter_app.sync.claims import try_release

            submit(self.ctx.tasks.io, try_release, self.ctx.window, platform_id, on_success=self._released)
        self._close_acceptance()
        self.show_worklist()

    def _released(self, problem: str) -> None:
        self.status.showMessage(problem or "已释放该网上申请的认领，其他窗口可以受理。", 8000)
