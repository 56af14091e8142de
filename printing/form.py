"""河南省退役军人服务“一件事”联办申请表 (附件1), filled in from a case.

The layout follows the source table (``shared/seed`` lines 239-273; digest in
``shared/spec/scheme.md``): the same groups, labels, check boxes and notes, in the same order
(the 11 items in ``FORM_ITEM_ORDER``: 社会保障卡申领 before 军地养老保险关系转移接续), the
photo, the 申请承诺 verbatim, the applicant's signature image and the date. It is two A4
pages, split where the source splits (户籍事项 starts page 2); each page carries the case number
as a Code 128 barcode so a signed, scanned page finds its case by itself.

Thread contract: :func:`render_application_form` is re-entrant; call it from any worker thread.
"""
from __future__ import annotations

import io
from typing import Any, Mapping

from counter_app.application import parse_date
from counter_app.rules import chosen_only
from counter_app.scheme import (
    CHOICE_TITLES,
    DECLARATION,
    FORM_ITEM_ORDER,
    ITEMS,
    PENSION_TRANSFER_NOTE,
    FamilyMode,
    HouseholdType,
    Intention,
    MedicalChoice,
    PensionChoice,
    RetirementType,
)
from printing import page as pg
from printing.case import CaseView, cn_date_parts, read_case
from printing.flow import Blank, Break, Check, Gap, Text
from printing.result import PrintingError, RenderResult
from printing.table import Beside, Cell, Row, Stack, Style, draw_table
from printing.text import Pen

FORM_TITLE = "河南省退役军人服务“一件事”联办申请表"
# The center's electronic signature: first page, header band between "附件1" and the barcode.
FORM_SEAL_PLACE = pg.SealPlace(0, pg.HEADER_SEAL_BOX)

GROUP_W = 26.0     # the vertical group header column ("联办申请")
LABEL_W = 70.0     # first label column ("联办事项", "退役类型")
FIELD_LABEL_W = 106.0  # "备用联系人（关系）" on one line at the largest size
PHOTO_W = 100.0
SUB_W = 112.0      # sub-headers such as "自主就业退役士兵一次性经济补助登记"
OPTION_W = 150.0   # the medical options column
SHARED_W = 92.0    # the "(数据共享校验)" column

# The option labels as the source form prints them. (Not looked up in scheme.CHOICE_TITLES by
# enum: PensionChoice.URBAN_RURAL and MedicalChoice.URBAN_RURAL are equal str values there,
# so one key shadows the other.)
PENSION_LABELS = {PensionChoice.FLEXIBLE: "灵活就业养老保险参保登记",
                  PensionChoice.URBAN_RURAL: "城乡居民养老保险参保登记"}
MEDICAL_LABELS = {MedicalChoice.EMPLOYEE_FLEXIBLE: "以灵活就业人员身份参加城镇职工基本医疗保险",
                  MedicalChoice.URBAN_RURAL: "城乡居民医保参保登记"}

# Photo as printed: a 1-inch photo (the electronic one is 358×441 px).
PHOTO_PRINT_W = 72.0
PHOTO_PRINT_H = PHOTO_PRINT_W * 441 / 358
PHOTO_NOTE = "(电子版： 358 * 441， 白底)"  # verbatim from 附件1


def _label(text: str, width: float | None = FIELD_LABEL_W, align: str = "center") -> Cell:
    return Cell([Text(text, keep=True)], align=align, width=width)


def _value(text: str, width: float | None = None) -> Cell:
    return Cell([Text(text)], width=width)


def _group(text: str) -> Cell:
    return Cell([Text(text)], vertical=True, width=GROUP_W)


def _yes_no(value: bool | None) -> list:
    return [Check(value is True, "是"), Gap(1.5), Check(value is False, "否")]


def _ym(text: str) -> tuple[str, str]:
    """'2016-09' → ('2016', '09'); anything else prints blank."""
    if len(text) == 7 and text[4] == "-" and text[:4].isdigit() and text[5:].isdigit():
        return text[:4], text[5:]
    return "", ""


