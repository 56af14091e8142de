"""Step 5 — the 358×441 white-background photo (material 12, needed for the social security card).

The live preview guides the applicant (hints from ``devices.photo.LiveChecker`` drawn on the
frame) and takes the picture by itself once every check has held for a few frames; the clerk can
also press the shutter (F7) or import a picture file (F5). The chosen frame goes through
``devices.photo.make_compliant_photo`` on ``ctx.tasks.io`` (cut-out, white background, geometry,
JPEG size band) and the compliance report is shown check by check; a compliant photo is stored and
becomes the application's photo. The rules no pixel measurement decides (no uniform, ears and
eyebrows uncovered, a doubtful expression) come with the report as tick boxes with their reason;
the step cannot be left until the clerk has ticked each.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (QCheckBox, QFileDialog, QGroupBox, QHBoxLayout, QLabel, QPushButton, QScrollArea,
                               QVBoxLayout, QWidget)

from ui.acceptance.session import read_attachment, store_attachment
from ui.acceptance.step import Step, page_layout
from ui.acceptance.style import ERROR, OK, set_role
from ui.devices.camera_view import CameraView
from ui.devices.images import bgr_to_qimage

PHOTO_SHOWN = (239, 294)   # 358×441 at two thirds


class PhotoError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def process_frame(frame: np.ndarray):
    """``ctx.tasks.io``: the compliance pipeline on one picture, in the render process.

    The pipeline (face search, GrabCut cut-out, re-encoding to the size band) is pure and its
    result picklable; run there, its ~70 MB of transient arrays and its numpy work stay out of the
    GUI process (the same reasons as for PDF rendering, see ``ui.acceptance.render_pool``)."""
    from ui.acceptance.render_pool import render

    return render("devices.photo", "make_compliant_photo", np.ascontiguousarray(frame))


def process_file(path: str):
    """``ctx.tasks.io``: read a picture file (any path, including Chinese names) and process it."""
    import cv2

    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as exc:
        raise PhotoError(f"无法读取照片文件：{exc.strerror or exc}。") from None
    img = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if img is None:
        raise PhotoError(f"“{Path(path).name}”不是可识别的图片，请选择 JPG 或 PNG 照片。")
    return process_frame(img)


def _standing_clerk_checks() -> list:
    from devices.photo.rules import standing_clerk_checks   # OpenCV loads with it: not at GUI start

    return standing_clerk_checks()


def report_html(result) -> str:
    lines = []
    for c in sorted(result.checks, key=lambda c: c.passed):
        mark, colour = ("✓", OK) if c.passed else ("✗", ERROR)
        text = c.label + ("" if c.passed else f"：{c.message}")
        lines.append(f'<span style="color:{colour}">{mark} {text}</span>')
    head = (f'<b style="color:{OK}">照片合格</b>（{(result.size_bytes or 0) // 1024} KB）' if result.ok
            else f'<b style="color:{ERROR}">照片不合格：{result.reason}</b>')
    return head + "<br>" + "<br>".join(lines)


class PhotoStep(Step):
    key = "photo"
    title = "采集照片"
    actions = (("F5", "从文件导入照片", "import_dialog"), ("F6", "重新拍照", "retake"), ("F7", "立即拍照", "capture_now"))

    def __init__(self, ctx, session, parent=None):
        super().__init__(ctx, session, parent)
        lay = page_layout(self, "第5步　白底一寸免冠照片（社保卡用）",
                          "请申请人正对镜头，按画面上方的提示调整；各项合格后自动拍照。也可按 F7 立即拍照，或 F5 导入照片文件。")
        self.notice = QLabel("")
        self.notice.setWordWrap(True)
        set_role(self.notice, "banner-info")
        self.notice.setVisible(False)
        lay.addWidget(self.notice)
        body = QHBoxLayout()
        lay.addLayout(body, 1)
        self.camera = CameraView(ctx.devices)
        self.camera.captured.connect(self._captured)
        body.addWidget(self.camera, 3)
        right = QVBoxLayout()
        self.result_image = QLabel("照片")
        self.result_image.setFixedSize(*PHOTO_SHOWN)
        self.result_image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.result_image.setStyleSheet("border: 1px solid #c9d2dc; background: #ffffff; color: #4a5563;")
        right.addWidget(self.result_image, 0, Qt.AlignmentFlag.AlignHCenter)
        self.report = QLabel("")
        self.report.setWordWrap(True)
        self.report.setTextFormat(Qt.TextFormat.RichText)
        self.report.setAlignment(Qt.AlignmentFlag.AlignTop)
        # the clerk's ticks sit above the report, in the same scrolling area, so the step keeps
        # fitting a 1366×768 screen however many there are
        self.clerk_box = QGroupBox("请工作人员目视确认")
        self.clerk_layout = QVBoxLayout(self.clerk_box)
        self.clerk_box.setVisible(False)
        self.clerk_boxes: list[QCheckBox] = []
        self.confirm_button: QPushButton | None = None
        self._clerk_items: list = []
        report_page = QWidget()
        report_lay = QVBoxLayout(report_page)
        report_lay.setContentsMargins(0, 0, 0, 0)
        report_lay.addWidget(self.clerk_box)
        report_lay.addWidget(self.report, 1)
        report_scroll = QScrollArea()
        report_scroll.setWidgetResizable(True)
        report_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        report_scroll.setWidget(report_page)
        report_scroll.setMinimumHeight(90)
        right.addWidget(report_scroll, 1)
        # import / retake / shutter are the step's F5 / F6 / F7 buttons in the stepper's action bar,
        # once: a second row of the same buttons here only made the clerk wonder which to press
        body.addLayout(right, 2)
        self.processing = False
        self.last_result = None

    # ------------------------------------------------------------------ protocol
    def enter(self) -> None:
        s = self.session
        required = s.photo_required
        self.notice.setVisible(not required)
        self.notice.setText("本次申请未选择“社会保障卡申领”，不需要照片，可直接下一步。")
        if s.photo_jpeg is None and s.app.photo:
            self.run_db(read_attachment, self.ctx.window, s.app.photo, doing="读取照片",
                        on_success=self._loaded_existing)
        elif s.photo_jpeg is not None:
            self._show_jpeg(s.photo_jpeg)
            if s.photo_report is not None:
                self.report.setText(report_html(s.photo_report))
                self._show_clerk_checks(s.photo_report)
            else:
                self._show_clerk_items(_standing_clerk_checks())
        if required and not s.app.photo and not self.read_only:
            self.camera.start()

    def leave(self) -> None:
        self.camera.stop()
        self.camera.placeholder = "摄像头已关闭"

    def blockers(self) -> list[str]:
        if self.processing:
            return ["正在处理照片，请稍候。"]
        if self.session.photo_required and not self.session.app.photo:
            return ["申领社保卡须采集白底一寸免冠照片：请申请人对准镜头自动拍照，或按 F7 立即拍照、F5 导入照片。"]
        open_ticks = self.open_clerk_checks()
        if self.session.photo_required and open_ticks:
            return ["请工作人员目视确认照片并勾选：" + "、".join(c.label for c in open_ticks) + "。不符合时请按 F6 重拍。"]
        return []

    def open_clerk_checks(self) -> list:
        """The clerk checks of the photo in use that are not ticked yet."""
        if not self.session.app.photo:
            return []
        return [c for c in self._clerk_items if c.name not in self.session.photo_ticks]

    def set_read_only(self, read_only: bool) -> None:
        super().set_read_only(read_only)
        for b in self.clerk_boxes:
            b.setEnabled(not read_only)
        if self.confirm_button is not None:
            self.confirm_button.setEnabled(not read_only)

    # ------------------------------------------------------------------ actions
    def retake(self) -> None:
        if self.read_only:
            return
        self.report.setText("")
        self._show_clerk_checks(None)
        self.camera.start()
        self.camera.rearm()

    def capture_now(self) -> None:
        if self.read_only:
            return
        if not self.camera.active:
            self.camera.start()
            self.notify.emit("摄像头正在打开，请稍后再按 F7。", "info")
            return
        if not self.camera.capture_now():
            self.notify.emit("摄像头还没有画面，请稍候再试，或按 F5 导入照片。", "warning")

    def import_dialog(self) -> None:
        if self.read_only:
            return
        path, _ = QFileDialog.getOpenFileName(self, "导入照片", str(Path.home()), "照片 (*.jpg *.jpeg *.png *.bmp)")
        if path:
            self.import_file(path)

    def import_file(self, path: str) -> None:
        self.camera.stop()
        self._start_processing()
        self.run_io(process_file, path, doing="处理照片", on_success=self._processed, on_failure=self._failed)

    @Slot(object)
    def _captured(self, frame: np.ndarray) -> None:
        if self.processing or self.read_only:
            return
        self.camera.stop()
        self.camera.placeholder = "已拍照，摄像头已关闭。需要重拍请按 F6"
        self.result_image.setPixmap(QPixmap.fromImage(bgr_to_qimage(frame)).scaled(
            self.result_image.size(), Qt.AspectRatioMode.KeepAspectRatioByExpanding,
            Qt.TransformationMode.SmoothTransformation))
        self._start_processing()
        self.run_io(process_frame, frame, doing="处理照片", on_success=self._processed, on_failure=self._failed)

    def _start_processing(self) -> None:
        self.processing = True
        self.report.setText("正在处理照片（抠图、换白底、检查尺寸）……")

    def _show_clerk_checks(self, result) -> None:
        self._show_clerk_items(list(getattr(result, "clerk_checks", [])) if result is not None and result.ok else [])

    def _show_clerk_items(self, items: list) -> None:
        self._clerk_items = items
        while self.clerk_layout.count():
            item = self.clerk_layout.takeAt(0)
            if item.widget() is not None:
                item.widget().hide()   # gone from view (and from the Tab order) now
                item.widget().deleteLater()
        self.clerk_boxes = []
        for item in items:
            box = QCheckBox(item.label)
            box.setObjectName(f"clerk_{item.name}")
            box.setToolTip(item.reason)
            box.setChecked(item.name in self.session.photo_ticks)
            box.setEnabled(not self.read_only)
            box.toggled.connect(lambda on, name=item.name: self._ticked(name, on))
            reason = QLabel(item.reason)              # why a person must look: shown, not hidden
            reason.setWordWrap(True)
            set_role(reason, "hint")
            self.clerk_layout.addWidget(box)
            self.clerk_layout.addWidget(reason)
            self.clerk_boxes.append(box)
        self.confirm_button = QPushButton("以上各项目视核对无误，下一步 (Enter)")
        self.confirm_button.setObjectName("photoConfirm")
        self.confirm_button.setAutoDefault(True)   # Enter on it presses it
        self.confirm_button.setEnabled(not self.read_only)
        self.confirm_button.clicked.connect(self.confirm_by_eye)
        self.clerk_layout.addWidget(self.confirm_button)
        self.clerk_box.setVisible(bool(items))
        if items and not self.read_only and self.isVisible() and self.open_clerk_checks():
            self.confirm_button.setFocus()   # the clerk's one remaining action in this step

    def confirm_by_eye(self) -> None:
        """The clerk looked at the photo against every listed point: one action ticks them all
        (each is still listed with its reason) and moves on."""
        if self.read_only or not self.session.app.photo:
            return
        for box in self.clerk_boxes:
            box.setChecked(True)
        self.notify.emit("照片已目视核对。", "ok")
        if not self.blockers():
            self.request_next_soon()

    def _ticked(self, name: str, on: bool) -> None:
        if on:
            self.session.photo_ticks.add(name)
        else:
            self.session.photo_ticks.discard(name)
        self.changed.emit()

    def _processed(self, result) -> None:
        self.last_result = result
        self.report.setText(report_html(result))
        if result.image is not None:
            self.result_image.setPixmap(QPixmap.fromImage(bgr_to_qimage(result.image)).scaled(
                self.result_image.size(), Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))
        if not result.ok:
            self.processing = False
            self.notify.emit(f"照片不合格：{result.reason}。请按提示调整后按 F6 重新拍照。", "warning")
            return

        def stored(sha: str) -> None:
            self.processing = False
            s = self.session
            s.app.photo = sha
            s.photo_jpeg = result.jpeg
            s.photo_report = result
            s.photo_ticks = set()
            self._show_clerk_checks(result)
            if result.clerk_checks:
                self.notify.emit("照片合格，已保存。请目视核对右侧各项，无误按 Enter。", "ok")
            else:
                self.notify.emit("照片合格，已保存。", "ok")
            self.changed.emit()

        def failed(exc: BaseException) -> None:
            self.processing = False
            from ui.acceptance.step import user_message

            self.notify.emit(user_message(exc, "保存照片"), "error")

        self.run_db(store_attachment, self.ctx.window, result.jpeg, "image/jpeg", doing="保存照片",
                    on_success=stored, on_failure=failed)

    def _failed(self, exc: BaseException) -> None:
        self.processing = False
        from ui.acceptance.step import user_message

        message = user_message(exc, "处理照片")
        self.report.setText(message)
        self.notify.emit(message, "error")

    def _loaded_existing(self, data: bytes) -> None:
        self.session.photo_jpeg = data
        self._show_jpeg(data)
        self.report.setText("已采集照片（草稿中保存的）。如需重拍按 F6。")
        # the draft keeps the photo, not its report: the standing ticks are asked for again
        self._show_clerk_items(_standing_clerk_checks())

    def _show_jpeg(self, data: bytes) -> None:
        img = QImage.fromData(data)
        if not img.isNull():
            self.result_image.setPixmap(QPixmap.fromImage(img).scaled(
                self.result_image.size(), Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))
