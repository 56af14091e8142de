"""Finding a Chinese font and drawing Chinese text into numpy images.

OpenCV's ``putText`` only knows Hershey fonts (ASCII), so hints such as "请靠近一点" are
rasterised with Pillow's FreeType binding from the TrueType font the project ships in
``resources/fonts/``; system fonts are the fallback on a developer machine. Rendered strings
are cached, so drawing the same hint on every preview frame costs one alpha blend.

Thread contract: :class:`TextPainter` guards its cache with a lock and may be shared.
"""
from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

# Windows desktops at the counters have these; Debian/Ubuntu developer machines the others.
_SYSTEM_FONTS = (
    r"C:\Windows\Fonts\msyh.ttc",
    r"C:\Windows\Fonts\simhei.ttf",
    r"C:\Windows\Fonts\simsun.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/System/Library/Fonts/PingFang.ttc",
)


def _resources_fonts_dir() -> Path | None:
    from counter_app.paths import resource_path  # the one lookup of the shipped resources

    return resource_path("fonts")


@lru_cache(maxsize=1)
def find_cjk_font() -> Path | None:
    """The TrueType/OpenType font to use for Chinese text, or ``None`` when there is none.

    ``COUNTER_APP_CJK_FONT`` overrides; then the project's ``resources/fonts`` (preferring
    WenQuanYi, then any ``.ttc``/``.ttf``/``.otf``); then the usual system locations.
    """
    override = os.environ.get("COUNTER_APP_CJK_FONT")
    if override and Path(override).is_file():
        return Path(override)
    folder = _resources_fonts_dir()
    if folder and folder.is_dir():
        candidates = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".ttc", ".ttf", ".otf"))
        candidates.sort(key=lambda p: (not p.name.lower().startswith("wqy"), not _looks_cjk(p.name), p.name))
        if candidates:
            return candidates[0]
    for name in _SYSTEM_FONTS:
        if Path(name).is_file():
            return Path(name)
    return None


def _looks_cjk(name: str) -> bool:
    n = name.lower()
    return any(k in n for k in ("wqy", "cjk", "hei", "song", "kai", "fang", "ming", "sc", "cn"))


class TextPainter:
    """Renders a line of text to an RGBA-like pair (BGR colour image, alpha mask) and blends it."""

    def __init__(self, font_path: Path | None = None) -> None:
        self.font_path = font_path if font_path is not None else find_cjk_font()
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, int, tuple[int, int, int]], tuple[np.ndarray, np.ndarray]] = {}

    @property
    def available(self) -> bool:
        return self.font_path is not None

    def render(self, text: str, size_px: int, color_bgr: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray] | None:
        """(colour, alpha) arrays for ``text``; ``None`` without a font."""
        if not self.available or not text:
            return None
        key = (text, int(size_px), tuple(int(c) for c in color_bgr))
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                return hit
        from PIL import Image, ImageDraw, ImageFont  # Pillow: FreeType rasteriser

        font = ImageFont.truetype(str(self.font_path), int(size_px))
        left, top, right, bottom = font.getbbox(text)
        w, h = max(1, right - left), max(1, bottom - top)
        mask = Image.new("L", (w + 2, h + 2), 0)
        ImageDraw.Draw(mask).text((1 - left, 1 - top), text, font=font, fill=255)
        alpha = np.asarray(mask, dtype=np.float32) / 255.0
        colour = np.empty(alpha.shape + (3,), np.uint8)
        colour[:] = color_bgr
        with self._lock:
            if len(self._cache) > 256:
                self._cache.clear()
            self._cache[key] = (colour, alpha)
        return colour, alpha

    def draw(self, image: np.ndarray, text: str, origin: tuple[int, int], size_px: int,
             color_bgr: tuple[int, int, int]) -> tuple[int, int]:
        """Blend ``text`` into ``image`` (in place) with its top-left at ``origin``.

        Returns the (width, height) drawn; (0, 0) when no font is available.
        """
        rendered = self.render(text, size_px, color_bgr)
        if rendered is None:
            return (0, 0)
        colour, alpha = rendered
        x, y = origin
        H, W = image.shape[:2]
        h, w = alpha.shape
        x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
        if x1 <= x0 or y1 <= y0:
            return (0, 0)
        a = alpha[y0 - y:y1 - y, x0 - x:x1 - x][..., None]
        region = image[y0:y1, x0:x1].astype(np.float32)
        image[y0:y1, x0:x1] = (region * (1 - a) + colour[y0 - y:y1 - y, x0 - x:x1 - x] * a + 0.5).astype(np.uint8)
        return (w, h)


_default_painter: TextPainter | None = None
_default_lock = threading.Lock()


def default_painter() -> TextPainter:
    global _default_painter
    with _default_lock:
        if _default_painter is None:
            _default_painter = TextPainter()
        return _default_painter
