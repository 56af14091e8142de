"""Synthetic data the reference platform serves: the center's worklist and the 数据共享 answers.

Both are deterministic (seeded by the center and day, or by the ID number), so a demo or a test
sees the same applicants and the same verification answers every time it asks.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import random

from counter_app.application import application_to_dict
from counter_app.samples import BANKS, make_application
from counter_app.identity import normalise_id_number

WORKLIST_PER_DAY = 6


def _rng(*parts: str) -> random.Random:
    seed = hashlib.sha256("\x1f".join(parts).encode()).digest()[:8]
    return random.Random(int.from_bytes(seed, "big"))


def worklist_for(center_code: str, day: _dt.date, count: int = WORKLIST_PER_DAY) -> list[dict]:
    """Online applications approved by county VA that the center's windows should confirm on site."""
    rng = _rng("worklist", center_code, day.isoformat())
    out = []
    for i in range(1, count + 1):
        platform_id = f"YSB{center_code}{day:%Y%m%d}{i:03d}"
        app = make_application(rng, today=day)
        app.source = "online"
        app.online_application_id = platform_id
        approved_on = day - _dt.timedelta(days=rng.randint(0, 3))
        uploaded = sorted(rng.sample([2, 3, 4, 5], k=rng.randint(2, 4)))
        out.append({
            "platform_id": platform_id,
            "center_code": center_code,
            "applied_on": (approved_on - _dt.timedelta(days=rng.randint(1, 3))).isoformat(),
            "approved_on": approved_on.isoformat(),
            "approved_by": "县（区）退役军人事务局",
            "visit_before": (approved_on + _dt.timedelta(days=15)).isoformat(),
            "uploaded_materials": uploaded,
            "application": application_to_dict(app),
        })
    return out


def _luhn_complete(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return body + str((10 - total % 10) % 10)


def data_sharing_answers(id_number: str, checks: list[str], now: _dt.datetime, *, center_code: str | None = None) -> dict:
    """What shared government data says about this person (数据共享校验); the veteran's file as
    ``center_code``'s window may see it (``veteran_file``)."""
    number = normalise_id_number(id_number)
    rng = _rng("data-sharing", number)
    henan = number[:2] == "41" and rng.random() < 0.92
    cancelled = rng.random() < 0.85
    has_property = rng.random() < 0.4
    has_card = rng.random() < 0.75
    checked_at = now.isoformat(timespec="seconds")
    out: dict[str, dict] = {}
    if "henan_hukou_before_enlistment" in checks:
        out["henan_hukou_before_enlistment"] = {"verified": True, "value": henan, "source": "河南省公安厅人口信息库",
                                                "checked_at": checked_at}
    if "hukou_cancelled" in checks:
        # Only Henan's own register can confirm a cancellation in Henan.
        out["hukou_cancelled"] = ({"verified": True, "value": cancelled, "source": "河南省公安厅人口信息库",
                                   "checked_at": checked_at} if henan else
                                  {"verified": False, "value": None, "source": "河南省公安厅人口信息库",
                                   "checked_at": checked_at, "note": "入伍前非河南户籍，无法通过数据共享核验，请提供户口注销证明。"})
    if "property_record" in checks:
        out["property_record"] = {"verified": True, "found": has_property, "checked_at": checked_at,
                                  "source": "河南省不动产登记信息平台",
                                  "certificate_no": (f"豫（{now.year - rng.randint(1, 10)}）不动产权第{rng.randint(1000000, 9999999)}号"
                                                     if has_property else None)}
    if "social_security_bank_account" in checks:
        bank = rng.choice(BANKS)
        account = _luhn_complete("621" + "".join(str(rng.randint(0, 9)) for _ in range(15))) if has_card else None
        out["social_security_bank_account"] = {"verified": True, "found": has_card, "checked_at": checked_at,
                                               "source": "河南省人力资源和社会保障厅社保卡信息库",
                                               "bank_name": bank if has_card else None, "account": account}
    if "veteran_file" in checks:
        out["veteran_file"] = veteran_file(number, now, center_code=center_code)
    return out


def veteran_file(number: str, now: _dt.datetime, *, center_code: str | None = None) -> dict:
    """What the veteran's file (档案) says, as the county center entered it when it received the
    file (scheme, flow step 1). Most veterans' files have arrived; some have not yet. The file is
    the receiving center's: another center's window (``center_code``) is told only that it is
    held elsewhere. The synthetic file is received where the veteran enlisted from (the county of
    the ID number), which is where they are placed."""
    from counter_app.divisions import division
    from counter_app.samples import TOWNS, VILLAGES
    from counter_app.scheme import EDUCATION_LEVELS, POLITICAL_STATUSES, RetirementType

    rng = _rng("veteran-file", number)
    checked_at = now.isoformat(timespec="seconds")
    home = division(number[:6])
    if rng.random() < 0.06 or home is None or not home.in_henan:
        return {"found": False, "source": "退役军人事务部门（档案）", "checked_at": checked_at}
    if center_code is not None and center_code != home.code:
        return {"found": False, "source": "退役军人事务部门（档案）", "checked_at": checked_at,
                "note": "该退役军人的档案由其他县（区）退役军人服务中心接收，本窗口不能查看；请按退出现役证件等材料填写。"}
    birth = _dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    today = now.date()
    autumn = rng.random() < 0.7
    enlisted = _dt.date(min(birth.year + rng.randint(18, 22), today.year - 2), 9 if autumn else 3, 1)
    # discharged this year: autumn discharges in September, spring ones in March (as the samples)
    discharge = min(today, _dt.date(today.year, 9 if today.month >= 9 else 3, birth.day % 15 + 1))
    political = rng.choices(["中共党员", "中共预备党员", "共青团员", "群众"], weights=[4, 1, 4, 1])[0]
    education = rng.choices(["高中", "大学专科", "大学本科", "中等专科"], weights=[4, 3, 2, 1])[0]
    assert political in POLITICAL_STATUSES and education in EDUCATION_LEVELS   # the form's words
    rtype = rng.choices(list(RetirementType), weights=[8, 1, 1])[0]
    out = {"found": True, "source": "退役军人事务部门（档案）", "checked_at": checked_at,
           "retirement_type": rtype.value, "enlisted_on": f"{enlisted:%Y-%m}", "discharge_date": discharge.isoformat(),
           "political_status": political, "education": education}
    out["placement_place"] = home.full_name      # 服务对象: placed in Henan, where they enlisted from
    out["pre_enlistment_address"] = f"{home.full_name}{rng.choice(TOWNS)}{rng.choice(VILLAGES)}{rng.randint(1, 99)}号"
    return out
