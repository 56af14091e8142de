"""Every input the application parses, fed with arbitrary and mutated data (hypothesis):
case JSON imports, holiday tables, configuration files. Each gives a value or a clear
Chinese error of its declared type — never another exception — and a refused input writes
nothing."""
from __future__ import annotations

import copy
import datetime as _dt
import json
import random
import re
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings, strategies as st
from sqlalchemy import func, select

from counter_app.application import Application, parse_application
from counter_app.cases import SYSTEM, CaseError
from counter_app.config import ConfigError, Settings, load_settings, parse_settings
from counter_app.samples import make_id_number
from counter_app.problems import Problem
from counter_app.store.models import AuditEntry, CaseRow, CaseTransition, DailySequence
from counter_app.workdays import HolidayTable, HolidayTableError, load_holiday_file

SAMPLE = json.loads((Path(__file__).parents[1] / "data" / "sample_case.json").read_text(encoding="utf-8"))
CJK = re.compile(r"[\u4e00-\u9fff]")


def fixture_ok(max_examples: int) -> settings:
    """Examples share one function-scoped fixture on purpose: counts are compared before/after."""
    return settings(max_examples=max_examples, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

json_scalars = st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=False) | \
    st.text(max_size=30)
json_values = st.recursive(json_scalars, lambda c: st.lists(c, max_size=5) | st.dictionaries(st.text(max_size=12), c,
                                                                                             max_size=5),
                           max_leaves=25)


def _paths(obj, prefix=()):
    """Every (path) into a JSON value, so a mutation can hit any field at any depth."""
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, prefix + (i,))


ALL_PATHS = [p for p in _paths(SAMPLE) if p]


@st.composite
def mutated_cases(draw):
    """The sample case with a fresh valid ID number and 1-4 fields replaced or removed."""
    case = copy.deepcopy(SAMPLE)
    rng = random.Random(draw(st.integers(0, 10**9)))
    case["application"]["applicant"]["id_number"] = make_id_number(rng, "410702", _dt.date(1995, 5, 17), True)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(ALL_PATHS))
        parent = case
        try:
            for key in path[:-1]:
                parent = parent[key]
            if draw(st.booleans()) and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = draw(json_values)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced this path
    return case


def _problems_ok(problems):
    assert isinstance(problems, list)
    for p in problems:
        assert isinstance(p, Problem) and CJK.search(p.message), p


# ---- case JSON --------------------------------------------------------------------------------

@settings(max_examples=150, deadline=None)
@given(data=json_values | mutated_cases())
def test_parse_application_never_raises_and_explains_in_chinese(data):
    app, problems = parse_application(data)
    assert isinstance(app, Application)
    _problems_ok(problems)


def _counts(window):
    with window.sessions() as s:
        return (s.execute(select(func.count()).select_from(CaseRow)).scalar_one(),
                s.execute(select(func.count()).select_from(AuditEntry)).scalar_one(),
                s.execute(select(func.count()).select_from(CaseTransition)).scalar_one(),
                s.execute(select(func.coalesce(func.sum(DailySequence.last), 0))).scalar_one())


@fixture_ok(80)
@given(data=mutated_cases() | json_values)
def test_import_case_creates_a_draft_or_refuses_without_writing(window, data):
    before = _counts(window)
    try:
        rec, problems = window.cases.import_case(data, SYSTEM)
    except CaseError as exc:
        assert CJK.search(exc.message)
        assert _counts(window) == before  # nothing half-written
        return
    _problems_ok(problems)
    after = _counts(window)
    assert after[0] == before[0] + 1 and after[1] == before[1] + 1
    # What was stored is what the parser understood, and it opens again.
    assert window.cases.get(rec.id).application == rec.application


@fixture_ok(25)
@given(raw=st.binary(max_size=200) | mutated_cases().map(lambda c: json.dumps(c, ensure_ascii=False).encode())
       | json_values.map(lambda v: json.dumps(v).encode()))
