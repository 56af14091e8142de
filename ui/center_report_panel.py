"""The whole center at a glance, for the supervisor: every window's figures from the provincial
platform (masked there), or — when the platform cannot be reached — the last figures this PC
received, always under a "截至…" stamp that says which.

The network call (``counter_app.sync.center_report.center_figures``) runs on ``ctx.tasks.io``;
widgets are touched only in the callbacks, on the GUI thread.
"""
from __future__ import annotations

import datetime as _dt

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView, QGroupBox, QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from ui.background import submit
from ui.context import AppContext
from ui.errors import user_message

COLUMNS = (("window_no", "窗口"), ("operator", "受理人"), ("accepted", "受理"), ("open", "在办"),
           ("completed", "办结"), ("overdue", "超时"))


class CenterReportPanel(QGroupBox):
    loaded = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__("全中心各窗口（省平台数据）", parent)
        self.ctx = ctx
        self.setObjectName("centerReportPanel")
        self.figures = None
        self.stamp = QLabel("")
        self.stamp.setObjectName("centerReportStamp")
        self.stamp.setProperty("role", "hint")
        self.stamp.setWordWrap(True)
        self.totals = QLabel("–")
        self.totals.setObjectName("centerReportTotals")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("centerReportTable")
        self.table.setHorizontalHeaderLabels([text for _, text in COLUMNS])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        layout = QVBoxLayout(self)
        layout.addWidget(self.totals)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.stamp)

    @Slot()
    def refresh(self, day: _dt.date) -> None:
        from counter_app.sync.center_report import center_figures

        self.stamp.setText("正在从省平台获取全中心数据……")
        submit(self.ctx.tasks.io, center_figures, self.ctx.window, day, on_success=self._show,
               on_failure=self._failed)

    def _failed(self, exc: BaseException) -> None:
        self.stamp.setText(user_message(exc, "获取全中心数据") + "（本机尚无缓存的全中心数据）")
        self.loaded.emit()

    def _show(self, figures) -> None:
        self.figures = figures
        r = figures.report
        self.totals.setText(f"当日受理 {r['accepted']} 件：在办 {r['open']}，办结 {r['completed']}，超时 {r['overdue']}")
        rows = r["by_window"]
        self.table.setRowCount(len(rows))
        for i, w in enumerate(rows):
            for j, (key, _) in enumerate(COLUMNS):
                self.table.setItem(i, j, QTableWidgetItem(str(w[key])))
        self.stamp.setText(figures.stamp + (f"：{figures.problem}" if figures.offline and figures.problem else ""))
        self.loaded.emit()
