"""Applicant signatures as device-neutral strokes, their plausibility check and rendering.

A source (a pen tablet, a touch screen or a mouse; the Qt sources live in ``ui/``) feeds a
:class:`SignatureRecorder` with press/move/release events carrying ``x``, ``y`` (capture canvas
pixels, origin top-left), ``pressure`` (0–1; sources without pressure send 0.5) and ``t``
(seconds).  The resulting :class:`Signature` is checked with :meth:`Signature.validate`
(blank, a single dot, too few strokes or points, too little ink, too small a box — thresholds in
:class:`SignatureThresholds`), and rendered to a transparent PNG (anti-aliased, width following
the pressure) for the form and to SVG; it round-trips through JSON for storage.

Thread contract: plain data, no shared state; a recorder belongs to the thread feeding it.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

JSON_FORMAT = "counter-app-signature"
JSON_VERSION = 1
DEFAULT_PRESSURE = 0.5


class SignatureFormatError(ValueError):
    """A stored signature cannot be read; ``message`` is Chinese."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class StrokePoint:
    x: float
    y: float
    pressure: float = DEFAULT_PRESSURE
    t: float = 0.0


@dataclass
class Stroke:
    points: list[StrokePoint] = field(default_factory=list)

    @property
    def length(self) -> float:
        """Ink length: the polyline's length in canvas pixels."""
        if len(self.points) < 2:
            return 0.0
        xy = np.array([(p.x, p.y) for p in self.points], dtype=float)
        return float(np.hypot(*np.diff(xy, axis=0).T).sum())


@dataclass(frozen=True)
class BoundingBox:
    left: float
    top: float
    right: float
    bottom: float

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top


@dataclass(frozen=True)
class SignatureThresholds:
    """When a signature is implausible.  Ratios are relative to the capture canvas, so the
    same table serves a 600×200 tablet and a full-screen touch panel."""

    min_points: int = 20  # a handwritten name yields hundreds of samples; 20 is a scribble
    # Chinese names have two to four characters; even a fast cursive signature lifts the pen.
    min_strokes: int = 2
    min_ink_ratio: float = 1.0  # ink length / canvas diagonal
    min_box_width_ratio: float = 0.15  # of canvas width
    min_box_height_ratio: float = 0.08  # of canvas height (a flat line is no signature)
    dot_ratio: float = 0.01  # everything within this × diagonal counts as one dot


DEFAULT_THRESHOLDS = SignatureThresholds()

PROBLEM_MESSAGES = {
    "blank": "签名为空，请在签名区内签写姓名",
    "single_dot": "只检测到一个点，请用笔完整签写姓名",
    "too_few_strokes": "笔画过少（{strokes} 笔），请完整签写姓名",
    "too_few_points": "签名不完整：请在框内完整签名",
    "too_little_ink": "笔迹过短，请完整签写姓名",
    "box_too_small": "签名过小，请在签名区内写大一些",
}


@dataclass(frozen=True)
class SignatureProblem:
    code: str  # a key of PROBLEM_MESSAGES
    message: str  # Chinese, for the clerk and the applicant


def _problem(code: str, **values) -> SignatureProblem:
    return SignatureProblem(code, PROBLEM_MESSAGES[code].format(**values))


