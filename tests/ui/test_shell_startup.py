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


_KNOWN_OPERATOR_START = r"""
import json, sys
from pathlib import Path
from PySide6.QtCore import QTimer
from app.gui import hooks
from ui.app import Startup, ensure_application
app = ensure_application([])
class Clerk:
    username, role = "clerk01", "clerk"
startup = Startup(app, Path(sys.argv[1]), actor=Clerk(), open_session=False, show_errors=False, hooks=hooks())
seen = []
def loaded():
    page = startup.main.worklist
    seen.append({"orm": "sqlalchemy" in sys.modules, "services": startup.ctx.window is not None,
                 "keys": [r.key for r in page.model.rows], "names": [r.masked_name for r in page.model.rows],
                 "message": page.message.text()})
    if startup.ctx.window is not None and not page.loading:
        print(json.dumps(seen), flush=True)
        app.quit()
def session():
    startup.main.worklist.loaded.connect(loaded)
startup.main.session_started.connect(session)
startup.failed.connect(lambda m: (print(json.dumps([{"failed": m}]), flush=True), app.quit()))
startup.start()
QTimer.singleShot(60000, app.quit)
app.exec()
"""


def _start_with_known_operator(home) -> list[dict]:
    import json
    import os
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _KNOWN_OPERATOR_START, str(home)], capture_output=True, text=True,
                         timeout=120, env=dict(os.environ, COUNTER_APP_KEYSTORE="file", QT_QPA_PLATFORM="offscreen"))
    lines = [line for line in out.stdout.splitlines() if line.startswith("[")]
    assert lines, out.stderr[-2000:]
    return json.loads(lines[-1])


def test_the_stored_worklist_is_shown_before_the_store_services_open(demo_window, scene):
    """Start with the operator known (no login to wait for): the first rows come from the store
    read without SQLAlchemy, said to be the stored list; the full list then replaces them."""
    demo_window.settings.save(demo_window.home / "config.toml")
    seen = _start_with_known_operator(demo_window.home)
    first, last = seen[0], seen[-1]
    assert first["orm"] is False and first["services"] is False  # shown before the ORM was imported
    assert first["keys"] and "本机已存的工作台" in first["message"]
    assert set(scene.online_ids) <= set(first["keys"]) and scene.overdue_id in first["keys"]
    assert last["services"] is True and last["orm"] is True and "本机已存" not in last["message"]
    assert last["keys"] == first["keys"] and last["names"] == first["names"]  # the same list, the same masking
    assert all("*" in name for name in first["names"])


def test_a_key_store_without_the_keys_ends_the_start_with_todays_message(demo_window):
    """The stored list is not read around a key store that the full start refuses: nothing is
    shown, and the clerk gets the same sentence as before."""
    from counter_app.security.vault import KEYS_MISSING

    demo_window.settings.save(demo_window.home / "config.toml")
    (demo_window.home / "keys" / "keystore.txt").write_text("", encoding="ascii")  # emptied, as after a reset
    seen = _start_with_known_operator(demo_window.home)
    assert seen == [{"failed": "程序无法打开本窗口的数据：" + KEYS_MISSING}]



def test_the_login_check_is_ready_before_the_operator_presses_enter(demo_window):
    """The security package (its import hashes a stand-in password, ~0.15 s) is imported on the
    worker that opens the services, not on the GUI thread when the operator presses Enter."""
    import os
    import subprocess
    import sys

    demo_window.settings.save(demo_window.home / "config.toml")
    code = ("import sys; from pathlib import Path; from app.gui import hooks; "
            "from ui.app import Startup, ensure_application; app = ensure_application([]); "
            "s = Startup(app, Path(sys.argv[1]), show_errors=False, hooks=hooks()); "
            "s.services_opened.connect(lambda: (print('access' if 'counter_app.security.access' in sys.modules "
            "else 'missing', flush=True), app.quit())); s.start(); app.exec()")
    out = subprocess.run([sys.executable, "-c", code, str(demo_window.home)], capture_output=True, text=True,
                         timeout=120, env=dict(os.environ, COUNTER_APP_KEYSTORE="file", QT_QPA_PLATFORM="offscreen"))
    assert out.stdout.split()[:1] == ["access"], out.stdout + out.stderr[-1000:]
