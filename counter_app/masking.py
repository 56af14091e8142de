"""Display de-identification (GB/T 35273): the one masking function for lists, logs,
reports and exports. Full values appear only in the case detail, for an authorised role,
and each reveal is audited (see security.access)."""
from __future__ import annotations

import re


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
