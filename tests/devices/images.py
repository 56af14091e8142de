"""Real pictures for the camera, photo and document tests and benchmarks.

Everything comes from the photographs and scans bundled inside the scikit-image wheel
(``astronaut`` — a real portrait; ``chelsea`` — a cat; ``page`` and ``text`` — real scanned
text; ``brick`` — a real texture for a desk), transformed with known parameters so a test can
compare what the code found with the truth.
"""
from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np
from skimage import data

# Where the astronaut's face sits in the 512×512 original (measured once by eye and detector;
# used only to place the portrait in a frame, never as an expected result).
ASTRONAUT_FACE_CENTER = (224 / 512.0, 115 / 512.0)


@lru_cache(maxsize=None)
def _astronaut() -> np.ndarray:
    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)


def astronaut() -> np.ndarray:
    return _astronaut().copy()


def chelsea() -> np.ndarray:
    return cv2.cvtColor(data.chelsea(), cv2.COLOR_RGB2BGR)


def coffee() -> np.ndarray:
    return cv2.cvtColor(data.coffee(), cv2.COLOR_RGB2BGR)


def scaled(image: np.ndarray, factor: float) -> np.ndarray:
    interp = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    return cv2.resize(image, None, fx=factor, fy=factor, interpolation=interp)


def rotated(image: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate counter-clockwise (as displayed) about the centre, keeping the size."""
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), degrees, 1.0)
    return cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)


def exposed(image: np.ndarray, gain: float) -> np.ndarray:
    """Simulate a shorter/longer exposure: linear gain with sensor clipping."""
    return np.clip(image.astype(np.float32) * gain, 0, 255).astype(np.uint8)


def portrait_frame(width: int = 1280, height: int = 720, face_fraction: float = 0.24, dx: int = 0,
                   dy: int = 0, gain: float = 1.0, wall_bgr=(128, 128, 128)) -> np.ndarray:
    """A camera frame with the astronaut portrait placed so her face spans ``face_fraction``
    of the frame width and sits near the usual guide position, shifted by (dx, dy)."""
    src = _astronaut()
    size = int(round(width * face_fraction / (92 / 512.0)))   # her face box is ~92/512 of the picture
    big = cv2.resize(src, (size, size), interpolation=cv2.INTER_AREA if size < 512 else cv2.INTER_CUBIC)
    frame = np.empty((height, width, 3), np.uint8)
    frame[:] = wall_bgr
    x0 = int(width / 2 - ASTRONAUT_FACE_CENTER[0] * size) + dx
    y0 = int(height * 0.45 - ASTRONAUT_FACE_CENTER[1] * size) + dy
    X0, Y0, X1, Y1 = max(0, x0), max(0, y0), min(width, x0 + size), min(height, y0 + size)
    frame[Y0:Y1, X0:X1] = big[Y0 - y0:Y1 - y0, X0 - x0:X1 - x0]
    return exposed(frame, gain) if gain != 1.0 else frame


# ------------------------------------------------------------------------------ documents

@lru_cache(maxsize=None)
def _sheet(width: int) -> np.ndarray:
    """A white A4 sheet (1:√2) carrying real scanned text: ``page`` and ``text`` from
    scikit-image, stacked as paragraphs with margins."""
    height = int(round(width * 2 ** 0.5))
    sheet = np.full((height, width), 250, np.uint8)
    margin = width // 12
    inner = width - 2 * margin
    y = margin
    blocks = [data.page(), data.text(), data.page()[:, ::-1][::-1, :], data.text()]
    for block in blocks:
        k = inner / block.shape[1]
        b = cv2.resize(block, (inner, int(block.shape[0] * k)), interpolation=cv2.INTER_CUBIC)
        # stretch each scan's own grey paper towards white, keeping its ink
        b = cv2.normalize(b, None, 0, 250, cv2.NORM_MINMAX)
        if y + b.shape[0] > height - margin:
            break
        sheet[y:y + b.shape[0], margin:margin + inner] = b
        y += b.shape[0] + margin // 2
    return cv2.cvtColor(sheet, cv2.COLOR_GRAY2BGR)


def document_sheet(width: int = 1000) -> np.ndarray:
    return _sheet(width).copy()


def desk_background(width: int, height: int) -> np.ndarray:
    """A darker textured desk from the real ``brick`` texture, tiled to size."""
    tex = data.brick()
    reps = (height // tex.shape[0] + 1, width // tex.shape[1] + 1)
    desk = np.tile(tex, reps)[:height, :width]
    desk = (desk.astype(np.float32) * 0.45 + 20).astype(np.uint8)
    desk = cv2.cvtColor(desk, cv2.COLOR_GRAY2BGR)
    desk[..., 2] = np.clip(desk[..., 2].astype(np.int16) + 25, 0, 255).astype(np.uint8)  # a wooden tint
    return desk


def photographed_document(sheet: np.ndarray, width: int, height: int, corners: np.ndarray,
                          lighting: bool = True) -> np.ndarray:
    """The sheet as a document camera sees it: perspective-warped onto the desk so that its
    corners (TL, TR, BR, BL) land on ``corners``, with a gentle light fall-off."""
    h, w = sheet.shape[:2]
    src = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], np.float32)
    m = cv2.getPerspectiveTransform(src, corners.astype(np.float32))
    desk = desk_background(width, height)
    warped = cv2.warpPerspective(sheet, m, (width, height), flags=cv2.INTER_LINEAR)
    inside = cv2.warpPerspective(np.full((h, w), 255, np.uint8), m, (width, height), flags=cv2.INTER_LINEAR)
    a = (inside.astype(np.float32) / 255.0)[..., None]
    out = warped.astype(np.float32) * a + desk.astype(np.float32) * (1 - a)
    if lighting:
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
        fall = 1.0 - 0.18 * (((xx - width * 0.3) / width) ** 2 + ((yy - height * 0.3) / height) ** 2)
        out *= fall[..., None]
    return np.clip(out, 0, 255).astype(np.uint8)


def default_corners(width: int, height: int) -> np.ndarray:
    """A sheet seen from slightly off-axis: a keystoned, rotated quadrilateral."""
    return np.array([[0.22 * width, 0.08 * height], [0.74 * width, 0.12 * height],
                     [0.80 * width, 0.93 * height], [0.17 * width, 0.88 * height]], np.float32)


def ncc(a: np.ndarray, b: np.ndarray) -> float:
    """Normalised cross-correlation of two same-size grey images."""
    a = a.astype(np.float64).ravel()
    b = b.astype(np.float64).ravel()
    a -= a.mean()
    b -= b.mean()
    return float((a @ b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-9))


def gray(image: np.ndarray) -> np.ndarray:
    return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def camera_view_corners(width: int, height: int, sheet_aspect: float = 2 ** -0.5, tilt_x_deg: float = 18.0,
                        tilt_y_deg: float = -10.0, roll_deg: float = 7.0, fill: float = 0.8,
                        focal_factor: float = 1.1, shift=(0.0, 0.0)) -> np.ndarray:
    """Where a real pinhole camera (square pixels, centred principal point, focal length
    ``focal_factor`` × image width) sees the corners (TL, TR, BR, BL) of a sheet of the given
    width/height ratio, tilted about x and y and rolled, filling about ``fill`` of the view."""
    f = focal_factor * width
    sw, sh = sheet_aspect, 1.0
    pts = np.array([[-sw / 2, -sh / 2, 0], [sw / 2, -sh / 2, 0], [sw / 2, sh / 2, 0], [-sw / 2, sh / 2, 0]])
    ax, ay, az = np.radians([tilt_x_deg, tilt_y_deg, roll_deg])
    rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    world = pts @ (rz @ ry @ rx).T
    distance = f * sh / (fill * height)
    world[:, 0] += shift[0]
    world[:, 1] += shift[1]
    world[:, 2] += distance
    u = f * world[:, 0] / world[:, 2] + width / 2.0
    v = f * world[:, 1] / world[:, 2] + height / 2.0
    return np.stack([u, v], axis=1).astype(np.float32)
