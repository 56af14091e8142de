"""The "此件经与原件核对无误" watermark on scans of checked originals."""
from __future__ import annotations

import datetime as _dt
import io

import pytest
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfgen.canvas import Canvas

from printing.result import PrintingError
from printing.watermark import DEFAULT_TEXT, watermark_pdf
from tests.printing.conftest import page_count, render_rgb, stream_text


def _scan_pdf(photo_jpeg: bytes, rotate: int = 0) -> bytes:
    """A two-page 'scan': a photo page in A4 portrait and one in landscape (as a scanner makes)."""
    from reportlab.lib.utils import ImageReader

    buf = io.BytesIO()
    c = Canvas(buf)
    for size in (A4, landscape(A4)):
        c.setPageSize(size)
        c.drawImage(ImageReader(io.BytesIO(photo_jpeg)), 40, 40, size[0] - 80, size[1] - 80)
        c.showPage()
    c.save()
    if not rotate:
        return buf.getvalue()
    reader = PdfReader(io.BytesIO(buf.getvalue()))
    writer = PdfWriter()
    for p in reader.pages:
        p.rotate(rotate)
        writer.add_page(p)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_every_page_carries_the_text_and_the_stamp(photo_jpeg):
    stamped = watermark_pdf(_scan_pdf(photo_jpeg), checker="李晓燕", day=_dt.date(2026, 11, 27))
    assert page_count(stamped) == 2
    for i in range(2):
        text = stream_text(stamped, i)
        assert text.count(DEFAULT_TEXT) >= 3            # diagonal repeats + the framed stamp
        assert "核对人：李晓燕" in text and "2026年11月27日" in text
    img = render_rgb(stamped, 0, 50).astype(int)
    red = (img[:, :, 0] - img[:, :, 1] > 60) & (img[:, :, 0] - img[:, :, 2] > 60)
    assert red.sum() > 100


def test_original_content_is_kept(photo_jpeg):
    original = _scan_pdf(photo_jpeg)
    stamped = watermark_pdf(original)
    reader = PdfReader(io.BytesIO(stamped))
    assert any(x.get_object().get_data() == photo_jpeg
               for x in reader.pages[0]["/Resources"]["/XObject"].values() if x.get_object().get("/Filter"))


def test_rotated_pages_get_an_upright_stamp(photo_jpeg):
    stamped = watermark_pdf(_scan_pdf(photo_jpeg, rotate=90))
    reader = PdfReader(io.BytesIO(stamped))
    assert all(p.rotation == 0 for p in reader.pages)
    assert DEFAULT_TEXT in stream_text(stamped, 0)


def test_not_a_pdf_is_a_clear_error():
    with pytest.raises(PrintingError, match="不是有效的PDF"):
        watermark_pdf(b"\xff\xd8\xff this is a jpeg")
    with pytest.raises(PrintingError, match="不能为空"):
        watermark_pdf(b"%PDF-1.4", text=" ")
