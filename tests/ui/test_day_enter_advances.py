"""Enter advances when a step has nothing left to fill, and the button says so; fields already filled
(from the card, the platform, a default) are no Enter stops."""
from __future__ import annotations

from PySide6.QtCore import Qt

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
