"""From one picture (camera frame or imported file) to the finished 358×441 card photo.

Steps: find exactly one face and its eyes on a reduced copy; check light and sharpness on the
face; cut out the person with GrabCut on a small upright working image; choose the scale and
position that meet the geometry rules (the crown comes from the cut-out); warp the original
pixels once (roll corrected) into the output; put them on white; encode to the size band; then
measure the output again — the detector runs on the decoded JPEG, so the report shows what the
card maker will see, not what we intended.

Thread contract: :func:`make_compliant_photo` keeps no state between calls except a detector
per thread; it may run on any worker thread, never needs the GUI thread, and takes ~0.1–0.3 s.
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

import cv2
import numpy as np

from . import background
from .checks import (Check, background_white_fraction, check, crown_row, light_checks,
                     measure_face_light)
from .detect import FaceDetector, FaceFinding, to_gray
from .jpeg import encode_in_band
from .limits import DEFAULT_LIMITS, PhotoLimits

# Reduced copy for the face search: faces in an ID-photo capture fill ≥ 8 % of the width,
# which is ≥ 32 px here, well above the cascade's 20-px window.
ANALYSIS_WIDTH = 400
MIN_FACE_FRACTION = 0.08
# A second face counts when it is at least this share of the main face's width; smaller ones
# are people far behind the applicant, who vanish with the background.
SECOND_FACE_MIN_RATIO = 0.5

_local = threading.local()


def _detector() -> FaceDetector:
    det = getattr(_local, "detector", None)
    if det is None:
        det = _local.detector = FaceDetector()
    return det


@dataclass
class OutputGeometry:
    """Measured on the finished photo (pixels of the output)."""

    face_width: int | None = None
    crown: int | None = None
    eye_line_from_bottom: float | None = None
    eye_center_x: float | None = None
    roll_deg: float | None = None
    background_white_fraction: float | None = None

    def to_dict(self) -> dict:
        return {k: (round(v, 2) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


@dataclass
class PhotoResult:
    """What :func:`make_compliant_photo` made of one picture.

    ``jpeg`` is the compliant file, or ``None`` when any check failed; ``checks`` lists every
    rule evaluated, in order. ``image`` is the decoded output (BGR) whenever one was produced,
    even a non-compliant one, so a UI can show what went wrong; never save it as the photo.
    """

    jpeg: bytes | None
    checks: list[Check] = field(default_factory=list)
    geometry: OutputGeometry = field(default_factory=OutputGeometry)
    quality: int | None = None
    size_bytes: int | None = None
    image: np.ndarray | None = None
    source_face: FaceFinding | None = None

    @property
    def ok(self) -> bool:
        return self.jpeg is not None

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]

    @property
    def reason(self) -> str:
        """One line for the clerk: the first failure's message, or a confirmation."""
        failed = self.failures
        return failed[0].message if failed else "照片符合社保卡制证要求"

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "reason": self.reason,
            "size_bytes": self.size_bytes,
            "jpeg_quality": self.quality,
            "geometry": self.geometry.to_dict(),
            "checks": [c.to_dict() for c in self.checks],
        }


def _refuse(checks: list[Check], source_face: FaceFinding | None = None) -> PhotoResult:
    return PhotoResult(None, checks, source_face=source_face)


