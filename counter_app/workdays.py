"""Working days and deadlines (SLA) for the joint items.

Working days follow the State Council holiday schedule including make-up working weekends
(调休). The ``chinesecalendar`` package knows the published years; a holiday table in
``resources/holidays/`` (or one IT staff import into the data directory) overlays it, so a new
year's schedule is a data change. For a year nobody has data for, the engine still answers
with plain weekends but marks the result ``verified=False``.

Counting follows 民法典 art. 201: the day an interval starts is not counted, so "1 working day
after acceptance on Monday" is Tuesday.
"""
from __future__ import annotations

import datetime as _dt
import enum
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Mapping

from counter_app.scheme import CASE_DEADLINE_WD, ITEMS


class HolidayTableError(ValueError):
    """A holiday table file that cannot be used; the message says why, in Chinese."""


@dataclass
class HolidayTable:
    """One year's schedule: days off that would be weekdays, and make-up working weekends."""

    year: int
    holidays: set[_dt.date] = field(default_factory=set)
    workdays: set[_dt.date] = field(default_factory=set)
    source: str = ""

    @classmethod
    def from_json(cls, data: object) -> "HolidayTable":
        if not isinstance(data, Mapping):
            raise HolidayTableError("节假日表格式不正确：应为JSON对象，包含 year、holidays、workdays。")
        year = data.get("year")
        if not isinstance(year, int) or not 2000 <= year <= 2100:
            raise HolidayTableError("节假日表缺少有效的年份（year）。")
        table = cls(year, source=str(data.get("source", "")))
        for key, target in (("holidays", table.holidays), ("workdays", table.workdays)):
            raw = data.get(key, [])
            if not isinstance(raw, list):
                raise HolidayTableError(f"节假日表的 {key} 应为日期列表。")
            for item in raw:
                try:
                    day = _dt.date.fromisoformat(str(item))
                except ValueError:
                    raise HolidayTableError(f"节假日表中的日期无效：{item!r}（格式应为 2027-01-01）。") from None
                if day.year != year:
                    raise HolidayTableError(f"节假日表中的日期 {day} 不属于 {year} 年。")
                target.add(day)
        overlap = table.holidays & table.workdays
        if overlap:
            raise HolidayTableError(f"同一天既是假日又是调休工作日：{min(overlap)}。")
        return table

    def to_json(self) -> dict:
        return {"year": self.year, "source": self.source,
                "holidays": sorted(d.isoformat() for d in self.holidays),
                "workdays": sorted(d.isoformat() for d in self.workdays)}


def load_holiday_file(path: str | Path) -> HolidayTable:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise HolidayTableError(f"无法读取节假日表文件：{exc.strerror or exc}。") from None
    except UnicodeDecodeError:
        raise HolidayTableError("节假日表文件不是UTF-8编码的文本。") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise HolidayTableError(f"节假日表不是有效的JSON（第{exc.lineno}行）。") from None
    return HolidayTable.from_json(data)


