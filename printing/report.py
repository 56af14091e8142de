"""每日受理报表: the supervisors' daily acceptance report.

Data in, PDF out: the store query lives in ``counter_app.reports`` and fills
:class:`DailyReportData`; this module only counts and draws. Per day, window and clerk it shows
the counts by item, by retirement type and by status, synced vs. waiting, cases at risk and
overdue against their SLA, the service-rating (好差评) distribution, two bar charts, the list of
cases (applicant names masked 张*军), and on every page "第 x 页 共 y 页", the print time and the
operator who printed it.

Thread contract: :func:`render_daily_report` is re-entrant; call it from any worker thread.
"""
from __future__ import annotations

import datetime as _dt
import io
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib.colors import Color

from counter_app.case_number import CaseNumber, CaseNumberError
from counter_app.lifecycle import CaseState
from counter_app.report_data import DailyReportData, ReportCase  # the report's data is the core's; this module draws it
from counter_app.scheme import ITEMS, RATINGS, RetirementType
from counter_app.workdays import SlaState
from printing import page as pg
from printing.case import cn_date
from printing.document import Column, DocWriter
from printing.fonts import FONT_NAME
from printing.result import RenderResult
from printing.text import Pen

REPORT_TITLE = "退役军人服务“一件事”每日受理报表"
BAR = Color(0.25, 0.42, 0.68)

from counter_app.masking import mask_name as _core_mask_name  # the one masking function (GB/T 35273)


def mask_name(name: str | None) -> str:
    """张*军 (first and last kept), 张* for two characters. Idempotent, so names that arrive
    already masked pass through unchanged while an unmasked one never reaches paper."""
    return _core_mask_name(name)


# ---------------------------------------------------------------- counting

RT_SHORT = {RetirementType.SELF_EMPLOYED.value: "自主就业", RetirementType.DEMOBILIZED_OFFICER.value: "复员军官",
            RetirementType.MONTHLY_PENSION.value: "逐月领取"}


def item_ranges(items: Iterable[int]) -> str:
    """[1,2,3,5,7,8] → "1-3,5,7-8": the chosen items, compact enough for one table line."""
    nums = sorted(set(items))
    parts: list[str] = []
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        parts.append(str(nums[i]) if i == j else f"{nums[i]}-{nums[j]}")
        i = j + 1
    return ",".join(parts)

def _state_title(value: str) -> str:
    try:
        return CaseState(value).title
    except ValueError:
        return value or "未知"


def _rt_title(value: str | None) -> str:
    try:
        return RetirementType(value).title if value else "未填写"
    except ValueError:
        return str(value)


def _sla_title(value: str | None) -> str:
    try:
        return SlaState(value).title if value else "—"
    except ValueError:
        return str(value)


@dataclass
class ClerkTotals:
    window: str
    clerk: str
    cases: int = 0
    synced: int = 0
    at_risk: int = 0
    overdue: int = 0
    by_item: Counter = field(default_factory=Counter)
    by_rt: Counter = field(default_factory=Counter)
    by_rating: Counter = field(default_factory=Counter)

    def add(self, c: ReportCase) -> None:
        self.cases += 1
        self.synced += c.synced
        self.at_risk += c.sla == SlaState.AT_RISK.value
        self.overdue += c.sla == SlaState.OVERDUE.value
        self.by_item.update(set(c.items))
        self.by_rt[c.retirement_type or ""] += 1
        self.by_rating[c.rating or ""] += 1


def tally(cases: Sequence[ReportCase]) -> tuple[list[ClerkTotals], ClerkTotals, Counter]:
    """Per (window, clerk) totals in window/clerk order, the grand total, and counts by state."""
    groups: dict[tuple[str, str], ClerkTotals] = {}
    total = ClerkTotals("", "合计")
    states: Counter = Counter()
    for c in cases:
        key = (c.window, c.clerk)
        if key not in groups:
            groups[key] = ClerkTotals(*key)
        groups[key].add(c)
        total.add(c)
        states[c.state] += 1
    return [groups[k] for k in sorted(groups)], total, states


# ---------------------------------------------------------------- charts

