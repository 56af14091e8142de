"""Step 1 — identity: the ID card fills the fields by itself; manual entry for a 军人公民身份号码登记表.

Placing a card on the reader is enough: the device hub's ``card_read`` arrives on the GUI thread
and the fields are filled (no button). A veteran whose hukou is not yet restored holds only the
军人公民身份号码登记表: the clerk picks that document and types the fields; the number is checked
as typed (GB 11643 check digit, birth date, region) and sex and birth date are taken from it.
As soon as the number is valid the store is asked for an open case with the same number, which is
flagged with its case number. Finishing the step creates the draft (or saves it).
"""
from __future__ import annotations

import dataclasses

from typing import Callable

from PySide6.QtCore import QSize, Qt, QTimer, Slot
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QButtonGroup, QCheckBox, QFrame, QGridLayout, QHBoxLayout, QLabel, QPushButton, QRadioButton, QVBoxLayout,
)

from counter_app.cases import CaseError
from counter_app.identity import CardRefused, applicant_from_card, check_id_number
from counter_app.rules import validate
from counter_app.scheme import IdDocument
from ui.acceptance.fields import FieldSet, messages, problems_for
from ui.acceptance.session import china_today, create_or_save_draft, open_case_number
from ui.acceptance.step import Step, page_layout
from ui.acceptance.style import set_role

IDENTITY_FIELDS = ("applicant.name", "applicant.sex", "applicant.birth_date", "applicant.ethnicity",
                   "applicant.id_number")


def _ethnicities() -> list[str]:
    from devices.idcard.codes import ETHNICITY_NAMES, ethnicity_short_name

    return [ethnicity_short_name(c) for c in sorted(ETHNICITY_NAMES) if c.isdigit() and int(c) <= 56]


CARD_FIELDS = ("name", "sex", "birth_date", "ethnicity", "id_number", "id_document", "current_address")


def identity_snapshot(app) -> dict:
    """What a card is about to overwrite, so that taking the card back can undo it."""
    a = app.applicant
    return {name: getattr(a, name) for name in CARD_FIELDS}


def restore_identity(app, snapshot: dict | None) -> None:
    a = app.applicant
    for name in CARD_FIELDS:
        if name == "id_document":
            continue
        setattr(a, name, (snapshot or {}).get(name, ""))


def s_card_is_not(session, card) -> bool:
    """True when ``card`` is not the one already read into this acceptance."""
    return session.card is None or getattr(session.card, "id_number", None) != getattr(card, "id_number", None)


def card_mismatch(session, card) -> str:
    """Why ``card`` cannot be this acceptance's applicant ("" when it can).

    An online application or a saved draft already names the applicant: the card must carry the
    same ID number, or (an application without one) the same name and birth date. Both identities
    are shown, so the clerk sees at once whether the wrong card was placed.
    """
    a = session.app.applicant
    bound = session.case_id is not None or session.app.source == "online"
    if not bound or not (a.id_number or (a.name and a.birth_date)):
        return ""
    if a.id_number:
        same = card.id_number.upper() == a.id_number.upper()
    else:
        same = card.name == a.name and card.birth_date.isoformat() == a.birth_date
    if same:
        return ""
    from counter_app.masking import mask_id_number

    what = "网上申请" if session.app.source == "online" else "本办件"
    return (f"读到的身份证与{what}的申请人不一致，未填入。\n"
            f"{what}：{a.name}　{a.birth_date}　{mask_id_number(a.id_number) if a.id_number else '（无号码）'}\n"
            f"身份证：{card.name}　{card.birth_date.isoformat()}　{mask_id_number(card.id_number)}\n"
            "请核对是否放错了证件；确属他人申请的，请取消本次受理。")


