"""The clerk's worklist: today's online-approved applications and the window's cases, with
department progress, coloured by SLA state; search by ID number, name or case number.

Loading and searching (:func:`load_worklist`, :func:`search_worklist`) run on ``ctx.tasks.db``
(they decrypt and query); the page and its model live on the GUI thread and hold only masked
values: a full name or ID number never reaches a widget here.
"""
from __future__ import annotations
from counter_app.clock import CHINA_TZ


import datetime as _dt
import logging
import re
from contextlib import contextmanager
from dataclasses import dataclass

# Not ``Qt`` at import, nor anything that makes PySide build its namespace before the first rows
# are painted (see ``ui.app.ensure_application``): the roles are Qt's numbers, checked by a test.
from PySide6.QtCore import QModelIndex, Signal, Slot
from PySide6.QtGui import QColor, QKeySequence, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QPushButton, QTableView, QVBoxLayout, QWidget,
)

from counter_app.queries.worklist import (  # noqa: F401 - the row type and kinds are the page's vocabulary
    CASE, ONLINE, WorklistRow, case_rows, online_rows, read_worklist,
)
from ui.background import submit
from ui.context import AppContext
from ui.errors import user_message

log = logging.getLogger(__name__)


SLA_TITLES = {"on_time": "按时", "at_risk": "临近时限", "overdue": "已超时", "done": "已办结",
              "no_deadline": "无时限", None: ""}
# Row colours by SLA state (the SLA column repeats it in words, so colour is never the only cue).
SLA_BACKGROUND = {"on_time": "#e3f4e6", "at_risk": "#fff1c7", "overdue": "#fbd9d6"}
SLA_FOREGROUND = {"on_time": "#0f4d1c", "at_risk": "#6b4700", "overdue": "#8c0016"}
# Given to the view as colours (Qt paints a colour as a solid brush): a QBrush would build the
# gradient, image and pixmap types its constructors accept, with their enums, before the first rows.
_BACKGROUND = {k: QColor(v) for k, v in SLA_BACKGROUND.items()}
_FOREGROUND = {k: QColor(v) for k, v in SLA_FOREGROUND.items()}

# Shown while the list on screen is the store as read at start and the full services still open.
PRELIMINARY = "本机已存的工作台（正在打开本窗口的数据，查找和打开办件稍候可用；网上申请随后更新）"
WAITING = "正在打开本窗口的数据……"


@dataclass
class SearchResult:
    rows: list[WorklistRow]
    message: str = ""


# ---------------------------------------------------------------------- loading (worker thread)

def today_local(window) -> _dt.date:
    now = window.cases.clock()
    return now.astimezone(CHINA_TZ).date()


def _now(window) -> _dt.datetime:
    clock = getattr(window.cases, "clock", None)
    return clock() if clock else _dt.datetime.now(_dt.timezone.utc)


@contextmanager
def _reading(window):
    """A read-only connection to the open window's store (the worklist's one query, see
    ``counter_app.queries.worklist``); a damaged or unreadable store raises its Chinese message."""
    from counter_app.queries.local_store import connect_read_only

    conn = connect_read_only(window.db_path)
    try:
        yield conn
    finally:
        conn.close()


def decode_worklist_entry(window, entry) -> dict:
    """The decrypted payload of a ``WorklistEntry`` (the platform's online application), decoded
    by the core's one definition without importing the sync package (start-up path)."""
    from counter_app.store.worklist_entries import decode_entry

    return decode_entry(window, entry)


def _case_rows(window, cases) -> list[WorklistRow]:
    """Rows (the list's query) of the cases a search found (summaries or records), in its order."""
    with _reading(window) as conn:
        return case_rows(conn, window.vault, [c.id for c in cases])


def _online_rows(window, *, id_bidx: str | None = None, name: str | None = None) -> list[WorklistRow]:
    with _reading(window) as conn:
        return online_rows(conn, window.vault, own_window_no=str(window.settings.window_no), now=_now(window),
                           id_bidx=id_bidx, name=name)


def load_worklist(window, today: _dt.date | None = None, *, refresh_sla: bool = True) -> list[WorklistRow]:
    """Online applications waiting, then today's cases, then older cases still open
    (``counter_app.queries.worklist``, the list's one query).

    ``refresh_sla=False`` lists what the store holds at once (the page then refreshes the SLA
    states with :func:`refreshed_worklist` and shows the list again only if a state changed).
    Blocks (database, decryption): call through ``ctx.tasks.db``.
    """
    today = today or today_local(window)
    if refresh_sla:
        try:
            window.cases.refresh_sla(today)
        except Exception:  # stale colours are better than no list
            log.exception("刷新时限状态失败")
    with _reading(window) as conn:
        return read_worklist(conn, window.vault, today=today, own_window_no=str(window.settings.window_no),
                             now=_now(window))


