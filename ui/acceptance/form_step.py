"""Step 3 — every field of the application form (附件1), validated as it is typed.

Sections follow the printed form: applicant, 数据共享 (values the platform verifies or supplies),
户籍事项, 养老保险 / 社保卡, 医疗保险. A section that the chosen items do not need is disabled
with a note saying why. Each field shows the rules engine's message under it once the clerk has
touched it (all of them after an attempt to go on). When the platform is reachable, the 数据共享
values are fetched on entering the step (``counter_app.sync.lookup_data_sharing`` on
``ctx.tasks.io``); offline, the clerk sets them by hand after seeing the paper proof.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRegularExpression, Qt, QTimer
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import QApplication, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

from counter_app.data_sharing import VERIFIED_PATHS, VETERAN_FILE_SOURCE, apply_data_sharing, verified
from counter_app.divisions import guess_division, place_parts
from counter_app.masking import mask_id_number
from counter_app.rules import validate
from counter_app.scheme import (
    EDUCATION_LEVELS, MARITAL_STATUSES, POLITICAL_STATUSES, RESERVE_LETTER_STATES, FamilyMode, HouseholdType,
    MedicalChoice,
)
from ui.acceptance.fields import ENTER_SKIPS, FieldSet, first_to_fill, messages, problems_for
from ui.acceptance.step import Step, page_layout, user_message
from ui.acceptance.style import set_role

FORM_PREFIXES = ("applicant.political_status", "applicant.education", "applicant.marital_status", "applicant.phone",
                 "applicant.backup", "applicant.placement", "applicant.current_address", "applicant.discharge_date",
                 "data_sharing",
                 "veteran_affairs.bank", "veteran_affairs.reserve", "hukou.", "pension.card", "medical.")
RELATIONS = ["父亲", "母亲", "配偶", "子女", "兄弟", "姐妹", "祖父", "祖母", "外祖父", "外祖母", "其他亲属", "朋友"]


def phone_validator(parent) -> QRegularExpressionValidator:
    """Digits, and the '-' of an area code: a letter typed into a phone field is not taken at all,
    instead of being refused later with a message about the length."""
    return QRegularExpressionValidator(QRegularExpression(r"[0-9\- ]{0,20}"), parent)


def fetch_data_sharing(window: Any, id_number: str) -> dict:
    """``ctx.tasks.io``: the platform's answers (raises the sync package's Chinese errors)."""
    from counter_app.sync import lookup_data_sharing

    return lookup_data_sharing(window, id_number)


# Fields Enter passes by while empty: division codes recognised from the place names, and what the
# platform's data sharing supplies (the clerk still reaches them with Tab or a click).
ENTER_PASSES_BY = ("applicant.placement_division", "hukou.police_station_division", "data_sharing.property_verified",
                   "veteran_affairs.bank_account", "veteran_affairs.bank_name")

ADDRESS_FOLLOWERS = ("hukou.target_address", "pension.card_mailing_address")
INSURED_PLACE = ("medical.insured_city", "medical.insured_county", "medical.insured_town", "medical.insured_village")
# Each division-code field and the name it is recognised from: the code shows as the name is typed
# (the core fills the same code when the draft is saved; the field must not show its placeholder
# until the step is reloaded).
DIVISION_SOURCES = {"applicant.placement_place": "applicant.placement_division",
                    "hukou.police_station": "hukou.police_station_division"}


class FormStep(Step):
    key = "form"
    title = "填写申请表"
    actions = (("F5", "从平台获取数据共享信息", "fetch_shared"),)

    def __init__(self, ctx, session, parent=None):
        super().__init__(ctx, session, parent)
        lay = page_layout(self, "第3步　申请表（附件1）",
                          "按 Enter 到下一个待填栏（已填的跳过，Tab 逐栏），都填好时到下一步。"
                          "标“数据共享”的信息联网时由平台自动核验填入。")
        self.summary = QLabel("")
        set_role(self.summary, "banner-info")
        lay.addWidget(self.summary)
        fs = self.fs = FieldSet(self)
        host = QWidget()
        col = QVBoxLayout(host)
        col.setContentsMargins(0, 0, 8, 0)

        def section(title: str) -> tuple[QGroupBox, QGridLayout, QLabel]:
            box = QGroupBox(title)
            grid = QGridLayout(box)
            grid.setHorizontalSpacing(16)
            grid.setVerticalSpacing(4)
            note = QLabel("")
            set_role(note, "hint")
            note.setVisible(False)
            grid.addWidget(note, 0, 0, 1, 3)
            for c in range(3):   # three equal columns: a field spanning two is two thirds wide
                grid.setColumnStretch(c, 1)
            col.addWidget(box)
            return box, grid, note

        # applicant ------------------------------------------------------------------
        _, g, _ = section("申请人信息")
        g.addWidget(fs.combo("applicant.political_status", "政治面貌", POLITICAL_STATUSES).container, 1, 0)
        g.addWidget(fs.combo("applicant.education", "学历", EDUCATION_LEVELS).container, 1, 1)
        g.addWidget(fs.combo("applicant.marital_status", "婚姻状况", MARITAL_STATUSES, editable=False).container, 1, 2)
        g.addWidget(fs.line("applicant.phone", "联系电话", placeholder="手机号11位，或区号-号码",
                            validator=phone_validator(self), complete="mobile").container, 2, 0)
        g.addWidget(fs.line("applicant.backup_contact", "备用联系人", max_length=30).container, 2, 1)
        g.addWidget(fs.combo("applicant.backup_relation", "备用联系人（关系）", RELATIONS).container, 2, 2)
        g.addWidget(fs.line("applicant.backup_phone", "联系人电话", validator=phone_validator(self), complete="mobile").container, 3, 0)
        g.addWidget(fs.line("applicant.placement_place", "拟安置地", placeholder="如 河南省新乡市红旗区").container, 3, 1, 1, 2)
        g.addWidget(fs.line("applicant.current_address", "现居住地址").container, 4, 0, 1, 3)
        g.addWidget(fs.line("applicant.discharge_date", "退出现役时间（退出现役证件）", placeholder="如 2026-09-01",
                            max_length=10, complete="date").container, 5, 0)
        g.addWidget(fs.line("applicant.placement_division", "拟安置地行政区划代码", max_length=6,
                            placeholder="6位；由拟安置地自动识别").container, 5, 1)
        g.addWidget(fs.combo("veteran_affairs.reserve_letter", "兵役登记介绍信（事项11）", RESERVE_LETTER_STATES,
                             editable=False).container, 5, 2)

        # data sharing -------------------------------------------------------------------
        _, g, self.ds_note = section("数据共享（平台核验）")
        g.addWidget(fs.tri("data_sharing.henan_hukou_before_enlistment", "入伍前是否河南户籍").container, 1, 0)
        g.addWidget(fs.tri("data_sharing.hukou_cancelled", "原户籍是否注销").container, 1, 1)
        g.addWidget(fs.tri("data_sharing.property_verified", "房屋产权信息已核验").container, 1, 2)
        g.addWidget(fs.line("veteran_affairs.bank_account", "社保卡银行账户卡号（一次性经济补助）",
                            max_length=32).container, 2, 0, 1, 2)
        g.addWidget(fs.line("veteran_affairs.bank_name", "开户行").container, 2, 2)
        row = QHBoxLayout()
        self.ds_status = QLabel("")
        self.ds_status.setWordWrap(True)
        set_role(self.ds_status, "hint")
        self.ds_button = QPushButton("从平台获取 (F5)")
        self.ds_button.clicked.connect(self.fetch_shared)
        row.addWidget(self.ds_status, 1)
        row.addWidget(self.ds_button)
        g.addLayout(row, 3, 0, 1, 3)

        # hukou --------------------------------------------------------------------------
        self.hukou_box, g, self.hukou_note = section("户籍事项（事项4 户口登记）")
        g.addWidget(fs.line("hukou.pre_enlistment_address", "入伍前户籍地址（原籍信息）").container, 1, 0, 1, 3)
        g.addWidget(fs.line("hukou.target_address", "拟申请落户地址").container, 2, 0, 1, 2)
        g.addWidget(fs.line("hukou.police_station", "拟落户地公安派出所").container, 2, 2)
        g.addWidget(fs.combo("hukou.relation_to_head", "与户主关系（投靠亲属）", RELATIONS).container, 3, 0)
        g.addWidget(fs.line("hukou.head_name", "户主姓名", max_length=30).container, 3, 1)
        g.addWidget(fs.line("hukou.head_id_number", "户主身份证号", max_length=24, complete="id").container, 3, 2)
        g.addWidget(fs.line("hukou.head_phone", "户主联系方式", validator=phone_validator(self), complete="mobile").container, 4, 0)
        g.addWidget(fs.line("hukou.property_info", "房屋产权信息（新立户）",
                            placeholder="不动产权证号；数据共享核验通过可不填").container, 4, 1, 1, 2)
        g.addWidget(fs.line("hukou.police_station_division", "派出所所在县行政区划代码", max_length=6,
                            placeholder="6位；由派出所名称自动识别").container, 5, 0)

        # pension / card -------------------------------------------------------------------
        self.card_box, g, self.card_note = section("社保卡申领（事项8）")
        g.addWidget(fs.line("pension.card_bank", "发卡银行").container, 1, 0)
        g.addWidget(fs.line("pension.card_mailing_address", "社保卡邮寄送达地址").container, 1, 1, 1, 2)

        # medical ----------------------------------------------------------------------------
        self.medical_box, g, self.medical_note = section("医疗保险事项（事项9、10）")
        g.addWidget(fs.line("medical.flexible_city", "参加灵活就业　市").container, 1, 0)
        g.addWidget(fs.line("medical.flexible_county", "县（市、区）").container, 1, 1)
        g.addWidget(fs.line("medical.transfer_from", "缴费起始年月（关系转移）", placeholder="如 2018-09",
                            max_length=7, complete="month").container, 2, 0)
        g.addWidget(fs.line("medical.transfer_to", "缴费截止年月", placeholder="如 2026-08", max_length=7,
                            complete="month").container, 2, 1)
        g.addWidget(fs.line("medical.insured_city", "城乡居民参保地　市").container, 3, 0)
        g.addWidget(fs.line("medical.insured_county", "县（市、区）").container, 3, 1)
        g.addWidget(fs.line("medical.insured_town", "乡镇（街道）").container, 3, 2)
        g.addWidget(fs.line("medical.insured_village", "村（社区）").container, 4, 0)
        self.date_label = QLabel("")
        set_role(self.date_label, "hint")
        col.addWidget(self.date_label)
        col.addStretch(1)

        self.scroll = QScrollArea()
        self.scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)   # a frame, not a field: no invisible Tab stop
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll.setWidget(host)
        lay.addWidget(self.scroll, 1)
        # optional, or filled by the program or the platform when there is something to fill
        for path in ENTER_PASSES_BY:
            fs.fields[path].widget.setProperty(ENTER_SKIPS, True)
        fs.edited.connect(self._edited)
        self._validate_timer = QTimer(self)
        self._validate_timer.setSingleShot(True)
        self._validate_timer.setInterval(200)
        self._validate_timer.timeout.connect(self._refresh_problems)
        self._fetched_for: str | None = None
        self.verified_values: dict[str, object] = {}   # path -> the platform's verified answer
        self.from_file: dict[str, str] = {}            # path -> what the veteran's file filled in

    # ------------------------------------------------------------------ protocol
    def enter(self) -> None:
        app = self.session.app
        self.fs.load(app)
        a = app.applicant
        self.summary.setText(f"申请人：{a.name}　{a.sex}　{a.birth_date}　{a.ethnicity}族　"
                             f"{a.id_document.title}：{mask_id_number(a.id_number)}　（在第1步修改）")
        self.date_label.setText(f"申请日期：{app.application_date or '提交时自动填写'}")
        self._apply_sections()
        self._address_defaults(self.fs.fields["applicant.current_address"].value(), "")
        for source in DIVISION_SOURCES:
            self._division_default(source, "")
        self._refresh_problems()
        if (self._fetched_for != a.id_number and a.id_number and not self.read_only
                and self.platform_available()):
            self.fetch_shared(auto=True)
        elif not self.platform_available() and self._fetched_for is None:
            self.ds_status.setText("未连接省平台：请根据申请人提供的纸质材料选择核验结果。")

    def commit(self) -> None:
        if not self.read_only:
            self.fs.store(self.session.app)

    def blockers(self) -> list[str]:
        problems = problems_for(validate(self.session.app), FORM_PREFIXES)
        self.fs.touch_all()
        self.fs.show_problems(problems, all_fields=True)
        first = self.fs.first_with_problem(problems)
        if first is not None:
            first.widget.setFocus()
            self.scroll.ensureWidgetVisible(first.container)
        return messages(problems)

    def focus_first(self) -> None:
        """The first field the clerk actually has to fill (what the card, the platform or a default
        filled is passed by); the first field of the form when all are filled."""
        first = first_to_fill(self, self.fs.order, self.fs.fields)
        (first or self.fs.fields["applicant.political_status"].widget).setFocus(Qt.FocusReason.TabFocusReason)

    def set_read_only(self, read_only: bool) -> None:
        super().set_read_only(read_only)
        self.ds_button.setEnabled(not read_only)
        if read_only:
            for f in self.fs.fields.values():
                f.set_enabled(False)
        else:
            self._apply_sections()

    # ------------------------------------------------------------------ sections
    def _apply_sections(self) -> None:
        if self.read_only:
            return
        app = self.session.app
        fs = self.fs
        has4, has8, has9, has10 = (app.has_item(n) for n in (4, 8, 9, 10))
        family = app.hukou.household_type == HouseholdType.FAMILY
        join = family and app.hukou.family_mode == FamilyMode.JOIN_RELATIVE
        new = family and app.hukou.family_mode == FamilyMode.NEW_HOUSEHOLD
        fs.set_enabled(["hukou.target_address", "hukou.police_station", "hukou.police_station_division"], has4)
        fs.set_enabled(["hukou.relation_to_head", "hukou.head_name", "hukou.head_id_number", "hukou.head_phone"],
                       has4 and join)
        fs.set_enabled(["hukou.property_info"], has4 and new)
        fs.set_enabled(["veteran_affairs.reserve_letter"], app.has_item(11))
        fs.set_enabled(["data_sharing.property_verified"], has4 and new)
        self._note(self.hukou_note, "" if has4 else "未选择户口登记事项：只需填写入伍前户籍地址。")
        fs.set_enabled(["pension.card_bank", "pension.card_mailing_address"], has8)
        self._note(self.card_note, "" if has8 else "未选择社保卡申领事项，无需填写。")
        choice = app.medical.choice if has9 else None
        fs.set_enabled(["medical.flexible_city", "medical.flexible_county"], choice == MedicalChoice.EMPLOYEE_FLEXIBLE)
        fs.set_enabled(INSURED_PLACE, choice == MedicalChoice.URBAN_RURAL)
        fs.set_enabled(["medical.transfer_from", "medical.transfer_to"], has10)
        self._note(self.medical_note, "" if (has9 or has10) else "未选择医疗保险事项，无需填写。")

    @staticmethod
    def _note(label: QLabel, text: str) -> None:
        label.setText(text)
        label.setVisible(bool(text))

    def _address_defaults(self, address: str, previous: str) -> None:
        """The 落户地址 and the 社保卡邮寄地址 default to the 现居住地址 and follow it while they still
        hold it (or nothing): most applicants register and receive the card where they live, and a
        field filled that way is one the clerk need not reach. A different address typed there stays."""
        target = self.fs.fields["hukou.target_address"].value()
        for path in ADDRESS_FOLLOWERS:
            f = self.fs.fields[path]
            if address and f.container.isEnabled() and f.value() in ("", previous):
                f.set_value(address)
        self._insured_defaults(target)
        self.commit()

    def _insured_source(self) -> str:
        """The address the 城乡居民医保参保地 is read from: where the hukou goes (residents insure
        where they are registered), or where the applicant lives when no hukou item is chosen."""
        target = self.fs.fields["hukou.target_address"]
        return target.value() if target.container.isEnabled() else self.fs.fields["applicant.current_address"].value()

    def _insured_defaults(self, previous_target: str) -> None:
        """The 参保地 市/县/乡镇/村 read from that address (``divisions.place_parts``), each while it
        is empty or still holds what the previous address gave: a place typed there stays."""
        new = place_parts(self._insured_source())
        old = place_parts(previous_target) if previous_target else ("", "", "", "")
        for path, was, now in zip(INSURED_PLACE, old, new):
            f = self.fs.fields[path]
            if f.container.isEnabled() and f.value() in ("", was) and f.value() != now:
                f.set_value(now)
        self.commit()

    def _division_default(self, source: str, previous: str) -> None:
        """Show the code the name points at while the code field is empty or still holds the code of
        the previous name; a code the clerk typed stays (a name the table does not know is theirs to code)."""
        f = self.fs.fields[DIVISION_SOURCES[source]]
        if not f.container.isEnabled():
            return
        was = guess_division(previous) or "" if previous else ""
        if f.value() in ("", was):
            f.set_value(guess_division(self.fs.fields[source].value()) or "")
            self.commit()

    def _edited(self, path: str) -> None:
        if path == "applicant.current_address":
            self._address_defaults(self.fs.fields[path].value(), self.session.app.applicant.current_address)
        elif path == "hukou.target_address":
            self._insured_defaults(self.session.app.hukou.target_address)
        elif path in DIVISION_SOURCES:
            section, name = path.split(".")
            self._division_default(path, getattr(getattr(self.session.app, section), name) or "")
        self.commit()
        self._validate_timer.start()
        if path in self.verified_values:
            self._verified_answer_edited(path)
        if path in self.from_file and self.fs.fields[path].value() != self.from_file[path]:
            del self.from_file[path]          # the applicant's own value now, not the file's
            self._mark_from_file({})
        self.changed.emit()

    def _mark_from_file(self, filled: dict[str, str]) -> None:
        """Fields the veteran's file filled are tinted and say so until someone changes them."""
        self.from_file.update(filled)
        for path, f in self.fs.fields.items():
            if path in self.from_file:
                f.widget.setToolTip(f"来自{VETERAN_FILE_SOURCE}（省平台），请与申请人核对")
                set_role(f.widget, "from-file")
            elif f.widget.property("role") == "from-file":
                f.widget.setToolTip("")
                set_role(f.widget, "")

    def file_note(self) -> str:
        """One line naming what came from the veteran's file, for the data-sharing status."""
        if not self.from_file:
            return ""
        labels = "、".join(self.fs.fields[p].label for p in self.fs.order if p in self.from_file)
        return f"已从{VETERAN_FILE_SOURCE}带入（浅蓝底）：{labels}，请与申请人核对。"

    def _verified_answer_edited(self, path: str) -> None:
        """A platform-verified answer the clerk changed is the clerk's answer now, and says so."""
        f = self.fs.fields[path]
        if f.value() == self.verified_values[path]:
            f.widget.setToolTip("已通过数据共享核验")
            set_role(f.widget, "")
        else:
            f.widget.setToolTip("已由工作人员修改，不是平台核验结果")
            set_role(f.widget, "edited")
        changed = [self.fs.fields[p].label for p, v in self.verified_values.items() if self.fs.fields[p].value() != v]
        if changed:
            self.ds_status.setText("“" + "”“".join(changed) + "”已由工作人员修改，不再是平台核验结果；"
                                   "请确认申请人提供了相应纸质材料。")
            set_role(self.ds_status, "warning")
        else:
            self.ds_status.setText("已通过数据共享核验。" + self.file_note())
            set_role(self.ds_status, "ok")

    def _refresh_problems(self) -> None:
        self.fs.show_problems(problems_for(validate(self.session.app), FORM_PREFIXES))

    # ------------------------------------------------------------------ data sharing
    def fetch_shared(self, auto: bool = False) -> None:
        if self.read_only:
            return
        self.commit()
        number = self.session.app.applicant.id_number
        if not number:
            return
        self._fetched_for = number
        self.ds_status.setText("正在向省平台核验……")
        self.ds_button.setEnabled(False)

        def done(results: dict) -> None:
            self.ds_button.setEnabled(True)
            if number != self.session.app.applicant.id_number:
                return
            self.commit()
            applied = apply_data_sharing(self.session.app, results)
            self.fs.load(self.session.app)
            self.verified_values = {p: self.fs.fields[p].value() for p in VERIFIED_PATHS
                                    if verified(results, p)}
            self._mark_from_file(applied.from_file)
            self._apply_sections()
            self._refresh_problems()
            self.ds_status.setText("已通过数据共享核验。" + "".join(applied.notes) + self.file_note())
            set_role(self.ds_status, "ok")
            self.changed.emit()
            focus = QApplication.focusWidget()
            if any(self.fs.fields[p].widget is focus or self.fs.fields[p].widget.isAncestorOf(focus)
                   for p in applied.from_file):
                self.focus_first()   # the field the clerk was about to fill came from the file

        def failed(exc: BaseException) -> None:
            self.ds_button.setEnabled(True)
            text = user_message(exc, "数据共享核验")
            self.ds_status.setText(text + "（已填写的内容不受影响；可根据纸质材料手工选择。）")
            set_role(self.ds_status, "warning")
            if not auto:
                self.notify.emit(text, "warning")

        self.run_io(fetch_data_sharing, self.ctx.window, number, on_success=done, on_failure=failed)
