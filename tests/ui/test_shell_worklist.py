"""The worklist: online applications and the window's cases, SLA colours, masked values, search."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from counter_app.lifecycle import OPEN_STATES
from ui.worklist import CASE, ONLINE, SLA_BACKGROUND, WorklistPage, classify_query


def _page(ctx, qtbot) -> WorklistPage:
    page = WorklistPage(ctx)
    qtbot.addWidget(page)
    page.resize(1366, 700)
    page.show()
    with qtbot.waitSignal(page.loaded, timeout=10000):
        page.refresh()
    return page


def _texts(page: WorklistPage, row: int) -> list[str]:
    m = page.model
    return [m.data(m.index(row, c)) for c in range(m.columnCount())]


def test_rows_are_coloured_by_the_sla_state_the_store_holds(ctx, scene, qtbot):
    page = _page(ctx, qtbot)
    store = {c.id: c for c in ctx.window.cases.list_cases(day=None, states=OPEN_STATES)}
    coloured, painted = set(), set()
    for r in range(page.model.rowCount()):
        row = page.model.row_at(r)
        colour = page.model.data(page.model.index(r, 0), Qt.ItemDataRole.BackgroundRole)
        if row.kind == ONLINE:
            assert colour is None
            continue
        expected = store[row.key].sla if row.key in store else None
        assert row.sla == expected
        if expected in SLA_BACKGROUND:
            assert colour == QColor(SLA_BACKGROUND[expected])
            if r != page.table.currentIndex().row():  # the selected row is painted in the selection colour
                # what the clerk sees: the cell painted in the state's colour (right of its short text)
                cell = page.table.visualRect(page.model.index(r, 6))
                shot = page.table.viewport().grab().toImage()
                assert shot.pixelColor(cell.right() - 3, cell.center().y()) == QColor(SLA_BACKGROUND[expected])
                painted.add(expected)
            assert _texts(page, r)[6] == {"on_time": "按时", "at_risk": "临近时限", "overdue": "已超时"}[expected]
            coloured.add(expected)
        else:
            assert colour is None
    # The demo day holds all three states, so each colour was really checked.
    assert coloured == {"on_time", "at_risk", "overdue"}
    assert painted == coloured
    overdue_row = next(r for r in page.model.rows if r.key == scene.overdue_id)
    # items 1, 4, 11 chosen + 免申即享 2 and 7; 1 and 11 done
    assert overdue_row.sla == "overdue" and overdue_row.progress_text == "2/5项办结"


def test_online_applications_and_walk_ins_are_listed_with_masked_personal_data(ctx, scene, qtbot):
    page = _page(ctx, qtbot)
    rows = page.model.rows
    assert sorted(r.key for r in rows if r.kind == ONLINE) == sorted(scene.online_ids)
    listed = {r.key for r in rows if r.kind == CASE}
    assert set(scene.today_ids) | set(scene.draft_ids) <= listed
    assert scene.overdue_id in listed  # older, still open
    for r, row in enumerate(rows):
        if row.kind != CASE:
            continue
        applicant = ctx.window.cases.get(row.key).application.applicant
        shown = " ".join(_texts(page, r))
        assert applicant.id_number not in shown
        assert applicant.name not in shown
        assert row.masked_id.startswith(applicant.id_number[:3]) and row.masked_id.endswith(applicant.id_number[-4:])
        assert "*" in row.masked_id and "*" in row.masked_name


def test_search_by_id_number_finds_the_cases_of_that_person(ctx, scene, qtbot):
    page = _page(ctx, qtbot)
    id_number = ctx.window.cases.get(scene.today_ids[0]).application.applicant.id_number
    with qtbot.waitSignal(page.loaded, timeout=10000):
        qtbot.keyClicks(page.search, id_number.lower())  # a lower-case x must not matter
        qtbot.keyClick(page.search, Qt.Key.Key_Return)
    expected = {c.id for c in ctx.window.cases.find_by_id_number(id_number)}
    assert {r.key for r in page.model.rows} == expected
    assert scene.today_ids[0] in expected


def test_search_by_case_number_and_by_name(ctx, scene, qtbot):
    page = _page(ctx, qtbot)
    record = ctx.window.cases.get(scene.overdue_id)
    with qtbot.waitSignal(page.loaded, timeout=10000):
        page.search.setText(record.case_no.replace("-", ""))  # the compact form from a barcode
        page.run_search()
    assert [r.key for r in page.model.rows] == [scene.overdue_id]

    name = ctx.window.cases.get(scene.today_ids[1]).application.applicant.name
    with qtbot.waitSignal(page.loaded, timeout=10000):
        page.search.setText(name)
        page.run_search()
    keys = [r.key for r in page.model.rows]
    assert scene.today_ids[1] in keys
    for key in keys:
        assert name in ctx.window.cases.get(key).application.applicant.name


def test_a_mistyped_case_number_is_explained(ctx, scene, qtbot):
    page = _page(ctx, qtbot)
    case_no = ctx.window.cases.get(scene.overdue_id).case_no
    wrong_check = case_no[:-1] + ("0" if case_no[-1] != "0" else "1")
    assert classify_query(wrong_check) == "case_no"
    with qtbot.waitSignal(page.loaded, timeout=10000):
        page.search.setText(wrong_check)
        page.run_search()
    assert page.model.rowCount() == 0
    assert "校验位" in page.message.text()


def test_enter_opens_the_selected_row(ctx, scene, qtbot):
    page = _page(ctx, qtbot)
    index = next(i for i, r in enumerate(page.model.rows) if r.key == scene.overdue_id)
    page.table.setFocus()
    page.table.selectRow(index)
    with qtbot.waitSignal(page.open_case, timeout=2000) as signal:
        qtbot.keyClick(page.table, Qt.Key.Key_Return)
    assert signal.args == [scene.overdue_id, "in_progress"]
    online = next(i for i, r in enumerate(page.model.rows) if r.kind == ONLINE)
    page.table.selectRow(online)
    with qtbot.waitSignal(page.open_online, timeout=2000) as signal:
        qtbot.keyClick(page.table, Qt.Key.Key_Enter)
    assert signal.args == [page.model.row_at(online).key]


def test_the_stored_worklist_loads_without_importing_the_platform_client(window):
    """Start-up path: reading the stored online applications must not import the sync package
    (the HTTP client and the contract's models, ~0.8 s the clerk waited for the first list)."""
    import os
    import subprocess
    import sys

    from counter_app.sync.worklist import store_worklist

    store_worklist(window, [{"platform_id": "WL-1", "approved_on": "2026-12-07",
                             "application": {"applicant": {"name": "张三", "id_number": "110101199003074514"},
                                             "items": [1, 2]},
                             "claim": {"window_no": "02", "expires_at": "2999-01-01T00:00:00+08:00"}}])
    code = ("import sys; from counter_app.services import open_window; from ui.worklist import load_worklist; "
            f"w = open_window({str(window.home)!r}); rows = load_worklist(w, refresh_sla=False); "
            "print([r.state_title for r in rows if r.kind == 'online'], "
            "'counter_app.sync' in sys.modules, 'requests' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=dict(os.environ, COUNTER_APP_KEYSTORE="file")).stdout
    assert out.strip() == "['正在02号窗口受理'] False False", out


def test_the_stored_list_shown_before_the_services_open_says_so_and_opens_nothing(app, demo_window, scene, qtbot):
    """Rows shown from the store while ``ctx.window`` is still opening: the clerk is told the
    list is the stored one; Enter on a row or 新建受理 waits for the services instead of failing."""
    from ui.context import AppContext
    from ui.tasks import TaskRunners
    from counter_app.queries.worklist import read_stored_worklist

    stored = read_stored_worklist(demo_window.home, demo_window.settings.window_no)
    assert stored.rows and stored.keystore is not None and not stored.reason
    tasks = TaskRunners()
    ctx = AppContext(window=None, tasks=tasks)
    try:
        page = WorklistPage(ctx)
        qtbot.addWidget(page)
        page.refresh()
        assert page.waiting_for_services and page.message.text().startswith("正在打开本窗口的数据")
        with qtbot.waitSignal(page.loaded, timeout=5000):
            page.show_stored(stored.rows)
        assert page.showing_stored and "本机已存的工作台" in page.message.text()
        assert page.model.rowCount() == len(stored.rows) > 0
        with qtbot.assertNotEmitted(page.open_case), qtbot.assertNotEmitted(page.open_online), \
                qtbot.assertNotEmitted(page.new_walk_in):
            page.table.selectRow(len(stored.rows) - 1)
            page.open_selected()
            assert "稍候即可打开" in page.message.text()
            page.new_button.click()
            assert "新建受理稍候可用" in page.message.text()
        ctx.window = demo_window  # the services opened: the full list replaces the stored one
        with qtbot.waitSignal(page.loaded, timeout=10000):
            page.refresh()
        assert not page.showing_stored and not page.waiting_for_services
        assert [r.key for r in page.model.rows] == [r.key for r in stored.rows]
        assert "本机已存" not in page.message.text()
    finally:
        tasks.shutdown()


def test_a_store_the_read_model_does_not_know_is_left_to_the_full_start(window):
    """Another schema revision: no rows are read early (never a list from columns it does not
    know); the key store opened is handed on, and the reason is there for the log."""
    import sqlite3

    from counter_app.queries.worklist import read_stored_worklist

    window.close()
    conn = sqlite3.connect(window.db_path)
    conn.execute("UPDATE alembic_version SET version_num = '9999_future'")
    conn.commit()
    conn.close()
    stored = read_stored_worklist(window.home, "01")
    assert stored.rows is None and stored.keystore is not None and "9999_future" in stored.reason
