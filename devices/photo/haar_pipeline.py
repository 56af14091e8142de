"""The fallback: Haar cascades for face and eyes, GrabCut for the background.

Used only when the CNN models cannot be loaded (a damaged install, an OpenCV without the TFLite
importer); the result says so (``engine="haar"``), and the rules that need the face mesh (eyes
open, mouth closed, head turn, cap) become one tick for the clerk instead of passing silently.
Also kept so the benchmark can compare the CNN pipeline with it in the same run.
"""
from __future__ import annotations

import threading

import cv2
import numpy as np

from . import background
from .checks import (
    SECOND_FACE_MIN_RATIO, Check, background_white_fraction, check, crown_row, face_found_check, light_checks,
    measure_face_light, single_face_check,
)
from .detect import FaceDetector, FaceFinding, to_gray
from .jpeg import encode_in_band
from .limits import PhotoLimits
from .placement import body_cut_fraction, choose_scale, output_transform, warp_from
from .result import OutputGeometry, PhotoResult, geometry_checks
from .rules import clerk_checks

ANALYSIS_WIDTH = 400
MIN_FACE_FRACTION = 0.08

_local = threading.local()


def haar_detector() -> FaceDetector:
    det = getattr(_local, "detector", None)
    if det is None:
        det = _local.detector = FaceDetector()
    return det


def make_photo_haar(image_bgr: np.ndarray, limits: PhotoLimits, note: str = "") -> PhotoResult:
    """The pre-CNN pipeline on an already validated 3-channel BGR picture."""
    checks: list[Check] = []

    def refuse(face=None) -> PhotoResult:
        return PhotoResult(None, checks, source_face=face, engine="haar", engine_note=note)

    det = haar_detector()
    gray = to_gray(image_bgr)
    findings = det.find_faces(image_bgr, analysis_width=ANALYSIS_WIDTH, min_face_fraction=MIN_FACE_FRACTION, gray=gray)
    with_eyes = [f for f in findings if f.eyes_found]
    main_candidates = with_eyes or findings
    checks.append(face_found_check(len(main_candidates)))
    if not main_candidates:
        return refuse()
    face = main_candidates[0]
    others = [f for f in main_candidates[1:] if f.width >= SECOND_FACE_MIN_RATIO * face.width]
    checks.append(single_face_check(len(others)))
    if others:
        return refuse(face)
    checks.append(check("eyes_found", "双眼", face.eyes_found, 2 if face.eyes_found else 0, "检测到双眼",
                        "未检测到双眼：请摘下墨镜、撩开遮挡眼睛的头发，正对镜头"))
    if not face.eyes_found:
        return refuse(face)
    roll = face.roll_deg
    checks.append(check("head_tilt", "头部端正", abs(roll) <= limits.max_roll_deg, roll,
                        f"倾斜 ≤ ±{limits.max_roll_deg:g}°（在此范围内自动校正）",
                        "头部歪斜：请让申请人坐正、头部摆正后重拍"))
    if abs(roll) > limits.max_roll_deg:
        return refuse(face)
    checks.append(check("source_resolution", "原图人脸像素", face.width >= limits.min_source_face_px, face.width,
                        f"人脸宽度 ≥ {limits.min_source_face_px} px",
                        "人脸太小（分辨率不足）：请靠近镜头或使用更高分辨率的照片"))
    checks.extend(light_checks(measure_face_light(gray, face.box, limits.quality_face_width), limits))

    made = _compose(image_bgr, face, limits, checks)
    if made is None:
        return refuse(face)
    out, body_cut = made
    checks.append(check("body_in_frame", "肩部完整", body_cut <= limits.max_body_cut_fraction, body_cut,
                        f"肩部超出原图的比例 ≤ {limits.max_body_cut_fraction:.0%}",
                        "肩部被画面截断：请让申请人后退一点或把镜头对准头肩部"))
    sized = encode_in_band(out, limits.min_bytes, limits.max_bytes, limits.jpeg_quality,
                           limits.jpeg_quality_min, limits.jpeg_quality_max, dpi=limits.dpi)
    decoded = cv2.imdecode(np.frombuffer(sized.data, np.uint8), cv2.IMREAD_COLOR)
    geometry = measure_output_haar(decoded, limits, det)
    checks.extend(geometry_checks(geometry, limits))
    checks.append(check("file_size", "文件大小", sized.in_band, round(len(sized.data) / 1024.0, 1),
                        f"{limits.min_kb:g}–{limits.max_kb:g} KB",
                        "照片文件大小无法落在要求范围内：请重拍（画面过于单一或过于杂乱）"))
    ok = all(c.passed for c in checks)
    return PhotoResult(sized.data if ok else None, checks, geometry, sized.quality, len(sized.data), decoded, face,
                       clerk_checks=clerk_checks(None, limits), engine="haar", engine_note=note)


