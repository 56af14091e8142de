"""Materials: the required list follows the choices live, and a missing one blocks the step."""
from __future__ import annotations

from PySide6.QtCore import Qt

from counter_app.scheme import HouseholdType


def test_missing_material_blocks_the_step_and_the_list_follows_the_choices(acceptance):
    from ui.acceptance.script import Choices, demo_application, form_values

    widget, script = acceptance()
    choices = Choices()    # 户口登记 into a relative's family household (居民家庭户, 投靠亲属)
    script.identity_from_card()
    script.next_step("items")
    script.choose(choices)
    script.next_step("form")
    script.fill_form(form_values(demo_application(), choices))
    script.next_step("materials")
    step = widget.step("materials")
    assert {7, 8} <= set(step.rows) and 11 not in step.rows
    assert step.rows[7].reason.text() == "选择投靠亲属入户（落入已有的居民家庭户）"

    script.tick_materials(skip={4})
    script.key(Qt.Key.Key_F9)
    assert widget.index == 3                                  # still on the materials step
    text, level = widget.last_message
    assert level == "error" and "材料4“退出现役行政介绍信”" in text
    assert "材料4" in step.missing.text()

    # Back to the items (F8 twice): a unit collective household needs 材料11 instead of 7 and 8.
    script.key(Qt.Key.Key_F8)
    script.key(Qt.Key.Key_F8)
    assert widget.index == 1
    items = widget.step("items")
    script.space(items.household.buttons[items.household.options.index(HouseholdType.COLLECTIVE)])
    script.next_step("form")
    script.next_step("materials")
    assert 11 in step.rows and 7 not in step.rows and 8 not in step.rows
    assert step.rows[11].reason.text() == "选择在单位集体户恢复户口"
    script.key(Qt.Key.Key_F9)
    assert widget.index == 3
    assert "材料11" in widget.last_message[0] and "材料4" in widget.last_message[0]

    script.tick_materials()
    script.next_step("photo")
    script.idle()
    # nothing typed was lost on the way back and forth: the draft holds the choices
    saved = widget.ctx.window.cases.get(widget.session.case_id).application
    assert saved.hukou.household_type is HouseholdType.COLLECTIVE
    assert saved.material(4).original_seen and saved.material(11).original_seen
