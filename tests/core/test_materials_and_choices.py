"""Materials and choices, point by point against the source (规程 五(二), 附件1): the source's words,
the application, the expected result."""
from __future__ import annotations

import pytest

from counter_app.rules import chosen_only, normalise, required_material_numbers, required_materials, validate
from counter_app.scheme import FamilyMode, HouseholdType, MedicalChoice, PensionChoice, RetirementType
from tests.core.builders import TODAY, valid_application

NEW = {"hukou__family_mode": FamilyMode.NEW_HOUSEHOLD, "hukou__property_info": "不动产权第1234567号"}

# (the source's words, changes, material, required?)
MATERIAL_ROWS = [
    ("7 居民户口簿（落家庭户提供）: joining a relative's household", {}, 7, True),
    ("7 居民户口簿: a 新立户 has no household book yet", NEW, 7, False),
    ("8 拟落家庭户户主的居民身份证: joining a relative's household", {}, 8, True),
    ("8 户主的居民身份证: a 新立户 has no head yet", NEW, 8, False),
    ("10 房屋产权证明（新立户提供）", NEW, 10, True),
    ("9 亲属关系证明: elsewhere into a brother's household is not a 直系亲属家庭户",
     {"hukou__restore_elsewhere": True, "hukou__relation_to_head": "兄弟"}, 9, False),
    ("9 亲属关系证明: 爷爷 is a 直系亲属 (祖父)",
     {"hukou__restore_elsewhere": True, "hukou__relation_to_head": "爷爷"}, 9, True),
    ("9 亲属关系证明: 姥姥 is a 直系亲属 (外祖母)",
     {"hukou__restore_elsewhere": True, "hukou__relation_to_head": "姥姥"}, 9, True),
    ("9 亲属关系证明: 外孙女 is a 直系亲属",
     {"hukou__restore_elsewhere": True, "hukou__relation_to_head": "外孙女"}, 9, True),
    ("9 亲属关系证明: spouse",
     {"hukou__restore_elsewhere": True, "hukou__relation_to_head": "配偶"}, 9, True),
    ("9 亲属关系证明: 父母", {"hukou__restore_elsewhere": True, "hukou__relation_to_head": "母亲"}, 9, True),
    ("9 亲属关系证明: 子女", {"hukou__restore_elsewhere": True, "hukou__relation_to_head": "儿子"}, 9, True),
    ("9 亲属关系证明: 孙子女", {"hukou__restore_elsewhere": True, "hukou__relation_to_head": "孙女"}, 9, True),
    ("9 not where the hukou was cancelled (原户口注销地)",
     {"hukou__restore_elsewhere": False, "hukou__relation_to_head": "祖父"}, 9, False),
]


@pytest.mark.parametrize("words,changes,material,required", MATERIAL_ROWS, ids=[r[0] for r in MATERIAL_ROWS])
def test_materials_as_the_source_asks(words, changes, material, required):
    assert (material in required_material_numbers(valid_application(**changes))) is required


def test_material_9_reason_names_the_relation_and_no_warning_contradicts_it():
    app = valid_application(hukou__restore_elsewhere=True, hukou__relation_to_head="爷爷")
    reason = next(m.reason for m in required_materials(app) if m.number == 9)
    assert "直系亲属" in reason and "爷爷" in reason
    for relation in ("爷爷", "兄弟"):
        app = valid_application(hukou__restore_elsewhere=True, hukou__relation_to_head=relation)
        assert not [p for p in validate(app, today=TODAY) if p.field == "hukou.relation_to_head"]


