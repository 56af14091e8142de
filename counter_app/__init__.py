"""The headless core of the veterans' "one thing" counter application.

No PySide6, OpenCV or pyserial import is allowed anywhere in this package:
every rule of the scheme must be testable without a screen or a device.

Rooms: the scheme and its rules (``scheme``, ``rules``, ``eligibility``, ``identity``,
``lifecycle``, ``workdays``); cases (``cases`` drafts and reading, ``finalize`` where a case is
queued, ``case_json`` the one case-JSON builder, ``correction_approval``, ``case_progress``,
``case_types``); the store (``store/``), security (``security/``), the sync client (``sync/``),
report data (``reports``, ``report_data``); one ``errors.UserError``, one time zone (``clock``),
the statuses as enums (``statuses``). Entry points live in ``app/``.
"""

__version__ = "0.1.0"
