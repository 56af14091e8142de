"""After a store lost its latest commits, the platform's listing of what it received from this
window shows the signed cases missing locally (the real reference platform on loopback)."""
from __future__ import annotations

import io
import json

from app.cli import main
from counter_app.services import open_window
from counter_app.sync.client import client_for
from counter_app.sync.outbox import OutboxDrainer
from tests.sync.helpers import make_cases


def test_signed_cases_the_platform_holds_but_the_store_lost_are_reported(sync_window, capsys, monkeypatch):
    w = sync_window
    make_cases(w, 2, seed=5)
    OutboxDrainer(w, client_for(w)).drain(ignore_schedule=True)
    home = w.home
    w.close()
    saved = {n: (home / n).read_bytes() for n in ("counter.sqlite3", "counter.sqlite3-wal") if (home / n).exists()}
    w2 = open_window(home)
    lost = make_cases(w2, 1, seed=6)
    OutboxDrainer(w2, client_for(w2)).drain(ignore_schedule=True)
    w2.close()
    for n in ("counter.sqlite3-wal", "counter.sqlite3-shm", "audit-head.json"):
        (home / n).unlink(missing_ok=True)
    for n, data in saved.items():
        (home / n).write_bytes(data)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["sync", "verify", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["platform_cases"] == 3 and out["local_acked"] == 2
    assert out["missing_locally"] == [f"{lost[0].case_no}/v1"]
    assert out["head_differs"] and lost[0].case_no in out["message"]
    # Recorded for the status bar and the audit, not only printed.
    assert main(["sync", "status", "--json"]) == 0
    assert lost[0].case_no in json.loads(capsys.readouterr().out)["mismatch"]
