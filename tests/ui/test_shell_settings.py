"""The IT settings page: values round-trip through config.toml, the credential goes to the key
store only, printers per document, the holiday table import, the device self-test."""
from __future__ import annotations

import json

from PySide6.QtWidgets import QCheckBox, QSpinBox

from counter_app.config import load_settings
from counter_app.sync.credentials import get_token
from ui import printouts
from ui.settings_page import SettingsPage


def _page(ctx, qtbot) -> SettingsPage:
    page = SettingsPage(ctx)
    qtbot.addWidget(page)
    page.resize(1366, 700)
    page.show()
    qtbot.waitUntil(lambda: page.credential_state.text() != "", timeout=10000)
    return page


def _save(page, qtbot) -> None:
    with qtbot.waitSignal(page.saved, timeout=10000):
        page.save_button.click()


def test_every_declared_setting_has_an_editor_of_its_type(ctx, qtbot, monkeypatch):
    from counter_app.config import SPECS

    page = _page(ctx, qtbot)
    for spec in SPECS:
        editor = page.editors[spec.name]
        expected = {bool: QCheckBox, int: QSpinBox}.get(spec.type)
        if expected is not None:
            assert isinstance(editor, expected), spec.name
        assert page.editor_value(spec.name) == ctx.window.settings.values[spec.name], spec.name


def test_settings_round_trip_through_the_file_and_the_key_store(ctx, qtbot, monkeypatch):
    monkeypatch.delenv("COUNTER_APP_PLATFORM_TOKEN", raising=False)
    page = _page(ctx, qtbot)
    page.editors["center_name"].setText("新乡市卫滨区退役军人服务中心")
    page.editors["window_no"].setText("03")
    page.editors["idle_lock_minutes"].setValue(9)
    page.editors["demo_mode"].setChecked(True)
    page.credential.setText("window-03-token-abc")
    page.printers["form"].setCurrentText("HP LaserJet M1136")
    _save(page, qtbot)
    assert page.message.text().startswith("设置已保存")

    config = ctx.window.home / "config.toml"
    reread = load_settings(config)
    assert reread.center_name == "新乡市卫滨区退役军人服务中心"
    assert reread.window_no == "03" and reread.idle_lock_minutes == 9 and reread.demo_mode is True
    assert "window-03-token-abc" not in config.read_text(encoding="utf-8")
    assert get_token(ctx.window) == "window-03-token-abc"
    assert printouts.printer_for(ctx.window, "form") == "HP LaserJet M1136"
    assert printouts.printer_for(ctx.window, "receipt") == ""
    assert ctx.window.cases.window_no == "03"  # new case numbers follow at once

    again = _page(ctx, qtbot)  # a fresh page shows what was stored
    qtbot.waitUntil(lambda: again.printers["form"].currentText() == "HP LaserJet M1136", timeout=10000)
    assert again.editor_value("window_no") == "03" and again.editor_value("idle_lock_minutes") == 9
    assert again.credential.text() == ""  # the credential is never shown back
    assert "系统密钥库" in again.credential_state.text()


def test_an_invalid_value_is_explained_and_nothing_is_written(ctx, qtbot):
    page = _page(ctx, qtbot)
    page.editors["center_name"].setText("改了但不应保存")
    page.editors["window_no"].setText("00")
    _save(page, qtbot)
    assert "窗口号" in page.message.text() and "设置未保存" in page.message.text()
    assert not (ctx.window.home / "config.toml").exists()
    assert ctx.window.settings.center_name != "改了但不应保存"


def test_holiday_table_import_copies_the_file_and_recomputes_deadlines(ctx, qtbot, tmp_path):
    import datetime as _dt

    source = tmp_path / "2031.json"
    source.write_text(json.dumps({"year": 2031, "holidays": ["2031-10-08"], "workdays": ["2031-10-11"]}),
                      encoding="utf-8")
    page = _page(ctx, qtbot)
    assert ctx.window.calendar.is_workday(_dt.date(2031, 10, 8))  # a Wednesday, before the import
    with qtbot.waitSignal(page.loaded, timeout=10000):
        page.import_holidays(str(source))
    assert "已导入2031年节假日表" in page.message.text()
    assert (ctx.window.home / "holidays" / "2031.json").read_bytes() == source.read_bytes()
    assert not ctx.window.calendar.is_workday(_dt.date(2031, 10, 8))
    assert ctx.window.cases.calendar is ctx.window.calendar
    assert "2031" in page.holiday_years.text()

    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    with qtbot.waitSignal(page.loaded, timeout=10000):
        page.import_holidays(str(broken))
    assert "不是有效的JSON" in page.message.text() and "原有节假日表未改动" in page.message.text()
    assert sorted(p.name for p in (ctx.window.home / "holidays").iterdir()) == ["2031.json"]


def test_device_selftest_lists_each_device_with_its_state(ctx, qtbot):
    from devices.base import DeviceInfo, DeviceState

    class Hub:  # the hub holds the reader's port, so its own row is reported
        states = [DeviceInfo("idcard", "二代身份证读卡器", "/dev/ttyUSB0", DeviceState.READY, ""),
                  DeviceInfo("camera", "模拟摄像头（演示）", "demo", DeviceState.READY, "")]

    ctx.devices = Hub()
    ctx.demo = True
    page = _page(ctx, qtbot)
    with qtbot.waitSignal(page.loaded, timeout=20000):
        page.selftest_button.click()
    rows = [[page.selftest_table.item(r, c).text() for c in range(4)] for r in range(page.selftest_table.rowCount())]
    assert rows[0][:3] == ["二代身份证读卡器", "就绪", "/dev/ttyUSB0"]
    assert rows[1][:2] == ["模拟摄像头（演示）", "就绪"]
    assert page.message.text() == "设备自检完成。"


def test_printer_document_types_match_the_site_configuration():
    from counter_app.site_config import PRINTER_DOC_TYPES

    assert printouts.DOC_TYPES == PRINTER_DOC_TYPES



def test_diagnostics_export_writes_a_zip_without_personal_data(ctx, scene, qtbot, tmp_path):
    import zipfile

    page = _page(ctx, qtbot)
    page.export_diagnostics(str(tmp_path))
    qtbot.waitUntil(lambda: page.message.text().startswith(("诊断包已导出", "导出诊断包")), timeout=90000)
    assert page.message.text().startswith("诊断包已导出"), page.message.text()
    (archive,) = tmp_path.glob("counter-diagnostics-*.zip")
    with zipfile.ZipFile(archive) as z:
        text = "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    applicant = ctx.window.cases.get(scene.today_ids[0]).application.applicant
    assert applicant.id_number not in text and applicant.name not in text
