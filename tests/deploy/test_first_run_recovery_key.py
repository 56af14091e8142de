"""The first-run wizard shows the recovery key once, as text and on the printable sheet with its
QR code, and finishes only after IT confirms it was written down or printed (pytest-qt)."""
from __future__ import annotations

import base64
import io
import logging
import re
import stat

import zxingcpp
from PIL import Image
from PySide6.QtCore import QBuffer, QIODevice, Qt
from PySide6.QtWidgets import QWizard

from counter_app.security import recovery
from tests.deploy.test_first_run_wizard import fill
from ui.first_run_wizard import FirstRunWizard

KEY = re.compile(r"^[A-Z2-7]{4}(?:-[A-Z2-7]{1,4}){13}$")


def _shown_image(label) -> Image.Image:
    buf = QBuffer()
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    label.pixmap().toImage().save(buf, "PNG")
    return Image.open(io.BytesIO(bytes(buf.data())))


def test_the_wizard_shows_the_recovery_key_once_and_waits_for_it_to_be_put_away(qtbot, _fresh_home, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    w = FirstRunWizard(_fresh_home, serial_ports=[], printers=[])
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    fill(w)
    assert w.currentPage() is w.confirm_page and w.confirm_page.isCommitPage()
    w.next()  # 保存设置
    page = w.recovery_page
    assert w.currentPage() is page and w.applied is not None
    key = page.key_label.text()
    assert KEY.fullmatch(key), key
    # The sheet on screen is the printable one, and its QR code carries this key.
    decoded = [b.text for b in zxingcpp.read_barcodes(_shown_image(page.sheet_view))]
    assert decoded == ["COUNTER-APP-RECOVERY:" + key.replace("-", "")]
    # The key really opens this window's sealed keys.
    record = recovery.read_record(_fresh_home / "counter.sqlite3")
    assert recovery.open_sealed(recovery.decode_key(key), base64.b64decode(record["blob"]))
    # Neither Finish, nor Cancel, nor Esc gets past it before IT confirms.
    finish = w.button(QWizard.WizardButton.FinishButton)
    assert not finish.isEnabled() and not w.button(QWizard.WizardButton.CancelButton).isVisible()
    w.reject()
    w.accept()
    assert w.isVisible() and w.result() != QWizard.DialogCode.Accepted
    assert "勾选" in page.message.text()
    sheet = tmp_path / "sheet.pdf"
    page.save_sheet(sheet)
    assert sheet.read_bytes().startswith(b"%PDF") and stat.S_IMODE(sheet.stat().st_mode) == 0o600
    page.confirmed_box.setChecked(True)
    assert finish.isEnabled()
    qtbot.mouseClick(finish, Qt.MouseButton.LeftButton)
    assert w.result() == QWizard.DialogCode.Accepted
    assert page.key_label.text() == ""  # the key does not linger in the widgets
    # Never logged, never written to the data directory in clear.
    assert all(key not in r.getMessage() and key.replace("-", "") not in r.getMessage() for r in caplog.records)
    for f in (p for p in _fresh_home.rglob("*") if p.is_file()):
        data = f.read_bytes()
        assert key.encode() not in data and key.replace("-", "").encode() not in data, f

