"""Who may apply (服务对象), and the supervisor's override.

Source (方案 三, 规程 一): "当年度依法退出现役的河南省内落户安置的自主就业退役士兵、复员军官、逐月领取退役金退役军人".
Read here as three tests: the 退出现役时间 on the 退出现役证件 lies in the calendar year of the
application; the placement county is a Henan division (41xxxx); the police station that restores the
hukou (item 4) belongs to a Henan county. The retirement type is checked by ``rules``.

The same text says "根据退役军人实际需求，结合我省实际，适时扩大…联办范围", so a refusal of the first two
tests is not a dead end: a supervisor may serve the applicant anyway, with a recorded reason
(:func:`grant_override`, an audit entry checked again at finalize). A police station outside Henan is
never overridden: the 落户介绍信 of a Henan county and the platform's push reach Henan police only.
"""
from __future__ import annotations

import datetime as _dt
import hashlib

from counter_app.application import Application, EligibilityOverride, parse_date
from counter_app.divisions import division, guess_division, province_of
from counter_app.problems import Problem

# Problem codes a supervisor's override turns into warnings.
OVERRIDABLE = frozenset({"discharge_not_current_year", "placement_outside_henan"})

ALTERNATIVES = ("各事项仍可由申请人分别到退役军人事务部门、公安派出所、人力资源社会保障部门、医疗保障部门和"
                "人民武装部单独办理")


def reference_year(app: Application, today: _dt.date) -> int:
    """"当年度" is the year of the application (申请日期), else of today."""
    day = parse_date(app.application_date)
    return (day or today).year


def placement_code(app: Application) -> str:
    return app.applicant.placement_division or guess_division(app.applicant.placement_place) or ""


def police_code(app: Application) -> str:
    return app.hukou.police_station_division or guess_division(app.hukou.police_station) or ""


def fill_divisions(app: Application) -> None:
    """Store the division codes the names point at, so the clerk sees (and can correct) them."""
    if not app.applicant.placement_division:
        app.applicant.placement_division = guess_division(app.applicant.placement_place) or ""
    if app.has_item(4) and not app.hukou.police_station_division:
        app.hukou.police_station_division = guess_division(app.hukou.police_station) or ""


def _division_problems(code: str, given: str, name: str, field: str, label: str, refusal: str,
                       refusal_message: str) -> list[Problem]:
    if given and division(given) is None:
        return [Problem(field, "division_unknown",
                        f"{label}的行政区划代码“{given}”不是现行的县级代码（6位数字，如新乡市红旗区为410702），请核对。")]
    if not code:
        if province_of(name) not in (None, "41"):
            return [Problem(field, refusal, refusal_message)]
        return [Problem(field, "division_required",
                        f"无法从“{name or '（未填写）'}”确定{label}所在县（市、区），请填写其行政区划代码"
                        "（6位数字，如新乡市红旗区为410702）。")]
    if not code.startswith("41"):
        return [Problem(field, refusal, refusal_message)]
    return []


def eligibility_problems(app: Application, today: _dt.date) -> list[Problem]:
    """The 服务对象 tests; refusals say what the applicant can do instead."""
    out: list[Problem] = []
    a = app.applicant
    year = reference_year(app, today)
    if not a.discharge_date:
        out.append(Problem("applicant.discharge_date", "required", "请填写退出现役时间（见退出现役证件）。"))
    else:
        day = parse_date(a.discharge_date)
        if day is None:
            out.append(Problem("applicant.discharge_date", "date_format", "退出现役时间格式应为 年-月-日，如 2026-09-01。"))
        elif day > today:
            out.append(Problem("applicant.discharge_date", "future", "退出现役时间不能晚于今天，请核对退出现役证件。"))
        elif day.year < year:
            out.append(Problem(
                "applicant.discharge_date", "discharge_not_current_year",
                f"退出现役时间为{day.year}年，不属于“一件事”服务对象（{year}年度依法退出现役的退役军人），不能按联办受理。"
                f"{ALTERNATIVES}；确因实际需要纳入联办的，请审核负责人特批并记录理由。"))
    pcode = placement_code(app)
    pdiv = division(pcode)
    out += _division_problems(
        pcode, a.placement_division, a.placement_place, "applicant.placement_division", "拟安置地",
        "placement_outside_henan",
        f"拟安置地（{pdiv.full_name if pdiv else a.placement_place}）不在河南省内，不属于“一件事”服务对象"
        "（河南省内落户安置）。请告知申请人到安置地所在省份的退役军人服务中心办理；"
        "确因实际需要在本省联办的，请审核负责人特批并记录理由。")
    if app.has_item(4) and app.hukou.police_station:
        h = app.hukou
        ccode = police_code(app)
        cdiv = division(ccode)
        out += _division_problems(
            ccode, h.police_station_division, h.police_station, "hukou.police_station_division", "拟落户地公安派出所",
            "police_outside_henan",
            f"拟落户地公安派出所（{h.police_station}，{cdiv.full_name if cdiv else '省外'}）不在河南省内："
            "本中心开具的《落户介绍信》和平台推送只能送达省内公安机关。请核对派出所及其所在县（市、区）；"
            "确在省外落户的，请取消“户口登记（退役军人恢复户口）”，由申请人到落户地公安机关办理。")
    ov = app.eligibility_override
    if ov is not None:
        if not (ov.reason.strip() and ov.supervisor.strip()):
            out.append(Problem("eligibility_override", "required", "主管特批须记录审核负责人和理由。"))
            return out
        granted = []
        for p in out:
            if p.code in OVERRIDABLE:
                granted.append(Problem(p.field, p.code, f"{p.message}（已由审核负责人{ov.supervisor}特批：{ov.reason}）",
                                       "warning"))
            else:
                granted.append(p)
        out = granted
    return out


def override_digest(case_id: str, ov: EligibilityOverride) -> str:
    """What the audit entry binds: this case, this supervisor, this reason."""
    return hashlib.sha256(f"{case_id}\n{ov.supervisor}\n{ov.reason}".encode("utf-8")).hexdigest()
