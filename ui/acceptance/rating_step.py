"""Step 9 — the applicant rates the acceptance on their own screen (好差评, GB/T 39735).

The five levels (非常满意 … 非常不满意) and the optional reason are chosen on the applicant-facing
screen, which records the rating itself. This screen never shows the choice: it says
"等待申请人评价…" and, once the rating is saved, "已评价". An applicant who declines to rate is
respected, but only the applicant says so: the 不评价 button on their screen ends the acceptance
without a rating; the clerk can neither choose nor skip for them.
"""
from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QLabel, QPushButton

from ui.acceptance.step import Step, page_layout
from ui.acceptance.style import set_role


class RatingStep(Step):
    key = "rating"
    title = "服务评价"
    actions = (("F5", "在申请人屏幕重新显示评价", "ask_again"), ("F7", "打印受理回执", "print_receipt"))

    def __init__(self, ctx, session, parent=None):
        super().__init__(ctx, session, parent)
        lay = page_layout(self, "第9步　服务评价（好差评）",
                          "请申请人在申请人屏幕上对本次受理服务进行评价。评价由申请人自主选择，工作人员不能查看或代为选择。")
        self.state = QLabel("")
        self.state.setWordWrap(True)
        self.state.setStyleSheet("font-size: 22px;")
        set_role(self.state, "banner-info")
        lay.addWidget(self.state)
        self.again = QPushButton("在申请人屏幕重新显示评价 (F5)")
        self.skip_button = QLabel("申请人不愿评价的，请申请人在申请人屏幕上点“不评价”。")
        set_role(self.skip_button, "hint")
        lay.addWidget(self.again)
        lay.addWidget(self.skip_button)
        lay.addStretch(1)
        self.again.clicked.connect(self.ask_again)
        self.skipped = False
        self._screen = None

    def _applicant_screen(self):
        if self._screen is None:
            from ui.applicant_screen import applicant_screen_for

            self._screen = applicant_screen_for(self.ctx)
            self._screen.rating_saved.connect(self._rating_saved)
            self._screen.rating_declined.connect(self._declined)
        return self._screen

    def enter(self) -> None:
        if self.session.rating_done:
            self._show_done()
            return
        self.ask_again()

    def ask_again(self) -> None:
        if self.session.rating_done or not self.session.finalized:
            return
        self._applicant_screen().ask_rating(self.session.case_id)
        self.state.setText("等待申请人评价…")
        set_role(self.state, "banner-info")

    @Slot(str)
    def _rating_saved(self, case_id: str) -> None:
        if case_id != self.session.case_id:
            return
        self.session.rating_done = True
        self._show_done()
        self.notify.emit("申请人已评价，谢谢。本次受理结束。", "ok")
        self.request_next.emit()   # the applicant's answer ends the acceptance, as "不评价" does

    def print_receipt(self) -> None:
        """The receipt, printed while the applicant rates (as F5 at 提交, one step back)."""
        pdf = self.session.receipt_pdf
        if pdf is None:
            self.notify.emit("受理回执尚未生成，请稍候再按 F7。", "info")
            return
        from ui.acceptance.print_step import print_document
        from ui.background import submit

        # not a step job: the applicant's rating must be able to end the acceptance meanwhile
        submit(self.ctx.tasks.io, print_document, pdf, "receipt", "受理回执", self.ctx.window,
               on_success=self._receipt_printed, on_failure=self._receipt_failed)

    def _receipt_printed(self, result: tuple[str, str]) -> None:
        self.session.printed.add("receipt")
        self.notify.emit(result[1], "ok")

    def _receipt_failed(self, exc: BaseException) -> None:
        from ui.acceptance.step import user_message

        self.notify.emit(user_message(exc, "打印受理回执") + "　可按 F8 回到提交步骤另存为PDF。", "error")

    def _show_done(self) -> None:
        self.state.setText("已评价")
        set_role(self.state, "banner-ok")
        self.again.setEnabled(False)

    @Slot(str)
    def _declined(self, case_id: str) -> None:
        if case_id != self.session.case_id:
            return
        self.skipped = True
        self.again.setEnabled(False)
        self.state.setText("申请人选择不评价")
        set_role(self.state, "banner-ok")
        self.request_next.emit()

    def blockers(self) -> list[str]:
        if self.session.rating_done or self.skipped:
            return []
        return ["申请人尚未评价：请申请人在申请人屏幕上评价；不愿评价的，请申请人点“不评价”。"]
