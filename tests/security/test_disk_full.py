"""A full disk (a real 48 MB tmpfs filled to the last byte): capture and finalize refuse with a
sentence before writing, no partial file is left, the draft survives, and the window still starts
read-only: cases can be listed and the waiting ones exported to a USB stick."""
from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from counter_app.cases import Actor, CaseError
from counter_app.services import open_window
from tests.security.casework import finalizable, finalize_case, form_pdf

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "wnd-410702-01-abcdefABCDEF1234"


@pytest.fixture
def small_disk(tmp_path):
    mnt = tmp_path / "disk"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m,mode=0700", "tmpfs", str(mnt)], check=True)
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=True)


def fill(folder: Path, leave: int = 0) -> Path:
    """Write a filler file until only ``leave`` bytes (or nothing) are free."""
    filler = folder / "filler.bin"
    chunk = b"\0" * (1 << 20)
    with open(filler, "wb") as fh:
        while True:
            free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
            if free <= leave:
                break
            try:
                fh.write(chunk[: max(4096, min(len(chunk), free - leave))])
                fh.flush()
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
                break
    return filler


def cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, COUNTER_APP_HOME=str(home), COUNTER_APP_KEYSTORE="file", PYTHONPATH=str(ROOT),
               COUNTER_APP_PLATFORM_TOKEN=TOKEN)
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, env=env,
                          timeout=120, cwd=ROOT)


def test_a_full_disk_refuses_capture_and_finalize_and_keeps_export_working(small_disk, tmp_path, monkeypatch):
    monkeypatch.setenv("COUNTER_APP_PLATFORM_TOKEN", TOKEN)
    home = small_disk / "home"
    w = open_window(home)
    queued, _, _ = finalize_case(w, 61)
    app = finalizable(w, 62)
    draft = w.cases.create_draft(app, Actor("clerk1", "clerk"))
    fill(small_disk, leave=8 * 1024 * 1024)  # below the reserve: refused before writing
    with pytest.raises(CaseError, match="磁盘空间已满"):
        w.cases.put_attachment(os.urandom(200_000), "image/jpeg")
    with pytest.raises(CaseError, match="磁盘空间已满"):
        w.cases.finalize(draft.id, app, Actor("clerk1", "clerk"), form_pdf=form_pdf(app, draft.case_no))
    assert w.cases.get(draft.id).state.value == "draft"  # the draft and what was typed are kept
    fill(small_disk, leave=0)  # now truly nothing left
    with pytest.raises(CaseError, match="磁盘空间已满"):
        w.cases.put_attachment(os.urandom(200_000), "image/jpeg")
    assert not [p for p in (home / "attachments").rglob("*.tmp*")]
    w.close()
    listed = cli(home, "case", "list")
    assert listed.returncode == 0, listed.stderr
    assert queued.case_no in listed.stdout and "Traceback" not in listed.stderr
    usb = tmp_path / "usb"
    exported = cli(home, "sync", "export", str(usb))
    assert exported.returncode == 0, exported.stdout + exported.stderr
    assert "已导出1件" in exported.stdout and list(usb.glob("bundle-*"))
    assert "Traceback" not in exported.stderr
