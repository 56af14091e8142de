"""Live guidance for the camera preview and automatic capture.

:class:`LiveChecker` looks at each preview frame quickly (the face mesh tracked from the previous
frame, BlazeFace every tenth frame; see :mod:`.trackers`), tells the applicant what to change in
plain words ("请靠近一点", "光线太暗", "请摘下帽子", "请把头放正，正对镜头", "请闭上嘴，自然表情",
"请睁开眼睛" …), and once every check has passed for
``limits.live_frames_to_capture`` frames in a row it reports ``capture=True`` and holds the
sharpest frame of that run in :attr:`LiveChecker.best_frame`. The caller then runs
:func:`devices.photo.make_compliant_photo` on that frame.

Thread contract: a ``LiveChecker`` is used from one thread only (the analysis thread fed by
:class:`devices.camera.CaptureWorker`); it owns its networks (or the Haar cascades when the
face models cannot be loaded: :attr:`LiveChecker.engine` says which). :func:`draw_overlay` is a pure
function and may run anywhere. Neither touches Qt: the UI only displays the returned array.
"""
from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field

import cv2
import numpy as np

import logging
import math

from .checks import Check, check, measure_face_light
from .cjk_font import TextPainter, default_painter
from .cnn import ModelError
from .detect import Box
from .limits import DEFAULT_LIMITS, PhotoLimits
from .trackers import HaarTracker, LiveFace, MeshTracker

log = logging.getLogger(__name__)

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
    landmarks: np.ndarray | None = None    # the face mesh's 468 points (x, y), CNN only

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

    def __init__(self, limits: PhotoLimits = DEFAULT_LIMITS, auto_capture: bool = True,
                 engine: str = "auto") -> None:
        self.limits = limits
        self.auto_capture = auto_capture
        self._tracker = _make_tracker(engine, limits)
        self._burst = _Burst()
        self._captured = False

    @property
    def engine(self) -> str:
        """``"cnn"``, or ``"haar"`` when the face models could not be loaded."""
        return self._tracker.engine

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
        self._tracker.reset()

    # --- the per-frame check ------------------------------------------------------------
    def check_frame(self, frame: np.ndarray) -> LiveVerdict:
        t0 = time.perf_counter()
        lim = self.limits
        h, w = frame.shape[:2]
        if frame.ndim == 2:
            frame_bgr = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        else:
            frame_bgr = frame
        gray = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        faces = self._tracker.find(frame_bgr)
        needed = lim.live_frames_to_capture

        def verdict(ok: bool, hints: list[str], checks: list[Check], face: LiveFace | None = None,
                    sharp: float = 0.0) -> LiveVerdict:
            return self._advance(frame, ok, hints, checks, face, sharp, needed,
                                 (time.perf_counter() - t0) * 1000.0, (w, h))

        checks: list[Check] = [check("face_found", "人脸", bool(faces), len(faces), "检测到 1 张人脸",
                                     "请正对镜头")]
        if not faces:
            return verdict(False, ["请正对镜头"], checks)
        face = faces[0]
        box = face.box
        others = [f for f in faces[1:] if f.width >= 0.5 * face.width]
        checks.append(check("single_face", "人脸数量", not others, 1 + len(others), "只能有 1 张人脸",
                            "请只保留申请人一人在镜头前"))
        light = measure_face_light(gray, _light_box(face), LIVE_QUALITY_FACE_WIDTH)
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
        eyes_found = face.image_left_eye is not None and face.image_right_eye is not None
        checks.append(check("eyes_found", "双眼", eyes_found, 2 if eyes_found else 0, "检测到双眼",
                            "请正对镜头，露出双眼"))
        roll = None
        if eyes_found:
            (x0, y0), (x1, y1) = face.image_left_eye, face.image_right_eye
            roll = math.degrees(math.atan2(y1 - y0, x1 - x0))
            checks.append(check("head_tilt", "头部端正", abs(roll) <= lim.live_max_roll_deg, roll,
                                f"≤ ±{lim.live_max_roll_deg:g}°", "请把头摆正"))
        if face.mesh is not None:
            checks.extend(_mesh_checks(face, lim))
        checks.append(check("uneven_lighting", "光照均匀", light.imbalance <= lim.max_lighting_imbalance,
                            light.imbalance, f"≤ {lim.max_lighting_imbalance:.0%}", "脸部光线不均匀，请调整补光灯"))
        checks.append(check("blurred", "清晰度", light.sharpness >= lim.min_sharpness, light.sharpness,
                            f"≥ {lim.min_sharpness:g}", "请保持不动"))
        hints = [c.message for c in checks if not c.passed]
        ok = not hints
        return verdict(ok, hints, checks, face, light.sharpness)

    def _advance(self, frame: np.ndarray, ok: bool, hints: list[str], checks: list[Check],
                 face: LiveFace | None, sharpness: float, needed: int, ms: float,
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
            left_eye=face.image_left_eye if face else None, right_eye=face.image_right_eye if face else None,
            roll_deg=_roll(face), sharpness=sharpness,
            landmarks=face.mesh.points[:, :2].copy() if face is not None and face.mesh is not None else None,
            streak=burst.streak, needed=needed, capture=capture, analysis_ms=ms, frame_size=size)
        if improved:
            burst.best_verdict = v
        return v


def _make_tracker(engine: str, limits: PhotoLimits):
    if engine == "haar":
        return HaarTracker(limits.live_min_face_fraction)
    try:
        return MeshTracker()
    except ModelError:
        if engine == "cnn":
            raise
        log.warning("face models unavailable, live guidance uses the Haar cascades")
        return HaarTracker(limits.live_min_face_fraction)


def _roll(face: LiveFace | None) -> float | None:
    if face is None or face.image_left_eye is None or face.image_right_eye is None:
        return None
    (x0, y0), (x1, y1) = face.image_left_eye, face.image_right_eye
    return math.degrees(math.atan2(y1 - y0, x1 - x0))


def _light_box(face: LiveFace) -> Box:
    if face.mesh is None:
        return face.box
    x, y, w, h = face.box
    return (int(x - 0.1 * w), int(y + 0.1 * h), int(1.2 * w), int(0.9 * h))


def _mesh_checks(face: LiveFace, lim: PhotoLimits) -> list[Check]:
    """The face rules in the applicant's words (the final photo states them for the clerk)."""
    m = face.mesh
    yaw, pitch = m.yaw_deg(), m.pitch_deg()
    out = [
        check("eyes_open", "双眼睁开", min(m.eye_openness()) >= lim.min_eye_openness, min(m.eye_openness()),
              f"≥ {lim.min_eye_openness:g}", "请睁开眼睛"),
        check("mouth_closed", "嘴巴闭合", m.mouth_gap() <= lim.max_mouth_gap, m.mouth_gap(),
              f"≤ {lim.max_mouth_gap:g}", "请闭上嘴，自然表情"),
        check("head_turn", "未侧脸", abs(yaw) <= lim.max_yaw_deg, yaw, f"≤ ±{lim.max_yaw_deg:g}°", "请把头放正，正对镜头"),
        check("head_pitch", "平视", abs(pitch) <= lim.max_pitch_deg, pitch, f"≤ ±{lim.max_pitch_deg:g}°",
              "请稍微低头，平视镜头" if pitch > 0 else "请稍微抬头，平视镜头"),
    ]
    if face.hat_contrast is not None:
        out.append(check("no_hat", "免冠", face.hat_contrast <= lim.max_hat_contrast, face.hat_contrast,
                         f"≤ {lim.max_hat_contrast:g}", "请摘下帽子"))
    return out


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
