"""Live guidance for the camera preview and automatic capture.

:class:`LiveChecker` looks at each preview frame quickly (face search on a 320-px copy, tracked
from the previous frame; eyes, light and sharpness on the face only), tells the applicant what
to change ("请靠近一点", "光线太暗" …), and once every check has passed for
``limits.live_frames_to_capture`` frames in a row it reports ``capture=True`` and holds the
sharpest frame of that run in :attr:`LiveChecker.best_frame`. The caller then runs
:func:`devices.photo.make_compliant_photo` on that frame.

Thread contract: a ``LiveChecker`` is used from one thread only (the analysis thread fed by
:class:`devices.camera.CaptureWorker`); it owns its detector. :func:`draw_overlay` is a pure
function and may run anywhere. Neither touches Qt: the UI only displays the returned array.
"""
from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field

import cv2
import numpy as np

from .checks import Check, check, measure_face_light
from .cjk_font import TextPainter, default_painter
from .detect import Box, FaceDetector, FaceFinding
from .limits import DEFAULT_LIMITS, PhotoLimits

# A full search (not only around the tracked face) runs at least this often, so a second
# person stepping in is noticed within a third of a second at 30 fps.
FULL_SEARCH_EVERY = 10
LIVE_EYE_SEARCH_WIDTH = 96
LIVE_QUALITY_FACE_WIDTH = 96


class LiveState(str, enum.Enum):
    SEARCHING = "searching"   # no usable face
    ADJUSTING = "adjusting"   # a face, but some check fails: follow the hint
    HOLDING = "holding"       # all checks pass; counting frames before capture
    CAPTURED = "captured"     # the burst is complete; best_frame is ready

    @property
    def label(self) -> str:
        return {"searching": "寻找人脸", "adjusting": "请按提示调整", "holding": "请保持不动",
                "captured": "已拍照"}[self.value]


@dataclass(frozen=True)
class LiveVerdict:
    """The verdict on one preview frame (coordinates are those of the frame passed in)."""

    ok: bool
    state: LiveState
    hints: tuple[str, ...]
    checks: tuple[Check, ...] = ()
    face_box: Box | None = None
    left_eye: tuple[float, float] | None = None
    right_eye: tuple[float, float] | None = None
    roll_deg: float | None = None
    sharpness: float = 0.0
    streak: int = 0
    needed: int = 1
    capture: bool = False      # True on exactly the frame that completed the burst
    analysis_ms: float = 0.0
    frame_size: tuple[int, int] = (0, 0)   # (width, height)

    @property
    def hint(self) -> str:
        return self.hints[0] if self.hints else ""

    @property
    def progress(self) -> float:
        return min(1.0, self.streak / float(max(1, self.needed)))


@dataclass
class _Burst:
    streak: int = 0
    best_score: float = -1.0
    best_frame: np.ndarray | None = None
    best_verdict: LiveVerdict | None = None
    frames: list[float] = field(default_factory=list)