def _page1(v: CaseView, photo_painter) -> Stack:
    app = v.app
    a = app.applicant
    items = []
    for n in FORM_ITEM_ORDER:
        items += [Check(n in app.items, ITEMS[n].title), Gap(1.2)]
    rtypes = []
    for rt in RetirementType:
        rtypes += [Check(app.retirement_type == rt, rt.title), Gap(1.5)]
    backup = a.backup_contact + (f"（{a.backup_relation}）" if a.backup_relation else "")
    ds = app.data_sharing
    va = app.veteran_affairs
    intentions = []
    for it in Intention:
        intentions += [Check(va.intention == it, CHOICE_TITLES[it]), Gap(1.5)]

    personal = Beside(
        Cell(painter=photo_painter, natural=PHOTO_PRINT_H + 4, width=PHOTO_W),
        Stack([
            Row([_label("申请人姓名"), _value(a.name), _label("性别", 52), _value(a.sex, 64)]),
            Row([_label("出生日期"), _value(a.birth_date), _label("民族", 52), _value(a.ethnicity, 64)]),
            Row([_label("公民身份号码"), _value(a.id_number)]),
            Row([_label("政治面貌"), _value(a.political_status), _label("学历", 52), _value(a.education, 64)]),
        ]),
        left_on_right=True,
    )
    application = Stack([
        Row([_label("联办事项：", LABEL_W), Cell(items)]),
        Row([_label("退役类型：", LABEL_W), Cell(rtypes)]),
        personal,
        Row([_label("婚姻状况"), _value(a.marital_status), _label("联系电话"), _value(a.phone)]),
        Row([_label("备用联系人（关系）"), _value(backup), _label("联系人电话"), _value(a.backup_phone)]),
        Row([_label("拟安置地"), _value(a.placement_place)]),
        Row([_label("现居住地址"), _value(a.current_address)]),
        Row([_label("入伍前是否河南户籍", 130), Cell(_yes_no(ds.henan_hukou_before_enlistment)),
             _label("(数据共享校验)", SHARED_W)]),
        Row([_label("原户籍是否注销", 130), Cell(_yes_no(ds.hukou_cancelled)), _label("(数据共享校验)", SHARED_W)]),
    ])
    veteran = Stack([
        Beside(_label("自主就业退役士兵一次性经济补助登记", SUB_W), Stack([
            Row([Cell([Text("社保卡银行账户卡号："), Text(va.bank_account)]), _label("(数据共享)", SHARED_W)]),
            Row([Cell([Text("开户行："), Text(va.bank_name)]), _label("(数据共享)", SHARED_W)]),
        ])),
        Row([_label("学历提升或就业创业意向登记", SUB_W), Cell(intentions)]),
        Row([Cell([Check(va.settlement_letter, "开具落户介绍信")])]),
    ])
    return Stack([Beside(_group("联办申请"), application), Beside(_group("退役军人事项"), veteran)])


