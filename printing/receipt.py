"""受理回执: what the applicant takes home from the window.

It carries the case number as a Code 128 barcode and a QR code of the progress-lookup link,
the chosen items with each department's time limit in working days and the expected date,
the materials the window received, and what the applicant must do next (activate the social
security card's financial function, bring the 居民户口簿 to the police station, go to the
county military service organ). Until the provincial platform has acknowledged the case
(``platform.acknowledged``), the receipt is marked "临时回执（平台尚未确认）" in red under the
title and across every page, so nobody mistakes it for a confirmed acceptance.

Personal numbers are masked on the receipt (it leaves the building in the applicant's pocket).

Thread contract: :func:`render_receipt` is re-entrant; call it from any worker thread.
"""
from __future__ import annotations

import datetime as _dt
import io
from typing import Any, Mapping

from reportlab.lib.colors import Color

from counter_app.config import DocumentDetails
from counter_app.masking import mask_id_number, mask_phone  # the one masking function
from counter_app.clock import CHINA_TZ, beijing_now
from counter_app.scheme import CASE_DEADLINE_WD, ITEMS, MATERIALS, RESERVE_LETTER_STATES, RESERVE_PROMISE
from printing import codes
from printing import page as pg
from printing.case import CaseView, cn_date, county_area, read_case
from printing.document import Column, DocWriter
from printing.result import PrintingError, RenderResult
from printing.text import Pen

# The center's electronic signature: the header band between the barcode (left) and the QR code.
RECEIPT_SEAL_PLACE = pg.SealPlace(0, (224.0, 776.0, 464.0, 828.0))

RECEIPT_TITLE = "河南省退役军人服务“一件事”受理回执"
PROVISIONAL_MARK = "临时回执（平台尚未确认）"
RED = Color(0.78, 0.05, 0.05)
WATERMARK_RED = Color(0.78, 0.05, 0.05, alpha=0.10)

# Department names as short as the receipt's column allows.
DEPARTMENT_SHORT = {"VA": "退役军人事务部门", "PS": "公安部门", "HRSS": "人社部门", "MI": "医保部门",
                    "PAFD": "人武部（兵役机关）"}
QR_SIZE = 86.0


def time_limit_text(item: int) -> str:
    it = ITEMS[item]
    if it.deadline_wd is None:
        return "按资金到账情况办理"
    if it.deadline_wd == 0:
        return "当场办理"
    text = f"{it.deadline_wd}个工作日"
    if item == 11:  # 规程 五(四)2: counted from when the applicant applies at the 人武部
        text += "（自您前往申请起）"
    elif 4 in it.after:
        text += "（户口登记后）"
    elif 1 in it.after:
        text += "（开具介绍信后）"
    return text


def whole_limit_text(whole) -> str:
    """总办结时限 as the case's own deadlines say (what its items add up to, at most the scheme's 18)."""
    if whole is None:
        return f"{CASE_DEADLINE_WD}个工作日"
    if whole.due is None:
        return whole.note or "不计时限"
    days = whole.workdays if whole.workdays is not None else CASE_DEADLINE_WD
    return f"{days}个工作日，预计{cn_date(whole.due)}前办结"


def _due_text(view: CaseView, item: int | None) -> str:
    if item == 11:  # no date: the organ's day starts when the applicant comes (see letters.RESERVE_PROMISE)
        return "您前往办理后1个工作日内"
    d = view.deadlines.get(item)
    if d is None or d.due is None:
        return "—" if d is None else (d.note or "不计时限")
    text = cn_date(d.due)
    if not d.verified:
        text += "（预计）"
    if d.note and item is not None:
        text += f"；{d.note}"
    return text


def received_materials(view: CaseView) -> list[tuple[str, str]]:
    """(material, how it was received) for what the window holds."""
    app = view.app
    out: list[tuple[str, str]] = []
    for n in sorted(MATERIALS):
        rec = app.materials.get(n)
        title = MATERIALS[n].title
        if n == 1:
            if app.signature or view.state not in ("", "draft", "identity_verified", "materials_complete"):
                out.append((title, "窗口生成，申请人已签字"))
            continue
        if n == 2 and rec is not None and rec.original_seen:
            title = app.applicant.id_document.title
        if n == 12:
            if app.photo or (rec and rec.attachments):
                out.append((title, "已采集电子照片"))
            continue
        if rec is None:
            continue
        how = []
        if rec.original_seen:
            how.append("已核验原件")
        if rec.attachments:
            how.append(f"已扫描上传{len(rec.attachments)}份")
        if how:
            out.append((title, "，".join(how)))
    return out


