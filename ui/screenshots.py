"""Render every screen of the shell (and, through the acceptance
``ui.acceptance.screenshots.render_steps``, every acceptance step) to PNG files.

Used by ``counter-app ui screenshots DIR`` (README pictures, reviews) and by the test that
checks Chinese text is really drawn: each :class:`Shot` remembers the texts it shows and where,
so the test can check glyph coverage and look for ink in those rectangles.

The data is a demo day (``app.demo.scene``) in a throw-away data directory; the real code paths
load it (worklist, case detail, supervisor figures, settings), and each screen is grabbed once
its ``loaded`` signal fired.

Thread contract: GUI thread; call with a QApplication (``ensure_application``).
"""
from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QEventLoop, QRect, QTimer, SignalInstance
from PySide6.QtWidgets import QAbstractButton, QGroupBox, QLabel, QLineEdit, QTabBar, QWidget

from ui.context import AppHooks

log = logging.getLogger(__name__)

SCREEN_SIZE = (1366, 768)  # the counter PCs' screen


@dataclass
class Shot:
    name: str
    path: Path
    title: str
    texts: list[tuple[str, QRect]] = field(default_factory=list)  # visible texts, in PNG coordinates


def wait_for(signal: SignalInstance | None, timeout_ms: int = 10000, until: Callable[[], bool] | None = None) -> bool:
    """Run the event loop until ``signal`` fires (or ``until()`` holds); False on timeout."""
    if until is not None and until():
        return True
    loop = QEventLoop()
    fired = {"ok": False}

    def done(*_args) -> None:
        if until is None or until():
            fired["ok"] = True
            loop.quit()

    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    poll = QTimer()
    if signal is not None:
        signal.connect(done)
    if until is not None:
        poll.timeout.connect(done)
        poll.start(20)
    timer.start(timeout_ms)
    loop.exec()
    poll.stop()
    if signal is not None:
        try:
            signal.disconnect(done)
        except (RuntimeError, TypeError):
            pass
    return fired["ok"]


def settle(ms: int = 50) -> None:
    """Let queued paints and layouts run (style polish, table resizes)."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def visible_texts(root: QWidget) -> list[tuple[str, QRect]]:
    """Texts drawn on ``root`` with their rectangles in ``root``'s coordinates. While the lock
    screen covers the window, only its own texts are on screen."""
    out: list[tuple[str, QRect]] = []
    cover = root.findChild(QWidget, "lockScreen")
    scope = cover if cover is not None and cover.isVisible() else root
    for w in scope.findChildren(QWidget):
        if not w.isVisibleTo(root) or not w.isVisible():
            continue
        text = ""
        if isinstance(w, QLabel):
            text = w.text()
        elif isinstance(w, QAbstractButton):
            text = w.text()
        elif isinstance(w, QGroupBox):
            text = w.title()
        elif isinstance(w, QLineEdit):
            text = w.text() if w.echoMode() == QLineEdit.EchoMode.Normal else ""
        if isinstance(w, QTabBar):
            for i in range(w.count()):
                rect = w.tabRect(i)
                out.append((w.tabText(i).replace("&", ""), QRect(w.mapTo(root, rect.topLeft()), rect.size())))
            continue
        text = text.replace("&&", "\0").replace("&", "").replace("\0", "&").strip()
        if text and "<" not in text:
            out.append((text, QRect(w.mapTo(root, w.rect().topLeft()), w.size())))
    return out


def grab(widget: QWidget, out_dir: Path, name: str) -> Shot:
    settle()
    path = out_dir / f"{name}.png"
    pixmap = widget.grab()
    if not pixmap.save(str(path), "PNG"):
        raise OSError(f"无法写入截图文件 {path}")
    # grab() renders at the device pixel ratio; texts are in logical pixels.
    ratio = pixmap.devicePixelRatio() or 1.0
    texts = visible_texts(widget)
    if ratio != 1.0:
        texts = [(t, QRect(int(r.x() * ratio), int(r.y() * ratio), int(r.width() * ratio), int(r.height() * ratio)))
                 for t, r in texts]
    return Shot(name, path, widget.windowTitle(), texts)


def render_all(out_dir: Path, populate: Callable[..., Any], *, home: Path | None = None,
               hooks: AppHooks | None = None) -> list[Shot]:
    """Every screen of the shell, then the acceptance steps, on the demo day ``populate`` builds
    (``app.demo.scene.populate``: the demo belongs to the application, not to the screens);
    ``hooks``: the composition root's (the demo devices come from there)."""
    from counter_app.cases import Actor
    from counter_app.services import open_window
    from ui.app import build_context, close_context, ensure_application

    out_dir.mkdir(parents=True, exist_ok=True)
    ensure_application()
    temp = None
    if home is None:
        temp = tempfile.TemporaryDirectory(prefix="counter-shots-")
        home = Path(temp.name)
        # A throw-away demo directory: its keys go in a file inside it, never in the user's keyring.
        os.environ["COUNTER_APP_KEYSTORE"] = "file"
    window = open_window(home)
    shots: list[Shot] = []
    try:
        window.settings.set("demo_mode", True)
        if window.cases.count() == 0:
            populate(window)
        ctx = build_context(window, demo=True, start_sync=False, hooks=hooks)
        try:
            shots += _shell_shots(ctx, out_dir, Actor)
            shots += _acceptance_shots(ctx, out_dir)
        finally:
            close_context(ctx)
    finally:
        window.close()
        if temp is not None:
            temp.cleanup()
    return shots


