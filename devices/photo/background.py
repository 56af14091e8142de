"""Separate the person from the background and put them on white.

GrabCut is seeded from what the face detector already knows about an upright, centred
portrait: the inner face and the middle of the chest are certainly the person; the region
around the head and the shoulders probably is; the upper corners beside the head certainly
are not. It runs on a small upright working image (face ≈ ``WORK_FACE_WIDTH`` px), because
its cost grows with the pixel count and the mask only needs to be as fine as a hair edge at
the final 358×441 scale.
"""
from __future__ import annotations

import cv2
import numpy as np

WORK_FACE_WIDTH = 64
GRABCUT_ITERATIONS = 3


def seed_mask(shape: tuple[int, int], face_box: tuple[float, float, float, float],
              eye_y: float) -> np.ndarray:
    """GrabCut's initial labels for an upright working image.

    ``face_box`` (x, y, w, h) and ``eye_y`` are in working-image coordinates.
    """
    h, w = shape
    fx, fy, fw, fh = face_box
    cx = fx + fw / 2.0
    mask = np.full((h, w), cv2.GC_PR_BGD, np.uint8)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)

    # probably person: an ellipse for head and hair, and the shoulders below the chin
    head_cy = fy + 0.40 * fh
    head = ((xx - cx) / (0.78 * fw)) ** 2 + ((yy - head_cy) / (0.95 * fh)) ** 2 <= 1.0
    chin = fy + fh
    shoulders = (yy >= chin - 0.05 * fh) & (np.abs(xx - cx) <= 0.55 * fw + (yy - chin) * 1.6)
    mask[head | shoulders] = cv2.GC_PR_FGD

    # certainly background: beside and above the head, well outside that ellipse, and above
    # the shoulder line (a person's outline there is the head only)
    outside = ((xx - cx) / (1.05 * fw)) ** 2 + ((yy - (fy + 0.3 * fh)) / (1.25 * fh)) ** 2 > 1.0
    above_shoulders = yy < chin - 0.10 * fh
    mask[outside & above_shoulders] = cv2.GC_BGD
    mask[: max(1, int(0.02 * h)), :] = cv2.GC_BGD  # the top row is never the person: headroom is required

    # certainly person: the inner face (skin, eyes, mouth) and a column of chest
    inner = ((xx - cx) / (0.30 * fw)) ** 2 + ((yy - (fy + 0.55 * fh)) / (0.38 * fh)) ** 2 <= 1.0
    chest = (yy >= chin + 0.45 * fh) & (np.abs(xx - cx) <= 0.35 * fw)
    mask[inner | chest] = cv2.GC_FGD
    return mask


def segment_person(work_bgr: np.ndarray, face_box: tuple[float, float, float, float],
                   eye_y: float, iterations: int = GRABCUT_ITERATIONS) -> np.ndarray:
    """A float32 mask in [0, 1] (1 = person) for the working image."""
    labels = seed_mask(work_bgr.shape[:2], face_box, eye_y)
    bgd = np.zeros((1, 65), np.float64)
    fgd = np.zeros((1, 65), np.float64)
    cv2.grabCut(work_bgr, labels, None, bgd, fgd, iterations, cv2.GC_INIT_WITH_MASK)
    person = ((labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)).astype(np.uint8)

    # keep the component that holds the face; close small gaps (teeth, glasses) and holes
    fx, fy, fw, fh = face_box
    count, comp = cv2.connectedComponents(person, connectivity=8)
    if count > 2:
        seed = comp[int(fy + 0.55 * fh), int(fx + fw / 2.0)]
        if seed > 0:
            person = (comp == seed).astype(np.uint8)
    person = cv2.morphologyEx(person, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
    person = _fill_holes(person)
    return person.astype(np.float32)


def _fill_holes(mask: np.ndarray) -> np.ndarray:
    h, w = mask.shape
    flood = np.zeros((h + 2, w + 2), np.uint8)
    inv = (1 - mask).astype(np.uint8)
    # background regions connected to the top or the sides are real background; enclosed
    # ones are holes in the person (a dark collar, a shadow) and get filled
    filled = inv.copy()
    for x in range(0, w, 4):
        if filled[0, x] == 1:
            cv2.floodFill(filled, flood, (x, 0), 2)
    for y in range(0, h, 4):
        for x in (0, w - 1):
            if filled[y, x] == 1:
                cv2.floodFill(filled, flood, (x, y), 2)
    return np.where(filled == 1, 1, mask).astype(np.uint8)


def upscale_mask(mask: np.ndarray, m: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Carry the working mask to the output with a smooth outline.

    A binary mask magnified 3× shows stair steps along hair; blurring it slightly first and
    cutting the magnified result at one half gives the outline a curve instead.
    """
    soft = cv2.GaussianBlur(mask, (0, 0), sigmaX=0.9)
    big = cv2.warpAffine(soft, m, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return (big >= 0.5).astype(np.float32)


def feather(alpha: np.ndarray, radius_px: float) -> np.ndarray:
    """Soften the outline: shrink by half the radius and blur, so no ring of the old
    background survives around hair and shoulders."""
    if radius_px <= 0:
        return alpha
    k = max(3, int(round(radius_px)) | 1)
    eroded = cv2.erode(alpha, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    return cv2.GaussianBlur(eroded, (0, 0), sigmaX=radius_px / 2.0)


def composite_on_white(image_bgr: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    a = np.clip(alpha, 0.0, 1.0)[..., None]
    out = image_bgr.astype(np.float32) * a + 255.0 * (1.0 - a)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)
