"""Core figures: finalize-and-commit, rule evaluation, lookup among 100,000 cases, CLI start."""
from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("COUNTER_APP_KEYSTORE", "file")


def _timed(fn, n):
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def bench_finalize(report, home: Path, n: int = 60) -> None:
    from counter_app.cases import Actor
    from counter_app.samples import make_application
    from counter_app.services import open_window

    w = open_window(home)
    rng = random.Random(1)
    actor = Actor("bench")
    samples, puts, totals = [], [], []
    blob_sizes = []
    for i in range(n):
        app = make_application(rng)
        try:
            rec = w.cases.create_draft(app, actor)
        except Exception:
            continue
        app = rec.application
        for m in range(2, 12):
            app.material(m).original_seen = True
        scans = [os.urandom(100 * 1024), os.urandom(60 * 1024)]
        photo, sig = os.urandom(30 * 1024), os.urandom(10 * 1024)
        blob_sizes.append(sum(map(len, scans)) + len(photo) + len(sig))
        # At the window the scans, photo and signature are stored as they are captured ...
        t = time.perf_counter()
        app.material(3).attachments = [w.cases.put_attachment(scans[0], "image/jpeg")]
        app.material(4).attachments = [w.cases.put_attachment(scans[1], "image/jpeg")]
        ph = w.cases.put_attachment(photo, "image/jpeg")
        if 8 in app.items:
            app.photo = ph
        else:
            app.material(5).attachments = [ph]
        app.signature = w.cases.put_attachment(sig, "image/png")
        if app.has_item(11):
            app.veteran_affairs.reserve_letter = "申请人已持有"
        if app.has_item(4):  # the stamped 落户介绍信 scan (same bytes: no extra I/O in the figure)
            app.settlement_letter_scan = app.material(4).attachments[0]
        t1 = time.perf_counter()
        # ... and finalizing seals and commits the case that refers to them.
        w.cases.finalize(rec.id, app, actor)
        t2 = time.perf_counter()
        puts.append(t1 - t)
        samples.append(t2 - t1)
        totals.append(t2 - t)
    w.close()

    # Baseline: a bare sqlite3 insert of the same bytes with the same durability settings.
    db = sqlite3.connect(home / "bare.sqlite3", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE t (id TEXT PRIMARY KEY, payload BLOB)")
    base = []
    for size in blob_sizes:
        data = os.urandom(size)
        t = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO t VALUES (?, ?)", (uuid.uuid4().hex, data))
        db.execute("COMMIT")
        base.append(time.perf_counter() - t)
    db.close()
    report("bare sqlite3 insert of the same 200 KB (WAL, FULL)", base)
    base_name = "bare sqlite3 insert of the same 200 KB (WAL, FULL)"
    report("finalize-and-commit, case with 200 KB attachments", samples, "p99 ≤ 20 ms, ≤ 3× bare",
           ratio_to=base_name)
    report("  storing its 4 attachment files (encrypt + fsync, at scan time)", puts, ratio_to=base_name)
    report("  both together", totals, ratio_to=base_name)


def bench_rules(report) -> None:
    from counter_app.samples import make_application
    from counter_app.rules import required_materials, validate

    rng = random.Random(2)
    apps = [make_application(rng) for _ in range(500)]
    samples = []
    for a in apps:
        t = time.perf_counter()
        required_materials(a)
        validate(a, for_finalize=True)
        samples.append(time.perf_counter() - t)
    report("rule evaluation per case (required materials + validate)", samples, "≤ 1 ms")


def bench_lookup(report, home: Path, total: int = 100_000) -> None:
    from sqlalchemy import insert

    from counter_app.cases import Actor
    from counter_app.samples import make_application
    from counter_app.services import open_window
    from counter_app.store.models import CaseRow

    w = open_window(home)
    rng = random.Random(3)
    app = make_application(rng)
    rec = w.cases.create_draft(app, Actor("bench"))
    payload = w.cases._encrypt_app(rec.id, rec.application)  # realistic size; never decrypted here
    import datetime as dt

    now = dt.datetime.now(dt.timezone.utc)
    t0 = time.perf_counter()
    with w.engine.begin() as c:
        batch = []
        for i in range(total):
            batch.append({"id": uuid.uuid4().hex, "case_no": f"410702-01-20260101-{i % 9999 + 1:04d}-X",
                          "version": 1 + i // 9999, "state": "completed", "source": "walk_in",
                          "center_code": "410702", "window_no": "01", "operator": "bench", "items": "1",
                          "id_bidx": w.vault.blind_index("id_number", f"{i:018d}"), "payload_enc": payload,
                          "created_at": now, "updated_at": now})
            if len(batch) == 5000:
                c.execute(insert(CaseRow), batch)
                batch = []
        if batch:
            c.execute(insert(CaseRow), batch)
    print(f"   (inserted {total:,} rows in {time.perf_counter() - t0:.1f} s)")
    target_id = app.applicant.id_number
    samples = _timed(lambda: w.cases.find_by_id_number(target_id), 200)
    report(f"lookup by ID number among {total:,} cases (blind index)", samples, "≤ 5 ms")
    w.close()


def bench_cli(report) -> None:
    exe = os.path.join(os.path.dirname(sys.executable), "counter-app")
    base = _timed(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), 10)
    report("python interpreter start", base)
    samples = _timed(lambda: subprocess.run([exe, "sla", "due", "--accepted", "2026-11-02", "--items", "1,4"],
                                            check=True, capture_output=True), 10)
    report("CLI start (counter-app sla due)", samples, ratio_to="python interpreter start")


def run(report) -> None:
    with tempfile.TemporaryDirectory() as d:
        bench_finalize(report, Path(d) / "a")
    bench_rules(report)
    with tempfile.TemporaryDirectory() as d:
        bench_lookup(report, Path(d) / "b")
    bench_cli(report)


if __name__ == "__main__":
    from run import report as _report

    run(_report)