class WorkCalendar:
    """Answers "is this a working day" and counts working days.

    Thread-safe for reading once built; build one per process and pass it in.
    """

    def __init__(self, tables: Iterable[HolidayTable] = (), *, use_package: bool = True):
        self._tables: dict[int, HolidayTable] = {t.year: t for t in tables}
        self._package_years: set[int] = set()
        # chinesecalendar's own is_workday() recomputes min()/max() of its whole table on every
        # call (argument validation); we read its tables once instead: same data, ~100× faster.
        self._pkg_holidays: frozenset[_dt.date] = frozenset()
        self._pkg_workdays: frozenset[_dt.date] = frozenset()
        if use_package:
            from chinese_calendar import constants

            self._pkg_holidays = frozenset(constants.holidays)
            self._pkg_workdays = frozenset(constants.workdays)
            self._package_years = {d.year for d in self._pkg_holidays} | {d.year for d in self._pkg_workdays}

    @classmethod
    def default(cls, extra_dirs: Iterable[Path] = ()) -> "WorkCalendar":
        """The package's data overlaid by the shipped tables, then by any in ``extra_dirs``."""
        from counter_app.paths import resource_path

        tables: dict[int, HolidayTable] = {}
        dirs = [resource_path("holidays"), *extra_dirs]
        for d in dirs:
            d = Path(d)
            if not d.is_dir():
                continue
            for f in sorted(d.glob("*.json")):
                t = load_holiday_file(f)
                tables[t.year] = t
        return cls(tables.values())

    def covers(self, year: int) -> bool:
        return year in self._tables or year in self._package_years

    def is_workday(self, day: _dt.date) -> bool:
        t = self._tables.get(day.year)
        if t is not None:
            if day in t.workdays:
                return True
            if day in t.holidays:
                return False
            return day.weekday() < 5
        if day in self._pkg_workdays:
            return True
        if day in self._pkg_holidays:
            return False
        return day.weekday() < 5

    def add_workdays(self, start: _dt.date, n: int) -> tuple[_dt.date, bool]:
        """The n-th working day after ``start`` (start itself not counted); n=0 gives ``start``.

        Returns (date, verified): verified is False when any year crossed has no schedule data.
        """
        day = start
        verified = self.covers(start.year)
        count = 0
        while count < n:
            day += _dt.timedelta(days=1)
            if not self.covers(day.year):
                verified = False
            if self.is_workday(day):
                count += 1
        return day, verified

    def workdays_between(self, start: _dt.date, end: _dt.date) -> int:
        """Working days in (start, end]: how many have passed since ``start`` by the end of ``end``."""
        if end <= start:
            return -self.workdays_between(end, start) if end < start else 0
        n = 0
        day = start
        while day < end:
            day += _dt.timedelta(days=1)
            if self.is_workday(day):
                n += 1
        return n


class SlaState(str, enum.Enum):
    ON_TIME = "on_time"
    AT_RISK = "at_risk"    # ≤ 1 working day left
    OVERDUE = "overdue"
    DONE = "done"
    NO_DEADLINE = "no_deadline"

    @property
    def title(self) -> str:
        return {"on_time": "按时", "at_risk": "临近时限", "overdue": "已超时", "done": "已办结",
                "no_deadline": "无时限"}[self.value]


# Key of the card-making deadline in a plan (规程 五(四)5 "7个工作日内完成社保卡制卡"): its own clock,
# outside the 18 working days ("不包括制卡时间、寄送时间、资金发放时间").
CARD_MAKING = "card_making"


@dataclass(frozen=True)
class Deadline:
    item: int | None      # None for the whole case
    due: _dt.date | None  # None: no deadline of its own (item 7, by fund arrival)
    verified: bool
    starts: _dt.date | None = None
    note: str = ""
    workdays: int | None = None   # the time limit in working days (the whole case: what its items add up to)
    kind: str = "item"    # "item", "case" or CARD_MAKING

    def to_dict(self) -> dict:
        return {"item": self.item, "due": self.due.isoformat() if self.due else None,
                "starts": self.starts.isoformat() if self.starts else None,
                "verified": self.verified, "note": self.note, "workdays": self.workdays, "kind": self.kind}


