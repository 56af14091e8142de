"""Keys that cannot silently vanish: a store holding data never gets fresh keys, the recovery key
brings a window back, a data-key rotation re-encrypts everything (and survives SIGKILLs), and no
temporary file holding keys is left behind. Through the real entry point in child processes."""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from counter_app.security.keystore import FileKeyStore
from counter_app.security.rotation import key_id_of
from counter_app.security.vault import DecryptionError, Vault
from tests.security.casework import finalize_case

ROOT = Path(__file__).resolve().parents[2]


def cli(home: Path, *args: str, stdin: str | None = None, wait: bool = True):
    env = dict(os.environ, COUNTER_APP_HOME=str(home), COUNTER_APP_KEYSTORE="file", PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "app", *args]
    if not wait:
        return subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, cwd=ROOT)
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)


def snapshot(home: Path) -> dict[str, str]:
    return {str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(home.rglob("*")) if p.is_file()}


@pytest.fixture
def used_store(window):
    """A window with two finalized cases (attachments, seals), closed so child processes own it."""
    recs = [finalize_case(window, seed)[0] for seed in (3, 4)]
    home = window.home
    window.close()
    return home, recs


def _keyfile(home: Path) -> Path:
    return home / "keys" / "keystore.txt"


def _truncate_half(p: Path) -> None:
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])


