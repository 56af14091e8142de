"""The sync worker thread: probing, draining, backing off, asking for credentials, pulling progress,
and surviving the platform being killed and restarted mid-drain."""
from __future__ import annotations

import threading

import requests
from sqlalchemy import select

from counter_app.lifecycle import CaseState
from counter_app.store.models import ItemStatusEvent
from counter_app.sync.client import PlatformClient
from counter_app.sync.status import SyncStatus
from counter_app.sync.worker import SyncWorker
from tests.sync.faultproxy import PASS, REFUSE, RESPOND, FaultProxy
from tests.sync.helpers import TOKEN, make_cases, outbox_counts, wait_until


class Recorder:
    """A listener that keeps every snapshot and the thread it was called on."""

    def __init__(self):
        self.snapshots: list[SyncStatus] = []
        self.threads: set[str] = set()
        self.event = threading.Event()

    def __call__(self, st: SyncStatus) -> None:
        self.snapshots.append(st)
        self.threads.add(threading.current_thread().name)
        self.event.set()

    @property
    def last(self) -> SyncStatus | None:
        return self.snapshots[-1] if self.snapshots else None


def _worker(window, url, policy, **kw) -> SyncWorker:
    return SyncWorker(window, policy=policy, pull_interval=kw.pop("pull_interval", 3600),
                      client_factory=lambda token: PlatformClient(url, token, requests.Session(), timeout=(1.0, 5.0)),
                      **kw)


def test_worker_drains_on_wake_and_reports_on_its_own_thread(sync_window, platform, fast_policy):
    w = sync_window
    rec = Recorder()
    worker = _worker(w, platform.url, fast_policy)
    worker.add_listener(rec)
    worker.start()
    try:
        wait_until(lambda: rec.last is not None and rec.last.online is True, what="first round", event=rec.event)
        make_cases(w, 3, seed=31)
        worker.wake()
        wait_until(lambda: rec.last.acked == 3 and rec.last.waiting == 0, what="3 acked", event=rec.event)
    finally:
        worker.stop()
    assert not worker.is_alive()
    assert rec.threads == {"sync-worker"}
    assert rec.last.summary.startswith("已连接省平台")
    assert rec.last.last_success_at is not None and not rec.last.block_new


def test_probe_judges_connectivity_by_the_platform_itself(sync_window, platform, fast_policy):
    """A captive portal answering 200 with HTML is not "online"; neither is a refused connection.
    When the platform answers again, everything waiting is sent at once (no leftover backoff)."""
    w = sync_window
    make_cases(w, 2, seed=32)
    mode = {"f": "portal"}

    def faults(m, p, n):
        if mode["f"] == "portal":
            return RESPOND(200, "<html>请登录上网认证</html>".encode(), {"Content-Type": "text/html"})
        return REFUSE if mode["f"] == "down" else PASS

    rec = Recorder()
    with FaultProxy(("127.0.0.1", platform.port), faults) as proxy:
        worker = _worker(w, proxy.url, fast_policy)
        worker.add_listener(rec)
        worker.start()
        try:
            wait_until(lambda: rec.last is not None and rec.last.online is False, event=rec.event, what="portal")
            assert "无法识别" in rec.last.last_error or "拦截" in rec.last.last_error
            mode["f"] = "down"
            wait_until(lambda: "无法连接" in rec.last.last_error, event=rec.event, what="down")
            assert rec.last.online is False and rec.last.waiting == 2
            mode["f"] = "up"
            wait_until(lambda: rec.last.online is True and rec.last.acked == 2, event=rec.event, what="back up")
        finally:
            worker.stop()
    assert rec.last.last_error == ""
    # The probe went to the platform's own endpoint.
    assert proxy.seen("GET", "/api/v1/health") >= 3


