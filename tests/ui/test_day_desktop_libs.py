"""`make run` on a desktop without Qt's xcb libraries: one line naming the apt command, before Qt."""
from __future__ import annotations

import subprocess
import sys

from app import desktop_libs


def test_a_missing_library_is_named_with_the_apt_command():
    table = {"libc.so.6": "libc6", "libcounter-app-absent-test.so.9": "libxcb-cursor0"}
    assert desktop_libs.missing_packages(table) == ["libxcb-cursor0"]
    line = desktop_libs.install_line(["libxcb-cursor0", "libxcb-icccm4"])
    assert "\n" not in line
    assert line.endswith("sudo apt-get install -y libxcb-cursor0 libxcb-icccm4")


def test_only_the_xcb_platform_is_checked():
    assert desktop_libs.uses_xcb({}, "linux")
    assert desktop_libs.uses_xcb({"QT_QPA_PLATFORM": "xcb"}, "linux")
    assert not desktop_libs.uses_xcb({"QT_QPA_PLATFORM": "offscreen"}, "linux")
    assert not desktop_libs.uses_xcb({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert not desktop_libs.uses_xcb({}, "win32")


def test_the_gui_start_stops_before_qt_with_one_line(tmp_path):
    """A real process: the check fails, one line on stderr, exit 1, and Qt was never imported."""
    code = ("import sys; from app import desktop_libs; "
            "desktop_libs.missing_packages = lambda libraries=None: ['libxcb-cursor0']; "
            "from app.gui import start_gui; rc = start_gui(home=sys.argv[1]); "
            "assert 'PySide6.QtWidgets' not in sys.modules; sys.exit(rc)")
    env = {"PATH": "/usr/bin:/bin", "QT_QPA_PLATFORM": "xcb", "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, env=env,
                          timeout=60)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "sudo apt-get install -y libxcb-cursor0" in lines[0]
