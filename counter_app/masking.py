"""Display de-identification (GB/T 35273): the one masking function for lists, logs,
reports and exports. Full values appear only in the case detail, for an authorised role,
and each reveal is audited (see security.access).

- :func:`mask_name`, :func:`mask_id_number`, :func:`mask_phone`, :func:`mask_bank_account`,
  :func:`mask_address` mask one value of a known kind;
- :data:`PERSONAL_FIELDS` says which fields of the case JSON are personal and how each is masked;
  :func:`mask_application` / :func:`mask_case_json` apply it (``case show`` without ``--reveal``,
  exports, reports);
- :func:`mask_text` scrubs ID, phone and bank card numbers out of free text (the log filter
  uses it), masking each with the same functions.
"""
from __future__ import annotations

import copy
import re
from typing import Any, Callable


def mask_name(name: str | None) -> str:
    """张*军 for three characters, 张* for two, 欧**明 for four; Latin names keep the first letter."""
    name = (name or "").strip()
    if not name:
        return ""
    chars = list(name)
    if len(chars) == 1:
        return "*"
    if len(chars) == 2:
        return chars[0] + "*"
    return chars[0] + "*" * (len(chars) - 2) + chars[-1]


def mask_id_number(number: str | None, keep_head: int = 3, keep_tail: int = 4) -> str:
    """First 3 and last 4 by default: 410***********123X."""
    number = (number or "").strip()
    if len(number) <= keep_head + keep_tail:
        return "*" * len(number)
    return number[:keep_head] + "*" * (len(number) - keep_head - keep_tail) + number[-keep_tail:]


def mask_phone(phone: str | None) -> str:
    """138****5678 for mobiles; landlines keep the area code and last 2 digits."""
    phone = (phone or "").strip()
    digits = re.sub(r"\D", "", phone)
    if len(digits) == 13 and digits.startswith("86") and digits[2] == "1":
        digits = digits[2:]
    if len(digits) == 11 and digits.startswith("1"):
        return digits[:3] + "****" + digits[-4:]
    if len(phone) <= 4:
        return "*" * len(phone)
    head = phone.split("-")[0] if "-" in phone else phone[:3]
    return head + "-" + "*" * max(len(phone) - len(head) - 3, 3) + phone[-2:]


def mask_bank_account(account: str | None) -> str:
    account = re.sub(r"\s", "", account or "")
    if len(account) <= 8:
        return "*" * len(account)
    return account[:4] + "*" * (len(account) - 8) + account[-4:]


def mask_address(address: str | None, keep: int = 6) -> str:
    """Keep the administrative part (province/city/county), hide the street and number."""
    address = (address or "").strip()
    if len(address) <= keep:
        return address
    return address[:keep] + "*" * 4


def mask_birth_date(value: str | None) -> str:
    """Year only: 1990-**-**."""
    value = (value or "").strip()
    return value[:4] + "-**-**" if len(value) >= 4 else "*" * len(value)


def mask_other(value: str | None) -> str:
    """Free-text personal values with no structure worth keeping (property certificate numbers)."""
    value = (value or "").strip()
    return "****" if value else ""


# Every personal field of the case JSON's ``application`` and its masking. Categorical fields
# (sex, ethnicity, education, political status, marital status, items, choices) do not identify
# anyone alone and stay; identifiers and contact details are masked.
PERSONAL_FIELDS: dict[tuple[str, str], Callable[[str | None], str]] = {
    ("applicant", "name"): mask_name,
    ("applicant", "id_number"): mask_id_number,
    ("applicant", "birth_date"): mask_birth_date,
    ("applicant", "phone"): mask_phone,
    ("applicant", "backup_contact"): mask_name,
    ("applicant", "backup_phone"): mask_phone,
    ("applicant", "current_address"): mask_address,
    ("applicant", "placement_place"): mask_address,
    ("veteran_affairs", "bank_account"): mask_bank_account,
    ("hukou", "pre_enlistment_address"): mask_address,
    ("hukou", "head_name"): mask_name,
    ("hukou", "head_id_number"): mask_id_number,
    ("hukou", "head_phone"): mask_phone,
    ("hukou", "property_info"): mask_other,
    ("hukou", "target_address"): mask_address,
    ("pension", "card_mailing_address"): mask_address,
}


def mask_application(app: dict[str, Any]) -> dict[str, Any]:
    """A masked copy of an application dict (``application_to_dict`` form); the input is not changed."""
    out = copy.deepcopy(app)
    for (section, name), fn in PERSONAL_FIELDS.items():
        part = out.get(section)
        if isinstance(part, dict) and isinstance(part.get(name), str) and part[name]:
            part[name] = fn(part[name])
    return out


def mask_case_json(case: dict[str, Any]) -> dict[str, Any]:
    """The case JSON (``CaseService.export`` form) with its application masked and marked so."""
    out = copy.deepcopy(case)
    if isinstance(out.get("application"), dict):
        out["application"] = mask_application(out["application"])
    out["masked"] = True
    return out


# ---- free text --------------------------------------------------------------------------
# Boundaries: not preceded or followed by an ASCII letter or digit, so hex digests and
# identifiers that merely contain digit runs are left alone, while "身份证号410…" is caught.
_B = r"(?<![0-9A-Za-z])"
_E = r"(?![0-9A-Za-z])"
_CARD_GROUPED = re.compile(_B + r"[0-9]{4}(?:[ -][0-9]{4}){2,3}(?:[ -][0-9]{1,3})?" + _E)
_ID18 = re.compile(_B + r"[0-9]{17}[0-9Xx]" + _E)
_MOBILE = re.compile(_B + r"(?:\+?86[ -]?)?1[3-9][0-9](?:[ -]?[0-9]{4}){2}" + _E)
_DIGIT_RUN = re.compile(_B + r"[0-9]{12,19}" + _E)  # bank cards, 15-digit IDs


def mask_text(text: str) -> str:
    """Scrub ID numbers, mobile numbers and bank card numbers from free text."""
    if not text or not any(c.isdigit() for c in text):
        return text
    text = _CARD_GROUPED.sub(lambda m: mask_bank_account(m.group()), text)
    text = _ID18.sub(lambda m: mask_id_number(m.group()), text)
    text = _MOBILE.sub(lambda m: mask_phone(m.group()), text)
    return _DIGIT_RUN.sub(lambda m: mask_bank_account(m.group()), text)
