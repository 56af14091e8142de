"""Case detail: department progress with due dates, the timeline, correction and its approval,
and the audited reveal of full personal values."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLabel

from counter_app.cases import Actor
from counter_app.lifecycle import ItemStatus
from counter_app.scheme import ITEMS
from ui.case_detail import CaseDetailPage, CorrectionDialog


def _page(ctx, qtbot, case_id: str) -> CaseDetailPage:
    page = CaseDetailPage(ctx)
    qtbot.addWidget(page)
    page.resize(1366, 700)
    page.show()
    with qtbot.waitSignal(page.loaded, timeout=10000):
        page.show_case(case_id)
    return page


def _cell(table, r, c) -> str:
    return table.item(r, c).text()


def test_progress_shows_each_item_with_status_due_date_and_sla(ctx, scene, qtbot):
    page = _page(ctx, qtbot, scene.progressed_id)
    record = ctx.window.cases.get(scene.progressed_id)
    table = page.progress
    assert table.rowCount() == len(record.progress) == 10  # the 8 chosen + 免申即享 items 2 and 7
    for r, p in enumerate(sorted(record.progress, key=lambda p: p["item"])):
        assert _cell(table, r, 0) == str(p["item"])
        assert _cell(table, r, 1) == ITEMS[p["item"]].title
        assert _cell(table, r, 2) == ITEMS[p["item"]].department.title
        assert _cell(table, r, 3) == ItemStatus(p["status"]).title
        assert _cell(table, r, 4) == (p["due"] or "无时限")
    statuses = {_cell(table, r, 0): _cell(table, r, 3) for r in range(table.rowCount())}
    assert statuses["8"] == "制卡中" and statuses["9"] == "受理"
    sla = {_cell(table, r, 0): _cell(table, r, 5) for r in range(table.rowCount())}
    assert sla["1"] == "已办结" and sla["9"] == "已超时"  # accepted 30 days ago, still at 受理
    assert page.fields["name"].text() == record.application.applicant.name[0] + "*" * (
        len(record.application.applicant.name) - 2) + record.application.applicant.name[-1]


def test_timeline_lists_every_transition_and_department_report_in_order(ctx, scene, qtbot):
    page = _page(ctx, qtbot, scene.overdue_id)
    record = ctx.window.cases.get(scene.overdue_id)
    from sqlalchemy import func, select

    from counter_app.store.models import ItemStatusEvent

    with ctx.window.sessions() as s:
        events = s.execute(select(func.count()).select_from(ItemStatusEvent)
                           .where(ItemStatusEvent.case_id == scene.overdue_id)).scalar_one()
    assert page.timeline.rowCount() == len(record.transitions) + events
    times = [_cell(page.timeline, r, 0) for r in range(page.timeline.rowCount())]
    assert times == sorted(times)
    whats = [_cell(page.timeline, r, 1) for r in range(page.timeline.rowCount())]
    assert "办件：已签字定稿 → 待上报" in whats
    assert any(w.startswith("事项4") and w.endswith("受理") for w in whats)
    notes = [_cell(page.timeline, r, 3) for r in range(page.timeline.rowCount())]
    assert "待核实原户籍注销信息" in notes


def test_correction_makes_a_new_version_with_the_reason(ctx, scene, qtbot):
    page = _page(ctx, qtbot, scene.today_ids[0])
    assert page.correct_button.isEnabled()
    qtbot.mouseClick(page.correct_button, Qt.MouseButton.LeftButton)
    dialog = page.findChild(CorrectionDialog)
    assert dialog is not None and dialog.isVisible()
    dialog._check()  # empty reason is refused in words
    assert dialog.error.text() == "请填写更正原因。" and dialog.isVisible()
    dialog.reason.insertPlainText("联系电话登记有误")  # Chinese arrives through the input method, not key codes
    with qtbot.waitSignal(page.correction_started, timeout=10000) as signal:
        dialog._check()
    new = ctx.window.cases.get(signal.args[0])
    assert new.version == 2 and new.supersedes_id == scene.today_ids[0]
    assert any(t["reason"] == "更正原因：联系电话登记有误" for t in new.transitions)


def test_supervisor_approves_a_correction_from_the_detail(ctx, scene, operators, qtbot):
    ctx.actor = operators["supervisor01"]
    page = _page(ctx, qtbot, scene.correction_id)
    assert "待审核负责人批准" in page.fields["correction"].text()
    assert page.approve_button.isVisible()
    with qtbot.waitSignal(page.loaded, timeout=10000):
        qtbot.mouseClick(page.approve_button, Qt.MouseButton.LeftButton)
    approval = ctx.window.cases.correction_approval(scene.correction_id)
    assert approval["approver"] == "supervisor01" and approval["valid"]
    assert not page.approve_button.isVisible()


def test_clerk_cannot_approve_and_cannot_reveal(ctx, scene, qtbot):
    ctx.actor = Actor("clerk01", "clerk")
    page = _page(ctx, qtbot, scene.correction_id)
    assert not page.approve_button.isVisible()
    assert not page.reveal_button.isVisible()


def test_supervisor_reveal_shows_full_values_and_is_audited(ctx, scene, operators, qtbot):
    from sqlalchemy import select

    from counter_app.store.models import AuditEntry

    ctx.actor = operators["supervisor01"]
    page = _page(ctx, qtbot, scene.today_ids[0])
    applicant = ctx.window.cases.get(scene.today_ids[0]).application.applicant
    qtbot.mouseClick(page.reveal_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.findChild(QDialog, "revealDialog") is not None, timeout=10000)
    dialog = page.findChild(QDialog, "revealDialog")
    shown = [label.text() for label in dialog.findChildren(QLabel)]
    assert applicant.name in shown and applicant.id_number in shown
    with ctx.window.sessions() as s:
        reveals = s.execute(select(AuditEntry).where(AuditEntry.action == "reveal")).scalars().all()
    assert [(e.operator, e.subject) for e in reveals] == [("supervisor01", page.detail.case_no)]


def test_reprint_renders_the_document_and_prints_it(ctx, scene, qtbot):
    from ui import printouts

    ctx.window.settings.set("demo_mode", True)  # this machine has no printer: demo prints to a file
    page = _page(ctx, qtbot, scene.today_ids[0])
    labels = [a.text() for a in page.reprint_menu.actions()]
    assert labels == ["联办申请表", "受理回执", "落户介绍信", "预备役登记提醒"][:len(labels)] and "受理回执" in labels
    page.reprint("receipt")
    qtbot.waitUntil(lambda: page.message.text() not in ("", "正在生成并打印……"), timeout=60000)
    text = page.message.text()
    if printouts._has_any_printer():
        assert text.startswith("已发送到打印机")
        return
    assert "已生成PDF：" in text
    # What came out of the (PDF) printer is the rasterised page: read its barcode back.
    import pypdfium2 as pdfium
    import zxingcpp

    doc = pdfium.PdfDocument(text.split("已生成PDF：", 1)[1])
    try:
        image = doc[0].render(scale=2).to_pil()
    finally:
        doc.close()
    decoded = {r.text for r in zxingcpp.read_barcodes(image)}
    assert any(page.detail.case_no.replace("-", "") in d.replace("-", "") for d in decoded), decoded


def test_the_sms_sent_and_the_completion_rating_are_offered(ctx, scene, qtbot):
    """"平台发送短信通知申请人" is shown as sent; "受理及联办事项办结后…好差评": once the case is 已办结 the
    page offers the completion rating on the applicant's screen."""
    from counter_app.sync.notifications import store_notifications

    cid = scene.progressed_id
    store_notifications(ctx.window, cid, [{"at": "2026-12-01T10:00:00+08:00", "channel": "sms", "item": 4,
                                           "kind": "hukou_result", "text": "您的户口登记（退役军人恢复户口）已办结。"}])
    page = _page(ctx, qtbot, cid)
    rows = [(_cell(page.timeline, r, 1), _cell(page.timeline, r, 3)) for r in range(page.timeline.rowCount())]
    assert ("短信通知：户口登记结果", "您的户口登记（退役军人恢复户口）已办结。") in rows
    assert not page.rate_button.isVisible()                    # not completed yet
    for p in ctx.window.cases.get(cid).progress:
        target = ItemStatus.COLLECTED if p["item"] == 8 else ItemStatus.COMPLETED
        ctx.window.cases.record_item_status(cid, p["item"], target)
    page = _page(ctx, qtbot, cid)
    assert page.rate_button.isVisible()
    page.rate_button.click()
    screen = ctx.applicant_screen
    assert screen._rating_stage == "completion" and screen._rating_case == cid