def test_case_create_command_exits_cleanly_on_any_file(window, tmp_path, capsys, raw):
    from app.cli import main

    path = tmp_path / "case.json"
    path.write_bytes(raw)
    before = _counts(window)
    code = main(["case", "create", "--json", str(path)])
    err = capsys.readouterr().err
    assert code in (0, 2)
    if code == 2:
        assert err.startswith("错误：") and "Traceback" not in err and CJK.search(err)
        assert _counts(window) == before
    else:
        assert _counts(window)[0] == before[0] + 1


# ---- holiday tables -----------------------------------------------------------------------------

@st.composite
def holiday_tables(draw):
    year = draw(st.integers(1990, 2110))
    day = st.dates(_dt.date(year - 1, 12, 25), _dt.date(year + 1, 1, 5)).map(_dt.date.isoformat)
    table = {"year": year, "source": draw(st.text(max_size=10)),
             "holidays": draw(st.lists(day | json_scalars, max_size=6)),
             "workdays": draw(st.lists(day, max_size=4))}
    for key in draw(st.lists(st.sampled_from(list(table)), max_size=2)):
        table[key] = draw(json_values)
    return table


@settings(max_examples=150, deadline=None)
@given(data=holiday_tables() | json_values)
def test_holiday_table_from_json(data):
    try:
        table = HolidayTable.from_json(data)
    except HolidayTableError as exc:
        assert CJK.search(str(exc))
        return
    assert all(d.year == table.year for d in table.holidays | table.workdays)
    assert not table.holidays & table.workdays
    assert HolidayTable.from_json(table.to_json()).to_json() == table.to_json()


@fixture_ok(100)
@given(raw=st.binary(max_size=300) | holiday_tables().map(lambda t: json.dumps(t).encode())
       | st.text(max_size=200).map(lambda t: t.encode("utf-8")))
def test_load_holiday_file(tmp_path, raw):
    path = tmp_path / "2027.json"
    path.write_bytes(raw)
    try:
        load_holiday_file(path)
    except HolidayTableError as exc:
        assert CJK.search(str(exc))
    assert path.read_bytes() == raw


# ---- configuration -----------------------------------------------------------------------------

SETTING_NAMES = list(Settings().values)


@st.composite
def setting_dicts(draw):
    keys = draw(st.lists(st.sampled_from(SETTING_NAMES) | st.text(max_size=12), max_size=6))
    return {k: draw(json_scalars | st.lists(json_scalars, max_size=2)) for k in keys}


@settings(max_examples=300, deadline=None)
@given(data=setting_dicts() | json_values, strict=st.booleans())
@example(data={"camera_index": float("inf")}, strict=True)  # TOML can say `camera_index = inf`
def test_parse_settings(data, strict):
    try:
        out = parse_settings(data, strict=strict)
    except ConfigError as exc:
        assert CJK.search(exc.message)
        return
    assert set(out) <= set(SETTING_NAMES)
    s = Settings()
    for k, v in out.items():
        s.set(k, v)  # every accepted value is accepted again


def _toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v if x is not None) + "]"
    return json.dumps(str(v), ensure_ascii=False)


@fixture_ok(150)
@given(data=setting_dicts(), noise=st.binary(max_size=40) | st.text(max_size=40).map(str.encode))
@example(data={"lockout_minutes": float("inf")}, noise=b"")
def test_load_settings_file(tmp_path, data, noise):
    path = tmp_path / "config.toml"
    text = "".join(f"{json.dumps(k, ensure_ascii=False)} = {_toml_value(v)}\n" for k, v in data.items()
                   if v is not None)
    raw = text.encode("utf-8") + noise
    path.write_bytes(raw)
    try:
        settings_ = load_settings(path)
    except ConfigError as exc:
        assert CJK.search(exc.message)
    else:
        assert set(settings_.values) == set(SETTING_NAMES)
    assert path.read_bytes() == raw  # loading never rewrites the file


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(SETTING_NAMES), value=json_scalars | st.lists(json_scalars, max_size=2))
def test_a_refused_setting_leaves_the_old_value(name, value):
    s = Settings()
    before = dict(s.values)
    try:
        s.set(name, value)
    except ConfigError:
        assert s.values == before
