"""Log files of one window: rotating, in the data directory, with no personal data in them.

``setup_logging(home)`` attaches one rotating file handler (``logs/counter-app.log``, 2 MB × 5)
to the root logger. Every record passes two filters on that handler before it is written:

1. the PII-scrubbing filter from ``counter_app.security.log_filter`` when that
   module is present (it knows the domain: names, addresses, bank cards…);
2. :class:`PersonalDataGuard`, a minimal last line of defence kept here on purpose, so a window
   whose security module is missing or broken still never writes an ID number, a mobile number
   or a bank card number to disk. It masks, in the formatted message *and* in exception text,
   anything shaped like one of them.

Filters sit on the *handler*, not on a logger: a logger's filter does not see records that
propagate up from child loggers, a handler's sees every record it writes.

Thread contract: logging handlers are thread-safe; ``setup_logging`` itself should be called once,
early, from the main thread (calling it again for the same file replaces the old handler).
"""
from __future__ import annotations

import importlib
import logging
import logging.handlers
import re
from pathlib import Path

LOG_DIR = "logs"
LOG_FILE = "counter-app.log"
MAX_BYTES = 2 * 1024 * 1024
BACKUP_COUNT = 5
FORMAT = "%(asctime)s %(levelname)s [%(threadName)s] %(name)s: %(message)s"

# 18-character resident ID numbers (also inside longer digit runs is *not* matched: bank cards are
# handled by their own pattern), 15-digit legacy ID numbers, mainland mobiles, bank card numbers.
_ID18 = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])")
_ID15 = re.compile(r"(?<!\d)[1-9]\d{5}\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}(?!\d)")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d{9}(?!\d)")
# Card numbers: 16–19 digits, possibly grouped by spaces. Hyphens are not accepted: our case
# numbers (410702-03-20261130-0007-5) are hyphenated digit runs and must stay readable.
_CARD = re.compile(r"(?<![\d-])\d(?: ?\d){15,18}(?![\d-])")


ID_REDACTED = "[证件号已隐去]"
CARD_REDACTED = "[卡号已隐去]"
MOBILE_REDACTED = "[手机号已隐去]"


def scrub(text: str) -> str:
    """``text`` with ID, mobile and bank-card numbers replaced by a placeholder (logs need none of them)."""
    # Order matters: an 18-character ID would otherwise be taken for a card number.
    text = _ID18.sub(ID_REDACTED, text)
    text = _CARD.sub(CARD_REDACTED, text)
    text = _ID15.sub(ID_REDACTED, text)
    return _MOBILE.sub(MOBILE_REDACTED, text)


class PersonalDataGuard(logging.Filter):
    """Masks number-shaped personal data in a record; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad %-format must not lose the record (nor raise inside logging)
            message = f"{record.msg!r} {record.args!r}"
        record.msg = scrub(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        # Once exc_text is set the formatter uses it instead of formatting exc_info again.
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


def security_filters() -> list[logging.Filter]:
    """The scrubbing filter(s), if ``counter_app.security.log_filter`` exists.

    Accepted shapes (whichever the module offers): a ``make_filter()`` / ``log_filter()`` factory,
    or ``logging.Filter`` subclasses defined in the module that take no arguments.
    """
    try:
        module = importlib.import_module("counter_app.security.log_filter")
    except ImportError:
        return []
    for factory_name in ("make_filter", "log_filter", "create_filter"):
        factory = getattr(module, factory_name, None)
        if callable(factory):
            made = factory()
            return [made] if made is not None else []
    found = []
    for value in vars(module).values():
        if (isinstance(value, type) and issubclass(value, logging.Filter) and value is not logging.Filter
                and value.__module__ == module.__name__):
            try:
                found.append(value())
            except TypeError:
                continue
    return found


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
    try:
        extra = security_filters()
    except Exception as exc:  # their module failing must not stop the window from logging
        extra = []
        logging.getLogger(__name__).warning("安全模块的日志过滤器无法加载（%s），仅使用基本过滤。", type(exc).__name__)
    for f in extra:
        handler.addFilter(f)
    handler.addFilter(PersonalDataGuard())
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
    return path
