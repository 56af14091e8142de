"""Reading the case JSON (``counter-app/case/v1``) for printing.

Printing gets the case as the dict the core exports (see ``tests/data/sample_case.json``);
this module checks its shape once and gives the documents typed, ready-to-print values.
A malformed case raises :class:`PrintingError` with a Chinese message; a field in a wrong
format inside an otherwise good case is printed blank and reported in ``warnings``.

Thread contract: pure; a ``CaseView`` is built per render call.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any, Mapping

from counter_app.application import Application, parse_application
from counter_app.case_number import CaseNumber, CaseNumberError
from printing.result import PrintingError


@dataclass(frozen=True)
class DueDate:
    item: int | None
    due: _dt.date | None
    verified: bool
    note: str = ""
    workdays: int | None = None


@dataclass
class CaseView:
    raw: Mapping[str, Any]
    app: Application
    case_no: str                     # as printed, e.g. 410702-01-20261127-0003-6 ("" for a draft)
    number: CaseNumber | None        # parsed; None for a draft without number
    center_code: str
    center_name: str
    window_no: str
    operator_name: str
    state: str
    accepted_at: _dt.datetime | None
    deadlines: dict[int | None, DueDate]
    acknowledged: bool
    warnings: list[str] = field(default_factory=list)

    @property
    def barcode_data(self) -> str:
        """What the Code 128 symbol encodes: the number without separators."""
        return self.number.compact if self.number else ""

    @property
    def accepted_date(self) -> _dt.date | None:
        return self.accepted_at.date() if self.accepted_at else None


def _text(raw: Mapping, key: str) -> str:
    v = raw.get(key)
    return "" if v is None else str(v).strip()


def _parse_dt(text: Any) -> _dt.datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return _dt.datetime.fromisoformat(text)
    except ValueError:
        return None


def _parse_day(text: Any) -> _dt.date | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return _dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def read_case(case: Any, *, need_number: bool = False) -> CaseView:
    """Check and read a case dict. ``need_number``: documents that identify a registered case
    (receipt, letters) refuse a case without a valid number."""
    if not isinstance(case, Mapping):
        raise PrintingError("办件数据格式不正确：应为办件JSON对象（含 case_no、application 等）。")
    if not isinstance(case.get("application"), Mapping):
        raise PrintingError("办件数据缺少申请内容（application），无法生成文书，请重新导出办件。")
    app, problems = parse_application(case["application"])
    warnings = [p.message for p in problems]

    case_no = _text(case, "case_no")
    number = None
    if case_no:
        try:
            number = CaseNumber.parse(case_no)
        except CaseNumberError as exc:
            raise PrintingError(f"{exc}（无法打印条码）") from None
        case_no = str(number)
    elif need_number:
        raise PrintingError("办件尚未生成办件编号，请先完成受理（签字定稿）后再打印。")

    deadlines: dict[int | None, DueDate] = {}
    raw_deadlines = case.get("deadlines") or []
    if not isinstance(raw_deadlines, list):
        warnings.append("办理时限数据格式不正确，时限未打印。")
        raw_deadlines = []
    for d in raw_deadlines:
        if not isinstance(d, Mapping):
            continue
        item = d.get("item")
        if item is not None and not isinstance(item, int):
            continue
        if d.get("kind", "item") not in ("item", "case"):  # e.g. card making: its own line, not item 8's
            continue
        due = _parse_day(d.get("due"))
        if d.get("due") and due is None:
            warnings.append(f"事项{item}的办理时限日期无效，未打印。")
        workdays = d.get("workdays") if isinstance(d.get("workdays"), int) else None
        deadlines[item] = DueDate(item, due, bool(d.get("verified", True)), str(d.get("note") or ""), workdays)

    platform = case.get("platform") if isinstance(case.get("platform"), Mapping) else {}
    accepted_at = _parse_dt(case.get("accepted_at"))
    return CaseView(
        raw=case, app=app, case_no=case_no, number=number,
        center_code=_text(case, "center_code"), center_name=_text(case, "center_name"),
        window_no=_text(case, "window_no"), operator_name=_text(case, "operator_name"),
        state=_text(case, "state"), accepted_at=accepted_at, deadlines=deadlines,
        acknowledged=bool(platform.get("acknowledged", False)), warnings=warnings,
    )


def cn_date(day: _dt.date | None) -> str:
    """2026年11月27日"""
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def cn_date_parts(day: _dt.date | None) -> tuple[str, str, str]:
    return (str(day.year), str(day.month), str(day.day)) if day else ("", "", "")


def county_department_name(center_name: str) -> str:
    """The county veterans affairs department that issues letters, from the service center's
    name: 新乡市红旗区退役军人服务中心 → 新乡市红旗区退役军人事务局."""
    name = center_name.strip()
    for suffix in ("退役军人服务中心", "服务中心"):
        if name.endswith(suffix):
            return name[: -len(suffix)] + "退役军人事务局"
    return name or "县（市、区）退役军人事务局"


def county_area(center_name: str) -> str:
    """新乡市红旗区退役军人服务中心 → 新乡市红旗区"""
    name = center_name.strip()
    for suffix in ("退役军人服务中心", "服务中心"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name
