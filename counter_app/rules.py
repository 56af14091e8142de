"""The scheme's rules: which materials are required and why, which items apply, what is wrong.

Everything here is a pure function of an :class:`Application`; nothing raises on bad input.
Each rule cites the source (附件2 规程 五(二) for materials, 附件1 for the form).
"""
from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from typing import Any, Mapping

from counter_app.application import Application, parse_application, parse_date
from counter_app.eligibility import eligibility_problems, fill_divisions
from counter_app.form_limits import FIELD_LIMITS
from counter_app.identity import check_id_number, check_phone, normalise_id_number
from counter_app.problems import Problem
from counter_app.scheme import (
    ITEMS,
    MATERIALS,
    FamilyMode,
    HouseholdType,
    IdDocument,
    MedicalChoice,
    RESERVE_LETTER_STATES,
    RetirementType,
    is_direct_relative,
)


@dataclass(frozen=True)
class RequiredMaterial:
    number: int
    title: str
    reason: str  # why it is required for this application, in Chinese

    def to_dict(self) -> dict:
        return {"number": self.number, "title": self.title, "reason": self.reason}


def required_materials(app: Application) -> list[RequiredMaterial]:
    """Materials 1–12 that this application needs, each with the reason (规程 五(二))."""
    out: list[RequiredMaterial] = []

    def need(n: int, reason: str) -> None:
        out.append(RequiredMaterial(n, MATERIALS[n].title, reason))

    need(1, "所有申请均须提供：窗口生成联办申请表，申请人签字后扫描上传")
    doc = app.applicant.id_document
    if doc == IdDocument.MILITARY_REGISTRATION:
        need(2, "所有申请均须提供：申请人持《军人公民身份号码登记表》（尚未恢复户口、未换发居民身份证）")
    else:
        need(2, "所有申请均须提供：申请人的居民身份证")
    need(3, "所有申请均须提供")
    need(4, "所有申请均须提供")
    need(5, "所有申请均须提供")

    ds = app.data_sharing
    if ds.henan_hukou_before_enlistment is False:
        need(6, "入伍前非河南户籍")
    elif ds.hukou_cancelled is not True:
        need(6, "通过数据共享无法核验到原户口注销数据" if ds.hukou_cancelled is False
             else "尚未通过数据共享核验原户口注销情况（核验通过后可免交）")

    # Materials 7–11 concern where the hukou is restored, so they follow item 4.
    if app.has_item(4):
        h = app.hukou
        if h.household_type == HouseholdType.FAMILY:
            if h.family_mode == FamilyMode.JOIN_RELATIVE:
                # "落家庭户提供": read as joining an existing family household. On 附件1 the head's
                # fields sit under 投靠亲属入户 only; a 新立户 has no household book and no head yet
                # (its 房屋产权证明, material 10, is what the police station needs).
                need(7, "选择投靠亲属入户（落入已有的居民家庭户）")
                need(8, "选择投靠亲属入户：拟落家庭户户主的居民身份证")
                if h.restore_elsewhere and is_direct_relative(h.relation_to_head):
                    need(9, f"非原户口注销地恢复户口并落直系亲属家庭户（与户主关系：{h.relation_to_head.strip()}）")
            if h.family_mode == FamilyMode.NEW_HOUSEHOLD:
                need(10, "选择新立户")
        elif h.household_type == HouseholdType.COLLECTIVE:
            need(11, "选择在单位集体户恢复户口")
    if app.has_item(8):
        need(12, "申领社会保障卡（事项8）须提供358×441像素白底一寸免冠照片")
    return out


def required_material_numbers(app: Application) -> set[int]:
    return {m.number for m in required_materials(app)}


@dataclass(frozen=True)
class ItemApplicability:
    number: int
    applicable: bool
    reason: str  # why not, in Chinese ("" when applicable)


def item_applicability(app: Application) -> list[ItemApplicability]:
    """Whether each of the 11 items can be chosen by this applicant, and why not."""
    out = []
    for n, item in ITEMS.items():
        if item.only_for and app.retirement_type is not None and app.retirement_type not in item.only_for:
            who = "、".join(t.title for t in item.only_for)
            out.append(ItemApplicability(n, False, f"仅适用于{who}"))
        elif item.only_for and app.retirement_type is None:
            out.append(ItemApplicability(n, False, "请先选择退役类型"))
        else:
            out.append(ItemApplicability(n, True, ""))
    return out


def missing_materials(app: Application) -> list[RequiredMaterial]:
    """Required materials whose original was not seen or, for 1 and 12, whose file is missing."""
    missing = []
    for req in required_materials(app):
        rec = app.materials.get(req.number)
        if req.number == 12:
            if not app.photo and not (rec and rec.attachments):
                missing.append(req)
        elif req.number == 1:
            # The form itself is produced by the window; it is "present" once signed.
            if not app.signature:
                missing.append(req)
        elif rec is None or not rec.original_seen:
            missing.append(req)
    return missing


