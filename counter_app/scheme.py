"""The scheme as data: the 11 joint items, 5 departments, 3 retirement types, 12 materials.

Source: 豫退役军人〔2024〕63号 (see ``shared/seed``), digested in ``shared/spec/scheme.md``.
Everything a province might change (names, deadlines, order) is in the tables below,
so a change of the scheme is a change of data, not of the rules engine.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass


class Department(str, enum.Enum):
    VA = "VA"      # 退役军人事务部门: lead, accepts at the window, items 1–3, issues 落户介绍信
    PS = "PS"      # 公安部门: items 4–5
    HRSS = "HRSS"  # 人力资源社会保障部门: items 6–8
    MI = "MI"      # 医疗保障部门: items 9–10 (pushes enrolment to 税务)
    PAFD = "PAFD"  # 人民武装部 / 县级兵役机关: item 11

    @property
    def title(self) -> str:
        return DEPARTMENT_TITLES[self]


DEPARTMENT_TITLES = {
    Department.VA: "退役军人事务部门",
    Department.PS: "公安部门",
    Department.HRSS: "人力资源社会保障部门",
    Department.MI: "医疗保障部门",
    Department.PAFD: "人民武装部（县级兵役机关）",
}


class RetirementType(str, enum.Enum):
    SELF_EMPLOYED = "self_employed"              # 自主就业退役士兵
    DEMOBILIZED_OFFICER = "demobilized_officer"  # 复员军官
    MONTHLY_PENSION = "monthly_pension"          # 逐月领取退役金退役军人

    @property
    def title(self) -> str:
        return RETIREMENT_TITLES[self]


RETIREMENT_TITLES = {
    RetirementType.SELF_EMPLOYED: "自主就业退役士兵",
    RetirementType.DEMOBILIZED_OFFICER: "复员军官",
    RetirementType.MONTHLY_PENSION: "逐月领取退役金退役军人",
}


@dataclass(frozen=True)
class Item:
    """One joint item (联办事项)."""

    number: int
    title: str
    short: str
    department: Department
    # Working days the department has once it holds what it needs; None = no deadline
    # of its own (7: 按资金到账情况). 0 = on the spot (5: 当场办理).
    deadline_wd: int | None
    # Items whose result this item waits for before its own clock starts.
    after: tuple[int, ...] = ()
    # Extra working days outside the 18-day case limit (8: 7 WD card making).
    excluded_wd: int = 0
    exempt_application: bool = False  # 免申即享
    # The department's clock starts when the applicant applies there in person, not when the case
    # is pushed (11: "应在申请人提出申请1个工作日内完成预备役登记").
    starts_on_visit: bool = False
    only_for: tuple[RetirementType, ...] = ()
    note: str = ""


ITEMS: dict[int, Item] = {
    1: Item(1, "退役报到", "退役报到", Department.VA, 1),
    2: Item(2, "自主就业一次性经济补助金的给付", "一次性经济补助金", Department.VA, 1,
            exempt_application=True, only_for=(RetirementType.SELF_EMPLOYED,),
            note="免申即享，通过社保卡银行账户发放，需提前激活社保卡金融功能"),
    3: Item(3, "自主就业职业技能培训和就业创业指导", "技能培训和就业创业指导", Department.VA, 1,
            only_for=(RetirementType.SELF_EMPLOYED,),
            note="登记学历提升或就业创业意向，手册在线查询"),
    4: Item(4, "户口登记（退役军人恢复户口）", "恢复户口", Department.PS, 10, after=(1,),
            note="凭退役军人事务部门开具的《落户介绍信》办理"),
    5: Item(5, "居民身份证申领", "身份证申领", Department.PS, 0, after=(4,),
            note="打印《居民户口簿》本人户口页时当场采集信息办理，无需申请材料"),
    6: Item(6, "社会保险登记", "社会保险登记", Department.HRSS, 2, after=(4,),
            note="灵活就业社会保险登记或城乡居民养老保险登记"),
    7: Item(7, "军地养老保险关系转移接续", "养老保险转移接续", Department.HRSS, None,
            exempt_application=True, note="免申即享，按资金到账情况办理"),
    8: Item(8, "社会保障卡（含电子社保卡）申领", "社保卡申领", Department.HRSS, 2, after=(4,),
            excluded_wd=7, note="7个工作日内制卡并邮寄送达（证到支付寄递费用）"),
    9: Item(9, "基本医疗保险参保和变更登记", "医保参保登记", Department.MI, 5, after=(4,)),
    10: Item(10, "基本医疗保险关系转移接续", "医保关系转移", Department.MI, 5, after=(4,)),
    11: Item(11, "预备役登记", "预备役登记", Department.PAFD, 1, starts_on_visit=True,
             note="申请人本人携带兵役登记介绍信前往县级兵役机关办理"),
}

# The order of the 11 checkboxes on the printed form (附件1) differs from the item
# numbering: 社会保障卡申领 (8) is printed before 军地养老保险关系转移接续 (7).
FORM_ITEM_ORDER: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 8, 7, 9, 10, 11)

# Whole case, acceptance to completion (规程 二.3), card making, mailing and fund disbursement excluded.
CASE_DEADLINE_WD = 18


@dataclass(frozen=True)
class Material:
    number: int
    title: str
    condition: str  # the source's own words for when it is required


MATERIALS: dict[int, Material] = {
    1: Material(1, "河南省退役军人服务“一件事”联办申请表", "必须提供（窗口生成，申请人签字后扫描上传）"),
    2: Material(2, "居民身份证或军人公民身份号码登记表", "必须提供"),
    3: Material(3, "退出现役证件", "必须提供"),
    4: Material(4, "退出现役行政介绍信", "必须提供"),
    5: Material(5, "军人退役医疗保险个人账户转移凭证", "必须提供"),
    6: Material(6, "户口注销证明", "入伍前非河南户籍或通过数据共享无法核验到户口注销数据的退役军人提供"),
    7: Material(7, "居民户口簿", "落家庭户提供"),
    8: Material(8, "拟落家庭户户主的居民身份证", "落家庭户提供"),
    9: Material(9, "亲属关系证明", "非原户口注销地恢复户口并落直系亲属家庭户提供"),
    10: Material(10, "房屋产权证明", "新立户提供"),
    11: Material(11, "单位同意落户意见", "在单位集体户恢复户口提供"),
    12: Material(12, "白底一寸免冠照片电子版", "办理社保卡提供（358×441像素，白底）"),
}


class IdDocument(str, enum.Enum):
    RESIDENT_ID_CARD = "resident_id_card"          # 居民身份证
    MILITARY_REGISTRATION = "military_registration"  # 军人公民身份号码登记表 (no ID card until hukou is restored)

    @property
    def title(self) -> str:
        return {"resident_id_card": "居民身份证", "military_registration": "军人公民身份号码登记表"}[self.value]


class _ChoiceTitles(dict):
    """Titles of the form's options. Keyed by (enum class, value): the str-valued members
    PensionChoice.URBAN_RURAL and MedicalChoice.URBAN_RURAL are *equal* ("urban_rural"), so a
    plain dict keyed by members would give one of them the other's title."""

    def __init__(self, pairs: list):
        super().__init__({(type(k), k.value): v for k, v in pairs})

    def __getitem__(self, member: enum.Enum) -> str:
        return super().__getitem__((type(member), member.value))

    def get(self, member, default=None):  # noqa: ANN001
        try:
            return self[member]
        except (KeyError, AttributeError):
            return default

    def __contains__(self, member: object) -> bool:
        return self.get(member) is not None


