"""Background work for the GUI: run a function off the GUI thread, get the result back on it.

Usage (from the GUI thread)::

    tasks.run(ctx.window.cases.finalize, case_id, app, actor,
              on_success=self._finalized, on_failure=self._show_error)

Thread contract: ``fn`` runs on a worker thread and must not touch widgets; ``on_success`` /
``on_failure`` are called on the GUI thread (delivered through a queued Qt signal).
Database writes go to a single-thread runner (``TaskRunners.db``) so they never race;
network, device and rendering work goes to ``TaskRunners.io``.
"""
from __future__ import annotations

import itertools
import logging
import traceback
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal, Slot

log = logging.getLogger(__name__)


class TaskRunner(QObject):
    """Runs callables on a thread pool; callbacks arrive on the thread that owns this object.

    The callbacks are kept here, on the owning (GUI) thread, and only a ticket number travels
    through the worker: if the worker held the last reference to a callback (a bound method of a
    widget), releasing it there could destroy the widget off the GUI thread, which Qt forbids.
    """

    _done = Signal(int, bool, object)  # ticket, succeeded, result or exception

    def __init__(self, name: str, max_workers: int = 1, parent: QObject | None = None):
        super().__init__(parent)
        self.name = name
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix=f"ui-{name}")
        self._callbacks: dict[int, tuple[Callable[[Any], None] | None, Callable[[BaseException], None] | None]] = {}
        self._tickets = itertools.count(1)
        self._done.connect(self._deliver)

    def run(self, fn: Callable[..., Any], *args: Any, on_success: Callable[[Any], None] | None = None,
            on_failure: Callable[[BaseException], None] | None = None, **kwargs: Any) -> Future:
        ticket = next(self._tickets)
        try:
            future = self._pool.submit(fn, *args, **kwargs)
        except RuntimeError:
            # the program is ending (a late answer asked for one more job): nothing to run it on
            log.info("程序正在退出，未执行后台任务（%s）", self.name)
            future = Future()
            future.cancel()
            return future
        self._callbacks[ticket] = (on_success, on_failure)
        done = self._done
        name = self.name

        def finished(f: Future) -> None:  # runs on the worker thread: only emit
            if f.cancelled():  # dropped at shutdown: nobody waits for its answer
                return
            exc = f.exception()
            if exc is not None:
                log.debug("后台任务失败（%s）：%s", name, "".join(traceback.format_exception(exc)))
                done.emit(ticket, False, exc)
            else:
                done.emit(ticket, True, f.result())

        future.add_done_callback(finished)
        return future

    @Slot(int, bool, object)
    def _deliver(self, ticket: int, succeeded: bool, payload: Any) -> None:
        on_success, on_failure = self._callbacks.pop(ticket, (None, None))
        if succeeded:
            if on_success is not None:
                on_success(payload)
        elif on_failure is not None:
            on_failure(payload)
        else:
            log.error("后台任务失败（%s）：%s", self.name, "".join(traceback.format_exception(payload)))

    @property
    def busy(self) -> bool:
        return bool(self._callbacks)

    def shutdown(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=True)


class TaskRunners(QObject):
    """The two runners every screen shares: ``db`` (one thread, serialised writes) and ``io``."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.db = TaskRunner("db", 1, self)
        self.io = TaskRunner("io", 3, self)

    @property
    def busy(self) -> bool:
        return self.db.busy or self.io.busy

    def shutdown(self) -> None:
        self.db.shutdown()
        self.io.shutdown()
