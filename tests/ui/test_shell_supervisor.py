"""The supervisor's day at a glance: every figure equals what the store holds; the daily report."""
from __future__ import annotations

import datetime as _dt
import io
import random

import pdfplumber
from sqlalchemy import func, select, update

from counter_app.lifecycle import OPEN_STATES, CaseState
from counter_app.store.models import CaseRow, ItemProgress, OutboxEntry, Rating
from ui import printouts
from app.demo.scene import CLERK, _accept
from ui.supervisor_page import SupervisorPage, build_daily_report
from ui.worklist import today_local


def _store_figures(window, day: _dt.date, window_no: str | None = None) -> dict:
    """The same figures, counted straight from the tables."""
    def on_window(q):
        return q.where(CaseRow.window_no == window_no) if window_no else q

    open_values = [s.value for s in OPEN_STATES]
    with window.sessions() as s:
        accepted = s.execute(on_window(select(func.count()).select_from(CaseRow).where(
            CaseRow.accepted_on == day, CaseRow.state != CaseState.SUPERSEDED.value))).scalar_one()
        outbox = dict(s.execute(on_window(select(OutboxEntry.status, func.count()).join(
            CaseRow, CaseRow.id == OutboxEntry.case_id).group_by(OutboxEntry.status))).all())
        worst: dict[str, str] = {}
        for case_id, sla in s.execute(on_window(select(ItemProgress.case_id, ItemProgress.sla).join(
                CaseRow, CaseRow.id == ItemProgress.case_id).where(CaseRow.state.in_(open_values)))):
            rank = ["overdue", "at_risk", "on_time", "no_deadline", "done"]
            if sla in rank and (case_id not in worst or rank.index(sla) < rank.index(worst[case_id])):
                worst[case_id] = sla
        ratings = dict(s.execute(select(Rating.level, func.count()).group_by(Rating.level)).all())
    return {"accepted": accepted, "waiting": outbox.get("waiting", 0), "quarantined": outbox.get("quarantined", 0),
            "at_risk": sum(1 for v in worst.values() if v == "at_risk"),
            "overdue": sum(1 for v in worst.values() if v == "overdue"), "ratings": ratings}


def _page(ctx, qtbot) -> SupervisorPage:
    page = SupervisorPage(ctx)
    qtbot.addWidget(page)
    page.resize(1366, 700)
    page.show()
    with qtbot.waitSignal(page.loaded, timeout=10000):
        page.refresh()
    return page


def test_figures_match_the_store(ctx, scene, operators, qtbot):
    window = ctx.window
    with window.sessions.begin() as s:  # the platform refused one case: it sits in the quarantine lane
        s.execute(update(OutboxEntry).where(OutboxEntry.case_id == scene.today_ids[2]).values(status="quarantined"))
    ctx.actor = operators["supervisor01"]
    page = _page(ctx, qtbot)
    expected = _store_figures(window, today_local(window))
    assert expected["accepted"] == 3 and expected["quarantined"] == 1 and expected["overdue"] >= 1
    for key in ("accepted", "waiting", "quarantined", "at_risk", "overdue"):
        assert page.figures[key].text() == str(expected[key]), key
        assert getattr(page.glance, key) == expected[key]
    assert page.glance.ratings == expected["ratings"]
    assert page.figures["ratings"].text() == "非常满意 1，满意 1，不满意 1"
    assert page.figures["quarantined"].property("role") == "figureWarn"
    assert [c.case_id for c in page.glance.corrections] == [scene.correction_id]


def test_choosing_a_window_narrows_the_figures(ctx, scene, operators, qtbot):
    window = ctx.window
    window.cases.window_no = "02"  # a second counter in the same center
    other = _accept(window, random.Random(5), CLERK)
    window.cases.window_no = "01"
    ctx.actor = operators["supervisor01"]
    page = _page(ctx, qtbot)
    index = page.window_choice.findData("02")
    assert index > 0
    page.window_choice.setCurrentIndex(index)
    with qtbot.waitSignal(page.loaded, timeout=10000):
        page.refresh()
    expected = _store_figures(window, today_local(window), "02")
    assert page.figures["accepted"].text() == str(expected["accepted"]) == "1"
    assert page.figures["waiting"].text() == str(expected["waiting"]) == "1"
    assert ctx.window.cases.get(other).window_no == "02"


def test_daily_report_lists_the_days_cases_of_the_chosen_window(ctx, scene, qtbot):
    window = ctx.window
    day = today_local(window)
    pdf, title = build_daily_report(window, day, None, "supervisor01")
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        text = "".join(page.extract_text() or "" for page in doc.pages)
    today_numbers = [window.cases.get(i).case_no for i in scene.today_ids]
    for number in today_numbers:
        assert number in text
    assert window.cases.get(scene.overdue_id).case_no not in text  # accepted weeks ago
    assert title.startswith(f"每日受理报表-{day:%Y%m%d}")
    pdf, _ = build_daily_report(window, day, "07", "supervisor01")
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        text = "".join(page.extract_text() or "" for page in doc.pages)
    assert not any(number in text for number in today_numbers)


def test_print_button_reports_back_in_chinese(ctx, scene, operators, qtbot):
    ctx.window.settings.set("demo_mode", True)  # no printer on this machine: demo prints to a PDF file
    ctx.actor = operators["supervisor01"]
    page = _page(ctx, qtbot)
    page.print_report()
    qtbot.waitUntil(lambda: page.print_button.isEnabled(), timeout=60000)
    text = page.message.text()
    assert "Traceback" not in text
    if printouts._has_any_printer():  # a machine with a print service: the job went to it
        assert text.startswith("已发送到打印机")
    else:
        assert "已生成PDF：" in text
        path = text.split("已生成PDF：", 1)[1]
        with open(path, "rb") as f:
            assert f.read(5) == b"%PDF-"
        assert path.startswith(str(ctx.window.home / "printouts"))
