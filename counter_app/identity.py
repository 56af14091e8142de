"""Identity numbers and phone numbers: normalisation and checks.

公民身份号码 are checked with python-stdnum's ``stdnum.cn.ric`` (GB 11643: check digit,
birth date, region code) rather than by hand. A 军人公民身份号码登记表 carries the same
18-character number, so both documents share these checks.
"""
from __future__ import annotations

import datetime as _dt
import functools
import re
import unicodedata
from dataclasses import dataclass, replace
from typing import Protocol

from stdnum import exceptions as _stdnum_exc
from stdnum.cn import ric as _ric

from counter_app.application import Applicant, IdDocument
from counter_app.errors import UserError


def normalise_id_number(raw: str | None) -> str:
    """Full-width digits and letters to ASCII, spaces and dashes removed, x upper-cased."""
    if raw is None:
        return ""
    text = unicodedata.normalize("NFKC", str(raw))
    text = re.sub(r"[\s\-_]", "", text)
    return text.upper()


@dataclass(frozen=True)
class IdNumberCheck:
    number: str           # normalised
    ok: bool
    code: str             # "ok" or a problem code
    message: str          # Chinese, tells the clerk what to do
    birth_date: _dt.date | None = None
    sex: str | None = None  # "男" / "女" from the 17th digit


_MESSAGES = {
    "empty": "请填写公民身份号码。",
    "length": "公民身份号码应为18位，请核对证件后重新输入。",
    "format": "公民身份号码只能包含数字，最后一位可以是X，请核对后重新输入。",
    "checksum": "公民身份号码校验位不正确，可能有数字输错，请逐位核对证件。",
    "birth_date": "公民身份号码中的出生日期无效，请核对证件。",
    "region": "公民身份号码前6位不是有效的行政区划代码，请核对证件。",
}


def check_id_number(raw: str | None, *, today: _dt.date | None = None) -> IdNumberCheck:
    return _check_id_number(normalise_id_number(raw), today)


@functools.lru_cache(maxsize=4096)  # pure; the region table lookup is the slow part
def _check_id_number(number: str, today: _dt.date | None) -> IdNumberCheck:
    if not number:
        return IdNumberCheck(number, False, "empty", _MESSAGES["empty"])
    if len(number) != 18:
        return IdNumberCheck(number, False, "length", _MESSAGES["length"])
    if not re.fullmatch(r"[0-9]{17}[0-9X]", number):  # ASCII only: \d would let other scripts' digits in
        return IdNumberCheck(number, False, "format", _MESSAGES["format"])
    try:
        _ric.validate(number)
    except _stdnum_exc.InvalidChecksum:
        return IdNumberCheck(number, False, "checksum", _MESSAGES["checksum"])
    except _stdnum_exc.InvalidComponent:
        # stdnum raises InvalidComponent for both a bad birth date and an unknown region;
        # tell them apart so the message points at the right digits.
        try:
            birth = _ric.get_birth_date(number)
        except _stdnum_exc.ValidationError:
            return IdNumberCheck(number, False, "birth_date", _MESSAGES["birth_date"])
        if today and birth > today:
            return IdNumberCheck(number, False, "birth_date", _MESSAGES["birth_date"])
        if not _region_exists(number[:6]):
            return IdNumberCheck(number, False, "region", _MESSAGES["region"])
        # stdnum also refuses a division code created after the holder's birth year; but
        # numbers were first issued in 1984 with the codes of that time, so a holder born in
        # 1960 legitimately carries a code "assigned" in 1983. Accept any code that exists.
    except _stdnum_exc.ValidationError:
        return IdNumberCheck(number, False, "format", _MESSAGES["format"])
    except KeyError:
        # stdnum's region table has codes with no county entry (e.g. 130295): its look-up then
        # fails with KeyError instead of InvalidComponent. Such a code is no county's.
        return IdNumberCheck(number, False, "region", _MESSAGES["region"])
    birth = _ric.get_birth_date(number)
    if today and birth > today:
        return IdNumberCheck(number, False, "birth_date", _MESSAGES["birth_date"])
    sex = "男" if int(number[16]) % 2 == 1 else "女"
    return IdNumberCheck(number, True, "ok", "", birth_date=birth, sex=sex)


