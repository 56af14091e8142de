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
from PySide6.QtWidgets import QGridLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

from counter_app.divisions import guess_division
from counter_app.masking import mask_id_number
from counter_app.rules import validate
from counter_app.scheme import RESERVE_LETTER_STATES, FamilyMode, HouseholdType, MedicalChoice
from ui.acceptance.fields import ENTER_SKIPS, FieldSet, first_to_fill, messages, problems_for
from ui.acceptance.step import Step, page_layout, user_message
from ui.acceptance.style import set_role

FORM_PREFIXES = ("applicant.political_status", "applicant.education", "applicant.marital_status", "applicant.phone",
                 "applicant.backup", "applicant.placement", "applicant.current_address", "applicant.discharge_date",
                 "data_sharing",
                 "veteran_affairs.bank", "veteran_affairs.reserve", "hukou.", "pension.card", "medical.")
POLITICAL = ["中共党员", "中共预备党员", "共青团员", "民革党员", "民盟盟员", "民建会员", "民进会员", "农工党党员",
             "致公党党员", "九三学社社员", "台盟盟员", "无党派人士", "群众"]
EDUCATION = ["研究生（博士）", "研究生（硕士）", "大学本科", "大学专科", "中等专科", "职业高中", "技工学校", "高中",
             "初中", "小学"]
MARITAL = ["未婚", "已婚", "离婚", "丧偶"]
RELATIONS = ["父亲", "母亲", "配偶", "子女", "兄弟", "姐妹", "祖父", "祖母", "外祖父", "外祖母", "其他亲属", "朋友"]


def phone_validator(parent) -> QRegularExpressionValidator:
    """Digits, and the '-' of an area code: a letter typed into a phone field is not taken at all,
    instead of being refused later with a message about the length."""
    return QRegularExpressionValidator(QRegularExpression(r"[0-9\- ]{0,20}"), parent)


def apply_data_sharing(app, results: dict) -> list[str]:
    """Copy the platform's 数据共享 answers into the application; returns notes for the clerk."""
    notes: list[str] = []
    ds, va, h = app.data_sharing, app.veteran_affairs, app.hukou
    for key in ("henan_hukou_before_enlistment", "hukou_cancelled"):
        r = results.get(key) or {}
        if r.get("verified") and isinstance(r.get("value"), bool):
            setattr(ds, key, r["value"])
        if r.get("note"):
            notes.append(str(r["note"]))
    prop = results.get("property_record") or {}
    if prop.get("verified"):
        ds.property_verified = bool(prop.get("found"))
        if prop.get("found") and prop.get("certificate_no") and not h.property_info:
            h.property_info = str(prop["certificate_no"])
    bank = results.get("social_security_bank_account") or {}
    if bank.get("found"):
        va.bank_account = str(bank.get("account") or va.bank_account)
        va.bank_name = str(bank.get("bank_name") or va.bank_name)
    return notes


VERIFIED_PATHS = ("data_sharing.henan_hukou_before_enlistment", "data_sharing.hukou_cancelled",
                  "data_sharing.property_verified")


def _verified(results: dict, path: str) -> bool:
    key = path.split(".", 1)[1]
    answer = results.get("property_record" if key == "property_verified" else key) or {}
    return bool(answer.get("verified"))


def fetch_data_sharing(window: Any, id_number: str) -> dict:
    """``ctx.tasks.io``: the platform's answers (raises the sync package's Chinese errors)."""
    from counter_app.sync import lookup_data_sharing

    return lookup_data_sharing(window, id_number)


# Fields Enter passes by while empty: division codes recognised from the place names, and what the
# platform's data sharing supplies (the clerk still reaches them with Tab or a click).
ENTER_PASSES_BY = ("applicant.placement_division", "hukou.police_station_division", "data_sharing.property_verified",
                   "veteran_affairs.bank_account", "veteran_affairs.bank_name")

