"""Step 8 — submit: finalize (sealed, immutable from here), queue for sync, print the receipt.

Before submitting, the step lists what the rules still miss (``rules.validate(for_finalize=True)``)
and whether the window may accept at all (cases waiting too long to reach the platform block new
acceptances: ``counter_app.sync.acceptance_allowed``). Submitting calls ``CaseService.finalize`` on
``ctx.tasks.db`` — case, outbox entry and audit entry in one transaction, with the signed form PDF
and the scan — then wakes the sync worker and renders the receipt. Offline, the case simply waits
in the queue: the receipt says so, and the sync worker sends it when the platform is back.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout

from counter_app.config import DocumentDetails
from counter_app.rules import validate
from counter_app.scheme import ITEMS
from ui.acceptance.step import Step, page_layout, user_message
from ui.acceptance.style import ERROR, OK, set_role
from ui.print_preview import Document, DocumentPreview

if TYPE_CHECKING:  # the sync package is imported on a worker, never on the GUI thread at start
    from counter_app.sync.status import SyncStatus


def finalize_case(window: Any, case_id: str, app, actor, form_pdf: bytes, signed_scan: bytes) -> dict:
    """``ctx.tasks.db``: seal and queue; returns the sealed case JSON (finalize hands it back)."""
    return window.cases.finalize(case_id, app, actor, form_pdf=form_pdf, signed_scan=signed_scan).case_json


def export_case(window, case_id: str) -> dict:
    """``ctx.tasks.db``: the case JSON as printing reads it (deadlines, operator, platform state)."""
    return window.cases.export(case_id)


def render_receipt(case_json: dict, details: DocumentDetails):
    """``ctx.tasks.io``: the acceptance receipt (``printing.receipt``, in the render process)."""
    from ui.acceptance.render_pool import render

    return render("printing.receipt", "render_receipt", case_json, lookup_url=details.lookup_url,
                  military_office=details.military_office)


def acceptance_allowed(window: Any) -> tuple[bool, str]:
    """``ctx.tasks.db``: the sync package's rule (too old a queue blocks new acceptances)."""
    from counter_app.sync import acceptance_allowed as rule

    return rule(window)


def confirm_shown(window: Any, case_id: str) -> None:
    window.cases.confirm_shown(case_id)


