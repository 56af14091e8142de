"""Step 2 — the joint items and the choices that go with them.

The retirement type decides which of the 11 items apply (``rules.item_applicability``): an item
that does not apply is disabled with the reason next to it. The choices of the form (户口类型,
养老 / 医保参保方式, 就业创业意向, 开具落户介绍信) are enabled only with the item they belong to.
Warnings of the rules engine about the combination (e.g. 社会保险登记 without 户口登记) are shown
below; errors block the step.
"""
from __future__ import annotations

import enum
from typing import Iterable

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup, QCheckBox, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QRadioButton, QScrollArea, QVBoxLayout,
    QWidget,
)

from counter_app.data_sharing import VETERAN_FILE_SOURCE, file_retirement_type
from counter_app.rules import item_applicability, normalise, validate
from counter_app.scheme import (
    CHOICE_TITLES, ITEMS, FamilyMode, HouseholdType, Intention, MedicalChoice, PensionChoice, RetirementType,
)
from ui.acceptance.fields import messages, problems_for
from ui.acceptance.step import Step, page_layout
from ui.acceptance.style import set_role

# ``scheme.CHOICE_TITLES`` is keyed by str-valued enum members, and PensionChoice.URBAN_RURAL equals
# MedicalChoice.URBAN_RURAL ("urban_rural") as a dict key, so one title overwrites the other there.
# Titles are therefore looked up per enum class here.
PENSION_TITLES = {PensionChoice.FLEXIBLE: "灵活就业养老保险参保登记", PensionChoice.URBAN_RURAL: "城乡居民养老保险参保登记"}
MEDICAL_TITLES = {MedicalChoice.EMPLOYEE_FLEXIBLE: "以灵活就业人员身份参加城镇职工基本医疗保险",
                  MedicalChoice.URBAN_RURAL: "城乡居民医保参保登记"}

CHOICE_FIELDS = ("items", "retirement_type", "veteran_affairs.intention", "veteran_affairs.settlement_letter",
                 "hukou.household_type", "hukou.family_mode", "pension.choice", "medical.choice")


