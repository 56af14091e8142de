"""From one picture (camera frame or imported file) to the finished 358×441 card photo.

Steps: find the faces with BlazeFace and confirm each with the face mesh (468 points); check the
face itself (eyes open, mouth closed, head not turned, light, sharpness, glare); cut out the
person with the selfie-segmentation network on an upright working image; take the crown from
the cut-out and the eyes and face width from the mesh; choose the scale and position that meet
the geometry rules; warp the original pixels once (roll corrected) into the output; put them on
white with the outline refined by a guided filter; encode to the size band; then measure the
output again — the mesh runs on the decoded JPEG, so the report shows what the card maker will
see, not what we intended.

When the face models cannot be loaded the Haar pipeline (:mod:`.haar_pipeline`) runs instead and
the result says so. Thread contract: :func:`make_compliant_photo` keeps no state between calls
except the networks per thread; it may run on any worker thread, never needs the GUI thread, and
takes ~0.1 s for a 1080p frame on one core.
"""
from __future__ import annotations

import threading

import cv2
import numpy as np

from . import cutout
from .checks import (
    SECOND_FACE_MIN_RATIO, Check, background_white_fraction, check, crown_row, face_found_check, light_checks,
    single_face_check,
)
from .cnn import FACE_OVAL, FaceMesh, FaceMeshDetector, ModelError, PersonSegmenter
from .detect import to_gray
from .haar_pipeline import make_photo_haar
from .jpeg import encode_in_band
from .limits import DEFAULT_LIMITS, PhotoLimits
from .placement import body_cut_fraction, choose_scale, output_transform, warp_from
from .result import OutputGeometry, PhotoResult, geometry_checks, readable
from .rules import clerk_checks, face_checks, hat_check, measure, visible_check

# Hair must end this far from the side edges (the white-background check reads 10-px strips).
SIDE_MARGIN_PX = 13
# A pixel brighter than this in every channel is the white background (JPEG noise included).
CROWN_WHITE_LEVEL = 254
# Share of the face outline that must lie inside the picture.
MIN_FACE_INSIDE = 0.97

_local = threading.local()


class _Networks:
    def __init__(self) -> None:
        self.faces = FaceMeshDetector()
        self.person = PersonSegmenter()


def networks() -> _Networks:
    """This thread's networks; raises :class:`ModelError` when they cannot be loaded."""
    nets = getattr(_local, "nets", None)
    if nets is None:
        nets = _local.nets = _Networks()
    return nets


def make_compliant_photo(image_bgr: np.ndarray, limits: PhotoLimits = DEFAULT_LIMITS,
                         engine: str = "auto") -> PhotoResult:
    """Turn a picture of one person into the card photo, or say why it cannot.

    ``image_bgr`` is an 8-bit BGR (or grey) array such as ``cv2.imread`` returns. ``engine`` is
    ``"auto"`` (the CNN, Haar when its models cannot be loaded), ``"cnn"`` or ``"haar"``. Never
    raises for a bad picture: problems come back as failed checks with Chinese messages.
    """
    bad = readable(image_bgr)
    if bad is not None:
        return PhotoResult(None, [bad])
    if image_bgr.ndim == 2:
        image_bgr = cv2.cvtColor(image_bgr, cv2.COLOR_GRAY2BGR)
    elif image_bgr.shape[2] == 4:
        image_bgr = cv2.cvtColor(image_bgr, cv2.COLOR_BGRA2BGR)
    if engine == "haar":
        return make_photo_haar(image_bgr, limits)
    try:
        nets = networks()
    except ModelError as exc:
        if engine == "cnn":
            raise
        return make_photo_haar(image_bgr, limits, note=f"{exc}（已改用备用检测器）")
    return _make_photo_cnn(image_bgr, limits, nets)


