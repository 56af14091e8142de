"""The application (联办申请) as a typed value, and its JSON form (the case import/export format).

The JSON layout is documented in ``docs/case-schema.json`` (JSON Schema) and is what the
printing and sync layers consume. ``parse_application`` never raises on bad input: it
returns the best application it could build plus a list of problems, so a clerk's typing
is never thrown away because one field is wrong.
"""
from __future__ import annotations

import datetime as _dt
import enum
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Mapping

from counter_app.problems import Problem
from counter_app.scheme import (
    ITEMS,
    FamilyMode,
    HouseholdType,
    IdDocument,
    Intention,
    MedicalChoice,
    PensionChoice,
    RetirementType,
)

SCHEMA_ID = "counter-app/case/v1"
# The keys of a whole case JSON around ``application`` (docs/case-schema.json, top level).
CASE_KEYS = frozenset({"schema", "case_no", "version", "supersedes", "correction", "state", "center_code", "center_name",
                       "window_no", "operator", "operator_name", "created_at", "accepted_at", "finalized_at",
                       "application", "items_progress", "deadlines", "attachments", "platform",
                       "content_digest", "seal"})


@dataclass
class Applicant:
    name: str = ""
    sex: str = ""                 # 男 / 女
    birth_date: str = ""          # YYYY-MM-DD
    ethnicity: str = ""           # 民族, e.g. 汉
    id_number: str = ""           # 公民身份号码 (normalised)
    id_document: IdDocument = IdDocument.RESIDENT_ID_CARD
    political_status: str = ""    # 政治面貌
    education: str = ""           # 学历
    marital_status: str = ""      # 婚姻状况
    phone: str = ""               # 联系电话
    backup_contact: str = ""      # 备用联系人
    backup_relation: str = ""     # 备用联系人（关系）
    backup_phone: str = ""        # 联系人电话
    placement_place: str = ""     # 拟安置地
    current_address: str = ""     # 现居住地址
    # 退出现役时间 (YYYY-MM-DD, from the 退出现役证件): 服务对象 are those discharged "当年度".
    discharge_date: str = ""
    # Administrative-division code (6 digits) of the placement county: 服务对象 are "河南省内落户安置", 41xxxx.
    placement_division: str = ""


@dataclass
class DataSharing:
    """Values the platform verifies (数据共享校验); None = not verified yet."""

    henan_hukou_before_enlistment: bool | None = None  # 入伍前是否河南户籍
    hukou_cancelled: bool | None = None                # 原户籍是否注销
    property_verified: bool | None = None              # 房屋产权信息 verified


@dataclass
class VeteranAffairs:
    bank_account: str = ""        # 社保卡银行账户卡号 (数据共享)
    bank_name: str = ""           # 开户行 (数据共享)
    intention: Intention | None = None  # 学历提升或就业创业意向
    settlement_letter: bool = False     # □ 开具落户介绍信
    # 兵役登记介绍信 for item 11 (scheme.RESERVE_LETTER_STATES): does the applicant already hold it,
    # or did this center issue it and hand it over at the window.
    reserve_letter: str = ""


@dataclass
class Hukou:
    pre_enlistment_address: str = ""          # 入伍前户籍地址
    household_type: HouseholdType | None = None
    family_mode: FamilyMode | None = None
    relation_to_head: str = ""                # 与户主关系
    head_name: str = ""                       # 户主姓名
    head_id_number: str = ""                  # 户主身份证号
    head_phone: str = ""                      # 户主联系方式
    property_info: str = ""                   # 房屋产权信息
    target_address: str = ""                  # 拟申请落户地址
    police_station: str = ""                  # 拟落户地公安派出所
    police_station_division: str = ""         # division code of the police station's county (41xxxx)
    # Restoring hukou somewhere other than where it was cancelled (material 9 condition).
    restore_elsewhere: bool = False


@dataclass
class Pension:
    choice: PensionChoice | None = None
    card_bank: str = ""                # 发卡银行
    card_mailing_address: str = ""     # 社保卡邮寄送达地址


@dataclass
class Medical:
    choice: MedicalChoice | None = None
    flexible_city: str = ""            # 参加灵活就业 __市
    flexible_county: str = ""          # __县（市、区）
    transfer_from: str = ""            # 缴费起止时间 YYYY-MM
    transfer_to: str = ""              # YYYY-MM
    insured_city: str = ""             # 城乡居民 参保地 __市
    insured_county: str = ""
    insured_town: str = ""             # 乡镇（街道）
    insured_village: str = ""          # 村（社区）