def make_compliant_photo(image_bgr: np.ndarray, limits: PhotoLimits = DEFAULT_LIMITS) -> PhotoResult:
    """Turn a picture of one person into the card photo, or say why it cannot.

    ``image_bgr`` is an 8-bit BGR (or grey) array such as ``cv2.imread`` returns. Never raises
    for a bad picture: problems come back as failed checks with Chinese messages.
    """
    checks: list[Check] = []
    if not isinstance(image_bgr, np.ndarray) or image_bgr.ndim not in (2, 3) or image_bgr.dtype != np.uint8 \
            or min(image_bgr.shape[:2]) < 32:
        checks.append(check("image_readable", "图像", False, None, "8 位彩色图像，至少 32×32",
                            "无法读取图像：请重新拍摄或选择 JPG/PNG 照片文件"))
        return _refuse(checks)
    if image_bgr.ndim == 2:
        image_bgr = cv2.cvtColor(image_bgr, cv2.COLOR_GRAY2BGR)
    elif image_bgr.shape[2] == 4:
        image_bgr = cv2.cvtColor(image_bgr, cv2.COLOR_BGRA2BGR)

    det = _detector()
    gray = to_gray(image_bgr)
    findings = det.find_faces(image_bgr, analysis_width=ANALYSIS_WIDTH, min_face_fraction=MIN_FACE_FRACTION, gray=gray)
    # A face box without an eye pair is usually a false alarm (texture, a pet); it is only
    # believed when it is the only candidate and the eye check below can explain the refusal.
    with_eyes = [f for f in findings if f.eyes_found]
    main_candidates = with_eyes or findings
    checks.append(check("face_found", "人脸", bool(main_candidates), len(main_candidates), "检测到 1 张人脸",
                        "未检测到人脸：请让申请人正对镜头，脸部完整出现在画面中"))
    if not main_candidates:
        return _refuse(checks)
    face = main_candidates[0]
    others = [f for f in main_candidates[1:] if f.width >= SECOND_FACE_MIN_RATIO * face.width]
    checks.append(check("single_face", "人脸数量", not others, 1 + len(others), "只能有 1 张人脸",
                        "画面中有多张人脸：请只让申请人一人入镜"))
    if others:
        return _refuse(checks, face)
    checks.append(check("eyes_found", "双眼", face.eyes_found, 2 if face.eyes_found else 0, "检测到双眼",
                        "未检测到双眼：请摘下墨镜、撩开遮挡眼睛的头发，正对镜头"))
    if not face.eyes_found:
        return _refuse(checks, face)
    roll = face.roll_deg
    checks.append(check("head_tilt", "头部端正", abs(roll) <= limits.max_roll_deg, roll,
                        f"倾斜 ≤ ±{limits.max_roll_deg:g}°（在此范围内自动校正）",
                        "头部歪斜：请让申请人坐正、头部摆正后重拍"))
    if abs(roll) > limits.max_roll_deg:
        return _refuse(checks, face)
    checks.append(check("source_resolution", "原图人脸像素", face.width >= limits.min_source_face_px, face.width,
                        f"人脸宽度 ≥ {limits.min_source_face_px} px",
                        "人脸太小（分辨率不足）：请靠近镜头或使用更高分辨率的照片"))
    light = measure_face_light(gray, face.box, limits.quality_face_width)
    checks.extend(light_checks(light, limits))

    made = _compose(image_bgr, face, limits, checks)
    if made is None:
        return _refuse(checks, face)
    out, body_cut = made
    checks.append(check("body_in_frame", "肩部完整", body_cut <= limits.max_body_cut_fraction, body_cut,
                        f"肩部超出原图的比例 ≤ {limits.max_body_cut_fraction:.0%}",
                        "肩部被画面截断：请让申请人后退一点或把镜头对准头肩部"))

    sized = encode_in_band(out, limits.min_bytes, limits.max_bytes, limits.jpeg_quality,
                           limits.jpeg_quality_min, limits.jpeg_quality_max, dpi=limits.dpi)
    decoded = cv2.imdecode(np.frombuffer(sized.data, np.uint8), cv2.IMREAD_COLOR)
    geometry = measure_output(decoded, limits, det)
    checks.extend(geometry_checks(geometry, limits))
    checks.append(check("file_size", "文件大小", sized.in_band, round(len(sized.data) / 1024.0, 1),
                        f"{limits.min_kb:g}–{limits.max_kb:g} KB",
                        "照片文件大小无法落在要求范围内：请重拍（画面过于单一或过于杂乱）"))
    ok = all(c.passed for c in checks)
    return PhotoResult(sized.data if ok else None, checks, geometry, sized.quality, len(sized.data), decoded, face)


