"""The one scan-to-PDF path: page images become an A4 PDF, files a clerk imports become PDFs.

Used by the acceptance screens (through the render process, ``ui.acceptance.render_jobs``) and by
``counter-app scan``. Inputs and outputs are bytes and paths; errors are :class:`ScanError` with a
Chinese message saying what to do.

Thread contract: pure functions; safe on any thread (pypdfium2 calls are not concurrent here:
callers run them in one render process or one CLI thread).
"""
from __future__ import annotations

import contextlib
import hashlib
import io
from pathlib import Path

MAX_PDF_PAGES = 20
SCAN_LONG_SIDE = 2200    # px; an A4 page at ~190 dpi is plenty for a certificate copy


class ScanError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def images_to_pdf(images: list[bytes], title: str = "") -> bytes:
    """Page images (JPEG/PNG bytes) as one PDF, one A4 page each, scaled to fit and centred.

    A JPEG is embedded as it is (``/DCTDecode``, never decoded or recompressed: a scan stays the
    size it was checked at); other formats are decoded and stored losslessly.
    """
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase.pdfutils import readJPEGInfo
    from reportlab.pdfgen import canvas

    if not images:
        raise ScanError("没有可生成 PDF 的页面")
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    if title:
        c.setTitle(title)
    pw, ph = A4
    for data in images:
        if data[:2] == b"\xff\xd8":
            try:
                iw, ih = readJPEGInfo(io.BytesIO(data))[:2]
            except Exception:
                raise ScanError("页面图像损坏：无法读取 JPEG 尺寸，请重新扫描") from None
            image = _Jpeg(data)
        else:
            image = ImageReader(io.BytesIO(data))
            iw, ih = image.getSize()
        k = min(pw / iw, ph / ih)
        w, h = iw * k, ih * k
        with _binary_image_streams():
            c.drawImage(image, (pw - w) / 2, (ph - h) / 2, w, h)
        c.showPage()
    c.save()
    return buf.getvalue()


@contextlib.contextmanager
def _binary_image_streams():
    """reportlab wraps image data in ASCII85 by default (a quarter larger: a 1 MB scan would no
    longer fit the platform's 1 MB upload limit as a PDF); it reads the switch when the image
    object is made, so it is off only while one is made. Callers run one document at a time
    (the render process, the CLI)."""
    from reportlab import rl_config

    saved = rl_config.useA85
    rl_config.useA85 = 0
    try:
        yield
    finally:
        rl_config.useA85 = saved


class _Jpeg:
    """A JPEG for ``Canvas.drawImage`` that reportlab embeds from its bytes: named by its hash
    (reportlab's image cache key) and handed over through ``jpeg_fh``, so reportlab neither
    decodes the picture to hash its pixels nor re-reads it (an ``ImageReader`` does both:
    ~0.2 s a page for a 12 MP scan)."""

    def __init__(self, data: bytes):
        self.data = data
        self.digest = hashlib.sha256(data).hexdigest()

    def __str__(self) -> str:
        return f"jpeg:{self.digest}"

    def jpeg_fh(self) -> io.BytesIO:
        return io.BytesIO(self.data)


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


def file_to_pdf(path: Path) -> bytes:
    """One imported file as a PDF: an image becomes a one-page A4 PDF (scaled down to
    ``SCAN_LONG_SIDE``), a PDF is kept as it is (up to ``MAX_PDF_PAGES`` pages)."""
    from PIL import Image, UnidentifiedImageError

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
        return data
    try:
        img = Image.open(io.BytesIO(data))
        img.load()
    except (UnidentifiedImageError, OSError):
        raise ScanError(f"“{path.name}”不是可识别的图片或PDF文件，请重新扫描后导入（支持 JPG、PNG、PDF）。") from None
    img = img.convert("L" if img.mode in ("1", "L", "LA", "I;16") else "RGB")
    img.thumbnail((SCAN_LONG_SIDE, SCAN_LONG_SIDE))
    return images_to_pdf([_jpeg(img)])
