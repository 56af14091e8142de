"""Synthetic, reproducible inputs for demos, the rendering script and the benchmarks.

Names are generated from common surname/given-name characters (no real person); the daily
report data mixes windows, clerks, items, states, SLA states and ratings the way a busy day
would.

Thread contract: pure functions.
"""
from __future__ import annotations

import datetime as _dt
import random

from counter_app.case_number import CaseNumber
from counter_app.lifecycle import CaseState
from counter_app.scheme import RATINGS, RetirementType
from counter_app.workdays import SlaState
from printing.report import DailyReportData, ReportCase, mask_name

_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段漕钱汤尹黎易常武乔贺赖龚文"
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉兰俊峰鹏飞宇浩然子轩博文晨阳"
_CLERKS = [("01", "李晓燕"), ("01", "王建军"), ("02", "赵敏"), ("03", "陈立新")]
_STATES = [CaseState.QUEUED, CaseState.ACKNOWLEDGED, CaseState.IN_PROGRESS, CaseState.COMPLETED, CaseState.REJECTED]
_SLAS = [SlaState.ON_TIME] * 6 + [SlaState.AT_RISK, SlaState.OVERDUE, SlaState.DONE, SlaState.NO_DEADLINE]


def random_name(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2, 2, 3))))


def daily_report_data(n: int, *, day: _dt.date = _dt.date(2026, 11, 27), seed: int = 2026,
                      center_code: str = "410702") -> DailyReportData:
    rng = random.Random(seed)
    cases = []
    seq: dict[str, int] = {}
    for _ in range(n):
        window, clerk = rng.choice(_CLERKS)
        seq[window] = seq.get(window, 0) + 1
        number = CaseNumber(center_code, window, day, seq[window])
        items = sorted(rng.sample(range(1, 12), rng.randint(1, 11)))
        state = rng.choice(_STATES)
        cases.append(ReportCase(
            case_no=str(number), masked_name=mask_name(random_name(rng)), clerk=clerk, items=items,
            retirement_type=rng.choice(list(RetirementType)).value, state=state.value,
            synced=state != CaseState.QUEUED, sla=rng.choice(_SLAS).value,
            rating=rng.choice(list(RATINGS) + [None, None]), window_no=window))
    return DailyReportData(day=day, center="新乡市红旗区退役军人服务中心", center_code=center_code,
                           operator="科长 周建华", printed_at=_dt.datetime(2026, 11, 27, 17, 30), cases=cases)
