"""Life cycles: the case as a whole, and each joint item at its department.

Transitions are explicit tables; anything not listed is refused with a Chinese message.
Every accepted transition is stored (time, operator, reason) by the store.
"""
from __future__ import annotations

import enum

from counter_app.errors import UserError


class CaseState(str, enum.Enum):
    DRAFT = "draft"
    IDENTITY_VERIFIED = "identity_verified"
    MATERIALS_COMPLETE = "materials_complete"
    SIGNED = "signed"              # finalized: immutable from here
    QUEUED = "queued"              # in the outbox
    ACKNOWLEDGED = "acknowledged"  # the platform confirmed receipt
    IN_PROGRESS = "in_progress"    # departments are working
    COMPLETED = "completed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    SUPERSEDED = "superseded"      # replaced by a corrected version

    @property
    def title(self) -> str:
        return CASE_STATE_TITLES[self]


CASE_STATE_TITLES = {
    CaseState.DRAFT: "草稿", CaseState.IDENTITY_VERIFIED: "身份已核验", CaseState.MATERIALS_COMPLETE: "材料齐全",
    CaseState.SIGNED: "已签字定稿", CaseState.QUEUED: "待上报", CaseState.ACKNOWLEDGED: "平台已接收",
    CaseState.IN_PROGRESS: "办理中", CaseState.COMPLETED: "已办结", CaseState.REJECTED: "不予受理",
    CaseState.WITHDRAWN: "已撤回", CaseState.SUPERSEDED: "已更正（旧版本）",
}

_C = CaseState
CASE_TRANSITIONS: dict[CaseState, frozenset[CaseState]] = {
    _C.DRAFT: frozenset({_C.IDENTITY_VERIFIED, _C.WITHDRAWN}),
    _C.IDENTITY_VERIFIED: frozenset({_C.MATERIALS_COMPLETE, _C.DRAFT, _C.WITHDRAWN}),
    _C.MATERIALS_COMPLETE: frozenset({_C.SIGNED, _C.IDENTITY_VERIFIED, _C.WITHDRAWN}),
    _C.SIGNED: frozenset({_C.QUEUED}),
    _C.QUEUED: frozenset({_C.ACKNOWLEDGED, _C.REJECTED, _C.SUPERSEDED}),
    _C.ACKNOWLEDGED: frozenset({_C.IN_PROGRESS, _C.COMPLETED, _C.REJECTED, _C.SUPERSEDED}),
    _C.IN_PROGRESS: frozenset({_C.COMPLETED, _C.REJECTED, _C.SUPERSEDED}),
    _C.COMPLETED: frozenset(),
    _C.REJECTED: frozenset({_C.SUPERSEDED}),
    _C.WITHDRAWN: frozenset(),
    _C.SUPERSEDED: frozenset(),
}

# States in which the case content can still change.
EDITABLE_STATES = frozenset({_C.DRAFT, _C.IDENTITY_VERIFIED, _C.MATERIALS_COMPLETE})
# States that count as "open" for the one-open-case-per-ID-number rule.
OPEN_STATES = frozenset({_C.DRAFT, _C.IDENTITY_VERIFIED, _C.MATERIALS_COMPLETE, _C.SIGNED, _C.QUEUED,
                         _C.ACKNOWLEDGED, _C.IN_PROGRESS})


class IllegalTransition(UserError):
    """The message is Chinese and says what to do (see ``counter_app.errors``)."""


def check_case_transition(current: CaseState, target: CaseState) -> None:
    if target not in CASE_TRANSITIONS[current]:
        raise IllegalTransition(f"办件状态不能从“{current.title}”变为“{target.title}”。")


class ItemStatus(str, enum.Enum):
    PENDING_PUSH = "pending_push"   # 待推送
    PUSHED = "pushed"               # 已推送
    ACCEPTED = "accepted"           # 受理
    NOT_ACCEPTED = "not_accepted"   # 不予受理
    APPROVED = "approved"           # 审核通过
    DISAPPROVED = "disapproved"     # 审核不通过
    COMPLETED = "completed"         # 办结
    CARD_MAKING = "card_making"     # 制卡中
    MAILED = "mailed"               # 已寄出
    COLLECTED = "collected"         # 已领取

    @property
    def title(self) -> str:
        return ITEM_STATUS_TITLES[self]