def refreshed_worklist(window, today: _dt.date | None = None) -> list[WorklistRow] | None:
    """The SLA states recomputed (a new day, department progress); the list again when any changed,
    else None. Blocks: ``ctx.tasks.db``."""
    today = today or today_local(window)
    if not window.cases.refresh_sla(today):
        return None
    return load_worklist(window, today, refresh_sla=False)


_ID_NUMBER = re.compile(r"^\d{17}[\dX]$|^\d{15}$")


def classify_query(text: str) -> str:
    """"id_number", "case_no", "case_tail" (the last digits of a case number) or "name"."""
    from counter_app.case_number import looks_like_case_number
    from counter_app.identity import normalise_id_number

    compact = normalise_id_number(text)
    if looks_like_case_number(compact) or looks_like_case_number(text.strip()):
        return "case_no"
    if _ID_NUMBER.match(compact):
        return "id_number"
    if _CASE_TAIL.match(text.strip()):
        return "case_tail"
    return "name"


_CASE_TAIL = re.compile(r"^[\d-]{1,8}[\dX]?$")


def _digits(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isdigit() or ch == "X")


def search_worklist(window, text: str, today: _dt.date | None = None) -> SearchResult:
    """Find by ID number (blind index), case number, or name (decrypt-and-filter over today's and
    open cases, since names are encrypted and have no index). Blocks: call through ``ctx.tasks.db``."""
    from counter_app.cases import CaseError
    from counter_app.lifecycle import OPEN_STATES

    text = (text or "").strip()
    if not text:
        return SearchResult(load_worklist(window, today))
    kind = classify_query(text)
    if kind == "id_number":
        cases = window.cases.find_by_id_number(text)
        rows = _online_rows(window, id_bidx=window.cases.id_index(text)) + _case_rows(window, cases)
        return SearchResult(rows, "" if rows else "没有找到该公民身份号码的办件或网上申请。请核对号码，或按F2新建受理。")
    if kind == "case_no":
        try:
            record = window.cases.get_by_number(text)
        except CaseError as exc:
            return SearchResult([], exc.message)
        return SearchResult(_case_rows(window, [record]))
    # Name: no index on purpose (names are encrypted); scan what a clerk can be looking for.
    today = today or today_local(window)
    candidates = {c.id: c for c in window.cases.list_cases(day=today)}
    for c in window.cases.list_cases(states=OPEN_STATES):
        candidates.setdefault(c.id, c)
    if kind == "case_tail":
        # the last digits of a case number (its serial and check digit), as read off a receipt
        tail = _digits(text)
        rows = _case_rows(window, [c for c in candidates.values() if _digits(c.case_no).endswith(tail)])
        return SearchResult(rows, "" if rows else f"今日及未办结的办件中没有编号以“{text}”结尾的办件。"
                                                  "更早的办件请输入完整办件编号或扫描回执条码。")
    matches = []
    for c in candidates.values():
        try:
            if text in window.cases.get(c.id).application.applicant.name:
                matches.append(c)
        except Exception:
            log.warning("无法读取办件 %s", c.case_no)
    rows = _online_rows(window, name=text) + _case_rows(window, matches)
    return SearchResult(rows, "" if rows else f"今日及未办结的办件中没有姓名含“{text}”的申请人。"
                                              "更早的办件请用公民身份号码或办件编号查找。")


# ---------------------------------------------------------------------- model (GUI thread)

COLUMNS = ("办件编号", "申请人", "公民身份号码", "来源", "状态", "事项进度", "时限")


# Qt.ItemDataRole's values (a test holds them equal): naming the enum would build Qt's namespace.
DISPLAY_ROLE, TOOL_TIP_ROLE, BACKGROUND_ROLE, FOREGROUND_ROLE, USER_ROLE = 0, 3, 8, 9, 256
SLA_TIPS = {"on_time": "各事项均在办理时限内", "at_risk": "有事项剩余不超过1个工作日",
            "overdue": "有事项已超过办理时限，请联系相关部门催办"}


def cell_texts(r: WorklistRow) -> tuple[str, ...]:
    """The row's cells, in the order of :data:`COLUMNS`."""
    return (r.case_no + (f"（第{r.version}版）" if r.version > 1 else ""), r.masked_name, r.masked_id,
            "网上申请" if r.source == "online" else "窗口受理", r.state_title, r.progress_text,
            SLA_TITLES.get(r.sla, r.sla or ""))


