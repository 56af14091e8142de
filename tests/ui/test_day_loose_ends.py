"""Loose ends of a day at the window: what the diagnostics export says about the devices, the photo
step's buttons, the card photo after an explicit read, the worklist after a menu, the correction's
reason for the supervisor."""
from __future__ import annotations

import json
import zipfile

from ui.settings_page import SettingsPage


def test_diagnostics_export_reports_the_devices_as_the_selftest_shows_them(ctx, qtbot, tmp_path):
    from devices.base import DeviceInfo, DeviceState

    class Hub:  # the running hub holds the reader's port: a fresh probe would find it busy
        states = [DeviceInfo("idcard", "二代身份证读卡器", "/dev/ttyUSB0", DeviceState.READY, ""),
                  DeviceInfo("camera", "模拟摄像头（演示）", "demo", DeviceState.READY, "")]

    ctx.devices = Hub()
    ctx.demo = True
    page = SettingsPage(ctx)
    qtbot.addWidget(page)
    page.show()
    page.export_diagnostics(str(tmp_path))
    qtbot.waitUntil(lambda: page.message.text().startswith(("诊断包已导出", "导出诊断包")), timeout=90000)
    assert page.message.text().startswith("诊断包已导出"), page.message.text()
    (archive,) = tmp_path.glob("counter-diagnostics-*.zip")
    with zipfile.ZipFile(archive) as z:
        devices = json.loads(z.read("devices.json"))
    states = {d["name"]: d["state_label"] for d in devices["devices"]}
    assert states == {"二代身份证读卡器": DeviceState.READY.label, "模拟摄像头（演示）": DeviceState.READY.label}


def test_an_explicit_card_read_shows_the_card_photo(acceptance, demo_devices, qtbot):
    from PySide6.QtCore import Qt

    with qtbot.waitSignal(demo_devices.card_photo, timeout=10000):   # read and decoded before we start
        demo_devices.place_demo_card("resident_xinxiang")
    widget, script = acceptance()
    step = widget.step("identity")
    assert step.photo.text() == "证件照片" and not step.photo_note.text()   # the card lying there is not read
    script.key(Qt.Key.Key_F7)
    assert widget.session.app.applicant.name == "赵振华"
    from devices.idcard import load_wlt_decoder

    decoder = load_wlt_decoder()
    if decoder.available:
        assert not step.photo.pixmap().isNull() and step.photo_note.text() == "证件照片（读卡解码）"
    else:   # no vendor decoder on this machine: the reason is said, as for a card laid down
        assert step.photo.text() == "无证件照片" and step.photo_note.text() == decoder.status_message
        assert decoder.status_message


def test_the_photo_step_has_one_button_per_action(acceptance, qtbot):
    from PySide6.QtWidgets import QPushButton

    widget, _script = acceptance()
    step = widget.step("photo")
    own = [b.text() for b in step.findChildren(QPushButton)]
    action_bar = [f"{key} {label}" for key, label, _method in step.actions]   # the stepper's footer buttons
    for label in ("导入照片", "重新拍照", "立即拍照"):
        assert sum(label in text for text in own + action_bar) == 1, own + action_bar


def test_down_then_enter_after_a_menu_opens_the_row_below(ctx, scene, main_window, qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    main = main_window()
    page = main.worklist
    qtbot.waitUntil(lambda: page.model.rowCount() > 3 and not page.loading, timeout=10000)
    page.table.setFocus()
    page.table.selectRow(1)
    QTest.keyClick(main, Qt.Key.Key_F, Qt.KeyboardModifier.AltModifier)   # the 办件 menu …
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is not None, timeout=5000)
    QTest.keyClick(QApplication.activePopupWidget(), Qt.Key.Key_Escape)   # … closed again
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is None, timeout=5000)
    page.table.setFocus()                  # the clerk is back in the list
    QTest.keyClick(page.table, Qt.Key.Key_Down)
    assert page.table.currentIndex().row() == 2
    wanted = page.model.row_at(2)
    opened = []
    page.open_case.connect(lambda key, _state: opened.append(key))
    page.open_online.connect(opened.append)
    QTest.keyClick(page.table, Qt.Key.Key_Return)
    assert opened == [wanted.key]


def test_down_in_the_search_box_still_goes_into_the_list(ctx, scene, main_window, qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    main = main_window()
    page = main.worklist
    qtbot.waitUntil(lambda: page.model.rowCount() > 3 and not page.loading, timeout=10000)
    page.focus_search()
    QTest.keyClick(page.search, Qt.Key.Key_Down)
    assert page.table.hasFocus() and page.table.currentIndex().row() == 0
