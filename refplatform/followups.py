"""After acceptance, the platform's side (``counter_app.sync.followups`` is the window's):

- ``POST /settlement-letters``: the stamped 落户介绍信 of a received case. 规程 五(四)1: the police get
  items 4 and 5 with the letter or not at all; a case received without it holds them 待推送
  (``LETTER_MISSING``), and this letter pushes them now, with their department steps planned from now.
- ``POST /ratings/invitations``: 规程 五(六) "受理及联办事项办结后…好差评": the window asks the platform to
  invite the applicant (who did not come back) to rate the completed case; the platform sends the
  SMS (shown back in the progress answer's ``notifications``).
- :func:`rate_through_channel`: the applicant's answer through that channel (the SMS link, the
  online hall) — the platform's own input, not an HTTP route of the window contract; it comes back
  to the window in the progress answer's ``ratings``.
"""
from __future__ import annotations

import datetime as _dt

from sqlalchemy import insert, select

from counter_app.lifecycle import ItemStatus
from counter_app.scheme import RATINGS
from counter_app.sync import contract as C
from refplatform.credentials import Caller
from refplatform.departments import plan_items
from refplatform.errors import PlatformError, Received
from refplatform.tables import (
    CaseItem, ChannelRatingRow, ItemEvent, PlatformCase, RatingInvitationRow, RatingRow, ScheduledStep,
    SettlementLetterRow,
)

CHINA_TZ = _dt.timezone(_dt.timedelta(hours=8))
POLICE_ITEMS = (4, 5)
INVITATION_TEXT = ("您申请的退役军人服务“一件事”（办件{case_no}）已全部办结。请点击短信链接或登录河南政务服务网，"
                   "对本次服务进行“好差评”。")


def _key(idempotency_key: str | None) -> str:
    if not idempotency_key or not C.UUID_RE.match(idempotency_key):
        raise PlatformError(400, C.E_INVALID_REQUEST, "缺少 Idempotency-Key 请求头，或其不是UUID。")
    return idempotency_key


def _case(store, s, caller: Caller | None, business_key: str) -> PlatformCase:
    row = store._visible(s, caller, business_key=business_key)
    if row is None:
        raise PlatformError(404, C.E_NOT_FOUND, "平台没有该办件（请先上报办件）。")
    return row


def receive_settlement_letter(store, caller: Caller, idempotency_key: str | None, body: dict) -> Received:
    key = _key(idempotency_key)
    bk, sha = body["business_key"], body["sha256"]
    with store.writing() as s:
        prior = s.execute(select(SettlementLetterRow).where(SettlementLetterRow.idempotency_key == key)
                          ).scalar_one_or_none()
        if prior is not None:
            row = s.get(PlatformCase, prior.case_id)
            if (row.business_key, prior.sha256) != (bk, sha):
                raise PlatformError(422, C.E_KEY_REUSED, "该幂等键已用于另一份落户介绍信。")
            return Received(200, _letter_answer(bk, prior, replayed=True), True)
        row = _case(store, s, caller, bk)
        items = {it.item: it for it in s.execute(select(CaseItem).where(CaseItem.case_id == row.id)).scalars()}
        if 4 not in items:
            raise PlatformError(422, C.E_INVALID_REQUEST, "该办件没有户口登记事项（事项4），不需要落户介绍信。")
        if s.execute(select(SettlementLetterRow.id).where(SettlementLetterRow.case_id == row.id)).first() is not None:
            raise PlatformError(409, C.E_BUSINESS_KEY_CONFLICT, "该办件的落户介绍信已回传过。")
        if any(isinstance(a, dict) and a.get("role") == "settlement_letter" for a in _attachments(row)):
            raise PlatformError(409, C.E_BUSINESS_KEY_CONFLICT, "该办件的落户介绍信已随办件上报。")
        state = store.blobs_for(row.center_code).state(sha)
        if state["state"] != "complete":
            raise PlatformError(409, C.E_ATTACHMENTS_MISSING, "落户介绍信扫描件尚未上传完整，请先上传附件。",
                                missing=[sha])
        now = store.clock.now()
        held = [n for n in POLICE_ITEMS if n in items and items[n].status == ItemStatus.PENDING_PUSH.value]
        for n in held:
            it = items[n]
            s.add(ItemEvent(case_id=row.id, item=n, from_status=it.status, to_status=ItemStatus.PUSHED.value, at=now,
                            note="盖章的落户介绍信已回传，推送公安部门。"))
            it.status, it.note, it.updated_at = ItemStatus.PUSHED.value, "", now
        steps = plan_items(bk, held, now, store.clock.step_seconds) if held else []
        if steps:
            s.execute(insert(ScheduledStep), [{"case_id": row.id, "item": st.item, "status": st.status.value,
                                               "due_at": st.at, "note": st.note, "applied": False} for st in steps])
        letter = SettlementLetterRow(idempotency_key=key, case_id=row.id, sha256=sha,
                                     size=int(state.get("size") or state["received"]), mime=body["mime"], scanned_at=body["scanned_at"], received_at=now,
                                     pushed_items=held)
        s.add(letter)
        s.flush()
        return Received(201, _letter_answer(bk, letter, replayed=False), False)


def _attachments(row: PlatformCase) -> list:
    import json

    return (json.loads(row.payload).get("attachments") or []) if row.payload else []


