"""ORM tables. Personal data lives only in ``*_enc`` columns (AEAD, see security.vault);
lookups go through keyed blind indexes (``*_bidx``). Everything else is operational metadata.

Row ids are UUIDs made by the application before insert, because the row id is part of the
associated data that binds each ciphertext to its row.
"""
from __future__ import annotations

import datetime as _dt

from sqlalchemy import (
    JSON, Boolean, DateTime, TypeDecorator, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UtcDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out. SQLite keeps no zone, so everything is
    stored as UTC; a window's local time (China, UTC+8) is applied only for display and dates."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):  # noqa: ANN001
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use an aware datetime")
        return value.astimezone(_dt.timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):  # noqa: ANN001
        return None if value is None else value.replace(tzinfo=_dt.timezone.utc)


class Base(DeclarativeBase):
    pass


def utcnow() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


class CaseRow(Base):
    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_no: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    supersedes_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"), nullable=True)
    state: Mapped[str] = mapped_column(String(24), index=True)
    source: Mapped[str] = mapped_column(String(16), default="walk_in")
    online_application_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    center_code: Mapped[str] = mapped_column(String(6))
    window_no: Mapped[str] = mapped_column(String(2))
    operator: Mapped[str] = mapped_column(String(64))
    retirement_type: Mapped[str | None] = mapped_column(String(24), nullable=True)
    items: Mapped[str] = mapped_column(String(64), default="")  # "1,4,8"
    id_bidx: Mapped[str] = mapped_column(String(64), index=True)
    phone_bidx: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    payload_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # the application JSON
    created_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    accepted_on: Mapped[_dt.date | None] = mapped_column(index=True, nullable=True)  # local date of acceptance
    finalized_at: Mapped[_dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    confirmed_at: Mapped[_dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    content_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    seal: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    rating: Mapped[str | None] = mapped_column(String(8), nullable=True)
    purged_at: Mapped[_dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    masked_summary: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # kept after purge

    __table_args__ = (UniqueConstraint("case_no", "version", name="uq_case_no_version"),)

    transitions: Mapped[list["CaseTransition"]] = relationship(back_populates="case", order_by="CaseTransition.id")
    progress: Mapped[list["ItemProgress"]] = relationship(back_populates="case", order_by="ItemProgress.item")
    attachments: Mapped[list["CaseAttachment"]] = relationship(back_populates="case")


class CaseTransition(Base):
    __tablename__ = "case_transitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(24), nullable=True)
    to_state: Mapped[str] = mapped_column(String(24))
    at: Mapped[_dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    operator: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")

    case: Mapped[CaseRow] = relationship(back_populates="transitions")


class ItemProgress(Base):
    """Current department status of one joint item of a case."""

    __tablename__ = "item_progress"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    item: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(24))
    updated_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")
    due: Mapped[_dt.date | None] = mapped_column(nullable=True)
    sla: Mapped[str | None] = mapped_column(String(16), nullable=True)

    __table_args__ = (UniqueConstraint("case_id", "item", name="uq_progress_case_item"),)
    case: Mapped[CaseRow] = relationship(back_populates="progress")


class ItemStatusEvent(Base):
    """Every department status change, with its time (history behind ItemProgress)."""

    __tablename__ = "item_status_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    item: Mapped[int] = mapped_column(Integer)
    from_status: Mapped[str | None] = mapped_column(String(24), nullable=True)
    to_status: Mapped[str] = mapped_column(String(24))
    at: Mapped[_dt.datetime] = mapped_column(UtcDateTime())
    source: Mapped[str] = mapped_column(String(16), default="window")  # window / platform
    operator: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str] = mapped_column(Text, default="")


class Attachment(Base):
    """A file in the content-addressed store; the name is the SHA-256 of the plaintext."""

    __tablename__ = "attachments"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    mime: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    purged_at: Mapped[_dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class CaseAttachment(Base):
    __tablename__ = "case_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("attachments.sha256"))
    role: Mapped[str] = mapped_column(String(16))  # material / photo / signature / form_pdf / signed_form / settlement_letter
    material: Mapped[int | None] = mapped_column(Integer, nullable=True)

    case: Mapped[CaseRow] = relationship(back_populates="attachments")
    __table_args__ = (UniqueConstraint("case_id", "sha256", "role", "material", name="uq_case_attachment"),)


class OutboxEntry(Base):
    """One finalized case waiting to reach the platform (written with the case, same transaction)."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(36), unique=True)
    business_key: Mapped[str] = mapped_column(String(48))  # case_no + "/v" + version
    status: Mapped[str] = mapped_column(String(16), index=True, default="waiting")  # counter_app.statuses.OutboxStatus
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    acked_at: Mapped[_dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    receipt: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class AuditEntry(Base):
    """Tamper-evident trail: each entry holds the previous entry's hash. No personal data."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[_dt.datetime] = mapped_column(UtcDateTime())
    operator: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32), index=True)
    subject: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class Operator(Base):
    __tablename__ = "operators"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))  # clerk / supervisor / it_admin
    password_hash: Mapped[str] = mapped_column(String(255))
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[_dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class DailySequence(Base):
    """Per-window, per-day case number sequence."""

    __tablename__ = "daily_sequences"

    day: Mapped[_dt.date] = mapped_column(primary_key=True)
    center_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    window_no: Mapped[str] = mapped_column(String(2), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Setting(Base):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict | list | str | int | float | bool | None] = mapped_column(JSON)


class WorklistEntry(Base):
    """Online applications approved by county VA, waiting for confirmation at this window."""

    __tablename__ = "worklist"

    platform_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    id_bidx: Mapped[str] = mapped_column(String(64), index=True)
    payload_enc: Mapped[bytes] = mapped_column(LargeBinary)
    approved_on: Mapped[_dt.date | None] = mapped_column(nullable=True)
    fetched_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    taken_case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"), nullable=True)


class Rating(Base):
    __tablename__ = "ratings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    stage: Mapped[str] = mapped_column(String(16))  # acceptance / completion
    level: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[_dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    synced: Mapped[bool] = mapped_column(Boolean, default=False)
    # window (the applicant screen), or the platform's own channel that collected it (sms / online)
    channel: Mapped[str] = mapped_column(String(8), default="window", server_default="window")


class SigningJob(Base):
    """A document of a finalized case and the center's PDF signature on it (see ``signing_queue``).

    Written ``waiting`` in the finalize transaction; the signing worker stores the signed PDF
    (content-addressed, encrypted, an ``attachments`` row but no case attachment: the window's seal
    covers the case as finalized) and marks it ``signed``."""

    __tablename__ = "signing_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))  # form / receipt / settlement_letter
    status: Mapped[str] = mapped_column(String(16), index=True, default="waiting")  # waiting / signed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    signed_at: Mapped[_dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    signed_sha256: Mapped[str | None] = mapped_column(ForeignKey("attachments.sha256"), nullable=True)
    signer: Mapped[str] = mapped_column(String(200), default="")

    __table_args__ = (UniqueConstraint("case_id", "kind", name="uq_signing_job"),)


class Handover(Base):
    """出件: a certificate of item 4, 5 or 8 handed to the applicant, by mail or pickup (规程 五(五)).
    Who handed it over, who received it, the signature or the mail tracking number are personal
    data: they live in ``detail_enc``."""

    __tablename__ = "handovers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    item: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(8))  # mail / pickup
    at: Mapped[_dt.datetime] = mapped_column(UtcDateTime())
    recorded_by: Mapped[str] = mapped_column(String(64))
    detail_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)

    __table_args__ = (UniqueConstraint("case_id", "item", name="uq_handover_case_item"),)


class Notification(Base):
    """A message the platform sent the applicant (SMS of a result), as it reported it; shown, never sent here.
    ``digest`` (of case, time, item, kind and text) keeps a re-pulled message from being stored twice."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[_dt.datetime] = mapped_column(UtcDateTime())
    channel: Mapped[str] = mapped_column(String(8))
    item: Mapped[int | None] = mapped_column(Integer, nullable=True)
    kind: Mapped[str] = mapped_column(String(16))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    text_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


Index("ix_cases_state_accepted", CaseRow.state, CaseRow.accepted_on)


class CorrectionReason(Base):
    """Why a correction was asked for (``request``, the clerk's words) or refused (``refusal``, the
    supervisor's). Free text that may hold names, numbers and addresses: kept encrypted in
    ``reason_enc``; the case's timeline (``case_transitions.reason``) keeps only a masked copy."""

    __tablename__ = "correction_reasons"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # request / refusal
    at: Mapped[_dt.datetime] = mapped_column(UtcDateTime())
    operator: Mapped[str] = mapped_column(String(64))
    reason_enc: Mapped[bytes] = mapped_column(LargeBinary)


class FollowUp(Base):
    """Something the window sends the platform about a case it already submitted (``sync.followups``):
    the stamped 落户介绍信 scanned back after acceptance, the request to invite the applicant to rate.
    At most one of each kind per case; ``sent_at`` once the platform confirmed it."""

    __tablename__ = "followups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))  # settlement_letter / rating_invitation
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the letter's scan
    requested_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime())
    requested_by: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[_dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    answer: Mapped[str] = mapped_column(Text, default="")  # the platform's message, or why it refused
    __table_args__ = (UniqueConstraint("case_id", "kind", name="uq_followup_case_kind"),)