class ChoiceGroup(QGroupBox):
    """Exclusive radio buttons for one enum; ``value()`` is None until one is picked."""

    def __init__(self, title: str, options: Iterable[enum.Enum], titles: dict | None = None, columns: int = 1):
        super().__init__(title)
        self.options = list(options)
        self.group = QButtonGroup(self)
        lay = QGridLayout(self)
        lay.setContentsMargins(10, 6, 10, 6)
        lay.setVerticalSpacing(2)
        self.buttons: list[QRadioButton] = []
        for i, opt in enumerate(self.options):
            text = (titles or {o: CHOICE_TITLES.get(o) for o in self.options}).get(opt) or getattr(opt, "title", str(opt))
            b = QRadioButton(text)
            self.group.addButton(b, i)
            self.buttons.append(b)
            lay.addWidget(b, i // columns, i % columns)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        set_role(self.message, "error")
        self.message.setVisible(False)
        lay.addWidget(self.message, (len(self.options) + columns - 1) // columns, 0, 1, columns)

    def value(self):
        i = self.group.checkedId()
        return self.options[i] if i >= 0 else None

    def set_value(self, value) -> None:
        self.group.setExclusive(False)
        for b in self.buttons:
            b.setChecked(False)
        self.group.setExclusive(True)
        if value is not None and value in self.options:
            self.buttons[self.options.index(value)].setChecked(True)

    def show_problem(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))


class ItemsStep(Step):
    key = "items"
    title = "事项选择"

    def __init__(self, ctx, session, parent=None):
        super().__init__(ctx, session, parent)
        lay = page_layout(self, "第2步　联办事项与选项",
                          "先选退役类型：适用的事项随即全部勾选，右侧选项预选为常见的回答；请取消申请人不办理的事项、"
                          "按申请人的回答更改选项（空格键勾选，Tab 键移动）。不适用的事项会变灰并说明原因。")
        body = QHBoxLayout()
        lay.addLayout(body, 1)

        left = QVBoxLayout()
        body.addLayout(left, 5)
        self.rtype = ChoiceGroup("退役类型", list(RetirementType),
                                 {t: t.title for t in RetirementType}, columns=3)
        left.addWidget(self.rtype)
        self.type_note = QLabel("")
        set_role(self.type_note, "hint")
        self.type_note.setVisible(False)
        left.addWidget(self.type_note)
        items_box = QGroupBox("联办事项（可多选）")
        il = QVBoxLayout(items_box)
        il.setSpacing(1)
        self.item_checks: dict[int, QCheckBox] = {}
        self.item_notes: dict[int, QLabel] = {}
        for n, item in ITEMS.items():
            row = QHBoxLayout()
            row.setSpacing(8)
            cb = QCheckBox(f"{n}. {item.title}")
            cb.setToolTip(f"{item.department.title}　{item.note}".strip())
            note = QLabel("")
            set_role(note, "hint")
            row.addWidget(cb)
            row.addWidget(note, 1)
            il.addLayout(row)
            self.item_checks[n] = cb
            self.item_notes[n] = note
            cb.toggled.connect(lambda _c, n=n: self._item_toggled(n))
        self.items_message = QLabel("")
        set_role(self.items_message, "error")
        self.items_message.setWordWrap(True)
        il.addWidget(self.items_message)
        left.addWidget(items_box, 1)

        right_host = QWidget()
        right = QVBoxLayout(right_host)
        right.setContentsMargins(0, 0, 0, 0)
        self.intention = ChoiceGroup("学历提升或就业创业意向（事项3）", list(Intention), columns=3)
        self.settlement = QCheckBox("开具落户介绍信（办理户口登记时自动勾选）")
        self.household = ChoiceGroup("户口类型（事项4）", list(HouseholdType), columns=2)
        self.family_mode = ChoiceGroup("居民家庭户入户方式", list(FamilyMode), columns=2)
        self.restore_elsewhere = QCheckBox("非原户口注销地恢复户口")
        self.pension = ChoiceGroup("养老保险参保（事项6）", list(PensionChoice), PENSION_TITLES)
        self.medical = ChoiceGroup("医疗保险参保（事项9）", list(MedicalChoice), MEDICAL_TITLES)
        right.addWidget(self.intention)
        va = QGroupBox("退役军人事务")
        vl = QVBoxLayout(va)
        vl.addWidget(self.settlement)
        right.addWidget(va)
        right.addWidget(self.household)
        right.addWidget(self.family_mode)
        self.family_mode.layout().addWidget(self.restore_elsewhere, 10, 0, 1, 2)
        right.addWidget(self.pension)
        right.addWidget(self.medical)
        self.warnings = QLabel("")
        self.warnings.setWordWrap(True)
        set_role(self.warnings, "banner-warning")
        self.warnings.setVisible(False)
        right.addWidget(self.warnings)
        right.addStretch(1)
        scroll = QScrollArea()
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)   # a frame, not a field: no invisible Tab stop
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(right_host)
        body.addWidget(scroll, 4)

        self._groups = (self.rtype, self.intention, self.household, self.family_mode, self.pension, self.medical)
        for g in self._groups:
            g.group.idClicked.connect(lambda _i: self._edited())
        self.settlement.toggled.connect(lambda _c: self._edited())
        self.restore_elsewhere.toggled.connect(lambda _c: self._edited())
        self._loading = False
        self._tried = False
        self._type_asked_for = ""
        self._file_type: RetirementType | None = None   # what the veteran's file said, once asked

    # ------------------------------------------------------------------ protocol
    def enter(self) -> None:
        self._loading = True
        try:
            app = self.session.app
            self.rtype.set_value(app.retirement_type)
            for n, cb in self.item_checks.items():
                cb.setChecked(n in app.items)
            self.intention.set_value(app.veteran_affairs.intention)
            self.settlement.setChecked(app.veteran_affairs.settlement_letter)
            self.household.set_value(app.hukou.household_type)
            self.family_mode.set_value(app.hukou.family_mode)
            self.restore_elsewhere.setChecked(app.hukou.restore_elsewhere)
            self.pension.set_value(app.pension.choice)
            self.medical.set_value(app.medical.choice)
        finally:
            self._loading = False
        self._refresh()
        self._ask_file_for_type()

    def _ask_file_for_type(self) -> None:
        """A walk-in whose type is not chosen yet: the veteran's file on the platform records it.
        Asked in the background without holding the clerk up; a type chosen meanwhile stays."""
        app = self.session.app
        number = app.applicant.id_number
        if (app.retirement_type is not None or app.source == "online" or not number or self.read_only
                or self._type_asked_for == number or not self.platform_available()):
            return
        self._type_asked_for = number
        from counter_app.sync import lookup_data_sharing

        def answered(results: dict) -> None:
            if not shiboken6.isValid(self):
                return
            rtype = file_retirement_type(results)
            if rtype is None or self.session.app.applicant.id_number != number or self.rtype.value() is not None:
                return
            self.rtype.set_value(rtype)
            self._file_type = rtype
            self._edited()
            self.type_note.setText(f"退役类型“{rtype.title}”来自{VETERAN_FILE_SOURCE}（省平台），请与申请人核对。")
            self.type_note.setVisible(True)

        # a failure only means the clerk chooses the type, as offline: nothing to report
        self.ctx.tasks.io.run(lookup_data_sharing, self.ctx.window, number, checks=["veteran_file"],
                              on_success=answered, on_failure=lambda _exc: None)

    def commit(self) -> None:
        if self.read_only:
            return
        app = self.session.app
        app.retirement_type = self.rtype.value()
        app.items = sorted(n for n, cb in self.item_checks.items() if cb.isChecked() and cb.isEnabled())
        app.veteran_affairs.intention = self.intention.value() if app.has_item(3) else None
        app.veteran_affairs.settlement_letter = self.settlement.isChecked()
        has4 = app.has_item(4)
        app.hukou.household_type = self.household.value() if has4 else None
        family = has4 and app.hukou.household_type == HouseholdType.FAMILY
        app.hukou.family_mode = self.family_mode.value() if family else None
        app.hukou.restore_elsewhere = self.restore_elsewhere.isChecked() if family else False
        app.pension.choice = self.pension.value() if app.has_item(6) else None
        app.medical.choice = self.medical.value() if app.has_item(9) else None

    def blockers(self) -> list[str]:
        self._tried = True
        problems = problems_for(validate(self.session.app), CHOICE_FIELDS)
        self._show_problems(problems)
        return messages(problems)

    def focus_first(self) -> None:
        b = self.rtype.group.checkedButton() or self.rtype.buttons[0]
        b.setFocus()

    def set_read_only(self, read_only: bool) -> None:
        super().set_read_only(read_only)
        for w in (*self._groups, *self.item_checks.values(), self.settlement, self.restore_elsewhere):
            w.setEnabled(not read_only)
        if not read_only:
            self._refresh()

    # ------------------------------------------------------------------ live rules
    def _item_toggled(self, n: int) -> None:
        if self._loading:
            return
        if n == 4 and self.item_checks[4].isChecked():
            # 户口登记 needs the 落户介绍信 from VA: tick it (rules.normalise does the same)
            self.settlement.setChecked(True)
        self._edited()

    def _edited(self) -> None:
        if self._loading or self.read_only:
            return
        app = self.session.app
        first_type = app.retirement_type is None and self.rtype.value() is not None
        self.type_note.setVisible(self._file_type is not None and self.rtype.value() == self._file_type)
        self.commit()
        normalise(app)
        self._refresh()
        chosen = [n for n in app.items if not ITEMS[n].exempt_application]  # 免申即享 items come by themselves
        if first_type and not chosen and app.source != "online":
            self._preselect_applicable()
        self.changed.emit()

    def _preselect_applicable(self) -> None:
        """A walk-in comes for the joint service: once the retirement type is known, every item that
        applies is ticked and the clerk unticks what the applicant does not want (one key each),
        instead of ticking eleven. An online application keeps the applicant's own choice."""
        self._loading = True
        try:
            for cb in self.item_checks.values():
                if cb.isEnabled():
                    cb.setChecked(True)
            self.settlement.setChecked(self.settlement.isChecked() or self.item_checks[4].isChecked())
        finally:
            self._loading = False
        self.commit()
        normalise(self.session.app)
        self._refresh()
        self._preselect_choices()

    # The walk-in's choices start at the usual answer (the clerk changes the ones the applicant
    # answers otherwise; the applicant reads and signs every one on the form): 就业创业意向 at the
    # neutral 没有考虑好, 居民家庭户 by 投靠亲属, and social insurance continued as a flexibly
    # employed person, as most returning veterans do.
    WALK_IN_DEFAULTS = {"intention": Intention.UNDECIDED, "household": HouseholdType.FAMILY,
                        "family_mode": FamilyMode.JOIN_RELATIVE, "pension": PensionChoice.FLEXIBLE,
                        "medical": MedicalChoice.EMPLOYEE_FLEXIBLE}

    def _preselect_choices(self) -> None:
        self._loading = True
        try:
            for name in ("intention", "household", "family_mode", "pension", "medical"):
                group: ChoiceGroup = getattr(self, name)
                self.family_mode.setEnabled(self.household.isEnabled()
                                            and self.household.value() == HouseholdType.FAMILY)
                if group.isEnabled() and group.value() is None:
                    group.set_value(self.WALK_IN_DEFAULTS[name])
        finally:
            self._loading = False
        self.commit()
        normalise(self.session.app)
        self._refresh()

    def _refresh(self) -> None:
        app = self.session.app
        self._loading = True
        try:
            for ia in item_applicability(app):
                cb, note = self.item_checks[ia.number], self.item_notes[ia.number]
                if not self.read_only:
                    cb.setEnabled(ia.applicable)
                if not ia.applicable and cb.isChecked():
                    cb.setChecked(False)
                item = ITEMS[ia.number]
                note.setText(ia.reason if not ia.applicable else (item.note.split("，")[0] if item.note else ""))
                set_role(note, "warning" if not ia.applicable else "hint")
                if item.exempt_application and ia.applicable and app.retirement_type is not None:
                    cb.setChecked(ia.number in app.items)  # 免申即享: rules.normalise includes it
                    cb.setEnabled(False)
                    note.setText("免申即享，自动纳入")
        finally:
            self._loading = False
        if not self.read_only:
            usable = {ia.number for ia in item_applicability(app) if ia.applicable}
            app.items = [n for n in app.items if n in usable]
            has4 = app.has_item(4)
            self.intention.setEnabled(app.has_item(3))
            self.household.setEnabled(has4)
            self.family_mode.setEnabled(has4 and self.household.value() == HouseholdType.FAMILY)
            self.pension.setEnabled(app.has_item(6))
            self.medical.setEnabled(app.has_item(9))
        problems = problems_for(validate(app), CHOICE_FIELDS)
        self._show_problems(problems if self._tried else [p for p in problems if not p.blocking])

    def _show_problems(self, problems) -> None:
        groups = {"retirement_type": self.rtype, "veteran_affairs.intention": self.intention,
                  "hukou.household_type": self.household, "hukou.family_mode": self.family_mode,
                  "pension.choice": self.pension, "medical.choice": self.medical}
        for path, g in groups.items():
            g.show_problem(next((p.message for p in problems if p.field == path and p.blocking), ""))
        item_errors = [p.message for p in problems if p.field in ("items", "veteran_affairs.settlement_letter")
                       and p.blocking]
        self.items_message.setText("\n".join(item_errors))
        warnings = [p.message for p in problems if not p.blocking]
        self.warnings.setText("提示：\n" + "\n".join(f"· {w}" for w in dict.fromkeys(warnings)) if warnings else "")
        self.warnings.setVisible(bool(warnings))
