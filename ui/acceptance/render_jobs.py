"""Document jobs of the acceptance that run in the render process (no Qt, no database).

Scans become PDFs here (through the one scan-to-PDF path, :mod:`devices.scanner.pdf`), stamped
when the clerk checked the original, and the demo "scanner" rasterises the printed form: image
decoding, scaling, JPEG encoding and PDF assembly are CPU work in C libraries that partly hold the
GIL, so they are kept out of the GUI process (see :mod:`ui.acceptance.render_pool`). Errors are
:class:`ScanError` with a Chinese message saying what to do.

Thread contract: pure functions; call them through ``render_pool.render`` from a worker thread.
"""
from __future__ import annotations

import datetime as _dt
from pathlib import Path

from devices.scanner.pdf import ScanError, file_to_pdf, images_to_pdf, page_count, scan_of

__all__ = ["ScanError", "images_to_pdf", "page_count", "scan_of", "scans_to_pdfs"]


def scans_to_pdfs(paths: list[str], mark: bool, checker: str = "", day: _dt.date | None = None
                  ) -> list[tuple[bytes, str, bool]]:
    """Each file as a PDF ready to store — an image becomes a one-page A4 PDF, a PDF is kept —
    stamped "此件经与原件核对无误" with the checking clerk and date when ``mark``
    (``printing.watermark``). Returns ``(pdf, mime, stamped)`` per file."""
    from printing.watermark import watermark_pdf

    out: list[tuple[bytes, str, bool]] = []
    for raw in paths:
        path = Path(raw)
        pdf = file_to_pdf(path)
        stamped = False
        if mark:
            try:
                pdf = watermark_pdf(pdf, checker=checker, day=day or _dt.date.today())
                stamped = True
            except Exception as exc:  # PrintingError: e.g. a password-protected PDF
                raise ScanError(f"“{path.name}”：{getattr(exc, 'message', '无法加盖水印')}") from None
        out.append((pdf, "application/pdf", stamped))
    return out