def next_steps(view: CaseView, military_office: str | None = None) -> list[str]:
    app = view.app
    h = app.hukou
    steps: list[str] = []
    if app.has_item(2) or app.has_item(8):
        text = "请及时激活社会保障卡的金融功能（到发卡银行网点办理）"
        if app.has_item(2):
            text += "：自主就业一次性经济补助金通过社保卡银行账户发放，未激活将无法到账"
        if app.has_item(8):
            addr = app.pension.card_mailing_address
            text += f"。新社保卡制作完成后将邮寄至{addr or '您填写的地址'}（到付寄递费用）"
        steps.append(text + "。")
    if app.has_item(4) or app.has_item(5):
        d4 = view.deadlines.get(4)
        when = f"（预计{cn_date(d4.due)}前办结，届时短信通知）" if d4 and d4.due else "（届时短信通知）"
        station = h.police_station or "拟落户地公安派出所"
        steps.append(f"户口登记办结后{when}，请携带《居民户口簿》到{station}打印本人户口页，"
                     "并当场办理居民身份证申领。")
    if app.has_item(11):
        office = military_office or f"{county_area(view.center_name)}人民武装部"
        handed = "（本中心已开具，已当面交给您）" if app.veteran_affairs.reserve_letter == RESERVE_LETTER_STATES[1] else ""
        steps.append(f"预备役登记：请本人携带兵役登记介绍信{handed}、退出现役证件、居民身份证或军人公民身份号码登记表，"
                     f"前往{office}（县级兵役机关）办理；{RESERVE_PROMISE}。")
    steps.append("各部门办理结果将以短信通知；也可扫描右上角二维码，或在豫事办、河南政务服务网凭办件编号查询办理进度。")
    # 规程 五(六) "受理及联办事项办结后…好差评": at the window when the applicant comes back, else by the
    # platform's SMS invitation (``sync.followups``): the promise holds either way.
    steps.append("全部办结后欢迎对本次服务进行评价（好差评）：来窗口领取证照时可在评价屏上评价；"
                 "不再来窗口的，省平台将以短信邀请您评价。")
    return steps


