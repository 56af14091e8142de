"""The first-run wizard (pytest-qt, offscreen): same validation and same result as ``configure --from``."""
from __future__ import annotations

import tomllib

import pytest
from PySide6.QtWidgets import QWizard

from app.cli import main
from counter_app.site_config import needs_first_run, platform_credential
from ui.first_run_wizard import AUTO_PORT, DEFAULT_PRINTER, FirstRunWizard

TOKEN = "wizard-token-Zx81"


@pytest.fixture
def wizard(qtbot, _fresh_home):
    w = FirstRunWizard(_fresh_home, serial_ports=["/dev/ttyUSB0", "/dev/ttyS0"], printers=["HP LaserJet", "GP-58"])
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def fill(w: FirstRunWizard) -> None:
    w.center_code.setText("410782")
    w.center_name.setText("长垣市退役军人服务中心")
    w.window_no.setValue(7)
    w.next()
    w.platform_url.setText("https://platform.example.gov.cn/counter-api")
    w.credential.setText(TOKEN)
    w.next()
    w.reader_port.setCurrentText("/dev/ttyUSB0")
    w.photo_camera.setValue(1)
    w.document_camera.setValue(2)
    w.next()
    w.printer_boxes["form"].setCurrentText("HP LaserJet")
    w.printer_boxes["receipt"].setCurrentText("GP-58")
    w.next()


def confirm_recovery_key(w: FirstRunWizard) -> None:
    w.recovery_page.confirmed_box.setChecked(True)
    w.accept()


def test_wizard_writes_what_configure_from_would(wizard, _fresh_home, tmp_path):
    assert needs_first_run(_fresh_home)
    fill(wizard)
    assert wizard.currentPage() is wizard.confirm_page
    summary = wizard.summary.text()
    assert "410782" in summary and "窗口号：07" in summary and "将更新" in summary and TOKEN not in summary
    wizard.accept()
    assert wizard.currentPage() is wizard.recovery_page  # the recovery key first, once
    confirm_recovery_key(wizard)
    assert wizard.result() == QWizard.DialogCode.Accepted
    assert wizard.applied is not None and wizard.applied.credential_stored
    assert wizard.credential.text() == ""  # the secret does not stay in the widget

    # The same values through `configure --from` into a second window give the same config.toml.
    other = tmp_path / "other-home"
    site = tmp_path / "site.toml"
    site.write_text('[center]\ncode = "410782"\nname = "长垣市退役军人服务中心"\n[window]\nnumber = "07"\n'
                    f'[platform]\nurl = "https://platform.example.gov.cn/counter-api"\ncredential = "{TOKEN}"\n'
                    '[reader]\nport = "/dev/ttyUSB0"\n[cameras]\nphoto = 1\ndocument = 2\n'
                    '[printers]\nform = "HP LaserJet"\nreceipt = "GP-58"\nsettlement_letter = ""\n'
                    'reserve_reminder = ""\ndaily_report = ""\n', encoding="utf-8")
    assert main(["configure", "--from", str(site), "--home", str(other)]) == 0
    assert (_fresh_home / "config.toml").read_text(encoding="utf-8") == (other / "config.toml").read_text(encoding="utf-8")

    from counter_app.services import open_window
    from ui.printouts import printer_map

    a, b = open_window(_fresh_home), open_window(other)
    try:
        assert printer_map(a) == printer_map(b) == {"form": "HP LaserJet", "receipt": "GP-58", "settlement_letter": "",
                                                    "reserve_reminder": "", "daily_report": ""}
        assert platform_credential(a.keystore) == TOKEN
    finally:
        a.close()
        b.close()


def test_a_bad_center_code_keeps_the_wizard_on_its_page(wizard):
    wizard.center_code.setText("4107")
    wizard.next()
    assert wizard.currentPage() is wizard.center_page
    assert wizard.center_page.errors.isVisible()
    assert "[center] code" in wizard.center_page.errors.text() and "格式不正确" in wizard.center_page.errors.text()
    wizard.center_code.setText("410702")
    wizard.next()
    assert wizard.currentPage() is wizard.platform_page


def test_the_credential_is_required_the_first_time(wizard):
    wizard.next()
    wizard.platform_url.setText("https://platform.example.gov.cn/api")
    wizard.next()
    assert wizard.currentPage() is wizard.platform_page
    assert "凭据" in wizard.platform_page.errors.text()


def test_reopening_a_configured_window_prefills_and_keeps_the_credential(qtbot, _fresh_home, wizard):
    fill(wizard)
    wizard.accept()
    confirm_recovery_key(wizard)
    from counter_app.services import open_window

    window = open_window(_fresh_home)
    try:
        again = FirstRunWizard(_fresh_home, window=window, serial_ports=[], printers=[])
        qtbot.addWidget(again)
        again.show()
        assert again.center_code.text() == "410782" and again.window_no.value() == 7
        assert again.reader_port.currentText() == "/dev/ttyUSB0"
        assert "已设置" in again.credential.placeholderText()
        for _ in range(4):
            again.next()
        assert again.currentPage() is again.confirm_page  # no credential typed, none required
        assert again.recovery_page is None  # the key was issued the first time; shown once only
        again.accept()
        assert again.result() == QWizard.DialogCode.Accepted
        assert platform_credential(window.keystore) == TOKEN
        config = tomllib.loads((_fresh_home / "config.toml").read_text(encoding="utf-8"))
        assert config["reader_port"] == "/dev/ttyUSB0"
    finally:
        window.close()


def test_defaults_mean_automatic_port_and_system_printer(wizard, _fresh_home):
    assert wizard.reader_port.currentText() == AUTO_PORT
    values = wizard.site_values()
    assert values["reader"]["port"] == ""
    assert wizard.printer_boxes["form"].currentText() == DEFAULT_PRINTER and values["printers"]["form"] == ""