class WorklistModel(QStandardItemModel):
    """The rows as items holding what the view shows — text, SLA colours, the time limit's tool
    tip — and the row itself (``UserRole``). The view paints them without calling back into
    Python: a Python ``headerData`` is handed Qt's ``Orientation``, and converting it builds Qt's
    whole namespace (~15 ms) before the first rows could be painted."""

    def __init__(self, parent=None):
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(list(COLUMNS))
        self._rows: list[WorklistRow] = []

    def set_rows(self, rows: list[WorklistRow]) -> None:
        self._rows = list(rows)
        self.beginResetModel()
        blocked = self.blockSignals(True)  # one reset for the views, not a signal per cell
        try:
            self.setRowCount(0)
            for r in self._rows:
                self.appendRow(self._items(r))
        finally:
            self.blockSignals(blocked)
        self.endResetModel()

    @staticmethod
    def _items(r: WorklistRow) -> list[QStandardItem]:
        items = []
        for col, text in enumerate(cell_texts(r)):
            item = QStandardItem()  # QStandardItem(text) would resolve its QIcon overload first
            item.setText(text)
            item.setEditable(False)
            item.setData(r, USER_ROLE)
            if r.sla in SLA_BACKGROUND:
                item.setData(_BACKGROUND[r.sla], BACKGROUND_ROLE)
                item.setData(_FOREGROUND[r.sla], FOREGROUND_ROLE)
            if col == 6 and r.sla:
                item.setData(SLA_TIPS.get(r.sla, ""), TOOL_TIP_ROLE)
            items.append(item)
        return items

    def row_at(self, row: int) -> WorklistRow:
        return self._rows[row]

    @property
    def rows(self) -> list[WorklistRow]:
        return list(self._rows)


class SearchBox(QLineEdit):
    """The search field; Down goes into the list (search, arrow, Enter). A key handler, not a
    widget shortcut: a shortcut's context is named with Qt's namespace (see :class:`WorklistModel`)."""

    down = Signal()

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt API
        if event.matches(QKeySequence.StandardKey.MoveToNextLine):
            self.down.emit()
            return
        super().keyPressEvent(event)


# ---------------------------------------------------------------------- page (GUI thread)

