"""Page furniture shared by the documents: the canvas, the header with the case barcode, the
"第 x 页 共 y 页" footer, and image checks.

Thread contract: pure helpers over the canvas passed in.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from printing import codes, fonts
from printing.result import PrintingError
from printing.text import Pen

PAGE_W, PAGE_H = A4
MARGIN_X = 42.0
MARGIN_TOP = 36.0
MARGIN_BOTTOM = 36.0
CONTENT_W = PAGE_W - 2 * MARGIN_X

# Binary (Flate-only) streams: ASCII85-armouring them is done in pure Python by reportlab
# without its optional C accelerator and was a third of the daily report's time; every PDF
# reader and printer handles binary streams. Set once at import, read-only afterwards.
rl_config.useA85 = 0


@dataclass(frozen=True)
class SealPlace:
    """Where the center's visible electronic signature goes on a document: page index (0-based,
    negative counts from the end) and box (x1, y1, x2, y2) in points. Each document keeps this box
    free of print (a test checks it), so the signature added later never covers anything."""

    page: int
    box: tuple[float, float, float, float]


# The header band left of the case barcode, above the title: free on the form and the letters.
HEADER_SEAL_BOX = (100.0, 776.0, 340.0, 828.0)


def new_canvas(buf: io.BytesIO, title: str, subject: str = "") -> Canvas:
    """An A4 canvas that produces identical bytes for identical input (``invariant``), so a
    document re-rendered from an archived case can be compared by hash."""
    fonts.register_fonts()
    # The bundled font as the canvas' initial font, so no unembedded Helvetica is referenced.
    c = Canvas(buf, pagesize=A4, invariant=1, pageCompression=1, initialFontName=fonts.FONT_NAME,
               initialFontSize=10)
    c.setTitle(title)
    c.setSubject(subject or title)
    c.setCreator("counter-app 河南省退役军人服务“一件事”综合受理窗口")
    c.setAuthor("")
    return c


def page_label(page: int, total: int) -> str:
    return f"第 {page} 页 共 {total} 页"


def draw_case_barcode(pen: Pen, case_no: str, data: str, right: float, top: float, *,
                      module: float = 0.9, height: float = 24.0) -> float:
    """Case number as Code 128 with the printed number under it, right-aligned at ``right``;
    returns the height used."""
    c = pen.canvas
    w = codes.code128_width(data, module)
    codes.draw_code128(c, data, right - w, top - height, module=module, height=height)
    pen.draw(right - w / 2, top - height - 10, f"办件编号：{case_no}", 8, align="center")
    return height + 13


def draw_footer(pen: Pen, page: int, total: int, left_text: str = "", right_text: str = "") -> None:
    y = MARGIN_BOTTOM - 16
    pen.draw(PAGE_W / 2, y, page_label(page, total), 8.5, align="center")
    if left_text:
        pen.draw(MARGIN_X, y, left_text, 8)
    if right_text:
        pen.draw(PAGE_W - MARGIN_X, y, right_text, 8, align="right")


def jpeg_reader(data: bytes | None, what: str = "照片") -> ImageReader | None:
    """Check JPEG bytes before they go into a document (a broken photo must not make a broken PDF)."""
    if data is None:
        return None
    if not isinstance(data, (bytes, bytearray)) or not data[:3] == b"\xff\xd8\xff":
        raise PrintingError(f"{what}不是JPEG格式的图片，请重新拍照或导入JPEG照片。")
    try:
        reader = ImageReader(io.BytesIO(bytes(data)))
        reader.getSize()
        reader.getRGBData()  # decodes: a truncated file fails here, not in the printer
    except Exception:
        raise PrintingError(f"{what}文件已损坏，无法读取，请重新拍照或导入。") from None
    return reader


def png_reader(data: bytes | None, what: str = "签名图片") -> ImageReader | None:
    if data is None:
        return None
    if not isinstance(data, (bytes, bytearray)) or not data[:8] == b"\x89PNG\r\n\x1a\n":
        raise PrintingError(f"{what}不是PNG格式，请让申请人在签名板上重新签名。")
    try:
        reader = ImageReader(io.BytesIO(bytes(data)))
        reader.getSize()
        reader.getRGBData()
    except Exception:
        raise PrintingError(f"{what}已损坏，无法读取，请让申请人重新签名。") from None
    return reader


def fit_image(reader: ImageReader, max_w: float, max_h: float) -> tuple[float, float]:
    iw, ih = reader.getSize()
    scale = min(max_w / iw, max_h / ih)
    return iw * scale, ih * scale
