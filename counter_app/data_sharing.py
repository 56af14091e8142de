"""The platform's 数据共享 answers, copied into an application.

Two kinds of answer reach the form (``counter_app.sync.lookup_data_sharing``):

* **verified values** — 入伍前是否河南户籍, 原户籍是否注销, the property record, the bank account
  of the one-off allowance: government registers the platform asks;
* **the veteran's file** (``veteran_file``, 退役军人档案) — the county center receives and checks
  the file before it notifies the veteran (scheme, flow step 1), so a walk-in's 政治面貌, 学历,
  退出现役时间, 拟安置地, 入伍前户籍地址 and the service months of the military medical insurance
  (入伍年月 to the month of discharge) are already known. They are proposals: a field is filled
  only while it is empty — nothing the clerk typed is ever replaced — and the applicant reviews
  every value on their own screen before signing.

Headless and pure: the UI shows what ``apply_data_sharing`` reports.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from counter_app.application import Application, get_path, set_path
from counter_app.scheme import RetirementType
from counter_app.sync.contract import VETERAN_FILE_FIELDS

# Form paths whose value is a platform-verified answer (the form marks a change to them).
VERIFIED_PATHS = ("data_sharing.henan_hukou_before_enlistment", "data_sharing.hukou_cancelled",
                  "data_sharing.property_verified")
VETERAN_FILE_SOURCE = "退役军人档案"


@dataclass
class Applied:
    """What one answer changed: notes for the clerk, and the form paths the veteran's file filled
    (path → the value it put there)."""

    notes: list[str] = field(default_factory=list)
    from_file: dict[str, str] = field(default_factory=dict)


def verified(results: dict, path: str) -> bool:
    """The platform verified the answer behind form path ``path`` (one of ``VERIFIED_PATHS``)."""
    key = path.split(".", 1)[1]
    answer = results.get("property_record" if key == "property_verified" else key) or {}
    return bool(answer.get("verified"))


def apply_data_sharing(app: Application, results: dict) -> Applied:
    """Copy the platform's answers into ``app`` (see the module docstring)."""
    out = Applied()
    ds, va, h = app.data_sharing, app.veteran_affairs, app.hukou
    for key in ("henan_hukou_before_enlistment", "hukou_cancelled"):
        r = results.get(key) or {}
        if r.get("verified") and isinstance(r.get("value"), bool):
            setattr(ds, key, r["value"])
        if r.get("note"):
            out.notes.append(str(r["note"]))
    prop = results.get("property_record") or {}
    if prop.get("verified"):
        ds.property_verified = bool(prop.get("found"))
        if prop.get("found") and prop.get("certificate_no") and not h.property_info:
            h.property_info = str(prop["certificate_no"])
    bank = results.get("social_security_bank_account") or {}
    if bank.get("found"):
        va.bank_account = str(bank.get("account") or va.bank_account)
        va.bank_name = str(bank.get("bank_name") or va.bank_name)
    _apply_file(app, results.get("veteran_file") or {}, out)
    return out


def _apply_file(app: Application, file: dict, out: Applied) -> None:
    if not file.get("found"):
        if file:
            out.notes.append(str(file.get("note") or "省平台未找到该退役军人的档案信息，请按退出现役证件等材料填写。"))
        return
    proposals = {path: str(file.get(key) or "").strip() for key, path in VETERAN_FILE_FIELDS.items()}
    discharge = str(file.get("discharge_date") or "")
    if len(discharge) == 10:
        # the military medical insurance runs from enlistment to the month of discharge
        proposals["medical.transfer_to"] = discharge[:7]
    for path, value in proposals.items():
        if value and not str(get_path(app, path) or "").strip():
            set_path(app, path, value)
            out.from_file[path] = value


def file_retirement_type(results: dict) -> RetirementType | None:
    """The 退役类型 the veteran's file records, if the platform found the file and says."""
    file = results.get("veteran_file") or {}
    try:
        return RetirementType(file["retirement_type"]) if file.get("found") and file.get("retirement_type") else None
    except ValueError:
        return None
