"""The "此件经与原件核对无误" watermark on scans of checked originals.

When the clerk has compared a scan with the original, the scan's PDF can be stamped: the text
runs diagonally across every page (light, so the scan stays legible) and a framed stamp with
the text, the checking clerk and the date sits in the lower right corner. The stamp is drawn
with the bundled font and merged onto each page with pypdf, whatever the page size or rotation.

Thread contract: :func:`watermark_pdf` is re-entrant; call it from any worker thread.
"""
from __future__ import annotations

import datetime as _dt
import io

from reportlab.lib.colors import Color
from reportlab.pdfgen.canvas import Canvas

from printing import fonts
from printing.case import cn_date
from printing.result import PrintingError
from printing.text import Pen

DEFAULT_TEXT = "此件经与原件核对无误"
STAMP_RED = Color(0.80, 0.08, 0.08)
DIAGONAL_RED = Color(0.80, 0.08, 0.08, alpha=0.16)


def _stamp_page(width: float, height: float, text: str, checker: str, day: _dt.date | None) -> bytes:
    fonts.register_fonts()
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=(width, height), invariant=1)
    pen = Pen(c)
    # Diagonal text, repeated so that no part of the page can be cut off without it.
    size = max(14.0, min(width, height) / 14)
    c.saveState()
    c.translate(width / 2, height / 2)
    c.rotate(35)
    step = size * 4.2
    span = (width ** 2 + height ** 2) ** 0.5 / 2
    y = -span
    while y <= span:
        pen.draw(0, y, text, size, align="center", color=DIAGONAL_RED)
        y += step
    c.restoreState()
    # Framed stamp, lower right.
    s = max(8.0, min(width, height) / 50)
    lines = [text] + ([f"核对人：{checker}"] if checker else []) + ([cn_date(day)] if day else [])
    box_w = max(pen.width(t, s) for t in lines) + 2 * s
    box_h = len(lines) * s * 1.5 + s
    x0 = width - box_w - s * 2
    y0 = s * 4.5  # above the documents' footer line
    c.saveState()
    c.setStrokeColor(STAMP_RED)
    c.setLineWidth(max(0.8, s / 8))
    c.rect(x0, y0, box_w, box_h, stroke=1, fill=0)
    c.restoreState()
    ty = y0 + box_h - s * 1.45
    for t in lines:
        pen.draw(x0 + box_w / 2, ty, t, s, align="center", color=STAMP_RED, bold=(t == text))
        ty -= s * 1.5
    c.showPage()
    c.save()
    return buf.getvalue()


def watermark_pdf(pdf_bytes: bytes, text: str = DEFAULT_TEXT, *, checker: str = "",
                  day: _dt.date | None = None) -> bytes:
    """Stamp every page of ``pdf_bytes`` with ``text`` (and the checking clerk and date, if
    given); returns the new PDF. Raises :class:`PrintingError` for data that is not a readable
    PDF (e.g. a damaged or password-protected file)."""
    from pypdf import PdfReader, PdfWriter, Transformation
    from pypdf.errors import PdfReadError

    if not text or not text.strip():
        raise PrintingError("水印文字不能为空。")
    try:
        reader = PdfReader(io.BytesIO(pdf_bytes))
        if reader.is_encrypted:
            raise PrintingError("扫描件PDF设有密码，无法加盖水印，请重新扫描保存为普通PDF。")
        if len(reader.pages) == 0:
            raise PrintingError("扫描件PDF没有页面，请重新扫描。")
        writer = PdfWriter(clone_from=reader)
    except PrintingError:
        raise
    except (PdfReadError, ValueError, TypeError, KeyError, OSError):
        raise PrintingError("扫描件不是有效的PDF文件，无法加盖水印，请重新扫描。") from None
    stamps: dict[tuple[float, float], object] = {}
    for page in writer.pages:
        if page.rotation:
            page.transfer_rotation_to_content()  # so "up" on the stamp is "up" as displayed
        box = page.mediabox
        w, h = float(box.width), float(box.height)
        key = (round(w, 2), round(h, 2))
        if key not in stamps:
            stamps[key] = PdfReader(io.BytesIO(_stamp_page(w, h, text, checker, day))).pages[0]
        page.merge_transformed_page(stamps[key], Transformation().translate(float(box.left), float(box.bottom)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
