"""The window killed with SIGKILL at random moments while saving and while draining.

A parent that has already imported everything forks children (multiprocessing "fork": start-up
costs a fork, not an interpreter) that finalize cases, drain the outbox to the reference platform
(a real server process on loopback), or both at once on two threads as the application does.
Each child reports every SQL statement and every HTTP answer as one byte on a pipe; the parent
picks a random count and SIGKILLs the child the moment it has seen that many, so kills land inside
transactions, between the platform's answer and the local acknowledgement, mid-upload, mid-fsync.

Afterwards a clean drain runs, and: the platform holds every case exactly once, with its
attachments; every local acknowledgement matches the platform's receipt; the database passes
``PRAGMA integrity_check`` and ``foreign_key_check``; the audit chain verifies; nothing is orphaned.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import random
import select
import signal
import time

import requests
from sqlalchemy import event, func, select as sql_select

from counter_app import audit
from counter_app.lifecycle import CaseState
from counter_app.services import open_window
from counter_app.store.models import Attachment, CaseAttachment, CaseRow, OutboxEntry
from counter_app.sync.backoff import RetryPolicy
from counter_app.sync.client import PlatformClient
from counter_app.sync.outbox import OutboxDrainer, waiting_entries
from tests.sync.helpers import TOKEN, finalized_case

KILLS = int(os.environ.get("COUNTER_APP_SIGKILL_ROUNDS", "200"))
CTX = mp.get_context("fork")


def _client(url: str) -> PlatformClient:
    # Small upload chunks so that kills also land between the chunks of a resumable upload.
    return PlatformClient(url, TOKEN, requests.Session(), timeout=(2.0, 10.0), upload_chunk=16 * 1024)


def _child(home: str, url: str, mode: str, fd: int, seed: int) -> None:
    """Runs in the forked child until it is killed. Never returns normally in practice."""
    def tick(*_a, **_k) -> None:
        try:
            os.write(fd, b".")
        except OSError:
            pass

    w = open_window(home, migrate=False)  # the parent migrated; a child starts with its first write
    event.listen(w.engine, "before_cursor_execute", tick)
    event.listen(w.engine, "commit", tick)
    rng = random.Random(seed)

    def save_forever() -> None:
        while True:
            finalized_case(w, rng, scan_bytes=40_000)

    def drain_forever() -> None:
        client = _client(url)
        def answered(response, *args, **kwargs) -> None:  # a hook must return None (or a response)
            try:
                os.write(fd, b"h")
            except OSError:
                pass

        client.session.hooks["response"].append(answered)
        drainer = OutboxDrainer(w, client, policy=RetryPolicy(base=0.01, cap=0.05))
        while True:
            drainer.drain(ignore_schedule=True)
            if not waiting_entries(w, limit=1):
                finalized_case(w, rng, scan_bytes=40_000)  # keep the queue busy

    if mode == "save":
        save_forever()
    elif mode == "drain":
        drain_forever()
    else:
        import threading

        threading.Thread(target=save_forever, daemon=True).start()
        drain_forever()


def _kill_at_random_moment(home, url, mode, seed, rng) -> bool:
    """Fork a child, SIGKILL it after a random number of its events. True when it was killed alive."""
    r, wfd = os.pipe()
    p = CTX.Process(target=_child, args=(home, url, mode, wfd, seed), daemon=True)
    p.start()
    os.close(wfd)
    # Most kills count every event; some count only HTTP answers, to land more often in the window
    # between the platform's answer and the local acknowledgement.
    only_http = mode != "save" and rng.random() < 0.4
    target = rng.randint(1, 12) if only_http else rng.randint(1, 90)
    seen, deadline = 0, time.monotonic() + 20
    try:
        while seen < target:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            ready, _, _ = select.select([r], [], [], remaining)
            if not ready:
                break
            chunk = os.read(r, 4096)
            if not chunk:  # the child ended on its own: it must not
                break
            seen += chunk.count(b"h") if only_http else len(chunk)
        alive = p.is_alive()
        if alive:
            os.kill(p.pid, signal.SIGKILL)
        p.join(10)
        assert alive, f"a {mode} child ended on its own (exit code {p.exitcode}): it must only die by SIGKILL"
        return p.exitcode == -signal.SIGKILL
    finally:
        os.close(r)


def test_sigkill_while_saving_and_draining(tmp_path, platform_process, monkeypatch):
    home = tmp_path / "window"
    monkeypatch.setenv("COUNTER_APP_PLATFORM_URL", platform_process.url)
    monkeypatch.setenv("COUNTER_APP_PLATFORM_TOKEN", TOKEN)
    w = open_window(home)  # keys, schema
    w.close()  # no connection may cross the fork (SQLite locks are per process)

    rng = random.Random(20260301)
    modes = ["save", "drain", "both"]
    killed = 0
    started = time.monotonic()
    for i in range(KILLS):
        if _kill_at_random_moment(str(home), platform_process.url, rng.choice(modes), rng.randrange(1 << 30), rng):
            killed += 1
    kill_seconds = time.monotonic() - started
    assert killed >= KILLS * 0.98, f"only {killed} of {KILLS} children were killed while running"

    w = open_window(home)
    try:
        # Clean up: one uninterrupted drain sends whatever is still waiting.
        report = OutboxDrainer(w, _client(platform_process.url), policy=RetryPolicy(0.01, 0.05)).drain(
            ignore_schedule=True)
        assert report.quarantined == 0 and report.stop is None, report

        with w.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
        with w.sessions() as s:
            assert audit.verify(s).ok
            finalized = s.execute(sql_select(CaseRow).where(CaseRow.finalized_at.is_not(None))).scalars().all()
            entries = {e.case_id: e for e in s.execute(sql_select(OutboxEntry)).scalars()}
            # Every finalized case has exactly its outbox entry, and every entry its finalized case.
            assert {c.id for c in finalized} == set(entries)
            assert all(e.status == "acked" for e in entries.values())
            assert all(CaseState(c.state) == CaseState.ACKNOWLEDGED for c in finalized)
            assert s.execute(sql_select(func.count()).select_from(CaseRow).where(
                CaseRow.state == CaseState.SIGNED.value)).scalar_one() == 0
            # Every attachment a finalized case references is stored and intact.
            refs = s.execute(sql_select(CaseAttachment.sha256).join(CaseRow, CaseRow.id == CaseAttachment.case_id)
                             .where(CaseRow.finalized_at.is_not(None))).scalars().all()
            for h in set(refs):
                assert w.files.get(h)  # raises when missing or corrupt
            for a in s.execute(sql_select(Attachment)).scalars():
                assert w.files.exists(a.sha256), f"attachment row without its file: {a.sha256[:12]}"
            local = {e.business_key: e.receipt["platform_case_id"] for e in entries.values()}
        assert len(local) >= KILLS // 10, "the children should have finalized a good number of cases"

        client = _client(platform_process.url)
        server: dict[str, dict] = {}
        page = 1
        while True:
            listing = client.list_cases(page=page, page_size=500)
            for c in listing["items"]:
                assert c["business_key"] not in server, f"{c['business_key']} held twice"
                server[c["business_key"]] = c
            if page * 500 >= listing["total"]:
                break
            page += 1
        assert set(server) == set(local)
        assert all(server[k]["platform_case_id"] == local[k] for k in local)
        assert all(c["attachments_held"] for c in server.values())
        resent = sum(c["received_count"] - 1 for c in server.values())
    finally:
        w.close()
    print(f"\n{killed} SIGKILLs in {kill_seconds:.1f}s; {len(local)} cases, {resent} resends recognised")

