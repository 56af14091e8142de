"""After acceptance, point by point (规程 二.3, 五(四)5, 五(五), 五(六)): the source's words, the case, the result."""
from __future__ import annotations

import datetime as dt

import pytest

from counter_app.cases import Actor, CaseError
from counter_app.delivery import DeliveryMode, handovers, record_handover
from counter_app.lifecycle import ItemStatus, item_rank
from counter_app.sync.ratings import rating_offer, record_rating
from counter_app.workdays import CARD_MAKING, WorkCalendar, plan_deadlines
from tests.core.helpers import CLERK, finalized_case

D = dt.date


# ---- "7个工作日内完成社保卡制卡" / "18 个工作日内完成（不包括制卡时间…）" -------------------------------
def test_card_making_is_its_own_deadline_outside_the_18_days():
    cal = WorkCalendar.default()
    plan = plan_deadlines(cal, D(2026, 11, 2), [1, 4, 8])
    card = plan[CARD_MAKING]
    assert card.kind == CARD_MAKING and card.item == 8
    assert card.starts == plan[8].due
    assert card.due == cal.add_workdays(plan[8].due, 7)[0]
    # the whole case ends with its last item's own deadline (at most the 18), never with the card making
    assert plan[None].due == max(plan[n].due for n in (1, 4, 8)) < card.due
    assert plan[None].due <= cal.add_workdays(D(2026, 11, 2), 18)[0]
    assert CARD_MAKING not in plan_deadlines(cal, D(2026, 11, 2), [1, 4])


def test_the_card_making_clock_runs_while_the_card_is_made(window):
    rec = finalized_case(window)
    for st in (ItemStatus.PUSHED, ItemStatus.ACCEPTED, ItemStatus.APPROVED, ItemStatus.CARD_MAKING):
        window.cases.record_item_status(rec.id, 8, st)
    prog = {p["item"]: p for p in window.cases.get(rec.id).progress}
    started = window.cases._today()                             # the card-making clock starts now
    assert prog[8]["sla"] in ("on_time", "at_risk")              # not "done": the card is being made
    assert str(prog[8]["due"]) == window.calendar.add_workdays(started, 7)[0].isoformat()
    assert CARD_MAKING in {d.get("kind") for d in window.cases.export(rec.id)["deadlines"]}


# ---- 出件 "通过邮寄或者申请人自取" -----------------------------------------------------------------------
def _card_being_made(window):
    rec = finalized_case(window)
    window.cases.record_item_status(rec.id, 8, ItemStatus.CARD_MAKING)
    return rec


def test_a_card_picked_up_is_collected_without_being_mailed(window):
    rec = _card_being_made(window)
    sig = window.cases.put_attachment(b"\x89PNG signature of the receiver", "image/png")
    record_handover(window.cases, rec.id, 8, DeliveryMode.PICKUP, CLERK, handed_by="红旗区人社局 王敏",
                    received_by="刘涛", signature=sig)
    prog = {p["item"]: p["status"] for p in window.cases.get(rec.id).progress}
    assert prog[8] == "collected"
    (h,) = handovers(window.cases, rec.id)
    assert (h.mode, h.received_by, h.signature, h.handed_by) == (DeliveryMode.PICKUP, "刘涛", sig, "红旗区人社局 王敏")


def test_a_mailed_card_is_collected_only_after_it_was_mailed(window):
    rec = _card_being_made(window)
    with pytest.raises(CaseError, match="邮件单号"):
        record_handover(window.cases, rec.id, 8, "mail", CLERK, handed_by="人社局")
    record_handover(window.cases, rec.id, 8, "mail", CLERK, handed_by="红旗区人社局", tracking_no="ems1234567890cn")
    assert {p["item"]: p["status"] for p in window.cases.get(rec.id).progress}[8] == "mailed"
    assert handovers(window.cases, rec.id)[0].tracking_no == "EMS1234567890CN"
    with pytest.raises(CaseError, match="已寄出"):
        record_handover(window.cases, rec.id, 8, "pickup", CLERK, handed_by="x", received_by="y", signature="0" * 64)
    assert item_rank(8, ItemStatus.COLLECTED) > item_rank(8, ItemStatus.MAILED)
    window.cases.record_item_status(rec.id, 8, ItemStatus.COLLECTED)


