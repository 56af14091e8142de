"""One case in detail: per-item department progress with due dates, the timeline (case
transitions and department status events), reprints, a correction, and, for authorised roles,
the full personal values (through the security package, which audits every reveal).

:func:`load_case_detail` runs on ``ctx.tasks.db`` and returns only masked values; the page
never receives the decrypted application.
"""
from __future__ import annotations
from counter_app.clock import CHINA_TZ
from counter_app.statuses import OutboxStatus


import datetime as _dt
import logging
from dataclasses import dataclass, field

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QFormLayout, QGridLayout, QHBoxLayout, QHeaderView, QLabel, QMenu, QPlainTextEdit,
    QPushButton, QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget,
)

from ui.background import submit
from counter_app.sync.followups import start_correction_with_letter
from ui.case_followups import CaseFollowUpsPanel
from ui.context import AppContext
from ui.errors import show_error, user_message
from ui.permissions import allowed
from ui.printouts import REPRINTS
from ui.worklist import SLA_BACKGROUND, SLA_FOREGROUND, SLA_TITLES

log = logging.getLogger(__name__)



@dataclass
class ProgressRow:
    item: int
    title: str
    department: str
    status: str
    due: str
    sla: str | None
    updated: str
    note: str


@dataclass
class TimelineRow:
    at: str
    what: str
    who: str
    note: str


@dataclass
class CaseDetail:
    id: str
    case_no: str
    version: int
    state: str
    state_title: str
    masked_name: str
    masked_id: str
    masked_phone: str
    retirement: str
    source: str
    operator: str
    accepted_on: str
    case_due: str
    outbox: str
    progress: list[ProgressRow] = field(default_factory=list)
    timeline: list[TimelineRow] = field(default_factory=list)
    reprints: list[tuple[str, str]] = field(default_factory=list)  # (doc_type, label)
    can_correct: bool = False
    rating_offer: str | None = None  # "completion": 已办结, the applicant may rate again (好差评)
    correction_reason: str = ""        # set on a correction draft
    supersedes_no: str = ""
    awaiting_approval: bool = False    # a correction waiting for a supervisor


def _local(value: str | _dt.datetime | None) -> str:
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = _dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.timezone.utc)
    return value.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")


def correction_approval_pending(window, record) -> bool:
    """A correction draft that has no valid supervisor approval yet (edits after an approval void it)."""
    from counter_app.lifecycle import EDITABLE_STATES

    if not record.supersedes_id or record.state not in EDITABLE_STATES:
        return False
    approval = window.cases.correction_approval(record.id)
    return approval is None or not approval.get("valid", False)


