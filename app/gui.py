"""Starting the desktop application from the application layer.

``ui`` never imports ``app``: what the screens need from here (the demo accounts' password, the
diagnostics export, the composition root's sync worker and device set) is lent to them as
:class:`ui.context.AppHooks`.
"""
from __future__ import annotations

from pathlib import Path


def hooks(*, demo: bool = False):
    from app.demo.seed import DEMO_PASSWORD
    from app.diagnostics import export_diagnostics
    from app.services import open_devices, open_sync
    from ui.context import AppHooks

    from app.signing.service import SigningService

    return AppHooks(demo_password=DEMO_PASSWORD if demo else "", export_diagnostics=export_diagnostics,
                    signing_service=SigningService, open_sync=open_sync,
                    open_devices=lambda settings, demo: open_devices(settings, demo=demo))


def start_gui(*, home: Path | None = None, demo: bool = False) -> int:
    """The GUI's process exit code."""
    import sys

    from app.desktop_libs import check_desktop

    problem = check_desktop()   # before Qt: its own failure is an abort with a page of plugin paths
    if problem:
        print(problem, file=sys.stderr)
        return 1
    from ui.app import run_gui

    return run_gui([], home=home, demo=demo, hooks=hooks(demo=demo))
