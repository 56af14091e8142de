"""Every screen renders offscreen with its Chinese text really drawn: each character is in the
bundled font (no empty boxes) and each text's rectangle in the PNG holds ink."""
from __future__ import annotations

import numpy as np
from PySide6.QtGui import QFontMetrics, QImage

from ui.app import install_fonts, ui_font
from app.demo.scene import populate
from app.gui import hooks
from ui.screenshots import render_all

SHELL_SCREENS = {"01-登录", "02-工作台", "03-按办件编号查找", "04-办件详情-进度", "05-办件详情-办理经过",
                 "06-锁屏", "07-当日概况", "08-系统设置", "09-设备自检"}


def _pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    raw = np.frombuffer(image.constBits(), dtype=np.uint8, count=image.sizeInBytes())
    return raw.reshape(image.height(), image.bytesPerLine() // 4, 4)[:, :image.width(), :3].astype(np.int16)


def _ink(pixels: np.ndarray, rect) -> int:
    """Pixels in ``rect`` clearly unlike the rectangle's most common colour (its background)."""
    h, w = pixels.shape[:2]
    x0, y0 = max(rect.left(), 0), max(rect.top(), 0)
    x1, y1 = min(rect.right() + 1, w), min(rect.bottom() + 1, h)
    if x1 <= x0 or y1 <= y0:
        return 0
    region = pixels[y0:y1, x0:x1].reshape(-1, 3)
    values, counts = np.unique(region, axis=0, return_counts=True)
    background = values[counts.argmax()]
    return int((np.abs(region - background).max(axis=1) > 80).sum())


def _cjk(text: str) -> list[str]:
    return [ch for ch in text if "\u3400" <= ch <= "\u9fff"]


def test_every_screen_renders_with_visible_chinese_text(app, tmp_path, monkeypatch):
    assert install_fonts()[0] == "WenQuanYi Zen Hei"
    metrics = QFontMetrics(ui_font())
    shots = render_all(tmp_path / "shots", populate, home=None, hooks=hooks(demo=True))
    names = {s.name for s in shots}
    assert SHELL_SCREENS <= names

    for shot in shots:
        image = QImage(str(shot.path))
        assert not image.isNull() and image.width() >= 500, shot.name
        pixels = _pixels(image)
        if shot.name not in SHELL_SCREENS:
            continue  # acceptance steps: drawn by their own widget, checked below for ink only
        assert image.width() >= 1366 or shot.name == "01-登录"
        strings = [shot.title] + [t for t, _ in shot.texts]
        missing = {ch for text in strings for ch in text if not ch.isspace() and not metrics.inFontUcs4(ord(ch))}
        assert not missing, (shot.name, missing)
        chinese = [(t, r) for t, r in shot.texts if _cjk(t)]
        assert len(chinese) >= 3, shot.name
        for text, rect in chinese:
            assert _ink(pixels, rect) >= 4 * min(len(_cjk(text)), 10), (shot.name, text)

    for shot in shots:
        if shot.name in SHELL_SCREENS:
            continue
        pixels = _pixels(QImage(str(shot.path)))
        dark = int((pixels.max(axis=2) < 100).sum())  # text strokes: the acceptance screens are light
        assert len(np.unique(pixels.reshape(-1, 3)[::37], axis=0)) > 20, shot.name  # not a blank frame
        assert dark > 2000, shot.name
