"""Which printer prints which document: the one owner of the document types and the choice per type.

The choice is stored in the window database's ``settings`` table as ``printer.<doc_type>`` rows;
``""`` means the system's default printer. The site file and the first-run wizard
(:mod:`counter_app.site_config`), the settings page and every print path read and write it here,
and only here. The spooler (``printing.spool``) remembers nothing: it is told the printer.

Thread contract: the functions open their own short database sessions; call them from a worker
(``ctx.tasks.db``), never while another transaction of the same window is open on this thread.
"""
from __future__ import annotations

from typing import Any, Mapping

from counter_app.errors import UserError

#: Document types with a printer of their own, and the label IT sees for each.
DOC_TYPES: dict[str, str] = {
    "form": "联办申请表",
    "receipt": "受理回执",
    "settlement_letter": "落户介绍信",
    "reserve_reminder": "预备役登记提醒",
    "daily_report": "每日受理报表",
}
DEFAULT_PRINTER = ""  # the system's default printer
SETTING_PREFIX = "printer."


class UnknownDocumentType(UserError):
    def __init__(self, doc_type: str):
        super().__init__(f"未知的单据类型：{doc_type}（可用：{'、'.join(DOC_TYPES)}）。")


def setting_key(doc_type: str) -> str:
    if doc_type not in DOC_TYPES:
        raise UnknownDocumentType(doc_type)
    return SETTING_PREFIX + doc_type


def printer_for(window: Any, doc_type: str) -> str:
    """The printer chosen for ``doc_type`` ("" = the system default)."""
    from counter_app.store.models import Setting

    with window.sessions() as s:
        row = s.get(Setting, setting_key(doc_type))
        return str(row.value) if row is not None and row.value else DEFAULT_PRINTER


def printer_map(window: Any) -> dict[str, str]:
    """Every document type with its printer, in :data:`DOC_TYPES` order."""
    from counter_app.store.models import Setting

    with window.sessions() as s:
        rows = {t: s.get(Setting, setting_key(t)) for t in DOC_TYPES}
        return {t: str(r.value) if r is not None and r.value else DEFAULT_PRINTER for t, r in rows.items()}


def write_printer_map(session: Any, mapping: Mapping[str, str]) -> None:
    """Write the choice inside the caller's transaction (``session``); unknown types are refused
    before anything is written."""
    from counter_app.store.models import Setting

    keys = {setting_key(doc_type): (printer or "").strip() for doc_type, printer in mapping.items()}
    for key, printer in keys.items():
        row = session.get(Setting, key)
        if row is None:
            session.add(Setting(key=key, value=printer))
        else:
            row.value = printer


def save_printer_map(window: Any, mapping: Mapping[str, str]) -> None:
    """Write the choice in a transaction of its own."""
    with window.sessions.begin() as s:
        write_printer_map(s, mapping)