def _letter_answer(bk: str, letter: SettlementLetterRow, *, replayed: bool) -> dict:
    pushed = list(letter.pushed_items or [])
    message = ("省平台已接收盖章的落户介绍信，" + ("、".join(f"事项{n}" for n in pushed) + "已推送公安部门。" if pushed
                                             else "公安事项此前已推送。"))
    return {"business_key": bk, "sha256": letter.sha256, "pushed_items": pushed, "replayed": replayed,
            "message": message}


def receive_rating_invitation(store, caller: Caller, idempotency_key: str | None, body: dict) -> Received:
    key = _key(idempotency_key)
    bk, stage = body["business_key"], body["stage"]
    with store.writing() as s:
        prior = s.execute(select(RatingInvitationRow).where(RatingInvitationRow.idempotency_key == key)
                          ).scalar_one_or_none()
        if prior is not None:
            if s.get(PlatformCase, prior.case_id).business_key != bk or prior.stage != stage:
                raise PlatformError(422, C.E_KEY_REUSED, "该幂等键已用于另一个评价邀请。")
            return Received(200, _invitation_answer(prior, replayed=True), True)
        row = _case(store, s, caller, bk)
        statuses = [it.status for it in s.execute(select(CaseItem).where(CaseItem.case_id == row.id)).scalars()]
        if not statuses or not all(st in (ItemStatus.COMPLETED.value, ItemStatus.COLLECTED.value,
                                          ItemStatus.NOT_ACCEPTED.value, ItemStatus.DISAPPROVED.value)
                                   for st in statuses):
            raise PlatformError(409, C.E_INVALID_REQUEST, "联办事项尚未全部办结，暂不能邀请办结评价。")
        if _rated(s, row, stage):
            raise PlatformError(409, C.E_INVALID_REQUEST, "申请人已对办结服务评价，无需再邀请。")
        if s.execute(select(RatingInvitationRow.id).where(RatingInvitationRow.case_id == row.id,
                                                          RatingInvitationRow.stage == stage)).first() is not None:
            raise PlatformError(409, C.E_INVALID_REQUEST, "评价邀请已发送过，请等待申请人评价。")
        inv = RatingInvitationRow(idempotency_key=key, case_id=row.id, stage=stage, channel=body["channel"],
                                  sent_at=store.clock.now())
        s.add(inv)
        s.flush()
        return Received(201, _invitation_answer(inv, replayed=False), False)


def _invitation_answer(inv: RatingInvitationRow, *, replayed: bool) -> dict:
    return {"invitation_id": inv.id, "sent_at": inv.sent_at.astimezone(CHINA_TZ).isoformat(timespec="seconds"),
            "replayed": replayed}


def _rated(s, row: PlatformCase, stage: str) -> bool:
    window = s.execute(select(RatingRow.id).where(RatingRow.business_key == row.business_key,
                                                  RatingRow.stage == stage)).first()
    channel = s.execute(select(ChannelRatingRow.id).where(ChannelRatingRow.case_id == row.id,
                                                          ChannelRatingRow.stage == stage)).first()
    return window is not None or channel is not None


def rate_through_channel(store, business_key: str, level: str, reason: str = "", *, stage: str = "completion",
                         channel: str = "sms", at: _dt.datetime | None = None) -> None:
    """The applicant rated through the platform's channel. One rating per case and stage, the
    window's or the channel's, whichever came first (``ValueError`` otherwise)."""
    if level not in RATINGS:
        raise ValueError("评价等级应为：" + "、".join(RATINGS) + "。")
    if level in RATINGS[3:] and not reason.strip():
        raise ValueError("选择“不满意”或“非常不满意”时须说明原因。")
    with store.writing() as s:
        row = _case(store, s, None, business_key)
        if _rated(s, row, stage):
            raise ValueError("该办件的这一环节已经评价过（窗口或平台渠道），每个环节只评价一次。")
        s.add(ChannelRatingRow(case_id=row.id, stage=stage, level=level, reason=reason[:500], channel=channel,
                               rated_at=at or store.clock.now()))


def progress_extras(s, case_ids: list[int], case_no_of: dict[int, str]) -> tuple[dict[int, list], dict[int, list]]:
    """Per case: the invitation SMS (notifications) and the channel ratings, for the progress answer."""
    notes: dict[int, list] = {}
    ratings: dict[int, list] = {}
    if not case_ids:
        return notes, ratings
    for inv in s.execute(select(RatingInvitationRow).where(RatingInvitationRow.case_id.in_(case_ids))).scalars():
        notes.setdefault(inv.case_id, []).append({
            "at": inv.sent_at.astimezone(CHINA_TZ).isoformat(timespec="seconds"), "channel": inv.channel,
            "kind": "rating_invite", "text": INVITATION_TEXT.format(case_no=case_no_of[inv.case_id])})
    for r in s.execute(select(ChannelRatingRow).where(ChannelRatingRow.case_id.in_(case_ids))
                       .order_by(ChannelRatingRow.rated_at)).scalars():
        ratings.setdefault(r.case_id, []).append({
            "stage": r.stage, "level": r.level, "reason": r.reason or None, "channel": r.channel,
            "rated_at": r.rated_at.astimezone(CHINA_TZ).isoformat(timespec="seconds")})
    return notes, ratings
