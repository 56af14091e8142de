"""Where the person goes in the 358×441 output: the scale that meets the face-width, crown and
eye-line rules together, the one warp of the original pixels, and how much of the shoulder zone
would lie outside the source picture."""
from __future__ import annotations

import math

import cv2
import numpy as np

from .limits import PhotoLimits


def choose_scale(face_width_src: float, crown_to_eye_src: float, limits: PhotoLimits) -> tuple[float, float]:
    """(scale source→output, eye row in the output). The face aims at ``face_width_target``;
    when the head is tall the scale is reduced so the eyes stay above the eye-line limit."""
    s = limits.face_width_target / face_width_src
    eye_out_max = limits.height_px - limits.eye_line_min_from_bottom - 4
    eye_out = limits.crown_target + crown_to_eye_src * s
    if eye_out > eye_out_max:
        s = (eye_out_max - limits.crown_target) / crown_to_eye_src
        eye_out = eye_out_max
    return s, eye_out


def output_transform(eye_mid: tuple[float, float], roll_deg: float, s: float, eye_out: float,
                     limits: PhotoLimits) -> np.ndarray:
    m = cv2.getRotationMatrix2D(eye_mid, roll_deg, s)
    m[:, 2] += (limits.width_px / 2.0 - eye_mid[0], eye_out - eye_mid[1])
    return m


def body_cut_fraction(m_out: np.ndarray, source_size: tuple[int, int], chin_out: float,
                      limits: PhotoLimits) -> float:
    """Share of the output below the chin whose source pixels lie outside the picture."""
    W, H = source_size
    ys, xs = np.mgrid[int(chin_out):limits.height_px:4, 0:limits.width_px:4]
    inv = cv2.invertAffineTransform(m_out)
    sx = inv[0, 0] * xs + inv[0, 1] * ys + inv[0, 2]
    sy = inv[1, 0] * xs + inv[1, 1] * ys + inv[1, 2]
    outside = (sx < 0) | (sx > W - 1) | (sy < 0) | (sy > H - 1)
    return float(outside.mean()) if outside.size else 0.0


def warp_from(image: np.ndarray, m: np.ndarray, size: tuple[int, int], scale: float) -> np.ndarray:
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