class _Titled:
    @property
    def title(self) -> str:
        return CHOICE_TITLES[self]


class HouseholdType(_Titled, str, enum.Enum):
    FAMILY = "family"          # 居民家庭户
    COLLECTIVE = "collective"  # 单位集体户


class FamilyMode(_Titled, str, enum.Enum):
    JOIN_RELATIVE = "join_relative"  # 投靠亲属入户
    NEW_HOUSEHOLD = "new_household"  # 新立户


class PensionChoice(_Titled, str, enum.Enum):
    FLEXIBLE = "flexible"        # 灵活就业养老保险参保登记
    URBAN_RURAL = "urban_rural"  # 城乡居民养老保险参保登记


class MedicalChoice(_Titled, str, enum.Enum):
    EMPLOYEE_FLEXIBLE = "employee_flexible"  # 以灵活就业人员身份参加城镇职工基本医疗保险
    URBAN_RURAL = "urban_rural"              # 城乡居民医保参保登记


class Intention(_Titled, str, enum.Enum):
    RESUME_SCHOOL = "resume_school"  # 复学
    EDUCATION = "education"          # 学历提升
    EMPLOYMENT = "employment"        # 就业
    ENTREPRENEURSHIP = "entrepreneurship"  # 创业
    UNDECIDED = "undecided"          # 没有考虑好


