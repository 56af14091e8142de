"""Where the face is in each preview frame, for the live guidance.

:class:`MeshTracker` (the CNN): BlazeFace on the whole frame every ``FULL_SEARCH_EVERY`` frames
(or when the face was lost), and in between only the face mesh, on a crop placed where the
previous frame's mesh was — a 192×192 network run instead of a search, which is what makes 1280×720
at well over 25 frames/s on one core possible. Every ``HAT_EVERY`` frames the selfie segmentation
also runs so the applicant hears "请摘下帽子" before the capture, not after.

:class:`HaarTracker`: the Haar cascades, used when the face models cannot be loaded.

Both return :class:`LiveFace` objects, largest first; a tracker is used by one thread only.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from . import cutout
from .cnn import FaceMesh, FaceMeshDetector, PersonSegmenter
from .detect import Box, FaceDetector
from .rules import mesh_box

FULL_SEARCH_EVERY = 10
HAT_EVERY = 5
LIVE_ANALYSIS_WIDTH = 320
LIVE_EYE_SEARCH_WIDTH = 96


@dataclass(frozen=True)
class LiveFace:
    box: Box                                   # axis-aligned, frame pixels
    image_left_eye: tuple[float, float] | None
    image_right_eye: tuple[float, float] | None
    mesh: FaceMesh | None = None
    hat_contrast: float | None = None          # measured on some frames only

    @property
    def width(self) -> int:
        return self.box[2]


class MeshTracker:
    engine = "cnn"

    def __init__(self) -> None:
        self._det = FaceMeshDetector()
        self._seg = PersonSegmenter()
        self._last: FaceMesh | None = None
        self._since_full = FULL_SEARCH_EVERY
        self._frame_no = 0
        self._hat: float | None = None

    def reset(self) -> None:
        self._last, self._since_full, self._hat = None, FULL_SEARCH_EVERY, None

    def find(self, frame: np.ndarray) -> list[LiveFace]:
        self._frame_no += 1
        self._since_full += 1
        meshes: list[FaceMesh] = []
        if self._last is not None and self._since_full < FULL_SEARCH_EVERY:
            prev = self._last
            pts = prev.region(cutout.FACE_OVAL)
            centre = pts.mean(axis=0)
            size = float(np.ptp(pts, axis=0).max()) * 1.45
            m = self._det.mesh_at(frame, (float(centre[0]), float(centre[1])), size,
                                  prev.right_eye, prev.left_eye, prev.detection)
            if m.presence >= 0.5:
                meshes = [m]
        if not meshes:
            self._since_full = 0
            meshes = self._det.find(frame)
        self._last = meshes[0] if meshes else None
        if not meshes:
            self._hat = None
            return []
        main = meshes[0]
        if self._hat is None or self._frame_no % HAT_EVERY == 0:
            self._hat = self._measure_hat(frame, main)
        faces = [LiveFace(mesh_box(m), m.right_eye, m.left_eye, m) for m in meshes]
        faces[0] = LiveFace(faces[0].box, main.right_eye, main.left_eye, main, self._hat)
        return faces

    def _measure_hat(self, frame: np.ndarray, mesh: FaceMesh) -> float:
        (rx, ry), (lx, ly) = mesh.right_eye, mesh.left_eye
        m_work = cutout.work_transform(((rx + lx) / 2, (ry + ly) / 2), mesh.roll_deg, mesh.face_width)
        work, prob = cutout.segment(frame, m_work, self._seg)
        crown = cutout.crown_row(prob)
        if crown is None:
            return 0.0
        return cutout.hat_contrast(work, prob, mesh.scaled(m_work), crown)


class HaarTracker:
    engine = "haar"

    def __init__(self, min_face_fraction: float) -> None:
        self._detector = FaceDetector()
        self._min_face_fraction = min_face_fraction
        self._track: Box | None = None
        self._since_full = FULL_SEARCH_EVERY

    def reset(self) -> None:
        self._track, self._since_full = None, FULL_SEARCH_EVERY

    def find(self, frame: np.ndarray) -> list[LiveFace]:
        h, w = frame.shape[:2]
        gray = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        k = min(1.0, LIVE_ANALYSIS_WIDTH / float(w))
        small = cv2.resize(gray, None, fx=k, fy=k, interpolation=cv2.INTER_AREA) if k < 1 else gray
        small = cv2.equalizeHist(small)
        boxes = self._find_boxes(small)
        inv = 1.0 / k
        faces = []
        for i, (bx, by, bw, bh) in enumerate(boxes):
            box = (int(bx * inv), int(by * inv), int(bw * inv), int(bh * inv))
            eyes = self._detector.find_eyes(gray, box, search_width=LIVE_EYE_SEARCH_WIDTH) if i == 0 else None
            faces.append(LiveFace(box, *(eyes if eyes else (None, None))))
        return faces

    def _find_boxes(self, small: np.ndarray) -> list[Box]:
        det = self._detector
        self._since_full += 1
        if self._track is not None and self._since_full < FULL_SEARCH_EVERY:
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
        self._since_full = 0
        min_face = max(20, int(small.shape[0] * self._min_face_fraction * 0.45))
        boxes = det.face_boxes(small, min_face, scale_factor=1.15, min_neighbors=4,
                               max_face_px=int(min(small.shape[:2]) * 0.95))
        self._track = boxes[0] if boxes else None
        return boxes