ITEM_STATUS_TITLES = {
    ItemStatus.PENDING_PUSH: "待推送", ItemStatus.PUSHED: "已推送", ItemStatus.ACCEPTED: "受理",
    ItemStatus.NOT_ACCEPTED: "不予受理", ItemStatus.APPROVED: "审核通过", ItemStatus.DISAPPROVED: "审核不通过",
    ItemStatus.COMPLETED: "办结", ItemStatus.CARD_MAKING: "制卡中", ItemStatus.MAILED: "已寄出",
    ItemStatus.COLLECTED: "已领取",
}

_S = ItemStatus
ITEM_TRANSITIONS: dict[ItemStatus, frozenset[ItemStatus]] = {
    _S.PENDING_PUSH: frozenset({_S.PUSHED}),
    _S.PUSHED: frozenset({_S.ACCEPTED, _S.NOT_ACCEPTED}),
    _S.ACCEPTED: frozenset({_S.APPROVED, _S.DISAPPROVED}),
    _S.APPROVED: frozenset({_S.COMPLETED, _S.CARD_MAKING}),
    # 出件 "通过邮寄或者申请人自取": a card is mailed (已寄出, then 已领取 when delivered) or picked up.
    _S.CARD_MAKING: frozenset({_S.MAILED, _S.COLLECTED}),
    _S.MAILED: frozenset({_S.COLLECTED}),
    _S.NOT_ACCEPTED: frozenset(),
    _S.DISAPPROVED: frozenset(),
    _S.COMPLETED: frozenset(),
    _S.COLLECTED: frozenset(),
}
# Certificate statuses exist only for the items that produce a card (8 社保卡).
CERTIFICATE_ITEMS = frozenset({8})
CERTIFICATE_STATUSES = frozenset({_S.CARD_MAKING, _S.MAILED, _S.COLLECTED})
# Terminal statuses: the item's work is over (well or not).
ITEM_FINAL = frozenset({_S.NOT_ACCEPTED, _S.DISAPPROVED, _S.COMPLETED, _S.COLLECTED})
# Statuses where the department's own SLA is met (card making and mailing are excluded by the scheme).
ITEM_DONE_FOR_SLA = frozenset({_S.COMPLETED, _S.CARD_MAKING, _S.MAILED, _S.COLLECTED})


# How far along a status is (a later report never moves an item back).
_RANK = {_S.PENDING_PUSH: 0, _S.PUSHED: 1, _S.ACCEPTED: 2, _S.NOT_ACCEPTED: 2, _S.APPROVED: 3, _S.DISAPPROVED: 3,
         _S.COMPLETED: 4, _S.CARD_MAKING: 4, _S.MAILED: 5, _S.COLLECTED: 6}


def item_rank(item: int, status: ItemStatus) -> int:
    """-1 for a status the item cannot have; else its place in the item's life."""
    if status in CERTIFICATE_STATUSES and item not in CERTIFICATE_ITEMS:
        return -1
    return _RANK[status]


def check_item_transition(item: int, current: ItemStatus, target: ItemStatus) -> None:
    if target in CERTIFICATE_STATUSES and item not in CERTIFICATE_ITEMS:
        raise IllegalTransition(f"事项{item}不制发证件，不能设为“{target.title}”。")
    if target not in ITEM_TRANSITIONS[current]:
        raise IllegalTransition(f"事项{item}的办理状态不能从“{current.title}”变为“{target.title}”。")


def item_path(item: int, target: ItemStatus) -> list[ItemStatus]:
    """The shortest legal path from 待推送 to ``target`` (used when the platform reports a
    later status than the last one we saw: intermediate steps are filled in)."""
    from collections import deque

    start = ItemStatus.PENDING_PUSH
    prev: dict[ItemStatus, ItemStatus | None] = {start: None}
    q = deque([start])
    while q:
        s = q.popleft()
        if s == target:
            break
        for n in ITEM_TRANSITIONS[s]:
            if n in CERTIFICATE_STATUSES and item not in CERTIFICATE_ITEMS:
                continue
            if n not in prev:
                prev[n] = s
                q.append(n)
    if target not in prev:
        raise IllegalTransition(f"事项{item}不能达到状态“{target.title}”。")
    path = []
    s: ItemStatus | None = target
    while s is not None:
        path.append(s)
        s = prev[s]
    return list(reversed(path))
