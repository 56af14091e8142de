"""A walk-in without an ID card (军人公民身份号码登记表 typed in), and a duplicate open case."""
from __future__ import annotations

import datetime as _dt
import random

from PySide6.QtCore import Qt

from counter_app.application import Applicant, Application
from counter_app.samples import make_id_number
from counter_app.lifecycle import CaseState
from counter_app.scheme import IdDocument, RetirementType
from tests.ui.acceptance_fixtures import MAX_GAP_MS


def test_walk_in_with_military_registration_form_is_typed_in_and_queued(acceptance, ctx, qtbot, heartbeat):
    from ui.acceptance.script import Choices, form_values, demo_application

    widget, script = acceptance()
    number = make_id_number(random.Random(11), "410711", _dt.date(1999, 5, 17), True)
    step = widget.step("identity")
    fields = step.fs.fields

    heartbeat.start("identity")
    script.space(step.doc_buttons[IdDocument.MILITARY_REGISTRATION])
    script.type_text(fields["applicant.id_number"].widget, number)
    script.key(Qt.Key.Key_Return)                       # Enter: on to the next field, not the next step
    assert widget.index == 0
    assert widget.focusWidget() is fields["applicant.name"].widget
    script.type_text(fields["applicant.name"].widget, "王志军")
    script.type_text(fields["applicant.ethnicity"].widget, "汉")
    app = widget.session.app
    assert (app.applicant.sex, app.applicant.birth_date) == ("男", "1999-05-17")   # from the number
    script.key(Qt.Key.Key_F9)                           # refused: the original is not ticked yet
    assert widget.index == 0 and "证件原件已核验" in widget.last_message[0]
    script.key(Qt.Key.Key_F6)                           # 证件原件已核验
    heartbeat.stop()
    script.next_step("items")
    assert widget.session.case_no

    choices = Choices(retirement=RetirementType.DEMOBILIZED_OFFICER, items=(1,), intention=None, household=None,
                      family_mode=None, pension=None, medical=None)
    script.choose(choices)
    items = widget.step("items")
    for n in (2, 3):   # 自主就业 items do not apply to a demobilized officer, and say why
        assert not items.item_checks[n].isEnabled()
        assert "仅适用于自主就业退役士兵" in items.item_notes[n].text()
    script.next_step("form")
    script.fill_form(form_values(demo_application(), choices))
    script.next_step("materials")
    materials = widget.step("materials")
    assert "军人公民身份号码登记表" in materials.rows[2].reason.text()
    assert 12 not in materials.rows and 7 not in materials.rows
    script.tick_materials()
    script.next_step("photo")
    assert widget.step("photo").notice.isVisible()     # no social security card: no photo needed
    script.next_step("review")
    script.sign()
    script.next_step("print")
    script.scan_signed_form()
    script.next_step("submit")
    script.submit()
    script.next_step("rating")
    with qtbot.waitSignal(widget.finished, timeout=10000) as finished:
        script.key(Qt.Key.Key_F6)                       # the clerk cannot skip the rating ...
        assert widget.index == 8
        ctx.applicant_screen.decline_button.click()     # ... the applicant declines on their screen
        script.key(Qt.Key.Key_F9)
    for label, gap in heartbeat.gaps.items():
        assert gap < MAX_GAP_MS, f"第“{label}”步阻塞界面 {gap:.0f} 毫秒"

    record = ctx.window.cases.get(finished.args[0])
    assert record.state is CaseState.QUEUED
    assert record.application.applicant.id_document is IdDocument.MILITARY_REGISTRATION
    assert record.application.applicant.id_number == number
    assert record.application.items == [1, 7]  # 7 军地养老保险关系转移接续 is 免申即享: included automatically
    assert record.rating is None
    exported = ctx.window.cases.export(record.id)
    assert exported["application"]["applicant"]["id_document"] == "military_registration"


