"""What the case service hands out and refuses with: records, summaries, actors, errors.

Kept apart from the service (``counter_app.cases``) so that readers of a case (queries, reports,
the UI) name these types without the store's machinery.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

from counter_app.application import Application
from counter_app.errors import UserError
from counter_app.lifecycle import CaseState
from counter_app.problems import Problem

DAMAGED_TEXT = "数据损坏，请联系技术人员"


class CaseError(UserError):
    """An operation refused for a reason the clerk can understand (Chinese message)."""

    def __init__(self, message: str, problems: list[Problem] | None = None, existing_case_no: str | None = None):
        super().__init__(message)
        self.message = message
        self.problems = problems or []
        self.existing_case_no = existing_case_no


class CaseDamaged(CaseError):
    """The case's encrypted data does not open (a damaged row): shown as damaged, never a traceback."""

    def __init__(self, case_no: str):
        super().__init__(f"办件 {case_no} 的{DAMAGED_TEXT}（加密数据无法打开）。其他办件不受影响；"
                         "技术人员可从最近的数据库备份中核对该办件。")
        self.case_no = case_no


@dataclass(frozen=True)
class Actor:
    username: str
    role: str = "clerk"  # clerk / supervisor / it_admin / system


SYSTEM = Actor("system", "system")


class AccessDenied(CaseError):
    """The actor's role does not allow the operation (checked in the core, not only in the UI)."""



@dataclass
class CaseSummary:
    """What lists show: no personal data beyond the masked name and ID number."""

    id: str
    case_no: str
    version: int
    state: CaseState
    masked_name: str
    masked_id: str
    items: list[int]
    retirement_type: str | None
    accepted_on: _dt.date | None
    operator: str
    synced: bool
    sla: str | None = None
    rating: str | None = None
    source: str = "walk_in"
    damaged: bool = False  # the encrypted data does not open: shown as DAMAGED_TEXT, masked number


@dataclass
class CaseRecord:
    id: str
    case_no: str
    version: int
    state: CaseState
    application: Application
    center_code: str
    window_no: str
    operator: str
    created_at: _dt.datetime
    accepted_on: _dt.date | None
    finalized_at: _dt.datetime | None
    supersedes_id: str | None
    content_digest: str | None
    seal: dict | None
    progress: list[dict] = field(default_factory=list)
    transitions: list[dict] = field(default_factory=list)
    attachments: list[dict] = field(default_factory=list)
    outbox: dict | None = None
    rating: str | None = None
    # finalize: the sealed case JSON as ``export`` gives it (no read-back while the applicant waits)
    case_json: dict | None = None
