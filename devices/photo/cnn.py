"""Face detection, face landmarks and person segmentation with small CNNs run by OpenCV's DNN module.

The networks are MediaPipe's (Apache-2.0), vendored in ``resources/models/`` as ``.tflite``
files and loaded with ``cv2.dnn.readNetFromTFLite`` — no TensorFlow, no MediaPipe package:

- BlazeFace short range (128×128 input, 896 SSD anchors) for faces that fill a good part of
  the picture, BlazeFace full range (192×192, 2304 anchors) for smaller faces in large frames;
  each detection has a box and six key points (eyes, nose tip, mouth, ear tragions);
- the face mesh (192×192 crop around the detection, rotated upright) with 468 points in
  three dimensions and a face-presence score that rejects what BlazeFace mistook for a face;
- selfie segmentation (256×256) giving the probability that a pixel belongs to the person.

``resources/models/README.md`` lists every file with licence, source package, version and SHA-256;
:func:`verify_models` checks them so a damaged install is named rather than misbehaving.

Thread contract: a :class:`FaceMeshDetector` or :class:`PersonSegmenter` owns its networks and is
used by one thread; make one per thread (loading all networks takes ~30 ms).
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from counter_app.paths import resources_root

SHORT_RANGE = "face_detection_short_range.tflite"
FULL_RANGE = "face_detection_full_range.tflite"
FACE_MESH = "face_landmark.tflite"
SELFIE_SEGMENTATION = "selfie_segmentation.tflite"

# SHA-256 of the vendored files (the same numbers as in resources/models/README.md).
MODEL_SHA256 = {
    SHORT_RANGE: "3bc182eb9f33925d9e58b5c8d59308a760f4adea8f282370e428c51212c26633",
    FULL_RANGE: "99bf9494d84f50acc6617d89873f71bf6635a841ea699c17cb3377f9507cfec3",
    FACE_MESH: "1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814",
    SELFIE_SEGMENTATION: "9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c",
}

# MediaPipe's decoding constants (tensors_to_detections / ssd_anchors calculators).
MIN_DETECTION_SCORE = 0.5
SUPPRESSION_IOU = 0.3
RAW_SCORE_LIMIT = 80.0
ROI_SCALE = 1.5           # the mesh crop is the detection box enlarged by half
MIN_FACE_PRESENCE = 0.5   # the mesh's own "this is a face" probability

Point = tuple[float, float]


class ModelError(RuntimeError):
    """A model file is missing, damaged, or this OpenCV cannot run it. The message is Chinese and
    tells IT what to do."""


def models_dir() -> Path:
    """``resources/models``: next to the packages, inside a PyInstaller bundle, or under
    ``COUNTER_APP_RESOURCES`` (the same lookup as fonts and style sheets)."""
    return resources_root() / "models"


@lru_cache(maxsize=None)
def verify_models(folder: str | None = None) -> None:
    """Raise :class:`ModelError` unless every model file is present with its expected SHA-256."""
    base = Path(folder) if folder else models_dir()
    for name, digest in MODEL_SHA256.items():
        path = base / name
        if not path.is_file():
            raise ModelError(f"人脸模型文件缺失：{name}。请重新安装程序（或联系信息科恢复 resources/models 目录）")
        if hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            raise ModelError(f"人脸模型文件已损坏：{name}（校验值不符）。请重新安装程序")


def _load(name: str) -> cv2.dnn.Net:
    verify_models()
    path = models_dir() / name
    try:
        net = cv2.dnn.readNetFromTFLite(str(path))
    except (cv2.error, AttributeError) as exc:  # AttributeError: an OpenCV without the TFLite importer
        raise ModelError(f"当前 OpenCV {cv2.__version__} 无法加载人脸模型 {name}：请安装 4.8 或更新的 "
                         f"opencv-python-headless（4.x）") from exc
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    return net


def _ssd_anchors(size: int, strides: list[int], two_per_layer: bool) -> np.ndarray:
    """Anchor centres (normalised) in the order the network emits its 896/2304 predictions."""
    centres = []
    i = 0
    while i < len(strides):
        j, repeats = i, 0
        while j < len(strides) and strides[j] == strides[i]:
            j += 1
            repeats += 2 if two_per_layer else 1
        cells = size // strides[i]
        for y in range(cells):
            for x in range(cells):
                centres.extend([((x + 0.5) / cells, (y + 0.5) / cells)] * repeats)
        i = j
    return np.asarray(centres, np.float32)


@dataclass(frozen=True)
class Detection:
    """One BlazeFace detection in image pixels: box (x0, y0, x1, y1), score, six key points."""

    box: tuple[float, float, float, float]
    score: float
    keypoints: np.ndarray   # (6, 2): right eye, left eye (the subject's), nose, mouth, right ear, left ear


def _iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


class BlazeFace:
    """One BlazeFace network with its anchors and MediaPipe's weighted non-maximum suppression."""

    def __init__(self, name: str, size: int, strides: list[int], two_per_layer: bool,
                 min_score: float = MIN_DETECTION_SCORE) -> None:
        self._net = _load(name)
        self._outs = self._net.getUnconnectedOutLayersNames()
        self.size = size
        self.min_score = min_score
        self._anchors = _ssd_anchors(size, strides, two_per_layer)

    def detect(self, bgr: np.ndarray) -> list[Detection]:
        """Faces in ``bgr`` (any size; letterboxed to the square input), best first."""
        h, w = bgr.shape[:2]
        k = self.size / float(max(h, w))
        nw, nh = max(1, int(round(w * k))), max(1, int(round(h * k)))
        small = cv2.resize(bgr, (nw, nh), interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)
        px, py = (self.size - nw) // 2, (self.size - nh) // 2
        square = cv2.copyMakeBorder(small, py, self.size - nh - py, px, self.size - nw - px,
                                    cv2.BORDER_CONSTANT, value=(0, 0, 0))
        blob = cv2.dnn.blobFromImage(square, 1 / 127.5, (self.size, self.size), (127.5, 127.5, 127.5), swapRB=True)
        self._net.setInput(blob)
        outs = self._net.forward(self._outs)
        scores = next(o for o in outs if o.shape[-1] == 1).reshape(-1)
        raw = next(o for o in outs if o.shape[-1] == 16).reshape(-1, 16)
        scores = 1.0 / (1.0 + np.exp(-np.clip(scores, -RAW_SCORE_LIMIT, RAW_SCORE_LIMIT)))
        keep = np.nonzero(scores > self.min_score)[0]
        if not len(keep):
            return []
        reg = raw[keep] / self.size
        anc = self._anchors[keep]
        cx, cy = reg[:, 0] + anc[:, 0], reg[:, 1] + anc[:, 1]
        boxes = np.stack([cx - reg[:, 2] / 2, cy - reg[:, 3] / 2, cx + reg[:, 2] / 2, cy + reg[:, 3] / 2], 1)
        kps = reg[:, 4:].reshape(-1, 6, 2) + anc[:, None, :]
        order = list(np.argsort(-scores[keep]))
        merged = []
        while order:
            best = order[0]
            group = [i for i in order if _iou(boxes[best], boxes[i]) > SUPPRESSION_IOU]
            order = [i for i in order if i not in group]
            wts = scores[keep][group][:, None]
            box = (boxes[group] * wts).sum(0) / wts.sum()
            kp = (kps[group] * wts[:, :, None]).sum(0) / wts.sum()
            merged.append((float(scores[keep][best]), box, kp))
        out = []
        shift = np.array([px, py], np.float32)
        for score, box, kp in merged:
            b = (box.reshape(2, 2) * self.size - shift) / k
            out.append(Detection((float(b[0, 0]), float(b[0, 1]), float(b[1, 0]), float(b[1, 1])), score,
                                 (kp * self.size - shift) / k))
        return out