def _compose(image: np.ndarray, face: FaceFinding, limits: PhotoLimits,
             checks: list[Check]) -> tuple[np.ndarray, float] | None:
    """Cut out, scale, straighten and place the person; ``None`` (with a failed check) when
    the geometry rules cannot all be met."""
    H, W = image.shape[:2]
    ex, ey = face.eye_mid
    roll = face.roll_deg
    fw = float(face.width)

    # 1. upright working image, face ≈ WORK_FACE_WIDTH px, eyes at a fixed place
    kw = background.WORK_FACE_WIDTH / fw
    ww, wh = int(2.5 * background.WORK_FACE_WIDTH), int(2.9 * background.WORK_FACE_WIDTH)
    wcx, wey = ww / 2.0, 1.5 * background.WORK_FACE_WIDTH
    m_work = cv2.getRotationMatrix2D((ex, ey), roll, kw)
    m_work[:, 2] += (wcx - ex, wey - ey)
    work = _warp_from(image, m_work, (ww, wh), kw)
    fcx, fcy = face.center
    c = m_work @ np.array([fcx, fcy, 1.0])
    fwk, fhk = fw * kw, face.box[3] * kw
    face_w = (c[0] - fwk / 2.0, c[1] - fhk / 2.0, fwk, fhk)
    mask_w = background.segment_person(work, face_w, wey)

    # 2. the crown from the cut-out, then the scale and placement that satisfy the rules
    head_band = mask_w[:, int(wcx - 0.45 * fwk):int(wcx + 0.45 * fwk)]
    rows = np.nonzero(head_band.sum(axis=1) >= 2)[0]
    crown_w = float(rows[0]) if len(rows) else face_w[1]
    crown_to_eye_src = max(1.0, (wey - crown_w) / kw)
    s = limits.face_width_target / fw
    eye_out_max = limits.height_px - limits.eye_line_min_from_bottom - 4
    eye_out = limits.crown_target + crown_to_eye_src * s
    if eye_out > eye_out_max:
        s = (eye_out_max - limits.crown_target) / crown_to_eye_src
        eye_out = eye_out_max
    fits = s * fw >= limits.face_width_min + 6
    if not fits:
        checks.append(check("head_proportions", "头部比例", False, round(crown_to_eye_src / fw, 2),
                            "头顶至眼睛的距离与脸宽相称",
                            "头顶到眼睛距离过大（如帽子或高发型）：请摘帽、整理头发后重拍"))
        return None
    eye_x_out = limits.width_px / 2.0

    # 3. one warp of the original pixels into the output, and the mask alongside
    m_out = cv2.getRotationMatrix2D((ex, ey), roll, s)
    m_out[:, 2] += (eye_x_out - ex, eye_out - ey)
    size = (limits.width_px, limits.height_px)
    pixels = _warp_from(image, m_out, size, s)
    r = s / kw
    m_mask = np.array([[r, 0.0, eye_x_out - r * wcx], [0.0, r, eye_out - r * wey]])
    alpha = background.upscale_mask(mask_w, m_mask, size)
    alpha = background.feather(alpha, radius_px=2.0)
    out = background.composite_on_white(pixels, alpha)

    # share of the shoulder zone (below the chin) that lies outside the source picture
    chin_out = eye_out + 0.75 * limits.face_width_target
    ys, xs = np.mgrid[int(chin_out):limits.height_px:4, 0:limits.width_px:4]
    inv = cv2.invertAffineTransform(m_out)
    sx = inv[0, 0] * xs + inv[0, 1] * ys + inv[0, 2]
    sy = inv[1, 0] * xs + inv[1, 1] * ys + inv[1, 2]
    outside = (sx < 0) | (sx > W - 1) | (sy < 0) | (sy > H - 1)
    body_cut = float(outside.mean()) if outside.size else 0.0
    return out, body_cut


