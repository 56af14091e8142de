"""The one time zone of the program: every shown or printed time is Beijing time.

Stored times are UTC (``UtcDateTime`` in the store); turning them into what a clerk, an applicant
or a report reads goes through ``CHINA_TZ`` and ``beijing_now`` only, so a receipt can never print
the machine's zone beside a Beijing time. China has no daylight saving: a fixed UTC+8 offset is the
zone exactly, and needs no tz database on Windows.
"""
from __future__ import annotations

import datetime as _dt

CHINA_TZ = _dt.timezone(_dt.timedelta(hours=8), "Asia/Shanghai")


def beijing_now() -> _dt.datetime:
    """Now, aware, in Beijing time."""
    return _dt.datetime.now(CHINA_TZ)


def beijing_today() -> _dt.date:
    return beijing_now().date()
