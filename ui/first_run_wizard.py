"""The first-run wizard: what IT (or the clerk with IT on the phone) fills in once per window.

Pages: service center and window number → platform address and credential → reader and cameras
→ printers per document type → confirmation → (a window without one) the recovery key, shown once
(``ui.recovery_key_page``): the wizard finishes only after IT confirms it was written down or printed. The values are assembled into the same nested dict
as a ``site.toml`` and written through :func:`counter_app.site_config.parse_site` and
:func:`~counter_app.site_config.apply_site_config` — exactly what ``counter-app configure --from``
does, so the two can never drift apart. Every page checks its own fields with the same rules and
shows the problems under the fields in Chinese; "下一步" stays on the page until they are fixed.

The start-up code shows it when :func:`counter_app.site_config.needs_first_run` says so.

Thread contract: GUI thread only. Finishing writes config.toml, one key-store entry and one small
transaction (well under a second; the wizard is modal), so it runs inline. Device and printer lists
are looked up once when the wizard is built, or passed in (tests pass them in).
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox, QFormLayout, QLabel, QLineEdit, QSpinBox, QVBoxLayout, QWidget, QWizard, QWizardPage,
)

from counter_app.site_config import (
    PRINTER_DOC_TYPES, AppliedConfig, SiteConfigError, apply_site_config, current_site, parse_site,
    platform_credential,
)

log = logging.getLogger(__name__)

AUTO_PORT = "自动查找"
DEFAULT_PRINTER = "系统默认打印机"


def detected_serial_ports() -> list[str]:
    try:
        from devices.idcard.discovery import candidate_ports

        return candidate_ports()
    except Exception:  # no pyserial, no permission: the field stays editable
        return []


def detected_printers() -> list[str]:
    try:
        from PySide6.QtPrintSupport import QPrinterInfo

        return list(QPrinterInfo.availablePrinterNames())
    except Exception:
        return []


class _Page(QWizardPage):
    """A page with a form and an error label; ``sections`` are the site-file sections it owns."""

    sections: tuple[str, ...] = ()

    def __init__(self, title: str, subtitle: str = ""):
        super().__init__()
        self.setTitle(title)
        if subtitle:
            self.setSubTitle(subtitle)
        outer = QVBoxLayout(self)
        self.form = QFormLayout()
        outer.addLayout(self.form)
        self.errors = QLabel()
        self.errors.setObjectName("wizardErrors")
        self.errors.setWordWrap(True)
        self.errors.setStyleSheet("color: #b00020;")
        self.errors.hide()
        outer.addWidget(self.errors)
        outer.addStretch(1)

    def show_problems(self, problems: list[str]) -> None:
        self.errors.setText("\n".join(problems))
        self.errors.setVisible(bool(problems))

    def validatePage(self) -> bool:  # noqa: N802 - Qt override
        wizard = self.wizard()
        problems = wizard.problems_for(self.sections) if isinstance(wizard, FirstRunWizard) else []
        self.show_problems(problems)
        return not problems


class FirstRunWizard(QWizard):
    def __init__(self, home: Path, *, window=None, serial_ports: list[str] | None = None,
                 printers: list[str] | None = None, operator: str = "it_admin", parent: QWidget | None = None):
        super().__init__(parent)
        self.home = Path(home)
        self.window = window
        self.operator = operator
        self.applied: AppliedConfig | None = None
        self.setObjectName("firstRunWizard")
        self.setWindowTitle("窗口初次设置")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.setButtonText(QWizard.WizardButton.NextButton, "下一步")
        self.setButtonText(QWizard.WizardButton.BackButton, "上一步")
        self.setButtonText(QWizard.WizardButton.FinishButton, "完成")
        self.setButtonText(QWizard.WizardButton.CancelButton, "取消")
        current = current_site(self.home)
        self._credential_set = self._has_credential()

        # ---- center and window
        p = _Page("服务中心与窗口", "本窗口所属的退役军人服务中心和窗口号，用于生成办件编号。")
        p.sections = ("center", "window")
        self.center_code = QLineEdit(str(current["center"]["code"]))
        self.center_code.setMaxLength(6)
        self.center_code.setPlaceholderText("6位行政区划代码，如 410702")
        self.center_name = QLineEdit(str(current["center"]["name"]))
        self.window_no = QSpinBox()
        self.window_no.setRange(1, 99)
        self.window_no.setValue(int(current["window"]["number"] or 1))
        p.form.addRow("服务中心代码", self.center_code)
        p.form.addRow("服务中心名称", self.center_name)
        p.form.addRow("窗口号", self.window_no)
        self.center_page = self._add(p)

        # ---- platform
        p = _Page("省平台连接", "由省一体化政务服务平台为本窗口发放的接口地址和凭据。")
        p.sections = ("platform",)
        self.platform_url = QLineEdit(str(current["platform"]["url"]))
        self.credential = QLineEdit()
        self.credential.setEchoMode(QLineEdit.EchoMode.Password)
        self.credential.setPlaceholderText("已设置，留空则保持不变" if self._credential_set else "平台发放的窗口凭据")
        p.form.addRow("接口地址", self.platform_url)
        p.form.addRow("窗口凭据", self.credential)
        self.platform_page = self._add(p)

        # ---- devices
        p = _Page("设备", "身份证阅读器的串口和摄像头编号；不确定时保持“自动查找”。")
        p.sections = ("reader", "cameras")
        self.reader_port = QComboBox()
        self.reader_port.setEditable(True)
        ports = detected_serial_ports() if serial_ports is None else serial_ports
        self.reader_port.addItems([AUTO_PORT, *ports])
        configured_port = str(current["reader"]["port"] or "")
        self.reader_port.setCurrentText(configured_port or AUTO_PORT)
        self.photo_camera = QSpinBox()
        self.photo_camera.setRange(0, 9)
        self.photo_camera.setValue(int(current["cameras"]["photo"]))
        self.document_camera = QSpinBox()
        self.document_camera.setRange(0, 9)
        self.document_camera.setValue(int(current["cameras"]["document"]))
        p.form.addRow("身份证阅读器串口", self.reader_port)
        p.form.addRow("照相机编号", self.photo_camera)
        p.form.addRow("高拍仪编号", self.document_camera)
        self.devices_page = self._add(p)

        # ---- printers
        p = _Page("打印机", "每种单据用哪台打印机；“系统默认打印机”即操作系统中设为默认的那台。")
        p.sections = ("printers",)
        names = detected_printers() if printers is None else printers
        self.printer_boxes: dict[str, QComboBox] = {}
        for doc_type, label in PRINTER_DOC_TYPES.items():
            box = QComboBox()
            box.setEditable(True)
            box.addItems([DEFAULT_PRINTER, *names])
            box.setObjectName(f"printer_{doc_type}")
            self.printer_boxes[doc_type] = box
            p.form.addRow(label, box)
        self.printers_page = self._add(p)

        # ---- confirm
        p = _Page("确认", "请核对以下设置，点击“完成”保存。")
        self.summary = QLabel()
        self.summary.setObjectName("wizardSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        p.form.addRow(self.summary)
        self.confirm_page = self._add(p)

        # ---- the recovery key, once: only a window that has none gets this page
        self.needs_recovery_key = self._recovery_key_missing()
        self.recovery_page = None
        if self.needs_recovery_key:
            from ui.recovery_key_page import RecoveryKeyPage

            self.confirm_page.setCommitPage(True)  # saved before the key is issued; no way back
            self.setButtonText(QWizard.WizardButton.CommitButton, "保存设置")
            self.recovery_page = RecoveryKeyPage(self._issue_recovery_key)
            self.addPage(self.recovery_page)
        self.currentIdChanged.connect(self._on_page_changed)

    def _add(self, page: _Page) -> _Page:
        self.addPage(page)
        return page

    def _has_credential(self) -> bool:
        try:
            if self.window is not None:
                return platform_credential(self.window.keystore) is not None
            from counter_app.security.keystore import open_keystore
            from counter_app.services import keystore_namespace

            return platform_credential(open_keystore(self.home, keystore_namespace(self.home))) is not None
        except Exception:  # no usable key store yet: the credential field is simply required
            return False

    def _recovery_key_missing(self) -> bool:
        from counter_app.security import recovery
        from counter_app.security.keystore import KeyStoreError

        if self.window is not None:
            return recovery.current_record(self.window) is None
        try:
            recovery.read_record(self.home / "counter.sqlite3")
            return False
        except KeyStoreError:  # no database yet, or no key issued for it
            return True

    def _issue_recovery_key(self):  # noqa: ANN202 - recovery.RecoverySheet
        from counter_app.security import recovery

        if self.window is not None:
            return recovery.issue(self.window, operator=self.operator)
        from counter_app.services import open_window

        window = open_window(self.home)
        try:
            return recovery.issue(window, operator=self.operator)
        finally:
            window.close()

    # ---- values
    def site_values(self) -> dict[str, Any]:
        """The wizard's fields in site-file shape (what ``configure --from`` reads)."""
        port = self.reader_port.currentText().strip()
        values: dict[str, Any] = {
            "center": {"code": self.center_code.text().strip(), "name": self.center_name.text().strip()},
            "window": {"number": f"{self.window_no.value():02d}"},
            "platform": {"url": self.platform_url.text().strip()},
            "reader": {"port": "" if port == AUTO_PORT else port},
            "cameras": {"photo": self.photo_camera.value(), "document": self.document_camera.value()},
            "printers": {k: ("" if b.currentText().strip() == DEFAULT_PRINTER else b.currentText().strip())
                         for k, b in self.printer_boxes.items()},
        }
        if self.credential.text():
            values["platform"]["credential"] = self.credential.text()
        return values

    def problems_for(self, sections: tuple[str, ...]) -> list[str]:
        """Problems the shared validation finds in the given sections (all sections when empty)."""
        try:
            parse_site(self.site_values())
        except SiteConfigError as exc:
            if not sections:
                return exc.problems
            return [p for p in exc.problems if any(p.startswith(f"[{s}]") for s in sections)]
        if "platform" in sections and not self.credential.text() and not self._credential_set:
            return ["[platform] credential：请填写平台发放的窗口凭据。"]
        return []

    def _on_page_changed(self, page_id: int) -> None:
        if self.recovery_page is not None and self.page(page_id) is self.recovery_page:
            self.setOption(QWizard.WizardOption.NoCancelButton, True)  # no way out but confirming
        if self.page(page_id) is self.confirm_page:
            v = self.site_values()
            printers = "；".join(f"{PRINTER_DOC_TYPES[k]}：{p or DEFAULT_PRINTER}" for k, p in v["printers"].items())
            self.summary.setText(
                f"服务中心代码：{v['center']['code']}　{v['center']['name']}\n"
                f"窗口号：{v['window']['number']}\n"
                f"平台接口地址：{v['platform']['url']}\n"
                f"窗口凭据：{'将更新' if self.credential.text() else ('已设置' if self._credential_set else '未设置')}\n"
                f"身份证阅读器：{v['reader']['port'] or AUTO_PORT}\n"
                f"照相机 {v['cameras']['photo']}，高拍仪 {v['cameras']['document']}\n"
                f"打印机：{printers}")

    # ---- finishing
    def validateCurrentPage(self) -> bool:  # noqa: N802 - Qt override
        if not super().validateCurrentPage():
            return False
        if self.currentPage() is self.confirm_page and self.recovery_page is not None:
            return self._apply()  # the commit page: settings saved, then the recovery key
        return True

    def _apply(self) -> bool:
        if self.applied is not None:
            return True
        try:
            site = parse_site(self.site_values())
            self.applied = apply_site_config(self.home, site, operator=self.operator, window=self.window)
        except SiteConfigError as exc:
            self.confirm_page.show_problems(exc.problems)
            return False
        except Exception as exc:  # the keyring refusing, a read-only disk…: say so, keep the values
            log.exception("保存初次设置失败")
            message = getattr(exc, "message", None) or f"保存失败（{type(exc).__name__}），请联系技术人员。"
            self.confirm_page.show_problems([message])
            return False
        self.credential.clear()  # the secret does not linger in a widget
        return True

    def accept(self) -> None:  # noqa: D401 - Qt override
        if not self._apply():
            return
        if self.recovery_page is not None and not self.recovery_page.confirmed:
            if self.currentPage() is not self.recovery_page:
                self.next()  # the recovery key is shown before the wizard can finish
            return
        if self.recovery_page is not None:
            self.recovery_page.forget()
        super().accept()

    def reject(self) -> None:  # noqa: D401 - Qt override (Cancel, Esc, the close box)
        if self.recovery_page is not None and self.applied is not None and not self.recovery_page.confirmed:
            # Settings are saved and the key was issued: leaving now would lose the only copy.
            self.recovery_page.message.setText("请先打印或抄写恢复密钥，并勾选下方确认后再完成。")
            return
        super().reject()
