"""Shared fixtures for the UI tests (pytest-qt, offscreen).

Every test gets the root conftest's fresh data directory and file key store. ``ctx`` is an
AppContext on the real services of that directory with its own task runners. A test that asks
for ``scene`` gets a demo day (``app.demo.scene``) in that directory instead: it is built once per
session in a template directory (with the operator accounts) and copied, because building it
(encryption, scrypt) takes seconds. ``operators`` are the accounts the security package
authenticates. Fixtures of the acceptance tests live in ``acceptance_fixtures.py``.
"""
from __future__ import annotations

import importlib.util
import shutil

import pytest

import ui.pyside_fixes  # noqa: F401 - PySide6 6.12's emit() reference leak (see the module)
from counter_app.cases import Actor

PASSWORD = "Window-pass-2026"
ACCOUNTS = (("clerk01", "clerk", "李晓燕"), ("clerk02", "clerk", "王建华"),
            ("supervisor01", "supervisor", "张卫国"), ("it01", "it_admin", "赵志强"))

if importlib.util.find_spec("tests.ui.acceptance_fixtures") is not None:
    from tests.ui.acceptance_fixtures import *  # noqa: F401,F403


@pytest.fixture
def app(qapp):
    """pytest-qt's QApplication with the bundled font and the style sheet applied."""
    from ui.app import ensure_application

    return ensure_application()


def _add_accounts(window) -> None:
    """The demo accounts, created as an installer would (the IT administrator last)."""
    from counter_app.security.access import directory
    from counter_app.security.operators import INSTALLER

    accounts = directory(window)
    for username, role, name in ACCOUNTS:
        accounts.add(INSTALLER, username, role, name, PASSWORD)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory):
    """A data directory holding the demo day and the accounts, built once."""
    import os

    from counter_app.services import open_window
    from app.demo.scene import populate

    home = tmp_path_factory.mktemp("ui-demo-template")
    saved = os.environ.get("COUNTER_APP_KEYSTORE")
    os.environ["COUNTER_APP_KEYSTORE"] = "file"
    try:
        w = open_window(home)
        try:
            built = populate(w)
            _add_accounts(w)
        finally:
            w.close()
    finally:
        if saved is None:
            os.environ.pop("COUNTER_APP_KEYSTORE", None)
        else:
            os.environ["COUNTER_APP_KEYSTORE"] = saved
    return home, built


@pytest.fixture
def demo_window(_fresh_home, demo_template):
    """The test's own copy of the demo day, opened like the application opens it."""
    from counter_app.services import open_window

    template, _ = demo_template
    shutil.copytree(template, _fresh_home, dirs_exist_ok=True)
    w = open_window(_fresh_home)
    yield w
    w.close()


@pytest.fixture
def scene(demo_window, demo_template):
    return demo_template[1]


def _uses_demo(request) -> bool:
    return "scene" in request.fixturenames or "demo_window" in request.fixturenames


def _store(request):
    """The demo copy when the test uses the demo day, else the root conftest's empty window."""
    return request.getfixturevalue("demo_window" if _uses_demo(request) else "window")


@pytest.fixture
def operators(request) -> dict[str, Actor]:
    """The accounts (already in the demo copy; created in an empty window otherwise)."""
    if not _uses_demo(request):
        _add_accounts(request.getfixturevalue("window"))
    return {username: Actor(username, role) for username, role, _ in ACCOUNTS}


@pytest.fixture
def ctx(app, request):
    from app.gui import hooks
    from ui.context import AppContext
    from ui.tasks import TaskRunners

    tasks = TaskRunners()
    context = AppContext(window=_store(request), tasks=tasks, actor=Actor("clerk01", "clerk"), hooks=hooks())
    yield context
    tasks.shutdown()


@pytest.fixture
def main_window(ctx, qtbot):
    """A factory: the main window for an actor, shown at the counter PCs' 1366×768."""
    from ui.main_window import MainWindow

    made = []

    def make(actor: Actor | None = None, **kwargs):
        ctx.actor = actor or ctx.actor
        kwargs.setdefault("idle_timeout_ms", 3_600_000)
        kwargs.setdefault("open_session", False)
        w = MainWindow(ctx, **kwargs)
        qtbot.addWidget(w)
        w.resize(1366, 768)
        w.show()
        # Window shortcuts (F2, F6, Ctrl+L) go to the active window, as on a real desktop.
        w.activateWindow()
        qtbot.waitUntil(w.isActiveWindow, timeout=5000)
        made.append(w)
        return w

    yield make
    from PySide6.QtCore import QCoreApplication, QEvent

    for w in made:
        w._closing_confirmed = True
        w.close()
    # Delete closed screens now, while the task runners still exist, so no timer of theirs
    # fires into the next test.
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
