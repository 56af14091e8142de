"""Letters the window prints for a case.

- 落户介绍信: issued by the county veterans affairs department to the police station for item 4
  (户口登记, 退役军人恢复户口); the police station restores the hukou on it (规程: VA issues the
  letter, scans and uploads it, and it is pushed to 公安). It has a marked place for the seal.
- 预备役登记提醒: item 11 is done by the applicant in person at the county military service
  organ; the window hands over this reminder of what to bring and where, with the organ's promise
  ("应在申请人提出申请1个工作日内完成": the day counts from when the applicant comes, so it is the
  office's promise, not a date the applicant must meet), and whether the 兵役登记介绍信 was handed over.

Thread contract: both render functions are re-entrant; call them from any worker thread.
"""
from __future__ import annotations

import datetime as _dt
import io
from typing import Any, Mapping

from reportlab.lib.colors import Color

from counter_app.eligibility import police_code
from counter_app.scheme import RESERVE_LETTER_STATES, RESERVE_PROMISE, FamilyMode, HouseholdType
from printing import page as pg
from printing.case import CaseView, cn_date, county_area, county_department_name, read_case
from printing.document import DocWriter
from printing.result import PrintingError, RenderResult
from printing.text import Pen

# The center's electronic signature: the header band left of the barcode.
LETTER_SEAL_PLACE = pg.SealPlace(0, pg.HEADER_SEAL_BOX)

SETTLEMENT_TITLE = "落户介绍信"
RESERVE_TITLE = "预备役登记提醒"

# What to bring for 预备役登记 (规程: 申请人本人携带兵役登记介绍信前往县级兵役机关办理).
_GREY = Color(0.45, 0.45, 0.45)

RESERVE_MATERIALS = ("兵役登记介绍信", "退出现役证件", "居民身份证或军人公民身份号码登记表")


def household_text(view: CaseView) -> str:
    h = view.app.hukou
    if h.household_type == HouseholdType.COLLECTIVE:
        return "单位集体户"
    if h.household_type == HouseholdType.FAMILY:
        if h.family_mode == FamilyMode.JOIN_RELATIVE:
            detail = "投靠亲属入户"
            if h.head_name:
                detail += f"，户主：{h.head_name}"
            if h.relation_to_head:
                detail += f"，与户主关系：{h.relation_to_head}"
            return f"居民家庭户（{detail}）"
        if h.family_mode == FamilyMode.NEW_HOUSEHOLD:
            return "居民家庭户（新立户）"
        return "居民家庭户"
    return ""


def _header(w: DocWriter, view: CaseView, title: str) -> None:
    number = view.number

    def painter(pen: Pen, x: float, top: float) -> None:
        if number is not None:
            pg.draw_case_barcode(pen, view.case_no, view.barcode_data, x + w.width, top + 4)
    w.block(44, painter)
    w.heading(title, size=22, space_after=18)


def _seal_block(w: DocWriter, issuer: str, day: _dt.date | None, seal_note: str = "（盖章）",
                seal: bool = True) -> None:
    """Issuer and date, right-aligned, with a dashed circle marking where the seal goes."""

    def painter(pen: Pen, x: float, top: float) -> None:
        c = pen.canvas
        right = x + w.width - 10
        name_w = pen.width(issuer, 12)
        cx = right - max(name_w, 110) / 2
        cy = top - 52
        if seal:
            c.saveState()
            c.setStrokeColorRGB(0.55, 0.55, 0.55)
            c.setDash(3, 3)
            c.setLineWidth(0.6)
            c.circle(cx, cy, 58, stroke=1, fill=0)
            c.restoreState()
            pen.draw(cx, cy + 30, "盖章处", 8, align="center", color=_GREY)
        pen.draw(right, top - 48, issuer + seal_note, 12, align="right")
        pen.draw(right, top - 72, cn_date(day) if day else "      年    月    日", 12, align="right")
    w.block(120, painter)


def _finish(w: DocWriter, view: CaseView, title: str, footer_note: str) -> RenderResult:
    buf = io.BytesIO()
    c = pg.new_canvas(buf, f"{title} {view.case_no}", title)
    pen = Pen(c)

    def footer(pen: Pen, page: int, total: int) -> None:
        pg.draw_footer(pen, page, total, footer_note, view.case_no)

    total = w.render(pen, footer)
    c.save()
    return RenderResult(buf.getvalue(), set(pen.fallback_chars), set(pen.boxed_chars), total, view.warnings)