_YM = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def validate(data: Application | Mapping[str, Any] | Any, *, today: _dt.date | None = None,
             for_finalize: bool = False) -> list[Problem]:
    """All problems of an application; never raises.

    ``for_finalize`` adds what only matters at the end (every required material present,
    the signature), so a half-typed draft is not drowned in complaints.
    """
    if isinstance(data, Application):
        app, problems = data, []
    else:
        app, problems = parse_application(data)
    try:
        problems.extend(_validate(app, today or _dt.date.today(), for_finalize))
    except Exception as exc:  # a rule bug must not cost the clerk the case
        problems.append(Problem("", "internal", f"校验时发生内部错误（{type(exc).__name__}），请联系技术人员。"))
    return problems


def _validate(app: Application, today: _dt.date, for_finalize: bool) -> list[Problem]:
    p: list[Problem] = []

    def err(field: str, code: str, msg: str) -> None:
        p.append(Problem(field, code, msg))

    def warn(field: str, code: str, msg: str) -> None:
        p.append(Problem(field, code, msg, "warning"))

    def required(field: str, value: str, label: str) -> None:
        if not (value or "").strip():
            err(field, "required", f"请填写{label}。")

    a = app.applicant
    if not app.items:
        err("items", "required", "请至少选择一项联办事项。")
    if app.retirement_type is None:
        err("retirement_type", "required", "请选择退役类型。")

    # ---- identity ----------------------------------------------------------
    required("applicant.name", a.name, "申请人姓名")
    if a.name and not re.fullmatch(r"[\u3400-\u9fff\U00020000-\U0003134F·•A-Za-z\s]{2,30}", a.name):
        err("applicant.name", "name_format", "姓名只能包含汉字（少数民族姓名可含“·”），请核对证件。")
    idc = check_id_number(a.id_number, today=today)
    if not idc.ok:
        err("applicant.id_number", f"id_{idc.code}", idc.message)
    else:
        if a.sex and a.sex not in ("男", "女"):
            err("applicant.sex", "unknown_value", "性别应为“男”或“女”。")
        elif a.sex and a.sex != idc.sex:
            err("applicant.sex", "id_mismatch", f"性别与公民身份号码第17位不符（号码显示为{idc.sex}），请核对。")
        if a.birth_date:
            bd = parse_date(a.birth_date)
            if bd is None:
                err("applicant.birth_date", "date_format", "出生日期格式应为 年-月-日，如 1999-05-01。")
            elif bd != idc.birth_date:
                err("applicant.birth_date", "id_mismatch",
                    f"出生日期与公民身份号码不符（号码显示为{idc.birth_date:%Y年%m月%d日}），请核对。")
    if not a.sex:
        err("applicant.sex", "required", "请填写性别。")
    if not a.birth_date:
        err("applicant.birth_date", "required", "请填写出生日期。")
    required("applicant.ethnicity", a.ethnicity, "民族")
    _, msg = check_phone(a.phone)
    if msg:
        err("applicant.phone", "phone", msg)
    if a.backup_phone:
        _, msg = check_phone(a.backup_phone)
        if msg:
            err("applicant.backup_phone", "phone", "联系人电话：" + msg)
    if a.backup_contact and not a.backup_relation:
        err("applicant.backup_relation", "required", "请填写备用联系人与申请人的关系。")
    required("applicant.placement_place", a.placement_place, "拟安置地")
    required("applicant.current_address", a.current_address, "现居住地址")
    # ---- who may apply (服务对象) ---------------------------------------------
    p.extend(eligibility_problems(app, today))

    # ---- items -------------------------------------------------------------
    for ia in item_applicability(app):
        if app.has_item(ia.number) and not ia.applicable and app.retirement_type is not None:
            err("items", "item_not_applicable", f"事项{ia.number}“{ITEMS[ia.number].title}”{ia.reason}，请取消勾选。")

    va = app.veteran_affairs
    if app.has_item(3) and va.intention is None:
        err("veteran_affairs.intention", "required", "选择了职业技能培训和就业创业指导，请登记学历提升或就业创业意向。")

    h = app.hukou
    if app.has_item(4):
        if not va.settlement_letter:
            err("veteran_affairs.settlement_letter", "required",
                "办理户口登记须由退役军人事务部门开具《落户介绍信》，请勾选“开具落户介绍信”。")
        if h.household_type is None:
            err("hukou.household_type", "required", "请选择户口类型（居民家庭户或单位集体户）。")
        required("hukou.target_address", h.target_address, "拟申请落户地址")
        required("hukou.police_station", h.police_station, "拟落户地公安派出所")
        required("hukou.pre_enlistment_address", h.pre_enlistment_address, "入伍前户籍地址")
        if h.household_type == HouseholdType.FAMILY:
            if h.family_mode is None:
                err("hukou.family_mode", "required", "落居民家庭户请选择“投靠亲属入户”或“新立户”。")
            elif h.family_mode == FamilyMode.JOIN_RELATIVE:
                required("hukou.relation_to_head", h.relation_to_head, "与户主关系")
                required("hukou.head_name", h.head_name, "户主姓名")
                hc = check_id_number(h.head_id_number, today=today)
                if not hc.ok:
                    err("hukou.head_id_number", f"id_{hc.code}", "户主身份证号：" + hc.message)
                _, msg = check_phone(h.head_phone)
                if msg:
                    err("hukou.head_phone", "phone", "户主联系方式：" + msg)
            elif h.family_mode == FamilyMode.NEW_HOUSEHOLD:
                if not h.property_info and app.data_sharing.property_verified is not True:
                    err("hukou.property_info", "required", "新立户请填写房屋产权信息（或经数据共享核验）。")
        elif h.family_mode is not None:
            err("hukou.family_mode", "exclusive", "已选择单位集体户，不能同时选择投靠亲属入户或新立户。")
    elif va.settlement_letter:
        warn("veteran_affairs.settlement_letter", "unused", "未选择户口登记事项，一般无需开具落户介绍信。")

    for dep in (5, 6, 8, 9, 10):
        if app.has_item(dep) and not app.has_item(4):
            warn("items", "needs_hukou", f"事项{dep}“{ITEMS[dep].title}”须在户口登记完成后办理；"
                                         "未选择户口登记的，请确认申请人户口已恢复。")

    pn = app.pension
    if app.has_item(6) and pn.choice is None:
        err("pension.choice", "required", "选择了社会保险登记，请选择灵活就业养老保险或城乡居民养老保险参保登记。")
    if not app.has_item(6) and pn.choice is not None:
        warn("pension.choice", "unused", "未选择社会保险登记事项，养老保险参保选项不会办理，也不会保存和打印。")
    if app.has_item(7) and not app.has_item(6):
        warn("items", "pension_target", "军地养老保险转移资金将划转到社会保险登记所选账户，建议同时选择社会保险登记。")
    if app.has_item(8):
        required("pension.card_bank", pn.card_bank, "社保卡发卡银行")
        required("pension.card_mailing_address", pn.card_mailing_address, "社保卡邮寄送达地址")
    if app.has_item(2) and not app.has_item(8) and not va.bank_account:
        warn("items", "subsidy_account", "一次性经济补助金通过社保卡银行账户发放；未申领社保卡的，请确认已有社保卡并激活金融功能。")

    m = app.medical
    if app.has_item(9):
        if m.choice is None:
            err("medical.choice", "required", "选择了基本医疗保险参保登记，请选择城镇职工（灵活就业人员）或城乡居民医保。")
        elif m.choice == MedicalChoice.EMPLOYEE_FLEXIBLE:
            required("medical.flexible_city", m.flexible_city, "参加灵活就业所在市")
            required("medical.flexible_county", m.flexible_county, "参加灵活就业所在县（市、区）")
        elif m.choice == MedicalChoice.URBAN_RURAL:
            required("medical.insured_city", m.insured_city, "参保地市")
            required("medical.insured_county", m.insured_county, "参保地县（市、区）")
            required("medical.insured_town", m.insured_town, "参保地乡镇（街道）")
            required("medical.insured_village", m.insured_village, "参保地村（社区）")
    elif m.choice is not None:
        warn("medical.choice", "unused", "未选择基本医疗保险参保和变更登记事项，医保参保选项不会办理，也不会保存和打印。")
    if app.has_item(10):
        ok = True
        for fld, val, label in (("medical.transfer_from", m.transfer_from, "缴费起始年月"),
                                ("medical.transfer_to", m.transfer_to, "缴费截止年月")):
            if not val:
                err(fld, "required", f"请填写{label}（如 2020-09）。")
                ok = False
            elif not _YM.match(val):
                err(fld, "month_format", f"{label}格式应为 年-月，如 2020-09。")
                ok = False
        if ok and m.transfer_from > m.transfer_to:
            err("medical.transfer_to", "range", "缴费截止年月不能早于起始年月。")
        if ok and m.transfer_to > today.strftime("%Y-%m"):
            err("medical.transfer_to", "range", "缴费截止年月不能晚于本月。")

    # ---- what the printed form can hold ----------------------------------------
    for path, (label, most) in FIELD_LIMITS.items():
        section, name = path.split(".")
        value = getattr(getattr(app, section), name) or ""
        if len(value) > most:
            err(path, "too_long", f"{label}最多填写{most}个字（申请表栏位所限），现有{len(value)}个字，请精简。")

    if app.has_item(11) and va.reserve_letter and va.reserve_letter not in RESERVE_LETTER_STATES:
        err("veteran_affairs.reserve_letter", "unknown_value",
            "兵役登记介绍信应记录为：" + "或".join(f"“{s}”" for s in RESERVE_LETTER_STATES) + "。")
    if for_finalize and app.has_item(11) and not va.reserve_letter:
        err("veteran_affairs.reserve_letter", "required",
            "预备役登记须携带兵役登记介绍信：请记录申请人已持有，或由本中心开具并当面交给申请人。")

    # ---- materials (only when finishing) --------------------------------------
    if for_finalize and app.has_item(4) and not app.settlement_letter_scan:
        # 规程 五(四)1: VA "开具《落户介绍信》，并及时扫描上传至省一体化政务服务平台，推送至公安部门";
        # the police items travel with it or not at all. The letter is stamped after it is printed,
        # so the case may be submitted first and the scan sent after it (``sync.followups``); until
        # then the platform holds items 4 and 5.
        warn("settlement_letter_scan", "send_later",
             "尚未导入盖章的《落户介绍信》扫描件：可以先提交，盖章后在办件详情中回传；"
             "回传前公安部门的户口登记、身份证申领在省平台待推送。")
    if for_finalize:
        for req in missing_materials(app):
            if req.number == 1:
                err("signature", "required", "申请人尚未在联办申请表上签名。")
            elif req.number == 12:
                err("photo", "required", "申领社保卡须采集白底一寸免冠照片，请拍照或导入。")

            else:
                err(f"materials.{req.number}", "material_missing",
                    f"缺少材料{req.number}“{req.title}”（{req.reason}），请核验原件后勾选。")
    return p


