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

from counter_app.errors import UserError

# Packages that add subcommands. Each module exposes ``register(sub)`` where
# ``sub`` is the argparse sub-parsers action; every parser it adds must set
# ``func`` (a callable taking the parsed args and returning an int exit code).
EXTENSION_MODULES: tuple[str, ...] = (
    "app.commands.cases",           # db, case, rules, sla, report
    "app.demo.commands",            # demo seed/start
    "app.commands.sync",         # sync run/status/export
    "refplatform.cli",  # platform serve/import (the reference platform server)
    "app.commands.security",     # keys, audit, operators, retention
    "app.commands.archive",      # archive verify/export, signing status/sign/selftest
    "app.commands.deploy",       # configure, selftest, diagnostics, db backup
    "devices.cli",                  # idcard, devices, photo, scan
    "printing.cli",                 # form/receipt/letter render, watermark, print, printers
    "app.commands.ui",               # ui screenshots / smoke
)

# Which modules own each top-level command, so a command imports only what it needs
# (importing every extension costs seconds: FastAPI, OpenCV, Qt). ``--help`` and an
# unknown command load them all. A test checks this table against the real registrations.
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    **{c: ("app.commands.cases",) for c in ("case", "rules", "sla", "report")},
    "demo": ("app.demo.commands",),
    "db": ("app.commands.cases", "app.commands.deploy"),
    "sync": ("app.commands.sync",),
    "platform": ("refplatform.cli",),
    **{c: ("app.commands.security",) for c in ("keys", "audit", "operators", "retention")},
    **{c: ("app.commands.archive",) for c in ("archive", "signing")},
    **{c: ("app.commands.deploy",) for c in ("configure", "selftest", "diagnostics")},
    **{c: ("devices.cli",) for c in ("idcard", "devices", "photo", "scan")},
    **{c: ("printing.cli",) for c in ("form", "receipt", "letter", "watermark", "print", "printers")},
    "ui": ("app.commands.ui",),
}


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
        module = importlib.import_module(name)
        register: Callable[[argparse._SubParsersAction], None] = getattr(module, "register")
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from counter_app.store.private import private_umask

    private_umask()  # every file this process creates is the owner's only (0600 / 0700)
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
        from app.gui import start_gui

        return start_gui()
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
    except Exception as exc:  # noqa: BLE001 - storage failures become a sentence, anything else re-raises
        from counter_app.store.health import explain

        message = explain(exc)
        if message is None:
            raise
        print(f"错误：{message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