@dataclass
class Signature:
    """Strokes on a ``width`` × ``height`` capture canvas (pixels)."""

    width: float
    height: float
    strokes: list[Stroke] = field(default_factory=list)
    source: str = "unknown"  # "tablet", "touch", "mouse"

    # ---------------------------------------------------------------- measures
    @property
    def point_count(self) -> int:
        return sum(len(s.points) for s in self.strokes)

    @property
    def ink_length(self) -> float:
        return sum(s.length for s in self.strokes)

    @property
    def is_blank(self) -> bool:
        return self.point_count == 0

    def bounding_box(self) -> BoundingBox | None:
        points = [p for s in self.strokes for p in s.points]
        if not points:
            return None
        xs = [p.x for p in points]
        ys = [p.y for p in points]
        return BoundingBox(min(xs), min(ys), max(xs), max(ys))

    @property
    def diagonal(self) -> float:
        return math.hypot(self.width, self.height)

    # ---------------------------------------------------------------- plausibility
    def validate(self, thresholds: SignatureThresholds = DEFAULT_THRESHOLDS) -> list[SignatureProblem]:
        """Problems that make this signature unacceptable; empty when it is plausible."""
        if self.is_blank:
            return [_problem("blank")]
        box = self.bounding_box()
        assert box is not None
        if math.hypot(box.width, box.height) <= thresholds.dot_ratio * self.diagonal:
            return [_problem("single_dot")]
        problems = []
        strokes = sum(1 for s in self.strokes if s.points)
        if strokes < thresholds.min_strokes:
            problems.append(_problem("too_few_strokes", strokes=strokes))
        if self.point_count < thresholds.min_points:
            problems.append(_problem("too_few_points"))
        if self.ink_length < thresholds.min_ink_ratio * self.diagonal:
            problems.append(_problem("too_little_ink"))
        if (box.width < thresholds.min_box_width_ratio * self.width
                or box.height < thresholds.min_box_height_ratio * self.height):
            problems.append(_problem("box_too_small"))
        return problems

    def is_acceptable(self, thresholds: SignatureThresholds = DEFAULT_THRESHOLDS) -> bool:
        return not self.validate(thresholds)

    # ---------------------------------------------------------------- rendering
    def _frame(self, scale: float, pen_width: float, crop: bool, padding: float) -> tuple[float, float, int, int]:
        """Output origin (canvas coordinates) and size (output pixels)."""
        box = self.bounding_box()
        if crop and box is not None:
            margin = pen_width * 1.5 / scale + padding / scale
            left, top = box.left - margin, box.top - margin
            w = (box.width + 2 * margin) * scale
            h = (box.height + 2 * margin) * scale
        else:
            left, top = 0.0, 0.0
            w, h = self.width * scale, self.height * scale
        return left, top, max(1, math.ceil(w)), max(1, math.ceil(h))

    def to_png(self, *, scale: float = 1.0, pen_width: float = 3.0, color: tuple[int, int, int] = (0, 0, 0),
               crop: bool = True, padding: float = 8.0, supersample: int = 4) -> bytes:
        """Transparent PNG (RGBA): ink in ``color`` (RGB), alpha = coverage.

        Drawn ``supersample`` times larger and reduced with area averaging, so edges are smooth
        and widths between whole pixels are rendered faithfully.  ``pen_width`` is the width at
        pressure 0.5, in output pixels; it spans 0.5× to 1.5× over the pressure range.
        """
        import cv2

        left, top, w, h = self._frame(scale, pen_width, crop, padding)
        ss = max(1, int(supersample))
        mask = np.zeros((h * ss, w * ss), dtype=np.uint8)
        shift = 4  # sub-pixel coordinates for cv2 drawing, 1/16 px
        factor = scale * ss * (1 << shift)
        for xy, widths in self._smoothed_strokes():
            pts = np.round((xy - (left, top)) * factor).astype(np.int64)
            px_widths = widths * pen_width * ss
            if len(pts) == 1:
                radius = max(1, int(round(px_widths[0] / 2 * (1 << shift))))
                cv2.circle(mask, (int(pts[0, 0]), int(pts[0, 1])), radius, 255, -1, cv2.LINE_AA, shift)
                continue
            for i in range(len(pts) - 1):
                thickness = max(1, int(round((px_widths[i] + px_widths[i + 1]) / 2)))
                cv2.line(mask, (int(pts[i, 0]), int(pts[i, 1])), (int(pts[i + 1, 0]), int(pts[i + 1, 1])),
                         255, thickness, cv2.LINE_AA, shift)
        if ss > 1:
            mask = cv2.resize(mask, (w, h), interpolation=cv2.INTER_AREA)
        r, g, b = color
        bgra = np.empty((h, w, 4), dtype=np.uint8)
        bgra[..., 0], bgra[..., 1], bgra[..., 2] = b, g, r
        bgra[..., 3] = mask
        ok, encoded = cv2.imencode(".png", bgra)
        if not ok:  # pragma: no cover - cv2 always encodes a uint8 BGRA array
            raise RuntimeError("PNG encoding failed")
        return encoded.tobytes()

    def to_svg(self, *, scale: float = 1.0, pen_width: float = 3.0, color: tuple[int, int, int] = (0, 0, 0),
               crop: bool = True, padding: float = 8.0) -> str:
        """SVG text with a transparent background; runs of equal width become one path."""
        left, top, w, h = self._frame(scale, pen_width, crop, padding)
        hex_color = "#{:02x}{:02x}{:02x}".format(*color)
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">',
            f'<g fill="none" stroke="{hex_color}" stroke-linecap="round" stroke-linejoin="round">',
        ]
        for xy, widths in self._smoothed_strokes():
            out = (xy - (left, top)) * scale
            px = widths * pen_width
            if len(out) == 1:
                parts.append(f'<circle cx="{out[0, 0]:.2f}" cy="{out[0, 1]:.2f}" r="{px[0] / 2:.2f}" '
                             f'fill="{hex_color}" stroke="none"/>')
                continue
            seg_w = np.round((px[:-1] + px[1:]) / 2 * 4) / 4  # quarter-pixel steps
            start = 0
            for i in range(1, len(seg_w) + 1):
                if i == len(seg_w) or seg_w[i] != seg_w[start]:
                    coords = " L ".join(f"{x:.2f} {y:.2f}" for x, y in out[start : i + 1])
                    parts.append(f'<path stroke-width="{seg_w[start]:g}" d="M {coords}"/>')
                    start = i
        parts.append("</g></svg>")
        return "\n".join(parts)

    def _smoothed_strokes(self) -> Iterable[tuple[np.ndarray, np.ndarray]]:
        """Per stroke: Catmull-Rom-interpolated points and relative widths (0.5–1.5)."""
        for stroke in self.strokes:
            if not stroke.points:
                continue
            xy = np.array([(p.x, p.y) for p in stroke.points], dtype=float)
            pressure = np.clip(np.array([p.pressure for p in stroke.points], dtype=float), 0.0, 1.0)
            xy, pressure = _catmull_rom(xy, pressure)
            yield xy, 0.5 + pressure

    # ---------------------------------------------------------------- storage
    def to_json(self) -> str:
        return json.dumps({
            "format": JSON_FORMAT,
            "version": JSON_VERSION,
            "width": self.width,
            "height": self.height,
            "source": self.source,
            "strokes": [[[p.x, p.y, p.pressure, p.t] for p in s.points] for s in self.strokes],
        }, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> "Signature":
        try:
            data = json.loads(text)
        except ValueError:
            raise SignatureFormatError("签名数据已损坏（不是有效的 JSON），请让申请人重新签名") from None
        if not isinstance(data, dict) or data.get("format") != JSON_FORMAT:
            raise SignatureFormatError("不是签名数据文件，请让申请人重新签名")
        if data.get("version") != JSON_VERSION:
            raise SignatureFormatError(f"签名数据版本 {data.get('version')} 不受支持，请升级程序")
        try:
            width, height = float(data["width"]), float(data["height"])
            strokes = [Stroke([StrokePoint(float(x), float(y), float(p), float(t)) for x, y, p, t in s])
                       for s in data["strokes"]]
        except (KeyError, TypeError, ValueError):
            raise SignatureFormatError("签名数据内容不完整或格式错误，请让申请人重新签名") from None
        if not (width > 0 and height > 0) or not all(
                math.isfinite(v) for s in strokes for p in s.points for v in (p.x, p.y, p.pressure, p.t)):
            raise SignatureFormatError("签名数据中有无效的数值，请让申请人重新签名")
        return cls(width, height, strokes, str(data.get("source", "unknown")))


def _catmull_rom(xy: np.ndarray, pressure: np.ndarray, step: float = 1.5) -> tuple[np.ndarray, np.ndarray]:
    """Interpolate a polyline through its points with a uniform Catmull-Rom spline, about one
    sample per ``step`` canvas pixels, so curves stay round between sparse input samples
    (a mouse reports far fewer points than a tablet)."""
    n = len(xy)
    if n < 3:
        return xy, pressure
    padded = np.vstack([xy[0], xy, xy[-1]])
    out_xy = [xy[:1]]
    out_p = [pressure[:1]]
    for i in range(n - 1):
        p0, p1, p2, p3 = padded[i], padded[i + 1], padded[i + 2], padded[i + 3]
        seg = max(1, int(math.hypot(*(p2 - p1)) / step))
        t = np.linspace(0, 1, seg + 1)[1:, None]
        t2, t3 = t * t, t * t * t
        pts = 0.5 * ((2 * p1) + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t2 + (-p0 + 3 * p1 - 3 * p2 + p3) * t3)
        out_xy.append(pts)
        out_p.append(pressure[i] + (pressure[i + 1] - pressure[i]) * t[:, 0])
    return np.vstack(out_xy), np.concatenate(out_p)


class SignatureRecorder:
    """Collects pointer events from any source into a :class:`Signature`.

    ``press`` starts a stroke, ``move`` extends it (ignored while the pen is up — a mouse
    hovering draws nothing), ``release`` ends it.  ``t`` defaults to the time of the event
    relative to the first press when the source gives none.
    """

    def __init__(self, width: float, height: float, source: str = "unknown"):
        self.width, self.height, self.source = width, height, source
        self._strokes: list[Stroke] = []
        self._current: Stroke | None = None

    def press(self, x: float, y: float, pressure: float = DEFAULT_PRESSURE, t: float = 0.0) -> None:
        self.release()
        self._current = Stroke([self._point(x, y, pressure, t)])

    def move(self, x: float, y: float, pressure: float = DEFAULT_PRESSURE, t: float = 0.0) -> None:
        if self._current is None:
            return
        point = self._point(x, y, pressure, t)
        last = self._current.points[-1]
        if (point.x, point.y) == (last.x, last.y):
            return  # repeated samples add nothing but weight to the JSON
        self._current.points.append(point)

    def release(self) -> None:
        if self._current is not None:
            self._strokes.append(self._current)
            self._current = None

    def undo_stroke(self) -> None:
        if self._current is not None:
            self._current = None
        elif self._strokes:
            self._strokes.pop()

    def clear(self) -> None:
        self._strokes.clear()
        self._current = None

    def signature(self) -> Signature:
        strokes = list(self._strokes) + ([self._current] if self._current is not None else [])
        return Signature(self.width, self.height, [Stroke(list(s.points)) for s in strokes], self.source)

    def _point(self, x: float, y: float, pressure: float, t: float) -> StrokePoint:
        # Points outside the canvas (a pen sliding past the edge) are clamped, not dropped,
        # so the stroke stays continuous.
        x = min(max(float(x), 0.0), float(self.width))
        y = min(max(float(y), 0.0), float(self.height))
        return StrokePoint(x, y, min(max(float(pressure), 0.0), 1.0), float(t))


def signature_from_points(width: float, height: float, strokes: Sequence[Sequence[tuple]], source: str = "unknown") -> Signature:
    """Build a signature from plain tuples ``(x, y[, pressure[, t]])`` per stroke."""
    return Signature(width, height, [Stroke([StrokePoint(*pt) for pt in s]) for s in strokes], source)
