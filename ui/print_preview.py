"""Showing and printing the PDFs the window produces (form, 落户介绍信, reminders, receipt).

* :func:`render_pdf_pages` rasterises PDF pages with pypdfium2 into ``QImage`` objects. It runs
  on a worker (``ctx.tasks.io``): PDFium is not thread-safe, so calls are serialised with a lock,
  and ``QImage`` (unlike ``QPixmap``) may be built off the GUI thread.
* :class:`DocumentPreview` is the page view with 打印 / 另存为PDF; page rendering and the print
  job both run on ``ctx.tasks.io`` and report back through the runner's callbacks.
* Printing goes to ``printing.spool`` (the system spooler, which takes the PDF as it is);
  :func:`print_pdf_with_qprinter` paints pages rendered at a ``QPrinter``'s resolution (print to
  file) — Qt allows painting on a ``QPrinter`` from a worker thread.
* A printer that cannot take the job ("no printer", "offline", "out of paper") is a
  :class:`PreviewError` in plain Chinese with what to do next; the clerk never sees a traceback.

Thread contract: ``render_pdf_pages`` and ``print_pdf_with_qprinter`` may run on
any thread; ``DocumentPreview`` is a widget (GUI thread).
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QImage, QKeySequence, QPainter, QPixmap
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import (
    QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QScrollArea, QSizePolicy, QVBoxLayout, QWidget,
)

from counter_app.printers import DOC_TYPES
from ui.acceptance.style import set_role
from ui.shortcuts import shortcut

log = logging.getLogger(__name__)

_pdfium_lock = threading.Lock()
PREVIEW_DPI = 110.0   # sharp at 100 % on a 1366×768 screen, cheap to render
PRINT_DPI_MAX = 300.0


class PreviewError(Exception):
    """A document cannot be shown or printed; ``message`` is Chinese and says what to do."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def render_pdf_pages(pdf: bytes, *, dpi: float = PREVIEW_DPI, max_pages: int | None = None,
                     width_px: int | None = None) -> list[QImage]:
    """Rasterise the pages of ``pdf`` (opaque white background). Call from a worker thread.

    ``width_px`` renders each page exactly that wide (instead of at ``dpi``), so the GUI thread
    shows the image as it is and never has to rescale it.
    """
    import pypdfium2 as pdfium

    if not pdf:
        raise PreviewError("文档内容为空，无法预览，请重新生成。")
    images: list[QImage] = []
    with _pdfium_lock:
        try:
            doc = pdfium.PdfDocument(pdf)
        except pdfium.PdfiumError:
            raise PreviewError("文档已损坏或不是PDF文件，无法预览，请重新生成或重新扫描。") from None
        try:
            count = len(doc) if max_pages is None else min(len(doc), max_pages)
            for i in range(count):
                page = doc[i]
                try:
                    scale = width_px / page.get_width() if width_px else dpi / 72.0
                    bitmap = page.render(scale=scale, prefer_bgrx=True)
                    try:
                        arr = bitmap.to_numpy()
                        h, w = arr.shape[:2]
                        # BGRx in memory is QImage's RGB32 on little-endian machines; copy()
                        # detaches the image from PDFium's buffer before it is freed.
                        img = QImage(arr.data, w, h, arr.strides[0], QImage.Format.Format_RGB32).copy()
                    finally:
                        bitmap.close()
                finally:
                    page.close()
                images.append(img)
        finally:
            doc.close()
    return images


def page_count(pdf: bytes) -> int:
    import pypdfium2 as pdfium

    with _pdfium_lock:
        doc = pdfium.PdfDocument(pdf)
        try:
            return len(doc)
        finally:
            doc.close()


# ------------------------------------------------------------------------------------ printers

def available_printers() -> tuple[list[str], str, str]:
    """``(names, default name, problem)``: the system's printers as the spooler sees them.

    Blocks (IPP to CUPS / PowerShell): call on ``ctx.tasks.io``. ``problem`` is a Chinese sentence
    when the print service itself cannot be asked, else "".
    """
    from printing import spool

    try:
        printers = spool.list_printers()
    except Exception as exc:  # PrinterError: the print service is missing or stopped
        return [], "", getattr(exc, "message", "") or "无法查询打印机，请联系技术人员检查打印服务。"
    default = next((p.name for p in printers if p.is_default), "")
    return [p.name for p in printers], default, ""