def _region_exists(code: str) -> bool:
    from stdnum import numdb

    info = {k: v for _, props in numdb.get("cn/loc").info(code) for k, v in props.items()}
    return "county" in info


def check_digit_ok(number: str) -> bool:
    """The GB 11643 check digit alone, for numbers whose first six digits are no division code
    (港澳台居民居住证 810000/820000/830000, the 2023 foreign permanent resident card)."""
    return bool(re.fullmatch(r"[0-9]{17}[0-9X]", number)) and _ric.calc_check_digit(number) == number[17]


def id_number_is_valid(raw: str | None) -> bool:
    return check_id_number(raw).ok


def region_code(number: str) -> str:
    return normalise_id_number(number)[:6]


def is_henan(number: str) -> bool:
    return normalise_id_number(number).startswith("41")


# Mainland mobile numbers: 11 digits starting 1[3-9]; an optional +86/0086 prefix is dropped.
_MOBILE = re.compile(r"1[3-9]\d{9}")
# Landlines: area code 0 + 2–3 digits, then a 7–8 digit subscriber number, optional extension.
_LANDLINE = re.compile(r"0\d{2,3}-?\d{7,8}(-\d{1,6})?")


def normalise_phone(raw: str | None) -> str:
    if raw is None:
        return ""
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    text = re.sub(r"[\s()（）]", "", text)
    text = text.replace("—", "-").replace("－", "-")
    for prefix in ("+86", "0086"):
        if text.startswith(prefix):
            text = text[len(prefix):].lstrip("-")
    return text


def check_phone(raw: str | None) -> tuple[str, str | None]:
    """Return (normalised, problem message or None)."""
    phone = normalise_phone(raw)
    if not phone:
        return phone, "请填写联系电话。"
    if _MOBILE.fullmatch(phone):
        return phone, None
    if _LANDLINE.fullmatch(phone):
        return phone, None
    digits = re.sub(r"\D", "", phone)
    if digits.startswith("1") and len(digits) != 11:
        return phone, "手机号码应为11位，请核对后重新输入。"
    return phone, "电话号码格式不正确：手机号为11位（以1开头），固定电话请写区号，如0373-1234567。"


# ---- the ID card as an applicant ---------------------------------------------------------------

RESIDENT_CARD = "resident"  # the card type a reader reports for a 居民身份证


class CardFields(Protocol):
    """What an ID-card read gives the core (``devices.idcard.IdCardData`` has these fields)."""

    card_type: str
    card_type_label: str
    name: str
    sex_text: str
    birth_date: _dt.date
    ethnicity_short: str   # as printed on the card face: 汉, 蒙古, ...
    id_number: str
    address: str


class CardRefused(UserError):
    """A card that must not fill the applicant; ``severity`` is ``warning`` or ``error``."""

    def __init__(self, message: str, severity: str = "error"):
        super().__init__(message)
        self.severity = severity


def applicant_from_card(card: CardFields, current: Applicant | None = None, *,
                        bound_number: str = "") -> Applicant:
    """The applicant as the card says, on top of ``current`` (a copy; ``current`` is not changed).

    The card's name, sex, birth date, ethnicity and number replace what was typed; an address
    typed before is kept (the card's address is often not where the applicant lives now).
    ``bound_number`` is the ID number of a case already created: a different card is refused,
    as is any card other than a 居民身份证 (the scheme accepts that or a 军人公民身份号码登记表).
    """
    if card.card_type != RESIDENT_CARD:
        raise CardRefused(f"读到的是{card.card_type_label or '其他证件'}，不是居民身份证。请使用居民身份证，或选择"
                          "“军人公民身份号码登记表”人工录入。", "warning")
    if bound_number and card.id_number != bound_number:
        raise CardRefused("读到的证件号码与本办件申请人不一致，未填入。请核对是否放错了证件。")
    a = replace(current) if current is not None else Applicant()
    a.id_document = IdDocument.RESIDENT_ID_CARD
    a.name = card.name
    a.sex = card.sex_text if card.sex_text in ("男", "女") else ""
    a.birth_date = card.birth_date.isoformat()
    a.ethnicity = card.ethnicity_short
    a.id_number = card.id_number
    if not a.current_address and card.address:
        a.current_address = card.address
    return a
