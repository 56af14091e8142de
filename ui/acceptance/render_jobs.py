"""Document jobs of the acceptance that run in the render process (no Qt, no database).

Scans become PDFs here, and the demo "scanner" rasterises the printed form here: image decoding,
scaling, JPEG encoding and PDF assembly are CPU work in C libraries that partly hold the GIL, so
they are kept out of the GUI process (see :mod:`ui.acceptance.render_pool`). Inputs and outputs are
bytes and paths; errors are :class:`ScanError` with a Chinese message saying what to do.

Thread contract: pure functions; call them through ``render_pool.render`` from a worker thread.
"""
from __future__ import annotations

import datetime as _dt
import io
from pathlib import Path

MAX_PDF_PAGES = 20
SCAN_LONG_SIDE = 2200    # px; an A4 page at ~190 dpi is plenty for a certificate copy


class ScanError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def images_to_pdf(images: list[bytes]) -> bytes:
    """Page images (JPEG/PNG bytes) as one PDF, one A4 page each, scaled to fit; JPEGs are embedded
    as they are."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    pw, ph = A4
    for data in images:
        reader = ImageReader(io.BytesIO(data))
        iw, ih = reader.getSize()
        k = min(pw / iw, ph / ih)
        w, h = iw * k, ih * k
        c.drawImage(reader, (pw - w) / 2, (ph - h) / 2, w, h)
        c.showPage()
    c.save()
    return buf.getvalue()


def page_count(pdf: bytes) -> int:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        return len(doc)
    finally:
        doc.close()


def _jpeg(image, quality: int = 82) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def scan_of(pdf: bytes, dpi: float = 120.0) -> tuple[bytes, int]:
    """What a scanner returns for the printed ``pdf``: grey page images at ``dpi``, as a PDF."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    images = []
    try:
        for i in range(len(doc)):
            page = doc[i]
            try:
                bitmap = page.render(scale=dpi / 72.0, grayscale=True)
                try:
                    images.append(_jpeg(bitmap.to_pil().convert("L"), 80))
                finally:
                    bitmap.close()
            finally:
                page.close()
    finally:
        doc.close()
    return images_to_pdf(images), len(images)


def scans_to_pdfs(paths: list[str], mark: bool, checker: str = "", day: _dt.date | None = None
                  ) -> list[tuple[bytes, str, bool]]:
    """Each file as a PDF ready to store — an image becomes a one-page A4 PDF, a PDF is kept —
    stamped "此件经与原件核对无误" with the checking clerk and date when ``mark``
    (``printing.watermark``). Returns ``(pdf, mime, stamped)`` per file."""
    import importlib.util

    from PIL import Image, UnidentifiedImageError

    can_stamp = importlib.util.find_spec("printing.watermark") is not None
    out: list[tuple[bytes, str, bool]] = []
    for raw in paths:
        path = Path(raw)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ScanError(f"无法读取文件“{path.name}”：{exc.strerror or exc}。请检查文件是否还在。") from None
        if path.suffix.lower() == ".pdf" or data[:5] == b"%PDF-":
            try:
                pages = page_count(data)
            except Exception:
                raise ScanError(f"“{path.name}”已损坏或不是PDF文件，请重新扫描后导入。") from None
            if pages > MAX_PDF_PAGES:
                raise ScanError(f"“{path.name}”有 {pages} 页，超过 {MAX_PDF_PAGES} 页，请只扫描该材料本身。")
            pdf = data
        else:
            try:
                img = Image.open(io.BytesIO(data))
                img.load()
            except (UnidentifiedImageError, OSError):
                raise ScanError(f"“{path.name}”不是可识别的图片或PDF文件，请重新扫描后导入（支持 JPG、PNG、PDF）。") from None
            img = img.convert("L" if img.mode in ("1", "L", "LA", "I;16") else "RGB")
            img.thumbnail((SCAN_LONG_SIDE, SCAN_LONG_SIDE))
            pdf = images_to_pdf([_jpeg(img)])
        stamped = False
        if mark and can_stamp:
            from printing.watermark import watermark_pdf

            try:
                pdf = watermark_pdf(pdf, checker=checker, day=day or _dt.date.today())
                stamped = True
            except Exception as exc:  # PrintingError: e.g. a password-protected PDF
                raise ScanError(f"“{path.name}”：{getattr(exc, 'message', '无法加盖水印')}") from None
        out.append((pdf, "application/pdf", stamped))
    return out
