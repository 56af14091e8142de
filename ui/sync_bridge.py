"""The sync worker seen from Qt: its status snapshots arrive on the GUI thread as a signal.

``counter_app.sync.SyncWorker(window)`` is plain ``threading`` (the core
imports no Qt) and reports each change by calling the listeners it was given, on *its own*
thread. :class:`SyncBridge` registers one such listener that does nothing but emit a private
signal; Qt queues it to the bridge (which lives on the GUI thread), and the bridge re-emits
``status_changed`` there. Widgets connect to ``status_changed`` and may touch themselves freely.

Thread contract:
- create, ``start``, ``stop``, ``wake``, ``pull_now`` on the GUI thread (they only signal the
  worker's thread; none blocks except ``stop``, which joins for at most a few seconds at exit);
- ``publish`` may be called from any thread;
- ``status_changed`` is always emitted on the GUI thread.

The status object is the sync package's ``counter_app.sync.SyncStatus`` snapshot; the status
bar reads ``online``, ``needs_credentials``, ``waiting``, ``quarantined``, ``oldest_waiting_at``,
``stale`` / ``warn_reason``, ``blocked`` / ``block_reason`` and ``last_error``.
"""
from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

log = logging.getLogger(__name__)


def acceptance_allowed(window) -> tuple[bool, str]:
    """May the window accept a new case now? ``(False, reason)`` when the oldest case waiting to
    sync is too old (``settings.stale_block_days``), ``(True, warning)`` when it is getting old:
    the sync package owns that rule. A short database read; the shell still calls it through
    ``ctx.tasks.db`` so a busy writer can never stall the GUI.
    """
    from counter_app.sync import acceptance_allowed as rule

    return rule(window)


class SyncBridge(QObject):
    status_changed = Signal(object)  # SyncStatus, on the GUI thread
    _incoming = Signal(object)       # emitted from the worker's thread

    def __init__(self, worker: Any = None, parent: QObject | None = None):
        super().__init__(parent)
        self._worker = worker
        self._last: Any = None
        self._started = False
        self._incoming.connect(self._deliver)
        if worker is not None:
            worker.add_listener(self.publish)

    @property
    def worker(self) -> Any:
        return self._worker

    @property
    def last_status(self) -> Any:
        """The latest snapshot delivered on the GUI thread (None before the first one)."""
        return self._last

    # ---- control (GUI thread) ------------------------------------------------------------
    def start(self) -> None:
        if self._worker is not None and not self._started:
            self._worker.start()
            self._started = True

    def stop(self) -> None:
        if self._worker is not None and self._started:
            self._started = False
            try:
                self._worker.stop()
            except Exception:  # shutting down: log, never raise into the closing window
                log.exception("停止同步线程时出错")

    def wake(self) -> None:
        """Try the outbox now (after a case was finalized) instead of waiting for the interval."""
        if self._worker is not None:
            self._worker.wake()

    def pull_now(self) -> None:
        """Fetch the worklist and department progress now."""
        if self._worker is not None:
            self._worker.pull_now()

    def retry_now(self) -> None:
        """Forget the back-off and send everything waiting now (the clerk pressed 立即同步)."""
        if self._worker is not None:
            self._worker.retry_now()

    # ---- delivery ---------------------------------------------------------------------------
    def publish(self, status: Any) -> None:
        """Any thread: hand a snapshot to the GUI thread. Only emits; never touches widgets."""
        self._incoming.emit(status)

    @Slot(object)
    def _deliver(self, status: Any) -> None:
        self._last = status
        self.status_changed.emit(status)
