"""A correction reviewed by a supervisor: what changed (before/after), approved with feedback, or
sent back with a reason the clerk sees."""
from __future__ import annotations

from tests.ui.test_shell_supervisor import _page


def _changed_correction(ctx, scene, operators):
    draft = ctx.window.cases.get(scene.correction_id)
    app = draft.application
    app.applicant.current_address = "河南省新乡市牧野区更正后地址88号"
    ctx.window.cases.save_draft(draft.id, app, operators["clerk02"])
    return draft


def test_the_supervisor_sees_before_and_after(ctx, scene, operators, qtbot):
    _changed_correction(ctx, scene, operators)
    ctx.actor = operators["supervisor01"]
    page = _page(ctx, qtbot)
    assert page.corrections.rowCount() == 1
    page.corrections.selectRow(0)
    page._show_changes()
    qtbot.waitUntil(lambda: page.changes.rowCount() >= 1 and page.changes.item(0, 2) is not None, timeout=10000)
    rows = {page.changes.item(r, 0).text(): (page.changes.item(r, 1).text(), page.changes.item(r, 2).text())
            for r in range(page.changes.rowCount())}
    before, after = rows["现居住地址"]
    assert after == "河南省新乡市牧野区更正后地址88号" and before != after


def test_a_correction_can_be_sent_back_with_a_reason(ctx, scene, operators, qtbot):
    draft = _changed_correction(ctx, scene, operators)
    ctx.actor = operators["supervisor01"]
    page = _page(ctx, qtbot)
    with qtbot.waitSignal(page.loaded, timeout=10000):
        page.reject(scene.correction_id, "地址证明材料不全，请补充后再提交")
    assert "已退回" in page.message.text()
    assert page.corrections.rowCount() == 0                 # back with the clerk now
    record = ctx.window.cases.get(scene.correction_id)
    assert any("更正未批准：地址证明材料不全" in (t.get("reason") or "") for t in record.transitions)
    assert ctx.window.cases.correction_approval(scene.correction_id) is None
    # the clerk changes it again: it comes back to the supervisor
    app = record.application
    app.applicant.current_address = "河南省新乡市牧野区更正后地址88号附1号"
    ctx.window.cases.save_draft(draft.id, app, operators["clerk02"])
    with qtbot.waitSignal(page.loaded, timeout=10000):
        page.refresh()
    assert page.corrections.rowCount() == 1


def test_approving_says_so(ctx, scene, operators, qtbot):
    _changed_correction(ctx, scene, operators)
    ctx.actor = operators["supervisor01"]
    page = _page(ctx, qtbot)
    page.corrections.selectRow(0)
    with qtbot.waitSignal(page.loaded, timeout=10000):
        page.approve_selected()
    assert "已批准" in page.message.text()
    assert ctx.window.cases.correction_approval(scene.correction_id)["valid"]


def test_the_supervisor_reads_the_reason_in_full_and_it_is_stored_encrypted(ctx, scene, operators, qtbot):
    """The reason may hold the very numbers to correct: masked in the list and on the timeline,
    encrypted at rest, in full in the supervisor's review of the case's own center."""
    import pytest
    from sqlalchemy import text

    from counter_app.cases import AccessDenied
    from counter_app.corrections import correction_reason

    reason = "联系电话登记为13800001111，应为13812345678，请更正"
    draft = ctx.window.cases.start_correction(scene.today_ids[1], operators["clerk01"], reason)
    ctx.actor = operators["supervisor01"]
    page = _page(ctx, qtbot)
    rows = {page.corrections.item(r, 0).data(0x0100): r for r in range(page.corrections.rowCount())}
    row = rows[draft.id]
    listed = page.corrections.item(row, 4).text()
    assert "13812345678" not in listed and "138****5678" in listed          # masked in the list
    page.corrections.selectRow(row)
    qtbot.waitUntil(lambda: "13812345678" in page.reason_view.text(), timeout=10000)
    assert page.reason_view.text() == f"更正原因：{reason}"                  # in full in the review

    with ctx.window.sessions() as s:
        stored = s.execute(text("SELECT reason_enc FROM correction_reasons WHERE case_id = :c"),
                           {"c": draft.id}).scalars().all()
        timeline = s.execute(text("SELECT reason FROM case_transitions WHERE case_id = :c"),
                             {"c": draft.id}).scalars().all()
    assert len(stored) == 1 and b"13812345678" not in stored[0] and reason.encode() not in stored[0]
    assert timeline and all("13812345678" not in t for t in timeline)

    with pytest.raises(AccessDenied):                                        # a clerk does not read it
        correction_reason(ctx.window.cases, draft.id, operators["clerk02"])
    cases = ctx.window.cases
    own = cases.center_code
    cases.center_code = "419999"                                             # another center's store
    try:
        with pytest.raises(AccessDenied):
            correction_reason(cases, draft.id, operators["supervisor01"])
    finally:
        cases.center_code = own
