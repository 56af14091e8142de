"""落户介绍信 and 预备役登记提醒, read back from the PDFs."""
from __future__ import annotations

import datetime as _dt

import pytest

from counter_app.case_number import CaseNumber
from printing.letters import RESERVE_MATERIALS, render_reserve_reminder, render_settlement_letter
from printing.result import PrintingError
from tests.printing.conftest import decode_codes, stream_text, variant


def test_settlement_letter_names_applicant_target_and_police_station(case):
    result = render_settlement_letter(case)
    text = stream_text(result.pdf)
    a, h = case["application"]["applicant"], case["application"]["hukou"]
    for value in ("落户介绍信", a["name"], a["id_number"], h["target_address"], h["police_station"] + "：",
                  "居民家庭户（投靠亲属入户，户主：林涛宇，与户主关系：配偶）", "2026年11月27日", case["case_no"],
                  "新乡市红旗区退役军人事务局（盖章）", "盖章处", "户口登记（退役军人恢复户口）"):
        assert value in text, value
    assert [c.text for c in decode_codes(result.pdf, 0)] == [CaseNumber.parse(case["case_no"]).compact]


def test_settlement_letter_for_a_collective_household_and_given_issuer(case):
    c = variant(case, application__hukou__household_type="collective", application__hukou__family_mode=None)
    text = stream_text(render_settlement_letter(c, issue_date=_dt.date(2026, 12, 1), issuer="卫辉市退役军人事务局").pdf)
    assert "户口类型：单位集体户" in text
    assert "卫辉市退役军人事务局（盖章）" in text and "2026年12月1日" in text


def test_settlement_letter_issuer_is_the_window_s_as_passed_in(case):
    assert "获嘉县退役军人事务局（盖章）" in stream_text(render_settlement_letter(case, issuer="获嘉县退役军人事务局").pdf)


def test_settlement_letter_refused_without_hukou_item(case):
    c = variant(case, application__items=[1, 2, 3])
    c["application"]["veteran_affairs"]["settlement_letter"] = False
    with pytest.raises(PrintingError, match="无需开具落户介绍信"):
        render_settlement_letter(c)


def test_settlement_letter_refused_without_police_station(case):
    with pytest.raises(PrintingError, match="拟落户地公安派出所"):
        render_settlement_letter(variant(case, application__hukou__police_station=""))


def test_settlement_letter_needs_a_case_number(case):
    with pytest.raises(PrintingError, match="办件编号"):
        render_settlement_letter(variant(case, case_no=""))


def test_reserve_reminder_lists_what_to_bring_where_and_the_offices_promise(case):
    text = stream_text(render_reserve_reminder(case).pdf)
    for m in RESERVE_MATERIALS:
        assert m in text
    # 规程 五(四)2 "应在申请人提出申请1个工作日内完成" binds the organ, from when the applicant comes:
    # a promise, never an order with a date (a Saturday after a Friday acceptance).
    assert "自您本人前往提出申请起1个工作日内完成预备役登记" in text
    assert "请于" not in text and "前本人前往办理" not in text
    assert "兵役登记介绍信（本中心已开具，已当面交给您）" in text
    assert "新乡市红旗区人民武装部（县级兵役机关）" in text
    assert case["application"]["applicant"]["name"] + "同志" in text


def test_reserve_reminder_uses_the_office_and_address_passed_in(case):
    text = stream_text(render_reserve_reminder(case, office="获嘉县人民武装部", office_address="获嘉县中山路8号").pdf)
    assert "获嘉县人民武装部（县级兵役机关）" in text and "获嘉县中山路8号" in text


def test_reserve_reminder_without_the_letter_recorded_warns(case):
    case["application"]["veteran_affairs"]["reserve_letter"] = ""
    result = render_reserve_reminder(case)
    assert "1个工作日内完成预备役登记" in stream_text(result.pdf)
    assert result.warnings == ["办件未记录兵役登记介绍信是否已交申请人。"]


def test_reserve_reminder_refused_without_item_11(case):
    with pytest.raises(PrintingError, match="预备役登记"):
        render_reserve_reminder(variant(case, application__items=[1, 4]))



def test_no_settlement_letter_to_a_police_station_outside_henan(case):
    """服务对象 "河南省内落户安置": a Henan county does not address a 落户介绍信 to 北京市公安局朝阳分局建外派出所."""
    beijing = variant(case, application__hukou__police_station="北京市公安局朝阳分局建外派出所",
                      application__hukou__police_station_division="")
    with pytest.raises(PrintingError, match="不在河南省内"):
        render_settlement_letter(beijing)
    assert "北站派出所" in stream_text(render_settlement_letter(case).pdf)