def load_case_detail(window, case_id: str) -> CaseDetail:
    """Everything the page shows, masked. Blocks (database, decryption): ``ctx.tasks.db``."""
    from sqlalchemy import select

    from counter_app.lifecycle import (
        CASE_STATE_TITLES, ITEM_DONE_FOR_SLA, ITEM_FINAL, ITEM_STATUS_TITLES, CaseState, ItemStatus,
    )
    from counter_app.masking import mask_id_number, mask_name, mask_phone
    from counter_app.scheme import ITEMS, RETIREMENT_TITLES
    from counter_app.store.models import CaseRow, ItemStatusEvent
    from counter_app.masking import mask_text
    from counter_app.sync.notifications import CHANNEL_TITLES, KIND_TITLES, sent_messages
    from counter_app.sync.followups import letter_state
    from counter_app.sync.ratings import rating_offer

    rec = window.cases.get(case_id)
    app = rec.application
    progress = []
    for p in sorted(rec.progress, key=lambda p: p["item"]):
        item = ITEMS.get(p["item"])
        sla = p.get("sla")
        try:
            st = ItemStatus(p["status"])
            status = st.title
            if st in ITEM_DONE_FOR_SLA or st in ITEM_FINAL:
                sla = "done"  # the stored state may predate the department's last report
        except ValueError:
            status = p["status"]
        progress.append(ProgressRow(p["item"], item.title if item else str(p["item"]),
                                    item.department.title if item else "", status, p.get("due") or "无时限",
                                    sla, _local(p.get("updated_at")), p.get("note") or ""))
    letter = letter_state(window, case_id)
    if letter.needed and not letter.sealed and letter.sent_at is None:
        # The platform holds the police items until the stamped letter arrives (规程 五(四)1).
        for row in progress:
            if row.item in (4, 5) and row.status in (ItemStatus.PENDING_PUSH.title, ItemStatus.PUSHED.title):
                row.status, row.note = "待推送（待回传落户介绍信）", letter.text
    if not progress:  # not finalized yet: show the chosen items without status
        for n in app.items:
            item = ITEMS.get(n)
            if item:
                progress.append(ProgressRow(n, item.title, item.department.title, "未提交", "", None, "", ""))

    timeline: list[tuple[_dt.datetime, TimelineRow]] = []
    correction_reason = ""
    for t in rec.transitions:
        to = CASE_STATE_TITLES.get(CaseState(t["to"]), t["to"]) if t["to"] else ""
        frm = CASE_STATE_TITLES.get(CaseState(t["from"]), t["from"]) if t["from"] else ""
        what = f"办件：{frm} → {to}" if frm and frm != to else f"办件：{to}"
        reason = t.get("reason") or ""
        if reason.startswith("更正原因："):
            correction_reason = reason[len("更正原因："):]
            what = "发起更正"
        timeline.append((_dt.datetime.fromisoformat(t["at"]) if t["at"] else _dt.datetime.min.replace(tzinfo=CHINA_TZ),
                         TimelineRow(_local(t["at"]), what, t.get("operator") or "", reason)))
    with window.sessions() as s:
        events = s.execute(select(ItemStatusEvent).where(ItemStatusEvent.case_id == case_id)
                           .order_by(ItemStatusEvent.at, ItemStatusEvent.id)).scalars().all()
        for e in events:
            try:
                to = ITEM_STATUS_TITLES[ItemStatus(e.to_status)]
            except ValueError:
                to = e.to_status
            item = ITEMS.get(e.item)
            who = "省平台" if e.source == "platform" else (e.operator or "窗口")
            at = e.at if e.at.tzinfo else e.at.replace(tzinfo=_dt.timezone.utc)
            timeline.append((at, TimelineRow(_local(at), f"事项{e.item}{('“' + item.short + '”') if item else ''}：{to}",
                                             who, e.note or "")))
        newer = s.execute(select(CaseRow.id).where(CaseRow.supersedes_id == case_id)).first()
        supersedes_no = ""
        if rec.supersedes_id:
            old = s.get(CaseRow, rec.supersedes_id)
            supersedes_no = f"{old.case_no}（第{old.version}版）" if old else ""
    # What the platform sent the applicant (the scheme's SMS of results), shown as sent, masked.
    for m in sent_messages(window, case_id):
        kind = KIND_TITLES.get(m.kind, m.kind)
        timeline.append((m.at, TimelineRow(_local(m.at), f"{CHANNEL_TITLES.get(m.channel, m.channel)}通知：{kind}",
                                           "省平台", mask_text(m.text))))
    timeline.sort(key=lambda pair: pair[0])

    plan = window.cases.deadlines(case_id)   # the same computation as the receipt's and the worklist's
    whole = plan.get(None)
    case_due = whole.due.isoformat() if whole is not None and whole.due else ""
    outbox = {s.value: s.title for s in OutboxStatus}
    outbox_text = outbox.get((rec.outbox or {}).get("status", ""), "未提交") if rec.outbox else "未提交"
    if rec.outbox and rec.outbox.get("last_error") and rec.outbox.get("status") != OutboxStatus.ACKED:
        outbox_text += f"（{rec.outbox['last_error']}）"
    reprints = [(r.doc_type, r.label) for r in REPRINTS
                if rec.finalized_at and (r.needs_item is None or r.needs_item in app.items)]
    can_correct = (rec.finalized_at is not None and rec.state not in (CaseState.SUPERSEDED, CaseState.WITHDRAWN)
                   and newer is None)
    return CaseDetail(
        id=rec.id, case_no=rec.case_no, version=rec.version, state=rec.state.value, state_title=rec.state.title,
        masked_name=mask_name(app.applicant.name), masked_id=mask_id_number(app.applicant.id_number),
        masked_phone=mask_phone(app.applicant.phone),
        retirement=RETIREMENT_TITLES.get(app.retirement_type, "") if app.retirement_type else "",
        source="网上申请" if app.source == "online" else "窗口受理", operator=rec.operator,
        accepted_on=rec.accepted_on.isoformat() if rec.accepted_on else "尚未受理", case_due=case_due,
        outbox=outbox_text, progress=progress, timeline=[row for _, row in timeline], reprints=reprints,
        can_correct=can_correct, correction_reason=correction_reason, supersedes_no=supersedes_no,
        awaiting_approval=correction_approval_pending(window, rec),
        rating_offer=rating_offer(window, rec.id),
    )