@dataclass
class MaterialRecord:
    """What the clerk did with one material: original seen, files attached (SHA-256 hashes)."""

    number: int
    original_seen: bool = False
    attachments: list[str] = field(default_factory=list)
    watermarked: bool = False


@dataclass
class EligibilityOverride:
    """A supervisor's decision to serve an applicant outside the 服务对象 ("根据退役军人实际需求…适时扩大"):
    who decided, why, when (ISO 8601). Checked against the audit trail before the case is finalized."""

    supervisor: str = ""
    reason: str = ""
    at: str = ""


@dataclass
class Application:
    items: list[int] = field(default_factory=list)
    retirement_type: RetirementType | None = None
    applicant: Applicant = field(default_factory=Applicant)
    data_sharing: DataSharing = field(default_factory=DataSharing)
    veteran_affairs: VeteranAffairs = field(default_factory=VeteranAffairs)
    hukou: Hukou = field(default_factory=Hukou)
    pension: Pension = field(default_factory=Pension)
    medical: Medical = field(default_factory=Medical)
    materials: dict[int, MaterialRecord] = field(default_factory=dict)
    photo: str | None = None          # SHA-256 of the 358×441 photo
    signature: str | None = None      # SHA-256 of the signature PNG
    # SHA-256 of the 落户介绍信 as stamped and scanned back (attachment role ``settlement_letter``):
    # "开具《落户介绍信》，并扫描上传…推送至公安部门"; items 4 and 5 are not pushed without it.
    settlement_letter_scan: str | None = None
    application_date: str = ""        # 申请日期 YYYY-MM-DD
    source: str = "walk_in"           # walk_in / online
    online_application_id: str = ""   # the platform's id for an online application
    eligibility_override: EligibilityOverride | None = None

    # ---- conveniences -------------------------------------------------
    def has_item(self, number: int) -> bool:
        return number in self.items

    def material(self, number: int) -> MaterialRecord:
        rec = self.materials.get(number)
        if rec is None:
            rec = MaterialRecord(number)
            self.materials[number] = rec
        return rec

    def copy(self) -> "Application":
        return application_from_dict(application_to_dict(self))


# ---------------------------------------------------------------- JSON

def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def get_path(app: Application, path: str) -> Any:
    """The value at a dotted form path ("applicant.phone", "hukou.head_name"): the names the form's
    fields, the rules' problems and the platform's answers use for the same place."""
    obj: Any = app
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def set_path(app: Application, path: str, value: Any) -> None:
    head, _, last = path.rpartition(".")
    setattr(get_path(app, head) if head else app, last, value)


def application_to_dict(app: Application) -> dict[str, Any]:
    d = {
        "items": sorted(app.items),
        "retirement_type": _plain(app.retirement_type),
        "applicant": _plain(asdict(app.applicant)),
        "data_sharing": _plain(asdict(app.data_sharing)),
        "veteran_affairs": _plain(asdict(app.veteran_affairs)),
        "hukou": _plain(asdict(app.hukou)),
        "pension": _plain(asdict(app.pension)),
        "medical": _plain(asdict(app.medical)),
        "materials": [_plain(asdict(m)) for _, m in sorted(app.materials.items())],
        "photo": app.photo,
        "signature": app.signature,
        "settlement_letter_scan": app.settlement_letter_scan,
        "application_date": app.application_date,
        "source": app.source,
        "online_application_id": app.online_application_id,
        "eligibility_override": asdict(app.eligibility_override) if app.eligibility_override else None,
    }
    return d


# Exclusive choice groups: the JSON may carry a list (e.g. from two ticked boxes);
# more than one value is refused with this message.
_EXCLUSIVE = {
    ("hukou", "household_type"): (HouseholdType, "户口类型只能选择“居民家庭户”或“单位集体户”其中一项。"),
    ("hukou", "family_mode"): (FamilyMode, "居民家庭户只能选择“投靠亲属入户”或“新立户”其中一项。"),
    ("pension", "choice"): (PensionChoice, "养老保险只能选择“灵活就业养老保险参保登记”或“城乡居民养老保险参保登记”其中一项。"),
    ("medical", "choice"): (MedicalChoice, "医疗保险只能选择“以灵活就业人员身份参加城镇职工基本医疗保险”或“城乡居民医保参保登记”其中一项。"),
    ("veteran_affairs", "intention"): (Intention, "学历提升或就业创业意向只能选择一项。"),
}
_ENUM_FIELDS = {("applicant", "id_document"): IdDocument}
_BOOL_OR_NONE = {("data_sharing", f.name) for f in fields(DataSharing)}
_BOOLS = {("veteran_affairs", "settlement_letter"), ("hukou", "restore_elsewhere")}


