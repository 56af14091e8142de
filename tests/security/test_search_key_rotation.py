"""``keys rotate --search-key`` recomputes every blind index under a new search key and destroys
the old one: a leaked copy of the old key store can no longer test ID numbers against the store.
Child processes are SIGKILLed at five points of the rotation; after each, search by ID number
still finds every case, and the next run completes it."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from counter_app.identity import normalise_id_number
from counter_app.security.keystore import FileKeyStore
from counter_app.security.vault import Vault
from counter_app.services import open_window
from tests.security.casework import finalize_case

ROOT = Path(__file__).resolve().parents[2]

# Runs the real command in a child process with one step wrapped to SIGKILL the process there.
KILLER = textwrap.dedent("""
    import os, signal, sys
    from counter_app.security import search_rotation as sr
    from counter_app.security.keystore import FileKeyStore
    from counter_app.security.vault import Vault

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    point = sys.argv[1]
    if point == "after-new-key":          # the key is stored, the rotation not yet recorded
        add = Vault.add_search_key
        Vault.add_search_key = lambda self: (add(self), die())
    elif point == "while-computing":      # recorded; new indexes computed, nothing written
        sr._worklist_tokens = lambda *a, **k: die()
    elif point == "inside-switch":        # every index written, the transaction not committed
        put = sr._put
        def _put(s, key, value):
            put(s, key, value)
            if key == sr.GENERATION_KEY:
                s.flush()
                die()
        sr._put = _put
    elif point == "before-destroy":       # committed under the new key; old key still stored
        Vault.destroy_search_keys = lambda self, keep: die()
    elif point == "mid-destroy":          # new wrap written, new master not yet
        kset, destroy = FileKeyStore.set, Vault.destroy_search_keys
        def _set(self, name, value):
            kset(self, name, value)
            if name == "wrapped-data-keys" and getattr(Vault, "dying", False):
                die()
        def _destroy(self, keep):
            Vault.dying = True
            destroy(self, keep)
        FileKeyStore.set, Vault.destroy_search_keys = _set, _destroy
    from app.cli import main
    sys.exit(main(["keys", "rotate", "--search-key"]))
""")
POINTS = ["after-new-key", "while-computing", "inside-switch", "before-destroy", "mid-destroy"]


def _env(home: Path) -> dict:
    return dict(os.environ, COUNTER_APP_HOME=str(home), COUNTER_APP_KEYSTORE="file", PYTHONPATH=str(ROOT))


def cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, env=_env(home),
                          timeout=120, cwd=ROOT)


def _found(home: Path, apps) -> list[list[str]]:
    """Search by ID number (and phone) in a fresh process state, as the worklist screen does."""
    w = open_window(home)
    try:
        assert w.damage is None, w.damage
        by_id = [[c.case_no for c in w.cases.find_by_id_number(a.applicant.id_number)] for a in apps]
        by_phone = [[c.case_no for c in w.cases.find_by_phone(a.applicant.phone)] for a in apps if a.applicant.phone]
        assert by_phone == [found for found, a in zip(by_id, apps) if a.applicant.phone]
        return by_id
    finally:
        w.close()


WORKLIST_ID = "11010519491231002X"


@pytest.fixture
def used_store(window):
    from counter_app.sync.worklist import store_worklist

    done = [finalize_case(window, seed) for seed in (3, 4, 5)]
    # An online application waiting in the worklist is indexed by its ID number too.
    store_worklist(window, [{"platform_id": "HN-WL-0001", "approved_on": "2026-12-01",
                             "application": {"items": [1], "applicant": {"name": "张三", "id_number": WORKLIST_ID}}}])
    home = window.home
    window.close()
    return home, [rec for rec, _, _ in done], [app for _, app, _ in done]


def test_search_key_rotation_survives_sigkills_and_retires_the_old_key(used_store, tmp_path):
    home, recs, apps = used_store
    expected = [[r.case_no] for r in recs]
    assert _found(home, apps) == expected
    listed = cli(home, "case", "list", "--json").stdout
    leaked = tmp_path / "leaked-keystore.txt"
    shutil.copy2(home / "keys" / "keystore.txt", leaked)
    killed = 0
    for point in POINTS:
        proc = subprocess.run([sys.executable, "-c", KILLER, point], capture_output=True, text=True,
                              env=_env(home), timeout=120, cwd=ROOT)
        assert proc.returncode == -9, (point, proc.stdout, proc.stderr)  # it reached the point and died
        killed += 1
        assert _found(home, apps) == expected, point
        assert not list((home / "keys").glob("*.tmp*"))
    r = cli(home, "keys", "rotate", "--search-key")
    assert r.returncode == 0, r.stderr
    assert "继续完成上次中断的检索密钥轮换" in r.stdout
    assert json.loads(cli(home, "keys", "status", "--json").stdout)["search_key_generation"] >= 1
    print(f"search-key rotation SIGKILLs survived: {killed} of {len(POINTS)}")
    assert _found(home, apps) == expected
    assert cli(home, "case", "list", "--json").stdout == listed
    # Every index is under the new key; the leaked copy computes none of them, and the new key
    # store holds one search key only.
    old, new = Vault(FileKeyStore(leaked)), Vault(FileKeyStore(home / "keys" / "keystore.txt"))
    assert len(new.search_generations) == 1 and new.search_generations != old.search_generations
    conn = sqlite3.connect(home / "counter.sqlite3")
    stored = dict(conn.execute("SELECT id, id_bidx FROM cases").fetchall())
    (worklist_token,) = conn.execute("SELECT id_bidx FROM worklist WHERE platform_id='HN-WL-0001'").fetchone()
    triggers = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")}
    conn.close()
    assert "cases_finalized_immutable" in triggers  # lifted only inside the switching transaction
    for rec, app in zip(recs, apps):
        number = normalise_id_number(app.applicant.id_number)
        assert stored[rec.id] == new.search_token("id_number", number, new.search_generations[0])
        assert stored[rec.id] not in {old.search_token("id_number", number, g) for g in [0, *old.search_generations]}
    gen = new.search_generations[0]
    assert worklist_token == new.search_token("id_number", normalise_id_number(WORKLIST_ID), gen)
    # The integrity MACs (audit head file, checkpoints) still check: that key was not rotated.
    assert cli(home, "audit", "verify").returncode == 0
    for rec in recs:
        assert cli(home, "archive", "verify", rec.case_no).returncode == 0
    # A second rotation retires the first generation for good.
    first = new.search_generations[0]
    assert cli(home, "keys", "rotate", "--search-key").returncode == 0
    again = Vault(FileKeyStore(home / "keys" / "keystore.txt"))
    assert first not in again.search_generations and _found(home, apps) == expected
