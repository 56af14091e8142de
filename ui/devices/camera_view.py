"""Live camera preview with the photo guide, automatic capture and a manual shutter.

The frames come from :class:`ui.devices.hub.DeviceHub` already judged and drawn on by the capture
thread (guide oval, face box, capture progress, the hint in Chinese: ``devices.photo.draw_overlay``),
so the view only paints them. After painting a frame it calls ``hub.frame_done()``: the capture
thread hands out the next frame only then, so a busy GUI sees fewer, fresh frames instead of a
backlog.

Signals: ``captured(numpy BGR array)`` when the live check completed a good run (automatic capture)
or the clerk pressed the shutter; ``hint_changed(str)``.

Thread contract: GUI thread only.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, Signal, Slot
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from ui.acceptance.style import set_role


class _FrameCanvas(QWidget):
    def __init__(self, view: "CameraView"):
        super().__init__(view)
        self._view = view
        self.image: QImage | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 240)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(640, 480)

    def paintEvent(self, event) -> None:  # noqa: N802, ANN001
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#20242a"))
        img = self.image
        if img is None:
            painter.setPen(QColor("#d0d4da"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self._view.placeholder)
        else:
            k = min(self.width() / img.width(), self.height() / img.height())
            w, h = img.width() * k, img.height() * k
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            painter.drawImage(QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h), img)
        painter.end()
        if img is not None:
            self._view.painted()


class CameraView(QWidget):
    captured = Signal(object)
    hint_changed = Signal(str)

    def __init__(self, hub: Any, parent: QWidget | None = None):
        super().__init__(parent)
        self.hub = hub
        self.placeholder = "摄像头未打开"
        self.active = False
        self.frames_painted = 0
        self.last_verdict = None
        self._pending_paint = False
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.canvas = _FrameCanvas(self)
        lay.addWidget(self.canvas, 1)
        self.hint = QLabel("")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        set_role(self.hint, "banner-info")
        lay.addWidget(self.hint)
        self.setAccessibleName("摄像头预览")

    # ---------------------------------------------------------------- control
    def start(self) -> None:
        """Open the camera and show frames; automatic capture is armed."""
        if self.hub is None:
            self.placeholder = "未连接摄像头：请使用“从文件导入”"
            self.canvas.update()
            return
        if not self.active:
            self.hub.frame_ready.connect(self._on_frame)
            self.hub.photo_captured.connect(self._on_captured)
            self.hub.camera_status.connect(self._on_status)
            self.active = True
        self.placeholder = "正在打开摄像头……"
        self.canvas.update()
        self.hub.start_camera(analyse=True)
        self.hub.frame_done()

    def stop(self) -> None:
        if self.hub is None or not self.active:
            return
        self.active = False
        for signal, slot in ((self.hub.frame_ready, self._on_frame), (self.hub.photo_captured, self._on_captured),
                             (self.hub.camera_status, self._on_status)):
            try:
                signal.disconnect(slot)
            except (RuntimeError, TypeError):
                pass
        self.hub.stop_camera()
        self.canvas.image = None
        self.placeholder = "摄像头已关闭"
        self.canvas.update()
        self.hint.setText("")

    def rearm(self) -> None:
        """Take a new photo: restart the automatic capture."""
        if self.hub is not None:
            self.hub.reset_live_checker()

    def capture_now(self) -> bool:
        """Manual shutter: use the newest frame. False when no frame is available yet."""
        if self.hub is None:
            return False
        frame = self.hub.latest_frame()
        if frame is None:
            return False
        self.captured.emit(frame)
        return True

    # ---------------------------------------------------------------- slots
    @Slot(QImage, object)
    def _on_frame(self, image: QImage, verdict) -> None:
        self.canvas.image = image
        self.last_verdict = verdict
        hint = verdict.hint if verdict is not None else ""
        if hint and hint != self.hint.text():
            self.hint.setText(hint)
            self.hint_changed.emit(hint)
        self._pending_paint = True
        if self.canvas.isVisible():
            self.canvas.update()
        else:
            self.painted()  # nothing to paint on: let the stream continue

    def painted(self) -> None:
        if self._pending_paint:
            self._pending_paint = False
            self.frames_painted += 1
            if self.hub is not None:
                self.hub.frame_done()

    @Slot(object)
    def _on_captured(self, frame: np.ndarray) -> None:
        self.captured.emit(frame)

    @Slot(str)
    def _on_status(self, message: str) -> None:
        if self.canvas.image is None:
            self.placeholder = message
            self.canvas.update()
