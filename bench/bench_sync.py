"""Sync benchmarks: enqueue latency, outbox drain throughput against the reference platform on
loopback, and the same bytes posted by a bare ``requests`` loop in the same run (the baseline).

- ``enqueue`` = ``CaseService.finalize``: case, outbox entry and audit entry in one durable
  ``BEGIN IMMEDIATE`` transaction (WAL, synchronous=FULL). Target p99 ≤ 20 ms.
- ``drain``: N queued cases with two 50 KB attachments each (photo, signature), drained by
  ``OutboxDrainer`` (reads and decrypts locally, asks which attachments the platform holds,
  uploads, submits with idempotency keys, records each acknowledgement durably).
- ``bare loop``: the same attachment bytes and case bodies, prepared in memory beforehand, PUT and
  POSTed to a fresh platform by a plain ``requests.Session`` loop. Target: drain ≥ 0.7× its throughput.
- ``sigkill``: the SIGKILL test (tests/sync/test_sigkill.py) with more kills; seconds per kill.

Each platform is a separate ``counter-app platform serve`` process, as in production the platform
is another machine. Environment: ``COUNTER_APP_BENCH_SYNC_CASES`` (default 1000),
``COUNTER_APP_BENCH_SIGKILL`` (kills, default 400; 0 skips).

Standalone: ``python bench/bench_sync.py``.
"""
from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("COUNTER_APP_KEYSTORE", "file")

TOKEN = "bench-window-token-0001"
ATTACHMENT_BYTES = 50 * 1024


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Platform:
    def __init__(self, data: Path):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app", "platform", "serve", "--port", str(self.port), "--data", str(data),
             "--token", f"{TOKEN}@410702-01", "--clock-seconds", "3600"],
            cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True)
        line: list[str] = []
        t = threading.Thread(target=lambda: line.append(self.proc.stdout.readline()), daemon=True)
        t.start()
        t.join(60)
        if not line or "参考平台已启动" not in line[0]:
            self.stop()
            raise RuntimeError(f"reference platform did not start: {line}")
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def _make_queue(window, n: int, rng: random.Random) -> list[float]:
    """N finalized cases, two 50 KB attachments each; returns the finalize latencies."""
    from counter_app.cases import Actor
    from counter_app.samples import make_application

    clerk = Actor("clerk01")
    latencies = []
    for _ in range(n):
        app = make_application(rng)
        rec = window.cases.create_draft(app, clerk)
        for m in range(2, 12):
            app.material(m).original_seen = True
        app.photo = window.cases.put_attachment(rng.randbytes(ATTACHMENT_BYTES), "image/jpeg")
        app.signature = window.cases.put_attachment(rng.randbytes(ATTACHMENT_BYTES), "image/png")
        if 4 in app.items:
            app.settlement_letter_scan = app.photo
        if 11 in app.items:
            app.veteran_affairs.reserve_letter = "申请人已持有"
        t0 = time.perf_counter()
        window.cases.finalize(rec.id, app, clerk)
        latencies.append(time.perf_counter() - t0)
    return latencies


def _prepared_bytes(window) -> list[tuple[str, list[tuple[str, bytes]], bytes]]:
    from counter_app.sync import contract as C
    from counter_app.sync.outbox import build_submission, waiting_entries

    out = []
    for e in waiting_entries(window):
        sub = build_submission(window, e.case_id)
        atts = [(h, window.files.get(h)) for h in C.attachment_hashes(sub["case"])]
        out.append((e.idempotency_key, atts, C.canonical_json(sub)))
    return out


def _bare_loop(url: str, prepared) -> float:
    import requests

    s = requests.Session()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    t0 = time.perf_counter()
    for key, atts, body in prepared:
        for h, data in atts:
            r = s.put(f"{url}/api/v1/attachments/{h}", data=data,
                      headers={**auth, "Content-Type": "application/octet-stream",
                               "Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}"}, timeout=(5, 30))
            r.raise_for_status()
        r = s.post(f"{url}/api/v1/cases", data=body,
                   headers={**auth, "Content-Type": "application/json", "Idempotency-Key": key}, timeout=(5, 30))
        r.raise_for_status()
    return time.perf_counter() - t0


def _drain(window, url: str, prefetch: bool = True) -> tuple[float, object]:
    import requests

    from counter_app.sync.backoff import RetryPolicy
    from counter_app.sync.client import PlatformClient
    from counter_app.sync.outbox import OutboxDrainer

    drainer = OutboxDrainer(window, PlatformClient(url, TOKEN, requests.Session()), policy=RetryPolicy(0.05, 1.0),
                            prefetch=prefetch)
    t0 = time.perf_counter()
    report = drainer.drain()
    return time.perf_counter() - t0, report


def _sigkill(report, kills: int) -> None:
    env = dict(os.environ, COUNTER_APP_SIGKILL_ROUNDS=str(kills), PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-s",
                           "tests/sync/test_sigkill.py"], cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    line = next((ln for ln in proc.stdout.splitlines() if "SIGKILLs in" in ln), "")
    print(f"  sigkill run: {line or proc.stdout[-400:]}", flush=True)
    if proc.returncode != 0:
        raise RuntimeError("SIGKILL test failed:\n" + proc.stdout[-3000:])
    secs = float(line.split("SIGKILLs in ")[1].split("s")[0]) if line else elapsed
    report(f"sigkill: {kills} kills, all invariants hold (s per kill)", [secs / kills], target="(no target)")


def run(report) -> None:
    from counter_app.services import open_window
    from counter_app.sync.status import sync_status

    n = int(os.environ.get("COUNTER_APP_BENCH_SYNC_CASES", "1000"))
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        tmp = Path(tmp)
        window = open_window(tmp / "window")
        try:
            latencies = _make_queue(window, n, random.Random(2026))
            report("sync: enqueue (finalize: case+outbox+audit, 1 tx)", latencies, target="p99 ≤ 20 ms")
            prepared = _prepared_bytes(window)
            base_platform = _Platform(tmp / "platform-baseline")
            try:
                bare = _bare_loop(base_platform.url, prepared)
            finally:
                base_platform.stop()
            del prepared
            report("sync: bare requests loop throughput", [n / bare], unit="cases/s", target="(baseline)")
            platform = _Platform(tmp / "platform-drain")
            try:
                elapsed, rep = _drain(window, platform.url)
            finally:
                platform.stop()
            if rep.acked != n or rep.stop is not None:
                raise RuntimeError(f"drain incomplete: {rep}")
            report(f"sync: outbox drain throughput ({n} cases × 2×50 KB)", [n / elapsed], unit="cases/s",
                   ratio_to="sync: bare requests loop throughput", target="≥ 0.7× bare loop")
            assert sync_status(window).acked == n
        finally:
            window.close()
    kills = int(os.environ.get("COUNTER_APP_BENCH_SIGKILL", "400"))
    if kills > 0:
        _sigkill(report, kills)


if __name__ == "__main__":
    import statistics

    def _print(name, samples, target="", ratio_to=None, unit="s"):
        samples = list(samples)
        s = sorted(samples)
        p99 = s[min(len(s) - 1, int(round(0.99 * (len(s) - 1))))]
        print(f"{name:<60} n={len(s):<5} median={statistics.median(s):.4g} {unit} p99={p99:.4g} {unit} {target}",
              flush=True)
        _rows[name] = statistics.median(s)
        if ratio_to and ratio_to in _rows:
            print(f"    ratio to {ratio_to}: {_rows[name] / _rows[ratio_to]:.2f}", flush=True)

    _rows: dict[str, float] = {}
    run(_print)
