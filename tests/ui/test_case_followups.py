"""After acceptance on the case detail, through the real widgets, point by point:

- 出件 "通过邮寄或者申请人自取": items 4, 5, 8 record mail (tracking number) or pickup (the receiver,
  signing on the applicant's screen), with who handed it over and when;
- the stamped 落户介绍信 scanned back after the case was submitted;
- 好差评 "受理及联办事项办结后": which channel rated and what; the platform asked to invite the rating.
"""
from __future__ import annotations

import random

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from counter_app.delivery import DeliveryMode, handovers
from counter_app.lifecycle import ItemStatus
from counter_app.sync.followups import invitation_state, letter_state, store_channel_ratings
from tests.core.builders import valid_application
from tests.core.helpers import CLERK, finalized_case
from ui.acceptance.script import draw_on, signature_strokes, type_into
from ui.case_detail import CaseDetailPage


@pytest.fixture
def page(ctx, qtbot):
    made = []

    def open_case(case_id: str) -> CaseDetailPage:
        p = CaseDetailPage(ctx)
        qtbot.addWidget(p)
        p.resize(1366, 760)
        p.show()
        with qtbot.waitSignals([p.loaded, p.followups.loaded], timeout=10000):
            p.show_case(case_id)
        made.append(p)
        return p

    yield open_case
    screen = ctx.applicant_screen
    if screen is not None:
        screen.close()
        screen.deleteLater()
        ctx.applicant_screen = None


def _reload(p, qtbot):
    with qtbot.waitSignals([p.loaded, p.followups.loaded], timeout=10000):
        p.refresh()


def _dialog(p, qtbot):
    from ui.handover_dialog import HandoverDialog

    QTest.mouseClick(p.followups.handover_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: isinstance(p.followups._dialog, HandoverDialog) and p.followups._dialog.isVisible())
    return p.followups._dialog


def _choose_item(dialog, item: int) -> None:
    dialog.item.setCurrentIndex(dialog.item.findData(item))


def test_a_card_picked_up_is_signed_for_on_the_applicant_screen(ctx, page, qtbot):
    rec = finalized_case(ctx.window)
    ctx.window.cases.record_item_status(rec.id, 8, ItemStatus.CARD_MAKING)
    p = page(rec.id)
    assert p.followups.handover_button.isEnabled()
    dialog = _dialog(p, qtbot)
    assert [dialog.item.itemData(i) for i in range(dialog.item.count())] == [8]   # 4, 5 are not made yet
    _choose_item(dialog, 8)
    type_into(dialog.handed_by, "红旗区人社局 王敏")
    type_into(dialog.received_by, "刘涛")
    QTest.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)         # not signed yet: refused, nothing lost
    qtbot.waitUntil(lambda: "签名" in dialog.error.text())
    assert dialog.isVisible() and dialog.received_by.text() == "刘涛"

    QTest.mouseClick(dialog.sign_button, Qt.MouseButton.LeftButton)
    screen = ctx.applicant_screen
    signing = screen.stack.currentWidget()
    assert signing.objectName() == "handoverSigningPage" and "社会保障卡" in signing.text.text()
    QTest.mouseClick(signing.confirm_button, Qt.MouseButton.LeftButton)   # a blank pad is refused there
    assert signing.error.text() and not dialog.signature_sha
    draw_on(signing.pad, signature_strokes(11))
    QTest.mouseClick(signing.confirm_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(dialog.signature_sha))
    assert dialog.sign_state.text() == "领取人已签名 ✓"
    assert ctx.window.files.get(dialog.signature_sha).startswith(b"\x89PNG")

    with qtbot.waitSignal(dialog.recorded, timeout=10000), qtbot.waitSignal(p.followups.loaded, timeout=10000):
        QTest.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    (h,) = handovers(ctx.window.cases, rec.id)
    assert (h.item, h.mode, h.received_by, h.handed_by, h.signature, h.recorded_by) == (
        8, DeliveryMode.PICKUP, "刘涛", "红旗区人社局 王敏", dialog.signature_sha, "clerk01")
    assert {x["item"]: x["status"] for x in ctx.window.cases.get(rec.id).progress}[8] == "collected"
    text = p.followups.handovers.text()
    assert "事项8：申请人自取" in text and "刘涛" not in text and "已签名" in text     # masked on the screen
    assert not p.followups.handover_button.isEnabled()                    # nothing else is ready


