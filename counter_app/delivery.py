"""出件 (规程 五(五)): "各办理单位通过邮寄或者申请人自取方式，将实体证照送达申请人".

Three items end in a physical certificate: 4 (the printed 户口页 / 居民户口簿), 5 (居民身份证) and
8 (社会保障卡). For each, the window records how it reached the applicant and the handover: who
handed it over and when, and either the receiver's name and signature (pickup) or the mail
tracking number (mail). For item 8 the record also moves the item: a mailed card is 已寄出 and only
becomes 已领取 once delivered; a card picked up is 已领取 at once.

The receiver, the signature and the tracking number are personal data: encrypted in the store
(``handovers.detail_enc``), never logged.
"""
from __future__ import annotations

import datetime as _dt
import enum
import json
import re
import uuid
from dataclasses import asdict, dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from counter_app import audit
from counter_app.lifecycle import ItemStatus
from counter_app.security.vault import Vault
from counter_app.store.models import Handover, ItemProgress

# What each item hands over.
DELIVERY_ITEMS: dict[int, str] = {4: "户口页（居民户口簿本人页）", 5: "居民身份证", 8: "社会保障卡"}
_TRACKING = re.compile(r"^[A-Za-z0-9]{8,32}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class DeliveryMode(str, enum.Enum):
    MAIL = "mail"      # 邮寄
    PICKUP = "pickup"  # 申请人自取

    @property
    def title(self) -> str:
        return "邮寄" if self is DeliveryMode.MAIL else "申请人自取"


@dataclass(frozen=True)
class HandoverRecord:
    item: int
    mode: DeliveryMode
    at: _dt.datetime
    handed_by: str           # the department or clerk who handed it over / posted it
    received_by: str = ""    # pickup: who received it (the applicant or an agent)
    signature: str = ""      # pickup: SHA-256 of the receiver's signature (stored attachment)
    tracking_no: str = ""    # mail: the mail tracking number
    recorded_by: str = ""

    def to_dict(self) -> dict:
        d = asdict(self)
        d["mode"], d["at"] = self.mode.value, self.at.isoformat()
        return d


# Statuses from which each item's certificate can be handed over.
_READY = {4: {ItemStatus.COMPLETED}, 5: {ItemStatus.COMPLETED}, 8: {ItemStatus.CARD_MAKING, ItemStatus.MAILED}}


def record_handover(cases, case_id: str, item: int, mode: DeliveryMode | str, actor, *, handed_by: str,
                    received_by: str = "", signature: str = "", tracking_no: str = "",
                    at: _dt.datetime | None = None) -> HandoverRecord:
    """Record the handover of item ``item``'s certificate; raises ``CaseError`` with what is missing."""
    from counter_app.cases import CaseError
    from counter_app.security.roles import Permission

    cases._require(actor, Permission.HANDLE_CASE)
    try:
        mode = DeliveryMode(mode)
    except ValueError:
        raise CaseError("出件方式应为邮寄（mail）或申请人自取（pickup）。") from None
    if item not in DELIVERY_ITEMS:
        raise CaseError(f"事项{item}不制发实体证照，无需登记出件（只有事项4、5、8需要）。")
    what = DELIVERY_ITEMS[item]
    at = at or cases.clock()
    with cases.sessions() as s:
        rec = cases._row(s, case_id)
        case_no = rec.case_no
        prog = s.execute(select(ItemProgress).where(ItemProgress.case_id == case_id, ItemProgress.item == item)
                         ).scalar_one_or_none()
        if prog is None:
            raise CaseError(f"办件{case_no}没有事项{item}。")
        status = ItemStatus(prog.status)
        if status == ItemStatus.COLLECTED:
            raise CaseError(f"{what}已领取，出件已登记。")
        if status not in _READY[item]:
            raise CaseError(f"事项{item}目前为“{status.title}”，{what}尚未办好，不能登记出件。")
        if item == 8 and status == ItemStatus.MAILED:
            raise CaseError("社会保障卡已寄出，不能再登记自取或重复邮寄；送达后由平台回报“已领取”。")
    handed_by = handed_by.strip()
    if not handed_by:
        raise CaseError(f"请填写{what}的交付人（经办部门或工作人员）。")
    if mode is DeliveryMode.MAIL:
        tracking_no = tracking_no.strip().upper()
        if not _TRACKING.match(tracking_no):
            raise CaseError("邮寄须登记邮件单号（8至32位字母或数字），请核对邮寄回单。")
        received_by, signature = "", ""
    else:
        received_by = received_by.strip()
        if not received_by:
            raise CaseError("自取须登记领取人姓名（申请人本人或受托人）。")
        if not _SHA256.match(signature or "") or not cases.files.exists(signature):
            raise CaseError("自取须由领取人在签名板上签名确认，请先采集签名。")
        tracking_no = ""
    record = HandoverRecord(item, mode, at, handed_by, received_by, signature, tracking_no, actor.username)
    row_id = uuid.uuid4().hex
    detail = json.dumps({k: v for k, v in record.to_dict().items()
                         if k in ("handed_by", "received_by", "signature", "tracking_no")}, ensure_ascii=False)
    blob = cases.vault.encrypt(detail.encode("utf-8"), Vault.associated_data("handovers", "detail_enc", row_id))
    try:
        with cases.sessions.begin() as s:
            s.add(Handover(id=row_id, case_id=case_id, item=item, mode=mode.value, at=at,
                           recorded_by=actor.username, detail_enc=blob))
            audit.append(s, actor.username, "handover", case_no, {"item": item, "mode": mode.value})
    except IntegrityError:
        raise CaseError(f"事项{item}的{what}已登记过出件。") from None
    if item == 8:
        target = ItemStatus.MAILED if mode is DeliveryMode.MAIL else ItemStatus.COLLECTED
        cases.record_item_status(case_id, 8, target, at=at, source="window",
                                 note="已寄出，邮件单号已登记" if mode is DeliveryMode.MAIL else "申请人已自取", actor=actor)
    return record


def handovers(cases, case_id: str) -> list[HandoverRecord]:
    """The handovers of a case, decrypted, by item."""
    out = []
    with cases.sessions() as s:
        rows = s.execute(select(Handover).where(Handover.case_id == case_id).order_by(Handover.item)).scalars().all()
        for r in rows:
            detail = {}
            if r.detail_enc is not None:
                detail = json.loads(cases.vault.decrypt(r.detail_enc, Vault.associated_data("handovers", "detail_enc",
                                                                                          r.id)))
            out.append(HandoverRecord(r.item, DeliveryMode(r.mode), r.at, detail.get("handed_by", ""),
                                      detail.get("received_by", ""), detail.get("signature", ""),
                                      detail.get("tracking_no", ""), r.recorded_by))
    return out


@dataclass(frozen=True)
class HandoverCandidate:
    """An item of the case whose certificate is handed over (4, 5, 8) and whether it can be now."""
    item: int
    what: str
    status: ItemStatus
    ready: bool          # made, and not handed over yet
    done: bool           # the handover is recorded (or the card was collected)


def handover_candidates(cases, case_id: str) -> list[HandoverCandidate]:
    """Items 4, 5 and 8 of the case with what the 出件 screen may offer (``record_handover`` checks again)."""
    with cases.sessions() as s:
        rows = s.execute(select(ItemProgress).where(ItemProgress.case_id == case_id,
                                                    ItemProgress.item.in_(list(DELIVERY_ITEMS)))
                         .order_by(ItemProgress.item)).scalars().all()
        recorded = set(s.execute(select(Handover.item).where(Handover.case_id == case_id)).scalars())
    out = []
    for p in rows:
        status = ItemStatus(p.status)
        done = p.item in recorded or status == ItemStatus.COLLECTED
        mailed_card = p.item == 8 and status == ItemStatus.MAILED
        out.append(HandoverCandidate(p.item, DELIVERY_ITEMS[p.item], status,
                                     not done and not mailed_card and status in _READY[p.item], done))
    return out
