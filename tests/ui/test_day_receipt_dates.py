"""The receipt and the dates: one computation of every deadline, one time zone, the 受理人, the
total of the chosen items, the 时限 column right after acceptance."""
from __future__ import annotations

import datetime as _dt

from counter_app.clock import CHINA_TZ
from counter_app.lifecycle import ItemStatus
from counter_app.workdays import SlaState, plan_deadlines, sla_state
from printing.receipt import render_receipt
from tests.core.builders import valid_application
from tests.core.helpers import CLERK, finalized_case
from tests.printing.conftest import stream_text

URL = "https://example.invalid/progress?case={case_no}"


def test_receipt_and_detail_show_the_same_item_deadlines_after_early_progress(window, operators):
    rec = finalized_case(window)
    accepted = rec.accepted_on
    # the VA issues the 落户介绍信 (item 1) and the police register the hukou (item 4) the same day
    noon = _dt.datetime.combine(accepted, _dt.time(12), CHINA_TZ)
    for status in (ItemStatus.ACCEPTED, ItemStatus.APPROVED, ItemStatus.COMPLETED):
        window.cases.record_item_status(rec.id, 1, status, at=noon)
        window.cases.record_item_status(rec.id, 4, status, at=noon)
    window.cases.refresh_sla(accepted)
    from ui.case_detail import load_case_detail

    detail = {p.item: p.due for p in load_case_detail(window, rec.id).progress}
    exported = {d["item"]: d["due"] for d in window.cases.export(rec.id)["deadlines"]
                if d["item"] is not None and d["kind"] == "item"}   # not item 8's card-making line
    stored = {p["item"]: p["due"] for p in window.cases.get(rec.id).progress}
    assert exported == stored
    assert {n: d for n, d in detail.items() if d != "无时限"} == {n: d for n, d in exported.items() if d}
    # the early hukou registration did move item 5 (社保登记) forward: the receipt shows that too
    planned = plan_deadlines(window.calendar, accepted, rec.application.items)
    assert exported[5] < planned[5].due.isoformat()


def test_receipt_names_the_clerk_and_prints_beijing_time(window, operators):
    rec = finalized_case(window)
    case = window.cases.export(rec.id)
    assert case["operator_name"] == "李晓燕"          # clerk01's name, not blank
    printed = _dt.datetime(2026, 12, 7, 1, 30, tzinfo=_dt.timezone.utc)   # a PC clock in UTC
    text = stream_text(render_receipt(case, lookup_url=URL, printed_at=printed).pdf)
    assert "受理人李晓燕" in text.replace("：", "").replace(" ", "")
    assert "打印时间：2026-12-0709:30" in text    # the text layer drops the space


def test_the_total_is_what_the_chosen_items_take(window, operators):
    app = valid_application(items=[1])
    rec = finalized_case(window, app)
    case = window.cases.export(rec.id)
    whole = next(d for d in case["deadlines"] if d["item"] is None)
    item1 = next(d for d in case["deadlines"] if d["item"] == 1)
    assert whole["workdays"] == 1 and whole["due"] == item1["due"]
    text = stream_text(render_receipt(case, lookup_url=URL).pdf)
    assert "1个工作日，预计" in text
    assert "18个工作日" not in text


def test_the_provisional_mark_goes_once_the_platform_acknowledged(ctx, operators, qtbot):
    """At the submit step the receipt is rendered again, without 临时回执, once the platform confirms."""
    from app.demo.scene import platform_acknowledged
    from ui.acceptance.session import AcceptanceSession
    from ui.acceptance.submit_step import SubmitStep

    window = ctx.window
    rec = finalized_case(window)
    session = AcceptanceSession(case_id=rec.id, case_no=rec.case_no, finalized=True,
                                case_json=window.cases.export(rec.id))
    step = SubmitStep(ctx, session)
    qtbot.addWidget(step)
    step._check_acknowledged()
    qtbot.waitUntil(lambda: not ctx.tasks.busy, timeout=10000)
    assert session.receipt_pdf is None                 # not acknowledged: nothing to redo
    platform_acknowledged(window, rec.id, _dt.datetime.now(_dt.timezone.utc))
    step._sync_status(None)                            # the sync worker reported a round
    qtbot.waitUntil(lambda: session.receipt_pdf is not None, timeout=30000)
    assert "临时回执" not in stream_text(session.receipt_pdf)


def test_a_one_day_item_is_on_time_right_after_acceptance(window):
    accepted = _dt.date(2026, 11, 2)
    plan = plan_deadlines(window.calendar, accepted, [1])
    assert sla_state(window.calendar, plan[1], accepted) is SlaState.ON_TIME
    assert sla_state(window.calendar, plan[1], plan[1].due) is SlaState.AT_RISK
    assert sla_state(window.calendar, plan[1], plan[1].due + _dt.timedelta(days=1)) is SlaState.OVERDUE


def test_the_worklist_column_and_a_search_agree(window, operators):
    from ui.worklist import load_worklist, search_worklist

    rec = finalized_case(window, valid_application(items=[1, 7]))
    by_list = next(r for r in load_worklist(window) if r.key == rec.id).sla
    by_search = search_worklist(window, rec.case_no).rows[0].sla
    assert by_list == by_search == "on_time"