# (the source's words, items chosen, where the choice lives, what the finalized case keeps)
CHOICE_ROWS = [
    ("户口类型 only with 户口登记 (4)", [1, 2, 3, 11], lambda a: a.hukou.household_type, None),
    ("投靠亲属入户 only with 4", [1, 2, 3, 11], lambda a: a.hukou.family_mode, None),
    ("户主姓名 only with 4", [1, 2, 3, 11], lambda a: a.hukou.head_name, ""),
    ("入伍前户籍地址 is asked of everyone", [1, 2, 3, 11], lambda a: a.hukou.pre_enlistment_address,
     "河南省新乡市红旗区东关街道幸福社区12号"),
    ("灵活就业养老保险 only with 社会保险登记 (6)", [1, 2, 3, 11], lambda a: a.pension.choice, None),
    ("城乡居民医保 only with 9", [1, 2, 3, 11], lambda a: a.medical.choice, None),
    ("参保地 only with 9", [1, 2, 3, 11], lambda a: a.medical.insured_village, ""),
    ("缴费起止时间 only with 10", [1, 2, 3, 11], lambda a: a.medical.transfer_from, ""),
    ("发卡银行 only with 8", [1, 2, 3, 11], lambda a: a.pension.card_bank, ""),
    ("意向 only with 3", [1, 4, 11], lambda a: a.veteran_affairs.intention, None),
    ("a chosen item keeps its choice", [1, 4, 6, 9], lambda a: a.pension.choice, PensionChoice.FLEXIBLE),
    ("a chosen item keeps its choice (医保)", [1, 4, 6, 9], lambda a: a.medical.choice, MedicalChoice.URBAN_RURAL),
]


@pytest.mark.parametrize("words,items,get,kept", CHOICE_ROWS, ids=[r[0] for r in CHOICE_ROWS])
def test_only_chosen_items_choices_are_kept(words, items, get, kept):
    assert get(chosen_only(valid_application(items=items))) == kept


def test_the_draft_keeps_what_was_typed_for_an_unticked_item():
    app = valid_application(items=[1, 2, 3, 11])
    chosen_only(app)
    assert app.pension.choice == PensionChoice.FLEXIBLE and app.hukou.head_name


# 免申即享: "自主就业一次性经济补助金的给付（免申即享）", "军地养老保险关系转移接续（免申即享）"
EXEMPT_ROWS = [
    ("self-employed soldier gets 2 and 7", RetirementType.SELF_EMPLOYED, [1, 4], {2, 7}),
    ("demobilized officer gets 7 (2 is only for 自主就业退役士兵)", RetirementType.DEMOBILIZED_OFFICER, [1, 4], {7}),
    ("monthly pension veteran gets 7", RetirementType.MONTHLY_PENSION, [1], {7}),
]


@pytest.mark.parametrize("words,rtype,items,added", EXEMPT_ROWS, ids=[r[0] for r in EXEMPT_ROWS])
def test_exempt_items_are_included_automatically(words, rtype, items, added):
    app = normalise(valid_application(retirement_type=rtype, items=items))
    assert set(app.items) == set(items) | added


# The form's limits: a 648-character address fails at rules check, not at form render.
LIMIT_ROWS = [
    ("现居住地址", "applicant.current_address", {"applicant__current_address": "河南省新乡市红旗区" + "长" * 639}),
    ("拟申请落户地址", "hukou.target_address", {"hukou__target_address": "河" * 81}),
    ("拟落户地公安派出所", "hukou.police_station", {"hukou__police_station": "新乡市公安局红旗区分局" + "东" * 40}),
    ("社保卡邮寄送达地址", "pension.card_mailing_address", {"pension__card_mailing_address": "址" * 81}),
    ("拟安置地", "applicant.placement_place", {"applicant__placement_place": "河南省新乡市红旗区" + "区" * 40}),
]


@pytest.mark.parametrize("label,field,changes", LIMIT_ROWS, ids=[r[0] for r in LIMIT_ROWS])
def test_validation_knows_the_forms_field_limits(label, field, changes):
    probs = [p for p in validate(valid_application(**changes), today=TODAY) if p.field == field and p.code == "too_long"]
    assert len(probs) == 1 and probs[0].blocking and label in probs[0].message


def test_materials_for_a_new_household_ask_for_the_property_proof_not_the_head():
    app = valid_application(**NEW)
    nums = required_material_numbers(app)
    assert 10 in nums and not {7, 8, 9} & nums
    assert [p for p in validate(app, today=TODAY) if p.blocking] == []


def test_collective_household_needs_only_the_unit_consent():
    app = valid_application(hukou__household_type=HouseholdType.COLLECTIVE, hukou__family_mode=None)
    assert {7, 8, 9, 10, 11} & required_material_numbers(app) == {11}
