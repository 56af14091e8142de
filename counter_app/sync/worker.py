"""The sync worker: one plain thread (no Qt) that keeps the window and the platform in step.

Each round:
1. without a credential, or after the platform refused it (401/403), nothing is sent: the status
   says ``needs_credentials`` until a credential is set (``set_token``) or ``retry_now`` is called;
2. connectivity is judged by probing the platform endpoint itself (``GET /health``), not by the
   operating system's "online" flag, whenever the platform was not known to be reachable; when it
   comes back, every waiting case is made due at once;
3. the outbox is drained oldest first (see ``outbox``); network errors, 5xx, 408 and 429 end the
   round and the worker waits an exponential backoff with full jitter (base ~2 s, cap ~5 min),
   never less than a ``Retry-After``;
4. the platform's acknowledged state (case count, key digest, audit head) is compared with the
   store (``reconcile.check_acknowledged``) at start and after every drain; a mismatch is audited
   and stays in the status (``SyncStatus.mismatch``) until a later comparison agrees;
5. every ``sync_interval_seconds`` (and on ``pull_now``): department progress for open cases,
   the center's worklist, pending 好差评 ratings, then the SLA states are recomputed;
6. a ``SyncStatus`` snapshot goes to every listener.

Between rounds the thread sleeps on an event until the next case is due, the next pull, or a
``wake``/``pull_now``/``retry_now``/``stop`` call, whichever is first: no polling loop.

Thread contract:
- ``start``, ``wake``, ``pull_now``, ``retry_now``, ``add_listener``, ``remove_listener`` and
  ``status`` never block: call them from any thread, the GUI thread included. The constructor
  reads one row (the last known status) and ``stop`` joins the thread (bounded by ``timeout``; an
  HTTP call in flight is bounded by its own timeouts).
- While it drains, the worker runs two short-lived helpers of its own (``sync-worker-prepare``
  reads and decrypts the next cases, ``sync-worker-ack`` commits receipts); both end with the drain.
- Listeners are called **on the worker's thread** with an immutable ``SyncStatus``; they must not
  touch widgets (the UI's bridge re-emits them as a Qt signal) and must return quickly.
- ``run_once`` performs one round synchronously on the calling thread (CLI, tests); do not call it
  while the thread is running.
"""
from __future__ import annotations

import datetime as _dt
import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

from counter_app.statuses import DrainStop
from counter_app.sync.backoff import RetryPolicy
from counter_app.sync.client import CredentialsError, PlatformClient, SyncError, TransientError, client_for
from counter_app.sync.credentials import get_token
from counter_app.sync.followups import push_followups
from counter_app.sync.outbox import DrainReport, OutboxDrainer, next_due_at, push_ratings, retry_all_now, utcnow
from counter_app.sync.progress import ProgressReport, pull_progress
from counter_app.sync.reconcile import AcknowledgedCheck, check_acknowledged, record_finding
from counter_app.sync.status import SyncStatus, read_runtime, sync_status, write_runtime
from counter_app.sync.transport import TransportConfigError
from counter_app.sync.worklist import fetch_worklist

log = logging.getLogger(__name__)

NO_CREDENTIAL = "尚未登记省平台窗口凭据：办件已保存在本机，登记凭据后自动上报。"
CREDENTIAL_REFUSED = "省平台拒绝了本窗口的凭据：请技术人员重新登记凭据。办件已保存在本机。"


@dataclass
class RoundResult:
    drain: DrainReport | None
    progress: ProgressReport | None
    worklist: int | None
    ratings: int
    status: SyncStatus
    wait_seconds: float
    acknowledged: AcknowledgedCheck | None = None