def test_duplicate_open_case_is_flagged_with_its_number(acceptance, ctx, qtbot):
    existing = ctx.window.cases.create_draft(
        Application(applicant=Applicant(name="赵振华", sex="男", birth_date="1985-06-12", ethnicity="汉",
                                        id_number="410702198506120039")), ctx.actor)
    before = ctx.window.cases.count()
    widget, script = acceptance()
    script.identity_from_card("resident_xinxiang")
    step = widget.step("identity")
    qtbot.waitUntil(lambda: step.duplicate.isVisible(), timeout=10000)
    assert existing.case_no in step.duplicate.text()
    script.key(Qt.Key.Key_F9)
    assert widget.index == 0
    assert existing.case_no in widget.last_message[0] and widget.last_message[1] == "error"
    assert ctx.window.cases.count() == before         # no second open case for the same person


def test_online_application_from_the_worklist_is_prefilled_and_taken(acceptance, ctx):
    from counter_app.application import application_to_dict
    from counter_app.store.models import WorklistEntry
    from counter_app.sync.worklist import store_worklist
    from ui.acceptance.script import demo_application

    online = demo_application()
    a = online.applicant
    a.name, a.sex, a.birth_date, a.id_number = "赵振华", "男", "1985-06-12", "410702198506120039"
    store_worklist(ctx.window, [{"platform_id": "HN-WL-0001", "approved_on": _dt.date.today().isoformat(),
                                 "application": application_to_dict(online)}])
    widget, script = acceptance(worklist_id="HN-WL-0001")
    app = widget.session.app
    assert app.source == "online" and app.online_application_id == "HN-WL-0001"
    assert app.items == online.items and app.applicant.phone == online.applicant.phone
    assert "网上申请" in widget.heading.text()
    script.identity_from_card()                       # identity is still verified with the card
    script.next_step("items")
    items = widget.step("items")
    assert all(items.item_checks[n].isChecked() for n in online.items)
    script.idle()
    with ctx.window.sessions() as s:
        assert s.get(WorklistEntry, "HN-WL-0001").taken_case_id == widget.session.case_id
    assert ctx.window.cases.get(widget.session.case_id).application.source == "online"


def test_a_saved_draft_is_continued_where_it_was_left(acceptance, ctx):
    from ui.acceptance.script import demo_application

    app = demo_application()
    app.applicant.phone = "13912345678"
    app.material(3).original_seen = True
    draft = ctx.window.cases.create_draft(app, ctx.actor)
    widget, script = acceptance(case_id=draft.id)
    s = widget.session
    assert (s.case_id, s.case_no) == (draft.id, draft.case_no)
    assert s.app.applicant.phone == "13912345678" and s.app.material(3).original_seen
    assert draft.case_no in widget.heading.text()
    assert widget.step("identity").fs.fields["applicant.id_number"].widget.text() == app.applicant.id_number
    script.key(Qt.Key.Key_F6)                     # the clerk checks the registration form again
    script.next_step("items")                     # its own open case is no duplicate
    script.idle()
    assert ctx.window.cases.count() == 1


def test_cancel_keeps_the_draft_with_everything_typed(acceptance, ctx, qtbot):
    from PySide6.QtWidgets import QMessageBox

    widget, script = acceptance()
    script.identity_from_card()
    script.next_step("items")
    items = widget.step("items")
    script.space(items.rtype.buttons[0])              # every applicable item comes ticked …
    script.space(items.item_checks[11])               # … and the applicant does not want item 11
    wanted = sorted(n for n, cb in items.item_checks.items() if cb.isEnabled() and n != 11)
    script.key(Qt.Key.Key_Escape)
    box = widget.findChild(QMessageBox, "cancelBox")
    assert box is not None and widget.session.case_no in box.text()
    with qtbot.waitSignal(widget.cancelled, timeout=5000):
        box.button(QMessageBox.StandardButton.Yes).click()
    script.idle()
    saved = ctx.window.cases.get(widget.session.case_id)
    assert saved.state is CaseState.DRAFT
    # 2 and 7 are 免申即享: included automatically (locked) for a 自主就业退役士兵
    assert saved.application.items == sorted(set(wanted) | {2, 7})
    assert saved.application.retirement_type is RetirementType.SELF_EMPLOYED
