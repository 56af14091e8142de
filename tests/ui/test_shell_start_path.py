"""What the start path sets without naming Qt's namespace still holds: the roles the worklist
uses are Qt's, its header and cells say what they said, the window's shortcuts are window-wide,
the welcome text is centred and the toolbar shows text, fractional scaling passes through."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QToolBar

from counter_app.sla_order import worst_sla
from counter_app.workdays import worst_sla as worst_sla_of_workdays
from ui import worklist
from ui.worklist import COLUMNS, ONLINE, WorklistModel, WorklistRow


def test_the_roles_the_worklist_names_are_qts():
    assert worklist.DISPLAY_ROLE == Qt.ItemDataRole.DisplayRole.value
    assert worklist.TOOL_TIP_ROLE == Qt.ItemDataRole.ToolTipRole.value
    assert worklist.BACKGROUND_ROLE == Qt.ItemDataRole.BackgroundRole.value
    assert worklist.FOREGROUND_ROLE == Qt.ItemDataRole.ForegroundRole.value
    assert worklist.USER_ROLE == Qt.ItemDataRole.UserRole.value


def _row(**kw) -> WorklistRow:
    base = dict(kind="case", key="c1", case_no="4107022026000123", masked_name="张*", masked_id="4107**********0012",
                state="accepted", state_title="已受理", sla="overdue")
    base.update(kw)
    return WorklistRow(**base)


def test_the_model_holds_titles_cells_colours_and_the_row(app):
    model = WorklistModel()
    overdue, online = _row(), _row(kind=ONLINE, key="p1", case_no="（网上申请）", sla=None, source="online")
    model.set_rows([overdue, online])
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())] == list(COLUMNS)
    assert model.rowCount() == 2 and model.columnCount() == len(COLUMNS)
    texts = [model.data(model.index(0, c)) for c in range(len(COLUMNS))]
    assert texts[0] == "4107022026000123" and texts[1] == "张*" and texts[3] == "窗口受理"
    assert texts[4] == "已受理" and texts[6] == "已超时"
    for c in range(len(COLUMNS)):  # the whole row in the state's colours, the row itself behind every cell
        assert model.data(model.index(0, c), Qt.ItemDataRole.BackgroundRole) == QColor(worklist.SLA_BACKGROUND["overdue"])
        assert model.data(model.index(0, c), Qt.ItemDataRole.ForegroundRole) == QColor(worklist.SLA_FOREGROUND["overdue"])
        assert model.data(model.index(0, c), Qt.ItemDataRole.UserRole) is overdue
        assert model.flags(model.index(0, c)) & Qt.ItemFlag.ItemIsEditable == Qt.ItemFlag.NoItemFlags
    assert model.data(model.index(0, 6), Qt.ItemDataRole.ToolTipRole) == "有事项已超过办理时限，请联系相关部门催办"
    assert model.data(model.index(0, 5), Qt.ItemDataRole.ToolTipRole) is None
    assert model.data(model.index(1, 3)) == "网上申请"
    assert model.data(model.index(1, 0), Qt.ItemDataRole.BackgroundRole) is None
    assert model.row_at(1) is online and model.rows == [overdue, online]
    # a new list replaces the old one whole
    model.set_rows([online])
    assert model.rowCount() == 1 and model.data(model.index(0, 3)) == "网上申请" and model.rows == [online]
    model.set_rows([])
    assert model.rowCount() == 0 and model.columnCount() == len(COLUMNS)


def test_the_main_window_keeps_its_shortcuts_toolbar_and_welcome(main_window):
    w = main_window()
    by_name = {a.objectName(): a for a in w._actions}
    assert by_name["actNew"].shortcut() == QKeySequence("F2")
    assert by_name["actLock"].shortcut() == QKeySequence("Ctrl+L")
    assert all(a.shortcutContext() == Qt.ShortcutContext.WindowShortcut for a in w._actions)
    toolbar = w.findChild(QToolBar, "pagesToolbar")
    assert toolbar.toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonTextOnly
    assert w.toolBarArea(toolbar) == Qt.ToolBarArea.TopToolBarArea
    assert w.welcome.alignment() == Qt.AlignmentFlag.AlignCenter


def test_fractional_scale_factors_pass_through(app):
    assert QGuiApplication.highDpiScaleFactorRoundingPolicy() == Qt.HighDpiScaleFactorRoundingPolicy.PassThrough


def test_the_most_urgent_sla_state_is_one_rule():
    assert worst_sla_of_workdays is worst_sla
    assert worst_sla(["on_time", None, "overdue", "at_risk"]) == "overdue"
    assert worst_sla(["done", "no_deadline"]) == "no_deadline"
    assert worst_sla([None, "unknown"]) is None