def plan_deadlines(calendar: WorkCalendar, accepted: _dt.date, items: Iterable[int],
                   completed: Mapping[int, _dt.date] | None = None,
                   visited: Mapping[int, _dt.date] | None = None) -> dict[int | str | None, Deadline]:
    """Due dates for each chosen item, for the whole case (key None) and, with item 8, for making
    the card (key ``CARD_MAKING``: 7 working days from the application's end, outside the 18).

    An item's clock starts when the items it waits for are done (actual date when known,
    otherwise their planned due date); items with no predecessor start at acceptance.
    Item 4 waits for the 落户介绍信 that VA issues with item 1's 1 working day; we count
    that day even when item 1 itself is not chosen, since the letter is always needed.
    An item whose clock starts with the applicant's own visit (11, 预备役登记) has a due date only
    once ``visited`` says when the applicant applied there (the department reports 受理).
    """
    completed = dict(completed or {})
    chosen = sorted(set(items))
    plan: dict[int | None, Deadline] = {}

    def finish_of(n: int) -> tuple[_dt.date, bool]:
        if n in completed:
            return completed[n], True
        if n in plan and plan[n].due is not None:
            return plan[n].due, plan[n].verified
        if n == 1:  # the 落户介绍信 step, chosen or not
            return calendar.add_workdays(accepted, ITEMS[1].deadline_wd or 0)
        return accepted, True

    for n in sorted(chosen, key=_topo_key):
        item = ITEMS[n]
        start, ok = accepted, True
        for pre in item.after:
            if pre in chosen or pre == 1:
                s, v = finish_of(pre)
                if s > start:
                    start = s
                ok = ok and v
        if item.deadline_wd is None:
            plan[n] = Deadline(n, None, True, start, note="按资金到账情况办理，不计时限")
            continue
        if item.starts_on_visit:
            if n not in (visited or {}):
                plan[n] = Deadline(n, None, True, None,
                                   note=f"自申请人本人前往提出申请起{item.deadline_wd}个工作日内办结")
                continue
            start = visited[n]
        due, verified = calendar.add_workdays(start, item.deadline_wd)
        note = f"另需{item.excluded_wd}个工作日制卡（不计入总时限）" if item.excluded_wd else ""
        plan[n] = Deadline(n, due, verified and ok, start, note, item.deadline_wd)
        if item.excluded_wd:
            card_start, card_ok = finish_of(n)
            card_due, card_verified = calendar.add_workdays(card_start, item.excluded_wd)
            plan[CARD_MAKING] = Deadline(n, card_due, card_verified and card_ok and verified, card_start,
                                         f"社保卡制卡{item.excluded_wd}个工作日（不计入{CASE_DEADLINE_WD}个工作日总时限）",
                                         item.excluded_wd, kind=CARD_MAKING)
    plan[None] = replace(_whole_case(calendar, accepted, [plan[n] for n in chosen]), kind="case")
    return plan


def _whole_case(calendar: WorkCalendar, accepted: _dt.date, items: list[Deadline]) -> Deadline:
    """The whole case ends when its last timed item is due, and never later than the scheme's
    18 working days; a case of untimed items only (fund arrival) has no deadline."""
    timed = [d for d in items if d.due is not None]
    if not timed:
        return Deadline(None, None, True, accepted, note="按资金到账情况办理，不计时限")
    cap, cap_verified = calendar.add_workdays(accepted, CASE_DEADLINE_WD)
    last = max(timed, key=lambda d: d.due)
    due, verified = (last.due, last.verified) if last.due <= cap else (cap, cap_verified)
    workdays = calendar.workdays_between(accepted, due)
    return Deadline(None, due, verified, accepted, note=f"受理至办结{workdays}个工作日", workdays=workdays)


def _topo_key(n: int) -> tuple[int, int]:
    depth = 0
    frontier = list(ITEMS[n].after)
    while frontier:
        depth += 1
        frontier = [p for f in frontier for p in ITEMS[f].after]
    return depth, n


def sla_state(calendar: WorkCalendar, deadline: Deadline, today: _dt.date, *, done: bool = False) -> SlaState:
    if done:
        return SlaState.DONE
    if deadline.due is None:
        return SlaState.NO_DEADLINE
    if today > deadline.due:
        return SlaState.OVERDUE
    left = calendar.workdays_between(today, deadline.due)
    # "≤ 1 working day left" — except for a 1-day limit, which would otherwise be at risk from the
    # moment it is accepted: that one is at risk on its last day only.
    span = calendar.workdays_between(deadline.starts, deadline.due) if deadline.starts else None
    threshold = 0 if span is not None and span <= 1 else 1
    return SlaState.AT_RISK if left <= threshold else SlaState.ON_TIME


# The order of urgency lives in ``counter_app.sla_order`` (the worklist's start-up read needs it
# without this module's calendar); named here too for the callers of this module.
from counter_app.sla_order import SLA_ORDER, worst_sla  # noqa: E402,F401