class IdentityStep(Step):
    key = "identity"
    title = "身份核验"
    actions = (("F5", "演示：放置样例证件", "place_demo_card"), ("F6", "证件原件已核验", "toggle_original"),
               ("F7", "读取读卡器上的证件", "read_card_now"))

    def __init__(self, ctx, session, parent=None):
        super().__init__(ctx, session, parent)
        lay = page_layout(self, "第1步　身份核验",
                          "请申请人把居民身份证放在读卡器上，信息会自动填入。没有身份证的（户口尚未恢复），"
                          "选择“军人公民身份号码登记表”并人工录入。")
        body = QHBoxLayout()
        lay.addLayout(body, 1)

        left = QVBoxLayout()
        body.addLayout(left, 3)
        doc_row = QHBoxLayout()
        doc_row.addWidget(QLabel("证件类型："))
        self.doc_group = QButtonGroup(self)
        self.doc_buttons: dict[IdDocument, QRadioButton] = {}
        for i, doc in enumerate(IdDocument):
            b = QRadioButton(doc.title)
            self.doc_group.addButton(b, i)
            self.doc_buttons[doc] = b
            doc_row.addWidget(b)
        doc_row.addStretch(1)
        left.addLayout(doc_row)
        self.doc_group.idClicked.connect(self._doc_changed)

        self.fs = FieldSet(self)
        grid = QGridLayout()
        grid.setHorizontalSpacing(18)
        f_id = self.fs.line("applicant.id_number", "公民身份号码", placeholder="18位，末位可为X", max_length=24,
                            complete="id")
        f_name = self.fs.line("applicant.name", "申请人姓名", max_length=30)
        f_sex = self.fs.combo("applicant.sex", "性别", ["男", "女"], editable=False)
        f_birth = self.fs.line("applicant.birth_date", "出生日期", placeholder="如 1999-05-01", max_length=10,
                               complete="date")
        f_eth = self.fs.combo("applicant.ethnicity", "民族", _ethnicities())
        grid.addWidget(f_id.container, 0, 0, 1, 2)
        grid.addWidget(f_name.container, 1, 0)
        grid.addWidget(f_sex.container, 1, 1)
        grid.addWidget(f_birth.container, 2, 0)
        grid.addWidget(f_eth.container, 2, 1)
        left.addLayout(grid)
        self.original = QCheckBox("证件原件已核验（读卡成功自动勾选）　F6")
        left.addWidget(self.original)
        self.duplicate = QLabel("")
        self.duplicate.setWordWrap(True)
        set_role(self.duplicate, "banner-error")
        self.duplicate.setVisible(False)
        left.addWidget(self.duplicate)
        left.addStretch(1)

        card = QFrame()
        card.setProperty("role", "card")
        card.setFrameShape(QFrame.Shape.StyledPanel)
        cl = QVBoxLayout(card)
        cl.addWidget(QLabel("读卡器"))
        self.reader_state = QLabel("请将居民身份证放在读卡器上")
        self.reader_state.setWordWrap(True)
        set_role(self.reader_state, "banner-info")
        cl.addWidget(self.reader_state)
        self.photo = QLabel("证件照片")
        self.photo.setFixedSize(QSize(153, 189))   # 102×126 card photo at 1.5×
        self.photo.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.photo.setStyleSheet("border: 1px solid #c9d2dc; background: #f7f9fb; color: #4a5563;")
        cl.addWidget(self.photo, 0, Qt.AlignmentFlag.AlignHCenter)
        self.photo_note = QLabel("")
        self.photo_note.setWordWrap(True)
        set_role(self.photo_note, "hint")
        cl.addWidget(self.photo_note)
        self.card_info = QLabel("")
        self.card_info.setWordWrap(True)
        set_role(self.card_info, "hint")
        cl.addWidget(self.card_info)
        self.demo_button = QPushButton("演示：放置样例证件 (F5)")
        self.demo_button.clicked.connect(self.place_demo_card)
        self.demo_button.setVisible(ctx.demo and ctx.devices is not None)
        cl.addWidget(self.demo_button)
        cl.addStretch(1)
        body.addWidget(card, 2)

        self.fs.edited.connect(self._edited)
        self.original.toggled.connect(self._original_toggled)
        self._dup_timer = QTimer(self)
        self._dup_timer.setSingleShot(True)
        self._dup_timer.setInterval(300)
        self._dup_timer.timeout.connect(self._check_duplicate)
        self._checked_number: str | None = None
        self._connected = False
        self._stale_card = False   # a card lay on the reader before this acceptance began

    # ------------------------------------------------------------------ protocol
    def enter(self) -> None:
        app = self.session.app
        self.fs.load(app)
        self.doc_buttons[app.applicant.id_document].setChecked(True)
        self.original.blockSignals(True)
        self.original.setChecked(app.material(2).original_seen)
        self.original.blockSignals(False)
        self._refresh_problems()
        self._show_duplicate()
        hub = self.ctx.devices
        if hub is not None and not self._connected and not self.read_only:
            hub.card_read.connect(self._on_card)
            hub.card_photo.connect(self._on_card_photo)
            hub.card_error.connect(self._on_reader_message)
            hub.reader_status.connect(self._on_reader_message)
            hub.card_removed.connect(self._on_card_removed)
            self._connected = True
            self._stale_card = hub.current_card is not None and s_card_is_not(self.session, hub.current_card)
            if self._stale_card:
                # a card left on the reader (perhaps the previous applicant's) is never read into a
                # new acceptance by itself: the applicant places theirs again, or the clerk reads it (F7)
                self.reader_state.setText("读卡器上已有一张证件：请申请人取下后重新放置，或按 F7 读取该证件。")
                set_role(self.reader_state, "banner-warning")
            else:
                self.reader_state.setText(hub.reader_message or "请将居民身份证放在读卡器上")
        elif hub is None:
            self.reader_state.setText("本机未连接读卡器：请人工录入证件信息")
        if self.session.app.applicant.id_number and self._checked_number != self.session.app.applicant.id_number:
            self._dup_timer.start()

    def leave(self) -> None:
        self.commit()
        hub = self.ctx.devices
        if hub is not None and self._connected:
            for signal, slot in ((hub.card_read, self._on_card), (hub.card_photo, self._on_card_photo),
                                 (hub.card_removed, self._on_card_removed),
                                 (hub.card_error, self._on_reader_message),
                                 (hub.reader_status, self._on_reader_message)):
                try:
                    signal.disconnect(slot)
                except (RuntimeError, TypeError):
                    pass
            self._connected = False

    def commit(self) -> None:
        if self.read_only:
            return
        app = self.session.app
        self.fs.store(app)
        checked = self.doc_group.checkedId()
        if checked >= 0:
            app.applicant.id_document = list(IdDocument)[checked]
        app.material(2).original_seen = self.original.isChecked()

    def blockers(self) -> list[str]:
        # The clerk may be faster than the typing debounce: no separate look-up then, because
        # creating or saving the draft (advance) refuses a duplicate open case itself.
        self._dup_timer.stop()
        app = self.session.app
        problems = problems_for(validate(app), IDENTITY_FIELDS)
        self.fs.touch_all()
        self.fs.show_problems(problems, all_fields=True)
        out = messages(problems)
        if self.session.duplicate_case_no:
            out.append(self._duplicate_text())
        if not app.material(2).original_seen:
            out.append(f"请核验申请人的{app.applicant.id_document.title}原件后勾选“证件原件已核验”（F6）。")
        first = self.fs.first_with_problem(problems)
        if first is not None:
            first.widget.setFocus()
        return out

    def advance(self, proceed: Callable[[], None]) -> None:
        s = self.session
        if s.finalized:
            proceed()
            return

        def saved(record) -> None:
            created = s.case_id is None
            s.case_id, s.case_no = record.id, record.case_no
            s.app.application_date = record.application.application_date
            if created:
                self.notify.emit(f"已建立办件草稿，办件编号 {record.case_no}。", "ok")
            proceed()

        def failed(exc: BaseException) -> None:
            if isinstance(exc, CaseError) and exc.existing_case_no:
                s.duplicate_case_no = exc.existing_case_no
                self._show_duplicate()
                self.notify.emit(self._duplicate_text(), "error")
            else:
                from ui.acceptance.step import user_message

                self.notify.emit(user_message(exc, "建立办件"), "error")

        self.run_db(create_or_save_draft, self.ctx.window, s.case_id, s.app.copy(), self.actor, s.worklist_id,
                    on_success=saved, on_failure=failed)

    def focus_first(self) -> None:
        self.fs.fields["applicant.id_number"].widget.setFocus()

    def set_read_only(self, read_only: bool) -> None:
        super().set_read_only(read_only)
        for w in (*[f.container for f in self.fs.fields.values()], self.original, self.demo_button,
                  *self.doc_buttons.values()):
            w.setEnabled(not read_only)

    # ------------------------------------------------------------------ actions
    def place_demo_card(self) -> None:
        hub = self.ctx.devices
        if hub is not None and hub.sam_module is not None:
            hub.place_demo_card()
            self.reader_state.setText("已放置样例证件，正在读卡……")

    def read_card_now(self) -> None:
        """The clerk's explicit read of the card lying on the reader (F7)."""
        hub = self.ctx.devices
        if self.read_only or hub is None:
            return
        if hub.current_card is None:
            self.notify.emit("读卡器上没有证件，请申请人放置居民身份证。", "info")
            return
        card = hub.current_card
        self._on_card(card)
        # the photo was decoded when the card was laid down; if it is not decoded yet, card_photo
        # brings it when it is
        photo = hub.current_photo
        if photo is not None and photo[0] is card:
            self._on_card_photo(*photo)

    def toggle_original(self) -> None:
        if not self.read_only:
            self.original.toggle()

    # ------------------------------------------------------------------ card
    @Slot(object)
    def _on_card(self, card) -> None:
        if self.read_only:
            return
        self._stale_card = False
        s = self.session
        try:  # the core's rule: only a resident ID card fills the applicant
            from_card = applicant_from_card(card, s.app.applicant)
        except CardRefused as refused:
            self.notify.emit(refused.message, refused.severity)
            return
        refusal = card_mismatch(s, card)
        if refusal:
            self.notify.emit(refusal, "error")
            self.reader_state.setText("证件与申请人不一致，未填入")
            set_role(self.reader_state, "banner-error")
            self._stale_card = True   # this card stays unread: "证件仍在读卡区" must not look like success
            return
        if s.card is None:
            s.before_card = identity_snapshot(s.app)
        # In place: the draft's applicant object is shared (form fields, the session's snapshots).
        for f in dataclasses.fields(from_card):   # from this applicant's own card only
            setattr(s.app.applicant, f.name, getattr(from_card, f.name))
        s.app.material(2).original_seen = True
        s.card = card
        self.enter_values_only()
        notes = list(card.warnings)
        if card.valid_to is not None and card.valid_to < china_today():
            notes.append(f"身份证已于{card.valid_to:%Y年%m月%d日}过期，请核实后办理")
        valid = "长期" if card.valid_to is None else f"{card.valid_to:%Y.%m.%d}"
        self.card_info.setText(f"签发机关：{card.issuing_authority}\n有效期限：{card.valid_from:%Y.%m.%d}—{valid}"
                               + ("\n" + "；".join(notes) if notes else ""))
        self.reader_state.setText(f"已读取身份证：{card.name}")
        set_role(self.reader_state, "banner-ok")
        self.notify.emit(f"已读取身份证：{card.name}。" + ("；".join(notes) if notes else ""),
                         "warning" if notes else "ok")
        self.changed.emit()
        # a card is a complete number at once: ask the store now (no typing debounce)
        self._checked_number = None
        s.duplicate_case_no = None
        self._show_duplicate()
        self._check_duplicate()

    def enter_values_only(self) -> None:
        app = self.session.app
        self.fs.load(app)
        self.doc_buttons[app.applicant.id_document].setChecked(True)
        self.original.blockSignals(True)
        self.original.setChecked(app.material(2).original_seen)
        self.original.blockSignals(False)
        self._refresh_problems()

    @Slot(object, object, str)
    def _on_card_photo(self, card, image: QImage | None, message: str) -> None:
        own = self.session.card
        if own is None or own.id_number != card.id_number:
            return   # a card left on the reader or refused: its photo is not this applicant's
        if image is not None and not image.isNull():
            self.photo.setPixmap(QPixmap.fromImage(image).scaled(self.photo.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                                                  Qt.TransformationMode.SmoothTransformation))
            self.photo_note.setText("证件照片（读卡解码）")
        else:
            self.photo.setText("无证件照片")
            self.photo_note.setText(message)

    @Slot(str)
    def _on_reader_message(self, message: str) -> None:
        if not message or (self._stale_card and message.startswith("证件仍在")):
            return
        self.reader_state.setText(message)
        ok = message.startswith("已读取") or message.startswith("证件仍在")
        set_role(self.reader_state, "banner-ok" if ok else (
            "banner-info" if message.startswith("请将") else "banner-warning"))

    # ------------------------------------------------------------------ typing
    def _doc_changed(self, _id: int) -> None:
        if self.session.card is not None and list(IdDocument)[_id] is not IdDocument.RESIDENT_ID_CARD:
            self.clear_card("已改为人工录入：读自身份证的信息和“原件已核验”已清除，请按所持证件录入并重新核验原件。")
        self.commit()
        self.changed.emit()

    @Slot()
    def _on_card_removed(self) -> None:
        self._stale_card = False
        # Before the identity is confirmed (no draft yet) a card taken away takes its data with it;
        # after that the card goes back to the applicant as usual.
        if self.session.card is not None and self.session.case_id is None and not self.read_only:
            self.clear_card("证件已取走：读自该证件的信息已清除。请重新放置证件，或选择证件类型人工录入。")

    def clear_card(self, why: str) -> None:
        """Forget everything the last card filled in, and the 原件 tick, back to before it was read."""
        s = self.session
        restore_identity(s.app, s.before_card)
        s.app.material(2).original_seen = False
        s.card, s.before_card = None, None
        checked = self.doc_group.checkedId()
        if checked >= 0:
            s.app.applicant.id_document = list(IdDocument)[checked]
        self.enter_values_only()
        self.card_info.setText("")
        self.photo.clear()
        self.photo.setText("证件照片")
        self.photo_note.setText("")
        self.reader_state.setText("请将居民身份证放在读卡器上")
        set_role(self.reader_state, "banner-info")
        self._checked_number = None
        s.duplicate_case_no = None
        self._show_duplicate()
        self.notify.emit(why, "warning")
        self.changed.emit()

    def _original_toggled(self, checked: bool) -> None:
        self.session.app.material(2).original_seen = checked
        self.changed.emit()

    def _edited(self, path: str) -> None:
        self.commit()
        a = self.session.app.applicant
        if path == "applicant.id_number":
            check = check_id_number(a.id_number)
            if check.ok:
                # sex and birth date follow from a typed number (GB 11643); a card's own fields stay
                if self.session.card is None:
                    a.sex = check.sex or a.sex
                    self.fs.fields["applicant.sex"].set_value(a.sex)
                    if check.birth_date:
                        a.birth_date = check.birth_date.isoformat()
                        self.fs.fields["applicant.birth_date"].set_value(a.birth_date)
                self._dup_timer.start()
            else:
                self.session.duplicate_case_no = None
                self._show_duplicate()
        self._refresh_problems()
        self.changed.emit()

    def _refresh_problems(self) -> None:
        self.fs.show_problems(problems_for(validate(self.session.app), IDENTITY_FIELDS))

    # ------------------------------------------------------------------ duplicates
    def _check_duplicate(self) -> None:
        number = self.session.app.applicant.id_number
        if not check_id_number(number).ok or number == self._checked_number:
            return
        self._checked_number = number

        def found(case_no: str | None) -> None:
            if number != self.session.app.applicant.id_number:
                return  # the clerk typed on meanwhile
            own = self.session.case_no
            self.session.duplicate_case_no = case_no if case_no and case_no != own else None
            self._show_duplicate()
            if self.session.duplicate_case_no:
                self.notify.emit(self._duplicate_text(), "error")
            elif self.session.worklist_id is None:  # a walk-in: other windows, other centers
                from counter_app.sync.claims import person_open_case

                self.run_io(person_open_case, self.ctx.window, number, doing="向省平台核对重复办件",
                            on_success=lambda answer: self._platform_answered(number, *answer))

        self.run_db(open_case_number, self.ctx.window, number, doing="查询重复办件", on_success=found)

    def _platform_answered(self, number: str, other: dict | None, problem: str) -> None:
        if number != self.session.app.applicant.id_number or self.session.duplicate_case_no:
            return
        if problem:  # offline: said, not blocking
            self.notify.emit(problem, "warning")
        elif other and other.get("case_no") != self.session.case_no:
            self.session.duplicate_case_no = other["case_no"]
            self._show_duplicate()
            self.notify.emit(f"{self._duplicate_text()}（{other.get('center_code', '')}服务中心"
                             f"{other.get('window_no', '')}号窗口受理）", "error")

    def _duplicate_text(self) -> str:
        return (f"该公民身份号码已有未办结的办件：{self.session.duplicate_case_no}。"
                "请取消本次受理，在工作台打开该办件继续办理。")

    def _show_duplicate(self) -> None:
        no = self.session.duplicate_case_no
        self.duplicate.setText(self._duplicate_text() if no else "")
        self.duplicate.setVisible(bool(no))



