"""Starting the desktop application from the application layer.

``ui`` never imports ``app``: what the screens need from here (the demo accounts' password, the
diagnostics export, the composition root's sync worker and device set) is lent to them as
:class:`ui.context.AppHooks`.
"""
from __future__ import annotations

from pathlib import Path


def hooks(*, demo: bool = False):
    """Cheap to build: it runs before the main window shows, so what the hooks need (the store,
    the sync client, the device drivers) is imported when they are called, on a worker."""
    from app.demo import DEMO_PASSWORD
    from ui.context import AppHooks

    def export_diagnostics(*args, **kwargs):
        from app.diagnostics import export_diagnostics as export

        return export(*args, **kwargs)

    def open_sync(window):
        from app.services import open_sync as open_worker

        return open_worker(window)

    def open_devices(settings, demo: bool):
        from app.services import open_devices as open_set

        return open_set(settings, demo=demo)

    def signing_service(window):
        from app.signing.service import SigningService

        return SigningService(window)

    return AppHooks(demo_password=DEMO_PASSWORD if demo else "", export_diagnostics=export_diagnostics,
                    signing_service=signing_service, open_sync=open_sync, open_devices=open_devices)


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
