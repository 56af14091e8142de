"""The render process's main loop (see :mod:`ui.acceptance.render_pool`). No Qt, no database.

Reads ``(module, function, args, kwargs)`` requests from stdin and answers ``(True, result)`` or
``(False, exception)`` on stdout until stdin closes. Anything the called code prints goes to
stderr, so it can never corrupt the answer stream.
"""
from __future__ import annotations

import os
import sys


def _qt_free_ui_package() -> None:
    """Make ``ui.acceptance.*`` importable without running ``ui/__init__.py`` (which loads Qt to
    patch it): the render process never touches Qt, and QtCore alone would cost it ~30 MB."""
    import types
    from pathlib import Path

    ui_dir = Path(__file__).resolve().parents[1]
    root = str(ui_dir.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    if "ui" not in sys.modules:
        package = types.ModuleType("ui")
        package.__path__ = [str(ui_dir)]
        package.__file__ = str(ui_dir / "__init__.py")
        sys.modules["ui"] = package


def main() -> int:
    _qt_free_ui_package()
    from ui.acceptance.render_pool import call, read_message, write_message

    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout = sys.stderr
    requests = sys.stdin.buffer
    while True:
        try:
            module, function, args, kwargs = read_message(requests)
        except EOFError:
            return 0
        try:
            write_message(answers, (True, call(module, function, args, kwargs)))
        except Exception as exc:  # the caller re-raises it (PrintingError keeps its message)
            try:
                write_message(answers, (False, exc))
            except Exception:
                write_message(answers, (False, RuntimeError(f"{type(exc).__name__}: {exc}")))


if __name__ == "__main__":
    sys.exit(main())
