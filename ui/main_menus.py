"""The main window's menus and toolbar: every action with its shortcut, in one table-like place.

Thread contract: GUI thread only.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QToolBar

if TYPE_CHECKING:
    from ui.main_window import MainWindow

SHORTCUT_HELP = (
    ("F2", "新建受理（窗口受理，无网上申请）"), ("F3", "查找：公民身份号码、姓名或办件编号"),
    ("Enter", "打开工作台中所选的办件"), ("F4", "回到工作台"), ("F5", "刷新当前页面"),
    ("F6", "当日概况（审核负责人）"), ("F7", "系统设置（系统管理员）"), ("F8", "立即与省平台同步"),
    ("Esc", "从办件详情返回工作台"), ("Ctrl+L", "锁屏"), ("Ctrl+Q", "退出程序"),
    ("受理界面中", "F5–F9、Esc、Ctrl+数字 由受理流程使用（见界面底部按钮）"),
    ("F11 / Shift+F11", "演示模式：放置 / 取走身份证"), ("Alt+字母", "按钮和菜单上带下划线的字母"),
)


def add_action(w: "MainWindow", menu, text: str, slot, shortcut: str | QKeySequence | None = None, *,
               name: str = "", enabled: bool = True) -> QAction:
    """A menu action whose shortcut works even while the menu bar is hidden: window-wide, QAction's
    default context (``Qt.ShortcutContext.WindowShortcut``; naming it here would build Qt's
    namespace on the start path, see ``ui.app.ensure_application``)."""
    # QAction(text, parent) would build QIcon's type (a 151-member enum) while resolving the overload
    action = QAction(w)
    action.setText(text)
    if shortcut:
        # Set as the property: resolving setShortcut's overloads (sequence, standard key, Qt.Key)
        # makes PySide build Qt's whole namespace, which the start path leaves for later.
        action.setProperty("shortcut", shortcut if isinstance(shortcut, QKeySequence) else QKeySequence.fromString(shortcut))
    if name:
        action.setObjectName(name)
    action.triggered.connect(slot)
    action.setEnabled(enabled)
    menu.addAction(action)
    w.addAction(action)
    w._actions.append(action)
    return action


def build_menus(w: "MainWindow") -> None:
    bar = w.menuBar()
    case_menu = bar.addMenu("办件(&F)")
    w.act_new = add_action(w, case_menu, "新建受理(&N)", w.start_walk_in, "F2", name="actNew",
                                enabled=w.may_handle)
    w.act_find = add_action(w, case_menu, "查找(&S)", w.focus_search, "F3", name="actFind",
                                 enabled=w.may_handle)
    case_menu.addSeparator()
    w.act_lock = add_action(w, case_menu, "锁屏(&L)", w.lock, "Ctrl+L", name="actLock")
    w.act_logout = add_action(w, case_menu, "退出登录(&O)", w.logout, None, name="actLogout")
    w.act_quit = add_action(w, case_menu, "退出程序(&X)", w.close, "Ctrl+Q", name="actQuit")

    view = bar.addMenu("页面(&V)")
    w.act_worklist = add_action(w, view, "工作台(&W)", w.show_worklist, "F4", name="actWorklist",
                                     enabled=w.may_handle)
    w.act_refresh = add_action(w, view, "刷新(&R)", w.refresh_current, "F5", name="actRefresh")
    w.act_supervisor = add_action(w, view, "当日概况(&D)", w.show_supervisor, "F6", name="actSupervisor",
                                       enabled=w.may_supervise)
    w.act_settings = add_action(w, view, "系统设置(&T)", w.show_settings, "F7", name="actSettings",
                                     enabled=w.may_configure)

    sync = bar.addMenu("同步(&Y)")
    w.act_sync = add_action(w, sync, "立即同步(&S)", w.sync_now, "F8", name="actSync",
                                 enabled=w.ctx.sync is not None)

    if w.ctx.demo:
        demo = bar.addMenu("演示(&E)")
        w.act_place_card = add_action(w, demo, "放置身份证(&P)", w.place_demo_card, "F11", name="actPlaceCard",
                                           enabled=w.ctx.devices is not None)
        w.act_remove_card = add_action(w, demo, "取走身份证(&R)", w.remove_demo_card, "Shift+F11",
                                            name="actRemoveCard", enabled=w.ctx.devices is not None)
        w.demo_cards_menu = demo.addMenu("放置其他演示证件(&C)")
        w.demo_cards_menu.setEnabled(False)

    help_menu = bar.addMenu("帮助(&H)")
    w.act_keys = add_action(w, help_menu, "快捷键一览(&K)", w.show_shortcuts, "F1", name="actKeys")

    toolbar = QToolBar("页面")
    toolbar.setObjectName("pagesToolbar")
    toolbar.setMovable(False)  # text only (its actions have no icons): the style sheet says so too
    w._toolbar_buttons: list[tuple[QAction, QAction]] = []
    for action, label in ((w.act_worklist, "工作台 F4"), (w.act_new, "新建受理 F2"),
                          (w.act_supervisor, "当日概况 F6"), (w.act_settings, "系统设置 F7"),
                          (w.act_sync, "立即同步 F8"), (w.act_lock, "锁屏 Ctrl+L")):
        button_action = toolbar.addAction(label)
        button_action.triggered.connect(action.trigger)
        w._toolbar_buttons.append((button_action, action))
    w.addToolBar(toolbar)  # the top area