def _compose(image: np.ndarray, face: FaceFinding, limits: PhotoLimits,
             checks: list[Check]) -> tuple[np.ndarray, float] | None:
    """Cut out with GrabCut, scale, straighten and place the person; ``None`` (with a failed
    check) when the geometry rules cannot all be met."""
    ex, ey = face.eye_mid
    roll = face.roll_deg
    fw = float(face.width)

    kw = background.WORK_FACE_WIDTH / fw
    ww, wh = int(2.5 * background.WORK_FACE_WIDTH), int(2.9 * background.WORK_FACE_WIDTH)
    wcx, wey = ww / 2.0, 1.5 * background.WORK_FACE_WIDTH
    m_work = cv2.getRotationMatrix2D((ex, ey), roll, kw)
    m_work[:, 2] += (wcx - ex, wey - ey)
    work = warp_from(image, m_work, (ww, wh), kw)
    fcx, fcy = face.center
    c = m_work @ np.array([fcx, fcy, 1.0])
    fwk, fhk = fw * kw, face.box[3] * kw
    face_w = (c[0] - fwk / 2.0, c[1] - fhk / 2.0, fwk, fhk)
    mask_w = background.segment_person(work, face_w, wey)

    head_band = mask_w[:, int(wcx - 0.45 * fwk):int(wcx + 0.45 * fwk)]
    rows = np.nonzero(head_band.sum(axis=1) >= 2)[0]
    crown_w = float(rows[0]) if len(rows) else face_w[1]
    crown_to_eye_src = max(1.0, (wey - crown_w) / kw)
    s, eye_out = choose_scale(fw, crown_to_eye_src, limits)
    if s * fw < limits.face_width_min + 6:
        checks.append(check("head_proportions", "头部比例", False, round(crown_to_eye_src / fw, 2),
                            "头顶至眼睛的距离与脸宽相称",
                            "头顶到眼睛距离过大（如帽子或高发型）：请摘帽、整理头发后重拍"))
        return None
    m_out = output_transform((ex, ey), roll, s, eye_out, limits)
    size = (limits.width_px, limits.height_px)
    pixels = warp_from(image, m_out, size, s)
    r = s / kw
    m_mask = np.array([[r, 0.0, limits.width_px / 2.0 - r * wcx], [0.0, r, eye_out - r * wey]])
    alpha = background.upscale_mask(mask_w, m_mask, size)
    alpha = background.feather(alpha, radius_px=2.0)
    out = background.composite_on_white(pixels, alpha)
    chin_out = eye_out + 0.75 * limits.face_width_target
    H, W = image.shape[:2]
    return out, body_cut_fraction(m_out, (W, H), chin_out, limits)


def measure_output_haar(out_bgr: np.ndarray, limits: PhotoLimits, det: FaceDetector | None = None) -> OutputGeometry:
    """The geometry rules on a finished photo measured with the Haar cascades (face box width)."""
    det = det or haar_detector()
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
