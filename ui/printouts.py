"""Documents the shell prints (reprints from the case detail, the daily report) and the printer
chosen for each document type.

Rendering is the printing package's (PDF bytes from data); this module only picks the document,
feeds it the case JSON, and sends the PDF to the printer configured for that document type.
The choice "which printer prints which document" is :mod:`counter_app.printers`' (one owner);
the spooler is told the printer and remembers nothing.

Thread contract: every function here blocks (database, rendering, spooling): call them through
``ctx.tasks.io`` (rendering/printing) or ``ctx.tasks.db`` (printer settings).
"""
from __future__ import annotations

import importlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from counter_app.clock import beijing_now
from counter_app.config import DocumentDetails
# The document types and the printer chosen for each have one owner: counter_app.printers.
from counter_app.printers import DEFAULT_PRINTER, DOC_TYPES, printer_for, printer_map, save_printer_map  # noqa: F401
from printing import spool
from ui.errors import UserFacingError

log = logging.getLogger(__name__)


class PrintoutError(UserFacingError):
    """A document that cannot be produced or printed; ``message`` says what to do."""


@dataclass(frozen=True)
class Reprint:
    doc_type: str
    label: str
    module: str
    function: str
    needs_item: int | None = None  # only for cases with this joint item

    def renderer(self) -> Callable:
        # Imported when first used: reportlab and the fonts cost a second at start-up.
        return getattr(importlib.import_module(self.module), self.function)


REPRINTS: tuple[Reprint, ...] = (
    Reprint("form", "联办申请表", "printing.form", "render_application_form"),
    Reprint("receipt", "受理回执", "printing.receipt", "render_receipt"),
    Reprint("settlement_letter", "落户介绍信", "printing.letters", "render_settlement_letter", needs_item=4),
    Reprint("reserve_reminder", "预备役登记提醒", "printing.letters", "render_reserve_reminder", needs_item=11),
)


# ---------------------------------------------------------------------- printers

def available_printers() -> list[str]:
    """Printer names the system knows. Raises the spooler's PrinterError (Chinese) when there is no
    print service."""
    return [p.name for p in spool.list_printers()]


# ---------------------------------------------------------------------- rendering

def render_reprint(window, case_id: str, doc_type: str) -> tuple[bytes, str]:
    """PDF bytes and a title for one reprint. The signed form is reprinted from the archived
    copy when there is one (the very bytes that were sealed), otherwise re-rendered."""
    spec = next((r for r in REPRINTS if r.doc_type == doc_type), None)
    if spec is None:
        raise PrintoutError(f"没有名为“{doc_type}”的单据。")
    record = window.cases.get(case_id)
    title = f"{spec.label}-{record.case_no}-v{record.version}"
    if doc_type == "form":
        for att in record.attachments:
            if att["role"] == "form_pdf" and window.files.exists(att["sha256"]):
                return window.files.get(att["sha256"]), title
    render = spec.renderer()
    case = window.cases.export(case_id)
    kwargs: dict[str, Any] = {}
    app = record.application
    # The window's own names and link, passed in: printing never reads the data directory.
    details = DocumentDetails.of(window.settings)
    if doc_type == "form":
        kwargs["photo_jpeg"] = window.files.get(app.photo) if app.photo else None
        kwargs["signature_png"] = window.files.get(app.signature) if app.signature else None
    elif doc_type == "receipt":
        kwargs["lookup_url"], kwargs["military_office"] = details.lookup_url, details.military_office
    elif doc_type == "settlement_letter":
        kwargs["issuer"] = details.county_va_name
    elif doc_type == "reserve_reminder":
        kwargs["office"], kwargs["office_address"] = details.military_office, details.military_office_address
    result = render(case, **kwargs)
    return result.pdf, title


# ---------------------------------------------------------------------- printing

def print_pdf(window, pdf: bytes, doc_type: str, title: str) -> str:
    """Send ``pdf`` to the printer chosen for ``doc_type``; returns a sentence for the clerk.

    Uses the printing package's spooler. In demo mode with no printer installed, the "printer"
    is a PDF file in the data directory (Qt's printer, pages rendered at 300 dpi with pdfium),
    so a newcomer sees what would come out.
    """
    printer = printer_for(window, doc_type)
    if not printer and window.settings.demo_mode and not _has_any_printer():
        return _qt_print(window, pdf, "", title)  # demo without printers: a PDF file
    job = spool.print_pdf(pdf, printer=printer or None, title=title)
    return f"已发送到打印机“{job.printer}”：{title}" if job.printer else f"已发送到打印机：{title}"


def _has_any_printer() -> bool:
    try:
        return bool(available_printers())
    except Exception:  # no print service at all (CUPS missing)
        return False


def _qt_print(window, pdf: bytes, printer_name: str, title: str) -> str:
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtPrintSupport import QPrinter, QPrinterInfo

    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setDocName(title)
    names = [p.printerName() for p in QPrinterInfo.availablePrinters()]
    to_file: Path | None = None
    if printer_name and printer_name in names:
        printer.setPrinterName(printer_name)
    elif printer_name:
        raise PrintoutError(f"找不到打印机“{printer_name}”。请检查打印机电源和连接，或请技术人员在“系统设置”中重新选择。")
    elif not names or not QPrinterInfo.defaultPrinter().printerName():
        if not window.settings.demo_mode:
            raise PrintoutError("本机没有可用的打印机。请连接打印机，或请技术人员在“系统设置”中选择打印机。")
        folder = window.home / "printouts"
        folder.mkdir(parents=True, exist_ok=True)
        to_file = folder / f"{_safe(title)}-{beijing_now():%H%M%S}.pdf"
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(to_file))

    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        painter = QPainter()
        if not painter.begin(printer):
            raise PrintoutError("打印机无法开始打印，请检查打印机是否缺纸或脱机。")
        try:
            for i in range(len(doc)):
                if i:
                    printer.newPage()
                page = doc[i]
                bitmap = page.render(scale=300 / 72).to_pil().convert("RGB")
                data = bitmap.tobytes()
                image = QImage(data, bitmap.width, bitmap.height, bitmap.width * 3, QImage.Format.Format_RGB888)
                target = QRectF(printer.pageLayout().paintRectPixels(printer.resolution()))
                target.moveTo(0, 0)
                scale = min(target.width() / image.width(), target.height() / image.height())
                painter.drawImage(QRectF(0, 0, image.width() * scale, image.height() * scale), image)
        finally:
            painter.end()
    finally:
        doc.close()
    if to_file is not None:
        return f"演示模式没有打印机，已生成PDF：{to_file}"
    return f"已发送到打印机：{title}"


def _safe(text: str) -> str:
    return re.sub(r"[\\/:*?\"<>|\s]+", "_", text)