@pytest.mark.parametrize("damage", [
    lambda p: p.unlink(),
    lambda p: p.write_bytes(b""),
    _truncate_half,
    lambda p: p.write_text("\n".join(line for line in p.read_text().splitlines()
                                     if not line.startswith("wrapped-data-keys")) + "\n"),
    lambda p: p.write_text("\n".join(line for line in p.read_text().splitlines()
                                     if not line.startswith("seal-ed25519-private")) + "\n"),
], ids=["deleted", "emptied", "truncated", "wrap-missing", "seal-key-missing"])
def test_a_store_with_data_never_gets_fresh_keys(used_store, damage):
    home, _ = used_store
    damage(_keyfile(home))
    before = snapshot(home)
    for args in (("case", "list"), ("keys", "status"), ("sync", "status")):
        r = cli(home, *args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert "缺少对应的密钥" in r.stderr and "counter-app keys recover" in r.stderr
        assert "Traceback" not in r.stderr
    assert snapshot(home) == before  # nothing changed: no new key, no new row


def test_keys_are_created_on_first_set_up_of_an_empty_store(tmp_path):
    home = tmp_path / "fresh"
    r = cli(home, "keys", "status", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["data_key_ids"] == [1]
    assert _keyfile(home).exists()


def _recovery_key(out: str) -> str:
    m = re.search(r"([A-Z2-7]{4}(?:-[A-Z2-7]{1,4}){13})", out)
    assert m, out
    return m.group(1)


def test_recovery_key_brings_back_a_window_whose_key_store_is_lost(used_store, tmp_path):
    import pypdfium2
    import zxingcpp

    home, recs = used_store
    sheet = tmp_path / "sheet.pdf"
    r = cli(home, "keys", "recovery-key", "--pdf", str(sheet))
    assert r.returncode == 0, r.stderr
    key = _recovery_key(r.stdout)
    assert oct(sheet.stat().st_mode & 0o777) == "0o600"
    # The printed sheet's QR code carries the same key.
    image = pypdfium2.PdfDocument(str(sheet))[0].render(scale=3).to_pil()
    decoded = [b.text for b in zxingcpp.read_barcodes(image)]
    assert decoded == ["COUNTER-APP-RECOVERY:" + key.replace("-", "")]
    listed = cli(home, "case", "list", "--json").stdout
    # The disk with the key store dies; the database comes back from a backup.
    shutil.rmtree(home / "keys")
    assert cli(home, "case", "list").returncode == 2
    wrong = cli(home, "keys", "recover", "--stdin", stdin=key[:-1] + ("A" if key[-1] != "A" else "B") + "\n")
    assert wrong.returncode == 2 and "恢复密钥不正确" in wrong.stderr
    r = cli(home, "keys", "recover", "--stdin", stdin=key.lower().replace("-", " ") + "\n")
    assert r.returncode == 0, r.stderr
    assert cli(home, "case", "list", "--json").stdout == listed
    for rec in recs:
        v = cli(home, "archive", "verify", rec.case_no)
        assert v.returncode == 0, v.stdout + v.stderr  # payload, seal (same seal key) and every file
    audit = cli(home, "audit", "verify")
    assert audit.returncode == 0


def test_data_key_rotation_leaves_a_leaked_key_store_copy_useless(used_store, tmp_path):
    home, recs = used_store
    leaked = tmp_path / "leaked-keystore.txt"
    shutil.copy2(_keyfile(home), leaked)
    for _ in range(2):
        r = cli(home, "keys", "rotate", "--data-key")
        assert r.returncode == 0, r.stderr
    status = json.loads(cli(home, "keys", "status", "--json").stdout)
    assert status["data_key_ids"] == [3]  # keys 1 and 2 destroyed
    old = Vault(FileKeyStore(leaked))
    import sqlite3

    conn = sqlite3.connect(home / "counter.sqlite3")
    rows = conn.execute("SELECT id, payload_enc FROM cases").fetchall()
    triggers = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")}
    conn.close()
    assert "cases_finalized_immutable" in triggers  # lifted only inside each re-encryption transaction
    assert rows
    for rid, blob in rows:
        assert key_id_of(blob) == 3
        with pytest.raises(DecryptionError):
            old.decrypt(blob, Vault.associated_data("cases", "payload_enc", rid))
    files = [p for p in (home / "attachments").rglob("*") if p.is_file()]
    assert files
    for p in files:
        with pytest.raises(DecryptionError):
            old.decrypt(p.read_bytes(), Vault.associated_data("attachments", "file", p.name))
    for rec in recs:
        assert cli(home, "archive", "verify", rec.case_no).returncode == 0
    assert not list(_keyfile(home).parent.glob("*.tmp*"))


def test_a_killed_key_write_leaves_no_key_material_behind(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    store = FileKeyStore(tmp_path / "keys" / "keystore.txt")
    store.set("master-key", b"k" * 32)
    stale = store.path.with_name(f"keystore.txt.tmp{dead.pid}")
    stale.write_text("master-key=old-secret\n")
    FileKeyStore(store.path)
    assert not stale.exists()
    assert store.get("master-key") == b"k" * 32


def test_sigkilled_rotations_lose_nothing_and_leave_no_temporary_keys(used_store):
    home, recs = used_store
    expected = cli(home, "case", "list", "--json").stdout
    from counter_app.security.rotation import PROGRESS_MARK

    interrupted, steps = 0, []
    for step in range(1, 7):
        # Killed right after its step-th durable step (each run resumes the one before), read from
        # the progress lines the command writes: a point of the rotation, not a guess of the clock.
        proc = cli(home, "keys", "rotate", "--data-key", wait=False)
        seen = 0
        for raw in proc.stderr:
            line = raw.decode("utf-8", "replace")
            if line.startswith(PROGRESS_MARK):
                seen += 1
                if seen == step:
                    steps.append(line[len(PROGRESS_MARK):].strip())
                    proc.send_signal(signal.SIGKILL)
                    break
        if proc.wait() == -signal.SIGKILL:
            interrupted += 1
        proc.stdout.close()
        proc.stderr.close()
    r = cli(home, "keys", "rotate", "--data-key")
    assert r.returncode == 0, r.stderr
    print(f"rotation SIGKILLs that interrupted a running rotation: {interrupted} of 6, after: {steps}")
    assert interrupted >= 4
    assert cli(home, "case", "list", "--json").stdout == expected
    for rec in recs:
        assert cli(home, "archive", "verify", rec.case_no).returncode == 0
    assert not list((home / "keys").glob("*.tmp*"))
    assert not [p for p in (home / "attachments").rglob("*.tmp*")]
