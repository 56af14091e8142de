"""Fewer navigation actions for a walk-in: the applicable items come ticked once the retirement type
is chosen, and the 落户地址 / 社保卡邮寄地址 follow the 现居住地址 until typed otherwise."""
from __future__ import annotations

from counter_app.scheme import RetirementType


def test_choosing_the_retirement_type_ticks_every_applicable_item(acceptance):
    widget, script = acceptance()
    script.identity_from_card()
    script.next_step("items")
    step = widget.step("items")
    assert not any(cb.isChecked() for cb in step.item_checks.values())
    before = script.actions
    script.space(step.rtype.buttons[list(RetirementType).index(RetirementType.DEMOBILIZED_OFFICER)])
    assert script.actions == before + 1
    enabled = {n for n, cb in step.item_checks.items() if cb.isEnabled()}
    checked = {n for n, cb in step.item_checks.items() if cb.isChecked()}
    # every applicable item is ticked; 免申即享 items (2, 7) are ticked and locked by the rules
    assert enabled and enabled <= checked and checked - enabled <= {2, 7}
    assert widget.session.app.items == sorted(checked)
    assert 2 not in enabled                       # 自主就业 only: stays unticked and greyed
    script.space(step.item_checks[1])             # the clerk unticks what the applicant does not want
    assert 1 not in widget.session.app.items
    script.space(step.rtype.buttons[list(RetirementType).index(RetirementType.SELF_EMPLOYED)])
    assert 1 not in widget.session.app.items      # a later change of type does not tick it again


def test_the_card_and_mailing_addresses_follow_the_current_address(acceptance):
    widget, script = acceptance()
    script.walk_to("form")
    fields = widget.step("form").fs.fields
    card_address = widget.session.app.applicant.current_address
    assert card_address
    for path in ("hukou.target_address", "pension.card_mailing_address"):
        assert fields[path].widget.text() == card_address
    script.type_text(fields["pension.card_mailing_address"].widget, "河南省郑州市金水区花园路1号")
    script.type_text(fields["applicant.current_address"].widget, "河南省洛阳市新安县劳动路285号")
    app = widget.session.app
    assert app.hukou.target_address == "河南省洛阳市新安县劳动路285号"          # followed
    assert app.pension.card_mailing_address == "河南省郑州市金水区花园路1号"   # typed otherwise: stays


def test_the_signed_scan_moves_on_to_submit_by_itself(acceptance):
    from ui.acceptance.script import Choices

    widget, script = acceptance()
    script.walk_to("print", choices=Choices(items=(1, 5)))
    before = script.actions
    script.scan_signed_form()
    assert widget.current.key == "submit" and script.actions == before + 2   # F5 prints all, F7 scans
    assert widget.next_button.text() == "提交 (F9)"
    script.submit()
    assert widget.session.finalized


# The targets, counted from the key and mouse events that reach the clerk's widget
# (ui.acceptance.action_count); characters of the applicant's data are not actions, every Enter is.
WALK_IN_TARGET, ONLINE_TARGET = 25, 12


def test_the_counter_counts_presses_and_clicks_not_typed_data(acceptance):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from ui.acceptance.script import type_into

    widget, script = acceptance()
    field = widget.step("identity").fs.fields["applicant.name"].widget
    QTest.mouseClick(field, Qt.MouseButton.LeftButton)                # 1: reaching the field
    type_into(field, "张Ab三")                                         # data: not counted
    QTest.keyClick(field, Qt.Key.Key_Return)                          # 2: ends the entry, moves on
    QTest.keyClick(field, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)   # 3
    QTest.keyClick(field, Qt.Key.Key_Tab)                             # 4
    QTest.keyClick(widget, Qt.Key.Key_Return)                         # 5: nothing was typed there
    assert [what for _step, what in script.counter.log] == [
        "click QLineEdit 申请人姓名", "Enter↵", "Ctrl+A", "Tab", "Return"]
    assert script.actions == 5 and len(script.counter.data_enters) == 1


def test_a_walk_in_with_a_card_stays_within_the_target(acceptance, ctx, tmp_path):
    """On a connected day (the reference platform over loopback HTTP): every key and click counts,
    also each Enter that ends a typed field."""
    from tests.ui.platform_link import connected

    with connected(ctx, tmp_path / "platform"):
        widget, script = acceptance()
        script.run_full()
    assert widget.session.finalized and widget.session.rating_done
    assert script.actions <= WALK_IN_TARGET, script.counter.breakdown()
    enters = [w for _s, w in script.counter.log if w == "Enter↵"]
    assert len(enters) == len(script.counter.data_enters) > 0, script.counter.breakdown()   # counted, not hidden
    assert widget.step("form").from_file, "the veteran's file filled nothing"
    steps = script.counter.per_step()
    # one action confirms the originals and moves on; one confirms the photo by eye and moves on
    assert steps.get("materials") == 1 and steps.get("photo") == 1, script.counter.breakdown()
    assert "review" not in steps, script.counter.breakdown()          # signing moves on by itself


