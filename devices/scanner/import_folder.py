"""The watched import folder for flatbed scanners.

Flatbed scanners are driven by their own TWAIN/SANE software, which saves each scan as a file
in a folder the clerk configures. :class:`ImportFolderWatcher` polls that folder (no extra
dependency, works on network shares where change notifications do not) and hands over each
file once it is *stable*: its size and modification time have not changed for
``settle_seconds`` and it can be opened for reading — scanner software writes large TIFFs and
PDFs in several passes, and reading one early gives half a page.

After the handler accepted a file it is moved to ``已导入/`` (so a restart does not import it
twice and the clerk sees what was taken); a file the handler rejected goes to ``未能导入/``
with the reason written beside it, and the watcher carries on.

Thread contract: :meth:`ImportFolderWatcher.poll` does the work and may be called from any one
thread at a time (tests call it directly with a fake clock); :meth:`start` runs it every
``interval`` seconds on its own thread, and ``on_file`` is then called on that thread.
"""
from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)

SCAN_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".pdf")
IMPORTED_DIR = "已导入"
FAILED_DIR = "未能导入"
# Files scanner software writes while a scan is in progress, never to be taken.
_TEMPORARY = (".tmp", ".part", ".crdownload", "~")


class ImportRejected(Exception):
    """Raised by an ``on_file`` handler for a file it cannot use; ``message`` is Chinese."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class _Seen:
    size: int
    mtime_ns: int
    stable_since: float


@dataclass(frozen=True)
class ImportOutcome:
    source: Path        # where the file was found
    moved_to: Path      # where it is now
    accepted: bool
    message: str = ""


class ImportFolderWatcher:
    """Polls ``folder`` for finished scan files; see the module docstring."""

    def __init__(self, folder: str | Path, on_file: Callable[[Path], None], *, settle_seconds: float = 2.0,
                 interval: float = 1.0, suffixes: tuple[str, ...] = SCAN_SUFFIXES,
                 clock: Callable[[], float] = time.monotonic, name: str = "scan-import") -> None:
        self.folder = Path(folder)
        self.on_file = on_file
        self.settle_seconds = settle_seconds
        self.interval = interval
        self.suffixes = tuple(s.lower() for s in suffixes)
        self._clock = clock
        self._seen: dict[Path, _Seen] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._name = name
        self.outcomes: list[ImportOutcome] = []
        self._lock = threading.Lock()

    # --- one pass ---------------------------------------------------------------------------
    def poll(self) -> list[ImportOutcome]:
        """Look at the folder once; hand over every file that has become stable."""
        with self._lock:
            return self._poll()

    def _poll(self) -> list[ImportOutcome]:
        now = self._clock()
        try:
            entries = list(os.scandir(self.folder))
        except FileNotFoundError:
            self.folder.mkdir(parents=True, exist_ok=True)
            return []
        except OSError as exc:  # a network share that went away: try again next time
            log.warning("import folder not readable: %s", type(exc).__name__)
            return []
        present = set()
        outcomes = []
        for entry in sorted(entries, key=lambda e: e.name):
            if not entry.is_file() or not self._wanted(entry.name):
                continue
            path = Path(entry.path)
            present.add(path)
            try:
                st = entry.stat()
            except OSError:
                continue
            seen = self._seen.get(path)
            if seen is None or seen.size != st.st_size or seen.mtime_ns != st.st_mtime_ns:
                self._seen[path] = _Seen(st.st_size, st.st_mtime_ns, now)
                continue
            if st.st_size == 0 or now - seen.stable_since < self.settle_seconds or not _readable(path):
                continue
            outcome = self._hand_over(path)
            if outcome is not None:
                outcomes.append(outcome)
                self._seen.pop(path, None)
        for gone in set(self._seen) - present:
            del self._seen[gone]
        self.outcomes.extend(outcomes)
        return outcomes

    def _wanted(self, name: str) -> bool:
        low = name.lower()
        return low.endswith(self.suffixes) and not low.startswith((".", "~$")) and not low.endswith(_TEMPORARY)

    def _hand_over(self, path: Path) -> ImportOutcome | None:
        try:
            self.on_file(path)
        except ImportRejected as exc:
            return self._move(path, FAILED_DIR, False, exc.message)
        except Exception as exc:  # a handler bug: keep the file aside rather than loop on it
            log.exception("import handler failed")
            return self._move(path, FAILED_DIR, False, f"导入失败：{type(exc).__name__}")
        return self._move(path, IMPORTED_DIR, True, "")

    def _move(self, path: Path, subdir: str, accepted: bool, message: str) -> ImportOutcome | None:
        target_dir = self.folder / subdir
        target_dir.mkdir(exist_ok=True)
        target = _free_name(target_dir / path.name)
        try:
            shutil.move(str(path), str(target))
        except OSError:
            # still locked by the scanner software (Windows): leave it, try again next poll
            return None
        if message:
            target.with_name(target.name + ".原因.txt").write_text(message + "\n", encoding="utf-8")
        return ImportOutcome(path, target, accepted, message)

    # --- the thread -------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> bool:
        self._stop.set()
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll()
            except Exception:
                log.exception("import folder poll failed")
            self._stop.wait(self.interval)


def _readable(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            fh.read(1)
        return True
    except OSError:
        return False


def _free_name(path: Path) -> Path:
    if not path.exists():
        return path
    stem, suffix = path.stem, path.suffix
    for n in range(2, 10000):
        candidate = path.with_name(f"{stem}({n}){suffix}")
        if not candidate.exists():
            return candidate
    raise OSError("no free name")