def print_pdf_with_qprinter(pdf: bytes, printer: QPrinter, *, title: str = "") -> int:
    """Paint every page of ``pdf`` on ``printer``; returns the number of pages printed.

    Runs on a worker thread (Qt permits QPainter on a QPrinter there). Each page is scaled to
    fit the printable area, keeping its aspect ratio.
    """
    printer.setDocName(title or "退役军人服务一件事")
    dpi = min(PRINT_DPI_MAX, float(printer.resolution() or 300))
    pages = render_pdf_pages(pdf, dpi=dpi)
    painter = QPainter()
    if not painter.begin(printer):
        raise PreviewError("无法开始打印：打印机可能已脱机或被占用，请检查打印机后重试。")
    try:
        for i, img in enumerate(pages):
            if i:
                printer.newPage()
            area = printer.pageLayout().paintRectPixels(printer.resolution())
            target = QRectF(0, 0, area.width(), area.height())
            k = min(target.width() / img.width(), target.height() / img.height())
            w, h = img.width() * k, img.height() * k
            painter.drawImage(QRectF((target.width() - w) / 2, (target.height() - h) / 2, w, h), img)
    finally:
        painter.end()
    return len(pages)


def print_pdf(pdf: bytes, printer_name: str | None, *, title: str = "", doc_type: str | None = None,
              window=None) -> str:
    """Send ``pdf`` to ``printer_name``; with None, to the printer configured for ``doc_type``
    (the shell's ``ui.printouts``) or the system default. Worker thread. Returns a Chinese
    confirmation; raises :class:`PreviewError` saying what to do when the printer cannot take it
    (no printer, offline, paused, out of paper…)."""
    from printing import spool
    from ui.printouts import print_pdf as shell_print

    try:
        if not printer_name and window is not None and doc_type in DOC_TYPES:
            return shell_print(window, pdf, doc_type, title)
        job = spool.print_pdf(pdf, printer=printer_name or None, title=title)
        return f"已发送到打印机“{job.printer or printer_name or '默认打印机'}”（作业 {job}）"
    except PreviewError:
        raise
    except Exception as exc:  # PrinterError / PrintoutError carry a Chinese message
        message = getattr(exc, "message", None)
        if not message:
            log.warning("printing failed: %s", type(exc).__name__)
            message = "打印失败：请检查打印机电源、纸张和数据线后重试，或先“另存为PDF”。"
        raise PreviewError(message) from None


# ------------------------------------------------------------------------------------ widget

@dataclass
class Document:
    """One printable document of the acceptance: its title, PDF and a note for the clerk."""

    key: str
    title: str
    pdf: bytes
    note: str = ""