class LiveChecker:
    """Per-frame checks and the automatic-capture state. See the module docstring."""

    def __init__(self, limits: PhotoLimits = DEFAULT_LIMITS, auto_capture: bool = True) -> None:
        self.limits = limits
        self.auto_capture = auto_capture
        self._detector = FaceDetector()
        self._track: Box | None = None      # last face box in analysis coordinates
        self._frames_since_full = FULL_SEARCH_EVERY
        self._burst = _Burst()
        self._captured = False

    # --- state ------------------------------------------------------------------------
    @property
    def best_frame(self) -> np.ndarray | None:
        """A copy of the sharpest frame of the completed (or current) burst."""
        return self._burst.best_frame

    @property
    def best_verdict(self) -> LiveVerdict | None:
        return self._burst.best_verdict

    @property
    def captured(self) -> bool:
        return self._captured

    def reset(self) -> None:
        """Start over (after the clerk discarded a capture, or a new applicant sits down)."""
        self._burst = _Burst()
        self._captured = False
        self._track = None
        self._frames_since_full = FULL_SEARCH_EVERY

    # --- the per-frame check ------------------------------------------------------------
    def check_frame(self, frame: np.ndarray) -> LiveVerdict:
        t0 = time.perf_counter()
        lim = self.limits
        h, w = frame.shape[:2]
        gray = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        k = min(1.0, lim.live_analysis_width / float(w))
        small = cv2.resize(gray, None, fx=k, fy=k, interpolation=cv2.INTER_AREA) if k < 1 else gray
        small = cv2.equalizeHist(small)
        boxes = self._find_boxes(small)
        n_faces = len(boxes)
        needed = lim.live_frames_to_capture

        def verdict(ok: bool, hints: list[str], checks: list[Check], face: FaceFinding | None = None,
                    sharp: float = 0.0) -> LiveVerdict:
            return self._advance(frame, ok, hints, checks, face, sharp, needed,
                                 (time.perf_counter() - t0) * 1000.0, (w, h))

        checks: list[Check] = [check("face_found", "人脸", n_faces > 0, n_faces, "检测到 1 张人脸",
                                     "请正对镜头")]
        if not boxes:
            self._track = None
            return verdict(False, ["请正对镜头"], checks)
        inv = 1.0 / k
        bx, by, bw, bh = boxes[0]
        box = (int(bx * inv), int(by * inv), int(bw * inv), int(bh * inv))
        eyes = self._detector.find_eyes(gray, box, search_width=LIVE_EYE_SEARCH_WIDTH)
        face = FaceFinding(box, *(eyes if eyes else (None, None)))
        hints: list[str] = []

        others = [b for b in boxes[1:] if b[2] >= 0.5 * bw]
        checks.append(check("single_face", "人脸数量", not others, 1 + len(others), "只能有 1 张人脸",
                            "请只保留申请人一人在镜头前"))
        light = measure_face_light(gray, box, LIVE_QUALITY_FACE_WIDTH)
        checks.append(check("too_dark", "亮度", light.brightness >= lim.min_face_brightness, light.brightness,
                            f"≥ {lim.min_face_brightness:g}", "光线太暗"))
        checks.append(check("over_exposed", "曝光",
                            light.brightness <= lim.max_face_brightness
                            and light.clipped_fraction <= lim.max_clipped_fraction,
                            light.clipped_fraction, f"≤ {lim.max_clipped_fraction:g}", "光线太强，请调暗补光灯"))
        frac = box[3] / float(h)
        checks.append(check("face_size", "距离", lim.live_min_face_fraction <= frac <= lim.live_max_face_fraction,
                            frac, f"脸高占画面 {lim.live_min_face_fraction:.0%}–{lim.live_max_face_fraction:.0%}",
                            "请靠近一点" if frac < lim.live_min_face_fraction else "请离远一点"))
        cx = (box[0] + box[2] / 2.0) / w - 0.5
        cy = (box[1] + box[3] / 2.0) / h - 0.45   # faces sit a little above the middle in a portrait
        offset = max(abs(cx), abs(cy))
        checks.append(check("centered", "居中", offset <= lim.live_max_center_offset, offset,
                            f"偏离中心 ≤ {lim.live_max_center_offset:.0%}", "请移到画面中央"))
        checks.append(check("eyes_found", "双眼", face.eyes_found, 2 if face.eyes_found else 0, "检测到双眼",
                            "请正对镜头，露出双眼"))
        if face.eyes_found:
            roll = face.roll_deg
            checks.append(check("head_tilt", "头部端正", abs(roll) <= lim.live_max_roll_deg, roll,
                                f"≤ ±{lim.live_max_roll_deg:g}°", "请把头摆正"))
        checks.append(check("uneven_lighting", "光照均匀", light.imbalance <= lim.max_lighting_imbalance,
                            light.imbalance, f"≤ {lim.max_lighting_imbalance:.0%}", "脸部光线不均匀，请调整补光灯"))
        checks.append(check("blurred", "清晰度", light.sharpness >= lim.min_sharpness, light.sharpness,
                            f"≥ {lim.min_sharpness:g}", "请保持不动"))
        hints = [c.message for c in checks if not c.passed]
        ok = not hints
        return verdict(ok, hints, checks, face, light.sharpness)

    def _find_boxes(self, small: np.ndarray) -> list[Box]:
        """Face boxes in analysis coordinates, tracked face first."""
        lim = self.limits
        det = self._detector
        self._frames_since_full += 1
        if self._track is not None and self._frames_since_full < FULL_SEARCH_EVERY:
            x, y, bw, bh = self._track
            m = int(0.5 * bw)
            x0, y0 = max(0, x - m), max(0, y - m)
            roi = small[y0:y + bh + m, x0:x + bw + m]
            found = det.face_boxes(roi, max(20, int(bw * 0.75)), scale_factor=1.08, min_neighbors=3,
                                   max_face_px=int(bw * 1.35) + 1)
            if found:
                fx, fy, fw, fh = found[0]
                self._track = (x0 + fx, y0 + fy, fw, fh)
                return [self._track]
        self._frames_since_full = 0
        # well below the "come closer" size, so that hint can be given at all
        min_face = max(20, int(small.shape[0] * lim.live_min_face_fraction * 0.45))
        boxes = det.face_boxes(small, min_face, scale_factor=1.15, min_neighbors=4,
                               max_face_px=int(min(small.shape[:2]) * 0.95))
        self._track = boxes[0] if boxes else None
        return boxes

    def _advance(self, frame: np.ndarray, ok: bool, hints: list[str], checks: list[Check],
                 face: FaceFinding | None, sharpness: float, needed: int, ms: float,
                 size: tuple[int, int]) -> LiveVerdict:
        burst = self._burst
        capture = improved = False
        if self._captured:
            state = LiveState.CAPTURED
            hints = ["拍照完成"]
        elif ok:
            burst.streak += 1
            state = LiveState.HOLDING
            hints = ["请保持不动"]
            # the sharpest frame of the run wins; the person is still, so blur is what varies
            if sharpness > burst.best_score:
                burst.best_score = sharpness
                burst.best_frame = frame.copy()
                improved = True
            if self.auto_capture and burst.streak >= needed:
                self._captured = capture = True
                state = LiveState.CAPTURED
                hints = ["拍照完成"]
        else:
            self._burst = burst = _Burst()
            state = LiveState.SEARCHING if face is None else LiveState.ADJUSTING
        v = LiveVerdict(
            ok=ok, state=state, hints=tuple(hints), checks=tuple(checks),
            face_box=face.box if face else None,
            left_eye=face.left_eye if face else None, right_eye=face.right_eye if face else None,
            roll_deg=face.roll_deg if face else None, sharpness=sharpness,
            streak=burst.streak, needed=needed, capture=capture, analysis_ms=ms, frame_size=size)
        if improved:
            burst.best_verdict = v
        return v