def _warp_from(image: np.ndarray, m: np.ndarray, size: tuple[int, int], scale: float) -> np.ndarray:
    """``cv2.warpAffine`` of only the needed part of ``image``, pre-shrunk with area averaging
    when the warp reduces a lot (bilinear sampling alone would alias a 12 MP source)."""
    H, W = image.shape[:2]
    inv = cv2.invertAffineTransform(m)
    corners = np.array([[0, 0, 1], [size[0], 0, 1], [0, size[1], 1], [size[0], size[1], 1]], np.float64)
    src = corners @ inv.T
    x0 = int(max(0, math.floor(src[:, 0].min()) - 2))
    y0 = int(max(0, math.floor(src[:, 1].min()) - 2))
    x1 = int(min(W, math.ceil(src[:, 0].max()) + 3))
    y1 = int(min(H, math.ceil(src[:, 1].max()) + 3))
    m = m.copy()
    if x1 - x0 < 2 or y1 - y0 < 2:
        crop = image
        x0 = y0 = 0
    else:
        crop = image[y0:y1, x0:x1]
    m[:, 2] += m[:, 0] * x0 + m[:, 1] * y0   # the crop's origin moved to (x0, y0)
    if scale < 0.6:
        f = min(1.0, scale * 1.6)
        crop = cv2.resize(crop, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        m[:, :2] /= f
    interp = cv2.INTER_CUBIC if scale > 1.2 else cv2.INTER_LINEAR
    return cv2.warpAffine(crop, m, size, flags=interp, borderMode=cv2.BORDER_REPLICATE)


def measure_output(out_bgr: np.ndarray, limits: PhotoLimits, det: FaceDetector | None = None) -> OutputGeometry:
    """Measure the geometry rules on a finished photo, with the same detector as the input."""
    det = det or _detector()
    geo = OutputGeometry()
    if out_bgr is None:
        return geo
    gray = cv2.equalizeHist(to_gray(out_bgr))
    h, w = gray.shape[:2]
    boxes = det.face_boxes(gray, min_face_px=int(0.4 * w), scale_factor=1.05, min_neighbors=4,
                           max_face_px=int(0.9 * w))
    if boxes:
        box = boxes[0]
        geo.face_width = int(box[2])
        eyes = det.find_eyes(to_gray(out_bgr), box)
        if eyes:
            f = FaceFinding(box, *eyes)
            geo.eye_center_x = f.eye_mid[0]
            geo.eye_line_from_bottom = h - f.eye_mid[1]
            geo.roll_deg = f.roll_deg
        x, _, bw, _ = box
        geo.crown = crown_row(out_bgr, x + bw // 6, x + bw - bw // 6, limits.background_white_level)
    eye_y = (h - geo.eye_line_from_bottom) if geo.eye_line_from_bottom is not None else h / 2.0
    geo.background_white_fraction = background_white_fraction(out_bgr, limits.crown_min, eye_y,
                                                              limits.background_white_level)
    return geo


def geometry_checks(geo: OutputGeometry, limits: PhotoLimits) -> list[Check]:
    fw, crown = geo.face_width, geo.crown
    eyeb, eyex = geo.eye_line_from_bottom, geo.eye_center_x
    return [
        check("face_width", "脸部宽度", fw is not None and limits.face_width_min <= fw <= limits.face_width_max,
              fw, f"{limits.face_width_min}–{limits.face_width_max} px",
              "成品照片中脸部太小或太大：请调整申请人与镜头的距离后重拍"),
        check("crown_position", "头顶位置", crown is not None and limits.crown_min <= crown <= limits.crown_max,
              crown, f"距上边 {limits.crown_min}–{limits.crown_max} px",
              "头顶位置不符合要求：请让头顶与上方留出适当空白后重拍"),
        check("eye_line", "眼睛位置", eyeb is not None and eyeb >= limits.eye_line_min_from_bottom,
              eyeb, f"距下边 ≥ {limits.eye_line_min_from_bottom} px",
              "眼睛位置偏低：请重拍"),
        check("eye_center", "左右居中", eyex is not None and limits.eye_center_x_min <= eyex <= limits.eye_center_x_max,
              eyex, f"双眼中点距左边 {limits.eye_center_x_min}–{limits.eye_center_x_max} px",
              "人像不居中：请让申请人坐在镜头正前方"),
        check("background_white", "背景纯白",
              geo.background_white_fraction is not None
              and geo.background_white_fraction >= limits.min_background_white_fraction,
              geo.background_white_fraction, f"边缘白色像素比例 ≥ {limits.min_background_white_fraction:.0%}",
              "背景替换后不均匀：请在纯色背景前重拍，避免背景中有人或物体"),
    ]
