"""The 电子签章 tab of the settings page (key location, PIN, self-test) and the supervisor's count of
documents waiting for the center's signature."""
from __future__ import annotations

from app.pki import LocalCA
from app.signing.service import SigningService
from counter_app.config import load_settings
from counter_app.signing_queue import SigningQueue
from ui.settings_page import SettingsPage
from ui.supervisor_page import SupervisorPage

PASSWORD = "center-p12-pw"


def _panel_says(page, qtbot, fragment: str) -> str:
    qtbot.waitUntil(lambda: fragment in page.signing.result.text(), timeout=30000)
    return page.signing.result.text()


def test_it_configures_the_key_unlocks_it_and_runs_the_self_test(ctx, qtbot, tmp_path):
    ca = LocalCA.create()
    (tmp_path / "root.pem").write_bytes(ca.root_pem)
    (tmp_path / "center.p12").write_bytes(ca.pkcs12_for("新乡市红旗区退役军人服务中心", PASSWORD))
    ctx.signing = SigningService(ctx.window, interval=3600)
    page = SettingsPage(ctx)
    qtbot.addWidget(page)
    page.resize(1366, 700)
    page.show()
    page.editors["signing_key_kind"].setCurrentText("pkcs12")
    page.editors["signing_pkcs12_path"].setText(str(tmp_path / "center.p12"))
    page.editors["signing_trust_root"].setText(str(tmp_path / "root.pem"))
    with qtbot.waitSignal(page.saved, timeout=10000):
        page.save_button.click()
    assert load_settings(ctx.window.home / "config.toml").signing_key_kind == "pkcs12"

    page.signing.pin.setText("not-the-password")
    page.signing.unlock_button.click()
    assert "密码不正确" in _panel_says(page, qtbot, "密码不正确")
    assert page.signing.pin.text() == ""  # handed over, never kept in the widget
    page.signing.pin.setText(PASSWORD)
    page.signing.unlock_button.click()
    _panel_says(page, qtbot, "已解锁")
    page.signing.selftest_button.click()
    text = _panel_says(page, qtbot, "自检")
    assert "自检通过" in text and "pdfsig" in text, text
    qtbot.waitUntil(lambda: "已解锁" in page.signing.state.text(), timeout=10000)
    assert PASSWORD not in (ctx.window.home / "config.toml").read_text(encoding="utf-8")


def test_without_the_signing_module_the_panel_says_so(ctx, qtbot):
    page = SettingsPage(ctx)
    qtbot.addWidget(page)
    assert "未带电子签章模块" in page.signing.state.text() and not page.signing.unlock_button.isEnabled()


def test_supervisor_sees_how_many_documents_wait_for_the_signature(ctx, scene, qtbot):
    page = SupervisorPage(ctx)
    qtbot.addWidget(page)
    page.show()
    with qtbot.waitSignal(page.loaded, timeout=10000):
        page.refresh()
    waiting = SigningQueue(ctx.window.sessions).summary().waiting
    assert waiting > 0
    assert page.figures["unsigned"].text() == str(waiting)
    assert page.figures["unsigned"].property("role") == "figureWarn"
