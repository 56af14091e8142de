"""Machine-readable codes on the documents: Code 128 for the case number, QR for the lookup link.

The Code 128 symbol is computed by python-barcode (which picks code set C for the digit pairs,
so the 21-character case number stays short) and drawn as vector bars, so no raster library is
involved and the bars stay sharp at any printer resolution. The QR code comes from reportlab's
own widget. Both are decoded back in the tests with a real decoder (zxing-cpp).

Thread contract: pure functions drawing on the canvas they are given.
"""
from __future__ import annotations

from barcode import Code128
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing

QUIET_MODULES = 10  # Code 128 needs a quiet zone of at least 10 modules each side


def code128_modules(data: str) -> str:
    """The bar pattern ("1" = dark module) python-barcode computes for ``data``."""
    return Code128(data, writer=None).build()[0]


def code128_width(data: str, module: float) -> float:
    """Total width including both quiet zones."""
    return (len(code128_modules(data)) + 2 * QUIET_MODULES) * module


def draw_code128(canvas, data: str, x: float, y: float, *, module: float = 1.0, height: float = 28.0) -> float:
    """Draw the symbol with its lower-left corner (quiet zone included) at (x, y); returns its width."""
    pattern = code128_modules(data)
    canvas.saveState()
    canvas.setFillColorRGB(0, 0, 0)
    path = canvas.beginPath()
    bx = x + QUIET_MODULES * module
    i = 0
    n = len(pattern)
    while i < n:  # one rectangle per bar (a run of dark modules)
        if pattern[i] == "1":
            j = i
            while j < n and pattern[j] == "1":
                j += 1
            path.rect(bx + i * module, y, (j - i) * module, height)
            i = j
        else:
            i += 1
    canvas.drawPath(path, stroke=0, fill=1)
    canvas.restoreState()
    return (n + 2 * QUIET_MODULES) * module


def draw_qr(canvas, data: str, x: float, y: float, size: float) -> None:
    """Draw a QR code (error correction M, quiet zone included) in a ``size`` square at (x, y)."""
    widget = QrCodeWidget(data, barLevel="M")
    bx0, by0, bx1, by1 = widget.getBounds()
    w, h = bx1 - bx0, by1 - by0
    drawing = Drawing(size, size, transform=[size / w, 0, 0, size / h, 0, 0])
    # The renderer sets its initial font even for a drawing without text: name the bundled one,
    # or reportlab's default Times-Roman lands in the page unembedded (not PDF/A).
    drawing.initialFontName = canvas._fontname
    drawing.add(widget)
    renderPDF.draw(drawing, canvas, x, y)
