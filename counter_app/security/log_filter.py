"""Keeps personal data out of log files.

:class:`PersonalDataFilter` rewrites every record it sees: the formatted message, the
exception text and the stack text go through :func:`counter_app.masking.mask_text`, which masks
ID numbers, mobile numbers and bank card numbers. Names cannot be recognised reliably in free
text, so the code never logs them in the first place; this filter is the net under that rule.

Install it on the *handlers* (a filter on a logger does not see records propagated from child
loggers)::

    from counter_app.security.log_filter import install
    logging.basicConfig(...)
    install()            # every handler of the root logger

Thread contract: stateless, safe on any handler in any thread.
"""
from __future__ import annotations

import logging
import traceback

from counter_app.masking import mask_text


class PersonalDataFilter(logging.Filter):
    """Masks personal numbers in a record in place; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not lose the record (nor its arguments)
            message = f"{record.msg} {record.args!r}"
        record.msg = mask_text(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        return True


def install(logger: logging.Logger | None = None) -> PersonalDataFilter:
    """Add one shared filter to every handler of ``logger`` (default: the root logger)."""
    logger = logger or logging.getLogger()
    flt = PersonalDataFilter()
    for handler in logger.handlers:
        if not any(isinstance(f, PersonalDataFilter) for f in handler.filters):
            handler.addFilter(flt)
    return flt
