"""One applicant's data never reaches the next: the card left on the reader, the document type,
the 原件 tick, an online application's own applicant, and a wheel over a verified answer."""
from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from counter_app.scheme import IdDocument
from tests.ui.test_day_session import _online_entry


def _card_on_reader(hub, qtbot, name="resident_xinxiang"):
    with qtbot.waitSignal(hub.card_read, timeout=10000):
        hub.place_demo_card(name)


def test_a_card_left_on_the_reader_is_not_read_into_a_new_acceptance(acceptance, demo_devices, qtbot):
    _card_on_reader(demo_devices, qtbot)            # the previous applicant's card, still lying there
    widget, script = acceptance()
    step = widget.step("identity")
    script.idle()
    qtbot.wait(100)
    a = widget.session.app.applicant
    assert (a.name, a.id_number, a.current_address) == ("", "", "")
    assert not widget.session.app.material(2).original_seen and not step.original.isChecked()
    assert "F7" in step.reader_state.text()
    script.key(Qt.Key.Key_F7)                        # the clerk reads it on purpose
    assert a.name == "赵振华" and widget.session.app.material(2).original_seen


def test_switching_to_the_registration_form_clears_what_the_card_filled(acceptance, demo_devices, qtbot):
    widget, script = acceptance()
    script.identity_from_card()
    step = widget.step("identity")
    assert step.original.isChecked() and step.card_info.text()
    step.doc_buttons[IdDocument.MILITARY_REGISTRATION].click()
    a = widget.session.app.applicant
    assert (a.name, a.id_number, a.birth_date, a.current_address) == ("", "", "", "")
    assert a.id_document is IdDocument.MILITARY_REGISTRATION
    assert not widget.session.app.material(2).original_seen and not step.original.isChecked()
    assert step.card_info.text() == ""
    assert step.fs.fields["applicant.name"].widget.text() == ""
    assert step.fs.fields["applicant.sex"].widget.currentText() == ""   # not the card's 男 either


def test_taking_the_card_away_before_confirming_clears_it(acceptance, demo_devices, qtbot):
    widget, script = acceptance()
    script.identity_from_card()
    with qtbot.waitSignal(demo_devices.card_removed, timeout=10000):
        demo_devices.remove_demo_card()
    a = widget.session.app.applicant
    assert a.name == "" and a.id_number == ""
    assert not widget.session.app.material(2).original_seen
    assert "已清除" in widget.last_message[0]


def test_an_online_application_never_brings_an_original_tick(acceptance, ctx, qtbot):
    online = _online_entry(ctx, name="朱成", birth_date="1985-06-12")
    assert online is not None
    from counter_app.application import application_to_dict
    from counter_app.sync.worklist import store_worklist

    online.material(2).original_seen = True
    online.material(3).original_seen = True
    store_worklist(ctx.window, [{"platform_id": "HN-WL-0002", "approved_on": "2026-12-01",
                                 "application": application_to_dict(online)}])
    widget, script = acceptance(worklist_id="HN-WL-0002")
    assert not any(m.original_seen for m in widget.session.app.materials.values())
    qtbot.waitUntil(lambda: not widget.step("identity")._dup_timer.isActive(), timeout=5000)
    script.idle()


def test_a_card_of_another_person_is_refused_on_an_online_application(acceptance, demo_devices, ctx, qtbot):
    from counter_app.store.models import WorklistEntry

    _online_entry(ctx, name="朱成", birth_date="1979-03-02", id_number="410702197903020017")
    widget, script = acceptance(worklist_id="HN-WL-0001")
    with qtbot.waitSignal(demo_devices.card_read, timeout=10000):
        demo_devices.place_demo_card("resident_longterm")      # 孙秀兰
    qtbot.waitUntil(lambda: "不一致" in widget.last_message[0], timeout=5000)
    text, level = widget.last_message
    assert level == "error" and "朱成" in text and "孙秀兰" in text
    a = widget.session.app.applicant
    assert (a.name, a.id_number) == ("朱成", "410702197903020017")
    assert not widget.session.app.material(2).original_seen
    widget.go_next()                                              # still refused: no draft, row stays
    script.idle()
    assert widget.session.case_id is None
    with ctx.window.sessions() as s:
        assert s.get(WorklistEntry, "HN-WL-0001").taken_case_id is None


