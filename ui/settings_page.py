"""The IT page: the window's settings, the platform credential, printers per document, the
holiday table import, the device self-test and the diagnostics export.

The settings form is generated from ``counter_app.config.SPECS`` (each setting declared once,
with type, default and Chinese label), so a new setting appears here without UI code.
The platform credential goes to the key store (the OS keyring) through
``counter_app.sync.credentials.set_token``; it is never written to a file and never shown back.

All saving, probing and exporting runs on ``ctx.tasks.db`` / ``ctx.tasks.io``.
"""
from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

from counter_app.clock import beijing_now
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
    QPushButton, QScrollArea, QSpinBox, QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget,
)

from ui.background import submit
from ui.context import AppContext
from ui.errors import UserFacingError, user_message

log = logging.getLogger(__name__)

# Which tab each setting belongs on; settings not listed (added later) go to "其他".
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("中心与窗口", ("center_code", "center_name", "window_no", "county_va_name", "military_office",
                   "military_office_address")),
    ("省平台", ("platform_url", "lookup_url", "ca_bundle", "pinned_cert_sha256", "sync_interval_seconds")),
    ("设备", ("reader_port", "reader_sdt_library", "reader_sdt_port", "camera_index", "document_camera_index",
            "scan_import_dir")),
    ("电子签章", ("signing_key_kind", "signing_pkcs12_path", "signing_pkcs11_library", "signing_token_label",
                 "signing_slot", "signing_key_label", "signing_trust_root", "signing_tsa_url")),
    ("安全与保留", ("idle_lock_minutes", "lockout_attempts", "lockout_minutes", "stale_warn_minutes",
                   "stale_block_days", "retention_days", "crypto_algorithm", "demo_mode")),
)
# Settings read once at start-up by services that keep them (key store, devices).
RESTART_NEEDED = frozenset({"crypto_algorithm", "reader_port", "reader_sdt_library", "reader_sdt_port",
                            "camera_index", "document_camera_index",
                            "demo_mode", "sync_interval_seconds", "platform_url", "ca_bundle", "pinned_cert_sha256"})


# ---------------------------------------------------------------------- work (worker threads)

def save_settings(window, values: dict[str, Any], credential: str | None, printers: dict[str, str]) -> list[str]:
    """Validate everything first, then write config.toml, the credential and the printer choice.
    Returns the labels of changed settings that need a restart. Blocks: ``ctx.tasks.db``."""
    from counter_app.config import SPEC_BY_NAME, coerce

    clean = {name: coerce(name, value) for name, value in values.items()}  # ConfigError: nothing written
    settings = window.settings
    changed = [n for n, v in clean.items() if settings.values.get(n) != v]
    if credential:
        from counter_app.sync.credentials import set_token

        try:
            set_token(window, credential)
        except ValueError as exc:
            raise UserFacingError(f"平台接入凭据无效：{exc}") from None
    for name, value in clean.items():
        settings.set(name, value)
    settings.save()
    # The case service copied these at start; keep new case numbers in step with the settings.
    window.cases.center_code = settings.center_code
    window.cases.window_no = settings.window_no
    window.cases.center_name = settings.center_name
    from ui.printouts import save_printer_map

    save_printer_map(window, printers)
    return [SPEC_BY_NAME[n].label for n in changed if n in RESTART_NEEDED]


def credential_state(window) -> str:
    from counter_app.sync.credentials import token_source

    source = token_source(window)
    return {"env": "已由环境变量 COUNTER_APP_PLATFORM_TOKEN 提供（优先于此处设置）",
            "keystore": "已保存在系统密钥库中", "": "尚未设置"}[source]


def load_settings_extras(window) -> dict[str, Any]:
    """Printer choice, credential state, imported holiday years. Blocks: ``ctx.tasks.db``."""
    from ui.printouts import printer_map

    holidays = sorted(p.stem for p in (window.home / "holidays").glob("*.json")) if (window.home / "holidays").is_dir() else []
    return {"printers": printer_map(window), "credential": credential_state(window), "holidays": holidays}