# --- the face mesh and what is derived from it --------------------------------------------
# Indices into MediaPipe's 468-point canonical face mesh. "r_" is the subject's right side,
# which is on the image's left in an unmirrored photo.
R_EYE_OUTER, R_EYE_INNER, R_EYE_UPPER, R_EYE_LOWER = 33, 133, 159, 145
L_EYE_OUTER, L_EYE_INNER, L_EYE_UPPER, L_EYE_LOWER = 263, 362, 386, 374
R_EYE_RING = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
L_EYE_RING = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)
R_BROW = (70, 63, 105, 66, 107, 46, 53, 52, 65, 55)
L_BROW = (300, 293, 334, 296, 336, 276, 283, 282, 295, 285)
LIP_UPPER_INNER, LIP_LOWER_INNER, MOUTH_RIGHT, MOUTH_LEFT = 13, 14, 78, 308
FOREHEAD_TOP, CHIN, NOSE_TIP = 10, 152, 1
R_CHEEK_EDGE, L_CHEEK_EDGE = 234, 454     # the face outline at the cheekbones (ears excluded)
FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
             152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)


@dataclass(frozen=True)
class FaceMesh:
    """468 face points (x, y in image pixels, z in the same scale, larger = farther) and the
    measurements the photo rules need."""

    points: np.ndarray
    presence: float
    detection: Detection

    def _p(self, i: int) -> np.ndarray:
        return self.points[i, :2]

    @property
    def right_eye(self) -> Point:
        """The subject's right eye centre (image left), the mean of its lid ring."""
        c = self.points[list(R_EYE_RING), :2].mean(0)
        return (float(c[0]), float(c[1]))

    @property
    def left_eye(self) -> Point:
        c = self.points[list(L_EYE_RING), :2].mean(0)
        return (float(c[0]), float(c[1]))

    @property
    def chin(self) -> Point:
        return tuple(float(v) for v in self._p(CHIN))

    @property
    def forehead_top(self) -> Point:
        return tuple(float(v) for v in self._p(FOREHEAD_TOP))

    @property
    def face_width(self) -> float:
        """Cheek to cheek through the face outline, in pixels (the rule's 脸宽)."""
        return float(np.linalg.norm(self._p(L_CHEEK_EDGE) - self._p(R_CHEEK_EDGE)))

    @property
    def roll_deg(self) -> float:
        (x0, y0), (x1, y1) = self.right_eye, self.left_eye
        return math.degrees(math.atan2(y1 - y0, x1 - x0))

    def eye_openness(self) -> tuple[float, float]:
        """Lid gap over eye width for the subject's right and left eye (≈0.3 open, <0.1 closed)."""
        def ratio(up, low, a, b):
            return float(np.linalg.norm(self._p(up) - self._p(low)) / max(1e-6, np.linalg.norm(self._p(a) - self._p(b))))
        return (ratio(R_EYE_UPPER, R_EYE_LOWER, R_EYE_OUTER, R_EYE_INNER),
                ratio(L_EYE_UPPER, L_EYE_LOWER, L_EYE_OUTER, L_EYE_INNER))

    def mouth_gap(self) -> float:
        """Gap between the inner lips over the mouth width (0 closed; teeth showing ≈ 0.2)."""
        gap = np.linalg.norm(self._p(LIP_UPPER_INNER) - self._p(LIP_LOWER_INNER))
        return float(gap / max(1e-6, np.linalg.norm(self._p(MOUTH_LEFT) - self._p(MOUTH_RIGHT))))

    def yaw_deg(self) -> float:
        """Head turn, from the depth of the two cheek edges; positive = turned to the image right."""
        a, b = self.points[R_CHEEK_EDGE], self.points[L_CHEEK_EDGE]
        return math.degrees(math.atan2(b[2] - a[2], math.hypot(b[0] - a[0], b[1] - a[1])))

    def pitch_deg(self) -> float:
        """Nodding, from the depth of forehead and chin; positive = chin raised.

        The canonical face is not flat between forehead and chin (the chin sits back), so the
        angle is relative to a frontal face's offset, measured on frontal portraits.
        """
        top, chin = self.points[FOREHEAD_TOP], self.points[CHIN]
        raw = math.degrees(math.atan2(top[2] - chin[2], math.hypot(chin[0] - top[0], chin[1] - top[1])))
        return raw - FRONTAL_PITCH_OFFSET_DEG

    def region(self, indices) -> np.ndarray:
        return self.points[list(indices), :2].astype(np.float32)

    def scaled(self, m: np.ndarray) -> "FaceMesh":
        """The mesh carried by the 2×3 affine ``m`` (z scaled with it)."""
        scale = math.sqrt(abs(np.linalg.det(m[:, :2])))
        pts = self.points.copy()
        pts[:, :2] = self.points[:, :2] @ m[:, :2].T + m[:, 2]
        pts[:, 2] *= scale
        return FaceMesh(pts, self.presence, self.detection)


