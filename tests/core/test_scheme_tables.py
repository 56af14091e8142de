"""The scheme's own tables (shared/spec/scheme.md), row by row."""
from __future__ import annotations

import pytest

from counter_app.scheme import CASE_DEADLINE_WD, FORM_ITEM_ORDER, ITEMS, MATERIALS, Department, RetirementType

# (item, title as in the source, department, working days, waits for)
ITEM_ROWS = [
    (1, "退役报到", Department.VA, 1, ()),
    (2, "自主就业一次性经济补助金的给付", Department.VA, 1, ()),
    (3, "自主就业职业技能培训和就业创业指导", Department.VA, 1, ()),
    (4, "户口登记（退役军人恢复户口）", Department.PS, 10, (1,)),
    (5, "居民身份证申领", Department.PS, 0, (4,)),
    (6, "社会保险登记", Department.HRSS, 2, (4,)),
    (7, "军地养老保险关系转移接续", Department.HRSS, None, ()),
    (8, "社会保障卡（含电子社保卡）申领", Department.HRSS, 2, (4,)),
    (9, "基本医疗保险参保和变更登记", Department.MI, 5, (4,)),
    (10, "基本医疗保险关系转移接续", Department.MI, 5, (4,)),
    (11, "预备役登记", Department.PAFD, 1, ()),
]


@pytest.mark.parametrize("number,title,dept,wd,after", ITEM_ROWS)
def test_item_row(number, title, dept, wd, after):
    item = ITEMS[number]
    assert (item.title, item.department, item.deadline_wd, item.after) == (title, dept, wd, after)


def test_exempt_items_and_card_making():
    assert {n for n, i in ITEMS.items() if i.exempt_application} == {2, 7}  # 免申即享
    assert ITEMS[8].excluded_wd == 7 and CASE_DEADLINE_WD == 18
    assert {n for n, i in ITEMS.items() if i.only_for} == {2, 3}
    assert all(i.only_for == (RetirementType.SELF_EMPLOYED,) for i in ITEMS.values() if i.only_for)


def test_form_prints_the_items_in_the_source_order():
    assert FORM_ITEM_ORDER == (1, 2, 3, 4, 5, 6, 8, 7, 9, 10, 11)
    assert sorted(FORM_ITEM_ORDER) == list(range(1, 12))


MATERIAL_TITLES = {
    1: "河南省退役军人服务“一件事”联办申请表", 2: "居民身份证或军人公民身份号码登记表", 3: "退出现役证件",
    4: "退出现役行政介绍信", 5: "军人退役医疗保险个人账户转移凭证", 6: "户口注销证明", 7: "居民户口簿",
    8: "拟落家庭户户主的居民身份证", 9: "亲属关系证明", 10: "房屋产权证明", 11: "单位同意落户意见",
    12: "白底一寸免冠照片电子版",
}


@pytest.mark.parametrize("number,title", MATERIAL_TITLES.items())
def test_material_row(number, title):
    assert MATERIALS[number].title == title and MATERIALS[number].condition


def test_department_titles():
    assert [d.title for d in Department] == ["退役军人事务部门", "公安部门", "人力资源社会保障部门", "医疗保障部门",
                                             "人民武装部（县级兵役机关）"]


def test_equal_valued_options_keep_their_own_titles():
    from counter_app.scheme import CHOICE_TITLES, MedicalChoice, PensionChoice

    assert PensionChoice.URBAN_RURAL == MedicalChoice.URBAN_RURAL  # both "urban_rural": the trap
    assert CHOICE_TITLES[PensionChoice.URBAN_RURAL] == "城乡居民养老保险参保登记"
    assert CHOICE_TITLES[MedicalChoice.URBAN_RURAL] == "城乡居民医保参保登记"
    assert PensionChoice.URBAN_RURAL.title != MedicalChoice.URBAN_RURAL.title
