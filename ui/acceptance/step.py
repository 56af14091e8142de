"""What every acceptance step has in common.

A step is a widget bound to the shared :class:`~ui.acceptance.session.AcceptanceSession`:

* ``enter()`` shows the session's current values (the step became visible);
* ``commit()`` writes what the clerk typed back into ``session.app`` (cheap, synchronous);
* ``blockers()`` lists, in plain Chinese, what must be done before the clerk may go on;
* ``advance(proceed)`` does any asynchronous work needed to finish the step (create the draft,
  finalize) and calls ``proceed()`` on the GUI thread when done — the default finishes at once;
* ``leave()`` runs when the clerk moves away (stop the camera…).

Blocking work goes through :meth:`Step.run_db` / :meth:`Step.run_io`, which count the step as
busy while a job is out and turn failures into a sentence for the clerk (``ui.errors``).

Thread contract: GUI thread only.
"""
from __future__ import annotations

from typing import Any, Callable

import shiboken6
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ui.acceptance.session import AcceptanceSession
from ui.acceptance.style import set_role
from ui.errors import user_message


class Step(QWidget):
    key = ""
    title = ""
    #: function-key actions of this step: list of (key text, label, callable name)
    actions: tuple[tuple[str, str, str], ...] = ()

    changed = Signal()              # the application was edited
    notify = Signal(str, str)       # message, level (ok / info / warning / error)
    request_next = Signal()         # the step finished something that moves the case on
    busy_changed = Signal(bool)

    def __init__(self, ctx: Any, session: AcceptanceSession, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.session = session
        self._busy = 0
        self.read_only = False
        self.read_only_applied = True   # False: read_only was set but the widgets not yet locked

    # ------------------------------------------------------------------ protocol
    def enter(self) -> None:
        pass

    def commit(self) -> None:
        pass

    def leave(self) -> None:
        self.commit()

    def blockers(self) -> list[str]:
        return []

    def advance(self, proceed: Callable[[], None]) -> None:
        proceed()

    def focus_first(self) -> None:
        self.focusNextChild()

    def set_read_only(self, read_only: bool) -> None:
        self.read_only = read_only

    def request_next_soon(self) -> None:
        """Ask to move on at the next turn of the event loop: the handler that finished the step
        returns first, so showing the next step does not lengthen it."""
        QTimer.singleShot(0, self, self.request_next.emit)

    # ------------------------------------------------------------------ helpers
    @property
    def busy(self) -> bool:
        return self._busy > 0

    def _job(self, runner, fn: Callable, args: tuple, kwargs: dict, doing: str,
             on_success: Callable[[Any], None] | None, on_failure: Callable[[BaseException], None] | None):
        self._busy += 1
        if self._busy == 1:
            self.busy_changed.emit(True)

        def done(result: Any) -> None:
            if not shiboken6.isValid(self):
                return  # the acceptance was closed while the job ran (a slow platform look-up)
            self._release()
            if on_success is not None:
                on_success(result)

        def failed(exc: BaseException) -> None:
            if not shiboken6.isValid(self):
                return
            self._release()
            if on_failure is not None:
                on_failure(exc)
            else:
                self.notify.emit(user_message(exc, doing), "error")

        return runner.run(fn, *args, on_success=done, on_failure=failed, **kwargs)

    def _release(self) -> None:
        self._busy = max(0, self._busy - 1)
        if self._busy == 0:
            self.busy_changed.emit(False)

    def run_db(self, fn: Callable, *args: Any, doing: str = "保存", on_success=None, on_failure=None, **kwargs: Any):
        return self._job(self.ctx.tasks.db, fn, args, kwargs, doing, on_success, on_failure)

    def run_io(self, fn: Callable, *args: Any, doing: str = "处理", on_success=None, on_failure=None, **kwargs: Any):
        return self._job(self.ctx.tasks.io, fn, args, kwargs, doing, on_success, on_failure)

    def platform_available(self) -> bool:
        """A sync bridge is attached and its last round did not find the platform unreachable."""
        status = self.ctx.sync.last_status if self.ctx.sync is not None else None
        return self.ctx.sync is not None and (status is None or status.online is not False)

    @property
    def actor(self):
        from counter_app.cases import Actor

        return self.ctx.actor or Actor("counter", "clerk")


def page_layout(step: Step, title: str, intro: str = "") -> QVBoxLayout:
    lay = QVBoxLayout(step)
    lay.setContentsMargins(16, 10, 16, 6)
    lay.setSpacing(8)
    t = QLabel(title)
    set_role(t, "title")
    lay.addWidget(t)
    if intro:
        i = QLabel(intro)
        i.setWordWrap(True)
        set_role(i, "hint")
        lay.addWidget(i)
    return lay
