"""Regenerate counter-app.png (256 px, Linux menus) and counter-app.ico (Windows) from counter-app.svg.

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/icons/make_icons.py

The raster files are committed so building a package needs neither Qt's SVG renderer nor Pillow.
"""
from pathlib import Path

from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

HERE = Path(__file__).resolve().parent


def render(size: int) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    QSvgRenderer(str(HERE / "counter-app.svg")).render(painter)
    painter.end()
    return image


if __name__ == "__main__":
    app = QGuiApplication([])
    render(256).save(str(HERE / "counter-app.png"))
    Image.open(HERE / "counter-app.png").save(HERE / "counter-app.ico",
                                              sizes=[(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)])
