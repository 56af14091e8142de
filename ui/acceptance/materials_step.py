"""Step 4 — materials: the required list, recomputed live from the choices, each with its reason.

For every material the rules require (``rules.required_materials``) the clerk ticks "原件已核验"
and may scan or import copies (images or PDF). Imported copies are watermarked ("仅供……办理使用",
date, service center) so a leaked copy cannot be reused elsewhere, stored encrypted in the
attachment store, and previewed. The step cannot finish while a required original is unchecked,
and lists exactly which. The form itself (material 1) is signed and scanned in steps 6–7, the photo
(material 12) is taken in step 5.

Files are decoded, turned into PDFs and stamped in the render process (``render_jobs``), called
from ``ctx.tasks.io``; storing goes to ``ctx.tasks.db``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox, QFileDialog, QFrame, QGridLayout, QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget,
)

from counter_app.rules import missing_materials, required_materials
from ui.acceptance.session import china_today, read_attachment, store_attachment
from ui.acceptance.step import Step, page_layout
from ui.acceptance.style import set_role

from ui.acceptance.render_jobs import ScanError


def prepare_scans(paths: list[str], mark: bool, checker: str = "") -> list[tuple[bytes, str, bool]]:
    """``ctx.tasks.io``: the files as stamped PDFs, made in the render process
    (:func:`ui.acceptance.render_jobs.scans_to_pdfs`)."""
    from ui.acceptance.render_pool import render

    return render("ui.acceptance.render_jobs", "scans_to_pdfs", list(paths), mark, checker, china_today())


def load_preview(window: Any, sha256: str) -> QImage:
    """``ctx.tasks.io``: the first page of an attachment (PDF or image) for the preview pane."""
    from ui.print_preview import PreviewError, render_pdf_pages

    data = read_attachment(window, sha256)
    if data[:5] == b"%PDF-":
        try:
            return render_pdf_pages(data, dpi=60.0, max_pages=1)[0]
        except (PreviewError, IndexError):
            raise ScanError("附件无法显示（PDF已损坏）。") from None
    img = QImage.fromData(data)
    if img.isNull():
        raise ScanError("附件无法显示（不是图片或PDF）。")
    return img


class MaterialRow(QFrame):
    def __init__(self, step: "MaterialsStep", number: int, title: str, reason: str):
        super().__init__()
        self.number = number
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setProperty("role", "card")
        g = QGridLayout(self)
        g.setContentsMargins(8, 4, 8, 4)
        g.setVerticalSpacing(0)
        self.title = QLabel(f"材料{number}　{title}")
        self.title.setWordWrap(True)
        self.title.setStyleSheet("font-weight: bold;")
        self.reason = QLabel(reason)
        self.reason.setWordWrap(True)
        set_role(self.reason, "hint")
        self.seen = QCheckBox("原件已核验")
        self.count = QLabel("")
        set_role(self.count, "hint")
        self.import_button = QPushButton("导入…")
        self.preview_button = QPushButton("预览")
        for b in (self.import_button, self.preview_button):
            b.setStyleSheet("QPushButton { padding: 2px 10px; min-height: 22px; }")
        g.addWidget(self.title, 0, 0)
        g.addWidget(self.seen, 0, 1)
        g.addWidget(self.import_button, 0, 2)
        g.addWidget(self.preview_button, 0, 3)
        g.addWidget(self.reason, 1, 0)
        g.addWidget(self.count, 1, 1, 1, 3)
        g.setColumnStretch(0, 1)
        self.seen.toggled.connect(lambda c: step._seen_toggled(number, c))
        self.import_button.clicked.connect(lambda: step.import_dialog(number))
        self.preview_button.clicked.connect(lambda: step.preview(number))


class MaterialsStep(Step):
    key = "materials"
    title = "材料核验"
    actions = (("F5", "以上原件均已核验，下一步", "tick_all_seen"), ("F6", "为当前材料扫描/导入", "import_focused"),
               ("F7", "预览当前材料", "preview_focused"))

    def __init__(self, ctx, session, parent=None):
        super().__init__(ctx, session, parent)
        lay = page_layout(self, "第4步　申请材料",
                          "按申请人的选择列出应交材料及原因。核验原件后勾选（空格键）；需要留存复印件的，"
                          "扫描或导入（F6），导入的复印件自动加盖核对水印。")
        body = QHBoxLayout()
        lay.addLayout(body, 1)
        self.rows_host = QWidget()
        self.rows_layout = QVBoxLayout(self.rows_host)
        self.rows_layout.setContentsMargins(0, 0, 6, 0)
        self.rows_layout.setSpacing(4)
        scroll = QScrollArea()
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)   # a frame, not a field: no invisible Tab stop
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(self.rows_host)
        left = QVBoxLayout()
        left.addWidget(scroll, 1)
        self.missing = QLabel("")
        self.missing.setWordWrap(True)
        set_role(self.missing, "banner-warning")
        left.addWidget(self.missing)
        body.addLayout(left, 3)
        right = QVBoxLayout()
        self.watermark_box = QCheckBox("导入时加盖“此件经与原件核对无误”水印")
        self.watermark_box.setChecked(True)
        right.addWidget(self.watermark_box)
        self.preview_label = QLabel("选择一份已导入的材料，按“预览”查看")
        self.preview_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview_label.setMinimumSize(260, 280)
        self.preview_label.setStyleSheet("border: 1px solid #c9d2dc; background: #f7f9fb; color: #4a5563;")
        self.preview_label.setWordWrap(True)
        right.addWidget(self.preview_label, 1)
        self.preview_caption = QLabel("")
        set_role(self.preview_caption, "hint")
        right.addWidget(self.preview_caption)
        body.addLayout(right, 2)
        self.rows: dict[int, MaterialRow] = {}
        self._loading = False

    # ------------------------------------------------------------------ protocol
    def enter(self) -> None:
        self._rebuild()

    def _rebuild(self) -> None:
        app = self.session.app
        while self.rows_layout.count():
            item = self.rows_layout.takeAt(0)
            if item.widget() is not None:
                item.widget().hide()   # gone from view now, not at the next loop turn
                item.widget().deleteLater()
        self.rows = {}
        self._loading = True
        try:
            for req in required_materials(app):
                row = MaterialRow(self, req.number, req.title, req.reason)
                rec = app.material(req.number)
                if req.number == 1:
                    done = bool(app.signature)
                    row.seen.setEnabled(False)
                    row.seen.setChecked(done)
                    row.seen.setText("已签名" if done else "第6步签名")
                    row.import_button.setVisible(False)
                    row.preview_button.setVisible(False)
                elif req.number == 12:
                    done = bool(app.photo)
                    row.seen.setEnabled(False)
                    row.seen.setChecked(done)
                    row.seen.setText("已采集" if done else "第5步拍照")
                    row.import_button.setVisible(False)
                    row.preview_button.setVisible(False)
                else:
                    row.seen.setChecked(rec.original_seen)
                    row.seen.setEnabled(not self.read_only)
                    row.import_button.setEnabled(not self.read_only)
                self._update_count(row)
                self.rows[req.number] = row
                self.rows_layout.addWidget(row)
            self.rows_layout.addStretch(1)
        finally:
            self._loading = False
        self._show_missing()

    def blockers(self) -> list[str]:
        out = [f"缺少材料{m.number}“{m.title}”（{m.reason}）：请核验原件后勾选“原件已核验”。"
               for m in missing_materials(self.session.app) if m.number not in (1, 12)]
        for m in missing_materials(self.session.app):
            if m.number not in (1, 12):
                self.rows[m.number].seen.setFocus()
                break
        return out

    def focus_first(self) -> None:
        for row in self.rows.values():
            if row.seen.isEnabled():
                row.seen.setFocus()
                return

    def set_read_only(self, read_only: bool) -> None:
        super().set_read_only(read_only)
        self.watermark_box.setEnabled(not read_only)
        for row in self.rows.values():
            if row.number not in (1, 12):
                row.seen.setEnabled(not read_only)
                row.import_button.setEnabled(not read_only)

    # ------------------------------------------------------------------ editing
    def tick_all_seen(self) -> None:
        """The clerk has checked every original the list on screen asks for: one key confirms them
        all (F5) and, when nothing else is left in this step, moves on to the photo. Only this
        applicant's list is ticked: every acceptance starts with none ticked."""
        if self.read_only:
            return
        for number, row in self.rows.items():
            if number not in (1, 12) and row.seen.isEnabled() and not row.seen.isChecked():
                row.seen.setChecked(True)   # through _seen_toggled, as a click would
        if not self.blockers():
            self.notify.emit("所列原件均已核验。", "ok")
            self.request_next_soon()

    def _seen_toggled(self, number: int, checked: bool) -> None:
        if self._loading or self.read_only:
            return
        self.session.app.material(number).original_seen = checked
        self._show_missing()
        self.changed.emit()

    def _show_missing(self) -> None:
        missing = [m for m in missing_materials(self.session.app) if m.number not in (1, 12)]
        if missing:
            names = "、".join(f"材料{m.number}“{m.title}”" for m in missing)
            self.missing.setText(f"还缺 {len(missing)} 项原件未核验：{names}。")
            set_role(self.missing, "banner-warning")
        else:
            self.missing.setText("本步所需材料的原件均已核验。")
            set_role(self.missing, "banner-ok")

    def _update_count(self, row: MaterialRow) -> None:
        if row.number in (1, 12):   # made by the window itself (form, photo): no copies to import
            row.count.setText("")
            return
        rec = self.session.app.materials.get(row.number)
        n = len(rec.attachments) if rec else 0
        row.count.setText(f"已存 {n} 份" + ("（有水印）" if rec and rec.watermarked and n else "") if n else "未存复印件")
        row.preview_button.setEnabled(n > 0)

    def _focused_number(self) -> int | None:
        w = self.focusWidget()
        while w is not None and not isinstance(w, MaterialRow):
            w = w.parentWidget()
        if isinstance(w, MaterialRow):
            return w.number
        return next((n for n in self.rows if n not in (1, 12)), None)

    # ------------------------------------------------------------------ import
    def import_focused(self) -> None:
        n = self._focused_number()
        if n is not None:
            self.import_dialog(n)

    def preview_focused(self) -> None:
        n = self._focused_number()
        if n is not None:
            self.preview(n)

    def import_dialog(self, number: int) -> None:
        if self.read_only:
            return
        start = self.ctx.window.settings.scan_import_dir or str(Path.home())
        paths, _ = QFileDialog.getOpenFileNames(self, f"导入材料{number}的扫描件", start,
                                                "扫描件 (*.jpg *.jpeg *.png *.bmp *.tif *.tiff *.pdf)")
        if paths:
            self.import_files(number, paths)

    def import_files(self, number: int, paths: list[str]) -> None:
        """Watermark (when ticked) and store the files as copies of material ``number``."""
        if self.read_only or not paths:
            return
        mark = self.watermark_box.isChecked()
        self.notify.emit(f"正在导入材料{number}的扫描件……", "info")
        stamped: list[bool] = []

        def store_all(prepared: list[tuple[bytes, str, bool]]) -> list[str]:
            return [store_attachment(self.ctx.window, data, mime) for data, mime, _ in prepared]

        def prepared(items: list[tuple[bytes, str, bool]]) -> None:
            stamped.extend(flag for _, _, flag in items)
            self.run_db(store_all, items, doing="保存扫描件", on_success=stored)

        def stored(hashes: list[str]) -> None:
            rec = self.session.app.material(number)
            rec.attachments.extend(h for h in hashes if h not in rec.attachments)
            rec.watermarked = rec.watermarked or (bool(stamped) and all(stamped))
            if number in self.rows:
                self._update_count(self.rows[number])
            note = "（已加盖“此件经与原件核对无误”水印）" if stamped and all(stamped) else ""
            self.notify.emit(f"材料{number}已导入 {len(hashes)} 份{note}。", "ok")
            self.changed.emit()
            if hashes:
                self._show_preview(number, hashes[-1])

        checker = self.ctx.actor.username if self.ctx.actor else ""
        self.run_io(prepare_scans, list(paths), mark, checker, doing="读取扫描件", on_success=prepared)

    def preview(self, number: int) -> None:
        rec = self.session.app.materials.get(number)
        if rec and rec.attachments:
            self._show_preview(number, rec.attachments[-1])

    def _show_preview(self, number: int, sha: str) -> None:
        def shown(img: QImage) -> None:
            pix = QPixmap.fromImage(img).scaled(self.preview_label.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                                Qt.TransformationMode.SmoothTransformation)
            self.preview_label.setPixmap(pix)
            rec = self.session.app.materials.get(number)
            self.preview_caption.setText(f"材料{number}，共 {len(rec.attachments) if rec else 0} 份，显示最后一份")

        # a preview is only a view: it does not hold the step busy (the clerk may move on meanwhile)
        self.ctx.tasks.io.run(load_preview, self.ctx.window, sha, on_success=shown,
                              on_failure=lambda exc: self.preview_caption.setText(
                                  getattr(exc, "message", None) or "预览失败"))
