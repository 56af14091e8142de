"""Look of the acceptance screens: the bundled Chinese font, the colours code uses for text.

Their style rules are in the one application style sheet, ``resources/style/app.qss``, scoped
by the object names ``acceptance`` and ``applicantScreen``.

A service-center PC may have no CJK font, and the offscreen platform used by the tests and
``counter-app ui screenshots`` certainly has none, so the bundled 文泉驿正黑 is registered with
Qt before any acceptance widget is built (idempotent). Sizes are in logical pixels, which Qt
scales on high-DPI screens; nothing is smaller than 14 px (the issue's readability bar).

Thread contract: GUI thread only.
"""
from __future__ import annotations

from PySide6.QtWidgets import QApplication

BASE_PX = 16        # body text (the shell's app.qss uses the same)
SMALL_PX = 14       # hints and reasons: the floor
TITLE_PX = 20
FAMILY = "WenQuanYi Zen Hei"

_registered: list[str] = []

# Colours: readable on the window's light background; status colours double as text colours
# (the same values as app.qss).
OK = "#1b7a3a"
WARN = "#a35a00"
ERROR = "#b3261e"
MUTED = "#555555"
ACCENT = "#1f6fbf"



def ensure_ui_fonts() -> str:
    """Register the bundled CJK font once and make it the application default; returns the family.

    Uses the shell's ``ui.app.ensure_application`` (font + app.qss), so the acceptance screens
    look the same alone (tests, screenshots) as inside the main window.
    """
    if QApplication.instance() is None:
        raise RuntimeError("QApplication must exist before building acceptance widgets")
    if not _registered:
        from ui.app import ensure_application, install_fonts

        ensure_application()
        families = install_fonts()
        _registered.append(families[0] if families else FAMILY)
    return _registered[0]


def set_role(widget, role: str) -> None:
    """Set the style-sheet role of a label or button and re-polish it (role can change at run time)."""
    if widget.property("role") == role:
        return   # re-polishing is the expensive part of a style-sheet change
    widget.setProperty("role", role)
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)


def set_invalid(widget, invalid: bool) -> None:
    if bool(widget.property("invalid")) == invalid:
        return
    widget.setProperty("invalid", invalid)
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
