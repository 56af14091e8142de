"""Log files of one window: rotating, in the data directory, with no personal data in them.

``setup_logging(home)`` attaches one rotating file handler (``logs/counter-app.log``, 2 MB × 5)
to the root logger. Every record passes the one redaction filter,
:class:`counter_app.security.log_filter.PersonalDataFilter`, before it is written: ID, mobile and
bank card numbers in the message, the exception text and the stack text are masked by the same
function that masks lists and reports (:func:`counter_app.masking.mask_text`).

Filters sit on the *handler*, not on a logger: a logger's filter does not see records that
propagate up from child loggers, a handler's sees every record it writes.

Thread contract: logging handlers are thread-safe; ``setup_logging`` itself should be called once,
early, from the main thread (calling it again for the same file replaces the old handler).
"""
from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from counter_app.security.log_filter import PersonalDataFilter

LOG_DIR = "logs"
LOG_FILE = "counter-app.log"
MAX_BYTES = 2 * 1024 * 1024
BACKUP_COUNT = 5
FORMAT = "%(asctime)s %(levelname)s [%(threadName)s] %(name)s: %(message)s"


def log_dir(home: Path) -> Path:
    return Path(home) / LOG_DIR


def log_files(home: Path) -> list[Path]:
    """Current log and its rotated predecessors, newest first."""
    folder = log_dir(home)
    current = folder / LOG_FILE
    rotated = sorted(folder.glob(LOG_FILE + ".*"), key=lambda p: int(p.suffix[1:]) if p.suffix[1:].isdigit() else 0)
    return ([current] if current.exists() else []) + rotated


def setup_logging(home: Path | None = None, *, level: int = logging.INFO,
                  max_bytes: int = MAX_BYTES, backup_count: int = BACKUP_COUNT) -> Path:
    """Attach the rotating file handler for ``home`` (default: the data directory); returns the log path."""
    if home is None:
        from counter_app.paths import data_home

        home = data_home()
    folder = log_dir(home)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOG_FILE
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_counter_app_log", None) is not None:
            root.removeHandler(old)
            old.close()
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backup_count,
                                                   encoding="utf-8", delay=True)
    handler._counter_app_log = str(path)  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(PersonalDataFilter())
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
    return path