def _make_photo_cnn(image_bgr: np.ndarray, limits: PhotoLimits, nets: _Networks) -> PhotoResult:
    checks: list[Check] = []

    def refuse(face=None) -> PhotoResult:
        return PhotoResult(None, checks, source_face=face)

    meshes = nets.faces.find(image_bgr)
    checks.append(face_found_check(len(meshes)))
    if not meshes:
        return refuse()
    face = meshes[0]
    others = [m for m in meshes[1:] if m.face_width >= SECOND_FACE_MIN_RATIO * face.face_width]
    checks.append(single_face_check(len(others)))
    if others:
        return refuse(face)
    inside = face_inside_fraction(face, image_bgr.shape)
    checks.append(check("face_complete", "脸部完整", inside >= MIN_FACE_INSIDE, inside,
                        f"脸部轮廓在画面内的比例 ≥ {MIN_FACE_INSIDE:.0%}",
                        "脸部没有完整出现在画面中：请让申请人移到画面中央，或选择完整的照片"))
    if inside < MIN_FACE_INSIDE:
        return refuse(face)
    roll = face.roll_deg
    checks.append(check("head_tilt", "头部端正", abs(roll) <= limits.max_roll_deg, roll,
                        f"倾斜 ≤ ±{limits.max_roll_deg:g}°（在此范围内自动校正）",
                        "头部歪斜：请让申请人坐正、头部摆正后重拍"))
    if abs(roll) > limits.max_roll_deg:
        return refuse(face)
    checks.append(check("source_resolution", "原图人脸像素", face.face_width >= limits.min_source_face_px,
                        round(face.face_width), f"人脸宽度 ≥ {limits.min_source_face_px} px",
                        "人脸太小（分辨率不足）：请靠近镜头或使用更高分辨率的照片"))
    gray = to_gray(image_bgr)
    measures = measure(image_bgr, gray, face, limits)
    checks.extend(face_checks(measures, limits))
    checks.extend(light_checks(measures.light, limits))

    made = _compose(image_bgr, face, limits, checks, nets)
    if made is None:
        return refuse(face)
    out, body_cut, explain = made
    checks.append(check("body_in_frame", "肩部完整", body_cut <= limits.max_body_cut_fraction, body_cut,
                        f"肩部超出原图的比例 ≤ {limits.max_body_cut_fraction:.0%}",
                        "肩部被画面截断：请让申请人后退一点或把镜头对准头肩部"))
    sized = encode_in_band(out, limits.min_bytes, limits.max_bytes, limits.jpeg_quality,
                           limits.jpeg_quality_min, limits.jpeg_quality_max, dpi=limits.dpi)
    decoded = cv2.imdecode(np.frombuffer(sized.data, np.uint8), cv2.IMREAD_COLOR)
    geometry = measure_output(decoded, limits)
    checks.extend(geometry_checks(geometry, limits))
    checks.append(check("file_size", "文件大小", sized.in_band, round(len(sized.data) / 1024.0, 1),
                        f"{limits.min_kb:g}–{limits.max_kb:g} KB",
                        "照片文件大小无法落在要求范围内：请重拍（画面过于单一或过于杂乱）"))
    ok = all(c.passed for c in checks)
    return PhotoResult(sized.data if ok else None, checks, geometry, sized.quality, len(sized.data), decoded, face,
                       clerk_checks=clerk_checks(measures, limits), explain=explain)


