"""Step 7 — print the signed form, the 落户介绍信 and the reminders; scan the signed form back.

The documents are rendered from the case JSON on ``ctx.tasks.io`` (``printing.letters``); which
ones apply follows the items (落户介绍信 with 户口登记, the 预备役登记 reminder with item 11). Each
has a preview with 打印 / 另存为PDF. The paper form the applicant signed is scanned and imported
(PDF or image; images become a PDF); in demo mode, a simulated scan rasterises the printed form
the way a scanner would, so a newcomer can finish without a scanner.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from counter_app.clock import beijing_now
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout

from counter_app.config import DocumentDetails
from ui.acceptance.session import images_to_pdf
from ui.acceptance.step import Step, page_layout, user_message
from ui.acceptance.style import set_role
from ui.print_preview import Document, DocumentPreview, page_count


class ScanImportError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def render_letters(case_json: dict, details: DocumentDetails) -> list[tuple[str, str, bytes | None, str]]:
    """``ctx.tasks.io``: the letters this case needs: ``(key, title, pdf or None, note)``; a letter
    that cannot be made says why in ``note``. ``details``: the window's office names."""
    from ui.acceptance.render_pool import render

    app = case_json.get("application", {})
    items = set(app.get("items", []))
    wanted = []
    if 4 in items or (app.get("veteran_affairs") or {}).get("settlement_letter"):
        wanted.append(("settlement_letter", "落户介绍信", "render_settlement_letter",
                       {"issuer": details.county_va_name}))
    if 11 in items:
        wanted.append(("reserve_reminder", "预备役登记提醒", "render_reserve_reminder",
                       {"office": details.military_office, "office_address": details.military_office_address}))
    out = []
    for key, title, fn, kwargs in wanted:
        try:
            result = render("printing.letters", fn, case_json, **kwargs)
        except Exception as exc:  # PrintingError: a field the letter needs is missing
            out.append((key, title, None, getattr(exc, "message", None) or f"无法生成：{type(exc).__name__}"))
            continue
        out.append((key, title, result.pdf, "；".join(result.warnings)))
    return out


