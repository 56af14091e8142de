"""Enter advances when a step has nothing left to fill, and the button says so; fields already filled
(from the card, the platform, a default) are no Enter stops."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from ui.acceptance.fields import is_empty


def test_enter_in_a_card_filled_identity_step_moves_to_the_next_step(acceptance):
    widget, script = acceptance()
    assert widget.next_button.text() == "下一步 (F9 / Enter)"
    script.identity_from_card()
    name = widget.step("identity").fs.fields["applicant.name"].widget
    script.focus(name)
    script.key(Qt.Key.Key_Return)          # every field after it came from the card
    script.wait(lambda: widget.index == 1 and not widget.busy, "进入第2步")
    assert widget.session.case_no          # the draft was created, as with F9
    assert widget.next_button.text() == "下一步 (F9 / Enter)"


def test_enter_skips_fields_already_filled_and_stops_at_the_next_empty_one(acceptance):
    from ui.acceptance.script import Choices

    widget, script = acceptance()
    script.identity_from_card()
    script.next_step("items")
    script.choose(Choices())
    script.next_step("form")
    step = widget.step("form")
    fields = step.fs.fields
    address = fields["applicant.current_address"].widget
    assert address.text()                  # from the card
    order = [p for p in step.fs.order if fields[p].kind == "line" and fields[p].container.isEnabled()]
    before = order[order.index("applicant.current_address") - 1]
    script.type_text(fields[before].widget, "13837301234" if "phone" in before else "测试")
    script.key(Qt.Key.Key_Return)
    focus = widget.focusWidget()
    assert focus is not address and widget.index == 2
    assert is_empty(focus)                 # the next field still to fill, not the card's address


def test_enter_on_a_field_with_something_left_to_fill_stays_in_the_step(acceptance):
    widget, script = acceptance()
    from counter_app.scheme import IdDocument

    step = widget.step("identity")
    script.space(step.doc_buttons[IdDocument.MILITARY_REGISTRATION])
    script.type_text(step.fs.fields["applicant.name"].widget, "王志军")
    script.key(Qt.Key.Key_Return)
    assert widget.index == 0 and is_empty(widget.focusWidget())


def _to_form(acceptance):
    widget, script = acceptance()
    script.walk_to("form")
    return widget, script, widget.step("form").fs.fields


def test_a_complete_mobile_number_moves_on_by_itself_and_the_habitual_enter_is_harmless(acceptance):
    from PySide6.QtTest import QTest

    widget, script, fields = _to_form(acceptance)
    phone, contact = fields["applicant.phone"].widget, fields["applicant.backup_contact"].widget
    script.focus(phone)
    QTest.keyClicks(phone, "1383730123")                  # ten digits: not yet
    assert phone.hasFocus()
    QTest.keyClicks(phone, "4")                           # the eleventh: on to the next field to fill
    assert contact.hasFocus() and widget.session.app.applicant.phone == "13837301234"
    script.key(Qt.Key.Key_Return)                         # out of habit: ends the number, no skip
    assert contact.hasFocus()
    script.key(Qt.Key.Key_Return)                         # a second one is the clerk's own: moves on
    assert not contact.hasFocus()


def test_a_landline_or_a_correction_in_the_middle_stays(acceptance):
    from PySide6.QtTest import QTest

    widget, script, fields = _to_form(acceptance)
    phone = fields["applicant.phone"].widget
    script.focus(phone)
    QTest.keyClicks(phone, "0373-5012345")                # a landline has no fixed length
    assert phone.hasFocus()
    phone.setText("")
    QTest.keyClicks(phone, "13837301284")
    assert QApplication.focusWidget() is not phone       # complete: moved on
    script.focus(phone)
    phone.setCursorPosition(10)                           # fixes the tenth digit: stays to check it
    QTest.keyClick(phone, Qt.Key.Key_Backspace)
    QTest.keyClicks(phone, "3")
    assert phone.hasFocus() and phone.text() == "13837301234"


def test_a_complete_id_number_or_date_moves_on(acceptance):
    from PySide6.QtTest import QTest

    from counter_app.scheme import IdDocument

    widget, script = acceptance()
    step = widget.step("identity")
    script.space(step.doc_buttons[IdDocument.MILITARY_REGISTRATION])
    number = step.fs.fields["applicant.id_number"].widget
    script.focus(number)
    QTest.keyClicks(number, "41070219850612003")
    assert number.hasFocus()
    QTest.keyClicks(number, "8")                          # a wrong check digit: not complete
    assert number.hasFocus()
    QTest.keyClick(number, Qt.Key.Key_Backspace)
    QTest.keyClicks(number, "9")
    assert step.fs.fields["applicant.name"].widget.hasFocus()
    assert widget.session.app.applicant.birth_date == "1985-06-12"   # read from the number


def test_a_digit_chooses_in_a_fixed_list_and_moves_on(acceptance):
    from PySide6.QtTest import QTest

    widget, script, fields = _to_form(acceptance)
    marital = fields["applicant.marital_status"].widget
    assert "1 未婚" in marital.placeholderText() and "4 丧偶" in marital.placeholderText()
    assert _darkest(marital) > 80                         # the hint is grey, not like a chosen value
    script.focus(marital)
    QTest.keyClick(marital, Qt.Key.Key_2)
    assert widget.session.app.applicant.marital_status == "已婚" and not marital.hasFocus()
    assert _darkest(marital) < 40                         # the choice reads as a value
    henan = fields["data_sharing.henan_hukou_before_enlistment"].widget
    script.focus(henan)
    QTest.keyClick(henan, Qt.Key.Key_2)                   # 1 是, 2 否: the "no answer" has no digit
    assert widget.session.app.data_sharing.henan_hukou_before_enlistment is False
    script.focus(henan)
    QTest.keyClick(henan, Qt.Key.Key_7)                   # no seventh choice: nothing changes
    assert widget.session.app.data_sharing.henan_hukou_before_enlistment is False and henan.hasFocus()


def _darkest(widget) -> int:
    """The darkest red value of the pixels inside ``widget`` as drawn (text is the darkest thing)."""
    img = widget.grab().toImage()
    return min(img.pixelColor(x, y).red() for x in range(4, widget.width() - 24, 2)
               for y in range(6, widget.height() - 6, 2))
