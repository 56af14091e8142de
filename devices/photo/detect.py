"""Face and eye finding with the Haar cascades that opencv-python-headless 4.x ships.

Why Haar and not a DNN: the cascades come inside the OpenCV wheel (no model file to fetch or
license), run at hundreds of frames per second on a 320-px preview, and the photo rules only
need a frontal, upright, cooperative face. The face cascade is ``alt2`` (fewer false faces on
textures than ``default``); a face counts only when the eye cascade also finds a plausible eye
pair, which keeps cats, coins and wallpaper out.

Thread contract: a :class:`FaceDetector` owns its cascades and is not shared between threads;
make one per thread (construction takes ~20 ms, the XML is parsed once per process and cached).
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

FACE_CASCADE = "haarcascade_frontalface_alt2.xml"
EYE_CASCADE = "haarcascade_eye.xml"

Box = tuple[int, int, int, int]
Point = tuple[float, float]

_cache_lock = threading.Lock()


@lru_cache(maxsize=None)
def _cascade_path(name: str) -> str:
    return cv2.data.haarcascades + name


def _load(name: str) -> cv2.CascadeClassifier:
    with _cache_lock:
        cascade = cv2.CascadeClassifier(_cascade_path(name))
    if cascade.empty():  # pragma: no cover - a broken OpenCV install
        raise RuntimeError(f"无法加载人脸检测模型 {name}，请重新安装程序")
    return cascade


@dataclass(frozen=True)
class FaceFinding:
    """One face in image coordinates.

    ``left_eye`` is the eye on the image's left (the subject's right eye). Eye points are
    ``None`` when the eye cascade found no plausible pair.
    """

    box: Box
    left_eye: Point | None = None
    right_eye: Point | None = None

    @property
    def width(self) -> int:
        return self.box[2]

    @property
    def center(self) -> Point:
        x, y, w, h = self.box
        return (x + w / 2.0, y + h / 2.0)

    @property
    def eyes_found(self) -> bool:
        return self.left_eye is not None and self.right_eye is not None

    @property
    def eye_mid(self) -> Point | None:
        if not self.eyes_found:
            return None
        return ((self.left_eye[0] + self.right_eye[0]) / 2.0, (self.left_eye[1] + self.right_eye[1]) / 2.0)

    @property
    def roll_deg(self) -> float | None:
        """Head roll from the eye line; positive when the image-right eye is lower."""
        if not self.eyes_found:
            return None
        dx = self.right_eye[0] - self.left_eye[0]
        dy = self.right_eye[1] - self.left_eye[1]
        return math.degrees(math.atan2(dy, dx))

    def scaled(self, factor: float, dx: float = 0.0, dy: float = 0.0) -> "FaceFinding":
        """The same finding in another coordinate frame (``p * factor + (dx, dy)``)."""

        def pt(p: Point | None) -> Point | None:
            return None if p is None else (p[0] * factor + dx, p[1] * factor + dy)

        x, y, w, h = self.box
        box = (int(round(x * factor + dx)), int(round(y * factor + dy)), int(round(w * factor)), int(round(h * factor)))
        return FaceFinding(box, pt(self.left_eye), pt(self.right_eye))


def to_gray(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


class FaceDetector:
    """Finds frontal faces and their eyes. See the module docstring for the thread contract."""

    # The eye search runs on the face resized to this width, so its cost and its accuracy do
    # not depend on how large the face is in the frame.
    EYE_SEARCH_FACE_WIDTH = 120
    # Box refinement runs on the face resized to this width with fine scale steps, so the
    # measured face width does not carry the coarse search's 15 % scale quantisation.
    REFINE_FACE_WIDTH = 64

    def __init__(self) -> None:
        self._faces = _load(FACE_CASCADE)
        self._eyes = _load(EYE_CASCADE)

    def face_boxes(self, gray: np.ndarray, min_face_px: int, scale_factor: float = 1.1,
                   min_neighbors: int = 5, max_face_px: int | None = None) -> list[Box]:
        """Raw face boxes, largest first. ``gray`` should already be equalised."""
        max_size = (max_face_px, max_face_px) if max_face_px else (0, 0)
        found = self._faces.detectMultiScale(
            gray, scaleFactor=scale_factor, minNeighbors=min_neighbors,
            minSize=(min_face_px, min_face_px), maxSize=max_size)
        boxes = [tuple(int(v) for v in b) for b in (found if len(found) else [])]
        boxes.sort(key=lambda b: b[2] * b[3], reverse=True)
        return boxes

    def find_eyes(self, gray: np.ndarray, box: Box, search_width: int | None = None) -> tuple[Point, Point] | None:
        """The two eye centres inside a face box, or ``None`` when no plausible pair shows.

        Searched on the upper part of the face at a fixed scale; the pair must sit one in each
        half, at similar heights and sizes, which rejects nostrils and eyebrows.
        """
        x, y, w, h = box
        x0, y0 = max(x, 0), max(y + int(0.12 * h), 0)
        x1, y1 = min(x + w, gray.shape[1]), min(y + int(0.60 * h), gray.shape[0])
        if x1 - x0 < 8 or y1 - y0 < 8:
            return None
        roi = gray[y0:y1, x0:x1]
        fw = search_width or self.EYE_SEARCH_FACE_WIDTH
        k = fw / float(w)
        roi = cv2.resize(roi, None, fx=k, fy=k, interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)
        roi = cv2.equalizeHist(roi)
        eyes = self._eyes.detectMultiScale(roi, scaleFactor=1.1, minNeighbors=3,
                                           minSize=(int(fw * 0.12), int(fw * 0.12)),
                                           maxSize=(int(fw * 0.42), int(fw * 0.42)))
        if len(eyes) < 2:
            return None
        half = roi.shape[1] / 2.0
        lefts = [e for e in eyes if e[0] + e[2] / 2.0 < half]
        rights = [e for e in eyes if e[0] + e[2] / 2.0 >= half]
        best = None
        for le in lefts:
            for re in rights:
                lc = (le[0] + le[2] / 2.0, le[1] + le[3] / 2.0)
                rc = (re[0] + re[2] / 2.0, re[1] + re[3] / 2.0)
                dist = rc[0] - lc[0]
                if dist < 0.25 * fw or dist > 0.65 * fw:
                    continue
                if abs(rc[1] - lc[1]) > 0.2 * fw:  # beyond ~±20° roll: not an eye pair
                    continue
                size_ratio = min(le[2], re[2]) / max(le[2], re[2])
                if size_ratio < 0.6:
                    continue
                # prefer pairs at the usual eye distance (~0.42 face width) and of equal size
                score = abs(dist / fw - 0.42) + (1 - size_ratio) + abs(rc[1] - lc[1]) / fw
                if best is None or score < best[0]:
                    best = (score, lc, rc)
        if best is None:
            return None
        _, lc, rc = best
        inv = 1.0 / k
        return ((x0 + lc[0] * inv, y0 + lc[1] * inv), (x0 + rc[0] * inv, y0 + rc[1] * inv))

    def refine_box(self, gray: np.ndarray, box: Box) -> Box:
        """Re-measure a face box with fine scale steps on a normalised crop around it.

        Returns ``box`` unchanged when the fine search does not find the face again.
        """
        x, y, w, h = box
        H, W = gray.shape[:2]
        m = int(0.35 * w)
        x0, y0, x1, y1 = max(0, x - m), max(0, y - m), min(W, x + w + m), min(H, y + h + m)
        k = self.REFINE_FACE_WIDTH / float(w)
        crop = cv2.resize(gray[y0:y1, x0:x1], None, fx=k, fy=k,
                          interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)
        crop = cv2.equalizeHist(crop)
        t = self.REFINE_FACE_WIDTH
        found = self.face_boxes(crop, int(t * 0.8), scale_factor=1.03, min_neighbors=3, max_face_px=int(t * 1.25))
        if not found:
            return box
        cx, cy = (x - x0 + w / 2.0) * k, (y - y0 + h / 2.0) * k
        bx, by, bw, bh = min(found, key=lambda b: (b[0] + b[2] / 2.0 - cx) ** 2 + (b[1] + b[3] / 2.0 - cy) ** 2)
        inv = 1.0 / k
        return (int(round(x0 + bx * inv)), int(round(y0 + by * inv)), int(round(bw * inv)), int(round(bh * inv)))

    def find_faces(self, image: np.ndarray, analysis_width: int = 400, min_face_fraction: float = 0.06,
                   with_eyes: bool = True, gray: np.ndarray | None = None, scale_factor: float = 1.15,
                   refine: bool = True) -> list[FaceFinding]:
        """All faces in ``image`` (BGR or gray), largest first, in ``image`` coordinates.

        The cascade runs on a copy at ``analysis_width``; each box is then re-measured
        (``refine``) and its eyes searched on the full-resolution face, so sizes and eye
        positions keep the accuracy of the original picture.
        """
        gray_full = gray if gray is not None else to_gray(image)
        h, w = gray_full.shape[:2]
        k = min(1.0, analysis_width / float(w))
        small = cv2.resize(gray_full, None, fx=k, fy=k, interpolation=cv2.INTER_AREA) if k < 1.0 else gray_full
        small = cv2.equalizeHist(small)
        min_face = max(24, int(min(small.shape[:2]) * min_face_fraction))
        boxes = self.face_boxes(small, min_face, scale_factor=scale_factor, min_neighbors=4)
        inv = 1.0 / k
        findings = []
        for bx, by, bw, bh in boxes:
            box = (int(round(bx * inv)), int(round(by * inv)), int(round(bw * inv)), int(round(bh * inv)))
            if refine:
                box = self.refine_box(gray_full, box)
            eyes = self.find_eyes(gray_full, box) if with_eyes else None
            findings.append(FaceFinding(box, *(eyes if eyes else (None, None))))
        return findings
