"""Fixtures for the printing tests: the sample case, a real photo, a signature, and PDF readers.

Every helper reads the real PDF bytes with an independent library: pdfplumber for text (in
content-stream order, so a label wrapped inside its cell still reads as one string), pypdf
for fonts and images, pypdfium2 to rasterise pages, zxing-cpp to decode barcodes.
"""
from __future__ import annotations

import copy
import io
import json
import subprocess
from pathlib import Path

import numpy as np
import pdfplumber
import pypdfium2 as pdfium
import pytest

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample_case.json"


@pytest.fixture(autouse=True)
def _printing_home(tmp_path, monkeypatch):
    monkeypatch.setenv("COUNTER_APP_HOME", str(tmp_path / "printing-home"))
    monkeypatch.delenv("COUNTER_APP_SUMATRA", raising=False)


@pytest.fixture
def case() -> dict:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def photo_jpeg() -> bytes:
    """A real photograph (scikit-image's astronaut), cut to the 358×441 format."""
    from PIL import Image
    from skimage import data

    img = Image.fromarray(data.astronaut()).crop((100, 0, 100 + 358, 441))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


@pytest.fixture(scope="session")
def signature_png() -> bytes:
    """A pen-pad style signature: dark strokes on a transparent background."""
    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (400, 120), (255, 255, 255, 0))
    d = ImageDraw.Draw(img)
    d.line([(20, 90), (80, 20), (120, 100), (170, 30), (230, 95), (300, 25), (380, 80)], fill=(10, 10, 60, 255), width=7)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def variant(case: dict, **changes) -> dict:
    """A copy of the case with dotted-path changes, e.g. ``{"application.applicant.name": "张三"}``."""
    out = copy.deepcopy(case)
    for path, value in changes.items():
        node = out
        keys = path.split("__")
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value
    return out


def plumber_text(pdf: bytes, page: int | None = None) -> str:
    """pdfplumber's characters in content-stream (drawing) order, whitespace removed: a label
    wrapped inside its table cell still reads as one string."""
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        pages = doc.pages if page is None else [doc.pages[page]]
        return "".join(c["text"] for p in pages for c in p.chars if not c["text"].isspace())


def page_texts(pdf: bytes) -> list[str]:
    """Each page's text as pdfium extracts it (also in drawing order), whitespace removed.
    Much faster than pdfplumber; used where many pages are read."""
    doc = pdfium.PdfDocument(pdf)
    out = []
    for page in doc:
        text = page.get_textpage().get_text_range()
        out.append("".join(ch for ch in text if not ch.isspace()))
    return out


def stream_text(pdf: bytes, page: int | None = None) -> str:
    texts = page_texts(pdf)
    return "".join(texts) if page is None else texts[page]


def page_chars(pdf: bytes, page: int) -> tuple[list[dict], float, float]:
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        p = doc.pages[page]
        return list(p.chars), float(p.width), float(p.height)


def page_count(pdf: bytes) -> int:
    return len(pdfium.PdfDocument(pdf))


def render_gray(pdf: bytes, page: int, dpi: float = 100) -> np.ndarray:
    """The page as a grayscale image (0 = black), rendered by pdfium."""
    doc = pdfium.PdfDocument(pdf)
    bitmap = doc[page].render(scale=dpi / 72, grayscale=True)
    arr = bitmap.to_numpy()
    return arr[:, :, 0].copy() if arr.ndim == 3 else arr.copy()


def render_rgb(pdf: bytes, page: int, dpi: float = 100) -> np.ndarray:
    doc = pdfium.PdfDocument(pdf)
    return doc[page].render(scale=dpi / 72).to_numpy()[:, :, :3][:, :, ::-1].copy()  # BGR → RGB


def decode_codes(pdf: bytes, page: int, dpi: float = 200) -> list:
    import zxingcpp

    return list(zxingcpp.read_barcodes(render_gray(pdf, page, dpi)))


@pytest.fixture(scope="session")
def cups_server():
    """A private cupsd with three cups-pdf queues: the default one, a disabled one and one that
    rejects jobs (see ``tests/cups_server.py``)."""
    from tests.cups_server import CupsServer

    server = CupsServer().start()
    try:
        server.add_pdf_queue("Counter_PDF", default=True)
        server.add_pdf_queue("Counter_Disabled")
        server.disable("Counter_Disabled", "toner cartridge being replaced")
        server.add_pdf_queue("Counter_Rejecting")
        subprocess.run(["cupsreject", "-r", "queue closed", "Counter_Rejecting"], env=server.env(), check=True,
                       capture_output=True, timeout=30)
        yield server
    finally:
        server.stop()


@pytest.fixture
def cups(cups_server, monkeypatch):
    """The private cupsd as this test's print service (``CUPS_SERVER`` = its socket)."""
    monkeypatch.setenv("CUPS_SERVER", str(cups_server.socket))
    return cups_server
