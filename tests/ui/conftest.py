"""Shared fixtures for the UI tests (pytest-qt, offscreen).

Every test gets the root conftest's fresh data directory and file key store. ``ctx`` is an
AppContext on the real services of that directory with its own task runners; ``scene`` fills the
store with a demo day (``ui.demo_scene``); ``operators`` creates the accounts the security
package authenticates. Fixtures of the acceptance tests live in ``acceptance_fixtures.py``.
"""
from __future__ import annotations

import importlib.util

import pytest

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


@pytest.fixture
def operators(window) -> dict[str, Actor]:
    """The demo accounts, created as an installer would (the IT administrator last)."""
    from counter_app.security.access import directory
    from counter_app.security.operators import INSTALLER

    accounts = directory(window)
    for username, role, name in ACCOUNTS:
        accounts.add(INSTALLER, username, role, name, PASSWORD)
    return {username: Actor(username, role) for username, role, _ in ACCOUNTS}


@pytest.fixture
def ctx(app, window):
    from ui.context import AppContext
    from ui.tasks import TaskRunners

    tasks = TaskRunners()
    context = AppContext(window=window, tasks=tasks, actor=Actor("clerk01", "clerk"))
    yield context
    tasks.shutdown()


@pytest.fixture
def scene(window):
    from ui.demo_scene import populate

    return populate(window)


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
        made.append(w)
        return w

    yield make
    for w in made:
        w._closing_confirmed = True
        w.close()