def test_name_and_birth_date_decide_when_the_online_application_has_no_number(acceptance, demo_devices, ctx, qtbot):
    _online_entry(ctx, name="朱成", birth_date="1979-03-02", id_number="")
    widget, script = acceptance(worklist_id="HN-WL-0001")
    with qtbot.waitSignal(demo_devices.card_read, timeout=10000):
        demo_devices.place_demo_card("resident_xinxiang")       # 赵振华, 1985-06-12
    qtbot.waitUntil(lambda: "不一致" in widget.last_message[0], timeout=5000)
    assert widget.session.app.applicant.name == "朱成"
    script.idle()


def _wheel(widget, down=True):
    pos = QPointF(widget.width() / 2, widget.height() / 2)
    delta = QPoint(0, -120 if down else 120)
    event = QWheelEvent(pos, widget.mapToGlobal(pos), QPoint(0, 0), delta, Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def _form_step(ctx, qtbot):
    from ui.acceptance.form_step import FormStep
    from ui.acceptance.script import demo_application
    from ui.acceptance.session import AcceptanceSession

    session = AcceptanceSession(app=demo_application())
    step = FormStep(ctx, session)
    qtbot.addWidget(step)
    step.resize(1100, 700)
    step.show()
    qtbot.waitExposed(step)
    return step, session


def test_the_wheel_never_changes_a_combo_box_without_focus(ctx, qtbot):
    step, session = _form_step(ctx, qtbot)
    field = step.fs.fields["data_sharing.henan_hukou_before_enlistment"]
    field.set_value(True)
    step.commit()
    step.fs.fields["applicant.political_status"].widget.setFocus()
    _wheel(field.widget)
    _wheel(field.widget)
    assert field.value() is True and session.app.data_sharing.henan_hukou_before_enlistment is True
    field.widget.setFocus()                    # with the focus, the wheel is the clerk's choice
    qtbot.waitUntil(field.widget.hasFocus, timeout=2000)
    _wheel(field.widget)
    assert field.value() is not True


def test_a_changed_verified_answer_loses_its_verified_mark(ctx, qtbot, monkeypatch):
    import ui.acceptance.form_step as form_step

    answers = {"henan_hukou_before_enlistment": {"verified": True, "value": True},
               "hukou_cancelled": {"verified": True, "value": True}}
    monkeypatch.setattr(form_step, "fetch_data_sharing", lambda window, number: answers)
    step, session = _form_step(ctx, qtbot)
    step.fetch_shared()
    qtbot.waitUntil(lambda: step.ds_status.text().startswith("已通过数据共享核验"), timeout=5000)
    field = step.fs.fields["data_sharing.hukou_cancelled"]
    assert field.value() is True
    field.widget.setFocus()
    qtbot.waitUntil(field.widget.hasFocus, timeout=2000)
    field.widget.setCurrentIndex(field.widget.findData(False))
    field.widget.activated.emit(field.widget.currentIndex())   # what a click on 否 emits
    assert "原户籍是否注销" in step.ds_status.text() and "不再是平台核验结果" in step.ds_status.text()
    assert not step.ds_status.text().startswith("已通过")
    assert field.widget.property("role") == "edited"
    assert session.app.data_sharing.hukou_cancelled is False


def test_a_typed_number_gives_sex_and_birth_date(acceptance, qtbot):
    """Even after a card was read and the clerk switched to the registration form."""
    widget, script = acceptance()
    script.identity_from_card()                                   # 赵振华, 男, 1985-06-12
    step = widget.step("identity")
    script.space(step.doc_buttons[IdDocument.MILITARY_REGISTRATION])
    script.type_text(step.fs.fields["applicant.id_number"].widget, "410724196203151021")
    a = widget.session.app.applicant
    assert (a.sex, a.birth_date) == ("女", "1962-03-15")
    assert step.fs.fields["applicant.sex"].widget.currentText() == "女"
    assert step.fs.fields["applicant.birth_date"].widget.text() == "1962-03-15"


def test_a_phone_field_takes_no_letters(ctx, qtbot):
    step, session = _form_step(ctx, qtbot)
    field = step.fs.fields["applicant.phone"].widget
    field.clear()
    field.setFocus()
    qtbot.keyClicks(field, "138abc0373")
    assert field.text() == "1380373"


def test_the_applicant_rating_is_the_applicants(ctx, demo_devices, qtbot):
    """The clerk's F5 does not wipe a half-made choice; only the applicant's 不评价 skips."""
    from ui.acceptance.rating_step import RatingStep
    from ui.acceptance.session import AcceptanceSession

    session = AcceptanceSession(case_id="case-1", finalized=True)
    step = RatingStep(ctx, session)
    qtbot.addWidget(step)
    moved = []
    step.request_next.connect(lambda: moved.append(True))
    step.enter()
    screen = ctx.applicant_screen
    screen.choose_rating("满意")
    step.ask_again()                                       # the clerk's F5
    assert screen.rating_buttons["满意"].isChecked()
    assert not any(key == "F6" for key, _label, _method in step.actions)   # no clerk-side skip
    assert step.blockers() and not moved
    screen.decline_button.click()                          # the applicant's own 不评价
    assert moved and step.blockers() == []


def test_an_error_of_one_step_does_not_follow_into_the_next(acceptance):
    widget, script = acceptance()
    script.identity_from_card()
    script.next_step("items")
    widget.step("items").item_checks  # nothing chosen yet
    for cb in widget.step("items").item_checks.values():
        cb.setChecked(False)
    script.key(Qt.Key.Key_F9)                              # refused, in red, at step 2
    assert widget.last_message[1] == "error" and widget.banner.isVisible()
    script.key(Qt.Key.Key_F8)                              # back to step 1: that problem is step 2's
    assert widget.index == 0
    assert not widget.banner.isVisible()


def test_focus_moved_below_the_visible_form_scrolls_to_it(acceptance, qtbot):
    from ui.acceptance.script import Choices

    widget, script = acceptance()
    script.identity_from_card()
    script.next_step("items")
    script.choose(Choices())
    script.next_step("form")
    step = widget.step("form")
    viewport = step.scroll.viewport()
    field = step.fs.fields["medical.transfer_to"].widget
    assert field.mapTo(viewport, field.rect().bottomLeft()).y() > viewport.height()   # below, out of sight
    field.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(field.hasFocus, timeout=2000)
    top = field.mapTo(viewport, field.rect().topLeft()).y()
    assert 0 <= top and top + field.height() <= viewport.height()


def test_a_case_is_found_by_its_last_digits_or_its_barcode(ctx, scene, qtbot):
    from counter_app.case_number import CaseNumber
    from ui.worklist import search_worklist

    case_no = ctx.window.cases.get(scene.today_ids[1]).case_no
    tail = case_no.split("-", 3)[3]                       # "0003-6": serial and check digit
    found = search_worklist(ctx.window, tail)
    assert scene.today_ids[1] in [r.key for r in found.rows], found.message
    assert len(found.rows) == 1
    by_barcode = search_worklist(ctx.window, CaseNumber.parse(case_no).compact)
    assert [r.key for r in by_barcode.rows] == [scene.today_ids[1]]


def test_one_key_confirms_every_original_the_list_asks_for(acceptance):
    from ui.acceptance.script import Choices, demo_application, form_values

    widget, script = acceptance()
    script.identity_from_card()
    script.next_step("items")
    script.choose(Choices())
    script.next_step("form")
    script.fill_form(form_values(demo_application(), Choices()))
    script.next_step("materials")
    step = widget.step("materials")
    assert any(not r.seen.isChecked() for n, r in step.rows.items() if n not in (1, 12))
    before = script.actions
    script.key(Qt.Key.Key_F5)                                  # 以上原件均已核验
    assert script.actions == before + 1
    assert all(r.seen.isChecked() for n, r in step.rows.items() if n not in (1, 12))
    assert all(widget.session.app.material(n).original_seen for n in step.rows if n not in (1, 12))


def test_tab_after_the_last_item_lands_on_something_visible(acceptance):
    from PySide6.QtWidgets import QAbstractScrollArea

    widget, script = acceptance()
    script.identity_from_card()
    script.next_step("items")
    step = widget.step("items")
    last = step.item_checks[11]
    last.setFocus(Qt.FocusReason.TabFocusReason)
    script.key(Qt.Key.Key_Tab, target=last)
    focus = QApplication.focusWidget()
    assert focus is not None and focus is not last
    assert not isinstance(focus, QAbstractScrollArea)           # no invisible stop on a frame
    assert focus.isVisible() and focus.focusPolicy() & Qt.FocusPolicy.TabFocus


def test_the_card_mailing_address_has_room_for_an_address(ctx, qtbot):
    step, _session = _form_step(ctx, qtbot)
    step.resize(1190, 600)
    step.enter()
    QApplication.processEvents()
    field = step.fs.fields["pension.card_mailing_address"].widget
    bank = step.fs.fields["pension.card_bank"].widget
    assert field.width() > 1.5 * bank.width() and field.width() >= 500
