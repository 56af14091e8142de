"""What the scripted acceptance (:mod:`ui.acceptance.script`) types, chooses and draws: a
reproducible demo application (``counter_app.samples``), the applicant's choices, the text of each
field of step 3, and pen strokes shaped like a handwritten name sent to the signature pad.

Thread contract: GUI thread only (``draw_on`` sends events).
"""
from __future__ import annotations

import datetime as _dt
import math
import random
from dataclasses import dataclass
from typing import Any, Iterable

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget

from counter_app.application import Application
from counter_app.scheme import FamilyMode, HouseholdType, Intention, MedicalChoice, PensionChoice, RetirementType


def signature_strokes(seed: int = 7, width: float = 900.0, height: float = 300.0) -> list[list[tuple[float, float, float]]]:
    """Three pen strokes shaped like a handwritten two-character name: (x, y, pressure) points on
    the signature canvas. Deterministic for a seed."""
    rng = random.Random(seed)
    strokes = []
    left = width * 0.18
    for k in range(3):
        x0 = left + k * width * 0.2
        pts = []
        n = 45
        for i in range(n):
            t = i / (n - 1)
            x = x0 + t * width * 0.17 + rng.uniform(-2, 2)
            y = height * (0.35 + 0.3 * math.sin(t * math.pi * (2 + k))) + rng.uniform(-2, 2)
            pressure = 0.35 + 0.4 * math.sin(t * math.pi)
            pts.append((x, y, pressure))
        strokes.append(pts)
    return strokes


def draw_on(pad: QWidget, strokes: Iterable[Iterable[tuple[float, float, float]]]) -> None:
    """Send mouse press / move / release events for each stroke (canvas coordinates) to ``pad``."""
    rect = pad.canvas_rect()
    k = rect.width() / 900.0

    def send(kind: Any, x: float, y: float, buttons: Any, button: Any) -> None:
        local = QPointF(rect.left() + x * k, rect.top() + y * k)
        ev = QMouseEvent(kind, local, pad.mapToGlobal(local), button, buttons, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(pad, ev)

    left = Qt.MouseButton.LeftButton
    none = Qt.MouseButton.NoButton
    for stroke in strokes:
        pts = list(stroke)
        send(QMouseEvent.Type.MouseButtonPress, pts[0][0], pts[0][1], left, left)
        for x, y, _p in pts[1:]:
            send(QMouseEvent.Type.MouseMove, x, y, left, none)
        send(QMouseEvent.Type.MouseButtonRelease, pts[-1][0], pts[-1][1], none, left)


def demo_application(seed: int = 2026, today: _dt.date | None = None) -> Application:
    """The form values a demo acceptance types in (realistic, reproducible: ``counter_app.samples``)."""
    from counter_app.samples import make_application

    rng = random.Random(seed)
    for _ in range(50):
        app = make_application(rng, today=today)
        if app.hukou.pre_enlistment_address and app.applicant.backup_contact:
            return app
    return app


@dataclass
class Choices:
    retirement: RetirementType = RetirementType.SELF_EMPLOYED
    items: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
    intention: Intention | None = Intention.EMPLOYMENT
    household: HouseholdType | None = HouseholdType.FAMILY
    family_mode: FamilyMode | None = FamilyMode.JOIN_RELATIVE
    restore_elsewhere: bool = False
    pension: PensionChoice | None = PensionChoice.FLEXIBLE
    medical: MedicalChoice | None = MedicalChoice.URBAN_RURAL


def form_values(app: Application, choices: Choices) -> dict[str, str]:
    """The text each enabled field of step 3 gets, taken from a demo application."""
    a, h, p, m = app.applicant, app.hukou, app.pension, app.medical
    from ui.acceptance.session import china_today

    today = china_today()
    values = {
        "applicant.political_status": a.political_status, "applicant.education": a.education or "大学本科",
        "applicant.phone": a.phone, "applicant.backup_contact": a.backup_contact,
        "applicant.backup_relation": a.backup_relation or "父亲", "applicant.backup_phone": a.backup_phone,
        "applicant.placement_place": a.placement_place, "applicant.current_address": a.current_address,
        "applicant.discharge_date": a.discharge_date,
        "hukou.pre_enlistment_address": h.pre_enlistment_address or "河南省新乡市红旗区东街村1号",
    }
    if 4 in choices.items:
        values["hukou.target_address"] = h.target_address or a.current_address
        values["hukou.police_station"] = h.police_station or "新乡市公安局红旗区分局东街派出所"
        if choices.household == HouseholdType.FAMILY and choices.family_mode == FamilyMode.JOIN_RELATIVE:
            from counter_app.samples import make_id_number

            values["hukou.relation_to_head"] = "父亲"
            values["hukou.head_name"] = h.head_name or "赵国庆"
            values["hukou.head_id_number"] = h.head_id_number or make_id_number(
                random.Random(5), "410702", _dt.date(1960, 3, 1), True)
            values["hukou.head_phone"] = h.head_phone or "13837300000"
        if choices.household == HouseholdType.FAMILY and choices.family_mode == FamilyMode.NEW_HOUSEHOLD:
            values["hukou.property_info"] = h.property_info or "豫（2020）新乡市不动产权第1234567号"
    if 11 in choices.items:
        values["veteran_affairs.reserve_letter"] = "本中心已开具并当面交申请人"
    if 8 in choices.items:
        values["pension.card_bank"] = p.card_bank or "中国工商银行新乡分行"
        values["pension.card_mailing_address"] = p.card_mailing_address or a.current_address
    if 9 in choices.items and choices.medical == MedicalChoice.URBAN_RURAL:
        # insured where the hukou goes: the place the 落户地址 names, the applicant saying the rest
        from counter_app.divisions import place_parts

        where = values.get("hukou.target_address") or a.current_address
        named = place_parts(where)
        given = (m.insured_city or "新乡市", m.insured_county or "红旗区", m.insured_town or "东街街道",
                 m.insured_village or "幸福社区")
        paths = ("medical.insured_city", "medical.insured_county", "medical.insured_town", "medical.insured_village")
        values.update({p: n or g for p, n, g in zip(paths, named, given)})
    if 9 in choices.items and choices.medical == MedicalChoice.EMPLOYEE_FLEXIBLE:
        values.update({"medical.flexible_city": "新乡市", "medical.flexible_county": "红旗区"})
    if 10 in choices.items:
        values["medical.transfer_from"] = m.transfer_from or f"{today.year - 5}-09"
        last = today.replace(day=1) - _dt.timedelta(days=1)
        values["medical.transfer_to"] = f"{last:%Y-%m}"
    return {k: v for k, v in values.items() if v}
