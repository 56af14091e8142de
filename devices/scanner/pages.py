"""Pages photographed by the document camera (高拍仪): find the sheet, flatten it, deskew,
crop, optional grey or black-and-white, JPEG under a size limit. Several pages become one PDF
through the one scan-to-PDF path, :func:`devices.scanner.pdf.images_to_pdf`.

Public API (all pure functions on numpy arrays; safe on any thread, no shared state):

- :func:`process_page` ``(image_bgr, options=DocumentOptions()) -> ProcessedPage``
- :func:`stamp_watermark` ``(image_bgr, text=WATERMARK_TEXT) -> ndarray`` — the red box
  "此件经与原件核对无误" burned into the pixels (it survives any later export), drawn with the
  project's CJK font.
- :func:`find_page` ``(image_bgr) -> ndarray | None`` — the sheet's corners (TL, TR, BR, BL).
"""
from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from devices.photo.cjk_font import TextPainter, default_painter
from devices.photo.jpeg import encode

WATERMARK_TEXT = "此件经与原件核对无误"
DEFAULT_MAX_BYTES = 1024 * 1024          # 1 MB per page, the platform's usual upload limit
DETECT_LONG_SIDE = 1000                  # the sheet is searched on a copy this large


class DocumentError(ValueError):
    """A picture that cannot be processed; ``message`` is Chinese."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ColorMode(str, enum.Enum):
    COLOR = "color"
    GRAY = "gray"
    BW = "bw"

    @property
    def label(self) -> str:
        return {"color": "彩色", "gray": "灰度", "bw": "黑白"}[self.value]


@dataclass(frozen=True)
class DocumentOptions:
    color_mode: ColorMode = ColorMode.COLOR
    max_bytes: int = DEFAULT_MAX_BYTES
    jpeg_quality: int = 85            # first try; lowered (then the image shrunk) to fit max_bytes
    jpeg_quality_min: int = 40
    find_page: bool = True
    deskew: bool = True
    max_skew_deg: float = 10.0
    crop_margin: float = 0.008        # share of each side trimmed inside the found edge
    watermark: bool = False
    watermark_text: str = WATERMARK_TEXT


@dataclass
class ProcessedPage:
    """One finished page. ``image`` is the processed picture before compression (for a
    preview); ``jpeg`` is what gets stored, uploaded and put in the PDF."""

    jpeg: bytes
    width: int
    height: int
    quality: int
    color_mode: ColorMode
    page_found: bool
    corners: np.ndarray | None = None      # TL, TR, BR, BL in the source picture
    skew_deg: float = 0.0                  # rotation removed by deskewing
    scale: float = 1.0                     # <1 when the page had to be shrunk to fit max_bytes
    watermarked: bool = False
    image: np.ndarray | None = field(default=None, repr=False)

    @property
    def size_bytes(self) -> int:
        return len(self.jpeg)


# --------------------------------------------------------------------------- finding the sheet

def _order_corners(pts: np.ndarray) -> np.ndarray:
    pts = pts.reshape(4, 2).astype(np.float32)
    s = pts.sum(axis=1)
    d = np.diff(pts, axis=1).ravel()
    return np.array([pts[np.argmin(s)], pts[np.argmin(d)], pts[np.argmax(s)], pts[np.argmax(d)]], np.float32)


def _quad_from_contour(contour: np.ndarray) -> np.ndarray | None:
    hull = cv2.convexHull(contour)
    peri = cv2.arcLength(hull, True)
    for eps in (0.01, 0.02, 0.03, 0.05, 0.08):
        approx = cv2.approxPolyDP(hull, eps * peri, True)
        if len(approx) == 4 and cv2.isContourConvex(approx):
            return approx.reshape(4, 2).astype(np.float32)
        if len(approx) < 4:
            break
    return None


def find_page(image_bgr: np.ndarray, min_area_fraction: float = 0.15) -> np.ndarray | None:
    """Corners (TL, TR, BR, BL; float32, source pixels) of the sheet, or ``None``.

    Two detectors, best quadrilateral wins: edges (Canny, thresholds from the median) find a
    sheet on any background; a brightness split (Otsu) finds a white sheet whose edge is
    broken by shadow or a hand. A quadrilateral touching the picture border on all four sides
    is the picture itself and is rejected.
    """
    h, w = image_bgr.shape[:2]
    k = min(1.0, DETECT_LONG_SIDE / float(max(h, w)))
    small = cv2.resize(image_bgr, None, fx=k, fy=k, interpolation=cv2.INTER_AREA) if k < 1 else image_bgr
    gray = small if small.ndim == 2 else cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    gray = cv2.GaussianBlur(gray, (5, 5), 0)
    sh, sw = gray.shape
    area_min = min_area_fraction * sh * sw

    candidates: list[np.ndarray] = []
    med = float(np.median(gray))
    edges = cv2.Canny(gray, int(max(10, 0.66 * med)), int(min(255, 1.33 * med + 20)))
    edges = cv2.dilate(edges, np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(edges, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    candidates += [c for c in contours if cv2.contourArea(cv2.convexHull(c)) >= area_min]
    _, bright = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bright = cv2.morphologyEx(bright, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    contours, _ = cv2.findContours(bright, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    candidates += [c for c in contours if cv2.contourArea(c) >= area_min]

    best, best_score = None, 0.0
    margin = 3
    for contour in candidates:
        quad = _quad_from_contour(contour)
        if quad is None:
            continue
        area = cv2.contourArea(quad)
        if area < area_min or area > 0.995 * sh * sw:
            continue
        xs, ys = quad[:, 0], quad[:, 1]
        if xs.min() <= margin and ys.min() <= margin and xs.max() >= sw - 1 - margin and ys.max() >= sh - 1 - margin:
            continue
        # a contour that ran from the sheet into the desk's texture gives a hull with a side
        # lying on nothing: every side of a real sheet lies on an edge along its length
        support = _edge_support(_order_corners(quad), edges)
        if support < 0.6 or not _paper_inside(quad, gray):
            continue
        score = area * support * support
        if score > best_score:
            best, best_score = quad, score
    if best is None:
        return None
    return _order_corners(best / k)


def _paper_inside(quad: np.ndarray, gray: np.ndarray) -> bool:
    """True when the quadrilateral is lighter just inside its edge than just outside: a sheet
    on the mat, not a printed photo or table on a sheet that already fills the view."""
    mask = np.zeros(gray.shape, np.uint8)
    cv2.fillConvexPoly(mask, np.rint(quad).astype(np.int32), 1)
    band = max(3, int(0.015 * max(gray.shape)))
    kernel = np.ones((2 * band + 1, 2 * band + 1), np.uint8)
    inner = mask - cv2.erode(mask, kernel)
    outer = cv2.dilate(mask, kernel) - mask
    if not outer.any() or not inner.any():
        return False
    return float(gray[inner > 0].mean()) >= float(gray[outer > 0].mean()) + 8.0


def _edge_support(quad: np.ndarray, edges: np.ndarray, samples: int = 60) -> float:
    """The smallest share, over the four sides, of points along the side lying on an edge."""
    h, w = edges.shape
    worst = 1.0
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        t = np.linspace(0.05, 0.95, samples)[:, None]
        pts = np.rint(a + (b - a) * t).astype(int)
        inside = (pts[:, 0] >= 0) & (pts[:, 0] < w) & (pts[:, 1] >= 0) & (pts[:, 1] < h)
        if not inside.any():
            return 0.0
        hits = edges[pts[inside, 1], pts[inside, 0]] > 0
        worst = min(worst, float(hits.sum()) / samples)
    return worst


# --------------------------------------------------------------------------- flatten, deskew, crop

def page_aspect(corners: np.ndarray, image_size: tuple[int, int]) -> float | None:
    """The sheet's true width/height from its four corners in a pinhole photograph.

    Zhang & He, "Whiteboard scanning and image enhancement" (2007): with square pixels and the
    principal point at the image centre, the quadrilateral fixes the focal length and hence
    the rectangle's real aspect ratio. Side lengths alone would keep the keystone squash of
    a sheet photographed at an angle. ``None`` when the geometry is degenerate.
    """
    w_img, h_img = image_size
    u0, v0 = w_img / 2.0, h_img / 2.0
    tl, tr, br, bl = (np.array([p[0], p[1], 1.0]) for p in corners)
    m1, m2, m3, m4 = tl, tr, bl, br
    den2 = np.dot(np.cross(m2, m4), m3)
    den3 = np.dot(np.cross(m3, m4), m2)
    if abs(den2) < 1e-9 or abs(den3) < 1e-9:
        return None
    k2 = np.dot(np.cross(m1, m4), m3) / den2
    k3 = np.dot(np.cross(m1, m4), m2) / den3
    n2 = k2 * m2 - m1
    n3 = k3 * m3 - m1
    if abs(n2[2]) < 1e-6 or abs(n3[2]) < 1e-6:
        # parallel opposite sides: an affine view, the focal length drops out
        return float(math.sqrt((n2[0] ** 2 + n2[1] ** 2) / (n3[0] ** 2 + n3[1] ** 2)))
    f2 = -((n2[0] * n3[0] - (n2[0] * n3[2] + n2[2] * n3[0]) * u0 + n2[2] * n3[2] * u0 * u0)
           + (n2[1] * n3[1] - (n2[1] * n3[2] + n2[2] * n3[1]) * v0 + n2[2] * n3[2] * v0 * v0)) / (n2[2] * n3[2])
    if f2 <= 0:
        return None
    f = math.sqrt(f2)
    a_inv = np.linalg.inv(np.array([[f, 0, u0], [0, f, v0], [0, 0, 1.0]]))
    q = a_inv.T @ a_inv
    ratio2 = (n2 @ q @ n2) / (n3 @ q @ n3)
    return float(math.sqrt(ratio2)) if ratio2 > 0 else None


def _rectify(image: np.ndarray, corners: np.ndarray) -> np.ndarray:
    tl, tr, br, bl = corners
    width = max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl))
    height = max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr))
    aspect = page_aspect(corners, (image.shape[1], image.shape[0]))
    side_aspect = width / max(1.0, height)
    # trust the camera model only within reason; a wild value means the quad is not a sheet
    if aspect is not None and 0.5 * side_aspect <= aspect <= 2.0 * side_aspect:
        if width >= height:
            height = width / aspect
        else:
            width = height * aspect
    W, H = int(round(width)), int(round(height))
    dst = np.array([[0, 0], [W - 1, 0], [W - 1, H - 1], [0, H - 1]], np.float32)
    m = cv2.getPerspectiveTransform(corners.astype(np.float32), dst)
    return cv2.warpPerspective(image, m, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def estimate_skew(image: np.ndarray, max_deg: float = 10.0) -> float:
    """The angle (degrees, counter-clockwise positive) that makes the text lines horizontal.

    Projection-profile method: rotate the inked pixels and keep the angle whose row sums are
    most peaked (lines and gaps sharply separated). Coarse 1° steps, then 0.1°.
    """
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    k = min(1.0, 900.0 / max(gray.shape))
    small = cv2.resize(gray, None, fx=k, fy=k, interpolation=cv2.INTER_AREA) if k < 1 else gray
    block = max(15, (min(small.shape) // 20) | 1)
    ink = cv2.adaptiveThreshold(small, 1, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 15)
    if ink.sum() < 0.002 * ink.size:
        return 0.0  # a blank page has no lines to align
    h, w = ink.shape
    center = (w / 2.0, h / 2.0)
    ink = ink.astype(np.float32)

    def score(angle: float) -> float:
        m = cv2.getRotationMatrix2D(center, angle, 1.0)
        rotated = cv2.warpAffine(ink, m, (w, h), flags=cv2.INTER_NEAREST, borderValue=0)
        rows = rotated.sum(axis=1)
        return float(np.square(np.diff(rows)).sum())

    coarse_angles = np.arange(-max_deg, max_deg + 0.01, 1.0)
    scores = [score(a) for a in coarse_angles]
    best = int(np.argmax(scores))
    # an optimum on the search boundary is no optimum (a photograph of a desk, not a page);
    # nor is one barely above a straight page's score: leave such pictures as they are
    if best in (0, len(scores) - 1) or scores[best] < 1.05 * score(0.0):
        return 0.0
    coarse = float(coarse_angles[best])
    fine = max(np.arange(coarse - 1.0, coarse + 1.01, 0.1), key=score)
    return float(round(fine, 2))


def _rotate(image: np.ndarray, angle: float) -> np.ndarray:
    """Rotate on an enlarged canvas so no corner of the page is lost; the corners brought in
    are filled with the paper's own colour (a bright percentile), not black."""
    h, w = image.shape[:2]
    sample = image[::8, ::8]
    paper = tuple(float(np.percentile(sample[..., c], 90)) for c in range(sample.shape[2])) if image.ndim == 3 \
        else float(np.percentile(sample, 90))
    m = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), angle, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * sin + w * cos), int(h * cos + w * sin)
    m[0, 2] += nw / 2.0 - w / 2.0
    m[1, 2] += nh / 2.0 - h / 2.0
    return cv2.warpAffine(image, m, (nw, nh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                          borderValue=paper)


def _to_bw(gray: np.ndarray) -> np.ndarray:
    # local threshold: a page lit from one side still comes out white, not half grey
    block = max(25, (min(gray.shape) // 30) | 1)
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, block, 12)


# --------------------------------------------------------------------------- the watermark

def stamp_watermark(image: np.ndarray, text: str = WATERMARK_TEXT, painter: TextPainter | None = None,
                    color_bgr: tuple[int, int, int] = (40, 40, 210)) -> np.ndarray:
    """A copy of ``image`` with a boxed ``text`` in the lower right corner, as the clerk's
    stamp on a checked copy. Red on colour pages, black on grey ones.

    Raises :class:`DocumentError` when no Chinese font is installed (the stamp must be legible
    or absent, never tofu boxes).
    """
    painter = painter or default_painter()
    if not painter.available:
        raise DocumentError("找不到中文字体，无法加盖“此件经与原件核对无误”水印：请重新安装程序")
    out = image.copy()
    gray_page = out.ndim == 2
    if gray_page:
        out = cv2.cvtColor(out, cv2.COLOR_GRAY2BGR)
        color_bgr = (20, 20, 20)
    h, w = out.shape[:2]
    size_px = max(14, int(min(w, h * 0.75) / 22))
    colour, alpha = painter.render(text, size_px, color_bgr)
    th, tw = alpha.shape
    pad = max(4, size_px // 3)
    box_w, box_h = tw + 2 * pad, th + 2 * pad
    x0 = max(0, w - box_w - max(8, w // 25))
    y0 = max(0, h - box_h - max(8, h // 30))
    # a white ground under the stamp keeps it readable over printed text
    region = out[y0:y0 + box_h, x0:x0 + box_w].astype(np.float32)
    out[y0:y0 + box_h, x0:x0 + box_w] = (region * 0.25 + 255 * 0.75).astype(np.uint8)
    cv2.rectangle(out, (x0, y0), (x0 + box_w - 1, y0 + box_h - 1), color_bgr, max(2, size_px // 10), cv2.LINE_AA)
    painter.draw(out, text, (x0 + pad, y0 + pad), size_px, color_bgr)
    return cv2.cvtColor(out, cv2.COLOR_BGR2GRAY) if gray_page else out


# --------------------------------------------------------------------------- compression

def compress_to_limit(image: np.ndarray, max_bytes: int, start_quality: int = 85,
                      min_quality: int = 40) -> tuple[bytes, int, float]:
    """(jpeg, quality, scale): about the best quality ≤ ``start_quality`` that fits ``max_bytes``;
    when even ``min_quality`` is too big, the image is shrunk (keeping text legible matters
    more than pixel count) and the search repeats.

    Encoding a 12 MP page costs ~90 ms, so the quality is searched on a mosaic of tiles taken
    at full resolution from across the page (same bytes per pixel, 1/10 of the pixels) and
    only confirmed on the whole page.
    """
    scale = 1.0
    current = image
    for _ in range(6):
        data = encode(current, start_quality)
        if len(data) <= max_bytes:
            return data, start_quality, scale
        q = _predict_quality(current, max_bytes, min_quality, start_quality - 1)
        while q >= min_quality:
            data = encode(current, q)
            if len(data) <= max_bytes:
                return data, q, scale
            q = q - 4 if q - 4 >= min_quality or q == min_quality else min_quality
        low_size = len(data)
        # bytes scale roughly with pixel count: shrink by the square root of the excess
        factor = max(0.3, min(0.9, math.sqrt(max_bytes / float(low_size)) * 0.95))
        scale *= factor
        current = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    raise DocumentError("页面压缩后仍超过大小限制：请提高每页大小上限")


def _predict_quality(image: np.ndarray, max_bytes: int, lo: int, hi: int) -> int:
    """The highest quality in [lo, hi] whose estimated size fits, from a tile mosaic."""
    h, w = image.shape[:2]
    tile, grid = 192, 6
    if h * w <= 4 * (tile * grid) ** 2 or h < tile * 2 or w < tile * 2:
        sample, factor = image, 1.0
    else:
        ys = np.linspace(0, h - tile, grid).astype(int)
        xs = np.linspace(0, w - tile, grid).astype(int)
        rows = [np.hstack([image[y:y + tile, x:x + tile] for x in xs]) for y in ys]
        sample = np.vstack(rows)
        factor = (h * w) / float(sample.shape[0] * sample.shape[1])
    budget = max_bytes * 0.97   # headers and the estimate's error
    best = lo
    while lo <= hi:
        mid = (lo + hi) // 2
        if len(encode(sample, mid)) * factor <= budget:
            best, lo = mid, mid + 1
        else:
            hi = mid - 1
    return best


# --------------------------------------------------------------------------- the page

def process_page(image_bgr: np.ndarray, options: DocumentOptions = DocumentOptions()) -> ProcessedPage:
    """Find, flatten, deskew, crop, convert and compress one photographed page.

    When no sheet is found (a flatbed scan, or a page filling the whole view) the whole
    picture is used and only deskewed.
    """
    if not isinstance(image_bgr, np.ndarray) or image_bgr.dtype != np.uint8 or image_bgr.ndim not in (2, 3) \
            or min(image_bgr.shape[:2]) < 16:
        raise DocumentError("无法读取扫描图像：请重新拍摄或选择图片文件")
    if image_bgr.ndim == 3 and image_bgr.shape[2] == 4:
        image_bgr = cv2.cvtColor(image_bgr, cv2.COLOR_BGRA2BGR)
    if image_bgr.ndim == 2:
        image_bgr = cv2.cvtColor(image_bgr, cv2.COLOR_GRAY2BGR)

    corners = find_page(image_bgr) if options.find_page else None
    page = _rectify(image_bgr, corners) if corners is not None else image_bgr
    skew = estimate_skew(page, options.max_skew_deg) if options.deskew else 0.0
    if abs(skew) >= 0.3:
        page = _rotate(page, skew)
    if corners is not None and options.crop_margin > 0:
        h, w = page.shape[:2]
        mx, my = int(round(w * options.crop_margin)), int(round(h * options.crop_margin))
        page = page[my:h - my, mx:w - mx]

    if options.color_mode is ColorMode.GRAY:
        page = cv2.cvtColor(page, cv2.COLOR_BGR2GRAY)
    elif options.color_mode is ColorMode.BW:
        page = _to_bw(cv2.cvtColor(page, cv2.COLOR_BGR2GRAY))
    if options.watermark:
        page = stamp_watermark(page, options.watermark_text)

    data, quality, scale = compress_to_limit(page, options.max_bytes, options.jpeg_quality, options.jpeg_quality_min)
    h, w = page.shape[:2]
    if scale < 1.0:
        w, h = int(round(w * scale)), int(round(h * scale))
    return ProcessedPage(data, w, h, quality, options.color_mode, corners is not None, corners, skew, scale,
                         options.watermark, page)


def with_watermark(page: ProcessedPage, text: str = WATERMARK_TEXT,
                   max_bytes: int = DEFAULT_MAX_BYTES) -> ProcessedPage:
    """Stamp an already processed page (the clerk ticks "checked against the original" after
    scanning) and compress it again."""
    if page.image is None:
        raise DocumentError("页面没有保留图像，无法加盖水印：请重新扫描")
    stamped = stamp_watermark(page.image, text)
    data, quality, scale = compress_to_limit(stamped, max_bytes)
    h, w = stamped.shape[:2]
    return replace(page, jpeg=data, quality=quality, scale=scale, watermarked=True, image=stamped,
                   width=int(round(w * scale)), height=int(round(h * scale)))
