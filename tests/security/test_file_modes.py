"""Another local user reads nothing: every path that creates the data directory, the database,
attachments, logs, keys and configuration makes directories 0700 and files 0600, and an older
directory with wider modes is tightened at start. Child processes run with the usual umask 022."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "tests" / "data" / "sample_case.json"


def cli(home: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, COUNTER_APP_HOME=str(home), COUNTER_APP_KEYSTORE="file", PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", "import os, sys; os.umask(0o022); from app.cli import main; "
                           "sys.exit(main())", *args], input=stdin, capture_output=True, text=True, env=env,
                          timeout=120, cwd=ROOT)


def wide(home: Path) -> list[str]:
    out = []
    for p in [home, *home.rglob("*")]:
        mode = stat.S_IMODE(p.lstat().st_mode)
        if mode & 0o077:
            out.append(f"{p.relative_to(home)} {mode:o}")
    return out


def test_everything_the_program_creates_is_private(tmp_path):
    home = tmp_path / "new-home"
    r = cli(home, "operators", "add", "it01", "--role", "it_admin", "--name", "王管理", "--password-stdin",
            stdin="Keys-and-roots-2026!\n")
    assert r.returncode == 0, r.stderr
    assert cli(home, "case", "list").returncode == 0
    r = cli(home, "diagnostics", "export", str(tmp_path / "d.zip"), "--device-timeout", "3", "--user", "it01",
            "--password-stdin", stdin="Keys-and-roots-2026!\n")
    assert r.returncode == 0, r.stderr
    assert (home / "counter.sqlite3").exists() and (home / "keys" / "keystore.txt").exists()
    assert wide(home) == []
    assert stat.S_IMODE((tmp_path / "d.zip").stat().st_mode) == 0o600


def test_an_existing_directory_with_wide_modes_is_tightened_at_start(tmp_path):
    home = tmp_path / "old-home"
    assert cli(home, "case", "list").returncode == 0
    os.chmod(home, 0o755)
    os.chmod(home / "counter.sqlite3", 0o644)
    (home / "config.toml").write_text("window_no = \"02\"\n")
    os.chmod(home / "config.toml", 0o644)
    os.chmod(home / "attachments", 0o755)
    assert wide(home)
    r = cli(home, "case", "list")
    assert r.returncode == 0, r.stderr
    assert wide(home) == []
