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
