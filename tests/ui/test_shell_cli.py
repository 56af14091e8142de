"""``counter-app ui smoke`` as an installer runs it: a separate process, offscreen, exit code 0."""
from __future__ import annotations

import os
import subprocess
import sys


def test_ui_smoke_opens_the_main_window_and_exits_zero(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", COUNTER_APP_KEYSTORE="file",
               COUNTER_APP_HOME=str(tmp_path / "unused"))
    home = tmp_path / "window"
    done = subprocess.run([sys.executable, "-m", "app", "ui", "smoke", "--ms", "200", "--home", str(home)],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "界面自检通过" in done.stdout
    assert (home / "counter.sqlite3").exists()  # the database was opened and migrated
    assert "Traceback" not in done.stderr


def test_ui_without_a_subcommand_shows_help_and_fails(tmp_path):
    env = dict(os.environ, COUNTER_APP_KEYSTORE="file", COUNTER_APP_HOME=str(tmp_path))
    done = subprocess.run([sys.executable, "-m", "app", "ui"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2
    assert "screenshots" in done.stdout and "smoke" in done.stdout
