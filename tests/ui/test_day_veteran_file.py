"""A walk-in on a normal, connected day: the veteran's file on the reference platform (real HTTP on
loopback) names the retirement type in step 2 and fills the form's fields it knows in step 3,
tinted and named, never over what the clerk typed; the 参保地 follows the 落户地址."""
from __future__ import annotations

import pytest

from counter_app.scheme import RetirementType


@pytest.fixture
def online_day(ctx, tmp_path):
    from tests.ui.platform_link import connected

    with connected(ctx, tmp_path / "platform") as platform:
        yield platform


def _file(widget) -> dict:
    import datetime as _dt

    from refplatform.synthetic import veteran_file

    return veteran_file(widget.session.app.applicant.id_number, _dt.datetime.now(_dt.timezone.utc))


def test_the_file_names_the_retirement_type_and_fills_the_form(acceptance, online_day):
    from ui.acceptance.script import Choices

    widget, script = acceptance()
    script.identity_from_card()
    script.next_step("items")
    script.idle()
    items = widget.step("items")
    expected = _file(widget)
    assert expected["found"]
    assert widget.session.app.retirement_type is RetirementType(expected["retirement_type"])
    assert items.type_note.isVisible() and "退役军人档案" in items.type_note.text()
    assert widget.session.app.items                                   # the applicable items came ticked too
    script.choose(Choices())
    script.next_step("form")
    script.idle()
    form = widget.step("form")
    fields = form.fs.fields
    assert fields["applicant.education"].value() == expected["education"]
    assert fields["applicant.discharge_date"].value() == expected["discharge_date"]
    assert fields["hukou.pre_enlistment_address"].value() == expected["pre_enlistment_address"]
    assert fields["medical.transfer_from"].value() == expected["enlisted_on"]
    assert fields["medical.transfer_to"].value() == expected["discharge_date"][:7]
    assert fields["applicant.discharge_date"].widget.property("role") == "from-file"
    assert "已从退役军人档案带入" in form.ds_status.text() and "退出现役时间" in form.ds_status.text()
    # the applicant corrects one: it is theirs now, no longer marked as the file's
    script.type_text(fields["applicant.education"].widget, "高中")
    assert fields["applicant.education"].widget.property("role") != "from-file"
    assert "applicant.education" not in form.from_file and "学历" not in form.file_note()
    assert widget.session.app.applicant.education == "高中"


def test_what_the_clerk_typed_before_the_answer_stays(acceptance, online_day, monkeypatch):
    """The answer arrives after the clerk typed a 退出现役时间: the typed date stays, the rest fills."""
    from ui.acceptance import form_step
    from ui.acceptance.script import Choices

    held = {}
    real = form_step.fetch_data_sharing

    def recorded(window, number):
        held["answer"] = real(window, number)
        return held["answer"]

    monkeypatch.setattr(form_step, "fetch_data_sharing", recorded)
    widget, script = acceptance()
    script.identity_from_card()
    script.next_step("items")
    script.choose(Choices())
    form = widget.step("form")
    # typed into the session before step 3 asks (as a draft reopened with the date in it)
    widget.session.app.applicant.discharge_date = "2026-03-02"
    script.next_step("form")
    script.idle()
    assert held["answer"]["veteran_file"]["found"]
    assert form.fs.fields["applicant.discharge_date"].value() == "2026-03-02"
    assert "applicant.discharge_date" not in form.from_file
    assert form.fs.fields["applicant.education"].value() == held["answer"]["veteran_file"]["education"]


def test_a_type_chosen_before_the_file_answers_stays(acceptance, online_day, monkeypatch):
    import threading

    from counter_app import sync as sync_package

    widget, script = acceptance()
    script.identity_from_card()
    items = widget.step("items")
    calls, chosen = [], threading.Event()
    real = sync_package.lookup_data_sharing

    def late(window, number, **kw):   # answers only once the clerk has chosen a type by hand
        calls.append(kw.get("checks"))
        chosen.wait(20)
        return real(window, number, **kw)

    monkeypatch.setattr(sync_package, "lookup_data_sharing", late)
    script.key_next()
    script.wait(lambda: widget.current is items and bool(calls), "第2步向省平台查询档案")
    script.space(items.rtype.buttons[list(RetirementType).index(RetirementType.MONTHLY_PENSION)])
    chosen.set()
    script.idle()
    assert calls == [["veteran_file"]]
    assert widget.session.app.retirement_type is RetirementType.MONTHLY_PENSION
    assert not items.type_note.isVisible()


def test_offline_nothing_is_asked_and_the_clerk_types(acceptance):
    widget, script = acceptance()
    script.walk_to("items")
    script.idle()
    assert widget.session.app.retirement_type is None
    script.walk_to("form")
    form = widget.step("form")
    assert form.from_file == {} and form.fs.fields["applicant.discharge_date"].value() == ""


def test_the_insured_place_follows_the_settlement_address(acceptance):
    widget, script = acceptance()
    script.walk_to("form")
    fields = widget.step("form").fs.fields
    city, county, town, village = (fields[f"medical.insured_{p}"] for p in ("city", "county", "town", "village"))
    # the card's address (红旗区…) is where the hukou goes until told otherwise
    assert (city.value(), county.value()) == ("新乡市", "红旗区")
    script.type_text(fields["hukou.target_address"].widget, "河南省新乡市获嘉县城关镇东街村128号")
    assert (city.value(), county.value(), town.value(), village.value()) == ("新乡市", "获嘉县", "城关镇", "东街村")
    script.type_text(village.widget, "西街村")                          # the applicant says otherwise
    script.type_text(fields["hukou.target_address"].widget, "河南省新乡市获嘉县小店镇王庄村1号")
    assert (county.value(), town.value(), village.value()) == ("获嘉县", "小店镇", "西街村")
    app = widget.session.app
    assert (app.medical.insured_town, app.medical.insured_village) == ("小店镇", "西街村")