def render_settlement_letter(case: Mapping[str, Any], *, issue_date: _dt.date | None = None,
                             issuer: str | None = None) -> RenderResult:
    """落户介绍信 for ``case`` (case JSON dict).

    ``issue_date`` defaults to the acceptance date; ``issuer`` is the window's county veterans
    affairs department (``DocumentDetails.county_va_name``); None derives it from the service center's name (新乡市红旗区退役军人服务中心 →
    新乡市红旗区退役军人事务局). Raises :class:`PrintingError` when the case did not ask for
    hukou registration / the letter, or lacks the target address or police station.
    """
    view = read_case(case, need_number=True)
    app = view.app
    if not (app.has_item(4) or app.veteran_affairs.settlement_letter):
        raise PrintingError("本办件未选择“户口登记（退役军人恢复户口）”，也未勾选“开具落户介绍信”，无需开具落户介绍信。")
    h = app.hukou
    missing = [label for label, value in (("拟申请落户地址", h.target_address), ("拟落户地公安派出所", h.police_station))
               if not value]
    if missing:
        raise PrintingError(f"缺少{'、'.join(missing)}，无法开具落户介绍信，请在申请表中补充后再打印。")
    station_county = police_code(app)
    if station_county and not station_county.startswith("41"):  # 服务对象: 河南省内落户
        raise PrintingError(f"拟落户地公安派出所“{h.police_station}”不在河南省内，本中心不能为其开具落户介绍信；"
                            "请核对派出所，省外落户请申请人到落户地公安机关办理。")
    a = app.applicant
    day = issue_date or view.accepted_date or _dt.date.today()
    issuer = issuer or county_department_name(view.center_name)
    rt = app.retirement_type.title if app.retirement_type else "退役军人"

    w = DocWriter()
    _header(w, view, SETTLEMENT_TITLE)
    w.paragraph(f"{h.police_station}：", size=13, space_after=6)
    w.paragraph(
        f"兹有{rt}{a.name}同志（公民身份号码：{a.id_number}），依法退出现役，在我县（市、区）安置。"
        f"根据河南省退役军人服务“一件事”联办工作规程，请你单位为其办理户口登记（退役军人恢复户口），"
        f"落户地址：{h.target_address}，户口类型：{household_text(view) or '（未填写）'}。",
        size=13, indent_em=2, leading=24)
    w.paragraph("特此介绍。", size=13, indent_em=2, leading=24, space_after=12)
    pairs = [
        ("姓名", a.name), ("性别", a.sex),
        ("公民身份号码", a.id_number), ("退役类型", rt),
        ("入伍前户籍地址", h.pre_enlistment_address), ("拟申请落户地址", h.target_address),
        ("户口类型", household_text(view)), ("拟落户地公安派出所", h.police_station),
        ("办件编号", view.case_no), ("开具日期", cn_date(day)),
    ]
    w.key_values(pairs, label_w=120, size=11, space_after=30)
    _seal_block(w, issuer, day)
    w.space(16)
    w.paragraph("说明：本介绍信经退役军人事务部门盖章后扫描上传，随联办事项推送至公安部门；"
                "公安部门办理完成后反馈结果，并以短信告知申请人。", size=9.5, leading=15)
    return _finish(w, view, SETTLEMENT_TITLE, view.center_name)


def render_reserve_reminder(case: Mapping[str, Any], *, office: str | None = None,
                            office_address: str = "", office_phone: str = "") -> RenderResult:
    """预备役登记提醒 for ``case``: what to bring, where (``office`` and ``office_address``: the
    window's ``DocumentDetails``; None names the county's 人民武装部 from the service center), with
    the organ's 1-working-day promise and the 兵役登记介绍信 as recorded.

    Raises :class:`PrintingError` when item 11 was not chosen.
    """
    view = read_case(case, need_number=True)
    app = view.app
    if not app.has_item(11):
        raise PrintingError("本办件未选择“预备役登记”事项，无需打印预备役登记提醒。")
    area = county_area(view.center_name)
    office = office or (f"{area}人民武装部" if area else "县级兵役机关（人民武装部）")
    office_address = office_address or ""
    letter = app.veteran_affairs.reserve_letter
    if letter == RESERVE_LETTER_STATES[1]:
        letter_line = "兵役登记介绍信（本中心已开具，已当面交给您）"
    elif letter == RESERVE_LETTER_STATES[0]:
        letter_line = "兵役登记介绍信（您已持有）"
    else:
        letter_line = "兵役登记介绍信"
        view.warnings.append("办件未记录兵役登记介绍信是否已交申请人。")
    a = app.applicant

    w = DocWriter()
    _header(w, view, RESERVE_TITLE)
    w.paragraph(f"{a.name}同志：", size=13, space_after=6)
    w.paragraph(
        f"您在{view.center_name or '退役军人服务中心'}申请的退役军人服务“一件事”联办事项中包含“预备役登记”。"
        f"该事项须由您本人携带下列材料，前往县级兵役机关（人民武装部）办理。",
        size=13, indent_em=2, leading=24, space_after=10)
    w.heading("请携带", size=13, align="left", space_after=4)
    for i, m in enumerate((letter_line,) + RESERVE_MATERIALS[1:], start=1):
        w.paragraph(f"{i}．{m}", size=13, leading=22, space_after=0, x_offset=26)
    w.space(10)
    w.heading("办理地点与办理时限", size=13, align="left", space_after=4)
    rows = [("办理地点", office if "兵役机关" in office else f"{office}（县级兵役机关）")]
    if office_address:
        rows.append(("地址", office_address))
    if office_phone:
        rows.append(("联系电话", office_phone))
    # The organ's promise, said as one short line (RESERVE_PROMISE without its subject, which is the row's label).
    rows += [("兵役机关承诺", RESERVE_PROMISE.split("）", 1)[1]), ("办件编号", view.case_no)]
    w.key_values(rows, label_w=96, size=12, space_after=14)
    w.paragraph("温馨提示：请携带上述材料原件，尽早本人前往办理；兵役登记介绍信如有遗失，请先与服务中心联系。"
                "办理进度可通过豫事办或河南政务服务网查询。",
                size=10.5, leading=18, space_after=20)
    _seal_block(w, view.center_name or "退役军人服务中心", view.accepted_date, seal_note="", seal=False)
    return _finish(w, view, RESERVE_TITLE, view.center_name)