def probe_hardware() -> dict[str, list[str]]:
    """Serial ports and printers to choose from. Blocks (enumeration): ``ctx.tasks.io``."""
    from ui.printouts import available_printers

    from devices.idcard.discovery import candidate_ports

    return {"ports": candidate_ports(), "printers": available_printers()}


def import_holiday_table(window, source: str) -> str:
    """Check the file, copy it into the data directory and rebuild the calendar. Blocks: ``ctx.tasks.db``."""
    from counter_app.workdays import WorkCalendar, load_holiday_file

    table = load_holiday_file(source)  # HolidayTableError (Chinese) when the file is unusable
    folder = window.home / "holidays"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{table.year}.json"
    shutil.copyfile(source, target)
    calendar = WorkCalendar.default(extra_dirs=[folder])
    window.calendar = calendar
    window.cases.calendar = calendar
    window.cases.refresh_sla()
    return (f"已导入{table.year}年节假日表（{len(table.holidays)}个节假日、{len(table.workdays)}个调休工作日），"
            f"办理时限已按新表重新计算。")


def run_selftest(window, hub_states: list | None = None, *, demo: bool = False) -> list:
    """Device rows for the self-test page. Blocks (serial probing, camera enumeration): ``ctx.tasks.io``.

    While the device hub polls the reader it holds the port exclusively, so the reader's row is
    the hub's own state; otherwise ``devices.health.selftest`` probes the port."""
    from devices import health

    if hub_states:
        readers = [r for r in hub_states if r.kind == "idcard"]
        if demo:  # the simulated camera is the hub's; there is no hardware to enumerate
            return readers + [r for r in hub_states if r.kind != "idcard"]
        return readers + health.camera_infos()
    return health.selftest(idcard_port=window.settings.reader_port or None)


def export_diagnostics(window, export, destination: str, operator: str = "it_admin",
                       hub_states: list | None = None, *, demo: bool = False) -> str:
    """The diagnostics zip (no personal data) into the chosen folder.
    Blocks (device probing, self-test): ``ctx.tasks.io``.

    The device rows are the self-test screen's (:func:`run_selftest`): while the hub holds the
    reader's port a fresh probe of that port finds it busy and would report 未连接."""
    if export is None:
        raise UserFacingError("本机程序不含诊断导出功能，请联系技术人员更新程序。")
    target = Path(destination) / f"counter-diagnostics-{window.settings.center_code}-{window.settings.window_no}-" \
                                  f"{beijing_now():%Y%m%d-%H%M%S}.zip"
    rows = run_selftest(window, hub_states, demo=demo)
    result = export(window.home, target, operator=operator, device_rows=rows)
    note = f"（{len(result.problems)}项未能收集）" if result.problems else ""
    return f"诊断包已导出：{result.path}{note}。其中不含申请人个人信息，可发给技术人员。"


# ---------------------------------------------------------------------- page (GUI thread)

