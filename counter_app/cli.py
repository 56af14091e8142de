"""The ``counter-app`` command line.

No arguments starts the desktop application; subcommands drive the core.
Other packages (devices, printing, ui) contribute subcommands through a
``register(subparsers)`` function in their ``cli`` module; the core imports
them by name at run time so it never depends on Qt, OpenCV or pyserial.

Every handler returns an exit code. Errors the user can cause are printed as
a one-line message (Chinese first) and give a non-zero exit, never a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Callable, Sequence

# Packages that add subcommands. Each module exposes ``register(sub)`` where
# ``sub`` is the argparse sub-parsers action; every parser it adds must set
# ``func`` (a callable taking the parsed args and returning an int exit code).
EXTENSION_MODULES: tuple[str, ...] = (
    "counter_app.commands",         # db, case, rules, sla, demo, report
    "counter_app.sync.cli",         # sync run/status/export
    "counter_app.refplatform.cli",  # platform serve/import (the reference platform server)
    "counter_app.security.cli",     # keys, audit, archive, operators, retention
    "counter_app.deploy_cli",       # configure, selftest, diagnostics, db backup
    "devices.cli",                  # idcard, devices, photo, scan
    "printing.cli",                 # form/receipt/letter render, watermark, print, printers
    "ui.cli",                       # ui screenshots / smoke
)

# Which modules own each top-level command, so a command imports only what it needs
# (importing every extension costs seconds: FastAPI, OpenCV, Qt). ``--help`` and an
# unknown command load them all. A test checks this table against the real registrations.
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    **{c: ("counter_app.commands",) for c in ("case", "rules", "sla", "demo", "report")},
    "db": ("counter_app.commands", "counter_app.deploy_cli"),
    "sync": ("counter_app.sync.cli",),
    "platform": ("counter_app.refplatform.cli",),
    **{c: ("counter_app.security.cli",) for c in ("keys", "audit", "archive", "operators", "retention")},
    **{c: ("counter_app.deploy_cli",) for c in ("configure", "selftest", "diagnostics")},
    **{c: ("devices.cli",) for c in ("idcard", "devices", "photo", "scan")},
    **{c: ("printing.cli",) for c in ("form", "receipt", "letter", "watermark", "print", "printers")},
    "ui": ("ui.cli",),
}


class UserError(Exception):
    """A problem the person at the keyboard can fix; printed without traceback."""

    def __init__(self, message: str, exit_code: int = 2):
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; with ``command`` only the modules owning it are loaded."""
    parser = argparse.ArgumentParser(
        prog="counter-app",
        description="河南省退役军人服务“一件事”综合受理窗口",
    )
    parser.add_argument("--version", action="store_true", help="显示版本、构建版本号与数据库结构版本")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules = () if command == "--version" else COMMAND_MODULES.get(command or "", EXTENSION_MODULES)
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            # Only tolerate the extension itself being absent (e.g. a trimmed build),
            # not a broken import inside it.
            if exc.name and name.startswith(exc.name):
                continue
            raise
        register: Callable[[argparse._SubParsersAction], None] = getattr(module, "register")
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    if command is None and "--version" in argv:
        command = "--version"
    if command is None and not argv:
        command = "--version"  # no arguments starts the GUI: no subcommand module is needed
    parser = build_parser(command)
    args = parser.parse_args(argv)
    if args.version:
        from counter_app.version import version_text

        print(version_text())
        return 0
    if not getattr(args, "command", None):
        from counter_app.logs import setup_logging

        setup_logging()  # rotating files in the data directory; personal data filtered out
        try:
            from ui.app import run_gui
        except ImportError as exc:  # pragma: no cover - trimmed build without ui/
            print(f"无法启动图形界面：{exc}", file=sys.stderr)
            return 1
        return run_gui([])
    func = getattr(args, "func", None)
    if func is None:
        parser.parse_args(argv + ["--help"])
        return 2
    try:
        return int(func(args) or 0)
    except UserError as exc:
        print(f"错误：{exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