def read_signed_scan(path: str) -> tuple[bytes, int]:
    """``ctx.tasks.io``: the scanned signed form as PDF bytes and its page count."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ScanImportError(f"无法读取“{p.name}”：{exc.strerror or exc}。") from None
    if data[:5] == b"%PDF-":
        try:
            return data, page_count(data)
        except Exception:
            raise ScanImportError(f"“{p.name}”已损坏，无法打开，请重新扫描。") from None
    from PySide6.QtGui import QImage

    if QImage.fromData(data).isNull():
        raise ScanImportError(f"“{p.name}”不是PDF或图片，请重新扫描（支持 PDF、JPG、PNG）。")
    return images_to_pdf([data]), 1


def simulate_scan(form_pdf: bytes) -> tuple[bytes, int]:
    """``ctx.tasks.io``, demo mode: the printed form as a scanner returns it (grey 120 dpi pages),
    made in the render process."""
    from ui.acceptance.render_pool import render

    return render("ui.acceptance.render_jobs", "scan_of", form_pdf, 120.0)


def store_scan(window: Any, pdf: bytes) -> str:
    """``ctx.tasks.db``: keep a scan in the encrypted file store; returns its SHA-256."""
    return window.cases.put_attachment(pdf, "application/pdf")


# what this step prints (the scans are the applicant's papers coming back, not printed)
PRINTED_HERE = ("form", "settlement_letter", "reserve_reminder")


def print_document(pdf: bytes, key: str, title: str, window: Any) -> tuple[str, str]:
    """``ctx.tasks.io``: one document to the printer chosen for its kind; ``(key, sentence)``."""
    from ui.print_preview import print_pdf

    return key, f"{title}：{print_pdf(pdf, None, title=title, doc_type=key, window=window)}"


class PrintStep(Step):
    key = "print"
    title = "打印"
    actions = (("F5", "打印全部文书", "print_all"), ("F6", "导入签字后的申请表扫描件", "import_scan_dialog"),
               ("F7", "演示：模拟扫描", "demo_scan"))

    def __init__(self, ctx, session, parent=None):
        super().__init__(ctx, session, parent)
        lay = page_layout(self, "第7步　打印与扫描",
                          "打印申请表交申请人签字，打印落户介绍信等文书；签字后的申请表扫描并导入（F6），落户介绍信盖章后扫描导入。"
                          "屏幕签名已写入电子申请表；纸质申请表仍须手写签字，因为它作为原件归档。")
        body = QHBoxLayout()
        lay.addLayout(body, 1)
        left = QVBoxLayout()
        left.addWidget(QLabel("文书（F5 全部打印；↑↓ 选择后可单独重印）："))
        self.docs = QListWidget()
        self.docs.setMaximumWidth(300)
        left.addWidget(self.docs, 1)
        self.scan_status = QLabel("签字扫描件：未导入")
        self.scan_status.setWordWrap(True)
        set_role(self.scan_status, "banner-warning")
        left.addWidget(self.scan_status)
        self.import_button = QPushButton("导入签字扫描件 (F6)")
        self.demo_button = QPushButton("演示：模拟扫描 (F7)")
        self.demo_button.setVisible(ctx.demo)
        left.addWidget(self.import_button)
        # 规程: the 落户介绍信 is stamped, scanned back and pushed with items 4 and 5.
        self.letter_button = QPushButton("导入盖章的落户介绍信扫描件")
        self.letter_button.clicked.connect(self.import_letter_dialog)
        left.addWidget(self.letter_button)
        left.addWidget(self.demo_button)
        body.addLayout(left, 1)
        self.preview = DocumentPreview(ctx)
        body.addWidget(self.preview, 3)
        self.documents: dict[str, Document] = {}
        self.docs.currentItemChanged.connect(self._selected)
        self.preview.printed.connect(self._printed)
        self.preview.notice.connect(lambda text, level: self.notify.emit(text, level))
        self.import_button.clicked.connect(self.import_scan_dialog)
        self.demo_button.clicked.connect(self.demo_scan)
        self._letters_for: str | None = None

    # ------------------------------------------------------------------ protocol
    def enter(self) -> None:
        s = self.session
        if s.form_pdf is not None:
            self.documents["form"] = Document("form", "联办申请表（已签名）", s.form_pdf,
                                              "纸质件作为原件归档：请申请人在打印件上签字后扫描导入")
        if s.signed_scan is not None:
            self.documents["signed_scan"] = Document("signed_scan", "签字扫描件", s.signed_scan)
        self._fill_list()
        if s.case_json is not None and self._letters_for != s.signed_digest:
            self._letters_for = s.signed_digest
            self.run_io(render_letters, s.case_json, DocumentDetails.of(self.ctx.window.settings), doing="生成文书", on_success=self._letters_ready)
        self._show_scan_status()
        self.docs.setFocus()

    def blockers(self) -> list[str]:
        if self.session.signed_scan is None:
            return ["请扫描申请人签字后的申请表并导入（F6）。" + ("演示模式可按 F7 模拟扫描。" if self.ctx.demo else "")]
        # The stamped 落户介绍信 may follow the case (办件详情 → 回传落户介绍信): it is not a blocker;
        # the scan status below says what waits for it.
        return []

    def focus_first(self) -> None:
        self.docs.setFocus()

    def set_read_only(self, read_only: bool) -> None:
        super().set_read_only(read_only)
        self.import_button.setEnabled(not read_only)
        self.letter_button.setEnabled(not read_only)
        self.demo_button.setEnabled(not read_only)

    # ------------------------------------------------------------------ documents
    def _letters_ready(self, letters: list[tuple[str, str, bytes | None, str]]) -> None:
        for key, title, pdf, note in letters:
            if pdf is None:
                self.notify.emit(f"{title}：{note}", "warning")
                self.documents.pop(key, None)
                continue
            self.documents[key] = Document(key, title, pdf, note)
        self._fill_list()

    def _fill_list(self) -> None:
        current = self.docs.currentItem().data(Qt.ItemDataRole.UserRole) if self.docs.currentItem() else None
        self.docs.blockSignals(True)
        self.docs.clear()
        order = ["form", "settlement_letter", "reserve_reminder", "signed_scan", "letter_scan"]
        for key in sorted(self.documents, key=order.index):
            doc = self.documents[key]
            mark = "✓ 已打印　" if key in self.session.printed else ""
            item = QListWidgetItem(f"{mark}{doc.title}")
            item.setData(Qt.ItemDataRole.UserRole, key)
            self.docs.addItem(item)
        self.docs.blockSignals(False)
        keys = [self.docs.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.docs.count())]
        if keys:
            self.docs.setCurrentRow(keys.index(current) if current in keys else 0)

    def _selected(self, item: QListWidgetItem | None, _previous: Any = None) -> None:
        if item is None:
            return
        doc = self.documents.get(item.data(Qt.ItemDataRole.UserRole))
        if doc is not None and doc is not self.preview.document:
            self.preview.set_document(doc)

    def _printed(self, key: str) -> None:
        self.session.printed.add(key)
        self._fill_list()

    def print_current(self) -> None:
        self.preview.print_document()

    def print_all(self) -> None:
        """F5: every document of this step not printed yet, in the list's order (the form for the
        applicant's paper signature, the letters). One selected document is printed again with
        the preview's own button (Ctrl+P)."""
        if self.read_only:
            return
        if self.busy:
            self.notify.emit("文书正在生成，请稍候再按 F5。", "info")
            return
        todo = [self.documents[k] for k in PRINTED_HERE if k in self.documents and k not in self.session.printed]
        if not todo:
            self.notify.emit("本步文书均已打印；需要重印的，请选中后按“打印 (Ctrl+P)”。", "info")
            return
        from ui.background import submit

        self.notify.emit("正在打印：" + "、".join(d.title for d in todo) + "……", "info")
        for doc in todo:
            submit(self.ctx.tasks.io, print_document, doc.pdf, doc.key, doc.title, self.ctx.window,
                   on_success=self._printed_one, on_failure=self._print_failed)

    def _printed_one(self, result: tuple[str, str]) -> None:
        key, message = result
        self._printed(key)
        self.notify.emit(message, "ok")

    def _print_failed(self, exc: BaseException) -> None:
        self.notify.emit(user_message(exc, "打印"), "error")

    # ------------------------------------------------------------------ the signed scan
    def import_scan_dialog(self) -> None:
        if self.read_only:
            return
        start = self.ctx.window.settings.scan_import_dir or str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "导入签字后的申请表扫描件", start, "扫描件 (*.pdf *.jpg *.jpeg *.png)")
        if path:
            self.import_scan(path)

    def import_scan(self, path: str) -> None:
        if self.read_only:
            return
        self.run_io(read_signed_scan, path, doing="导入扫描件", on_success=self._scan_ready)

    def demo_scan(self) -> None:
        if self.read_only or self.session.form_pdf is None:
            return
        self.notify.emit("正在模拟扫描签字后的申请表……", "info")
        self.run_io(simulate_scan, self.session.form_pdf, doing="模拟扫描", on_success=self._scan_ready)
        letter = self.documents.get("settlement_letter")
        if self.session.app.has_item(4) and letter is not None and not self.session.app.settlement_letter_scan:
            self.run_io(simulate_scan, letter.pdf, doing="模拟扫描落户介绍信", on_success=self._letter_ready)

    def import_letter_dialog(self) -> None:
        if self.read_only:
            return
        start = self.ctx.window.settings.scan_import_dir or str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "导入盖章的落户介绍信扫描件", start, "扫描件 (*.pdf *.jpg *.jpeg *.png)")
        if path:
            self.import_letter(path)

    def import_letter(self, path: str) -> None:
        if not self.read_only:
            self.run_io(read_signed_scan, path, doing="导入落户介绍信扫描件", on_success=self._letter_ready)

    def _letter_ready(self, result: tuple[bytes, int]) -> None:
        pdf, _pages = result

        def stored(digest: str) -> None:
            self.session.app.settlement_letter_scan = digest
            self.documents["letter_scan"] = Document("letter_scan", "落户介绍信（盖章扫描件）", pdf,
                                                     f"导入于 {beijing_now():%H:%M}")
            self._fill_list()
            self._show_scan_status()
            self.notify.emit("已导入盖章的落户介绍信扫描件。", "ok")
            self.changed.emit()
            if not self.read_only and not self.blockers():
                self.request_next_soon()   # the letter was the last thing missing: on to 提交
        self.run_db(store_scan, self.ctx.window, pdf, doing="保存落户介绍信扫描件", on_success=stored)

    def _scan_ready(self, result: tuple[bytes, int]) -> None:
        pdf, pages = result
        s = self.session
        if s.form_pages and pages < s.form_pages:
            self.notify.emit(f"扫描件只有 {pages} 页，申请表共 {s.form_pages} 页：请把每一页都扫描进来。", "error")
            return
        s.signed_scan, s.signed_scan_pages = pdf, pages
        self.documents["signed_scan"] = Document("signed_scan", "签字扫描件", pdf,
                                                 f"导入于 {beijing_now():%H:%M}")
        self._fill_list()
        self.docs.setCurrentRow(self.docs.count() - 1)
        self._show_scan_status()
        self.notify.emit(f"已导入签字扫描件（{pages} 页）。", "ok")
        self.changed.emit()
        if not self.read_only and not self.blockers():
            # the scan was this step's last task (the documents were printed before signing):
            # straight on to 提交, one F9 fewer
            self.request_next.emit()

    def _show_scan_status(self) -> None:
        s = self.session
        if s.signed_scan is None:
            self.scan_status.setText("签字扫描件：未导入")
            set_role(self.scan_status, "banner-warning")
        else:
            self.scan_status.setText(f"签字扫描件：已导入（{s.signed_scan_pages} 页）")
            set_role(self.scan_status, "banner-ok")
        if s.app.has_item(4):
            done = bool(s.app.settlement_letter_scan)
            self.scan_status.setText(self.scan_status.text() + "\n落户介绍信盖章扫描件：" + (
                "已导入" if done else "未导入（可提交后在办件详情中回传；回传前公安事项4、5待推送）"))
            if not done:
                set_role(self.scan_status, "banner-warning")

