"""Working days per the State Council schedule (调休 included), 民法典 art. 201 counting."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from counter_app.workdays import (
    HolidayTable, HolidayTableError, SlaState, WorkCalendar, load_holiday_file, plan_deadlines, sla_state,
)

D = dt.date


@pytest.fixture(scope="module")
def cal():
    return WorkCalendar.default()


def test_make_up_weekend_is_a_working_day(cal):
    assert cal.is_workday(D(2026, 10, 10))      # Saturday, 国庆调休上班
    assert not cal.is_workday(D(2026, 10, 5))   # Monday in the National Day holiday


def test_acceptance_day_is_not_counted(cal):
    assert cal.add_workdays(D(2026, 11, 23), 1) == (D(2026, 11, 24), True)  # Monday → Tuesday
    assert cal.add_workdays(D(2026, 11, 27), 1) == (D(2026, 11, 30), True)  # Friday → Monday


def test_counting_across_national_day(cal):
    # Accepted Tue 29 Sep 2026: 30 Sep is day 1; 1–7 Oct off; 8, 9, 10 (Sat, make-up) count.
    assert cal.add_workdays(D(2026, 9, 29), 4)[0] == D(2026, 10, 10)


def test_year_without_data_is_flagged_unverified():
    cal = WorkCalendar()  # package data only: 2027 is not in it
    day, verified = cal.add_workdays(D(2026, 12, 30), 3)
    assert day == D(2027, 1, 4) and verified is False


def test_shipped_or_imported_table_overlays_the_package(tmp_path):
    table = {"year": 2027, "source": "test", "holidays": ["2027-01-01", "2027-01-04"], "workdays": ["2027-01-09"]}
    (tmp_path / "2027.json").write_text(json.dumps(table), encoding="utf-8")
    cal = WorkCalendar.default(extra_dirs=[tmp_path])
    assert cal.covers(2027)
    assert not cal.is_workday(D(2027, 1, 4)) and cal.is_workday(D(2027, 1, 9))
    assert cal.add_workdays(D(2026, 12, 31), 1) == (D(2027, 1, 5), True)


@pytest.mark.parametrize("content,fragment", [
    ("not json", "不是有效的JSON"),
    ('{"year": "2027"}', "年份"),
    ('{"year": 2027, "holidays": ["2027-02-30"]}', "日期无效"),
    ('{"year": 2027, "holidays": ["2028-01-01"]}', "不属于"),
    ('{"year": 2027, "holidays": ["2027-01-01"], "workdays": ["2027-01-01"]}', "既是假日又是调休"),
    ('[1, 2]', "格式不正确"),
])
def test_bad_holiday_tables_give_clear_messages(tmp_path, content, fragment):
    f = tmp_path / "bad.json"
    f.write_text(content, encoding="utf-8")
    with pytest.raises(HolidayTableError) as err:
        load_holiday_file(f)
    assert fragment in str(err.value)


def test_table_round_trips():
    t = HolidayTable.from_json({"year": 2030, "holidays": ["2030-10-01"], "workdays": []})
    assert HolidayTable.from_json(t.to_json()).holidays == {D(2030, 10, 1)}


ITEM_DEADLINES = [  # (item, working days after its start, predecessor)
    (1, 1, None), (2, 1, None), (3, 1, None),
    (4, 10, "letter"), (5, 0, 4), (6, 2, 4), (8, 2, 4), (9, 5, 4), (10, 5, 4),
]


@pytest.mark.parametrize("item,wd,pre", ITEM_DEADLINES)
def test_each_item_deadline(cal, item, wd, pre):
    accepted = D(2026, 11, 2)  # a Monday in a month without holidays
    plan = plan_deadlines(cal, accepted, list(range(1, 12)))
    if pre is None:
        start = accepted
    elif pre == "letter":
        start = cal.add_workdays(accepted, 1)[0]  # VA issues the 落户介绍信 in 1 WD
    else:
        start = plan[pre].due
    assert plan[item].due == cal.add_workdays(start, wd)[0]


def test_item_7_has_no_deadline_and_the_case_ends_with_its_last_timed_item(cal):
    plan = plan_deadlines(cal, D(2026, 11, 2), [1, 7])
    assert plan[7].due is None
    assert plan[None].due == plan[1].due == D(2026, 11, 3) and plan[None].workdays == 1


def test_the_whole_case_never_exceeds_18_working_days(cal):
    plan = plan_deadlines(cal, D(2026, 11, 2), list(range(1, 12)))
    assert plan[None].due <= cal.add_workdays(D(2026, 11, 2), 18)[0] == D(2026, 11, 26)
    assert plan[None].workdays <= 18
    assert plan_deadlines(cal, D(2026, 11, 2), [7])[None].due is None


def test_card_making_is_excluded_from_item_8(cal):
    plan = plan_deadlines(cal, D(2026, 11, 2), [4, 8])
    assert plan[8].due == cal.add_workdays(plan[4].due, 2)[0]
    assert "7个工作日制卡" in plan[8].note


def test_actual_completion_moves_downstream_deadlines(cal):
    early = plan_deadlines(cal, D(2026, 11, 2), [4, 6], completed={4: D(2026, 11, 4)})
    assert early[6].due == D(2026, 11, 6)


@pytest.mark.parametrize("today,state", [
    (D(2026, 11, 3), SlaState.ON_TIME), (D(2026, 11, 5), SlaState.ON_TIME), (D(2026, 11, 6), SlaState.AT_RISK),
    (D(2026, 11, 7), SlaState.AT_RISK), (D(2026, 11, 9), SlaState.AT_RISK), (D(2026, 11, 10), SlaState.OVERDUE),
])
def test_sla_states(cal, today, state):
    plan = plan_deadlines(cal, D(2026, 11, 2), [9], completed={4: D(2026, 11, 2)})
    assert plan[9].due == D(2026, 11, 9)  # Mon + 5 WD: 3, 4, 5, 6, 9
    assert sla_state(cal, plan[9], today) is state


def test_done_item_is_done_whatever_the_date(cal):
    plan = plan_deadlines(cal, D(2026, 11, 2), [1])
    assert sla_state(cal, plan[1], D(2027, 1, 1), done=True) is SlaState.DONE


@pytest.mark.parametrize("year", [2025, 2026])
def test_shipped_tables_load_and_agree_with_the_package(year):
    from counter_app.paths import resource_path

    table = load_holiday_file(resource_path(f"holidays/{year}.json"))
    package = WorkCalendar()
    shipped = WorkCalendar([table], use_package=False)
    day = D(year, 1, 1)
    while day.year == year:
        assert shipped.is_workday(day) == package.is_workday(day), day
        day += dt.timedelta(days=1)


def test_reserve_registration_is_timed_from_the_applicants_visit(cal):
    """规程 五(四)2 "县级兵役机关…应在申请人提出申请1个工作日内完成预备役登记": no due date until the applicant
    has applied at the 人武部; then 1 working day from that day (a Friday visit is due on Monday)."""
    plan = plan_deadlines(cal, D(2026, 11, 2), [1, 11])
    assert plan[11].due is None and "自申请人本人前往提出申请起1个工作日" in plan[11].note
    assert sla_state(cal, plan[11], D(2026, 12, 31)) is SlaState.NO_DEADLINE   # never "overdue" for waiting
    visited = plan_deadlines(cal, D(2026, 11, 2), [1, 11], visited={11: D(2026, 11, 6)})
    assert (visited[11].starts, visited[11].due) == (D(2026, 11, 6), D(2026, 11, 9))