def _page2(v: CaseView, signature_painter) -> Stack:
    app = v.app
    h = app.hukou
    pn = app.pension
    m = app.medical
    family = h.household_type == HouseholdType.FAMILY
    join = family and h.family_mode == FamilyMode.JOIN_RELATIVE
    new = family and h.family_mode == FamilyMode.NEW_HOUSEHOLD
    hukou = Stack([
        Row([_label("原籍信息", LABEL_W), _label("入伍前户籍地址", SUB_W), _value(h.pre_enlistment_address)]),
        Beside(_label("入户信息", LABEL_W), Stack([
            Row([_label("户口类型", SUB_W), Cell([
                Check(h.household_type == HouseholdType.FAMILY, CHOICE_TITLES[HouseholdType.FAMILY]), Gap(2),
                Check(h.household_type == HouseholdType.COLLECTIVE, CHOICE_TITLES[HouseholdType.COLLECTIVE])])]),
            Beside(_label("居民家庭户", SUB_W), Stack([
                Row([Cell([Check(join, CHOICE_TITLES[FamilyMode.JOIN_RELATIVE])], width=96), Cell([
                    Text("与户主关系："), Blank(h.relation_to_head if join else "", 4), Break(),
                    Text("户主姓名："), Blank(h.head_name if join else "", 6), Break(),
                    Text("户主身份证号："), Blank(h.head_id_number if join else "", 10), Break(),
                    Text("户主联系方式："), Blank(h.head_phone if join else "", 7)])]),
                Row([Cell([Check(new, CHOICE_TITLES[FamilyMode.NEW_HOUSEHOLD])], width=96), Cell([
                    Text("房屋产权信息："), Blank(h.property_info if new else "", 6),
                    Text("（数据共享校验）", keep=True)])]),
            ])),
            Row([_label("拟申请落户地址", SUB_W), _value(h.target_address)]),
            Row([_label("拟落户地公安派出所", SUB_W), _value(h.police_station)]),
        ])),
    ])
    pension = Stack([
        Row([Cell([Text(PENSION_TRANSFER_NOTE)])]),
        Row([Cell([Check(pn.choice == PensionChoice.FLEXIBLE, PENSION_LABELS[PensionChoice.FLEXIBLE]), Gap(2),
                   Check(pn.choice == PensionChoice.URBAN_RURAL, PENSION_LABELS[PensionChoice.URBAN_RURAL])])]),
        Row([Cell([Check(8 in app.items, "社保卡申领")], width=OPTION_W), Cell([
            Text("发卡银行："), Blank(pn.card_bank, 10), Break(),
            Text("社保卡邮寄送达地址："), Blank(pn.card_mailing_address, 12), Text("。")])]),
    ])
    y1, m1 = _ym(m.transfer_from)
    y2, m2 = _ym(m.transfer_to)
    emp = m.choice == MedicalChoice.EMPLOYEE_FLEXIBLE
    ur = m.choice == MedicalChoice.URBAN_RURAL
    medical = Stack([
        Row([Cell([Check(emp, MEDICAL_LABELS[MedicalChoice.EMPLOYEE_FLEXIBLE])], width=OPTION_W), Cell([
            Text("参加灵活就业"), Blank(_bare(m.flexible_city, "市") if emp else "", 4), Text("市"),
            Blank(_bare(m.flexible_county, "县", "区", "市") if emp else "", 4), Text("县（市、区）"), Break(),
            Text("（具体参保缴费标准按参保地相关规定执行）")])]),
        Row([Cell([Check(10 in app.items, "退役军人医疗保险关系转移接续")], width=OPTION_W), Cell([
            Text("缴费起止时间"), Blank(y1, 2.6), Text("年"), Blank(m1, 1.6), Text("月—"),
            Blank(y2, 2.6), Text("年"), Blank(m2, 1.6), Text("月。"), Break(),
            Text("（军队医保个人账户金额直接划转给本人，无需进行转移）")])]),
        Row([Cell([Check(ur, MEDICAL_LABELS[MedicalChoice.URBAN_RURAL])], width=OPTION_W), Cell([
            Text("参 保 地："), Blank(_bare(m.insured_city, "市") if ur else "", 4), Text("市"),
            Blank(_bare(m.insured_county, "县", "区", "市") if ur else "", 4), Text("县（市、区）"), Break(),
            Blank(_bare(m.insured_town, "街道", "乡", "镇") if ur else "", 5), Text("乡镇（街道）"),
            Blank(_bare(m.insured_village, "社区", "村") if ur else "", 5), Text("村（社区）")])]),
    ])
    promise = Stack([
        Row([Cell([Text(DECLARATION)])]),
        Row([Cell(painter=signature_painter, natural=74)]),
    ])
    return Stack([
        Beside(_group("户籍事项"), hukou),
        Beside(_group("养老保险事项"), pension),
        Beside(_group("医疗保险事项"), medical),
        Beside(_group("申请承诺"), promise),
    ])


# Roomy rows for handwriting-era readability; smaller steps only when a page's content
# (very long addresses) would not fit otherwise.
_STYLES = (Style(10.5, 15.5, 28.0), Style(10.0, 14.0, 24.0), Style(9.0, 12.5, 20.0), Style(8.0, 11.0, 17.0))


def _fitting_style(body, available: float) -> Style:
    for style in _STYLES:
        if body.measure(pg.CONTENT_W, style) <= available:
            return style
    raise PrintingError("申请表内容过长，一页无法容纳（请检查地址等栏目是否填写了多余内容）。")