def reveal_values(window, actor, case_no: str, version: int) -> dict[str, str]:
    """Full personal values for an authorised role (supervisor); ``reveal_case`` checks the role
    against the operators table and writes the audit entry. Blocks: ``ctx.tasks.db``."""
    from counter_app.security.access import reveal_case

    case = reveal_case(window, actor, case_no, version)
    a = (case.get("application") or {}).get("applicant") or {}
    h = (case.get("application") or {}).get("hukou") or {}
    labels = (("name", "姓名"), ("sex", "性别"), ("id_number", "公民身份号码"), ("phone", "联系电话"),
              ("backup_contact", "备用联系人"), ("backup_phone", "联系人电话"), ("current_address", "现居住地址"))
    values = {label: str(a.get(key) or "") for key, label in labels}
    if h.get("target_address"):
        values["拟申请落户地址"] = str(h["target_address"])
    return values


class CorrectionDialog(QDialog):
    """Ask for the reason of a correction (required; it is stored with the new version)."""

    def __init__(self, case_no: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("发起更正")
        self.setObjectName("correctionDialog")
        text = QLabel(f"办件 {case_no} 已定稿，更正会生成一个新版本，原版本保留。\n"
                      "新版本提交前须经审核负责人批准。请写明更正原因：")
        text.setWordWrap(True)
        self.reason = QPlainTextEdit()
        self.reason.setObjectName("correctionReason")
        self.reason.setTabChangesFocus(True)
        self.reason.setPlaceholderText("例如：申请人联系电话登记有误，应为……")
        self.error = QLabel("")
        self.error.setProperty("role", "error")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("发起更正")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        buttons.accepted.connect(self._check)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(self.reason)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.resize(560, 300)

    def _check(self) -> None:
        if not self.reason.toPlainText().strip():
            self.error.setText("请填写更正原因。")
            self.reason.setFocus()
            return
        self.accept()

    @property
    def text(self) -> str:
        return self.reason.toPlainText().strip()


class CaseDetailPage(QWidget):
    """``correction_started(new_case_id)``: open the new version in the acceptance workflow.
    ``back()``: return to the worklist (Esc)."""

    correction_started = Signal(str)
    back = Signal()
    loaded = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("caseDetailPage")
        self.detail: CaseDetail | None = None

        self.title = QLabel("办件详情")
        self.title.setProperty("role", "title")
        self.back_button = QPushButton("返回工作台 Esc")
        self.refresh_button = QPushButton("刷新 F5")
        self.reprint_button = QPushButton("补打(&P)")
        self.reprint_button.setObjectName("reprintButton")
        self.reprint_menu = QMenu(self)
        self.reprint_button.setMenu(self.reprint_menu)
        self.correct_button = QPushButton("更正(&C)")
        self.correct_button.setObjectName("correctButton")
        self.approve_button = QPushButton("批准更正(&A)")
        self.approve_button.setObjectName("approveButton")
        self.approve_button.setProperty("role", "primary")
        self.reveal_button = QPushButton("显示完整信息(&V)")
        self.reveal_button.setObjectName("revealButton")
        # 规程 五(六): 好差评 after acceptance *and* after completion; shown once the case is 已办结.
        self.rate_button = QPushButton("办结评价（申请人屏）")
        self.rate_button.setObjectName("completionRatingButton")
        self.rate_button.clicked.connect(self.ask_completion_rating)
        self._rating_screen = None
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        for b in (self.rate_button, self.reveal_button, self.reprint_button, self.correct_button, self.approve_button,
                  self.refresh_button, self.back_button):
            top.addWidget(b)

        self.fields: dict[str, QLabel] = {}
        grid = QGridLayout()
        labels = (("case_no", "办件编号"), ("state", "办件状态"), ("name", "申请人"), ("id", "公民身份号码"),
                  ("phone", "联系电话"), ("retirement", "退役类型"), ("source", "来源"), ("operator", "受理人"),
                  ("accepted", "受理日期"), ("due", "办结时限"), ("outbox", "上报省平台"), ("correction", "更正"))
        for i, (key, text) in enumerate(labels):
            name = QLabel(f"{text}：")
            name.setProperty("role", "hint")
            value = QLabel("")
            value.setObjectName(f"detail_{key}")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setWordWrap(True)
            self.fields[key] = value
            grid.addWidget(name, i // 3, (i % 3) * 2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
            grid.addWidget(value, i // 3, (i % 3) * 2 + 1)
        for c in (1, 3, 5):
            grid.setColumnStretch(c, 1)

        self.progress = QTableWidget(0, 7)
        self.progress.setObjectName("progressTable")
        self.progress.setHorizontalHeaderLabels(["事项", "名称", "承办部门", "办理状态", "应办结日期", "时限", "更新时间"])
        self.timeline = QTableWidget(0, 4)
        self.timeline.setObjectName("timelineTable")
        self.timeline.setHorizontalHeaderLabels(["时间", "经过", "操作人", "说明"])
        for table in (self.progress, self.timeline):
            table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
            table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
            table.verticalHeader().setVisible(False)
            table.verticalHeader().setDefaultSectionSize(34)
            table.setTabKeyNavigation(False)
            table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
            table.horizontalHeader().setStretchLastSection(True)
        self.progress.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.progress, "各部门办理进度(&1)")
        self.tabs.addTab(self.timeline, "办理经过(&2)")

        self.message = QLabel("")
        self.message.setObjectName("detailMessage")
        self.message.setProperty("role", "hint")
        self.message.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(grid)
        layout.addWidget(self.message)
        # After acceptance: the letter scanned back, 出件, the ratings and their channels.
        self.followups = CaseFollowUpsPanel(ctx)
        self.followups.changed.connect(self.refresh)
        layout.addWidget(self.followups)
        layout.addWidget(self.tabs, 1)

        self.back_button.clicked.connect(self.back)
        self.refresh_button.clicked.connect(self.refresh)
        self.correct_button.clicked.connect(self.start_correction)
        self.approve_button.clicked.connect(self.approve_correction)
        self.reveal_button.clicked.connect(self.reveal)
        self._set_actions(None)

    # ---- loading -----------------------------------------------------------------------------
    def show_case(self, case_id: str) -> None:
        self._case_id = case_id
        self.message.setText("正在载入……")
        submit(self.ctx.tasks.db, load_case_detail, self.ctx.window, case_id, on_success=self._show,
                              on_failure=self._failed)

    @Slot()
    def refresh(self) -> None:
        if getattr(self, "_case_id", None):
            self.show_case(self._case_id)

    def _failed(self, exc: BaseException) -> None:
        self.message.setText(user_message(exc, "载入办件"))
        self.loaded.emit()

    def _show(self, d: CaseDetail) -> None:
        self.detail = d
        self.title.setText(f"办件详情　{d.case_no}" + (f"（第{d.version}版）" if d.version > 1 else ""))
        f = self.fields
        f["case_no"].setText(d.case_no + (f"　第{d.version}版" if d.version > 1 else ""))
        f["state"].setText(d.state_title)
        f["name"].setText(d.masked_name)
        f["id"].setText(d.masked_id)
        f["phone"].setText(d.masked_phone)
        f["retirement"].setText(d.retirement)
        f["source"].setText(d.source)
        f["operator"].setText(d.operator)
        f["accepted"].setText(d.accepted_on)
        f["due"].setText(d.case_due)
        f["outbox"].setText(d.outbox)
        corr = ""
        if d.supersedes_no:
            corr = f"更正自 {d.supersedes_no}"
            if d.correction_reason:
                corr += f"，原因：{d.correction_reason}"
            if d.awaiting_approval:
                corr += "（待审核负责人批准）"
        f["correction"].setText(corr or "无")

        self.progress.setRowCount(len(d.progress))
        for r, p in enumerate(d.progress):
            values = [str(p.item), p.title, p.department, p.status, p.due, SLA_TITLES.get(p.sla, p.sla or ""), p.updated]
            for c, v in enumerate(values):
                cell = QTableWidgetItem(v)
                if p.sla in SLA_BACKGROUND:
                    cell.setBackground(QBrush(QColor(SLA_BACKGROUND[p.sla])))
                    cell.setForeground(QBrush(QColor(SLA_FOREGROUND[p.sla])))
                if c == 3 and p.note:
                    cell.setToolTip(p.note)
                self.progress.setItem(r, c, cell)
        self.timeline.setRowCount(len(d.timeline))
        for r, t in enumerate(d.timeline):
            for c, v in enumerate((t.at, t.what, t.who, t.note)):
                self.timeline.setItem(r, c, QTableWidgetItem(v))
        self.message.setText("")
        self._set_actions(d)
        self.followups.show_case(d.id)
        self.loaded.emit()

    def _set_actions(self, d: CaseDetail | None) -> None:
        actor = self.ctx.actor
        self.correct_button.setEnabled(bool(d and d.can_correct))
        self.correct_button.setVisible(allowed(actor, "START_CORRECTION"))
        self.approve_button.setVisible(bool(d and d.awaiting_approval) and allowed(actor, "APPROVE_CORRECTION"))
        self.reveal_button.setVisible(allowed(actor, "REVEAL"))
        self.reveal_button.setEnabled(d is not None)
        self.rate_button.setVisible(bool(d and d.rating_offer == "completion"))
        self.reprint_menu.clear()
        for doc_type, label in (d.reprints if d else []):
            action = self.reprint_menu.addAction(label)
            action.setData(doc_type)
            action.triggered.connect(self._reprint_triggered)
        self.reprint_button.setEnabled(bool(d and d.reprints))

    # ---- actions -------------------------------------------------------------------------------
    @Slot()
    def _reprint_triggered(self) -> None:
        action = self.sender()
        if self.detail is not None and action is not None:
            self.reprint(action.data())

    def reprint(self, doc_type: str) -> None:
        from ui.printouts import print_pdf, render_reprint

        window = self.ctx.window
        case_id = self.detail.id

        def job() -> str:  # io worker: render, then spool; touches no widget
            pdf, title = render_reprint(window, case_id, doc_type)
            return print_pdf(window, pdf, doc_type, title)

        self.message.setText("正在生成并打印……")
        submit(self.ctx.tasks.io, job, on_success=self._printed, on_failure=self._print_failed)

    def _printed(self, text: str) -> None:
        self.message.setText(text)

    def _print_failed(self, exc: BaseException) -> None:
        self.message.setText(user_message(exc, "补打"))

    @Slot()
    def ask_completion_rating(self) -> None:
        """The applicant came back (e.g. to pick up a card): the rating of the completed case on their screen."""
        if self.detail is None or self.detail.rating_offer != "completion":
            return
        from ui.applicant_screen import applicant_screen_for

        screen = applicant_screen_for(self.ctx)
        screen.ask_rating(self.detail.id, stage="completion")
        if screen is not self._rating_screen:
            screen.rating_saved.connect(self._completion_rated)
            self._rating_screen = screen
        self.message.setText("已在申请人屏幕显示办结评价，请申请人评价。")

    @Slot(str)
    def _completion_rated(self, case_id: str) -> None:
        if self.detail is not None and case_id == self.detail.id:
            self.message.setText("申请人已对办结服务评价，谢谢。")
            self.refresh()

    def start_correction(self) -> None:
        d = self.detail
        if d is None or not d.can_correct or self.ctx.actor is None:
            return
        dialog = CorrectionDialog(d.case_no, self)
        dialog.accepted.connect(lambda: self._run_correction(dialog.text))  # GUI thread: dialog signal
        dialog.open()
        self._correction_dialog = dialog

    def _run_correction(self, reason: str) -> None:
        d = self.detail
        self.message.setText("正在生成更正版本……")
        submit(self.ctx.tasks.db, start_correction_with_letter, self.ctx.window, d.id, self.ctx.actor, reason,
                              on_success=self._correction_made, on_failure=self._correction_failed)

    def _correction_made(self, record) -> None:
        self.message.setText(f"已生成第{record.version}版，请在受理界面修改后提交。")
        self.correction_started.emit(record.id)

    def _correction_failed(self, exc: BaseException) -> None:
        self.message.setText(user_message(exc, "发起更正"))

    @Slot()
    def approve_correction(self) -> None:
        d = self.detail
        if d is None or self.ctx.actor is None:
            return
        submit(self.ctx.tasks.db, self.ctx.window.cases.approve_correction, d.id, self.ctx.actor,
                              on_success=self._approved, on_failure=self._approve_failed)

    def _approve_failed(self, exc: BaseException) -> None:
        self.message.setText(user_message(exc, "批准更正"))

    def _approved(self, _record=None) -> None:
        self.message.setText("已批准更正，受理员可以提交新版本。")
        self.refresh()

    @Slot()
    def reveal(self) -> None:
        d = self.detail
        if d is None or self.ctx.actor is None:
            return
        submit(self.ctx.tasks.db, reveal_values, self.ctx.window, self.ctx.actor, d.case_no, d.version,
                              on_success=self._show_revealed, on_failure=self._reveal_failed)

    def _reveal_failed(self, exc: BaseException) -> None:
        show_error(self, exc, "显示完整信息")

    def _show_revealed(self, values: dict[str, str]) -> None:
        dialog = QDialog(self)
        dialog.setWindowTitle("完整信息（已记录查看日志）")
        dialog.setObjectName("revealDialog")
        form = QFormLayout(dialog)
        for k, v in values.items():
            label = QLabel(v)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(f"{k}：", label)
        close = QPushButton("关闭")
        close.clicked.connect(dialog.accept)
        form.addRow(close)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