class SyncWorker:
    def __init__(self, window, *, clock: Callable[[], _dt.datetime] | None = None,
                 client_factory: Callable[[str], PlatformClient] | None = None, policy: RetryPolicy | None = None,
                 pull_interval: float | None = None, idle_probe_interval: float = 60.0, name: str = "sync-worker"):
        self.window = window
        self.clock = clock or utcnow
        self.policy = policy or RetryPolicy()
        self.pull_interval = float(pull_interval if pull_interval is not None else window.settings.sync_interval_seconds)
        self.idle_probe_interval = idle_probe_interval
        self._client_factory = client_factory or (lambda token: client_for(window, token=token))
        self._name = name
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._listeners: list[Callable[[SyncStatus], None]] = []
        self._pull_requested = True  # pull once at start
        self._retry_requested = False
        self._client: PlatformClient | None = None
        self._client_token: str | None = None
        self._refused_token: str | None = None
        self._failures = 0
        self._next_pull = 0.0  # time.monotonic()
        self._last_publish = 0.0
        saved = read_runtime(window)
        self._runtime = {"online": None, "needs_credentials": False, "last_error": "",
                         "last_success_at": saved.get("last_success_at"), "checked_at": None,
                         "mismatch": str(saved.get("mismatch") or ""),
                         "mismatch_signature": str(saved.get("mismatch_signature") or "")}
        self._status: SyncStatus | None = None
        self.rounds = 0

    # ---- control (any thread) ----------------------------------------------------------------
    def start(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(timeout)

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wake(self) -> None:
        """Drain what is due now (e.g. right after a case was finalized)."""
        self._wake.set()

    def pull_now(self) -> None:
        """Fetch progress, the worklist and send ratings now."""
        with self._lock:
            self._pull_requested = True
        self._wake.set()

    def retry_now(self) -> None:
        """The clerk pressed 立即上报: forget backoff, probe and send everything waiting now."""
        with self._lock:
            self._retry_requested = True
            self._refused_token = None
        self._wake.set()

    def add_listener(self, callback: Callable[[SyncStatus], None]) -> None:
        with self._lock:
            self._listeners.append(callback)

    def remove_listener(self, callback: Callable[[SyncStatus], None]) -> None:
        with self._lock:
            if callback in self._listeners:
                self._listeners.remove(callback)

    @property
    def status(self) -> SyncStatus | None:
        """The last snapshot published (None before the first round)."""
        return self._status

    # ---- the thread --------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                wait = self._round().wait_seconds
            except Exception:  # noqa: BLE001 - the worker must survive anything; the next round retries
                log.exception("同步出错")
                self._failures += 1
                self._set(last_error="同步时发生内部错误，稍后自动重试；如反复出现请联系技术人员。")
                wait = self.policy.delay(self._failures)
                self._publish(force=True)
            if self._stop.is_set():
                break
            self._wake.wait(max(0.0, wait))
            self._wake.clear()

    def run_once(self, *, ignore_schedule: bool = True, pull: bool = True) -> RoundResult:
        with self._lock:
            self._pull_requested = self._pull_requested or pull
        return self._round(ignore_schedule=ignore_schedule)

    def _round(self, *, ignore_schedule: bool = False) -> RoundResult:
        self.rounds += 1
        with self._lock:
            retry, self._retry_requested = self._retry_requested, False
        drain = progress = acknowledged = None
        worklist = None
        ratings = 0

        def done(wait: float) -> RoundResult:
            status = self._publish(force=True)
            return RoundResult(drain, progress, worklist, ratings, status, wait, acknowledged)

        token = get_token(self.window)
        if not token:
            self._set(needs_credentials=True, last_error=NO_CREDENTIAL)
            return done(self.idle_probe_interval)
        if token == self._refused_token:
            self._set(needs_credentials=True, last_error=CREDENTIAL_REFUSED)
            return done(self.idle_probe_interval)
        try:
            client = self._client_for(token)
        except TransportConfigError as exc:
            self._set(online=False, last_error=exc.message)
            return done(self.idle_probe_interval)

        if retry:
            retry_all_now(self.window, now=self.clock())
        if self._runtime["online"] is not True or retry:
            try:
                client.health()
            except SyncError as exc:
                self._failures += 1
                self._set(online=False, last_error=exc.message, checked_at=self._now_iso())
                return done(self.policy.delay(self._failures, getattr(exc, "retry_after", None)))
            came_back = self._runtime["online"] is False
            self._set(online=True, checked_at=self._now_iso())
            if came_back:
                retry_all_now(self.window, now=self.clock())
                ignore_schedule = True

        drainer = OutboxDrainer(self.window, client, policy=self.policy, clock=self.clock,
                                on_acked=lambda _bk, _a: self._publish())
        self._set(draining=True)
        try:
            drain = drainer.drain(stop=self._stop, ignore_schedule=ignore_schedule)
        finally:
            self._set(draining=False)
        if drain.acked:
            self._set(last_success_at=self._now_iso())
        if drain.stop is DrainStop.CREDENTIALS:
            self._refused_token = token
            self._set(needs_credentials=True, last_error=drain.error or CREDENTIAL_REFUSED)
            return done(self.idle_probe_interval)
        self._set(needs_credentials=False)
        if drain.stop is not None and drain.stop.retry_later:
            self._failures += 1
            if drain.stop is DrainStop.OFFLINE:
                self._set(online=False, checked_at=self._now_iso())
            self._set(last_error=drain.error)
            return done(self.policy.delay(self._failures, drain.retry_after))
        if drain.stop is DrainStop.STOPPED:
            return done(0.0)
        self._failures = 0
        self._set(last_error=drain.error if drain.quarantined else "")
        acknowledged = self._compare_acknowledged(client)

        with self._lock:
            pull, self._pull_requested = self._pull_requested or time.monotonic() >= self._next_pull, False
        if pull:
            try:
                push_followups(self.window, client)   # first: a letter sent now shows in this pull
                progress = pull_progress(self.window, client)
                worklist = fetch_worklist(self.window, client)
                ratings = push_ratings(self.window, client)
                self.window.cases.refresh_sla()
                self._next_pull = time.monotonic() + self.pull_interval
                self._set(pulled_at=self._now_iso())
            except CredentialsError as exc:
                self._refused_token = token
                self._set(needs_credentials=True, last_error=exc.message)
                return done(self.idle_probe_interval)
            except TransientError as exc:
                self._failures += 1
                if exc.offline:
                    self._set(online=False, checked_at=self._now_iso())
                self._set(last_error=exc.message)
                with self._lock:
                    self._pull_requested = True
                return done(self.policy.delay(self._failures, exc.retry_after))
            except SyncError as exc:
                self._set(last_error=exc.message)
                self._next_pull = time.monotonic() + self.pull_interval
        return done(self._idle_wait())

    # ---- helpers -----------------------------------------------------------------------------
    def _compare_acknowledged(self, client: PlatformClient) -> AcknowledgedCheck | None:
        """At start and after every drain. A failed comparison keeps the last finding shown: a
        mismatch is cleared only by a comparison that agrees."""
        try:
            check = check_acknowledged(self.window, client)
        except SyncError as exc:
            log.warning("未能与省平台核对已确认的办件：%s", exc.message)
            return None
        signature = record_finding(self.window, check, self._runtime.get("mismatch_signature") or "")
        if not check.ok:
            log.error("与省平台核对不一致：平台%s件，本机已确认%s件，本机缺%s件", check.platform_cases,
                      check.local_acked, len(check.missing_locally))
        self._set(mismatch=check.message, mismatch_signature=signature)
        return check

    def _client_for(self, token: str) -> PlatformClient:
        if self._client is None or self._client_token != token:
            self._client = self._client_factory(token)
            self._client_token = token
        return self._client

    def _idle_wait(self) -> float:
        wait = max(0.0, self._next_pull - time.monotonic())
        due = next_due_at(self.window)
        if due is not None:
            wait = min(wait, max(0.0, (due - self.clock()).total_seconds()))
        return wait

    def _now_iso(self) -> str:
        return self.clock().isoformat()

    def _set(self, **values) -> None:
        changed = False
        with self._lock:
            for k, v in values.items():
                if self._runtime.get(k) != v:
                    self._runtime[k] = v
                    changed = True
        if changed and set(values) - {"draining", "checked_at"}:
            try:
                write_runtime(self.window, {k: v for k, v in self._runtime.items() if k != "draining"})
            except Exception:  # noqa: BLE001 - the status file is a convenience, never a reason to stop
                log.exception("无法保存同步状态")

    def _publish(self, *, force: bool = False) -> SyncStatus:
        now = time.monotonic()
        if not force and now - self._last_publish < 0.2 and self._status is not None:
            return self._status
        self._last_publish = now
        with self._lock:
            runtime = dict(self._runtime)
            listeners = list(self._listeners)
        status = sync_status(self.window, now=self.clock(), runtime=runtime)
        self._status = status
        for cb in listeners:
            try:
                cb(status)
            except Exception:  # noqa: BLE001 - a faulty listener must not stop sync
                log.exception("同步状态监听器出错")
        return status
