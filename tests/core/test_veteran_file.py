"""The veteran's file (退役军人档案) and the data-sharing answers copied into an application, and the
参保地 read from an address: proposals that fill what is empty and never replace what was typed."""
from __future__ import annotations

import pytest

from counter_app.application import Application
from counter_app.data_sharing import apply_data_sharing, file_retirement_type
from counter_app.divisions import place_parts
from counter_app.scheme import RetirementType

FILE = {"found": True, "source": "退役军人事务部门（档案）", "retirement_type": "demobilized_officer",
        "enlisted_on": "2016-09", "discharge_date": "2026-09-13", "political_status": "中共党员",
        "education": "大学专科", "placement_place": "河南省新乡市红旗区",
        "pre_enlistment_address": "河南省新乡市红旗区东街街道幸福社区3号"}


def test_the_file_fills_every_empty_field_it_knows_and_says_which():
    app = Application()
    applied = apply_data_sharing(app, {"veteran_file": FILE})
    a = app.applicant
    assert (a.political_status, a.education, a.discharge_date, a.placement_place) == (
        "中共党员", "大学专科", "2026-09-13", "河南省新乡市红旗区")
    assert app.hukou.pre_enlistment_address == FILE["pre_enlistment_address"]
    # the military medical insurance: from enlistment to the month of discharge
    assert (app.medical.transfer_from, app.medical.transfer_to) == ("2016-09", "2026-09")
    assert set(applied.from_file) == {
        "applicant.political_status", "applicant.education", "applicant.discharge_date", "applicant.placement_place",
        "hukou.pre_enlistment_address", "medical.transfer_from", "medical.transfer_to"}


def test_the_file_never_replaces_what_was_typed():
    app = Application()
    app.applicant.education = "高中"
    app.medical.transfer_to = "2026-08"
    applied = apply_data_sharing(app, {"veteran_file": FILE})
    assert app.applicant.education == "高中" and app.medical.transfer_to == "2026-08"
    assert "applicant.education" not in applied.from_file and "medical.transfer_to" not in applied.from_file


def test_a_file_not_found_fills_nothing_and_tells_the_clerk():
    app = Application()
    applied = apply_data_sharing(app, {"veteran_file": {"found": False}})
    assert not applied.from_file and app.applicant.discharge_date == ""
    assert any("未找到" in n for n in applied.notes)
    assert apply_data_sharing(Application(), {}).notes == []          # not asked: nothing to say
    elsewhere = {"found": False, "note": "该退役军人的档案由其他县（区）退役军人服务中心接收"}
    assert apply_data_sharing(Application(), {"veteran_file": elsewhere}).notes == [elsewhere["note"]]


def test_the_files_retirement_type():
    assert file_retirement_type({"veteran_file": FILE}) is RetirementType.DEMOBILIZED_OFFICER
    assert file_retirement_type({"veteran_file": {**FILE, "found": False}}) is None
    assert file_retirement_type({"veteran_file": {**FILE, "retirement_type": "general"}}) is None
    assert file_retirement_type({}) is None


@pytest.mark.parametrize("address, parts", [
    ("河南省新乡市获嘉县城关镇东街村128号", ("新乡市", "获嘉县", "城关镇", "东街村")),
    ("新乡市红旗区东街街道幸福社区", ("新乡市", "红旗区", "东街街道", "幸福社区")),
    ("河南省新乡市红旗区西街街道新华社区17号", ("新乡市", "红旗区", "西街街道", "新华社区")),
    ("河南省新乡市新乡县七里营镇", ("新乡市", "新乡县", "七里营镇", "")),
    # a street, a road named after a city, an estate: not a town or a village
    ("河南省新乡市红旗区胜利路示例小区3号楼2单元101室", ("新乡市", "红旗区", "", "")),
    ("河南省新乡市红旗区新乡大道1号", ("新乡市", "红旗区", "", "")),
    ("河南省新乡市红旗区人民路12号东村", ("新乡市", "红旗区", "", "")),
    ("北京市朝阳区建外街道", ("北京市", "朝阳区", "建外街道", "")),
    ("某地某路1号", ("", "", "", "")),
    ("", ("", "", "", "")),
])
def test_the_place_an_address_names(address, parts):
    assert place_parts(address) == parts