class DocumentPreview(QWidget):
    """Pages of one PDF with 打印 (Ctrl+P) and 另存为PDF (Ctrl+Shift+S).

    ``ctx`` gives ``ctx.tasks.io`` for rendering and printing. Signals: ``printed(str key)`` after a
    successful print, ``notice(str message, str level)`` for the screen's message line
    (level: ok / warning / error), ``rendered(int pages)`` once the pages are on screen.
    """

    printed = Signal(str)
    notice = Signal(str, str)
    rendered = Signal(int)

    def __init__(self, ctx: Any, parent: QWidget | None = None, *, show_buttons: bool = True):
        super().__init__(parent)
        self.ctx = ctx
        self.document: Document | None = None
        self._generation = 0
        self.pages: list[QImage] = []
        self.zoom = 0.62    # of the rendered size; an A4 page fits the 1366×768 content height
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        self.title_label = QLabel("")
        set_role(self.title_label, "title")
        bar.addWidget(self.title_label, 1)
        self.printer_box = QComboBox()
        self.printer_box.setMinimumWidth(200)
        self.printer_box.setAccessibleName("打印机")
        self.print_button = QPushButton("打印 (Ctrl+P)")
        self.save_button = QPushButton("另存为PDF")
        for w in (self.printer_box, self.print_button, self.save_button):
            bar.addWidget(w)
            w.setVisible(show_buttons)
        lay.addLayout(bar)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.scroll.setStyleSheet("QScrollArea { background: #d9dde3; }")
        self.page_host = QWidget()
        self.page_host.setStyleSheet("background: #d9dde3;")
        self.page_layout = QVBoxLayout(self.page_host)
        self.page_layout.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.page_layout.setSpacing(12)
        self.scroll.setWidget(self.page_host)
        lay.addWidget(self.scroll, 1)
        self.status = QLabel("")
        set_role(self.status, "hint")
        lay.addWidget(self.status)
        self.print_button.clicked.connect(lambda: self.print_document())
        self.save_button.clicked.connect(lambda: self.save_as())
        if show_buttons:
            shortcut(QKeySequence(QKeySequence.StandardKey.Print), self, self.print_document,
                     Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut(QKeySequence("Ctrl+Shift+S"), self, lambda: self.save_as(),
                     Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self._printers_loaded = False

    # ---------------------------------------------------------------- content
    def set_document(self, doc: Document | None) -> None:
        self.document = doc
        self._generation += 1
        generation = self._generation
        self._clear_pages()
        if doc is None:
            self.title_label.setText("")
            self.status.setText("")
            return
        self.title_label.setText(doc.title)
        self.status.setText("正在生成预览……")
        # rendered at the size shown (device pixels), so painting needs no rescaling
        dpr = self.devicePixelRatioF() or 1.0
        self.ctx.tasks.io.run(render_pdf_pages, doc.pdf, dpi=PREVIEW_DPI * self.zoom * dpr,
                              on_success=lambda pages: self._show_pages(generation, pages),
                              on_failure=lambda exc: self._failed(generation, exc))
        if not self._printers_loaded and self.print_button.isVisible():
            self._printers_loaded = True
            self.ctx.tasks.io.run(available_printers, on_success=self._fill_printers,
                                  on_failure=lambda exc: None)

    def _clear_pages(self) -> None:
        while self.page_layout.count():
            item = self.page_layout.takeAt(0)
            if item.widget() is not None:
                item.widget().hide()   # gone from view now, not at the next loop turn
                item.widget().deleteLater()
        self.pages = []

    def _show_pages(self, generation: int, pages: list[QImage]) -> None:
        if generation != self._generation:
            return  # a newer document replaced this one while it rendered
        self._clear_pages()
        self.pages = pages
        dpr = self.devicePixelRatioF() or 1.0
        for i, img in enumerate(pages):
            label = QLabel()
            pix = QPixmap.fromImage(img)
            pix.setDevicePixelRatio(dpr)
            label.setPixmap(pix)
            label.setStyleSheet("background: white; border: 1px solid #b9c0ca;")
            label.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
            label.setAccessibleName(f"第{i + 1}页")
            self.page_layout.addWidget(label)
        note = self.document.note if self.document else ""
        self.status.setText(f"共 {len(pages)} 页" + (f"　{note}" if note else ""))
        self.rendered.emit(len(pages))

    def _failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        message = getattr(exc, "message", None) or "预览生成失败，请重新生成文档。"
        self.status.setText(message)
        self.notice.emit(message, "error")

    def _fill_printers(self, result: tuple[list[str], str, str]) -> None:
        names, default, problem = result
        self.printer_box.clear()
        self.printer_box.addItem("默认打印机", "")
        for name in names:
            self.printer_box.addItem(name + ("（默认）" if name == default else ""), name)
        if problem and not self.pages:
            self.status.setText(problem)

    # ---------------------------------------------------------------- actions
    def print_document(self) -> None:
        doc = self.document
        if doc is None:
            return
        name = self.printer_box.currentData() or None
        self.print_button.setEnabled(False)
        self.status.setText("正在打印……")

        def done(message: str) -> None:
            self.print_button.setEnabled(True)
            self.status.setText(message)
            self.notice.emit(f"{doc.title}：{message}", "ok")
            self.printed.emit(doc.key)

        def failed(exc: BaseException) -> None:
            self.print_button.setEnabled(True)
            message = getattr(exc, "message", None) or "打印失败：请检查打印机后重试，或先“另存为PDF”。"
            self.status.setText(message)
            self.notice.emit(message, "error")

        self.ctx.tasks.io.run(print_pdf, doc.pdf, name, title=doc.title, doc_type=doc.key,
                              window=self.ctx.window, on_success=done, on_failure=failed)

    def save_as(self, path: str | Path | None = None) -> None:
        doc = self.document
        if doc is None:
            return
        if not path:
            path, _ = QFileDialog.getSaveFileName(self, "另存为PDF", f"{doc.title}.pdf", "PDF 文件 (*.pdf)")
            if not path:
                return
        target = Path(path)

        def write() -> str:
            try:
                target.write_bytes(doc.pdf)
            except OSError as exc:
                raise PreviewError(f"无法保存到 {target}：{exc.strerror or exc}，请换一个文件夹。") from None
            return str(target)

        self.ctx.tasks.io.run(write, on_success=lambda p: self.notice.emit(f"已保存：{p}", "ok"),
                              on_failure=lambda exc: self.notice.emit(getattr(exc, "message", str(exc)), "error"))

