"""The rules beyond geometry, measured on the face mesh: eyes open, mouth closed, head not turned
or nodding, no cap (免冠), glasses without glare, even light; and the rules no pixel measurement
here decides reliably (uniform, ears and eyebrows, head covering), which become ticks for the
clerk with the reason shown.

Every number is in :class:`~devices.photo.limits.PhotoLimits`; every message names the cause and
what to do, in words the clerk can read out to the applicant.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .checks import Check, ClerkCheck, FaceLight, check, measure_face_light
from .cnn import FACE_OVAL, L_EYE_RING, R_EYE_RING, FaceMesh
from .limits import PhotoLimits

# Catchlights in the iris are small; glare on a lens is a large blown-out patch over the eye.
GLARE_LEVEL = 245          # value (HSV) at or above which a pixel is blown out
GLARE_MAX_SATURATION = 60  # and nearly colourless


@dataclass(frozen=True)
class FaceMeasures:
    eye_openness: float      # the smaller of the two eyes
    mouth_gap: float
    yaw_deg: float
    pitch_deg: float
    glare: float             # the larger of the two eyes
    light: FaceLight


def mesh_box(mesh: FaceMesh) -> tuple[int, int, int, int]:
    """An axis-aligned face box from the face outline (cheek to cheek, forehead to chin)."""
    pts = mesh.region(FACE_OVAL)
    x0, y0 = pts.min(axis=0)
    x1, y1 = pts.max(axis=0)
    return int(round(x0)), int(round(y0)), int(round(x1 - x0)), int(round(y1 - y0))


def glare_fraction(image_bgr: np.ndarray, mesh: FaceMesh, ring) -> float:
    """Largest blown-out spot on one eye (the lid ring dilated to cover the lens over it), as a
    share of the eye's area."""
    pts = mesh.region(ring)
    centre = pts.mean(axis=0)
    grown = (centre + (pts - centre) * 1.6).astype(np.int32)
    x, y, w, h = cv2.boundingRect(grown)
    H, W = image_bgr.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
    if x1 - x0 < 3 or y1 - y0 < 3:
        return 0.0
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(mask, [grown - (x0, y0)], 1)
    hsv = cv2.cvtColor(image_bgr[y0:y1, x0:x1], cv2.COLOR_BGR2HSV)
    blown = ((hsv[..., 2] >= GLARE_LEVEL) & (hsv[..., 1] <= GLARE_MAX_SATURATION) & (mask == 1)).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(blown, connectivity=8)
    largest = int(stats[1:, cv2.CC_STAT_AREA].max()) if count > 1 else 0
    return largest / float(max(1, int(mask.sum())))


def measure(image_bgr: np.ndarray, gray: np.ndarray, mesh: FaceMesh, limits: PhotoLimits) -> FaceMeasures:
    x, y, w, h = mesh_box(mesh)
    # the light checks' inner-face fractions were set on a box a little wider than the cheeks
    box = (int(x - 0.1 * w), int(y + 0.1 * h), int(1.2 * w), int(0.9 * h))
    return FaceMeasures(
        eye_openness=min(mesh.eye_openness()),
        mouth_gap=mesh.mouth_gap(),
        yaw_deg=mesh.yaw_deg(),
        pitch_deg=mesh.pitch_deg(),
        glare=max(glare_fraction(image_bgr, mesh, R_EYE_RING), glare_fraction(image_bgr, mesh, L_EYE_RING)),
        light=measure_face_light(gray, box, limits.quality_face_width),
    )


def face_checks(m: FaceMeasures, limits: PhotoLimits) -> list[Check]:
    return [
        check("eyes_open", "双眼睁开", m.eye_openness >= limits.min_eye_openness, m.eye_openness,
              f"眼睑开合度 ≥ {limits.min_eye_openness:g}",
              "眼睛没有睁开（闭眼或眯眼）：请让申请人自然睁大双眼后重拍"),
        check("mouth_closed", "嘴巴闭合", m.mouth_gap <= limits.max_mouth_gap, m.mouth_gap,
              f"上下唇间隙/嘴宽 ≤ {limits.max_mouth_gap:g}",
              "嘴巴张开：请闭上嘴，保持自然表情后重拍"),
        check("head_turn", "未侧脸", abs(m.yaw_deg) <= limits.max_yaw_deg, m.yaw_deg,
              f"左右转动 ≤ ±{limits.max_yaw_deg:g}°",
              "头部向左或向右转动：请让申请人把头放正，正对镜头"),
        check("head_pitch", "未仰头低头", abs(m.pitch_deg) <= limits.max_pitch_deg, m.pitch_deg,
              f"抬头/低头 ≤ ±{limits.max_pitch_deg:g}°",
              "头部仰起或低下：请让申请人平视镜头" if m.pitch_deg > 0 else "头部低下：请让申请人抬头平视镜头"),
        check("glasses_glare", "眼镜无反光", m.glare <= limits.max_glare_fraction, m.glare,
              f"眼部反光斑面积 ≤ {limits.max_glare_fraction:.0%}",
              "眼镜反光遮挡眼睛：请调整眼镜或补光灯角度，或摘下眼镜后重拍"),
    ]


def hat_check(contrast: float, limits: PhotoLimits) -> Check:
    return check("no_hat", "免冠", contrast <= limits.max_hat_contrast, contrast,
                 f"额头上方明暗起伏/脸部亮度 ≤ {limits.max_hat_contrast:g}",
                 "头上戴有帽子（证件照须免冠）：请摘下帽子后重拍")


def visible_check(visible: float, limits: PhotoLimits) -> Check:
    return check("face_visible", "脸部无遮挡", visible >= limits.min_face_visible, visible,
                 f"脸部可见比例 ≥ {limits.min_face_visible:.0%}",
                 "脸部有一部分被遮挡或缺失：请让申请人完整露出面部，或选择完整的照片")


def standing_clerk_checks() -> list[ClerkCheck]:
    """The ticks every photo needs, whatever was measured: the uniform and the ears, eyebrows and
    head covering (also what a photo reopened from a draft, whose report was not kept, needs)."""
    return [
        ClerkCheck("no_uniform", "不着制式服装",
                   "程序无法可靠区分制服与便装：请确认申请人未穿军装、警服等制式服装"),
        ClerkCheck("ears_brows_uncovered", "免冠，眉毛、双耳露出",
                   "程序只能识别明显的帽子；头巾、发饰及头发对眉毛和耳朵的遮挡无法可靠自动判断：请目视确认"),
    ]


def clerk_checks(m: FaceMeasures | None, limits: PhotoLimits) -> list[ClerkCheck]:
    """What the clerk ticks in the photo step: the standing ticks; the expression when the lips
    are apart but not open enough to refuse; everything the face mesh measures when it could not
    run (the Haar fallback)."""
    items = standing_clerk_checks()
    if m is None:
        items.insert(0, ClerkCheck("face_rules_unmeasured", "睁眼、闭嘴、正脸、免冠",
                                   "人脸模型不可用，已改用备用检测器，这些要求未能自动测量：请目视确认"))
    elif m.mouth_gap > limits.mouth_gap_for_clerk:
        items.insert(0, ClerkCheck("natural_expression", "表情自然、嘴唇闭合",
                                   f"双唇间有间隙（露齿，{m.mouth_gap:.2f}）：请确认表情自然，否则请申请人闭上嘴重拍",
                                   m.mouth_gap))
    return items