_TOP_KEYS = frozenset({"items", "retirement_type", "applicant", "data_sharing", "veteran_affairs", "hukou", "pension",
                       "medical", "materials", "photo", "signature", "settlement_letter_scan", "application_date",
                       "source",
                       "online_application_id", "eligibility_override"})
_MATERIAL_KEYS = frozenset({"number", "original_seen", "attachments", "watermarked"})


def _unknown(problems: list[Problem], where: str, keys: Any, known: Any) -> None:
    """A key we do not know is an error, never silently dropped: it may be data the applicant gave
    (a discharge date under another name, a newer schema) that would otherwise vanish."""
    for key in sorted(set(map(str, keys)) - set(known)):
        field_name = f"{where}.{key}" if where else key
        problems.append(Problem(field_name, "unknown_field",
                                f"无法识别的字段“{field_name}”：本程序不认识该字段，数据不会被导入。"
                                "请核对字段名（见 docs/case-schema.json），或联系技术人员升级程序。"))


def parse_application(data: Any) -> tuple[Application, list[Problem]]:
    """Build an Application from case JSON; never raises. Unknown keys are problems
    (code ``unknown_field``), so nothing the file carries is dropped without a word."""
    problems: list[Problem] = []
    app = Application()
    if not isinstance(data, Mapping):
        problems.append(Problem("", "not_object", "申请数据格式不正确：应为JSON对象。"))
        return app, problems
    # Case JSON may wrap the application: {"case_no":..., "application": {...}}.
    if isinstance(data.get("application"), Mapping):
        _unknown(problems, "", data.keys(), CASE_KEYS)
        data = data["application"]
    _unknown(problems, "", data.keys(), _TOP_KEYS)

    raw_items = data.get("items", [])
    if not isinstance(raw_items, list):
        problems.append(Problem("items", "type", "联办事项格式不正确，应为事项编号列表。"))
        raw_items = []
    items: list[int] = []
    for raw in raw_items:
        try:
            n = int(raw)
        except (TypeError, ValueError):
            problems.append(Problem("items", "unknown_item", f"未知的联办事项：{raw!r}。"))
            continue
        if n not in ITEMS:
            problems.append(Problem("items", "unknown_item", f"未知的联办事项编号：{n}（应为1至11）。"))
        elif n not in items:
            items.append(n)
    app.items = sorted(items)

    rt = data.get("retirement_type")
    if isinstance(rt, list):
        if len(rt) > 1:
            problems.append(Problem("retirement_type", "exclusive", "退役类型只能选择一项。"))
        rt = rt[0] if rt else None
    if rt not in (None, ""):
        try:
            app.retirement_type = RetirementType(rt)
        except ValueError:
            problems.append(Problem("retirement_type", "unknown_value", f"未知的退役类型：{rt!r}。"))

    sections = {
        "applicant": app.applicant, "data_sharing": app.data_sharing,
        "veteran_affairs": app.veteran_affairs, "hukou": app.hukou,
        "pension": app.pension, "medical": app.medical,
    }
    for sname, target in sections.items():
        raw = data.get(sname, {})
        if raw is None:
            continue
        if not isinstance(raw, Mapping):
            problems.append(Problem(sname, "type", f"“{sname}”部分格式不正确，应为JSON对象。"))
            continue
        _unknown(problems, sname, raw.keys(), [f.name for f in fields(target)])
        for f in fields(target):
            if f.name not in raw:
                continue
            value = raw[f.name]
            key = (sname, f.name)
            fname = f"{sname}.{f.name}"
            if key in _EXCLUSIVE:
                enum_cls, msg = _EXCLUSIVE[key]
                if isinstance(value, list):
                    if len(value) > 1:
                        problems.append(Problem(fname, "exclusive", msg))
                    value = value[0] if value else None
                if value in (None, ""):
                    setattr(target, f.name, None)
                    continue
                try:
                    setattr(target, f.name, enum_cls(value))
                except ValueError:
                    problems.append(Problem(fname, "unknown_value", f"选项值无效：{value!r}。"))
            elif key in _ENUM_FIELDS:
                try:
                    setattr(target, f.name, _ENUM_FIELDS[key](value))
                except ValueError:
                    problems.append(Problem(fname, "unknown_value", f"证件类型无效：{value!r}。"))
            elif key in _BOOL_OR_NONE:
                if value is None or isinstance(value, bool):
                    setattr(target, f.name, value)
                else:
                    problems.append(Problem(fname, "type", "应填写“是”或“否”（true/false）。"))
            elif key in _BOOLS:
                if isinstance(value, bool):
                    setattr(target, f.name, value)
                else:
                    problems.append(Problem(fname, "type", "应为 true 或 false。"))
            else:
                if value is None:
                    value = ""
                if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                    problems.append(Problem(fname, "type", "应为文字。"))
                    continue
                setattr(target, f.name, str(value).strip())

    raw_materials = data.get("materials", [])
    if isinstance(raw_materials, Mapping):
        raw_materials = [dict(v, number=k) if isinstance(v, Mapping) else v for k, v in raw_materials.items()]
    if not isinstance(raw_materials, list):
        problems.append(Problem("materials", "type", "材料清单格式不正确。"))
        raw_materials = []
    for raw in raw_materials:
        if not isinstance(raw, Mapping):
            problems.append(Problem("materials", "type", "材料记录格式不正确。"))
            continue
        _unknown(problems, "materials", raw.keys(), _MATERIAL_KEYS)
        try:
            n = int(raw.get("number"))
        except (TypeError, ValueError):
            problems.append(Problem("materials", "unknown_material", "材料编号无效。"))
            continue
        if not 1 <= n <= 12:
            problems.append(Problem("materials", "unknown_material", f"未知的材料编号：{n}（应为1至12）。"))
            continue
        atts = raw.get("attachments", [])
        if not isinstance(atts, list) or not all(isinstance(a, str) and _is_sha256(a) for a in atts):
            problems.append(Problem(f"materials.{n}", "attachment", "附件应为SHA-256摘要列表。"))
            atts = [a for a in atts if isinstance(a, str) and _is_sha256(a)] if isinstance(atts, list) else []
        app.materials[n] = MaterialRecord(n, bool(raw.get("original_seen", False)), list(atts),
                                          bool(raw.get("watermarked", False)))

    for key in ("photo", "signature", "settlement_letter_scan"):
        v = data.get(key)
        if v in (None, ""):
            continue
        if isinstance(v, str) and _is_sha256(v):
            setattr(app, key, v.lower())
        else:
            problems.append(Problem(key, "attachment", "附件应为SHA-256摘要。"))
    for key in ("application_date", "source", "online_application_id"):
        v = data.get(key)
        if isinstance(v, str):
            setattr(app, key, v.strip())
    ov = data.get("eligibility_override")
    if isinstance(ov, Mapping):
        _unknown(problems, "eligibility_override", ov.keys(), [f.name for f in fields(EligibilityOverride)])
        if all(isinstance(ov.get(f.name, ""), str) for f in fields(EligibilityOverride)):
            app.eligibility_override = EligibilityOverride(**{f.name: ov.get(f.name, "").strip()
                                                              for f in fields(EligibilityOverride)})
        else:
            problems.append(Problem("eligibility_override", "type", "主管特批记录格式不正确（应为文字）。"))
    elif ov is not None:
        problems.append(Problem("eligibility_override", "type", "主管特批记录格式不正确，应为JSON对象。"))
    if app.source not in ("walk_in", "online"):
        problems.append(Problem("source", "unknown_value", "来源应为 walk_in（现场）或 online（网上申请）。"))
        app.source = "walk_in"
    return app, problems


def application_from_dict(data: Any) -> Application:
    """Strict variant for trusted data (our own store): raises ValueError on structural problems."""
    app, problems = parse_application(data)
    hard = [p for p in problems if p.code in ("not_object", "type", "unknown_value", "unknown_item",
                                              "unknown_material", "attachment", "unknown_field")]
    if hard:
        raise ValueError("; ".join(p.message for p in hard))
    return app


def _is_sha256(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdefABCDEF" for c in text)


def parse_date(text: str) -> _dt.date | None:
    try:
        return _dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        return None


__all__ = [
    "Applicant", "Application", "DataSharing", "EligibilityOverride", "Hukou", "MaterialRecord", "Medical", "Pension",
    "VeteranAffairs", "application_from_dict", "application_to_dict", "parse_application", "parse_date",
    "replace", "SCHEMA_ID",
]
