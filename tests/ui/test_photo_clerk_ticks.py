"""The photo step hands the rules no pixel measurement decides to the clerk as tick boxes, with
their reason, and cannot be left until each is ticked."""
from __future__ import annotations


def test_photo_step_waits_for_the_clerks_ticks(ctx, demo_devices, qtbot):
    from devices.photo import make_compliant_photo
    from ui.acceptance.photo_step import PhotoStep
    from ui.acceptance.session import AcceptanceSession
    from devices.camera import demo_portrait

    session = AcceptanceSession()
    session.app.items = [8]                       # 社会保障卡申领: the photo is required
    step = PhotoStep(ctx, session)
    qtbot.addWidget(step)
    step.show()
    result = make_compliant_photo(demo_portrait())
    assert result.ok and {c.name for c in result.clerk_checks} >= {"no_uniform", "ears_brows_uncovered"}

    step._processed(result)
    qtbot.waitUntil(lambda: bool(session.app.photo), timeout=20000)
    assert step.clerk_box.isVisible()
    from PySide6.QtWidgets import QLabel

    labels = [b.text() for b in step.clerk_boxes]
    reasons = [w.text() for w in step.clerk_box.findChildren(QLabel) if w.isVisible()]
    assert "不着制式服装" in labels
    assert any("请确认申请人未穿军装" in r for r in reasons)                     # the reason is shown
    blockers = step.blockers()
    assert len(blockers) == 1 and "请工作人员目视确认照片并勾选" in blockers[0] and "不着制式服装" in blockers[0]

    for box in step.clerk_boxes[:-1]:
        box.setChecked(True)
    assert step.blockers() and step.clerk_boxes[-1].text() in step.blockers()[0]
    step.clerk_boxes[-1].setChecked(True)
    assert step.blockers() == []
    assert session.photo_ticks == {c.name for c in result.clerk_checks}

    step.retake()                                 # a new picture needs new ticks
    assert not step.clerk_box.isVisible() or not step.clerk_boxes


def test_a_photo_reopened_from_a_draft_asks_for_the_standing_ticks_again(ctx, demo_devices, qtbot):
    from ui.acceptance.photo_step import PhotoStep
    from ui.acceptance.session import AcceptanceSession

    session = AcceptanceSession()
    session.app.items = [8]
    session.app.photo = "0" * 64                  # the draft's stored photo (its report was not kept)
    session.photo_jpeg = b"\xff\xd8\xff\xd9"
    step = PhotoStep(ctx, session)
    qtbot.addWidget(step)
    step.enter()
    assert [b.text() for b in step.clerk_boxes] == ["不着制式服装", "免冠，眉毛、双耳露出"]
    assert step.blockers() and "不着制式服装" in step.blockers()[0]
    for box in step.clerk_boxes:
        box.setChecked(True)
    assert step.blockers() == []
    step.leave()
