"""Private file modes for everything the window keeps (personal data, operators' password
hashes, staff names, keys, logs, backups): directories 0700, files 0600.

Two layers: the program's entry point sets the process umask to 077, so every file and
directory it creates (SQLite's own -wal/-shm files included) is private from birth; and
:func:`secure_home` tightens an existing data directory created by an older version or by
hand. On Windows the modes mean little; there the installer gives the data directory an ACL for
the signed-in user only (see the README).
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
UMASK = 0o077

# Top-level entries of the data directory whose contents are re-checked at every start
# (attachments are not walked: 0700 on their directory already keeps other users out).
_WALKED = ("keys", "logs", "backups", "audit-archive", "certs")


def private_umask() -> None:
    """Called once by the entry point, before anything is created."""
    if os.name == "posix":
        os.umask(UMASK)


def _tighten(path: Path, mode: int) -> None:
    try:
        current = stat.S_IMODE(path.lstat().st_mode)
        if not stat.S_ISLNK(path.lstat().st_mode) and current & ~mode:
            os.chmod(path, current & mode)
    except FileNotFoundError:
        pass


def secure_home(home: Path) -> None:
    """Create ``home`` 0700 if missing; tighten it, its files and known subfolders."""
    home.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    if os.name != "posix":
        return
    _tighten(home, DIR_MODE)
    for entry in home.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            _tighten(entry, DIR_MODE)
            if entry.name in _WALKED:
                for sub in entry.rglob("*"):
                    _tighten(sub, DIR_MODE if sub.is_dir() else FILE_MODE)
        elif entry.is_file():
            _tighten(entry, FILE_MODE)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(folder: Path, stem: str) -> int:
    """Remove ``<stem>.tmp<pid>`` files of processes that no longer run (a write killed before
    its rename); returns how many."""
    removed = 0
    for tmp in Path(folder).glob(stem + ".tmp*"):
        pid = tmp.name[len(stem) + 4:]
        if pid.isdigit() and int(pid) != os.getpid() and pid_alive(int(pid)):
            continue
        tmp.unlink(missing_ok=True)
        removed += 1
    return removed