# The forehead-to-chin depth angle the mesh reports for frontal, level faces (median of the
# frontal portraits measured: -4° to -12°).
FRONTAL_PITCH_OFFSET_DEG = -7.0


class FaceMeshDetector:
    """BlazeFace (short range, then full range when nothing is found) and the face mesh."""

    MESH_SIZE = 192

    def __init__(self) -> None:
        self._short = BlazeFace(SHORT_RANGE, 128, [8, 16, 16, 16], True)
        self._full = BlazeFace(FULL_RANGE, 192, [4], False, min_score=0.6)
        self._mesh = _load(FACE_MESH)
        self._mesh_outs = self._mesh.getUnconnectedOutLayersNames()

    def detect(self, bgr: np.ndarray, full_range: bool = True) -> list[Detection]:
        found = self._short.detect(bgr)
        if not found and full_range:
            found = self._full.detect(bgr)
        return found

    def mesh(self, bgr: np.ndarray, det: Detection) -> FaceMesh:
        """The face mesh inside a detection (rotated upright by the detection's eye key points)."""
        x0, y0, x1, y1 = det.box
        cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
        size = max(x1 - x0, y1 - y0) * ROI_SCALE
        return self.mesh_at(bgr, (cx, cy), size, det.keypoints[0], det.keypoints[1], det)

    def mesh_at(self, bgr: np.ndarray, centre: Point, size: float, eye_a, eye_b,
                det: Detection | None = None) -> FaceMesh:
        angle = math.atan2(eye_b[1] - eye_a[1], eye_b[0] - eye_a[0])
        s = self.MESH_SIZE
        k = s / max(1.0, size)
        c, si = math.cos(angle) * k, math.sin(angle) * k
        m = np.array([[c, si, 0.0], [-si, c, 0.0]])
        m[:, 2] = np.array([s / 2.0, s / 2.0]) - m[:, :2] @ np.array(centre, np.float64)
        crop = cv2.warpAffine(bgr, m, (s, s), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        self._mesh.setInput(cv2.dnn.blobFromImage(crop, 1 / 255.0, (s, s), swapRB=True))
        outs = self._mesh.forward(self._mesh_outs)
        presence_logit = float(next(o for o in outs if o.size == 1).reshape(-1)[0])
        lm = next(o for o in outs if o.size == 468 * 3).reshape(468, 3).astype(np.float64)
        inv = cv2.invertAffineTransform(m)
        pts = np.empty_like(lm)
        pts[:, :2] = lm[:, :2] @ inv[:, :2].T + inv[:, 2]
        pts[:, 2] = lm[:, 2] / k
        presence = 1.0 / (1.0 + math.exp(-max(-80.0, min(80.0, presence_logit))))
        if det is None:
            det = Detection((0.0, 0.0, 0.0, 0.0), presence, np.zeros((6, 2), np.float32))
        return FaceMesh(pts, presence, det)

    def find(self, bgr: np.ndarray, full_range: bool = True) -> list[FaceMesh]:
        """Every detected face that the mesh confirms (presence ≥ 0.5), largest first."""
        meshes = [self.mesh(bgr, d) for d in self.detect(bgr, full_range)]
        meshes = [m for m in meshes if m.presence >= MIN_FACE_PRESENCE]
        meshes.sort(key=lambda m: m.face_width, reverse=True)
        return meshes


class PersonSegmenter:
    """MediaPipe selfie segmentation: the probability of "person" for every pixel."""

    SIZE = 256

    def __init__(self) -> None:
        self._net = _load(SELFIE_SEGMENTATION)

    def probability(self, bgr: np.ndarray) -> np.ndarray:
        """A float32 map in [0, 1] at the network's 256×256 resolution for a (square) picture."""
        blob = cv2.dnn.blobFromImage(bgr, 1 / 255.0, (self.SIZE, self.SIZE), swapRB=True)
        self._net.setInput(blob)
        return np.clip(self._net.forward()[0, 0].astype(np.float32), 0.0, 1.0)


def guided_filter(guide: np.ndarray, src: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """He et al.'s guided filter with a grey guide (box filters only): carries ``src``'s soft
    mask onto the edges of ``guide``, which is how the mask follows hair and collar lines."""
    ksize = (2 * radius + 1, 2 * radius + 1)
    i = guide.astype(np.float32)
    p = src.astype(np.float32)

    def box(x):
        return cv2.boxFilter(x, -1, ksize, borderType=cv2.BORDER_REFLECT)

    mean_i, mean_p = box(i), box(p)
    cov = box(i * p) - mean_i * mean_p
    var = box(i * i) - mean_i * mean_i
    a = cov / (var + eps)
    b = mean_p - a * mean_i
    return box(a) * i + box(b)