CHOICE_TITLES = _ChoiceTitles([  # pairs, not a dict literal: equal-valued keys would collapse
    (HouseholdType.FAMILY, "居民家庭户"),
    (HouseholdType.COLLECTIVE, "单位集体户"),
    (FamilyMode.JOIN_RELATIVE, "投靠亲属入户"),
    (FamilyMode.NEW_HOUSEHOLD, "新立户"),
    (PensionChoice.FLEXIBLE, "灵活就业养老保险参保登记"),
    (PensionChoice.URBAN_RURAL, "城乡居民养老保险参保登记"),
    (MedicalChoice.EMPLOYEE_FLEXIBLE, "以灵活就业人员身份参加城镇职工基本医疗保险"),
    (MedicalChoice.URBAN_RURAL, "城乡居民医保参保登记"),
    (Intention.RESUME_SCHOOL, "复学"),
    (Intention.EDUCATION, "学历提升"),
    (Intention.EMPLOYMENT, "就业"),
    (Intention.ENTREPRENEURSHIP, "创业"),
    (Intention.UNDECIDED, "没有考虑好"),
])

# The choices the form offers for 政治面貌, 学历 and 婚姻状况 (GB/T 4762, 4658, 2261.2 names, as the
# veteran's file records them: the platform's ``veteran_file`` answer uses the same words).
POLITICAL_STATUSES: tuple[str, ...] = (
    "中共党员", "中共预备党员", "共青团员", "民革党员", "民盟盟员", "民建会员", "民进会员", "农工党党员", "致公党党员",
    "九三学社社员", "台盟盟员", "无党派人士", "群众")
EDUCATION_LEVELS: tuple[str, ...] = (
    "研究生（博士）", "研究生（硕士）", "大学本科", "大学专科", "中等专科", "职业高中", "技工学校", "高中", "初中", "小学")
MARITAL_STATUSES: tuple[str, ...] = ("未婚", "已婚", "离婚", "丧偶")

# Relations that count as 直系亲属 for material 9 (亲属关系证明): lineal relatives up and down two
# generations and the spouse, in the formal and the everyday names clerks type (爷爷, 姥姥, 爱人).
# Step- and adoptive parents/children are lineal relatives in law (拟制直系血亲).
DIRECT_RELATIVES = frozenset({
    "父亲", "母亲", "父母", "爸爸", "妈妈", "继父", "继母", "养父", "养母",
    "配偶", "妻子", "丈夫", "爱人", "老婆", "老公",
    "子女", "儿子", "女儿", "继子", "继女", "养子", "养女",
    "祖父母", "祖父", "祖母", "爷爷", "奶奶",
    "外祖父母", "外祖父", "外祖母", "外公", "外婆", "姥爷", "姥姥",
    "孙子女", "孙子", "孙女", "外孙子女", "外孙子", "外孙", "外孙女",
})


def is_direct_relative(relation: str) -> bool:
    return "".join((relation or "").split()) in DIRECT_RELATIVES


# 预备役登记: "申请人携带兵役登记介绍信等相关资料前往安置地县级兵役机关（人民武装部）" (方案 四(三)11);
# "县级兵役机关（人民武装部）应在申请人提出申请1个工作日内完成预备役登记" (规程 五(四)2) binds the organ
# from when the applicant comes, so the window words it as the office's promise, not as an order.
RESERVE_LETTER_STATES: tuple[str, ...] = ("申请人已持有", "本中心已开具并当面交申请人")
RESERVE_PROMISE = "县级兵役机关（人民武装部）自您本人前往提出申请起1个工作日内完成预备役登记"

# 申请承诺, verbatim from 附件1.
DECLARATION = ("本人确认上述申报事项为自主选择，申报信息、内容真实有效，若存在隐瞒事实、提供虚假材料等行为，"
               "本人承担由此产生的一切后果和法律责任。")

PENSION_TRANSFER_NOTE = ("军人退役基本养老保险关系接续（该事项依托全国统一军地养老保险转移接续平台，"
                         "通过总对总传递、转移资金总对省清算的方式进行，免申即享）")

# Service rating scale (好差评, GB/T 39735): five levels, best first.
RATINGS: tuple[str, ...] = ("非常满意", "满意", "基本满意", "不满意", "非常不满意")