def render_application_form(case: Mapping[str, Any], *, photo_jpeg: bytes | None = None,
                            signature_png: bytes | None = None) -> RenderResult:
    """The joint application form for ``case`` (case JSON dict), as a two-page A4 PDF.

    ``photo_jpeg``: the 358×441 photo (JPEG bytes) or None (the box then shows where to paste
    one); ``signature_png``: the applicant's signature from the pad (PNG, transparent or white
    background) or None for a form to be signed by hand. A case without ``case_no`` (a draft)
    prints without barcode. Raises :class:`PrintingError` for a malformed case or broken image.
    Re-entrant: safe to call from several worker threads at once.
    """
    view = read_case(case)
    # Only the chosen items' options print as ticked (a draft may still hold others the clerk typed).
    view.app = chosen_only(view.app)
    photo = pg.jpeg_reader(photo_jpeg, "照片")
    signature = pg.png_reader(signature_png, "签名图片")
    app = view.app

    def photo_painter(pen: Pen, x: float, top: float, w: float, h: float) -> None:
        px = x + (w - PHOTO_PRINT_W) / 2
        py = top - (h + PHOTO_PRINT_H) / 2
        if photo is not None:
            pen.canvas.drawImage(photo, px, py, PHOTO_PRINT_W, PHOTO_PRINT_H, preserveAspectRatio=True)
        else:
            cy = top - h / 2
            pen.draw(x + w / 2, cy + 10, "照片粘贴处", 10, align="center")
            # The source's own spacing and half-width brackets: "(电子版： 358 * 441， 白底)",
            # broken only at its space after "，".
            first, second = PHOTO_NOTE.split("， ")
            pen.draw(x + w / 2, cy - 6, first + "，", 7.5, align="center")
            pen.draw(x + w / 2, cy - 16, second, 7.5, align="center")

    def signature_painter(pen: Pen, x: float, top: float, w: float, h: float) -> None:
        size = 10.5
        right = x + w - 14
        y1 = top - h / 2 + 12
        y2 = top - h / 2 - 20
        year, month, day = cn_date_parts(parse_date(app.application_date))
        # 申请日期： 2026 年 11 月 27 日 (blanks for a form dated by hand)
        date_tokens = [("申请日期：", None), (year, 34), ("年", None), (month, 22), ("月", None), (day, 22), ("日", None)]
        widths = [pen.width(t, size) if wd is None else wd for t, wd in date_tokens]
        xx = right - sum(widths)
        for (t, wd), tw in zip(date_tokens, widths):
            if wd is None:
                pen.draw(xx, y2, t, size)
            else:
                pen.draw(xx + tw / 2, y2, t, size, align="center")
            xx += tw
        sign_w = 120.0
        pen.draw(right, y1, "（签名）", size, align="right")
        img_right = right - pen.width("（签名）", size)
        img_left = img_right - sign_w
        pen.draw(img_left, y1, "申 请 人：", size, align="right")
        if signature is not None:
            sw, sh = pg.fit_image(signature, sign_w, 34)
            pen.canvas.drawImage(signature, img_left + (sign_w - sw) / 2, y1 - 6, sw, sh, mask="auto")

    buf = io.BytesIO()
    c = pg.new_canvas(buf, f"{FORM_TITLE} {view.case_no}".strip(), "联办申请表")
    pen = Pen(c)
    pages = [_page1(view, photo_painter), _page2(view, signature_painter)]
    total = len(pages)
    for i, body in enumerate(pages, start=1):
        style = _fitting_style(body, pg.PAGE_H - pg.MARGIN_TOP - 74 - pg.MARGIN_BOTTOM)
        top = pg.PAGE_H - pg.MARGIN_TOP
        pen.draw(pg.MARGIN_X, top - 10, "附件1", 10)
        if view.number is not None:
            pg.draw_case_barcode(pen, view.case_no, view.barcode_data, pg.PAGE_W - pg.MARGIN_X, top + 4)
        top -= 48
        pen.draw(pg.PAGE_W / 2, top, FORM_TITLE, 17, align="center", bold=True)
        top -= 16
        if i > 1:
            pen.draw(pg.MARGIN_X, top - 2, "（续）", 9)
            top -= 6
        top -= 4
        draw_table(pen, body, pg.MARGIN_X, top, pg.CONTENT_W, style)
        where = view.center_name + (f"  {view.window_no}号窗口" if view.window_no else "")
        pg.draw_footer(pen, i, total, where, view.case_no)
        c.showPage()
    c.save()
    return RenderResult(buf.getvalue(), set(pen.fallback_chars), set(pen.boxed_chars), total, view.warnings)


def _bare(value: str, *suffixes: str) -> str:
    """The form prints the unit after the blank ("__市"); a clerk who typed "新乡市" should not
    get "新乡市 市". Drop a trailing unit the form prints anyway (only the exact single suffix)."""
    value = (value or "").strip()
    for suffix in suffixes:
        if len(value) > len(suffix) + 1 and value.endswith(suffix):
            return value[: -len(suffix)]
    return value
