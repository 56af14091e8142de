"""Statuses that are stored or shown, besides the case life cycle (``counter_app.lifecycle``).

Each is a ``StrEnum``: a member *is* its stored text, so database rows, JSON and the platform
contract keep the values they always had, while code compares against one name instead of a
string typed in ten files.
"""
from __future__ import annotations

import enum


class OutboxStatus(enum.StrEnum):
    """Where a finalized case is on its way to the provincial platform (``outbox.status``)."""

    WAITING = "waiting"          # not yet acknowledged: the sync worker sends it (again)
    ACKED = "acked"              # the platform confirmed receipt
    QUARANTINED = "quarantined"  # the platform called it wrong: a person must look at it

    @property
    def title(self) -> str:
        return _OUTBOX_TITLES[self]


_OUTBOX_TITLES = {
    OutboxStatus.WAITING: "等待上报",
    OutboxStatus.ACKED: "省平台已接收",
    OutboxStatus.QUARANTINED: "被平台拒收，需人工处理",
}


class DrainStop(enum.StrEnum):
    """Why one pass over the outbox stopped before the queue was empty."""

    OFFLINE = "offline"          # the platform cannot be reached: back off, try later
    BUSY = "busy"                # 5xx / 429 / 408: back off, try later
    CREDENTIALS = "credentials"  # the window's token is missing or refused: IT must act
    STOPPED = "stopped"          # the worker is shutting down

    @property
    def retry_later(self) -> bool:
        return self in (DrainStop.OFFLINE, DrainStop.BUSY)


class DeviceState(enum.StrEnum):
    """What a clerk needs to know about a device at a glance."""

    READY = "ready"
    BUSY = "busy"
    NOT_CONNECTED = "not_connected"
    ERROR = "error"

    @property
    def label(self) -> str:
        """Chinese label for lists and status bars."""
        return _DEVICE_LABELS[self]

    @property
    def level(self) -> str:
        """How the status bar colours it: ``ok`` / ``warn`` / ``bad``."""
        return _DEVICE_LEVELS[self]


_DEVICE_LABELS = {
    DeviceState.READY: "就绪",
    DeviceState.BUSY: "忙",
    DeviceState.NOT_CONNECTED: "未连接",
    DeviceState.ERROR: "故障",
}
_DEVICE_LEVELS = {
    DeviceState.READY: "ok",
    DeviceState.BUSY: "warn",
    DeviceState.NOT_CONNECTED: "bad",
    DeviceState.ERROR: "bad",
}


class FollowUpKind(enum.StrEnum):
    """What a follow-up sent after acceptance is (``follow_ups.kind``, ``counter_app.sync.followups``)."""

    SETTLEMENT_LETTER = "settlement_letter"   # the stamped 落户介绍信 scanned back
    RATING_INVITATION = "rating_invitation"   # the platform asked to invite the applicant to rate


# The answer a follow-up keeps when the platform refused it ("省平台拒收：<the platform's message>"):
# a refused follow-up counts as not sent (the police items stay held, the invitation is not made).
FOLLOWUP_REFUSED = "省平台拒收"

