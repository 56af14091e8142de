"""The desktop application (PySide6). The only package that imports Qt.

Importing any part of ``ui`` first applies the PySide6 defect workarounds (ui.pyside_fixes):
PySide6 6.12.0's ``emit()`` leaks a reference to ``True`` and aborts Python 3.11 after a few
thousand signals, so no Qt signal may be emitted before it runs.
"""
import ui.pyside_fixes  # noqa: F401  (applies itself on import)
