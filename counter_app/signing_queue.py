"""The signing queue: documents of finalized cases waiting for the center's PDF signature.

``CaseService.finalize`` adds one job per document (the form, the receipt, and the 落户介绍信
when the case asks for one) in the finalize transaction, so a case is never finalized without
its jobs and never waits for the key. The application's signing worker signs them when the key
is there (see the application's ``signing_worker``) and records the signed file here. The signed
files are stored content-addressed like attachments but are not case attachments: the window's
seal covers the case as finalized, and each signed PDF proves itself with its own signature.

Thread contract: every method opens its own session; any thread.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from counter_app.store.models import Attachment, CaseRow, SigningJob, utcnow


class JobStatus(StrEnum):
    WAITING = "waiting"
    SIGNED = "signed"


DOCUMENT_TITLES = {"form": "联办申请表", "receipt": "受理回执", "settlement_letter": "落户介绍信"}


def documents_to_sign(app: Any) -> list[str]:  # noqa: ANN401 - application.Application
    """Which documents of a case carry the center's signature (the letter only when the case asks for it)."""
    kinds = ["form", "receipt"]
    if 4 in app.items or app.veteran_affairs.settlement_letter:
        kinds.append("settlement_letter")
    return kinds


def job_rows(case_id: str, kinds: list[str], now: _dt.datetime) -> list[dict]:
    """Rows for ``SigningJob.__table__.insert()`` inside the finalize transaction."""
    return [{"case_id": case_id, "kind": k, "status": JobStatus.WAITING.value, "attempts": 0, "last_error": "",
             "created_at": now} for k in kinds]


@dataclass(frozen=True)
class WaitingJob:
    id: int
    case_id: str
    case_no: str
    version: int
    kind: str
    attempts: int
    last_error: str


@dataclass(frozen=True)
class QueueSummary:
    waiting: int
    signed: int
    oldest_waiting_at: _dt.datetime | None
    last_error: str


class SigningQueue:
    def __init__(self, sessions: sessionmaker[Session], clock: Callable[[], _dt.datetime] | None = None):
        self.sessions = sessions
        self.clock = clock or utcnow

    def waiting(self, limit: int = 100) -> list[WaitingJob]:
        """Jobs to sign, oldest first; a job whose document failed to render goes last."""
        with self.sessions() as s:
            rows = s.execute(select(SigningJob, CaseRow.case_no, CaseRow.version)
                             .join(CaseRow, CaseRow.id == SigningJob.case_id)
                             .where(SigningJob.status == JobStatus.WAITING.value, CaseRow.purged_at.is_(None))
                             .order_by(SigningJob.attempts, SigningJob.id).limit(limit)).all()
        return [WaitingJob(j.id, j.case_id, no, v, j.kind, j.attempts, j.last_error) for j, no, v in rows]

    def mark_signed(self, job_id: int, sha256: str, size: int, signer: str) -> None:
        now = self.clock()
        with self.sessions.begin() as s:
            job = s.get(SigningJob, job_id)
            if s.get(Attachment, sha256) is None:
                s.add(Attachment(sha256=sha256, size=size, mime="application/pdf", created_at=now))
            job.status, job.signed_sha256, job.signer, job.signed_at = JobStatus.SIGNED.value, sha256, signer[:200], now
            job.attempts += 1
            job.last_error = ""

    def mark_failed(self, job_id: int, message: str) -> None:
        with self.sessions.begin() as s:
            job = s.get(SigningJob, job_id)
            job.attempts += 1
            job.last_error = message[:500]

    def summary(self) -> QueueSummary:
        with self.sessions() as s:
            counts = dict(s.execute(select(SigningJob.status, func.count()).group_by(SigningJob.status)).all())
            oldest = s.execute(select(func.min(SigningJob.created_at))
                               .where(SigningJob.status == JobStatus.WAITING.value)).scalar()
            err = s.execute(select(SigningJob.last_error).where(SigningJob.status == JobStatus.WAITING.value,
                                                                SigningJob.last_error != "")
                            .order_by(SigningJob.id.desc()).limit(1)).scalar()
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=_dt.timezone.utc)
        return QueueSummary(counts.get(JobStatus.WAITING.value, 0), counts.get(JobStatus.SIGNED.value, 0),
                            oldest, err or "")

    def signed_documents(self, case_id: str) -> dict[str, str]:
        """kind → SHA-256 of the signed PDF, for the documents of ``case_id`` signed so far."""
        with self.sessions() as s:
            rows = s.execute(select(SigningJob.kind, SigningJob.signed_sha256)
                             .where(SigningJob.case_id == case_id, SigningJob.status == JobStatus.SIGNED.value)).all()
        return {k: h for k, h in rows}

    def jobs_of(self, case_id: str) -> dict[str, str]:
        """kind → status for every document of ``case_id``."""
        with self.sessions() as s:
            rows = s.execute(select(SigningJob.kind, SigningJob.status).where(SigningJob.case_id == case_id)).all()
        return {k: st for k, st in rows}