def blocking(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.blocking]


def normalise(app: Application) -> Application:
    """Normalise typed values in place (ID numbers, phones); returns the same object."""
    from counter_app.identity import normalise_phone

    app.applicant.id_number = normalise_id_number(app.applicant.id_number)
    app.hukou.head_id_number = normalise_id_number(app.hukou.head_id_number)
    for obj, attr in ((app.applicant, "phone"), (app.applicant, "backup_phone"), (app.hukou, "head_phone")):
        setattr(obj, attr, normalise_phone(getattr(obj, attr)))
    if app.has_item(4):
        # 开具落户介绍信 is what item 4 needs from VA; tick it rather than make the clerk do it.
        app.veteran_affairs.settlement_letter = True
    fill_divisions(app)
    if app.retirement_type is not None:
        # 免申即享 (items 2 and 7): granted without application, so included for every applicant they
        # apply to; the clerk cannot forget them.
        for ia in item_applicability(app):
            if ITEMS[ia.number].exempt_application and ia.applicable and ia.number not in app.items:
                app.items = sorted(app.items + [ia.number])
    return app


def chosen_only(app: Application) -> Application:
    """A copy holding only the choices of the items chosen (what is kept, sealed and printed).

    A draft keeps everything the clerk typed (unticking an item by mistake must not lose its data);
    the finalized case and the printed form carry an option only when its item was chosen."""
    app = app.copy()
    va, h, pn, m = app.veteran_affairs, app.hukou, app.pension, app.medical
    if not app.has_item(3):
        va.intention = None
    if not app.has_item(4):
        keep = h.pre_enlistment_address  # 原籍信息 is asked of everyone (入伍前户籍地址)
        app.hukou = type(h)(pre_enlistment_address=keep)
    if not app.has_item(6):
        pn.choice = None
    if not app.has_item(8):
        pn.card_bank = pn.card_mailing_address = ""
    if not app.has_item(9):
        m.choice = None
    if m.choice != MedicalChoice.EMPLOYEE_FLEXIBLE:
        m.flexible_city = m.flexible_county = ""
    if m.choice != MedicalChoice.URBAN_RURAL:
        m.insured_city = m.insured_county = m.insured_town = m.insured_village = ""
    if not app.has_item(10):
        m.transfer_from = m.transfer_to = ""
    if h.household_type != HouseholdType.FAMILY:
        app.hukou.family_mode = None
    if app.hukou.family_mode != FamilyMode.JOIN_RELATIVE:
        hh = app.hukou
        hh.relation_to_head = hh.head_name = hh.head_id_number = hh.head_phone = ""
    if app.hukou.family_mode != FamilyMode.NEW_HOUSEHOLD:
        app.hukou.property_info = ""
    return app


_unused = (RetirementType,)
