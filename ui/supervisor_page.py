"""The supervisor's page: the day at a glance, corrections waiting for approval, and the daily
report for a chosen day and window.

Figures come from :func:`load_day_glance` on ``ctx.tasks.db``; the accepted count uses the same
``counter_app.reports.daily_rows`` as the printed report, so screen and paper agree.
The report is built by ``counter_app.reports.daily_report_data`` and drawn by the
printing package's ``printing.report.render_daily_report``, on ``ctx.tasks.io``.
"""
from __future__ import annotations

import datetime as _dt
import logging
from dataclasses import dataclass, field

from PySide6.QtCore import QDate, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QDateEdit, QFrame, QGridLayout, QGroupBox, QHBoxLayout, QHeaderView, QInputDialog,
    QLabel,
    QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from counter_app.clock import CHINA_TZ
from counter_app.statuses import OutboxStatus
from ui.background import submit
from ui.center_report_panel import CenterReportPanel
from ui.context import AppContext
from ui.errors import user_message
from ui.worklist import today_local

log = logging.getLogger(__name__)


@dataclass
class PendingCorrection:
    case_id: str
    case_no: str
    version: int
    masked_name: str
    operator: str
    reason: str


@dataclass
class DayGlance:
    day: _dt.date
    window_no: str | None
    accepted: int = 0
    waiting: int = 0
    quarantined: int = 0
    at_risk: int = 0
    overdue: int = 0
    unsigned: int = 0  # documents waiting for the center's PDF signature (all windows of this store)
    unsigned_note: str = ""
    ratings: dict[str, int] = field(default_factory=dict)
    corrections: list[PendingCorrection] = field(default_factory=list)
    windows: list[str] = field(default_factory=list)

    @property
    def ratings_text(self) -> str:
        if not self.ratings:
            return "暂无"
        from counter_app.scheme import RATINGS

        order = {level: i for i, level in enumerate(RATINGS)}
        return "，".join(f"{k} {v}" for k, v in sorted(self.ratings.items(), key=lambda kv: order.get(kv[0], 99)))


FIELD_TITLES = {
    "applicant.name": "姓名", "applicant.phone": "联系电话", "applicant.id_number": "公民身份号码",
    "applicant.current_address": "现居住地址", "applicant.backup_contact": "联系人", "applicant.backup_phone": "联系人电话",
    "applicant.political_status": "政治面貌", "applicant.education": "文化程度", "applicant.marital_status": "婚姻状况",
    "items": "联办事项", "hukou.target_address": "落户地址", "pension.card_mailing_address": "社保卡邮寄送达地址",
    "pension.card_bank": "发卡银行",
}


def field_title(path: str) -> str:
    return FIELD_TITLES.get(path, path)


def load_day_glance(window, day: _dt.date, window_no: str | None = None) -> DayGlance:
    """The figures of the page. Blocks (database): ``ctx.tasks.db``."""
    from sqlalchemy import func, select

    from counter_app.corrections import rejected_as_it_stands
    from counter_app.lifecycle import EDITABLE_STATES, OPEN_STATES
    from counter_app.masking import mask_name
    from counter_app.reports import daily_rows, quarantined_count
    from counter_app.store.models import CaseRow, CaseTransition, OutboxEntry, Rating

    glance = DayGlance(day, window_no)
    glance.accepted = len(daily_rows(window, day, window_no))  # also refreshes SLA states
    with window.sessions() as s:
        def on_window(q):
            return q.where(CaseRow.window_no == window_no) if window_no else q

        glance.waiting = s.execute(on_window(select(func.count()).select_from(OutboxEntry)
                                             .join(CaseRow, CaseRow.id == OutboxEntry.case_id)
                                             .where(OutboxEntry.status == OutboxStatus.WAITING))).scalar_one()
        glance.windows = sorted(set(s.execute(select(CaseRow.window_no).distinct()).scalars()))
        start = _dt.datetime.combine(day, _dt.time(), CHINA_TZ)
        end = start + _dt.timedelta(days=1)
        rating_q = (select(Rating.level, func.count()).join(CaseRow, CaseRow.id == Rating.case_id)
                    .where(Rating.at >= start.astimezone(_dt.timezone.utc), Rating.at < end.astimezone(_dt.timezone.utc))
                    .group_by(Rating.level))
        for level, n in s.execute(on_window(rating_q)):  # levels are stored in words (scheme.RATINGS)
            glance.ratings[level] = glance.ratings.get(level, 0) + n
        corrections = s.execute(on_window(select(CaseRow).where(
            CaseRow.supersedes_id.is_not(None), CaseRow.state.in_([st.value for st in EDITABLE_STATES]))
            .order_by(CaseRow.created_at))).scalars().all()
        correction_rows = []
        for row in corrections:
            reason = s.execute(select(CaseTransition.reason).where(
                CaseTransition.case_id == row.id, CaseTransition.reason.like("更正原因：%"))).scalar()
            correction_rows.append((row.id, row.case_no, row.version, row.operator,
                                    (reason or "")[len("更正原因："):]))
    if window_no is None:
        glance.quarantined = quarantined_count(window)
    else:
        with window.sessions() as s:
            glance.quarantined = s.execute(select(func.count()).select_from(OutboxEntry)
                                           .join(CaseRow, CaseRow.id == OutboxEntry.case_id)
                                           .where(OutboxEntry.status == OutboxStatus.QUARANTINED,
                                                  CaseRow.window_no == window_no)).scalar_one()
    for c in window.cases.list_cases(states=OPEN_STATES):
        if window_no and not c.case_no.split("-")[1] == window_no:
            continue
        if c.sla == "at_risk":
            glance.at_risk += 1
        elif c.sla == "overdue":
            glance.overdue += 1
    from counter_app.signing_queue import SigningQueue

    signing = SigningQueue(window.sessions).summary()
    glance.unsigned = signing.waiting
    glance.unsigned_note = signing.last_error
    for case_id, case_no, version, operator, reason in correction_rows:
        approval = window.cases.correction_approval(case_id)
        if approval is not None and approval.get("valid"):
            continue  # approved and unchanged since: nothing left for the supervisor
        if rejected_as_it_stands(window.cases, case_id):
            continue  # sent back to the clerk: it returns once the clerk changed it
        rec = window.cases.get(case_id)
        glance.corrections.append(PendingCorrection(case_id, case_no, version, mask_name(rec.application.applicant.name),
                                                    operator, reason))
    return glance