# (the item, its status, the mode, what is missing or None when accepted)
HANDOVER_ROWS = [
    ("4 户口页 picked up after 办结", 4, ItemStatus.COMPLETED, "pickup", None),
    ("5 身份证 mailed after 办结", 5, ItemStatus.COMPLETED, "mail", None),
    ("5 身份证 not before it is made", 5, ItemStatus.APPROVED, "pickup", "尚未办好"),
    ("6 社会保险登记 has no certificate", 6, ItemStatus.COMPLETED, "pickup", "不制发实体证照"),
]


@pytest.mark.parametrize("name,item,status,mode,refusal", HANDOVER_ROWS, ids=[r[0] for r in HANDOVER_ROWS])
def test_items_4_5_8_record_mail_or_pickup(window, name, item, status, mode, refusal):
    rec = finalized_case(window)
    if item != 6:
        window.cases.record_item_status(rec.id, item, status)
    sig = window.cases.put_attachment(b"\x89PNG sig " + name.encode(), "image/png")
    kw = {"received_by": "刘涛", "signature": sig} if mode == "pickup" else {"tracking_no": "1180123456789"}
    if refusal:
        with pytest.raises(CaseError, match=refusal):
            record_handover(window.cases, rec.id, item, mode, CLERK, handed_by="派出所 张警官", **kw)
        return
    when = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.timezone.utc)
    record_handover(window.cases, rec.id, item, mode, CLERK, handed_by="派出所 张警官", at=when, **kw)
    (h,) = handovers(window.cases, rec.id)
    assert (h.item, h.mode.value, h.at, h.handed_by, h.recorded_by) == (item, mode, when, "派出所 张警官", "clerk01")
    with pytest.raises(CaseError, match="已登记过"):
        record_handover(window.cases, rec.id, item, mode, CLERK, handed_by="派出所 张警官", **kw)


def test_handover_details_are_encrypted_at_rest(window):
    import sqlite3

    rec = _card_being_made(window)
    record_handover(window.cases, rec.id, 8, "mail", CLERK, handed_by="红旗区人社局", tracking_no="EMSSECRET12345")
    with window.sessions() as s:
        db = s.get_bind().url.database
    raw = b"".join(r[0] or b"" for r in sqlite3.connect(db).execute("select detail_enc from handovers"))
    assert raw and b"EMSSECRET12345" not in raw


# ---- 好差评 "受理及联办事项办结后" ------------------------------------------------------------------------
def test_the_completion_rating_is_offered_once_the_case_is_completed(window):
    rec = finalized_case(window)
    assert rating_offer(window, rec.id) == "acceptance"
    record_rating(window, rec.id, "满意")
    assert rating_offer(window, rec.id) is None
    from counter_app.store.models import CaseRow

    with window.sessions.begin() as s:                          # the platform confirmed receipt
        window.cases.mark_acknowledged(s, s.get(CaseRow, rec.id))
    for item in window.cases.get(rec.id).application.items:
        target = ItemStatus.COLLECTED if item == 8 else ItemStatus.COMPLETED
        window.cases.record_item_status(rec.id, item, target)
    assert window.cases.get(rec.id).state.value == "completed"
    assert rating_offer(window, rec.id) == "completion"
    record_rating(window, rec.id, "非常满意", stage="completion")
    assert rating_offer(window, rec.id) is None



def test_the_reserve_registration_clock_starts_when_the_department_reports_the_visit(window):
    rec = finalized_case(window)
    prog = {p["item"]: p for p in window.cases.get(rec.id).progress}
    assert prog[11]["due"] is None and prog[11]["sla"] == "no_deadline"
    window.cases.record_item_status(rec.id, 11, ItemStatus.ACCEPTED,
                                    at=dt.datetime(2026, 12, 4, 2, 0, tzinfo=dt.timezone.utc))   # Friday, Beijing
    prog = {p["item"]: p for p in window.cases.get(rec.id).progress}
    assert str(prog[11]["due"]) == "2026-12-07"
