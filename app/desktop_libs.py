"""The X11 libraries Qt's xcb platform plugin loads, checked before Qt starts.

Without them Qt aborts with "Could not load the Qt platform plugin "xcb"" and a paragraph of
plugin paths; a fresh Debian/UOS desktop lacks some of them (libxcb-cursor0 first of all). The
check loads each library by its soname and, when one is missing, names the Debian packages in one
line with the apt command. ``python -m app.desktop_libs`` prints the missing packages' names (one
a line, nothing when complete) for the Makefile's ``run`` to install.
"""
from __future__ import annotations

import ctypes
import os
import sys

# soname -> Debian package. What the xcb plugin of Qt 6 (PySide6's wheel) links or dlopens.
XCB_LIBRARIES = {
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libfontconfig.so.1": "libfontconfig1",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libdbus-1.so.3": "libdbus-1-3",
}


def uses_xcb(environ: dict[str, str] | None = None, platform: str | None = None) -> bool:
    """Whether Qt would start its xcb plugin: Linux, and no other platform asked for."""
    environ = os.environ if environ is None else environ
    if not (platform or sys.platform).startswith("linux"):
        return False
    wanted = environ.get("QT_QPA_PLATFORM", "").strip()
    if wanted:
        return wanted.split(":")[0].split(";")[0] == "xcb"
    return not environ.get("WAYLAND_DISPLAY")


def missing_packages(libraries: dict[str, str] | None = None) -> list[str]:
    """Debian packages whose library cannot be loaded, in the table's order."""
    missing = []
    for soname, package in (libraries or XCB_LIBRARIES).items():
        try:
            ctypes.CDLL(soname)
        except OSError:
            if package not in missing:
                missing.append(package)
    return missing


def install_line(packages: list[str]) -> str:
    return ("缺少图形界面所需的系统库（" + "、".join(packages) + "），程序无法打开窗口。请运行：sudo apt-get install -y "
            + " ".join(packages))


def check_desktop(environ: dict[str, str] | None = None) -> str | None:
    """None when Qt can start here, else the one line to print."""
    if not uses_xcb(environ):
        return None
    packages = missing_packages()
    return install_line(packages) if packages else None


def main() -> int:
    if uses_xcb():
        for package in missing_packages():
            print(package)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