def _demo_sync_status(window):
    import dataclasses

    from counter_app.sync import sync_status

    return dataclasses.replace(sync_status(window), online=True)


def _shell_shots(ctx, out_dir: Path, Actor) -> list[Shot]:
    from ui.login_dialog import LoginDialog
    from ui.main_window import MainWindow

    shots: list[Shot] = []
    w, h = SCREEN_SIZE

    login = LoginDialog(ctx)
    login.resize(560, 360)
    login.show()
    shots.append(grab(login, out_dir, "01-登录"))
    login.close()

    status = _demo_sync_status(ctx.window)

    def main_for(actor) -> MainWindow:
        ctx.actor = actor
        main = MainWindow(ctx, idle_timeout_ms=3_600_000, open_session=False)
        main.resize(w, h)
        main.show()
        if status is not None:
            main.status.show_sync_status(status)
        return main

    main = main_for(Actor("clerk01", "clerk"))
    wait_for(main.worklist.loaded)
    shots.append(grab(main, out_dir, "02-工作台"))

    rows = main.worklist.model.rows
    target = next((r for r in rows if r.sla == "overdue"), rows[0] if rows else None)
    if target is not None:
        main.worklist.search.setText(target.case_no)
        main.worklist.run_search()
        wait_for(main.worklist.loaded)
        shots.append(grab(main, out_dir, "03-按办件编号查找"))
        main.show_case_detail(target.key)
        wait_for(main.detail.loaded)
        shots.append(grab(main, out_dir, "04-办件详情-进度"))
        main.detail.tabs.setCurrentIndex(1)
        shots.append(grab(main, out_dir, "05-办件详情-办理经过"))
    main.lock()
    shots.append(grab(main, out_dir, "06-锁屏"))
    main._closing_confirmed = True
    main.close()

    main = main_for(Actor("supervisor01", "supervisor"))
    wait_for(main.worklist.loaded)
    main.show_supervisor()
    wait_for(main.supervisor.loaded)
    shots.append(grab(main, out_dir, "07-当日概况"))
    main._closing_confirmed = True
    main.close()

    main = main_for(Actor("it01", "it_admin"))
    wait_for(main.settings_page.loaded)
    shots.append(grab(main, out_dir, "08-系统设置"))
    main.settings_page.tabs.setCurrentIndex(main.settings_page.tabs.count() - 1)
    main.settings_page.selftest()
    wait_for(main.settings_page.loaded, 20000)
    shots.append(grab(main, out_dir, "09-设备自检"))
    main._closing_confirmed = True
    main.close()
    ctx.actor = None
    return shots


def _acceptance_shots(ctx, out_dir: Path) -> list[Shot]:
    """The acceptance steps."""
    from counter_app.cases import Actor
    from ui.acceptance.screenshots import render_steps

    ctx.actor = Actor("clerk01", "clerk")
    shots = []
    for path in render_steps(ctx, out_dir):
        shots.append(Shot(Path(path).stem, Path(path), "", []))
    return shots

