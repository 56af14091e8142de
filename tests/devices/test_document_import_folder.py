"""The watched import folder for flatbed scanners: a file is taken only once it has stopped
changing, then moved aside; rejected files go to their own folder with the reason."""
from __future__ import annotations

import threading

import cv2
import pytest

from devices.scanner.pages import process_page
from devices.scanner.import_folder import FAILED_DIR, IMPORTED_DIR, ImportFolderWatcher, ImportRejected
from tests.devices import images


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def folder(tmp_path):
    return tmp_path / "扫描导入"


def test_file_is_taken_only_after_it_stopped_changing(folder):
    folder.mkdir()
    clock = FakeClock()
    taken = []
    watcher = ImportFolderWatcher(folder, taken.append, settle_seconds=2.0, clock=clock)
    scan = folder / "scan_0001.png"
    ok, png = cv2.imencode(".png", images.document_sheet(600))
    data = png.tobytes()

    scan.write_bytes(data[: len(data) // 2])          # the scanner is still writing
    assert watcher.poll() == []
    clock.now += 3
    with open(scan, "ab") as fh:                       # ... and writes more: stability restarts
        fh.write(data[len(data) // 2:])
    assert watcher.poll() == []
    clock.now += 1
    assert watcher.poll() == []                        # unchanged, but not yet for 2 s
    clock.now += 1.5
    (outcome,) = watcher.poll()
    assert outcome.accepted and taken == [scan]
    assert outcome.moved_to == folder / IMPORTED_DIR / "scan_0001.png"
    assert outcome.moved_to.read_bytes() == data and not scan.exists()
    clock.now += 10
    assert watcher.poll() == []                        # never imported twice


def test_temporary_empty_and_foreign_files_are_ignored(folder):
    folder.mkdir()
    clock = FakeClock()
    taken = []
    watcher = ImportFolderWatcher(folder, taken.append, settle_seconds=0.5, clock=clock)
    (folder / "scan.jpg.part").write_bytes(b"x" * 100)
    (folder / "~$scan.jpg").write_bytes(b"x" * 100)
    (folder / "notes.txt").write_text("hello")
    (folder / "empty.jpg").write_bytes(b"")
    watcher.poll()
    clock.now += 5
    assert watcher.poll() == [] and taken == []


def test_rejected_file_goes_aside_with_its_reason(folder):
    folder.mkdir()
    clock = FakeClock()

    def handler(path):
        image = cv2.imread(str(path))
        if image is None:
            raise ImportRejected("无法读取扫描图像：文件损坏")
        process_page(image)

    watcher = ImportFolderWatcher(folder, handler, settle_seconds=0.1, clock=clock)
    (folder / "bad.jpg").write_bytes(b"\xff\xd8 broken")
    cv2.imwrite(str(folder / "good.jpg"), images.document_sheet(500))
    watcher.poll()
    clock.now += 1
    outcomes = {o.source.name: o for o in watcher.poll()}
    assert outcomes["good.jpg"].accepted and (folder / IMPORTED_DIR / "good.jpg").exists()
    bad = outcomes["bad.jpg"]
    assert not bad.accepted and bad.moved_to == folder / FAILED_DIR / "bad.jpg"
    reason = bad.moved_to.with_name("bad.jpg.原因.txt").read_text(encoding="utf-8")
    assert "文件损坏" in reason


def test_same_name_scanned_twice_keeps_both(folder):
    folder.mkdir()
    clock = FakeClock()
    watcher = ImportFolderWatcher(folder, lambda p: None, settle_seconds=0.1, clock=clock)
    for content in (b"first page", b"second page"):
        (folder / "scan.jpg").write_bytes(content)
        watcher.poll()
        clock.now += 1
        watcher.poll()
    imported = sorted(p.name for p in (folder / IMPORTED_DIR).iterdir())
    assert imported == ["scan(2).jpg", "scan.jpg"]
    assert (folder / IMPORTED_DIR / "scan(2).jpg").read_bytes() == b"second page"


def test_watcher_thread_hands_files_over_on_its_own_thread(folder):
    got = threading.Event()
    seen = []

    def handler(path):
        seen.append((path.name, threading.current_thread().name))
        got.set()

    watcher = ImportFolderWatcher(folder, handler, settle_seconds=0.05, interval=0.02, name="scan-import-test")
    watcher.start()                                    # creates the missing folder
    try:
        cv2.imwrite(str(folder / "page.png"), images.document_sheet(300))
        assert got.wait(5)
    finally:
        assert watcher.stop()
    assert seen == [("page.png", "scan-import-test")]
