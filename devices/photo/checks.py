"""The quality checks: each is a value measured on the image, the limit it is held to, and a
Chinese message for the clerk or the applicant. Pure measurements on numpy arrays."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import cv2
import numpy as np

from .detect import Box
from .limits import PhotoLimits


@dataclass(frozen=True)
class Check:
    """One rule applied to one photo.

    ``name`` is a stable machine name (``face_width``, ``too_dark`` …), ``label`` its Chinese
    name, ``value`` what was measured (``None`` when it could not be), ``limit`` the rule as
    text, ``message`` what to do when it failed (empty when it passed).
    """

    name: str
    label: str
    passed: bool
    value: Any
    limit: str
    message: str = ""

    def to_dict(self) -> dict:
        data = asdict(self)
        if isinstance(self.value, float):
            data["value"] = round(self.value, 2)
        return data


@dataclass(frozen=True)
class ClerkCheck:
    """A rule the program cannot judge reliably from pixels, shown to the clerk as a tick box.

    ``reason`` says why a person must look (never a silent pass); ``value`` is what was measured
    when something was (e.g. the mouth gap that made the expression doubtful), else ``None``.
    """

    name: str
    label: str
    reason: str
    value: Any = None

    def to_dict(self) -> dict:
        data = asdict(self)
        if isinstance(self.value, float):
            data["value"] = round(self.value, 3)
        return data


def check(name: str, label: str, passed: bool, value: Any, limit: str, failure_message: str) -> Check:
    return Check(name, label, bool(passed), value, limit, "" if passed else failure_message)


# A second face counts when it is at least this wide relative to the applicant's (a face on a poster
# far behind does not); the same rule for both face engines.
SECOND_FACE_MIN_RATIO = 0.5


def face_found_check(found: int) -> Check:
    return check("face_found", "人脸", found > 0, found, "检测到 1 张人脸",
                 "未检测到人脸：请让申请人正对镜头，脸部完整出现在画面中")


def single_face_check(others: int) -> Check:
    """``others``: further faces as wide as ``SECOND_FACE_MIN_RATIO`` of the applicant's."""
    return check("single_face", "人脸数量", not others, 1 + others, "只能有 1 张人脸",
                 "画面中有多张人脸：请只让申请人一人入镜")


@dataclass(frozen=True)
class FaceLight:
    """Photometric measurements of the face, taken on the face resized to a fixed width so
    that the numbers do not depend on how far the person sat from the camera."""

    brightness: float        # mean luminance of the inner face
    clipped_fraction: float  # share of inner-face pixels at 250 or more
    imbalance: float         # |left − right| / mean, inner face halves
    sharpness: float         # variance of the Laplacian of the face


def measure_face_light(gray: np.ndarray, box: Box, face_width: int) -> FaceLight:
    x, y, w, h = box
    H, W = gray.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
    face = gray[y0:y1, x0:x1]
    if face.size == 0:
        return FaceLight(0.0, 0.0, 0.0, 0.0)
    k = face_width / float(max(1, x1 - x0))
    face = cv2.resize(face, None, fx=k, fy=k, interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)
    fh, fw = face.shape[:2]
    # inner face: forehead to chin, cheek to cheek, without hair and background
    inner = face[int(0.22 * fh):int(0.92 * fh), int(0.18 * fw):int(0.82 * fw)]
    brightness = float(inner.mean())
    clipped = float((inner >= 250).mean())
    half = inner.shape[1] // 2
    left, right = float(inner[:, :half].mean()), float(inner[:, half:].mean())
    imbalance = abs(left - right) / max(1.0, (left + right) / 2.0)
    sharpness = float(cv2.Laplacian(face, cv2.CV_64F, ksize=3).var())
    return FaceLight(brightness, clipped, imbalance, sharpness)


def light_checks(light: FaceLight, limits: PhotoLimits) -> list[Check]:
    return [
        check("too_dark", "亮度（过暗）", light.brightness >= limits.min_face_brightness, light.brightness,
              f"脸部平均亮度 ≥ {limits.min_face_brightness:g}",
              "光线太暗：请打开补光灯或让申请人面向光源"),
        check("over_exposed", "曝光（过亮）",
              light.brightness <= limits.max_face_brightness and light.clipped_fraction <= limits.max_clipped_fraction,
              round(light.clipped_fraction, 4),
              f"过曝像素比例 ≤ {limits.max_clipped_fraction:g}，平均亮度 ≤ {limits.max_face_brightness:g}",
              "曝光过度：请调暗补光灯或避开强光直射"),
        check("uneven_lighting", "光照均匀", light.imbalance <= limits.max_lighting_imbalance, light.imbalance,
              f"左右脸亮度差 ≤ {limits.max_lighting_imbalance:.0%}",
              "脸部光线不均匀（阴阳脸）：请调整光源使两侧脸部亮度一致"),
        check("blurred", "清晰度", light.sharpness >= limits.min_sharpness, light.sharpness,
              f"拉普拉斯方差 ≥ {limits.min_sharpness:g}",
              "照片模糊：请保持不动并重新对焦后再拍"),
    ]


def crown_row(image_bgr: np.ndarray, x0: int, x1: int, white_level: int, min_pixels: int = 3) -> int | None:
    """The first row (from the top) where the head starts: at least ``min_pixels`` pixels
    between columns ``x0`` and ``x1`` are darker than white. ``None`` if none is."""
    band = image_bgr[:, max(0, x0):max(0, x1)]
    if band.size == 0:
        return None
    darkest = band.min(axis=2) if band.ndim == 3 else band
    rows = np.nonzero((darkest < white_level).sum(axis=1) >= min_pixels)[0]
    return int(rows[0]) if len(rows) else None


def background_white_fraction(image_bgr: np.ndarray, crown_min: int, eye_y: float, white_level: int,
                              side_px: int = 10) -> float:
    """Share of white pixels in the parts of the border that must be background: the rows
    above the lowest allowed crown and the side strips down to the eye line."""
    h, w = image_bgr.shape[:2]
    darkest = image_bgr.min(axis=2) if image_bgr.ndim == 3 else image_bgr
    top = darkest[:max(1, crown_min), :]
    bottom_of_sides = int(max(crown_min + 1, min(h, eye_y)))
    left = darkest[:bottom_of_sides, :side_px]
    right = darkest[:bottom_of_sides, w - side_px:]
    border = np.concatenate([top.ravel(), left.ravel(), right.ravel()])
    return float((border >= white_level).mean())
