"""One acceptance in progress: the application being typed and what the steps produced for it.

:class:`AcceptanceSession` is plain data held by the acceptance widget on the GUI thread. The
functions below it are the blocking jobs the steps hand to ``ctx.tasks.db`` (database and
attachment store, one writer thread) or ``ctx.tasks.io`` (rendering, images); each states where it
runs. They take copies of the application, never the live object the widgets edit.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from counter_app.application import Application, application_to_dict, parse_application
from counter_app.cases import Actor, CaseError, CaseRecord
from ui.acceptance.render_jobs import images_to_pdf  # noqa: F401  (re-exported for the steps)

log = logging.getLogger(__name__)


@dataclass
class AcceptanceSession:
    app: Application = field(default_factory=Application)
    case_id: str | None = None
    case_no: str | None = None
    worklist_id: str | None = None
    finalized: bool = False
    duplicate_case_no: str | None = None   # another open case holds this ID number
    card: Any = None                        # devices.idcard.IdCardData of the last card read
    before_card: dict | None = None         # the identity fields as they were before that card
    photo_jpeg: bytes | None = None
    photo_report: Any = None                # devices.photo.PhotoResult
    photo_ticks: set[str] = field(default_factory=set)   # clerk checks of photo_report confirmed by eye
    signature: Any = None                   # devices.signature.Signature
    signature_png: bytes | None = None
    signed_digest: str | None = None        # application_digest() when the applicant signed
    form_pdf: bytes | None = None           # the form as signed (photo + signature)
    form_pages: int = 0
    signed_scan: bytes | None = None        # the scanned paper form, as PDF
    signed_scan_pages: int = 0
    printed: set[str] = field(default_factory=set)
    receipt_pdf: bytes | None = None
    case_json: dict | None = None           # the last export (after finalizing: the sealed case)
    rating_done: bool = False

    @property
    def photo_required(self) -> bool:
        return self.app.has_item(8)


def china_today() -> _dt.date:
    """Today at the service center (UTC+8), whatever the PC's clock zone: the core dates cases so."""
    from counter_app.cases import CHINA_TZ

    return _dt.datetime.now(CHINA_TZ).date()


def application_digest(app: Application) -> str:
    """What the applicant signs: every value of the application except the signature itself."""
    data = application_to_dict(app)
    data.pop("signature", None)
    data.pop("materials", None)   # ticking originals after signing does not change the form
    data.pop("settlement_letter_scan", None)  # the stamped letter is scanned after signing
    return hashlib.sha256(json.dumps(data, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


# ----------------------------------------------------------------------------- db jobs

def create_or_save_draft(window: Any, case_id: str | None, app: Application, actor: Actor,
                         worklist_id: str | None = None) -> CaseRecord:
    """``ctx.tasks.db``: create the draft (first time) or save it. Raises CaseError (duplicate …)."""
    if case_id is None:
        record = window.cases.create_draft(app, actor)
        if worklist_id:
            _take_worklist_entry(window, worklist_id, record.id)
        return record
    return window.cases.save_draft(case_id, app, actor)


def _take_worklist_entry(window: Any, platform_id: str, case_id: str) -> None:
    from counter_app.store.models import WorklistEntry

    with window.sessions.begin() as s:
        entry = s.get(WorklistEntry, platform_id)
        if entry is not None and entry.taken_case_id is None:
            entry.taken_case_id = case_id


def load_worklist_application(window: Any, platform_id: str) -> Application:
    """``ctx.tasks.db``: the online application behind a worklist entry, as a walk-in would type it."""
    from counter_app.store.models import WorklistEntry

    with window.sessions() as s:
        entry = s.get(WorklistEntry, platform_id)
        if entry is None:
            raise CaseError("找不到这条网上申请，可能已被其他窗口受理；请刷新工作台。")
        if entry.taken_case_id is not None:
            raise CaseError("这条网上申请已经在受理中，请在工作台打开对应的办件。")
        try:
            from ui.worklist import decode_worklist_entry

            payload = decode_worklist_entry(window, entry)
        except Exception:
            log.exception("cannot decode worklist entry")
            raise CaseError("网上申请数据无法读取（可能已损坏），请改为现场录入。") from None
    app, _problems = parse_application(payload)
    app.source = "online"
    app.online_application_id = app.online_application_id or platform_id
    for record in app.materials.values():
        record.original_seen = False   # originals are seen at this window, by this clerk, today
    return app


def load_case(window: Any, case_id: str) -> tuple[CaseRecord, bytes | None]:
    """``ctx.tasks.db``: an existing case and its photo bytes (a draft resumed from the worklist)."""
    record = window.cases.get(case_id)
    photo = None
    if record.application.photo and window.files.exists(record.application.photo):
        photo = window.files.get(record.application.photo)
    return record, photo


def open_case_number(window: Any, id_number: str) -> str | None:
    """``ctx.tasks.db``: the number of an open case with this ID number, or None."""
    return window.cases.open_case_number(id_number)


def store_attachment(window: Any, data: bytes, mime: str) -> str:
    """``ctx.tasks.db``: into the encrypted content-addressed store; returns the SHA-256."""
    return window.cases.put_attachment(data, mime)


def read_attachment(window: Any, sha256: str) -> bytes:
    """``ctx.tasks.db``."""
    return window.files.get(sha256)


def export_case(window: Any, case_id: str, app: Application, actor: Actor) -> dict:
    """``ctx.tasks.db``: save the draft, then the case JSON printing consumes."""
    window.cases.save_draft(case_id, app, actor)
    return window.cases.export(case_id)


# ----------------------------------------------------------------------------- io jobs

def render_form(case_json: dict, photo_jpeg: bytes | None, signature_png: bytes | None):
    """``ctx.tasks.io``: the application form PDF (``printing.form``, in the render process)."""
    from ui.acceptance.render_pool import render

    return render("printing.form", "render_application_form", case_json, photo_jpeg=photo_jpeg,
                  signature_png=signature_png)
