"""服务对象, point by point: "当年度依法退出现役的河南省内落户安置的自主就业退役士兵、复员军官、逐月领取退役金退役军人"
(方案 三, 规程 一). Each row: the source's words, the application, the expected result."""
from __future__ import annotations

import json

import pytest

from counter_app.application import application_to_dict, parse_application
from counter_app.divisions import guess_division
from counter_app.rules import normalise, validate
from tests.core.builders import TODAY, valid_application

SOURCE = "当年度依法退出现役的河南省内落户安置的自主就业退役士兵、复员军官、逐月领取退役金退役军人"


def problems(app):
    return {(p.field, p.code): p for p in validate(app, today=TODAY)}


def blocking(app):
    return {k for k, p in problems(app).items() if p.blocking}


# (the source's words, changes to the valid application, the blocking problem expected or None)
ROWS = [
    ("当年度依法退出现役", {"applicant__discharge_date": "2026-09-05"}, None),
    ("当年度依法退出现役 (1 January counts)", {"applicant__discharge_date": "2026-01-01"}, None),
    ("当年度: no discharge date, no decision", {"applicant__discharge_date": ""},
     ("applicant.discharge_date", "required")),
    ("当年度: a discharge of an earlier year is refused", {"applicant__discharge_date": "2025-12-31"},
     ("applicant.discharge_date", "discharge_not_current_year")),
    ("依法退出现役: not in the future", {"applicant__discharge_date": "2026-12-25"},
     ("applicant.discharge_date", "future")),
    ("退出现役时间 must be a date", {"applicant__discharge_date": "2026年9月"},
     ("applicant.discharge_date", "date_format")),
    ("河南省内落户安置: a Henan county", {"applicant__placement_place": "河南省新乡市红旗区"}, None),
    ("河南省内落户安置: Beijing is refused", {"applicant__placement_place": "北京市朝阳区"},
     ("applicant.placement_division", "placement_outside_henan")),
    ("河南省内落户安置: a non-Henan code is refused", {"applicant__placement_division": "110105"},
     ("applicant.placement_division", "placement_outside_henan")),
    ("河南省内落户安置: a code that does not exist", {"applicant__placement_division": "419999"},
     ("applicant.placement_division", "division_unknown")),
    ("河南省内落户安置: a name that names no county needs the code", {"applicant__placement_place": "河南省"},
     ("applicant.placement_division", "division_required")),
    ("河南省内落户 (hukou): a Beijing police station is refused",
     {"hukou__police_station": "北京市公安局朝阳分局建外派出所"},
     ("hukou.police_station_division", "police_outside_henan")),
    ("河南省内落户 (hukou): a police station in another Henan county is fine",
     {"hukou__police_station": "郑州市公安局金水分局文化路派出所"}, None),
]


@pytest.mark.parametrize("words,changes,expected", ROWS, ids=[r[0] for r in ROWS])
def test_who_may_apply(words, changes, expected):
    found = {k for k in blocking(valid_application(**changes))
             if k[0].startswith(("applicant.discharge", "applicant.placement", "hukou.police"))}
    assert found == ({expected} if expected else set())


def test_an_earlier_year_refusal_says_what_the_applicant_can_do_instead():
    p = problems(valid_application(applicant__discharge_date="2025-10-01"))[
        ("applicant.discharge_date", "discharge_not_current_year")]
    assert "2025年" in p.message and "单独办理" in p.message and "审核负责人特批" in p.message


def test_a_beijing_placement_refusal_names_the_place_and_the_way_out():
    p = problems(valid_application(applicant__placement_place="北京市朝阳区"))[
        ("applicant.placement_division", "placement_outside_henan")]
    assert "北京市朝阳区" in p.message and "安置地所在省份" in p.message


def test_the_division_codes_are_filled_in_from_the_names():
    app = normalise(valid_application())
    assert app.applicant.placement_division == "410702"
    assert app.hukou.police_station_division == "410702"
    assert guess_division("北京市公安局朝阳分局建外派出所") == "110105"
    assert guess_division("辉县市公安局城关派出所") == "410782"


def test_an_override_turns_the_refusal_into_a_warning_but_never_for_a_police_station_outside_henan():
    from counter_app.application import EligibilityOverride

    ov = EligibilityOverride("sup1", "2025年12月退役，档案本年1月才转到", "2026-11-30T10:00:00+08:00")
    app = valid_application(applicant__discharge_date="2025-12-20", eligibility_override=ov)
    p = problems(app)[("applicant.discharge_date", "discharge_not_current_year")]
    assert not p.blocking and "sup1" in p.message and "档案本年1月才转到" in p.message
    app = valid_application(hukou__police_station="北京市公安局朝阳分局建外派出所", eligibility_override=ov)
    assert ("hukou.police_station_division", "police_outside_henan") in blocking(app)
    app = valid_application(applicant__discharge_date="2025-12-20",
                            eligibility_override=EligibilityOverride("sup1", "", ""))
    assert ("eligibility_override", "required") in blocking(app)


def test_the_discharge_date_travels_in_the_case_json():
    data = application_to_dict(valid_application(applicant__discharge_date="2026-03-10"))
    assert data["applicant"]["discharge_date"] == "2026-03-10"
    app, probs = parse_application(json.loads(json.dumps(data)))
    assert app.applicant.discharge_date == "2026-03-10" and probs == []


UNKNOWN_ROWS = [
    ("an unknown applicant field", lambda d: d["applicant"].update(discharge="2026-09-01"), "applicant.discharge"),
    ("an unknown top-level field", lambda d: d.update(remark="x"), "remark"),
    ("an unknown hukou field", lambda d: d["hukou"].update(station_code="410702"), "hukou.station_code"),
    ("an unknown material field", lambda d: d["materials"].append({"number": 3, "pages": 2}), "materials.pages"),
    ("an unknown case field", lambda d: None, "case_note"),
]


@pytest.mark.parametrize("name,change,field", UNKNOWN_ROWS, ids=[r[0] for r in UNKNOWN_ROWS])
def test_unknown_fields_are_errors_never_dropped(name, change, field):
    data = application_to_dict(valid_application())
    change(data)
    if field == "case_note":
        data = {"schema": "counter-app/case/v1", "case_note": "x", "application": data}
    _, probs = parse_application(data)
    assert [(p.field, p.code, p.blocking) for p in probs] == [(field, "unknown_field", True)]


def test_import_refuses_a_case_json_with_an_unknown_field(window):
    from counter_app.cases import Actor, CaseError

    data = application_to_dict(valid_application())
    data["applicant"]["discharge"] = "2026-09-01"
    with pytest.raises(CaseError, match="applicant.discharge"):
        window.cases.import_case(data, Actor("clerk01"))
    assert window.cases.count() == 0


def test_the_case_schema_documents_the_new_fields_and_refuses_unknown_ones():
    from pathlib import Path

    import jsonschema

    schema = json.loads((Path(__file__).resolve().parents[2] / "docs" / "case-schema.json").read_text("utf-8"))
    app_props = schema["properties"]["application"]["properties"]
    assert "discharge_date" in app_props["applicant"]["properties"]
    assert "police_station_division" in app_props["hukou"]["properties"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"schema": "counter-app/case/v1", "case_no": "x", "version": 1, "state": "draft",
                             "application": {}, "remark": 1}, schema)
