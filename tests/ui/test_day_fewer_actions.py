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
    from ui.acceptance.script import Choices

    widget, script = acceptance()
    script.identity_from_card()
    script.next_step("items")
    script.choose(Choices())
    script.next_step("form")
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
    from ui.acceptance.script import Choices, demo_application, form_values

    widget, script = acceptance()
    choices = Choices(items=(1, 5))
    script.identity_from_card()
    script.next_step("items")
    script.choose(choices)
    script.next_step("form")
    script.fill_form(form_values(demo_application(), choices))
    script.next_step("materials")
    script.tick_materials()
    script.next_step("photo")
    script.next_step("review")
    script.sign()
    script.next_step("print")
    before = script.actions
    script.scan_signed_form()
    assert widget.current.key == "submit" and script.actions == before + 1   # the scan key only
    assert widget.next_button.text() == "提交 (F9)"
    script.submit()
    assert widget.session.finalized
