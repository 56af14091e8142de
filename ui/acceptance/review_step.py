"""Step 6 — review and sign on the applicant-facing screen.

Entering the step saves the draft, exports the case JSON and renders the form (``printing.form``
on ``ctx.tasks.io``); the form is shown on the applicant's screen with the signature area, and to
the clerk on the left. The applicant's signature is checked there (a blank or implausible one is
refused with the reason); an accepted one is rendered to PNG, stored, and the form is rendered
again with it — that PDF is what is printed and sealed.

What the applicant signed is remembered as a digest of the application: if the clerk goes back and
changes anything (an address, the photo), the signature no longer counts and the form is shown
again to be signed.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from ui.acceptance.session import application_digest, export_case, read_attachment, render_form, store_attachment
from ui.acceptance.step import Step, page_layout, user_message
from ui.acceptance.style import set_role
from ui.print_preview import Document, DocumentPreview


def signature_png(signature) -> bytes:
    """``ctx.tasks.io``: the strokes as a transparent PNG for the form (pressure-shaped ink)."""
    return signature.to_png(scale=0.5, pen_width=2.6)


class ReviewStep(Step):
    key = "review"
    title = "核对签名"
    actions = (("F5", "在申请人屏幕重新显示申请表", "show_on_applicant"), ("F6", "请申请人重新签名", "resign"))

    def __init__(self, ctx, session, parent=None):
        super().__init__(ctx, session, parent)
        lay = page_layout(self, "第6步　申请人核对并签名",
                          "申请表显示在申请人屏幕上。请申请人核对内容，在签名框内签写姓名后点“确认签名”。")
        body = QHBoxLayout()
        lay.addLayout(body, 1)
        self.preview = DocumentPreview(ctx, show_buttons=False)
        body.addWidget(self.preview, 3)
        right = QVBoxLayout()
        self.screen_label = QLabel("")
        self.screen_label.setWordWrap(True)
        set_role(self.screen_label, "hint")
        right.addWidget(self.screen_label)
        self.status = QLabel("正在生成申请表……")
        self.status.setWordWrap(True)
        set_role(self.status, "banner-info")
        right.addWidget(self.status)
        right.addWidget(QLabel("申请人签名："))
        self.signature_view = QLabel("（尚未签名）")
        self.signature_view.setMinimumHeight(110)
        self.signature_view.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.signature_view.setStyleSheet("border: 1px solid #c9d2dc; background: white; color: #4a5563;")
        right.addWidget(self.signature_view)
        self.show_button = QPushButton("重新显示到申请人屏幕 (F5)")
        self.resign_button = QPushButton("请申请人重新签名 (F6)")
        right.addWidget(self.show_button)
        right.addWidget(self.resign_button)
        right.addStretch(1)
        body.addLayout(right, 2)
        self.show_button.clicked.connect(self.show_on_applicant)
        self.resign_button.clicked.connect(self.resign)
        self._screen = None
        self._unsigned_pdf: bytes | None = None

    # ------------------------------------------------------------------ helpers
    def applicant_screen(self):
        if self._screen is None:
            from ui.applicant_screen import applicant_screen_for

            self._screen = applicant_screen_for(self.ctx)
            self._screen.signature_accepted.connect(self._signature_accepted)
            self._screen.signature_refused.connect(self._signature_refused)
        elif not self._screen.isVisible():
            self._screen.place()
        where = "第二块显示器（全屏）" if self._screen.on_second_monitor else "单独的窗口（未检测到第二块显示器）"
        self.screen_label.setText(f"申请人屏幕：{where}")
        return self._screen

    def signature_valid(self) -> bool:
        s = self.session
        return bool(s.app.signature) and s.signed_digest == application_digest(s.app) and s.form_pdf is not None

    # ------------------------------------------------------------------ protocol
    def enter(self) -> None:
        s = self.session
        screen = self.applicant_screen()
        if self.signature_valid():
            self.preview.set_document(Document("form", "联办申请表（已签名）", s.form_pdf))
            self._set_status("申请人已签名确认。", "ok")
            if not self.read_only:
                screen.show_form(s.form_pdf, sign=False)
            return
        if self.read_only:
            return
        if s.app.signature:
            # something changed since signing: the old signature does not cover it
            s.app.signature = None
            s.signature = s.signature_png = s.form_pdf = None
            s.signed_digest = None
            self.notify.emit("申请内容在签名后有改动，请申请人重新核对并签名。", "warning")
            self.changed.emit()
        self.signature_view.setText("（尚未签名）")
        self._prepare_unsigned()

    def blockers(self) -> list[str]:
        if self.busy:
            return ["正在生成申请表，请稍候。"]
        if not self.signature_valid():
            return ["申请人尚未签名确认：请申请人在申请人屏幕上核对申请表并签名。"]
        return []

    def set_read_only(self, read_only: bool) -> None:
        super().set_read_only(read_only)
        self.show_button.setEnabled(not read_only)
        self.resign_button.setEnabled(not read_only)

    # ------------------------------------------------------------------ the unsigned form
    def _prepare_unsigned(self) -> None:
        s = self.session
        if s.case_id is None:
            self._set_status("请先完成第1步，建立办件后再生成申请表。", "error")
            return
        self._set_status("正在生成申请表……", "info")
        window, app, actor = self.ctx.window, s.app.copy(), self.actor

        def gather() -> tuple[dict, bytes | None]:
            case_json = export_case(window, s.case_id, app, actor)
            photo = s.photo_jpeg
            if photo is None and app.photo and window.files.exists(app.photo):
                photo = read_attachment(window, app.photo)
            return case_json, photo

        def gathered(result: tuple[dict, bytes | None]) -> None:
            case_json, photo = result
            s.case_json = case_json
            if photo is not None:
                s.photo_jpeg = photo
            self.run_io(render_form, case_json, photo, None, doing="生成申请表", on_success=rendered,
                        on_failure=self._render_failed)

        def rendered(result) -> None:
            self._unsigned_pdf = result.pdf
            self.preview.set_document(Document("form", "联办申请表（待签名）", result.pdf,
                                               self._rare_note(result)))
            self.applicant_screen().show_form(result.pdf, sign=True)
            self._set_status("申请表已显示在申请人屏幕上，等待申请人签名……", "info")

        self.run_db(gather, doing="保存草稿", on_success=gathered, on_failure=self._render_failed)

    @staticmethod
    def _rare_note(result) -> str:
        chars = getattr(result, "fallback_chars", None)
        return f"含生僻字：{''.join(sorted(chars))}，请核对打印效果" if chars else ""

    def _render_failed(self, exc: BaseException) -> None:
        message = user_message(exc, "生成申请表")
        self._set_status(message, "error")
        self.notify.emit(message, "error")

    # ------------------------------------------------------------------ actions
    def show_on_applicant(self) -> None:
        if self.read_only:
            return
        s = self.session
        if self.signature_valid():
            self.applicant_screen().show_form(s.form_pdf, sign=False)
        elif self._unsigned_pdf is not None:
            self.applicant_screen().show_form(self._unsigned_pdf, sign=True)
        else:
            self._prepare_unsigned()

    def resign(self) -> None:
        if self.read_only:
            return
        s = self.session
        s.app.signature = None
        s.signature = s.signature_png = s.form_pdf = None
        s.signed_digest = None
        self.signature_view.clear()
        self.signature_view.setText("（尚未签名）")
        self.changed.emit()
        if self._unsigned_pdf is not None:
            self.applicant_screen().show_form(self._unsigned_pdf, sign=True)
            self._set_status("已请申请人重新签名，等待中……", "info")
        else:
            self._prepare_unsigned()

    # ------------------------------------------------------------------ the signature
    @Slot(str)
    def _signature_refused(self, message: str) -> None:
        self._set_status(f"申请人的签名未通过检查：{message}。已请申请人重新签名。", "warning")
        self.notify.emit(f"签名未通过检查：{message}，已请申请人重签。", "warning")

    @Slot(object)
    def _signature_accepted(self, signature) -> None:
        if self.read_only or self.session.finalized:
            return
        s = self.session
        self._set_status("签名已确认，正在生成签名后的申请表……", "info")
        digest = application_digest(s.app)
        window, actor = self.ctx.window, self.actor

        def made_png(png: bytes) -> None:
            s.signature, s.signature_png = signature, png
            self.signature_view.setPixmap(QPixmap.fromImage(QImage.fromData(png)).scaled(
                self.signature_view.width() - 8, self.signature_view.height() - 8,
                Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))
            self.run_db(store_and_export, png, doing="保存签名", on_success=exported, on_failure=self._render_failed)

        def store_and_export(png: bytes) -> tuple[str, dict]:
            sha = store_attachment(window, png, "image/png")
            app = s.app.copy()
            app.signature = sha
            return sha, export_case(window, s.case_id, app, actor)

        def exported(result: tuple[str, dict]) -> None:
            sha, case_json = result
            s.app.signature = sha
            s.signed_digest = digest
            s.case_json = case_json
            self.changed.emit()
            self.run_io(render_form, case_json, s.photo_jpeg, s.signature_png, doing="生成申请表",
                        on_success=rendered, on_failure=self._render_failed)

        def rendered(result) -> None:
            s.form_pdf = result.pdf
            s.form_pages = result.pages
            s.printed.discard("form")
            self.preview.set_document(Document("form", "联办申请表（已签名）", result.pdf, self._rare_note(result)))
            self.applicant_screen().show_message("签名已确认，谢谢！\n工作人员正在打印申请表。")
            self._set_status("申请人已签名确认。", "ok")
            self.notify.emit("申请人已签名确认，请打印申请表交申请人签字。", "ok")
            if not self.read_only and not self.blockers():
                self.request_next_soon()   # nothing is left here once the applicant has signed

        self.run_io(signature_png, signature, doing="处理签名", on_success=made_png, on_failure=self._render_failed)

    def _set_status(self, text: str, level: str) -> None:
        self.status.setText(text)
        set_role(self.status, f"banner-{level}")
