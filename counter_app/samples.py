"""Realistic synthetic applicants for demos, the UI and benchmarks.

Names, addresses and ID numbers are invented but valid in form: Henan county codes,
plausible birth dates for veterans discharged this year, correct check digits.
A seeded ``random.Random`` makes every run reproducible.
"""
from __future__ import annotations

import datetime as _dt
import random
from typing import Iterator

from stdnum.cn import ric

from counter_app.identity import check_id_number
from counter_app.application import (
    Applicant, Application, DataSharing, Hukou, Medical, Pension, VeteranAffairs,
)
from counter_app.scheme import (
    FamilyMode, HouseholdType, IdDocument, Intention, MedicalChoice, PensionChoice, RetirementType,
)

# (division code, city, county) — real Henan county-level divisions.
HENAN_COUNTIES = [
    ("410702", "新乡市", "红旗区"), ("410703", "新乡市", "卫滨区"), ("410704", "新乡市", "凤泉区"),
    ("410711", "新乡市", "牧野区"), ("410721", "新乡市", "新乡县"), ("410724", "新乡市", "获嘉县"),
    ("410725", "新乡市", "原阳县"), ("410726", "新乡市", "延津县"), ("410727", "新乡市", "封丘县"),
    ("410781", "新乡市", "卫辉市"), ("410782", "新乡市", "辉县市"), ("410783", "新乡市", "长垣市"),
    ("410102", "郑州市", "中原区"), ("410105", "郑州市", "金水区"), ("410122", "郑州市", "中牟县"),
    ("410302", "洛阳市", "老城区"), ("410323", "洛阳市", "新安县"), ("410502", "安阳市", "文峰区"),
    ("411102", "漯河市", "源汇区"), ("411302", "南阳市", "宛城区"), ("411502", "信阳市", "浉河区"),
    ("410802", "焦作市", "解放区"), ("410902", "濮阳市", "华龙区"), ("411002", "许昌市", "魏都区"),
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
GIVEN_M = "伟强军磊勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帅亮成龙旭东志峰林阳博文彬"
GIVEN_F = "芳娜敏静丽艳娟霞燕玲婷雪慧莹晶琳洁颖倩雯"
ETHNICITIES = ["汉"] * 40 + ["回", "满", "蒙古"]
STREETS = ["人民路", "平原路", "和平大道", "金穗大道", "胜利路", "解放大道", "健康路", "新中大道", "自由路", "劳动路"]
TOWNS = ["城关镇", "东关街道", "西街街道", "南关街道", "北站街道", "洪门镇", "小店镇"]
VILLAGES = ["东村", "西村", "前进社区", "幸福社区", "王庄村", "李庄村", "新华社区"]
BANKS = ["中国工商银行新乡分行", "中国农业银行新乡分行", "中国建设银行新乡分行", "中国银行新乡分行", "中原银行新乡分行",
         "河南农信"]
POLITICAL = ["中共党员", "中共预备党员", "共青团员", "群众"]
EDUCATION = ["高中", "中专", "大专", "本科", "硕士研究生"]
MARITAL = ["未婚", "已婚", "未婚", "已婚", "离婚"]
RELATIONS = ["父亲", "母亲", "配偶", "兄弟", "姐妹"]


def make_id_number(rng: random.Random, region: str, birth: _dt.date, male: bool) -> str:
    """A valid number; when ``region`` did not exist in the birth year (division codes change),
    another Henan county that did is used, as the real registration would have."""
    seq = rng.randrange(0, 100) * 10 + (rng.choice([1, 3, 5, 7, 9]) if male else rng.choice([0, 2, 4, 6, 8]))
    for code in [region] + [c for c, _, _ in HENAN_COUNTIES]:
        body = f"{code}{birth:%Y%m%d}{seq:03d}"
        number = body + ric.calc_check_digit(body + "0")
        if check_id_number(number).ok:
            return number
    raise RuntimeError("no valid division code for this birth year")  # a bug in the table


def make_name(rng: random.Random, male: bool) -> str:
    pool = GIVEN_M if male else GIVEN_F
    given = rng.choice(pool) + (rng.choice(pool) if rng.random() < 0.6 else "")
    return rng.choice(SURNAMES) + given


def make_phone(rng: random.Random) -> str:
    return rng.choice(["138", "139", "150", "151", "157", "186", "187", "133", "177", "199"]) + f"{rng.randrange(10**8):08d}"


def make_application(rng: random.Random, *, today: _dt.date | None = None, complete: bool = True) -> Application:
    today = today or _dt.date.today()
    male = rng.random() < 0.9
    code, city, county = rng.choice(HENAN_COUNTIES)
    age = rng.randint(20, 45)
    birth = _dt.date(today.year - age, rng.randint(1, 12), rng.randint(1, 28))
    rtype = rng.choices(list(RetirementType), weights=[8, 1, 1])[0]
    id_number = make_id_number(rng, code, birth, male)
    address = f"河南省{city}{county}{rng.choice(STREETS)}{rng.randint(1, 300)}号{rng.randint(1, 20)}号楼{rng.randint(1, 6)}单元{rng.randint(101, 2802)}"
    items = [1, 4, 5, 6, 7, 8, 9, 10, 11]
    if rtype == RetirementType.SELF_EMPLOYED:
        items += [2, 3]
    if rng.random() < 0.3:
        items = sorted(rng.sample(items, k=rng.randint(1, len(items))))
        if 1 not in items:
            items.append(1)
    items = sorted(set(items))
    family = rng.random() < 0.8
    join = rng.random() < 0.7
    head_male = rng.random() < 0.6
    # 服务对象: discharged this year (autumn discharges in September, spring ones in March).
    # (Derived from values already drawn, so the random sequence of older samples is unchanged.)
    discharge = min(today, _dt.date(today.year, 9 if today.month >= 9 else 3, birth.day % 15 + 1))
    head_birth = _dt.date(today.year - rng.randint(45, 70), rng.randint(1, 12), rng.randint(1, 28))
    app = Application(
        items=items,
        retirement_type=rtype,
        applicant=Applicant(
            name=make_name(rng, male), sex="男" if male else "女", birth_date=birth.isoformat(),
            ethnicity=rng.choice(ETHNICITIES), id_number=id_number,
            id_document=IdDocument.MILITARY_REGISTRATION if rng.random() < 0.4 else IdDocument.RESIDENT_ID_CARD,
            political_status=rng.choice(POLITICAL), education=rng.choice(EDUCATION),
            marital_status=rng.choice(MARITAL), phone=make_phone(rng),
            backup_contact=make_name(rng, rng.random() < 0.5), backup_relation=rng.choice(RELATIONS),
            backup_phone=make_phone(rng), placement_place=f"河南省{city}{county}", current_address=address,
            discharge_date=discharge.isoformat(), placement_division=code,
        ),
        data_sharing=DataSharing(henan_hukou_before_enlistment=rng.random() < 0.9,
                                 hukou_cancelled=rng.random() < 0.8, property_verified=None),
        veteran_affairs=VeteranAffairs(
            intention=rng.choice(list(Intention)) if 3 in items else None,
            settlement_letter=4 in items),
        hukou=Hukou(
            pre_enlistment_address=f"河南省{city}{county}{rng.choice(TOWNS)}{rng.choice(VILLAGES)}{rng.randint(1, 99)}号",
            household_type=(HouseholdType.FAMILY if family else HouseholdType.COLLECTIVE) if 4 in items else None,
            family_mode=(FamilyMode.JOIN_RELATIVE if join else FamilyMode.NEW_HOUSEHOLD) if 4 in items and family else None,
            relation_to_head=rng.choice(["父亲", "母亲", "配偶"]) if 4 in items and family and join else "",
            head_name=make_name(rng, head_male) if 4 in items and family and join else "",
            head_id_number=make_id_number(rng, code, head_birth, head_male) if 4 in items and family and join else "",
            head_phone=make_phone(rng) if 4 in items and family and join else "",
            property_info=(f"不动产权第{rng.randint(1000000, 9999999)}号" if 4 in items and family and not join else ""),
            target_address=address if 4 in items else "",
            police_station=f"{city}公安局{county}分局{rng.choice(TOWNS).replace('镇', '').replace('街道', '')}派出所" if 4 in items else "",
            restore_elsewhere=rng.random() < 0.2 if 4 in items else False,
        ),
        pension=Pension(
            choice=rng.choice(list(PensionChoice)) if 6 in items else None,
            card_bank=rng.choice(BANKS) if 8 in items else "",
            card_mailing_address=address if 8 in items else "",
        ),
        medical=Medical(
            choice=(rng.choice(list(MedicalChoice)) if 9 in items else None),
            transfer_from=f"{today.year - rng.randint(2, 16)}-{rng.randint(1, 12):02d}" if 10 in items else "",
            transfer_to=f"{today.year}-{max(1, today.month - 1):02d}" if 10 in items else "",
        ),
        application_date=today.isoformat(),
    )
    m = app.medical
    if m.choice == MedicalChoice.EMPLOYEE_FLEXIBLE:
        m.flexible_city, m.flexible_county = city, county
    elif m.choice == MedicalChoice.URBAN_RURAL:
        m.insured_city, m.insured_county = city, county
        m.insured_town, m.insured_village = rng.choice(TOWNS), rng.choice(VILLAGES)
    return app


def applicants(count: int, seed: int = 2026, today: _dt.date | None = None) -> Iterator[Application]:
    rng = random.Random(seed)
    for _ in range(count):
        yield make_application(rng, today=today)