def render_receipt(case: Mapping[str, Any], *, lookup_url: str | None = None, military_office: str | None = None,
                   printed_at: _dt.datetime | None = None) -> RenderResult:
    """The acceptance receipt for ``case``.

    ``lookup_url`` is put in the QR code as given (a ``{case_no}`` placeholder is replaced by the
    compact case number); the window passes ``DocumentDetails.lookup_url`` and None means the
    settings' default. ``military_office`` names where item 11 is done (None: the county's
    人民武装部 named from the service center). ``printed_at`` defaults to now.
    Raises :class:`PrintingError` for a case without a valid number or an empty lookup link.
    """
    view = read_case(case, need_number=True)
    if lookup_url is None:
        lookup_url = DocumentDetails().lookup_url
    if not isinstance(lookup_url, str) or not lookup_url.strip():
        raise PrintingError("缺少进度查询链接，无法生成回执二维码，请检查平台设置中的查询地址。")
    lookup_url = lookup_url.strip().replace("{case_no}", view.barcode_data)
    provisional = not view.acknowledged
    app = view.app
    a = app.applicant
    # Beijing time like 受理时间 beside it, whatever zone the PC's clock is set to
    # (a naive time is taken as Beijing time already)
    printed_at = printed_at or beijing_now()
    printed_at = (printed_at.astimezone(CHINA_TZ) if printed_at.tzinfo else printed_at).replace(microsecond=0)

    w = DocWriter()

    def codes_block(pen: Pen, x: float, top: float) -> None:
        pg.draw_case_barcode(pen, view.case_no, view.barcode_data, x + 180, top, module=0.95, height=30)
        right = x + w.width
        codes.draw_qr(pen.canvas, lookup_url, right - QR_SIZE, top - QR_SIZE, QR_SIZE)
        pen.draw(right - QR_SIZE / 2, top - QR_SIZE - 9, "扫码查询办理进度", 8, align="center")
    w.block(QR_SIZE + 14, codes_block)
    w.space(-40)  # the title sits between the barcode and the QR code, below the barcode
    w.heading(RECEIPT_TITLE, size=17, space_after=10)
    if provisional:
        def mark(pen: Pen, x: float, top: float) -> None:
            c = pen.canvas
            size = 15
            tw = pen.width(PROVISIONAL_MARK, size) + 24
            cx = x + w.width / 2
            c.saveState()
            c.setStrokeColor(RED)
            c.setLineWidth(1.6)
            c.roundRect(cx - tw / 2, top - 26, tw, 24, 4, stroke=1, fill=0)
            c.restoreState()
            pen.draw(cx, top - 19, PROVISIONAL_MARK, size, align="center", bold=True, color=RED)
            pen.draw(cx, top - 40, "本回执在省一体化政务服务平台确认接收前为临时回执；平台确认后可凭办件编号查询或补打正式回执。",
                     8.5, align="center", color=RED)
        w.block(50, mark)

    whole = view.deadlines.get(None)
    whole_text = whole_limit_text(whole)
    accepted = view.accepted_at
    w.heading("受理信息", size=12, align="left", space_after=4)
    w.key_values([
        ("办件编号", view.case_no), ("受理时间", accepted.strftime("%Y年%m月%d日 %H:%M") if accepted else ""),
        ("申请人", a.name), ("公民身份号码", mask_id_number(a.id_number)),
        ("退役类型", app.retirement_type.title if app.retirement_type else ""), ("联系电话", mask_phone(a.phone)),
        ("受理单位", view.center_name), ("受理窗口", f"{view.window_no}号窗口" if view.window_no else ""),
        ("受理人", view.operator_name), ("总办结时限", whole_text),
    ], label_w=72, size=9.5, columns=2)

    w.heading("联办事项及办理时限", size=12, align="left", space_after=4)
    rows = []
    for n in sorted(app.items):
        it = ITEMS[n]
        rows.append([str(n), it.title, DEPARTMENT_SHORT[it.department.value], time_limit_text(n),
                     _due_text(view, n)])
    w.table([Column("序号", 26, "center"), Column("联办事项", 160), Column("承办部门", 80),
             Column("办理时限", 112), Column("预计办结日期", 133)], rows, size=9)
    w.paragraph("办理时限按工作日计算（法定节假日和调休按国务院公布的安排），自部门收到所需材料或前序事项结果之日起算；"
                "社保卡制卡邮寄、资金拨付时间不计入总时限。", size=8.5, leading=12.5, space_after=8)

    mats = [[f"{i}．{t}", how] for i, (t, how) in enumerate(received_materials(view), start=1)]
    half = (len(mats) + 1) // 2  # two materials per row, to keep the receipt short
    rows = [mats[i] + (mats[i + half] if i + half < len(mats) else ["", ""]) for i in range(half)]
    rows = rows or [["（无）", "", "", ""]]
    cols = [Column("材料名称", 180), Column("收取情况", 75.5, "center")]
    cols = cols + cols
    w.heading("已收材料", size=12, align="left", space_after=4, keep_next=w.table_height(cols, rows, size=9))
    w.table(cols, rows, size=9)

    steps = next_steps(view, military_office)
    first = w.paragraph_height(f"1．{steps[0]}", size=10, leading=15) if steps else 0.0
    w.heading("请您注意", size=12, align="left", space_after=4, keep_next=first)  # never alone at a page foot
    for i, step in enumerate(steps, start=1):
        w.paragraph(f"{i}．{step}", size=10, leading=15, space_after=2, keep_together=True)
    w.space(8)

    def sign(pen: Pen, x: float, top: float) -> None:
        right = x + w.width
        pen.draw(x, top - 14, f"受理人：{view.operator_name}", 10.5)
        pen.draw(right, top - 14, f"{view.center_name}（受理专用章）", 10.5, align="right")
        pen.draw(right, top - 34, cn_date(view.accepted_date), 10.5, align="right")
    w.block(44, sign)

    buf = io.BytesIO()
    c = pg.new_canvas(buf, f"受理回执 {view.case_no}", "受理回执")
    pen = Pen(c)

    def decor(pen: Pen, page: int, total: int) -> None:
        if provisional:
            cv = pen.canvas
            cv.saveState()
            cv.translate(pg.PAGE_W / 2, pg.PAGE_H / 2 - 60)
            cv.rotate(32)
            pen.draw(0, 0, "临时回执", 96, align="center", color=WATERMARK_RED)
            cv.restoreState()

    def footer(pen: Pen, page: int, total: int) -> None:
        pg.draw_footer(pen, page, total, f"打印时间：{printed_at:%Y-%m-%d %H:%M}", view.case_no)

    total = w.render(pen, footer, decor)
    c.save()
    return RenderResult(buf.getvalue(), set(pen.fallback_chars), set(pen.boxed_chars), total, view.warnings)