# --- the overlay ------------------------------------------------------------------------
_COLOURS = {
    LiveState.SEARCHING: (60, 60, 230),    # red (BGR)
    LiveState.ADJUSTING: (0, 170, 255),    # amber
    LiveState.HOLDING: (80, 200, 80),      # green
    LiveState.CAPTURED: (80, 200, 80),
}


def draw_overlay(frame: np.ndarray, verdict: LiveVerdict, painter: TextPainter | None = None,
                 mirror: bool = False, limits: PhotoLimits = DEFAULT_LIMITS) -> np.ndarray:
    """A new BGR frame with the guide oval, the face box, the capture progress and the hint.

    ``mirror`` flips the picture horizontally first (applicants expect a mirror image of
    themselves); boxes are flipped with it. The input frame is not modified.
    """
    out = cv2.flip(frame, 1) if mirror else frame.copy()
    if out.ndim == 2:
        out = cv2.cvtColor(out, cv2.COLOR_GRAY2BGR)
    h, w = out.shape[:2]
    colour = _COLOURS[verdict.state]
    thick = max(2, w // 400)

    # where the face should be: the live distance and centring rules drawn as an oval
    cx, cy = w // 2, int(0.45 * h)
    axis_y = int(h * (limits.live_min_face_fraction + limits.live_max_face_fraction) / 4.0 * 1.25)
    cv2.ellipse(out, (cx, cy), (int(axis_y / 1.3), axis_y), 0, 0, 360, (235, 235, 235), 1, cv2.LINE_AA)

    if verdict.face_box is not None:
        x, y, bw, bh = verdict.face_box
        if mirror:
            x = w - x - bw
        cv2.rectangle(out, (x, y), (x + bw, y + bh), colour, thick, cv2.LINE_AA)
        for eye in (verdict.left_eye, verdict.right_eye):
            if eye is not None:
                ex = w - eye[0] if mirror else eye[0]
                cv2.circle(out, (int(ex), int(eye[1])), max(2, bw // 30), colour, -1, cv2.LINE_AA)

    # capture progress along the bottom edge
    bar_h = max(6, h // 60)
    if verdict.streak:
        cv2.rectangle(out, (0, h - bar_h), (int(w * verdict.progress), h), colour, -1)

    # the hint on a darkened band at the top
    band_h = max(36, h // 12)
    out[:band_h] = (out[:band_h].astype(np.uint16) * 2 // 5).astype(np.uint8)
    painter = painter or default_painter()
    text = verdict.hint
    size_px = int(band_h * 0.62)
    rendered = painter.render(text, size_px, colour) if text else None
    if rendered is not None:
        tw = rendered[1].shape[1]
        painter.draw(out, text, (max(4, (w - tw) // 2), (band_h - rendered[1].shape[0]) // 2), size_px, colour)
    else:
        # no Chinese font on this machine: a state marker still tells good from bad
        cv2.circle(out, (band_h // 2, band_h // 2), band_h // 3, colour, -1, cv2.LINE_AA)
    return out