ADDRESS_FOLLOWERS = ("hukou.target_address", "pension.card_mailing_address")
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
        g.addWidget(fs.combo("applicant.political_status", "政治面貌", POLITICAL).container, 1, 0)
        g.addWidget(fs.combo("applicant.education", "学历", EDUCATION).container, 1, 1)
        g.addWidget(fs.combo("applicant.marital_status", "婚姻状况", MARITAL, editable=False).container, 1, 2)
        g.addWidget(fs.line("applicant.phone", "联系电话", placeholder="手机号11位，或区号-号码",
                            validator=phone_validator(self)).container, 2, 0)
        g.addWidget(fs.line("applicant.backup_contact", "备用联系人", max_length=30).container, 2, 1)
        g.addWidget(fs.combo("applicant.backup_relation", "备用联系人（关系）", RELATIONS).container, 2, 2)
        g.addWidget(fs.line("applicant.backup_phone", "联系人电话", validator=phone_validator(self)).container, 3, 0)
        g.addWidget(fs.line("applicant.placement_place", "拟安置地", placeholder="如 河南省新乡市红旗区").container, 3, 1, 1, 2)
        g.addWidget(fs.line("applicant.current_address", "现居住地址").container, 4, 0, 1, 3)
        g.addWidget(fs.line("applicant.discharge_date", "退出现役时间（退出现役证件）", placeholder="如 2026-09-01",
                            max_length=10).container, 5, 0)
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
        g.addWidget(fs.line("hukou.head_id_number", "户主身份证号", max_length=24).container, 3, 2)
        g.addWidget(fs.line("hukou.head_phone", "户主联系方式", validator=phone_validator(self)).container, 4, 0)
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
                            max_length=7).container, 2, 0)
        g.addWidget(fs.line("medical.transfer_to", "缴费截止年月", placeholder="如 2026-08", max_length=7).container, 2, 1)
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
                and self._platform_available()):
            self.fetch_shared(auto=True)
        elif not self._platform_available() and self._fetched_for is None:
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
        fs.set_enabled(["medical.insured_city", "medical.insured_county", "medical.insured_town",
                        "medical.insured_village"], choice == MedicalChoice.URBAN_RURAL)
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
        for path in ADDRESS_FOLLOWERS:
            f = self.fs.fields[path]
            if address and f.container.isEnabled() and f.value() in ("", previous):
                f.set_value(address)
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
        elif path in DIVISION_SOURCES:
            section, name = path.split(".")
            self._division_default(path, getattr(getattr(self.session.app, section), name) or "")
        self.commit()
        self._validate_timer.start()
        if path in self.verified_values:
            self._verified_answer_edited(path)
        self.changed.emit()

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
            self.ds_status.setText("已通过数据共享核验。")
            set_role(self.ds_status, "ok")

    def _refresh_problems(self) -> None:
        self.fs.show_problems(problems_for(validate(self.session.app), FORM_PREFIXES))

    # ------------------------------------------------------------------ data sharing
    def _platform_available(self) -> bool:
        status = self.ctx.sync.last_status if self.ctx.sync is not None else None
        return self.ctx.sync is not None and (status is None or status.online is not False)

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
            notes = apply_data_sharing(self.session.app, results)
            self.fs.load(self.session.app)
            self.verified_values = {p: self.fs.fields[p].value() for p in VERIFIED_PATHS
                                    if _verified(results, p)}
            self._apply_sections()
            self._refresh_problems()
            self.ds_status.setText("已通过数据共享核验。" + "".join(notes))
            set_role(self.ds_status, "ok")
            self.changed.emit()

        def failed(exc: BaseException) -> None:
            self.ds_button.setEnabled(True)
            text = user_message(exc, "数据共享核验")
            self.ds_status.setText(text + "（已填写的内容不受影响；可根据纸质材料手工选择。）")
            set_role(self.ds_status, "warning")
            if not auto:
                self.notify.emit(text, "warning")

        self.run_io(fetch_data_sharing, self.ctx.window, number, on_success=done, on_failure=failed)
