"""Many windows, one platform: 50 simulated windows (threads, each with its own credential and HTTP
session, real HTTP on loopback) submitting cases and polling progress and the worklist at once
against one ``counter-app platform serve`` process; then the same against the platform's store
on PostgreSQL (a real server the bench starts from the Debian package), to show the contract
carries no single-file assumption.

Each simulated window uploads a case's attachment, submits the case (with its idempotency key),
resends one case in ten as a lost answer would, polls its own progress, and fetches the center's
worklist every fifth case. The cases are built like a window builds them (a synthetic applicant, the
content digest over the sealed parts) but not sealed; the platform under test is the subject.

Reported: cases/s over the whole run, median and p99 latency of submit and progress, and the
same from one window alone (the baseline, same run). Checked after each run: every case received
exactly once (0 lost, 0 doubled) and every resend answered as a replay.

Environment: ``COUNTER_APP_BENCH_WINDOWS`` (default 50), ``COUNTER_APP_BENCH_CASES_PER_WINDOW``
(default 20). Standalone: ``python bench/bench_platform_center.py``.
"""
from __future__ import annotations

import datetime as _dt
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("COUNTER_APP_KEYSTORE", "file")

CENTER = "410702"
PG_BIN = Path("/usr/lib/postgresql")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _token(window_no: str) -> str:
    return f"bench-center-window-{window_no}"


class _Platform:
    """``counter-app platform serve`` as its own process, every window's credential enrolled."""

    def __init__(self, data: Path, windows: list[str], database_url: str | None = None):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [sys.executable, "-m", "app", "platform", "serve", "--port", str(self.port), "--data", str(data),
                "--clock-seconds", "3600"]
        for w in windows:
            args += ["--token", f"{_token(w)}@{CENTER}-{w}"]
        args += ["--token", f"bench-supervisor-token@{CENTER}-supervisor-supervisor01"]
        if database_url:
            args += ["--database-url", database_url]
        self.proc = subprocess.Popen(args, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
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


class _Postgres:
    """A throw-away PostgreSQL cluster (initdb, pg_ctl) owned by the ``postgres`` user, on a
    Unix socket in a private directory and a loopback port."""

    def __init__(self):
        versions = sorted(PG_BIN.glob("*/bin/initdb"))
        if not versions or shutil.which("runuser") is None:
            raise FileNotFoundError("PostgreSQL server (Debian package postgresql) is not installed")
        self.bin = versions[-1].parent
        self.root = Path(tempfile.mkdtemp(prefix="bench-pg-"))
        self.root.chmod(0o711)  # the server runs as postgres and must reach its own directory
        self.dir = self.root / "pg"
        self.dir.mkdir(mode=0o700)
        shutil.chown(self.dir, "postgres", "postgres")
        self.port = _free_port()
        self._as_postgres([str(self.bin / "initdb"), "-D", str(self.dir / "data"), "-A", "trust", "-U", "postgres",
                           "-E", "UTF8", "--no-sync"])
        self._as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-w", "-l", str(self.dir / "log"),
                           "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=200 "
                                 "-c fsync=off -c synchronous_commit=off", "start"])
        self._as_postgres([str(self.bin / "createdb"), "-h", str(self.dir), "-p", str(self.port), "-U", "postgres",
                           "platform"])
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/platform"

    @staticmethod
    def _as_postgres(cmd: list[str]) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *cmd], check=True, capture_output=True, timeout=120)

    def stop(self) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"),
                        "-m", "fast", "-w", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)


def _cases_for(window_no: str, n: int, rng: random.Random, day: _dt.date) -> list[tuple[dict, bytes]]:
    """n submissions numbered for this window, each with one attachment (its bytes)."""
    import hashlib

    from counter_app.application import application_to_dict
    from counter_app.sync import contract as C
    from counter_app.samples import make_application

    out = []
    for seq in range(1, n + 1):
        app = make_application(rng)
        blob = rng.randbytes(8 * 1024)
        sha = hashlib.sha256(blob).hexdigest()
        case_no = f"{CENTER}-{window_no}-{day:%Y%m%d}-{seq:04d}-0"
        case = {"schema": C.CASE_SCHEMA, "case_no": case_no, "version": 1, "supersedes": None,
                "center_code": CENTER, "window_no": window_no, "operator": f"clerk{window_no}",
                "finalized_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                "application": application_to_dict(app),
                "attachments": [{"sha256": sha, "role": "photo", "material": None, "mime": "image/jpeg",
                                 "size": len(blob)}]}
        case["content_digest"] = C.content_digest(case)
        out.append(({"business_key": f"{case_no}/v1", "case": case}, blob))
    return out