def test_an_online_application_stays_within_the_target(ctx, acceptance, demo_devices):
    from devices.idcard import sample_card
    from ui.acceptance.online_path import run_online, store_online_application

    card = sample_card("resident_xinxiang")
    store_online_application(ctx.window, "ONLINE-ACTIONS-1", card)
    widget, script = acceptance(worklist_id="ONLINE-ACTIONS-1")
    run_online(script, demo_devices, card)
    assert widget.session.finalized and widget.session.app.source == "online"
    assert script.actions <= ONLINE_TARGET, script.counter.breakdown()
    assert script.counter.per_step().get("items") == 1, script.counter.breakdown()   # the application's own


def test_step_3_opens_on_the_first_field_to_fill(acceptance):
    from PySide6.QtWidgets import QApplication

    widget, script = acceptance()
    script.walk_to("form")
    fields = widget.step("form").fs.fields
    fields["applicant.political_status"].widget.setCurrentText("群众")
    fields["applicant.education"].widget.setCurrentText("高中")
    widget.step("form").focus_first()
    focus = QApplication.focusWidget()
    assert focus is fields["applicant.marital_status"].widget     # the first one still empty


def test_f5_confirms_only_this_applicants_originals(acceptance):
    """F5 confirms the list on screen for this applicant; the next acceptance starts with no
    original ticked but the card the reader itself checked."""
    from ui.acceptance.script import Choices

    def to_materials(widget, script, card):
        script.walk_to("materials", choices=Choices(items=(1, 5)), card=card)
        return widget.step("materials")

    first, script = acceptance()
    step = to_materials(first, script, "resident_xinxiang")
    script.tick_materials()
    script.wait(lambda: first.current.key == "photo", "F5 之后进入采集照片")
    assert all(r.seen.isChecked() for n, r in step.rows.items() if n not in (1, 12))
    script.w.confirm_cancel()

    second, script2 = acceptance()
    step2 = to_materials(second, script2, "resident_longterm")   # the next applicant
    ticked = {n for n, r in step2.rows.items() if n not in (1, 12) and r.seen.isChecked()}
    assert ticked <= {2}                       # only what this applicant's card read confirmed
    assert any(not r.seen.isChecked() for n, r in step2.rows.items() if n not in (1, 2, 12))


def test_f5_prints_every_document_of_step_7_and_the_receipt_prints_while_the_applicant_rates(
        acceptance, tmp_path, monkeypatch):
    """Through a real (private) CUPS scheduler with a cups-pdf queue: one F5 at 打印 prints the
    signed form and the letters, F7 at 评价 the receipt; each job comes out as a PDF."""
    from tests.cups_server import CupsServer
    from ui.acceptance.script import Choices

    server = CupsServer().start()
    try:
        server.add_pdf_queue("Counter_PDF", default=True)
        monkeypatch.setenv("CUPS_SERVER", str(server.socket))
        widget, script = acceptance()
        script.walk_to("print", choices=Choices(items=(1, 11)))   # 预备役登记: the form and the reminder letter
        script.scan_signed_form()                 # F5 (print all), then F7 (the scan)
        script.wait(lambda: {"form", "reserve_reminder"} <= widget.session.printed, "打印全部文书")
        script.next_step("submit")
        script.submit()
        script.next_step("rating")                # the stepper went on by itself once submitted
        script.rate("满意")                       # F7 prints the receipt meanwhile
        script.wait(lambda: "receipt" in widget.session.printed, "打印受理回执", timeout=60)
        def complete() -> list:
            done = [p for p in server.out.glob("*.pdf") if p.read_bytes().startswith(b"%PDF")
                    and b"%%EOF" in p.read_bytes()[-1024:]]
            return done

        script.wait(lambda: len(complete()) >= 3, "cups-pdf 写完三份文件", timeout=60)   # cups-pdf writes late
        assert len(list(server.out.glob("*.pdf"))) == 3
        steps = script.counter.per_step()
        assert steps.get("print") == 2 and steps.get("submit") == 1 and steps.get("rating") == 1, \
            script.counter.breakdown()
    finally:
        server.stop()


def test_a_step_moving_on_by_itself_is_not_lost_to_a_job_that_starts_meanwhile(acceptance, monkeypatch):
    """Submitted, receipt made: the stepper goes on to the rating by itself. A job that starts at
    that instant (with the platform connected, its acknowledgement re-renders the receipt) used to
    swallow the move, leaving the clerk to press F9; the move now waits for the job."""
    import threading

    from PySide6.QtCore import Qt

    from ui.acceptance.script import Choices

    widget, script = acceptance()
    script.walk_to("submit", choices=Choices(items=(1, 5)))
    step = widget.step("submit")
    gate, asked = threading.Event(), []
    step.request_next.connect(lambda: asked.append(widget.busy))
    moving_on = step.request_next_soon

    def with_a_job_starting() -> None:
        step.run_db(gate.wait, 20)      # e.g. the acknowledgement check, started just then
        moving_on()

    monkeypatch.setattr(step, "request_next_soon", with_a_job_starting)
    script.key(Qt.Key.Key_F9)
    script.wait(lambda: bool(asked), "提交后的自动前进")
    assert asked == [True] and widget.current is step     # asked while the stepper was busy
    gate.set()
    script.wait(lambda: widget.current.key == "rating", "任务结束后自动进入服务评价")
    assert widget.session.finalized
