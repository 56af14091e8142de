"""The signature area: a Qt source of strokes for the device-neutral model in ``devices.signature``.

Pen tablets (``QTabletEvent``, real pressure), touch screens (``QTouchEvent``, the first touch
point; pressure when the panel reports it) and mice (pressure 0.5) all feed one
:class:`devices.signature.SignatureRecorder`. Coordinates are mapped onto a fixed logical canvas
(:data:`CANVAS_SIZE`, letter-boxed inside the widget) so a signature means the same thing
whether it was written on a 600-px tablet pane or a full-screen panel, and the plausibility
thresholds of :class:`devices.signature.Signature` apply unchanged.

Qt synthesises mouse events from touch and tablet input that a widget does not accept; this
widget accepts tablet and touch events itself, so every physical stroke is recorded once.

Thread contract: GUI thread only (it is a widget).
"""
from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPen, QTabletEvent, QTouchEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from devices.signature import DEFAULT_PRESSURE, Signature, SignatureRecorder

CANVAS_SIZE = (900.0, 300.0)   # logical canvas, 3:1 like a signature box on the form
PEN_WIDTH = 3.2                # on-screen width at pressure 0.5, widget pixels at 900 px canvas width


class SignaturePad(QWidget):
    """Records a handwritten signature. ``changed`` fires after every finished stroke and on clear."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None, *, placeholder: str = "请在此框内签写您的姓名"):
        super().__init__(parent)
        self.placeholder = placeholder
        self._source = "mouse"
        self._recorder = SignatureRecorder(*CANVAS_SIZE, source="mouse")
        self._clock = QElapsedTimer()
        self._pen_down = False
        self._touch_id: int | None = None
        self.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents, True)
        self.setAttribute(Qt.WidgetAttribute.WA_StaticContents, True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(360, 120)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setAccessibleName("签名区")

    # ---------------------------------------------------------------- public API
    def signature(self) -> Signature:
        """The strokes so far (a copy), tagged with the kind of device that wrote them."""
        sig = self._recorder.signature()
        sig.source = self._source
        return sig

    def is_blank(self) -> bool:
        return self._recorder.signature().is_blank

    def clear(self) -> None:
        self._recorder.clear()
        self._pen_down = False
        self._touch_id = None
        self.update()
        self.changed.emit()

    def undo_stroke(self) -> None:
        self._recorder.undo_stroke()
        self.update()
        self.changed.emit()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt naming)
        return QSize(720, 240)

    # ---------------------------------------------------------------- geometry
    def canvas_rect(self) -> QRectF:
        """Where the logical canvas sits inside the widget (kept at the canvas aspect ratio)."""
        cw, ch = CANVAS_SIZE
        w, h = max(1, self.width()), max(1, self.height())
        k = min(w / cw, h / ch)
        rw, rh = cw * k, ch * k
        return QRectF((w - rw) / 2, (h - rh) / 2, rw, rh)

    def _to_canvas(self, pos: QPointF) -> tuple[float, float]:
        r = self.canvas_rect()
        k = CANVAS_SIZE[0] / r.width()
        return (pos.x() - r.left()) * k, (pos.y() - r.top()) * k

    def _elapsed(self) -> float:
        if not self._clock.isValid():
            self._clock.start()
        return self._clock.elapsed() / 1000.0

    # ---------------------------------------------------------------- recording
    def _press(self, pos: QPointF, pressure: float, source: str) -> None:
        if self.is_blank():
            self._source = source
        elif source != self._source:
            self._source = "mixed"
        x, y = self._to_canvas(pos)
        self._recorder.press(x, y, pressure, self._elapsed())
        self._pen_down = True
        self.update()

    def _move(self, pos: QPointF, pressure: float) -> None:
        if not self._pen_down:
            return
        x, y = self._to_canvas(pos)
        self._recorder.move(x, y, pressure, self._elapsed())
        self.update()

    def _release(self) -> None:
        if not self._pen_down:
            return
        self._recorder.release()
        self._pen_down = False
        self.update()
        self.changed.emit()

    # mouse: pressure unknown, the model's neutral value
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            self._press(event.position(), DEFAULT_PRESSURE, "mouse")
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._move(event.position(), DEFAULT_PRESSURE)
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            self._release()
        event.accept()

    # pen tablet: real pressure
    def tabletEvent(self, event: QTabletEvent) -> None:  # noqa: N802
        kind = event.type()
        pressure = float(event.pressure())
        if kind == QEvent.Type.TabletPress:
            self._press(event.position(), pressure, "tablet")
        elif kind == QEvent.Type.TabletMove:
            self._move(event.position(), pressure)
        elif kind == QEvent.Type.TabletRelease:
            self._release()
        event.accept()

    # touch: follow the first finger only; a palm resting beside it is ignored
    def event(self, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate, QEvent.Type.TouchEnd, QEvent.Type.TouchCancel):
            self._touch(event)  # type: ignore[arg-type]
            event.accept()
            return True
        return super().event(event)

    def _touch(self, event: QTouchEvent) -> None:
        points = event.points()
        if event.type() == QEvent.Type.TouchCancel:
            self._release()
            self._touch_id = None
            return
        for p in points:
            if self._touch_id is None and p.state() == p.State.Pressed:
                self._touch_id = p.id()
                # Panels without pressure report 0 or 1 constantly; treat both as "unknown".
                pr = p.pressure()
                self._press(p.position(), pr if 0.0 < pr < 1.0 else DEFAULT_PRESSURE, "touch")
            elif p.id() == self._touch_id:
                if p.state() == p.State.Released:
                    self._release()
                    self._touch_id = None
                else:
                    pr = p.pressure()
                    self._move(p.position(), pr if 0.0 < pr < 1.0 else DEFAULT_PRESSURE)

    # ---------------------------------------------------------------- painting
    def paintEvent(self, event) -> None:  # noqa: N802, ANN001
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.fillRect(self.rect(), QColor("#eef1f5"))
        r = self.canvas_rect()
        painter.fillRect(r, QColor("white"))
        painter.setPen(QPen(QColor("#9aa4b2"), 1))
        painter.drawRect(r.adjusted(0.5, 0.5, -0.5, -0.5))
        # a baseline to write on, as printed signature boxes have
        base_y = r.top() + r.height() * 0.78
        painter.setPen(QPen(QColor("#c5ccd6"), 1, Qt.PenStyle.DashLine))
        painter.drawLine(QPointF(r.left() + 24, base_y), QPointF(r.right() - 24, base_y))
        sig = self._recorder.signature()
        if sig.is_blank:
            painter.setPen(QColor("#8a94a3"))
            font = painter.font()
            font.setPixelSize(max(16, int(r.height() * 0.1)))
            painter.setFont(font)
            painter.drawText(r, Qt.AlignmentFlag.AlignCenter, self.placeholder)
            painter.end()
            return
        k = r.width() / CANVAS_SIZE[0]
        for stroke in sig.strokes:
            pts = stroke.points
            if not pts:
                continue
            if len(pts) == 1:
                p = pts[0]
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(QColor("black"))
                rad = PEN_WIDTH * k * (0.5 + p.pressure) / 2
                painter.drawEllipse(QPointF(r.left() + p.x * k, r.top() + p.y * k), rad, rad)
                continue
            # segments take the mean pressure of their ends: the width follows the pen
            for a, b in zip(pts, pts[1:]):
                width = PEN_WIDTH * k * (0.5 + (a.pressure + b.pressure) / 2)
                pen = QPen(QColor("black"), max(1.0, width), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                           Qt.PenJoinStyle.RoundJoin)
                painter.setPen(pen)
                painter.drawLine(QPointF(r.left() + a.x * k, r.top() + a.y * k),
                                 QPointF(r.left() + b.x * k, r.top() + b.y * k))
        painter.end()