class SubmitStep(Step):
    key = "submit"
    title = "提交"
    actions = (("F5", "打印受理回执", "print_receipt"),)
    # A signal, not a hook attribute the widget overwrites with its bound method: that made a
    # reference cycle (widget → steps → this step → widget) that only the cyclic GC could free, so
    # each finished acceptance's page images (~12 MB) stayed in memory for a long time.
    finalized = Signal()   # the case was finalized (the acceptance widget locks the earlier steps)

    def __init__(self, ctx, session, parent=None):
        super().__init__(ctx, session, parent)
        lay = page_layout(self, "第8步　提交",
                          "核对无误后按 F9 提交。提交后办件定稿，不能再修改（如需更正须发起更正，生成新版本），"
                          "并进入上报队列；随后打印受理回执交给申请人。")
        body = QHBoxLayout()
        lay.addLayout(body, 1)
        left = QVBoxLayout()
        self.checklist = QLabel("")
        self.checklist.setWordWrap(True)
        self.checklist.setTextFormat(Qt.TextFormat.RichText)
        left.addWidget(self.checklist)
        self.state = QLabel("")
        self.state.setWordWrap(True)
        set_role(self.state, "banner-info")
        left.addWidget(self.state)
        self.sync_state = QLabel("")
        self.sync_state.setWordWrap(True)
        set_role(self.sync_state, "hint")
        left.addWidget(self.sync_state)
        left.addStretch(1)
        body.addLayout(left, 2)
        self.receipt = DocumentPreview(ctx)
        self.receipt.notice.connect(lambda text, level: self.notify.emit(text, level))
        self.receipt.printed.connect(lambda key: self.session.printed.add(key))
        body.addWidget(self.receipt, 3)
        self.allowed: tuple[bool, str] | None = None
        self.submitting = False
        # submitted and its receipt made: on to the applicant's rating by itself (F7 there prints
        # the receipt while the applicant rates; F8 comes back here to see it)
        self._rate_when_ready = False
        self.busy_changed.connect(lambda busy: None if busy else self._go_on_to_rating())
        if ctx.sync is not None:
            ctx.sync.status_changed.connect(self._sync_status)

    # ------------------------------------------------------------------ protocol
    def enter(self) -> None:
        self._show_checklist()
        if not self.session.finalized:
            self.run_db(acceptance_allowed, self.ctx.window, doing="检查上报队列", on_success=self._allowed)
            self.state.setText("尚未提交。")
            set_role(self.state, "banner-info")
        else:
            self._show_finalized()

    def blockers(self) -> list[str]:
        if self.session.finalized:
            return []
        out = [p.message for p in validate(self.session.app, for_finalize=True) if p.blocking]
        s = self.session
        if s.form_pdf is None:
            out.append("申请表尚未签名生成，请回到第6步。")
        if s.signed_scan is None:
            out.append("签字后的申请表尚未扫描导入，请回到第7步。")
        if self.allowed is not None and not self.allowed[0]:
            out.append(self.allowed[1])
        if s.case_id is None:
            out.append("办件尚未建立，请回到第1步。")
        return list(dict.fromkeys(out))

    def advance(self, proceed: Callable[[], None]) -> None:
        if self.session.finalized:
            proceed()
            return
        if self.submitting:
            return
        self.submitting = True
        s = self.session
        self.state.setText("正在提交……")
        set_role(self.state, "banner-info")

        def done(case_json: dict) -> None:
            self.submitting = False
            s.finalized = True
            s.case_json = case_json
            self.notify.emit(f"已提交：办件 {s.case_no} 已定稿并进入上报队列。请申请人评价，同时按 F7 打印受理回执交申请人。",
                             "ok")
            self._rate_when_ready = True
            self._show_finalized()
            self.finalized.emit()
            if self.ctx.sync is not None:
                self.ctx.sync.wake()
            if self.ctx.signing is not None:
                self.ctx.signing.wake()  # the center's signature, in the background
            self.run_db(confirm_shown, self.ctx.window, s.case_id, doing="记录确认")
            self.run_io(render_receipt, case_json, DocumentDetails.of(self.ctx.window.settings), doing="生成回执",
                        on_success=self._receipt_ready)

        def failed(exc: BaseException) -> None:
            self.submitting = False
            message = user_message(exc, "提交")
            if "须经审核负责人审批" in message:
                # not an error: the correction now waits for the supervisor, as it should
                self.state.setText("已提交审批：本更正须经审核负责人批准，批准后再按 F9 提交。")
                set_role(self.state, "banner-info")
                self.notify.emit("已提交审批，请等待审核负责人批准。", "info")
                return
            self.state.setText(message + "　已填写的内容都还在，处理后再按 F9 提交。")
            set_role(self.state, "banner-error")
            self.notify.emit(message, "error")
            self._show_checklist()

        self.run_db(finalize_case, self.ctx.window, s.case_id, s.app.copy(), self.actor, s.form_pdf, s.signed_scan,
                    doing="提交", on_success=done, on_failure=failed)

    # ------------------------------------------------------------------ display
    def _allowed(self, result: tuple[bool, str]) -> None:
        self.allowed = result
        self._show_checklist()

    def _show_checklist(self) -> None:
        s = self.session
        app = s.app
        lines = []

        def line(ok: bool, text: str) -> None:
            mark, colour = ("✓", OK) if ok else ("✗", ERROR)
            lines.append(f'<span style="color:{colour}">{mark}</span> {text}')

        line(s.case_id is not None, f"办件编号：{s.case_no or '（未建立）'}")
        line(bool(app.items), "联办事项：" + ("、".join(ITEMS[n].short for n in app.items) or "未选择"))
        problems = [p for p in validate(app, for_finalize=True) if p.blocking]
        line(not problems, "申请表和材料：" + ("齐全" if not problems else f"还有 {len(problems)} 处问题"))
        for p in problems[:6]:
            lines.append(f'<span style="color:{ERROR}">　· {p.message}</span>')
        if s.photo_required:
            line(bool(app.photo), "照片：" + ("已采集" if app.photo else "未采集"))
        line(s.form_pdf is not None and bool(app.signature), "申请人签名：" + ("已确认" if app.signature else "未签名"))
        line(s.signed_scan is not None, "签字扫描件：" + (f"已导入（{s.signed_scan_pages} 页）" if s.signed_scan else "未导入"))
        if self.allowed is not None and not self.allowed[0]:
            line(False, self.allowed[1])
        self.checklist.setText("<br>".join(lines))

    def _show_finalized(self) -> None:
        s = self.session
        self.state.setText(f"已提交：办件 {s.case_no} 已定稿（不可修改），已进入上报队列。")
        set_role(self.state, "banner-ok")
        self._show_checklist()
        self._sync_status(self.ctx.sync.last_status if self.ctx.sync is not None else None)

    def _sync_status(self, status: SyncStatus | None) -> None:
        if not self.session.finalized:
            return
        self._check_acknowledged()
        if status is None:
            self.sync_state.setText("上报：等待同步（联网后自动上报省平台）。")
            return
        if status.online is False:
            self.sync_state.setText("上报：当前未连接省平台，办件已安全保存在本机队列中，网络恢复后自动上报。")
        else:
            self.sync_state.setText(f"上报：已连接省平台，队列中待上报 {status.waiting} 件。")

    def _check_acknowledged(self) -> None:
        """The receipt says 临时回执 only until the platform acknowledges the case: then it is
        rendered again without the mark (a sync round may have confirmed it meanwhile)."""
        s = self.session
        if s.case_json is None or s.case_id is None or (s.case_json.get("platform") or {}).get("acknowledged"):
            return
        if getattr(self, "_checking_ack", False):
            return
        self._checking_ack = True

        def exported(case_json: dict) -> None:
            self._checking_ack = False
            if (case_json.get("platform") or {}).get("acknowledged"):
                s.case_json = case_json
                self.run_io(render_receipt, case_json, DocumentDetails.of(self.ctx.window.settings), doing="生成回执",
                            on_success=self._receipt_ready)

        def failed(_exc: BaseException) -> None:
            self._checking_ack = False

        self.run_db(export_case, self.ctx.window, s.case_id, doing="查询平台确认", on_success=exported,
                    on_failure=failed)

    def _receipt_ready(self, result) -> None:
        s = self.session
        s.receipt_pdf = result.pdf
        self.receipt.set_document(Document("receipt", "受理回执", result.pdf, "请打印后交申请人"))
        self._go_on_to_rating()

    def _go_on_to_rating(self) -> None:
        if self._rate_when_ready and not self.busy and self.session.receipt_pdf is not None and not self.read_only:
            self._rate_when_ready = False
            self.request_next_soon()

    def print_receipt(self) -> None:
        if self.session.receipt_pdf is not None:
            self.receipt.print_document()
        else:
            self.notify.emit("办件提交后才能打印受理回执。", "warning")