def _compose(image: np.ndarray, face: FaceMesh, limits: PhotoLimits, checks: list[Check],
             nets: _Networks) -> tuple[np.ndarray, float, dict] | None:
    """Cut out, scale, straighten and place the person; ``None`` (with a failed check) when the
    geometry rules cannot all be met."""
    (rx, ry), (lx, ly) = face.right_eye, face.left_eye
    eye_mid = ((rx + lx) / 2.0, (ry + ly) / 2.0)
    roll = face.roll_deg
    fw = face.face_width

    m_work = cutout.work_transform(eye_mid, roll, fw)
    work, prob = cutout.segment(image, m_work, nets.person)
    kw = float(np.sqrt(abs(np.linalg.det(m_work[:, :2]))))
    wey = cutout.WORK_EYE_Y * cutout.WORK_SIZE
    wcx = cutout.WORK_SIZE / 2.0
    mesh_w = face.scaled(m_work)
    crown_w = cutout.crown_row(prob)
    if crown_w is None:   # the network lost the head: fall back on the mesh's forehead
        crown_w = float(mesh_w.points[:, 1].min())
    checks.append(visible_check(cutout.face_visible(prob, mesh_w), limits))
    checks.append(hat_check(cutout.hat_contrast(work, prob, mesh_w, crown_w), limits))

    crown_to_eye_src = max(1.0, (wey - crown_w) / kw)
    s, eye_out = choose_scale(fw, crown_to_eye_src, limits)
    if s * fw < limits.face_width_min + 6:
        checks.append(check("head_proportions", "头部比例", False, round(crown_to_eye_src / fw, 2),
                            "头顶至眼睛的距离与脸宽相称",
                            "头顶到眼睛距离过大（如帽子或高发型）：请摘帽、整理头发后重拍"))
        return None
    # the head (hair included) must leave the side strips white down to the eye line: a wide
    # hairstyle gets a smaller face, down to the smallest face width allowed
    half_head_src = cutout.head_half_width(prob, crown_w) / kw
    room = limits.width_px / 2.0 - SIDE_MARGIN_PX
    if half_head_src * s > room:
        s_fit = room / half_head_src
        if s_fit * fw < limits.face_width_min + 4:
            checks.append(check("head_width", "头部宽度", False, round(2 * half_head_src / fw, 2),
                                "头发不超出照片两侧",
                                "头发太蓬松，超出照片两侧：请把头发向后梳理或扎起后重拍"))
            return None
        eye_out = limits.crown_target + crown_to_eye_src * s_fit
        s = s_fit
    m_out = output_transform(eye_mid, roll, s, eye_out, limits)
    size = (limits.width_px, limits.height_px)
    pixels = warp_from(image, m_out, size, s)
    r = s / kw
    m_mask = np.array([[r, 0.0, limits.width_px / 2.0 - r * wcx], [0.0, r, eye_out - r * wey]])
    face_out = cutout.face_polygon(face.scaled(m_out))
    alpha = cutout.output_alpha(prob, m_mask, size, pixels, face_out)
    out = cutout.composite_on_white(pixels, alpha)
    chin_out = float(face.scaled(m_out).chin[1])
    H, W = image.shape[:2]
    explain = {"m_out": m_out, "m_work": m_work, "prob": prob, "crown_work": crown_w, "mesh": face}
    return out, body_cut_fraction(m_out, (W, H), chin_out, limits), explain


def face_inside_fraction(face: FaceMesh, shape) -> float:
    h, w = shape[:2]
    pts = face.region(FACE_OVAL)
    inside = (pts[:, 0] >= 0) & (pts[:, 0] <= w - 1) & (pts[:, 1] >= 0) & (pts[:, 1] <= h - 1)
    return float(inside.mean())


def measure_output(out_bgr: np.ndarray, limits: PhotoLimits = DEFAULT_LIMITS) -> OutputGeometry:
    """The geometry rules on a finished photo, measured with the face mesh: face width cheek to
    cheek, the eye centres, the crown as the first non-white row above the face."""
    geo = OutputGeometry()
    if out_bgr is None:
        return geo
    h, w = out_bgr.shape[:2]
    meshes = networks().faces.find(out_bgr, full_range=False)
    if meshes:
        m = meshes[0]
        geo.face_width = int(round(m.face_width))
        (rx, ry), (lx, ly) = m.right_eye, m.left_eye
        geo.eye_center_x = (rx + lx) / 2.0
        geo.eye_line_from_bottom = h - (ry + ly) / 2.0
        geo.roll_deg = m.roll_deg
        x0 = int(min(p[0] for p in (m.right_eye, m.left_eye)))
        x1 = int(max(p[0] for p in (m.right_eye, m.left_eye)))
        # the head starts at the first row that is not the composited pure white: white hair is
        # darker than that even where it is lighter than the background-check level
        geo.crown = crown_row(out_bgr, x0, x1, CROWN_WHITE_LEVEL)
    eye_y = (h - geo.eye_line_from_bottom) if geo.eye_line_from_bottom is not None else h / 2.0
    geo.background_white_fraction = background_white_fraction(out_bgr, limits.crown_min, eye_y,
                                                              limits.background_white_level)
    return geo