class SettingsPage(QWidget):
    saved = Signal()
    loaded = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("settingsPage")
        from counter_app.config import SPECS

        title = QLabel("系统设置")
        title.setProperty("role", "title")
        self.tabs = QTabWidget()
        self.tabs.setObjectName("settingsTabs")
        self.editors: dict[str, QWidget] = {}
        placed: set[str] = set()
        forms: dict[str, QFormLayout] = {}
        for group, names in GROUPS:
            form = self._new_tab(group)
            forms[group] = form
            for name in names:
                spec = next((s for s in SPECS if s.name == name), None)
                if spec is not None:
                    form.addRow(spec.label + "：", self._editor(spec))
                    placed.add(name)
        rest = [s for s in SPECS if s.name not in placed]
        if rest:
            form = self._new_tab("其他")
            for spec in rest:
                form.addRow(spec.label + "：", self._editor(spec))

        # Platform credential: write-only, into the key store.
        self.credential = QLineEdit()
        self.credential.setObjectName("platformCredential")
        self.credential.setEchoMode(QLineEdit.EchoMode.Password)
        self.credential.setPlaceholderText("留空表示不修改；填写后保存到系统密钥库，不写入任何文件")
        self.credential_state = QLabel("")
        self.credential_state.setObjectName("credentialState")
        self.credential_state.setProperty("role", "hint")
        forms["省平台"].addRow("平台接入凭据：", self.credential)
        forms["省平台"].addRow("", self.credential_state)

        # The signing key's PIN and self-test (the key's location is in the settings above).
        from ui.signing_panel import SigningPanel

        self.signing = SigningPanel(ctx)
        forms["电子签章"].addRow(self.signing)

        # Printers per document type.
        from ui.printouts import DOC_TYPES

        self.printers: dict[str, QComboBox] = {}
        pform = self._new_tab("打印机")
        for doc_type, label in DOC_TYPES.items():
            combo = QComboBox()
            combo.setObjectName(f"printer_{doc_type}")
            combo.setEditable(True)
            combo.addItem("（系统默认打印机）", "")
            self.printers[doc_type] = combo
            pform.addRow(f"{label}：", combo)

        # Holiday table.
        hform = self._new_tab("节假日表")
        self.holiday_years = QLabel("")
        self.holiday_years.setObjectName("holidayYears")
        self.holiday_button = QPushButton("导入节假日表(&H)…")
        self.holiday_button.setObjectName("importHolidays")
        hint = QLabel("国务院每年公布放假安排后，导入当年的节假日表（JSON：year、holidays、workdays）。"
                      "导入后办理时限按新表计算。")
        hint.setWordWrap(True)
        hint.setProperty("role", "hint")
        hform.addRow("已导入年份：", self.holiday_years)
        hform.addRow("", self.holiday_button)
        hform.addRow("", hint)

        # Device self-test and diagnostics.
        tools = QWidget()
        tl = QVBoxLayout(tools)
        self.selftest_button = QPushButton("设备自检(&T)")
        self.selftest_button.setObjectName("selftestButton")
        self.diagnostics_button = QPushButton("导出诊断包(&G)…")
        self.diagnostics_button.setObjectName("diagnosticsButton")
        row = QHBoxLayout()
        row.addWidget(self.selftest_button)
        row.addWidget(self.diagnostics_button)
        row.addStretch(1)
        self.selftest_table = QTableWidget(0, 4)
        self.selftest_table.setObjectName("selftestTable")
        self.selftest_table.setHorizontalHeaderLabels(["设备", "状态", "端口/编号", "说明"])
        self.selftest_table.verticalHeader().setVisible(False)
        self.selftest_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.selftest_table.setTabKeyNavigation(False)
        self.selftest_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.selftest_table.horizontalHeader().setStretchLastSection(True)
        tl.addLayout(row)
        tl.addWidget(self.selftest_table, 1)
        self.tabs.addTab(tools, "设备自检与诊断")

        self.save_button = QPushButton("保存设置(&S)")
        self.save_button.setObjectName("saveSettings")
        self.save_button.setProperty("role", "primary")
        self.revert_button = QPushButton("放弃修改")
        self.message = QLabel("")
        self.message.setObjectName("settingsMessage")
        self.message.setWordWrap(True)
        bottom = QHBoxLayout()
        bottom.addWidget(self.message, 1)
        bottom.addWidget(self.revert_button)
        bottom.addWidget(self.save_button)

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(bottom)

        self.save_button.clicked.connect(self.save)
        self.revert_button.clicked.connect(self.reload)
        self.holiday_button.clicked.connect(self.choose_holiday_file)
        self.selftest_button.clicked.connect(self.selftest)
        self.diagnostics_button.clicked.connect(self.choose_diagnostics_target)
        self.reload()

    # ---- building --------------------------------------------------------------------------
    def _new_tab(self, title: str) -> QFormLayout:
        page = QWidget()
        form = QFormLayout(page)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(page)
        self.tabs.addTab(scroll, title)
        return form

    def _editor(self, spec) -> QWidget:
        if spec.type is bool:
            w: QWidget = QCheckBox()
        elif spec.type is int:
            w = QSpinBox()
            # The spin box offers only what the core accepts (security settings have bounds).
            low = spec.minimum if spec.minimum is not None else 0
            w.setRange(low, spec.maximum if spec.maximum is not None else 100000)
        elif spec.name == "reader_port":
            w = QComboBox()
            w.setEditable(True)
        elif spec.name == "signing_key_kind":
            w = QComboBox()
            w.addItems(["", "pkcs12", "pkcs11"])
        else:
            w = QLineEdit()
        w.setObjectName(f"setting_{spec.name}")
        w.setToolTip(spec.label)
        self.editors[spec.name] = w
        return w

    # ---- values ------------------------------------------------------------------------------
    def _set_editor(self, name: str, value: Any) -> None:
        w = self.editors[name]
        if isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        elif isinstance(w, QSpinBox):
            w.setValue(int(value))
        elif isinstance(w, QComboBox):
            w.setCurrentText(str(value))
        else:
            w.setText(str(value))

    def editor_value(self, name: str) -> Any:
        w = self.editors[name]
        if isinstance(w, QCheckBox):
            return w.isChecked()
        if isinstance(w, QSpinBox):
            return w.value()
        if isinstance(w, QComboBox):
            return w.currentText().strip()
        return w.text().strip()

    def values(self) -> dict[str, Any]:
        return {name: self.editor_value(name) for name in self.editors}

    def printer_choice(self) -> dict[str, str]:
        out = {}
        for doc_type, combo in self.printers.items():
            data = combo.currentData()
            text = combo.currentText().strip()
            out[doc_type] = "" if (data == "" and text.startswith("（")) else text
        return out

    @Slot()
    def reload(self) -> None:
        for name, value in self.ctx.window.settings.values.items():
            if name in self.editors:
                self._set_editor(name, value)
        self.credential.clear()
        self.signing.refresh()
        submit(self.ctx.tasks.db, load_settings_extras, self.ctx.window, on_success=self._show_extras,
                              on_failure=self._failed)
        submit(self.ctx.tasks.io, probe_hardware, on_success=self._show_hardware, on_failure=self._probe_failed)

    def _show_extras(self, extras: dict[str, Any]) -> None:
        self.credential_state.setText(f"当前状态：{extras['credential']}")
        for doc_type, printer in extras["printers"].items():
            combo = self.printers[doc_type]
            if printer:
                if combo.findText(printer) < 0:
                    combo.addItem(printer, printer)
                combo.setCurrentText(printer)
            else:
                combo.setCurrentIndex(0)
        self.holiday_years.setText("、".join(extras["holidays"]) or "无（使用程序自带的节假日数据）")
        self.loaded.emit()

    def _show_hardware(self, found: dict[str, list[str]]) -> None:
        port_box = self.editors.get("reader_port")
        if isinstance(port_box, QComboBox):
            current = port_box.currentText()
            port_box.clear()
            port_box.addItem("")
            port_box.addItems(found["ports"])
            port_box.setCurrentText(current)
        for combo in self.printers.values():
            current = combo.currentText()
            for name in found["printers"]:
                if combo.findText(name) < 0:
                    combo.addItem(name, name)
            combo.setCurrentText(current)

    def _probe_failed(self, exc: BaseException) -> None:
        log.warning("枚举串口或打印机失败：%s", exc)

    def _failed(self, exc: BaseException) -> None:
        self.message.setText(user_message(exc, "读取设置"))
        self.loaded.emit()

    @Slot()
    def save(self) -> None:
        credential = self.credential.text().strip() or None
        self.save_button.setEnabled(False)
        self.message.setText("正在保存……")
        submit(self.ctx.tasks.db, save_settings, self.ctx.window, self.values(), credential, self.printer_choice(),
                              on_success=self._saved, on_failure=self._save_failed)

    def _saved(self, restart: list[str]) -> None:
        self.save_button.setEnabled(True)
        self.credential.clear()
        text = "设置已保存。"
        if restart:
            text += "以下设置需重新启动程序后生效：" + "、".join(restart) + "。"
        self.message.setText(text)
        submit(self.ctx.tasks.db, load_settings_extras, self.ctx.window, on_success=self._show_extras,
                              on_failure=self._failed)
        if self.ctx.signing is not None:
            self.ctx.signing.reload_settings()  # a changed key location forgets the PIN
        self.signing.refresh()
        self.saved.emit()

    def _save_failed(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        self.message.setText(user_message(exc, "保存设置") + " 设置未保存，请改正后再保存。")
        self.saved.emit()

    # ---- holiday table ------------------------------------------------------------------------
    @Slot()
    def choose_holiday_file(self) -> None:
        dialog = QFileDialog(self, "选择节假日表文件", str(Path.home()), "节假日表 (*.json)")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(self.import_holidays)
        dialog.open()
        self._file_dialog = dialog

    @Slot(str)
    def import_holidays(self, path: str) -> None:
        self.message.setText("正在导入节假日表……")
        submit(self.ctx.tasks.db, import_holiday_table, self.ctx.window, path, on_success=self._holidays_imported,
                              on_failure=self._holidays_failed)

    def _holidays_imported(self, text: str) -> None:
        self.message.setText(text)
        submit(self.ctx.tasks.db, load_settings_extras, self.ctx.window, on_success=self._show_extras,
                              on_failure=self._failed)

    def _holidays_failed(self, exc: BaseException) -> None:
        self.message.setText(user_message(exc, "导入节假日表") + " 原有节假日表未改动。")
        self.loaded.emit()

    # ---- self-test and diagnostics ------------------------------------------------------------
    @Slot()
    def selftest(self) -> None:
        self.selftest_button.setEnabled(False)
        self.message.setText("正在检测设备，约需数秒……")
        hub = self.ctx.devices
        states = list(hub.states) if hub is not None else None
        submit(self.ctx.tasks.io, run_selftest, self.ctx.window, states, demo=self.ctx.demo,
                              on_success=self._show_selftest,
                              on_failure=self._selftest_failed)

    def _show_selftest(self, rows: list) -> None:
        self.selftest_button.setEnabled(True)
        self.selftest_table.setRowCount(len(rows))
        for r, info in enumerate(rows):
            details = info.details or {}
            note = info.last_error or "；".join(f"{k}={v}" for k, v in details.items() if k != "probed")
            for c, v in enumerate((info.name, info.state.label, info.port_or_index or "-", note)):
                self.selftest_table.setItem(r, c, QTableWidgetItem(str(v)))
        self.message.setText("设备自检完成。")
        self.loaded.emit()

    def _selftest_failed(self, exc: BaseException) -> None:
        self.selftest_button.setEnabled(True)
        self.message.setText(user_message(exc, "设备自检"))
        self.loaded.emit()

    @Slot()
    def choose_diagnostics_target(self) -> None:
        dialog = QFileDialog(self, "选择诊断包保存位置", str(Path.home()))
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.fileSelected.connect(self.export_diagnostics)
        dialog.open()
        self._file_dialog = dialog

    @Slot(str)
    def export_diagnostics(self, destination: str) -> None:
        self.message.setText("正在导出诊断包……")
        operator = self.ctx.actor.username if self.ctx.actor else "it_admin"
        hub = self.ctx.devices
        states = list(hub.states) if hub is not None else None
        submit(self.ctx.tasks.io, export_diagnostics, self.ctx.window, self.ctx.hooks.export_diagnostics,
               destination, operator, states, demo=self.ctx.demo, on_success=self._diagnostics_done, on_failure=self._diagnostics_failed)

    def _diagnostics_done(self, text: str) -> None:
        self.message.setText(text)

    def _diagnostics_failed(self, exc: BaseException) -> None:
        self.message.setText(user_message(exc, "导出诊断包"))