class WorklistPage(QWidget):
    """``open_online(platform_id)`` / ``open_case(case_id, state)``: the clerk chose a row
    (Enter or double click); the main window decides which screen handles it."""

    open_online = Signal(str)
    open_case = Signal(str, str)
    new_walk_in = Signal()
    loaded = Signal()  # after every (re)load or search, for tests and the status line

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("worklistPage")
        title = QLabel("今日工作台")
        title.setProperty("role", "title")
        self.search = SearchBox()
        self.search.setObjectName("worklistSearch")
        self.search.setPlaceholderText("公民身份号码、姓名或办件编号，回车查找（F3）")
        self.search.setClearButtonEnabled(True)
        self.search_button = QPushButton("查找(&S)")
        self.clear_button = QPushButton("全部(&A)")
        self.refresh_button = QPushButton("刷新 F5")
        self.new_button = QPushButton("新建受理 F2")
        self.new_button.setProperty("role", "primary")
        self.new_button.setObjectName("newWalkInButton")
        top = QHBoxLayout()
        top.addWidget(title)
        top.addSpacing(12)
        top.addWidget(self.search, 1)
        for b in (self.search_button, self.clear_button, self.refresh_button, self.new_button):
            top.addWidget(b)

        self.model = WorklistModel(self)
        self.table = QTableView()
        self.table.setObjectName("worklistTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(36)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.table.activated.connect(self._activated)

        self.summary = QLabel("")
        self.summary.setObjectName("worklistSummary")
        self.message = QLabel("")
        self.message.setObjectName("worklistMessage")
        self.message.setProperty("role", "hint")
        self.message.setWordWrap(True)
        legend = QLabel("颜色：绿＝按时　黄＝临近时限　红＝已超时　　回车打开所选办件")
        legend.setProperty("role", "hint")

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addWidget(self.table, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.summary, 1)
        bottom.addWidget(legend)
        layout.addLayout(bottom)

        self.search.returnPressed.connect(self.run_search)
        self.search_button.clicked.connect(self.run_search)
        self.clear_button.clicked.connect(self.show_all)
        self.refresh_button.clicked.connect(self.refresh)
        self.new_button.clicked.connect(self._new_walk_in)
        self.search.down.connect(self._into_table)  # Down from the search box goes into the list
        QWidget.setTabOrder(self.search, self.search_button)
        QWidget.setTabOrder(self.search_button, self.table)
        self._loading = False
        self._stored = False
        self._waiting = False
        self._query = ""

    # ---- loading -------------------------------------------------------------------------
    @Slot()
    def refresh(self) -> None:
        """Reload with the current query (or the whole list)."""
        self._start(self._query)

    @Slot()
    def show_all(self) -> None:
        self.search.clear()
        self._start("")

    @Slot()
    def run_search(self) -> None:
        self._start(self.search.text().strip())

    def focus_search(self) -> None:
        from PySide6.QtCore import Qt

        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def _start(self, query: str) -> None:
        self._query = query
        window = self.ctx.window
        if window is None:
            # The services are still opening (an operator known at start): the stored list, if
            # shown, stays; searching and the full list follow once they are open.
            self._waiting = True
            if not self._stored:
                self._loading = True
                self.message.setText(WAITING)
            return
        self._waiting = False
        self._loading = True
        self.message.setText("正在查找……" if query else "正在载入……")
        if query:
            submit(self.ctx.tasks.db, search_worklist, window, query, on_success=self._show, on_failure=self._failed)
        else:
            # the list as stored, at once; the time-limit colours are brought up to date once it is
            # shown (run alongside, the refresh holds the interpreter while the table asks for its
            # cells, and the first list came ~0.5 s later)
            submit(self.ctx.tasks.db, load_worklist, window, refresh_sla=False, on_success=self._show_rows,
                   on_failure=self._failed)

    @property
    def loading(self) -> bool:
        return self._loading

    @property
    def showing_stored(self) -> bool:
        """The rows on screen are the store as read at start (:meth:`show_stored`)."""
        return self._stored

    @property
    def waiting_for_services(self) -> bool:
        """A load or search was asked for before ``ctx.window`` opened: :meth:`refresh` once it is."""
        return self._waiting

    def show_stored(self, rows: list[WorklistRow]) -> None:
        """The worklist as the store held it, read before the full services opened
        (``counter_app.queries.worklist.read_stored_worklist``); said so above the list until the full list replaces it."""
        if self.ctx.window is not None:  # the full list is on its way or shown: it wins
            return
        self._stored = True
        self._show(SearchResult(rows, PRELIMINARY))

    def _show_rows(self, rows: list[WorklistRow]) -> None:
        self._show(SearchResult(rows))
        submit(self.ctx.tasks.db, refreshed_worklist, self.ctx.window, on_success=self._sla_refreshed,
               on_failure=self._sla_failed)

    def _sla_refreshed(self, rows: list[WorklistRow] | None) -> None:
        if rows is not None and not self._query:
            self._show(SearchResult(rows))

    def _sla_failed(self, exc: BaseException) -> None:
        log.warning("刷新时限状态失败：%s", type(exc).__name__)

    def _show(self, result: SearchResult) -> None:
        self._loading = False
        self._stored = self._stored and self.ctx.window is None
        current = self.selected_row()
        self.model.set_rows(result.rows)
        self.message.setText(result.message)
        counts = {k: sum(1 for r in result.rows if r.sla == k) for k in ("on_time", "at_risk", "overdue")}
        online = sum(1 for r in result.rows if r.kind == ONLINE)
        self.summary.setText(f"共{len(result.rows)}件（网上申请待核验{online}件）：按时{counts['on_time']}，"
                             f"临近时限{counts['at_risk']}，已超时{counts['overdue']}")
        if result.rows:
            target = 0
            if current is not None:
                target = next((i for i, r in enumerate(result.rows) if r.key == current.key), 0)
            self.table.selectRow(target)
        self.loaded.emit()

    def _failed(self, exc: BaseException) -> None:
        self._loading = False
        self.message.setText(user_message(exc, "载入工作台"))
        self.loaded.emit()

    # ---- choosing -------------------------------------------------------------------------
    def selected_row(self) -> WorklistRow | None:
        idx = self.table.currentIndex()
        if not idx.isValid() or idx.row() >= self.model.rowCount():
            return None
        return self.model.row_at(idx.row())

    def _into_table(self) -> None:
        if self.model.rowCount():
            from PySide6.QtCore import Qt

            self.table.setFocus(Qt.FocusReason.ShortcutFocusReason)
            if not self.table.currentIndex().isValid():
                self.table.selectRow(0)

    @Slot(QModelIndex)
    def _activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.open_row(self.model.row_at(index.row()))

    def open_selected(self) -> None:
        row = self.selected_row()
        if row is not None:
            self.open_row(row)

    def _new_walk_in(self) -> None:
        if self.ctx.window is None:
            self.message.setText(WAITING + "新建受理稍候可用。")
            return
        self.new_walk_in.emit()

    def open_row(self, row: WorklistRow) -> None:
        if self.ctx.window is None:
            self.message.setText(WAITING + "稍候即可打开所选办件。")
            return
        if row.kind == ONLINE and row.claim_note:
            # the platform would refuse the claim too; saying so here costs no round trip
            self.message.setText(f"{row.claim_note}，本窗口不能同时受理该网上申请。"
                                 "如该窗口已停止受理，其认领30分钟内自动失效，届时按F5刷新。")
            return
        if row.kind == ONLINE:
            self.open_online.emit(row.key)
        else:
            self.open_case.emit(row.key, row.state)
