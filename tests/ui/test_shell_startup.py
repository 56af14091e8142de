"""Cold start as ``run_gui`` does it: the main window first, the services on a worker, the login
over the window, the pages after login; logout; a fresh install gets the first-run wizard."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.ui.conftest import PASSWORD
from ui.app import Startup


@pytest.fixture
def startup_factory(app, qtbot):
    made = []

    def make(home, **kwargs):
        startup = Startup(app, home, show_errors=False, **kwargs)
        made.append(startup)
        qtbot.addWidget(startup.main)
        return startup

    yield make
    for startup in made:
        startup.close()


def test_window_first_then_login_then_the_pages(demo_window, startup_factory, qtbot):
    demo_window.settings.save(demo_window.home / "config.toml")  # an installed, configured window
    startup = startup_factory(demo_window.home)
    startup.start()
    main = startup.main
    assert main.isVisible() and not main.in_session and main.worklist is None
    assert startup.login is not None and startup.login.isVisible()
    assert main.windowTitle().endswith("第01号窗口")

    login = startup.login
    login.username.setText("clerk01")
    login.password.setText(PASSWORD)
    with qtbot.waitSignal(main.session_started, timeout=30000):
        qtbot.keyClick(login.password, Qt.Key.Key_Return)  # fine before or after the services opened
    assert startup.ctx.actor.username == "clerk01"
    assert main.worklist is not None and main.current_page() is main.worklist
    qtbot.waitUntil(lambda: main.worklist.model.rowCount() > 0, timeout=10000)

    main.logout()
    assert not main.in_session and main.worklist is None and startup.ctx.actor is None
    assert startup.login is not None and startup.login.isVisible() and startup.login is not login


def test_a_fresh_install_opens_the_first_run_wizard(window, startup_factory, qtbot):
    from PySide6.QtWidgets import QWizard

    assert not (window.home / "config.toml").exists()
    startup = startup_factory(window.home)
    startup.start()
    qtbot.waitUntil(lambda: startup.wizard is not None, timeout=30000)
    assert isinstance(startup.wizard, QWizard) and startup.wizard.isVisible()
    assert startup.login is None


def test_an_unreadable_configuration_is_refused_in_chinese(tmp_path, app):
    home = tmp_path / "broken"
    home.mkdir()
    (home / "config.toml").write_text("center_code = \"410702\"\nwindow_no = [\n", encoding="utf-8")
    from counter_app.config import ConfigError

    with pytest.raises(ConfigError) as caught:
        Startup(app, home, show_errors=False)
    assert "配置文件" in caught.value.message and "格式错误" in caught.value.message


def test_a_damaged_store_is_said_at_start_and_opens_read_only(window, startup_factory, qtbot):
    import sqlite3

    window.settings.save(window.home / "config.toml")
    db = window.db_path
    window.close()
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    data = bytearray(db.read_bytes())
    page = next(i for i in range(1, len(data) // size) if data[i * size] in (0x0D, 0x05, 0x0A, 0x02))
    data[page * size] = 0xFF  # a b-tree page whose type byte is garbage
    db.write_bytes(bytes(data))
    startup = startup_factory(window.home)
    with qtbot.waitSignal(startup.services_opened, timeout=30000):
        startup.start()
    assert startup.ctx.window.damage
    assert "只允许查看和导出" in startup.main.welcome.text()
    assert "数据库只读" in startup.main.statusBar().currentMessage()