def test_refused_credential_asks_for_a_new_one(sync_window, platform, fast_policy, monkeypatch):
    w = sync_window
    make_cases(w, 2, seed=33)
    monkeypatch.setenv("COUNTER_APP_PLATFORM_TOKEN", "revoked-window-token")
    rec = Recorder()
    worker = _worker(w, platform.url, fast_policy)
    worker.add_listener(rec)
    worker.start()
    try:
        wait_until(lambda: rec.last is not None and rec.last.needs_credentials, event=rec.event, what="401")
        assert rec.last.waiting == 2 and rec.last.quarantined == 0 and "凭据" in rec.last.last_error
        monkeypatch.setenv("COUNTER_APP_PLATFORM_TOKEN", TOKEN)
        worker.retry_now()
        wait_until(lambda: rec.last.acked == 2 and not rec.last.needs_credentials, event=rec.event, what="resumed")
    finally:
        worker.stop()


def test_no_credential_at_all(window, platform, fast_policy, monkeypatch):
    monkeypatch.setenv("COUNTER_APP_PLATFORM_URL", platform.url)
    st = SyncWorker(window, policy=fast_policy).run_once().status
    assert st.needs_credentials and "登记" in st.last_error
    from counter_app.sync.status import sync_status

    assert sync_status(window).needs_credentials  # remembered for other processes (CLI)


def test_progress_and_worklist_are_pulled(sync_window, platform, fast_policy):
    w = sync_window
    recs = make_cases(w, 2, seed=34)
    worker = _worker(w, platform.url, fast_policy)
    first = worker.run_once()
    assert first.drain.acked == 2 and first.worklist >= 3
    platform.clock.advance(3600 * 40)
    second = worker.run_once()
    assert second.progress.checked == 2 and second.progress.changed_items > 0
    third = worker.run_once()
    assert third.progress.changed_items == 0  # an overlapping pull changes nothing
    for r in recs:
        got = w.cases.get(r.id)
        assert got.state == CaseState.COMPLETED
        assert all(p["sla"] in ("done", "no_deadline", "on_time", "at_risk", "overdue") for p in got.progress)
    with w.sessions() as s:
        events = s.execute(select(ItemStatusEvent).where(ItemStatusEvent.source == "platform",
                                                         ItemStatusEvent.case_id == recs[0].id)).scalars().all()
    server = {it["item"]: it for it in platform.store.progress([f"{recs[0].case_no}/v1"])["cases"][0]["items"]}
    # Each department status change is stored with the department's own time.
    for n, it in server.items():
        mine = [(e.to_status, e.at.isoformat(timespec="seconds")) for e in events if e.item == n][-1]
        assert mine[0] == it["status"]
        assert mine[1][:19] == _utc(it["updated_at"])[:19]


def _utc(iso: str) -> str:
    import datetime as _dt

    return _dt.datetime.fromisoformat(iso).astimezone(_dt.timezone.utc).isoformat()


def test_platform_killed_and_restarted_mid_drain(window, platform_process, fast_policy, monkeypatch):
    """SIGKILL the platform process while the worker drains 24 cases; restart it on the same port
    and data: every case ends up on the platform exactly once."""
    monkeypatch.setenv("COUNTER_APP_PLATFORM_URL", platform_process.url)
    monkeypatch.setenv("COUNTER_APP_PLATFORM_TOKEN", TOKEN)
    recs = make_cases(window, 24, seed=35, scan_bytes=40_000)
    rec = Recorder()
    worker = _worker(window, platform_process.url, fast_policy)
    worker.add_listener(rec)
    worker.start()
    try:
        watcher = PlatformClient(platform_process.url, TOKEN, requests.Session())
        held = []
        wait_until(lambda: held.append(watcher.list_cases()["total"]) or held[-1] >= 3, timeout=60,
                   what="drain started")
        platform_process.kill()
        assert held[-1] < 24, "the platform must be killed in the middle of the drain"
        wait_until(lambda: rec.last is not None and rec.last.online is False, event=rec.event, what="offline seen")
        assert outbox_counts(window).get("waiting", 0) > 0
        platform_process.start()
        wait_until(lambda: rec.last.acked == 24, timeout=60, event=rec.event, what="all acked after restart")
    finally:
        worker.stop()
    client = PlatformClient(platform_process.url, TOKEN, requests.Session())
    listing = client.list_cases(page_size=100)
    keys = [c["business_key"] for c in listing["items"]]
    assert sorted(keys) == sorted(f"{r.case_no}/v1" for r in recs)
    assert len(set(keys)) == len(keys) == 24
    assert all(c["attachments_held"] for c in listing["items"])