def _bar_chart(title: str, labels: list[str], values: list[int], width: float, height: float) -> Drawing:
    """A horizontal bar chart (reportlab.graphics) with Chinese category labels."""
    d = Drawing(width, height)
    d.add(String(0, height - 11, title, fontName=FONT_NAME, fontSize=10))
    ch = HorizontalBarChart()
    ch.x = 118
    ch.y = 16
    ch.width = width - ch.x - 28
    ch.height = height - 34
    # reportlab draws the first category at the bottom; reverse so the list reads top-down.
    ch.data = [list(reversed(values)) or [0]]
    ch.categoryAxis.categoryNames = list(reversed(labels)) or [""]
    ch.categoryAxis.labels.fontName = FONT_NAME
    ch.categoryAxis.labels.fontSize = 8
    ch.categoryAxis.labels.boxAnchor = "e"
    ch.categoryAxis.labels.dx = -4
    ch.valueAxis.valueMin = 0
    top = max(values) if values else 0
    ch.valueAxis.valueMax = max(1, top + max(1, top // 10))
    ch.valueAxis.valueStep = max(1, (ch.valueAxis.valueMax + 4) // 5)
    ch.valueAxis.labels.fontName = FONT_NAME
    ch.valueAxis.labels.fontSize = 7.5
    ch.bars[0].fillColor = BAR
    ch.bars[0].strokeColor = None
    ch.barLabelFormat = "%d"
    ch.barLabels.fontName = FONT_NAME
    ch.barLabels.fontSize = 7.5
    ch.barLabels.boxAnchor = "w"
    ch.barLabels.dx = 3
    d.add(ch)
    return d


# ---------------------------------------------------------------- drawing

def _pct(n: int, total: int) -> str:
    return f"{n * 100 / total:.1f}%" if total else "—"


def render_daily_report(data: DailyReportData) -> RenderResult:
    """The daily acceptance report as an A4 PDF (as many pages as the case list needs)."""
    from reportlab.graphics import renderPDF

    cases = list(data.cases)
    groups, total, states = tally(cases)
    window_text = f"{data.window_no}号窗口" if data.window_no else "全部窗口"
    center = data.center + (f"（{data.center_code}）" if data.center_code else "")

    def running_header(w: DocWriter) -> None:
        y = w.y - 9
        w.op(lambda pen: pen.draw(w.left, y, f"{REPORT_TITLE}（续） {cn_date(data.day)} {window_text}", 9))
        w.y -= 18

    w = DocWriter(continuation_header=running_header)
    w.heading(REPORT_TITLE, size=17, space_after=6)
    w.paragraph(f"服务中心：{center}　　受理日期：{cn_date(data.day)}　　窗口：{window_text}",
                size=10, align="center", space_after=2)
    w.paragraph(f"打印人：{data.operator}　　打印时间：{data.printed_at:%Y-%m-%d %H:%M}",
                size=10, align="center", space_after=10)

    n = total.cases
    rated = n - total.by_rating.get("", 0)
    w.heading("一、总体情况", size=12, align="left", space_after=4)
    w.key_values([
        ("受理件数", str(n)), ("已上报平台", f"{total.synced}（{_pct(total.synced, n)}）"),
        ("待上报", str(n - total.synced)), ("临近时限", str(total.at_risk)),
        ("已超时", str(total.overdue)), ("已评价", f"{rated}（{_pct(rated, n)}）"),
    ], label_w=80, size=10, columns=3)

    w.heading("二、按窗口和受理人统计", size=12, align="left", space_after=4)
    rts = list(RetirementType)
    cols = [Column("窗口", 34, "center"), Column("受理人", 62), Column("受理", 34, "right"),
            Column("已上报", 38, "right"), Column("待上报", 38, "right"), Column("临近时限", 38, "right"),
            Column("已超时", 38, "right")]
    cols += [Column(rt.title, 52, "right") for rt in rts]
    cols += [Column("已评价", 38, "right")]
    rows = []
    for g in groups + [total]:
        rows.append([g.window, g.clerk, str(g.cases), str(g.synced), str(g.cases - g.synced), str(g.at_risk),
                     str(g.overdue)] + [str(g.by_rt.get(rt.value, 0)) for rt in rts]
                    + [str(g.cases - g.by_rating.get("", 0))])
    w.table(cols, rows, size=8.5)

    w.heading("三、按联办事项统计（件）", size=12, align="left", space_after=4)
    cols = [Column("窗口", 30, "center"), Column("受理人", 56)]
    cols += [Column(str(i), 30, "right") for i in range(1, 12)]
    item_rows = []
    for g in groups + [total]:
        item_rows.append([g.window, g.clerk] + [str(g.by_item.get(i, 0)) for i in range(1, 12)])
    w.table(cols, item_rows, size=8.5, space_after=2)
    w.paragraph("事项：" + "；".join(f"{i}.{ITEMS[i].short}" for i in range(1, 12)), size=7.5, leading=10,
                space_after=8)
    labels = [f"{i}.{ITEMS[i].short}" for i in range(1, 12)]
    values = [total.by_item.get(i, 0) for i in range(1, 12)]
    chart_h = 200.0
    items_chart = _bar_chart("各联办事项受理件数", labels, values, w.width, chart_h)
    w.block(chart_h + 6, lambda pen, x, top: renderPDF.draw(items_chart, pen.canvas, x, top - chart_h))

    rt_rows = [[_rt_title(rt.value), str(total.by_rt.get(rt.value, 0)), _pct(total.by_rt.get(rt.value, 0), n)]
               for rt in rts]
    if total.by_rt.get(""):
        rt_rows.append(["未填写", str(total.by_rt[""]), _pct(total.by_rt[""], n)])
    state_rows = [[_state_title(s), str(states[s]), _pct(states[s], n)]
                  for s in [st.value for st in CaseState if states.get(st.value)] +
                  sorted(k for k in states if k not in {st.value for st in CaseState})]
    height = max(len(rt_rows), len(state_rows))
    rt_rows += [["", "", ""]] * (height - len(rt_rows))
    state_rows += [["", "", ""]] * (height - len(state_rows))
    mix_cols = [Column("退役类型", 130), Column("件数", 50, "right"), Column("占比", 60, "right"),
                Column("办件状态", 130), Column("件数", 50, "right"), Column("占比", 60, "right")]
    mix_rows = [a + b for a, b in zip(rt_rows, state_rows)] or [["", "", "", "", "", ""]]
    w.heading("四、按退役类型和办件状态统计", size=12, align="left", space_after=4,
              keep_next=w.table_height(mix_cols, mix_rows, size=9))
    w.table(mix_cols, mix_rows, size=9)

    rating_chart_h = 118.0
    w.heading("五、服务评价（好差评）分布", size=12, align="left", space_after=4, keep_next=rating_chart_h + 8)
    rating_rows = [[r, str(total.by_rating.get(r, 0)), _pct(total.by_rating.get(r, 0), rated)] for r in RATINGS]
    rating_rows.append(["未评价", str(total.by_rating.get("", 0)), "—"])
    rating_chart = _bar_chart("好差评分布（件）", list(RATINGS) + ["未评价"],
                              [total.by_rating.get(r, 0) for r in RATINGS] + [total.by_rating.get("", 0)],
                              w.width * 0.55, rating_chart_h)
    table_w = w.width * 0.42
    saved_width = w.width
    w.ensure(rating_chart_h + 8)
    top_before = w.y
    w.width = table_w
    w.table([Column("评价", 70), Column("件数", 40, "right"), Column("占已评价", 50, "right")], rating_rows,
            size=9, space_after=0)
    w.width = saved_width
    chart_x = w.left + table_w + w.width * 0.03
    w.op(lambda pen: renderPDF.draw(rating_chart, pen.canvas, chart_x, top_before - rating_chart_h))
    w.y = min(w.y, top_before - rating_chart_h) - 10

    w.heading("六、办件明细", size=12, align="left", space_after=4, keep_next=40)
    detail_cols = [Column("序号", 24, "right"), Column("办件编号", 120), Column("申请人", 38),
                   Column("受理人", 42), Column("联办事项", 69), Column("退役类型", 52), Column("状态", 48),
                   Column("上报", 30, "center"), Column("时限", 40, "center"), Column("评价", 48)]
    detail_rows = []
    for i, c in enumerate(sorted(cases, key=lambda c: c.case_no), start=1):
        detail_rows.append([str(i), c.case_no, mask_name(c.masked_name), c.clerk, item_ranges(c.items),
                            RT_SHORT.get(c.retirement_type or "", _rt_title(c.retirement_type)),
                            _state_title(c.state), "已报" if c.synced else "待报", _sla_title(c.sla),
                            c.rating or "未评价"])
    w.table(detail_cols, detail_rows or [["", "（当日无受理办件）"] + [""] * 8], size=8)
    w.paragraph("说明：申请人姓名已脱敏；“上报”指已被省一体化政务服务平台确认接收；“时限”为各事项中最紧的办理时限状态；"
                "退役类型“自主就业”即自主就业退役士兵，“逐月领取”即逐月领取退役金退役军人。", size=8, leading=11)

    buf = io.BytesIO()
    c = pg.new_canvas(buf, f"{REPORT_TITLE} {data.day.isoformat()}", "每日受理报表")
    pen = Pen(c)

    def footer(pen: Pen, page: int, total_pages: int) -> None:
        pg.draw_footer(pen, page, total_pages, f"打印人：{data.operator}",
                       f"打印时间：{data.printed_at:%Y-%m-%d %H:%M}")

    pages = w.render(pen, footer)
    c.save()
    return RenderResult(buf.getvalue(), set(pen.fallback_chars), set(pen.boxed_chars), pages, [])