def load_correction_review(cases, case_id: str, actor) -> tuple[list, str]:
    """What the correction changes and why it was asked for, in full, for the reviewing supervisor
    (``counter_app.corrections``). Blocks (database): ``ctx.tasks.db``."""
    from counter_app.cases import AccessDenied
    from counter_app.corrections import correction_changes, correction_reason

    try:
        reason = correction_reason(cases, case_id, actor)
    except AccessDenied as exc:
        reason = f"（{getattr(exc, 'message', '') or exc}）"
    return correction_changes(cases, case_id), reason


def build_daily_report(window, day: _dt.date, window_no: str | None, operator: str) -> tuple[bytes, str]:
    """PDF of the daily report. Blocks (database, rendering): ``ctx.tasks.io``."""
    from counter_app.reports import daily_report_data
    from printing.report import render_daily_report

    data = daily_report_data(window, day, window_no, operator=operator)
    result = render_daily_report(data)
    title = f"每日受理报表-{day:%Y%m%d}" + (f"-{window_no}号窗口" if window_no else "-全部窗口")
    return result.pdf, title


class SupervisorPage(QWidget):
    """``open_case(case_id)``: the supervisor wants to look at a correction before approving."""

    open_case = Signal(str)
    loaded = Signal()

    FIGURES = (("accepted", "当日受理"), ("waiting", "待上报"), ("quarantined", "需人工处理"),
               ("at_risk", "临近时限"), ("overdue", "已超时"), ("unsigned", "待电子签章"), ("ratings", "好差评"))

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("supervisorPage")
        self.glance: DayGlance | None = None
        self._after_load = ""

        title = QLabel("审核负责人：当日概况")
        title.setProperty("role", "title")
        self.day = QDateEdit()
        self.day.setObjectName("reportDay")
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("yyyy-MM-dd")
        today = today_local(ctx.window)
        self.day.setDate(QDate(today.year, today.month, today.day))
        self.window_choice = QComboBox()
        self.window_choice.setObjectName("reportWindow")
        self.window_choice.addItem("全部窗口", None)
        self.refresh_button = QPushButton("刷新 F5")
        self.print_button = QPushButton("打印当日报表(&R)")
        self.print_button.setObjectName("printReportButton")
        self.print_button.setProperty("role", "primary")
        day_label = QLabel("日期(&D)：")
        day_label.setBuddy(self.day)
        win_label = QLabel("窗口(&W)：")
        win_label.setBuddy(self.window_choice)
        top = QHBoxLayout()
        top.addWidget(title, 1)
        top.addWidget(day_label)
        top.addWidget(self.day)
        top.addWidget(win_label)
        top.addWidget(self.window_choice)
        top.addWidget(self.refresh_button)
        top.addWidget(self.print_button)

        self.figures: dict[str, QLabel] = {}
        cards = QGridLayout()
        for i, (key, text) in enumerate(self.FIGURES):
            frame = QFrame()
            frame.setProperty("role", "card")
            box = QVBoxLayout(frame)
            name = QLabel(text)
            name.setProperty("role", "subtitle")
            value = QLabel("–")
            value.setObjectName(f"figure_{key}")
            value.setProperty("role", "figure")
            value.setWordWrap(True)
            box.addWidget(name)
            box.addWidget(value)
            self.figures[key] = value
            cards.addWidget(frame, 0, i)
            # The ratings card holds a sentence, the others a number.
            cards.setColumnStretch(i, 2 if key == "ratings" else 1)

        group = QGroupBox("待批准的更正")
        self.corrections = QTableWidget(0, 5)
        self.corrections.setObjectName("correctionsTable")
        self.corrections.setHorizontalHeaderLabels(["办件编号", "版本", "申请人", "发起人", "更正原因"])
        self.corrections.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.corrections.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.corrections.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.corrections.verticalHeader().setVisible(False)
        self.corrections.verticalHeader().setDefaultSectionSize(34)
        self.corrections.setTabKeyNavigation(False)
        self.corrections.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.corrections.horizontalHeader().setStretchLastSection(True)
        self.corrections.cellActivated.connect(self._correction_activated)
        self.open_button = QPushButton("查看(&O)")
        self.approve_button = QPushButton("批准(&A)")
        self.approve_button.setObjectName("approveCorrectionButton")
        self.reject_button = QPushButton("不予批准(&R)…")
        self.reject_button.setObjectName("rejectCorrectionButton")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.reject_button)
        buttons.addWidget(self.approve_button)
        # What the correction changes, before and after, for the selected row.
        self.changes = QTableWidget(0, 3)
        self.changes.setObjectName("correctionChanges")
        self.changes.setHorizontalHeaderLabels(["更正内容", "更正前", "更正后"])
        self.changes.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.changes.verticalHeader().setVisible(False)
        self.changes.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        # the clerk's reason in full (the list above shows it masked, as every list does)
        self.reason_view = QLabel("")
        self.reason_view.setObjectName("correctionReason")
        self.reason_view.setWordWrap(True)
        self.reason_view.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        gl = QVBoxLayout(group)
        gl.addWidget(self.corrections)
        gl.addWidget(self.reason_view)
        gl.addWidget(self.changes)
        gl.addLayout(buttons)

        self.message = QLabel("")
        self.message.setObjectName("supervisorMessage")
        self.message.setProperty("role", "hint")
        self.message.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(cards)
        layout.addWidget(group, 1)
        self.center = CenterReportPanel(ctx)  # the whole center, from the platform
        layout.addWidget(self.center, 1)
        layout.addWidget(self.message)

        self.refresh_button.clicked.connect(self.refresh)
        self.print_button.clicked.connect(self.print_report)
        self.day.dateChanged.connect(self.refresh)
        self.window_choice.activated.connect(self.refresh)
        self.open_button.clicked.connect(self._open_selected)
        self.approve_button.clicked.connect(self.approve_selected)
        self.reject_button.clicked.connect(self.reject_selected)
        self.corrections.itemSelectionChanged.connect(self._show_changes)
        QWidget.setTabOrder(self.day, self.window_choice)
        QWidget.setTabOrder(self.window_choice, self.refresh_button)
        QWidget.setTabOrder(self.refresh_button, self.print_button)
        QWidget.setTabOrder(self.print_button, self.corrections)
        QWidget.setTabOrder(self.corrections, self.open_button)
        QWidget.setTabOrder(self.open_button, self.reject_button)
        QWidget.setTabOrder(self.reject_button, self.approve_button)

    def chosen_day(self) -> _dt.date:
        d = self.day.date()
        return _dt.date(d.year(), d.month(), d.day())

    def chosen_window(self) -> str | None:
        return self.window_choice.currentData()

    @Slot()
    def refresh(self) -> None:
        self.message.setText("正在统计……")
        self.center.refresh(self.chosen_day())
        submit(self.ctx.tasks.db, load_day_glance, self.ctx.window, self.chosen_day(), self.chosen_window(),
                              on_success=self._show, on_failure=self._failed)

    def _failed(self, exc: BaseException) -> None:
        self.message.setText(user_message(exc, "统计"))
        self.loaded.emit()

    def _review_failed(self, exc: BaseException) -> None:
        self.message.setText(user_message(exc, "审批更正"))

    def _show(self, g: DayGlance) -> None:
        self.glance = g
        for key in ("accepted", "waiting", "quarantined", "at_risk", "overdue", "unsigned"):
            value = getattr(g, key)
            label = self.figures[key]
            label.setText(str(value))
            warn = key in ("quarantined", "overdue", "unsigned") and value > 0
            label.setProperty("role", "figureWarn" if warn else "figure")
            label.style().unpolish(label)
            label.style().polish(label)
        self.figures["ratings"].setText(g.ratings_text)
        if g.ratings:
            self.figures["ratings"].setProperty("role", "subtitle")
            self.figures["ratings"].style().polish(self.figures["ratings"])
        current = self.chosen_window()
        known = {self.window_choice.itemData(i) for i in range(self.window_choice.count())}
        for w in g.windows:
            if w not in known:
                self.window_choice.addItem(f"{w}号窗口", w)
        if current is not None:
            self.window_choice.setCurrentIndex(max(0, self.window_choice.findData(current)))
        self.corrections.setRowCount(len(g.corrections))
        for r, c in enumerate(g.corrections):
            for col, v in enumerate((c.case_no, f"第{c.version}版", c.masked_name, c.operator, c.reason)):
                item = QTableWidgetItem(v)
                item.setData(Qt.ItemDataRole.UserRole, c.case_id)
                self.corrections.setItem(r, col, item)
        if g.corrections:
            self.corrections.selectRow(0)
        self.figures["unsigned"].setToolTip(g.unsigned_note or "签章密钥可用时自动补签")
        self.message.setText(self._after_load)
        self._after_load = ""
        self.loaded.emit()

    def _selected_correction(self) -> str | None:
        row = self.corrections.currentRow()
        item = self.corrections.item(row, 0) if row >= 0 else None
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    @Slot(int, int)
    def _correction_activated(self, row: int, column: int) -> None:
        self._open_selected()

    @Slot()
    def _open_selected(self) -> None:
        case_id = self._selected_correction()
        if case_id:
            self.open_case.emit(case_id)

    @Slot()
    def approve_selected(self) -> None:
        case_id = self._selected_correction()
        if not case_id or self.ctx.actor is None:
            return
        self.message.setText("正在批准……")
        submit(self.ctx.tasks.db, self.ctx.window.cases.approve_correction, case_id, self.ctx.actor, on_success=self._approved,
               on_failure=self._review_failed)

    @Slot()
    def reject_selected(self) -> None:
        case_id = self._selected_correction()
        if not case_id or self.ctx.actor is None:
            return
        reason, ok = QInputDialog.getText(self, "不予批准", "不予批准的原因（受理员会看到）：")
        if not ok:
            return
        if not reason.strip():
            self.message.setText("请填写不予批准的原因。")
            return
        self.reject(case_id, reason)

    def reject(self, case_id: str, reason: str) -> None:
        from counter_app.corrections import reject_correction

        self.message.setText("正在退回……")
        submit(self.ctx.tasks.db, reject_correction, self.ctx.window.cases, case_id, self.ctx.actor, reason,
               on_success=self._rejected, on_failure=self._review_failed)

    def _rejected(self, record) -> None:
        self._after_load = f"已退回办件{record.case_no}的第{record.version}版更正，受理员会看到原因。"
        self.message.setText(self._after_load)
        self.refresh()

    @Slot()
    def _show_changes(self) -> None:
        case_id = self._selected_correction()
        self.changes.setRowCount(0)
        self.reason_view.setText("")
        if case_id and self.ctx.actor is not None:
            submit(self.ctx.tasks.db, load_correction_review, self.ctx.window.cases, case_id, self.ctx.actor,
                   on_success=self._review_loaded, on_failure=self._review_failed)

    def _review_loaded(self, review: tuple[list, str]) -> None:
        changes, reason = review
        self.reason_view.setText(f"更正原因：{reason}" if reason else "")
        self._changes_loaded(changes)

    def _changes_loaded(self, changes) -> None:
        self.changes.setRowCount(len(changes))
        for r, c in enumerate(changes):
            for col, text in enumerate((field_title(c.path), c.before, c.after)):
                self.changes.setItem(r, col, QTableWidgetItem(text))
        if not changes:
            self.changes.setRowCount(1)
            self.changes.setItem(0, 0, QTableWidgetItem("（与原版本相同，尚未修改）"))

    def _approved(self, record) -> None:
        self._after_load = f"已批准办件{record.case_no}的第{record.version}版更正，受理员可以请申请人签字后提交。"
        self.refresh()

    @Slot()
    def print_report(self) -> None:
        from ui.printouts import print_pdf

        window = self.ctx.window
        day, window_no = self.chosen_day(), self.chosen_window()
        operator = self.ctx.actor.username if self.ctx.actor else ""

        def job() -> str:  # io worker: database read, rendering, spooling; no widgets
            pdf, title = build_daily_report(window, day, window_no, operator)
            return print_pdf(window, pdf, "daily_report", title)

        self.message.setText("正在生成每日受理报表……")
        self.print_button.setEnabled(False)
        submit(self.ctx.tasks.io, job, on_success=self._printed, on_failure=self._print_failed)

    def _printed(self, text: str) -> None:
        self.print_button.setEnabled(True)
        self.message.setText(text)

    def _print_failed(self, exc: BaseException) -> None:
        self.print_button.setEnabled(True)
        self.message.setText(user_message(exc, "打印每日报表"))
