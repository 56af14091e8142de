"""The reference platform's own tables (SQLAlchemy; SQLite by default, PostgreSQL for the bench).

Not the window's store: nothing here is shared with ``counter_app.store``. Every row that belongs
to a center carries its ``center_code`` so that each query can be scoped to the caller's center.
"""
from __future__ import annotations

import datetime as _dt

from sqlalchemy import (
    JSON, Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from counter_app.store.models import UtcDateTime


class RefBase(DeclarativeBase):
    pass


class Credential(RefBase):
    """A credential IT enrolled: only its hash is kept, its binding, and the bundle keys derived from it."""

    __tablename__ = "credentials"
    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    credential_id: Mapped[str] = mapped_column(String(16), unique=True)
    label: Mapped[str] = mapped_column(String(64))
    center_code: Mapped[str] = mapped_column(String(6), index=True)
    window_no: Mapped[str | None] = mapped_column(String(2), nullable=True)
    role: Mapped[str] = mapped_column(String(16))
    operator: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The window's seal public key, registered at enrolment (never learnt from a seal).
    seal_public_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    bundle_enc_key: Mapped[bytes] = mapped_column(LargeBinary)
    bundle_mac_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime())


class PlatformCase(RefBase):
    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform_case_id: Mapped[str] = mapped_column(String(32), unique=True)
    business_key: Mapped[str] = mapped_column(String(48), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(36), unique=True)
    content_digest: Mapped[str] = mapped_column(String(64))
    case_no: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(Integer)
    center_code: Mapped[str] = mapped_column(String(6), index=True)
    window_no: Mapped[str] = mapped_column(String(2))
    operator: Mapped[str] = mapped_column(String(64), default="")
    # Keyed hash of the applicant's ID number (never the number itself) for "one open case per person".
    person_key: Mapped[str] = mapped_column(String(64), index=True, default="")
    accepted_on: Mapped[_dt.date | None] = mapped_column(Date, nullable=True)
    superseded: Mapped[bool] = mapped_column(Boolean, default=False)
    online_application_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    payload: Mapped[str] = mapped_column(Text)  # the case JSON as received
    receipt: Mapped[dict] = mapped_column(JSON)
    received_count: Mapped[int] = mapped_column(Integer, default=1)
    first_received_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime())
    last_received_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime())
    source: Mapped[str] = mapped_column(String(8))  # http / bundle
    credential_label: Mapped[str] = mapped_column(String(64))
    seal_verified: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    seal_note: Mapped[str] = mapped_column(Text, default="")
    audit_head_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    audit_head_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)


class CaseItem(RefBase):
    __tablename__ = "case_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    item: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(24))
    note: Mapped[str] = mapped_column(Text, default="")
    due: Mapped[_dt.date | None] = mapped_column(Date, nullable=True)
    updated_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime())
    __table_args__ = (UniqueConstraint("case_id", "item"),)


class ItemEvent(RefBase):
    __tablename__ = "item_events"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    item: Mapped[int] = mapped_column(Integer)
    from_status: Mapped[str | None] = mapped_column(String(24), nullable=True)
    to_status: Mapped[str] = mapped_column(String(24))
    at: Mapped[_dt.datetime] = mapped_column(UtcDateTime())
    note: Mapped[str] = mapped_column(Text, default="")


class ScheduledStep(RefBase):
    __tablename__ = "schedule"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    item: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(24))
    due_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime())
    note: Mapped[str] = mapped_column(Text, default="")
    applied: Mapped[bool] = mapped_column(Boolean, default=False)
    __table_args__ = (Index("ix_schedule_pending", "applied", "due_at"),)


class WorklistRow(RefBase):
    __tablename__ = "worklist"
    platform_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    center_code: Mapped[str] = mapped_column(String(6), index=True)
    day: Mapped[_dt.date] = mapped_column(Date)
    payload: Mapped[dict] = mapped_column(JSON)
    taken_business_key: Mapped[str | None] = mapped_column(String(48), nullable=True)
    # The window accepting it now: set by a claim, cleared by a release or when it expires.
    claimed_by_window: Mapped[str | None] = mapped_column(String(2), nullable=True)
    claimed_by_label: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claimed_at: Mapped[_dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    claim_expires_at: Mapped[_dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class RatingRow(RefBase):
    __tablename__ = "ratings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(36), unique=True)
    business_key: Mapped[str] = mapped_column(String(48), index=True)
    center_code: Mapped[str] = mapped_column(String(6), index=True, default="")
    stage: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text, default="")
    rated_at: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime())


class BundleImport(RefBase):
    __tablename__ = "bundle_imports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    credential_label: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime())
    summary: Mapped[dict] = mapped_column(JSON)


# ---- after acceptance (``refplatform.followups``) -------------------------------------------------
class SettlementLetterRow(RefBase):
    """The stamped 落户介绍信 of a received case, scanned back after acceptance: releases items 4 and 5."""
    __tablename__ = "settlement_letters"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(36), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    mime: Mapped[str] = mapped_column(String(32))
    scanned_at: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime())
    pushed_items: Mapped[list] = mapped_column(JSON)


class RatingInvitationRow(RefBase):
    """The platform's rating invitation (SMS) sent at a window's request, once per case and stage."""
    __tablename__ = "rating_invitations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(36), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(8))
    sent_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime())
    __table_args__ = (UniqueConstraint("case_id", "stage"),)


class ChannelRatingRow(RefBase):
    """A rating the applicant gave through the platform's own channel (the SMS link, the online hall)."""
    __tablename__ = "channel_ratings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(8))
    rated_at: Mapped[_dt.datetime] = mapped_column(UtcDateTime())
    __table_args__ = (UniqueConstraint("case_id", "stage"),)