def _simulate_window(url: str, window_no: str, work: list[tuple[dict, bytes]], lat: dict[str, list[float]],
                     errors: list[str], replays: list[int], barrier: threading.Barrier) -> None:
    import requests

    from counter_app.sync import contract as C

    s = requests.Session()
    auth = {"Authorization": f"Bearer {_token(window_no)}"}
    keys = []
    barrier.wait()
    for i, (sub, blob) in enumerate(work):
        sha = sub["case"]["attachments"][0]["sha256"]
        t0 = time.perf_counter()
        r = s.put(f"{url}/api/v1/attachments/{sha}", data=blob, timeout=(5, 60),
                  headers={**auth, "Content-Type": "application/octet-stream",
                           "Content-Range": f"bytes 0-{len(blob) - 1}/{len(blob)}"})
        lat["upload"].append(time.perf_counter() - t0)
        if r.status_code != 200:
            errors.append(f"upload {r.status_code}")
        key, body = str(uuid.uuid4()), C.canonical_json(sub)
        for attempt in range(2 if i % 10 == 0 else 1):  # one in ten resent, as after a lost answer
            t0 = time.perf_counter()
            r = s.post(f"{url}/api/v1/cases", data=body, timeout=(5, 60),
                       headers={**auth, "Content-Type": "application/json", C.IDEMPOTENCY_HEADER: key})
            lat["submit"].append(time.perf_counter() - t0)
            if r.status_code != (201 if attempt == 0 else 200):
                errors.append(f"submit {r.status_code} {r.text[:120]}")
            elif attempt:
                replays.append(1)
        keys.append(sub["business_key"])
        t0 = time.perf_counter()
        r = s.post(f"{url}/api/v1/progress/query", json={"business_keys": keys[-50:]}, headers=auth, timeout=(5, 60))
        lat["progress"].append(time.perf_counter() - t0)
        if r.status_code != 200 or r.json()["unknown"]:
            errors.append(f"progress {r.status_code}")
        if i % 5 == 0:
            t0 = time.perf_counter()
            r = s.get(f"{url}/api/v1/worklist", headers=auth, timeout=(5, 60))
            lat["worklist"].append(time.perf_counter() - t0)
            if r.status_code != 200:
                errors.append(f"worklist {r.status_code}")


def _run_load(url: str, windows: list[str], per_window: int, day: _dt.date) -> tuple[float, dict, list[str], int]:
    work = {w: _cases_for(w, per_window, random.Random(int(w)), day) for w in windows}
    lat: dict[str, list[float]] = {"upload": [], "submit": [], "progress": [], "worklist": []}
    errors: list[str] = []
    replays: list[int] = []
    barrier = threading.Barrier(len(windows) + 1)
    threads = [threading.Thread(target=_simulate_window, args=(url, w, work[w], lat, errors, replays, barrier),
                                name=f"window-{w}") for w in windows]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, lat, errors, len(replays)


def _check_exactly_once(url: str, expected: int) -> None:
    """As the center's supervisor: every case once, none twice (``received_count`` counts resends)."""
    import requests

    auth = {"Authorization": "Bearer bench-supervisor-token"}
    seen: dict[str, int] = {}
    page = 1
    while True:
        r = requests.get(f"{url}/api/v1/cases", params={"page": page, "page_size": 1000}, headers=auth, timeout=60)
        r.raise_for_status()
        items = r.json()["items"]
        for it in items:
            seen[it["business_key"]] = seen.get(it["business_key"], 0) + 1
        if len(items) < 1000:
            break
        page += 1
    doubled = [k for k, v in seen.items() if v > 1]
    if len(seen) != expected or doubled:
        raise RuntimeError(f"exactly-once broken: {len(seen)} of {expected} cases held, {len(doubled)} doubled")


def _one_setting(report, label: str, data: Path, windows: list[str], per_window: int,
                 database_url: str | None = None) -> None:
    day = _dt.date.today()
    base = _Platform(data / "baseline", windows[:1], database_url and database_url + "_1")
    try:
        elapsed1, lat1, err1, _ = _run_load(base.url, windows[:1], per_window, day)
    finally:
        base.stop()
    if err1:
        raise RuntimeError(f"baseline errors: {err1[:3]}")
    report(f"platform{label}: 1 window alone, cases/s", [per_window / elapsed1], unit="cases/s", target="(baseline)")
    report(f"platform{label}: 1 window alone, submit latency", lat1["submit"], target="(baseline)")
    platform = _Platform(data / "center", windows, database_url)
    try:
        elapsed, lat, errors, replays = _run_load(platform.url, windows, per_window, day)
        if errors:
            raise RuntimeError(f"{len(errors)} errors, first: {errors[:3]}")
        _check_exactly_once(platform.url, len(windows) * per_window)
    finally:
        platform.stop()
    n = len(windows) * per_window
    report(f"platform{label}: {len(windows)} windows at once, cases/s", [n / elapsed], unit="cases/s",
           ratio_to=f"platform{label}: 1 window alone, cases/s", target="0 lost, 0 doubled")
    report(f"platform{label}: {len(windows)} windows, submit latency", lat["submit"],
           ratio_to=f"platform{label}: 1 window alone, submit latency", target="p99 ≤ 2 s")
    report(f"platform{label}: {len(windows)} windows, progress latency", lat["progress"])
    report(f"platform{label}: {len(windows)} windows, worklist latency", lat["worklist"])
    report(f"platform{label}: resends answered as replays", [replays], unit="resends",
           target=f"= {sum(1 for _ in range(0, per_window, 10)) * len(windows)}")


def run(report) -> None:
    n_windows = int(os.environ.get("COUNTER_APP_BENCH_WINDOWS", "50"))
    per_window = int(os.environ.get("COUNTER_APP_BENCH_CASES_PER_WINDOW", "20"))
    windows = [f"{i:02d}" for i in range(1, n_windows + 1)]
    with tempfile.TemporaryDirectory(prefix="bench-center-") as tmp:
        tmp = Path(tmp)
        _one_setting(report, " (SQLite)", tmp / "sqlite", windows, per_window)
        try:
            pg = _Postgres()
        except (FileNotFoundError, subprocess.CalledProcessError) as exc:
            print(f"  platform (PostgreSQL): not measured — {exc}. Install the Debian package postgresql.")
            return
        try:
            _create_db(pg, "platform_1")
            _one_setting(report, " (PostgreSQL)", tmp / "pg-data", windows, per_window, pg.url)
        finally:
            pg.stop()


def _create_db(pg: _Postgres, name: str) -> None:
    pg._as_postgres([str(pg.bin / "createdb"), "-h", str(pg.dir), "-p", str(pg.port), "-U", "postgres", name])


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from run import main  # bench/run.py: the table and the report function

    sys.exit(main(["platform_center"]))
