"""每日受理报表: counts per window and clerk, SLA, ratings, charts, page numbers, masking."""
from __future__ import annotations

import datetime as _dt

import numpy as np

from counter_app.case_number import CaseNumber
from counter_app.cases import CaseSummary
from counter_app.lifecycle import CaseState
from printing.report import DailyReportData, ReportCase, item_ranges, mask_name, render_daily_report
from printing.samples import daily_report_data
from tests.printing.conftest import page_count, page_texts, render_rgb, stream_text

DAY = _dt.date(2026, 11, 27)
PRINTED = _dt.datetime(2026, 11, 27, 17, 30)


def _no(window: str, seq: int) -> str:
    return str(CaseNumber("410702", window, DAY, seq))


def _case(no, name, clerk, items, rt, state, synced, sla, rating, window="01"):
    return ReportCase(no, name, clerk, items, rt, state, synced, sla, rating, window)


SMALL = [
    _case(_no("01", 1), "张*军", "李晓燕", [1, 4, 11], "self_employed", "queued", False, "on_time", None),
    _case(_no("01", 2), "王*", "李晓燕", [1, 2, 8], "self_employed", "acknowledged", True, "at_risk",
          "非常满意"),
    _case(_no("01", 3), "欧**明", "王建军", [4, 5], "demobilized_officer", "in_progress", True,
          "overdue", "满意"),
    _case(_no("02", 1), "赵三丰", "赵敏", [9, 10], "monthly_pension", "completed", True, "done",
          "非常不满意", window="02"),
]


def _report(cases, window_no=None):
    data = DailyReportData(day=DAY, center="新乡市红旗区退役军人服务中心", operator="周建华", printed_at=PRINTED,
                           cases=cases, window_no=window_no, center_code="410702")
    return render_daily_report(data)


def test_summary_counts_synced_waiting_risk_and_overdue():
    text = stream_text(_report(SMALL).pdf)
    assert "受理件数4已上报平台3（75.0%）待上报1" in text
    assert "临近时限1已超时1已评价3（75.0%）" in text


def test_per_window_and_clerk_rows():
    text = stream_text(_report(SMALL).pdf)
    # window, clerk, accepted, synced, waiting, at risk, overdue, 3 retirement types, rated
    assert "01李晓燕211102001" in text
    assert "01王建军110010101" in text
    assert "02赵敏110000011" in text
    assert "合计431112113" in text


def test_counts_by_item_per_clerk():
    text = stream_text(_report(SMALL).pdf)
    assert "01李晓燕" + "21010001001" in text      # items 1..11 for 李晓燕
    assert "合计" + "21021001111" in text


def test_retirement_type_status_and_rating_distribution():
    text = stream_text(_report(SMALL).pdf)
    assert "自主就业退役士兵250.0%待上报125.0%" in text
    assert "非常满意133.3%满意133.3%基本满意00.0%" in text
    assert "非常不满意133.3%未评价1—" in text


def test_names_are_masked_even_if_given_unmasked():
    text = stream_text(_report(SMALL).pdf)
    assert "赵三丰" not in text and "赵*丰" in text
    assert "欧**明" in text and "王*" in text
    assert mask_name("张三") == "张*" and mask_name("张*军") == "张*军"


def test_charts_are_drawn():
    result = render_daily_report(daily_report_data(60))
    text = stream_text(result.pdf)
    assert "各联办事项受理件数" in text and "好差评分布（件）" in text
    img = render_rgb(result.pdf, 0, 72).astype(int)
    bar = (abs(img[:, :, 0] - 64) < 30) & (abs(img[:, :, 1] - 107) < 30) & (abs(img[:, :, 2] - 173) < 30)
    assert bar.sum() > 2000  # the blue bars are painted


def test_every_page_has_page_x_of_y_print_time_and_operator():
    result = render_daily_report(daily_report_data(150))
    n = page_count(result.pdf)
    assert n == result.pages and n > 3
    for i, text in enumerate(page_texts(result.pdf)):
        assert f"第{i + 1}页共{n}页" in text
        assert "打印人：科长周建华" in text and "打印时间：2026-11-2717:30" in text


def test_case_list_has_every_case_once():
    data = daily_report_data(120)
    text = stream_text(render_daily_report(data).pdf)
    for c in data.cases:
        assert text.count(c.case_no) == 1


def test_single_window_report_says_so():
    text = stream_text(_report([c for c in SMALL if c.window == "02"], window_no="02").pdf)
    assert "窗口：02号窗口" in text and "李晓燕" not in text


def test_empty_day_still_prints_a_report():
    text = stream_text(_report([]).pdf)
    assert "受理件数0" in text and "当日无受理办件" in text


def test_built_from_the_core_case_summaries():
    rows = [CaseSummary(id="a", case_no=_no("01", 1), version=1, state=CaseState.QUEUED,
                        masked_name="张*军", masked_id="410***********0011", items=[1, 4], retirement_type="self_employed",
                        accepted_on=DAY, operator="clerk01", synced=False, sla="at_risk", rating=None)]
    data = DailyReportData.from_summaries(day=DAY, center="新乡市红旗区退役军人服务中心", center_code="410702",
                                          window_no=None, operator="周建华", printed_at=PRINTED, cases=rows)
    assert data.cases[0].state == "queued" and data.cases[0].clerk == "clerk01" and data.cases[0].window == "01"
    text = stream_text(render_daily_report(data).pdf)
    assert "张*军clerk011,4自主就业待上报待报临近时限未评价" in text


def test_item_ranges():
    assert item_ranges([1, 2, 3, 5, 7, 8, 11]) == "1-3,5,7-8,11"
    assert item_ranges([]) == ""


def test_thousand_cases_render(tmp_path):
    data = daily_report_data(1000)
    result = render_daily_report(data)
    assert result.pages == page_count(result.pdf)
    assert np.asarray(render_rgb(result.pdf, result.pages - 1, 50)).size > 0