def test_a_mailed_card_records_the_tracking_number_and_is_collected_only_later(ctx, page, qtbot):
    rec = finalized_case(ctx.window)
    for item, status in ((4, ItemStatus.COMPLETED), (8, ItemStatus.CARD_MAKING)):
        ctx.window.cases.record_item_status(rec.id, item, status)
    p = page(rec.id)
    dialog = _dialog(p, qtbot)
    assert sorted(dialog.item.itemData(i) for i in range(dialog.item.count())) == [4, 8]
    _choose_item(dialog, 8)
    QTest.mouseClick(dialog.mail, Qt.MouseButton.LeftButton)
    assert dialog.tracking.isEnabled() and not dialog.sign_button.isEnabled()
    type_into(dialog.handed_by, "红旗区人社局")
    QTest.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "邮件单号" in dialog.error.text())
    type_into(dialog.tracking, "ems1234567890cn")
    with qtbot.waitSignal(dialog.recorded, timeout=10000), qtbot.waitSignal(p.followups.loaded, timeout=10000):
        QTest.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert handovers(ctx.window.cases, rec.id)[0].tracking_no == "EMS1234567890CN"
    assert {x["item"]: x["status"] for x in ctx.window.cases.get(rec.id).progress}[8] == "mailed"   # not 已领取
    assert "邮寄，邮件单号 EMS…90CN" in p.followups.handovers.text()
    dialog = _dialog(p, qtbot)                                             # the mailed card is not offered again
    assert [dialog.item.itemData(i) for i in range(dialog.item.count())] == [4]
    dialog.reject()


def test_the_stamped_letter_is_scanned_back_from_the_case_detail(ctx, page, qtbot, scan_file):
    from app.demo.seed import complete_application

    draft = ctx.window.cases.create_draft(valid_application(), CLERK)
    app = complete_application(ctx.window, draft.application, random.Random(5), scans=True)
    app.settlement_letter_scan = None                     # the county office stamps it after printing
    rec = ctx.window.cases.finalize(draft.id, app, CLERK, form_pdf=b"%PDF-1.7 form")
    for item in (4, 5):
        ctx.window.cases.record_item_status(rec.id, item, ItemStatus.PUSHED)
    p = page(rec.id)
    status = {p.progress.item(r, 0).text(): p.progress.item(r, 3).text() for r in range(p.progress.rowCount())}
    assert status["4"] == status["5"] == "待推送（待回传落户介绍信）"
    assert p.followups.letter_button.isVisible() and p.followups.letter.text().startswith("未回传")
    with qtbot.waitSignals([p.loaded, p.followups.loaded], timeout=15000):
        p.followups.import_letter(str(scan_file))
    state = letter_state(ctx.window, rec.id)
    assert state.sha256 and ctx.window.files.get(state.sha256).startswith(b"%PDF-")   # the scan, as a PDF
    assert p.followups.letter.text() == "已回传，等待上报省平台"
    assert not p.followups.letter_button.isVisible()
    assert "公安事项4、5随即推送" in p.followups.message.text()


def test_which_channel_rated_and_the_platform_invitation(ctx, page, qtbot):
    from counter_app.store.models import CaseRow
    from counter_app.sync.ratings import record_rating

    rec = finalized_case(ctx.window)
    record_rating(ctx.window, rec.id, "满意")
    with ctx.window.sessions.begin() as s:
        ctx.window.cases.mark_acknowledged(s, s.get(CaseRow, rec.id))
    for item in ctx.window.cases.get(rec.id).application.items:
        ctx.window.cases.record_item_status(rec.id, item, ItemStatus.COLLECTED if item == 8 else ItemStatus.COMPLETED)
    p = page(rec.id)
    assert p.followups.ratings.text().startswith("受理评价：满意（窗口申请人屏）")
    assert p.followups.invite_button.isVisible() and p.rate_button.isVisible()   # at the window, or by the platform
    with qtbot.waitSignals([p.loaded, p.followups.loaded], timeout=10000):
        QTest.mouseClick(p.followups.invite_button, Qt.MouseButton.LeftButton)
    assert invitation_state(ctx.window, rec.id) is not None
    assert "已请省平台发送办结评价邀请" in p.followups.ratings.text()
    assert not p.followups.invite_button.isVisible()
    store_channel_ratings(ctx.window, rec.id, [{"stage": "completion", "level": "非常满意", "channel": "sms",
                                                "rated_at": "2026-12-08T09:30:00+08:00", "reason": None}])
    _reload(p, qtbot)
    lines = p.followups.ratings.text().splitlines()
    assert lines[1] == "办结评价：非常满意（省平台短信评价）　2026-12-08 09:30"
    assert not p.rate_button.isVisible() and not p.followups.invite_button.isVisible()
