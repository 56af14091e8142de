"""The data read from a card: the 256-byte UCS-2LE text block and its four layouts.

The text block layout depends on the card type, given by the character at byte offset 248:

* resident identity card (居民身份证) — no type character (the bytes are reserved space);
* ``'I'`` foreign permanent resident ID card, 2017 edition (外国人永久居留身份证);
* ``'J'`` residence permit for Hong Kong, Macao and Taiwan residents (港澳台居民居住证);
* ``'Y'`` foreign permanent resident ID card, 2023 edition.

Each layout below is a list of (field, byte length) in card order; the lengths of every layout
add up to 256.  Text is UCS-2 little-endian padded with spaces.  Dates are ``YYYYMMDD``; the
valid-to date of a long-term card reads ``长期``.

:func:`parse_card_text` checks the ID number the way the card type allows: a resident number
fully (length, digits, GB 11643 check digit, birth date equal to the card's); a 'J' number only
by its check digit (its 810000/820000/830000 prefix is no administrative division); a 2023
foreign number by its check digit; a 2017 foreign number by its format.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any


from counter_app.identity import check_digit_ok, check_id_number
from counter_app.masking import mask_id_number
from devices.idcard.codes import ETHNICITY_NAMES, SEX_NAMES, ethnicity_name, ethnicity_short_name, sex_name
from devices.idcard.errors import CardDataError

TEXT_SIZE = 256
PHOTO_SIZE = 1024
TYPE_OFFSET = 248
LONG_TERM = "长期"

RESIDENT = "resident"
FOREIGN_2017 = "foreign_2017"
HMT_RESIDENCE = "hmt_residence"
FOREIGN_2023 = "foreign_2023"

CARD_TYPES = (RESIDENT, FOREIGN_2017, HMT_RESIDENCE, FOREIGN_2023)
CARD_TYPE_LABELS = {
    RESIDENT: "居民身份证",
    FOREIGN_2017: "外国人永久居留身份证（2017版）",
    HMT_RESIDENCE: "港澳台居民居住证",
    FOREIGN_2023: "外国人永久居留身份证（2023版）",
}
TYPE_CHARACTERS = {"I": FOREIGN_2017, "J": HMT_RESIDENCE, "Y": FOREIGN_2023}
_TYPE_CHARACTER_OF = {v: k for k, v in TYPE_CHARACTERS.items()}

LAYOUTS: dict[str, tuple[tuple[str, int], ...]] = {
    RESIDENT: (
        ("name", 30),
        ("sex", 2),
        ("ethnicity", 4),
        ("birth", 16),
        ("address", 70),
        ("id_number", 36),
        ("issuing_authority", 30),
        ("valid_from", 16),
        ("valid_to", 16),
        ("reserved", 36),
    ),
    HMT_RESIDENCE: (
        ("name", 30),
        ("sex", 2),
        ("reserved", 4),
        ("birth", 16),
        ("address", 70),
        ("id_number", 36),
        ("issuing_authority", 30),
        ("valid_from", 16),
        ("valid_to", 16),
        ("pass_number", 18),  # 通行证号码
        ("issue_count", 4),  # 签发次数
        ("reserved2", 6),
        ("card_type", 2),
        ("reserved3", 6),
    ),
    FOREIGN_2017: (
        ("name_en", 120),
        ("sex", 2),
        ("id_number", 30),  # 15-character permanent residence number
        ("nationality", 6),  # GB/T 2659 three-letter code
        ("name", 30),  # Chinese name, may be empty
        ("valid_from", 16),
        ("valid_to", 16),
        ("birth", 16),
        ("card_version", 4),
        ("authority_code", 8),  # 当次申请受理机关代码
        ("card_type", 2),
        ("reserved", 6),
    ),
    FOREIGN_2023: (
        ("name", 30),
        ("sex", 2),
        ("renewal_count", 4),  # 换证次数
        ("birth", 16),
        ("name_en", 70),  # English name, characters 1–35
        ("id_number", 36),
        ("reserved", 30),
        ("valid_from", 16),
        ("valid_to", 16),
        ("name_en_ext", 22),  # English name, characters 36–46
        ("nationality", 6),
        ("card_type", 2),
        ("previous_number_link", 6),  # 既往版本证件号码关联项
    ),
}

for _type, _layout in LAYOUTS.items():  # the tables are the spec: fail loudly on a typo
    assert sum(n for _, n in _layout) == TEXT_SIZE, _type
    if _type != RESIDENT:
        assert sum(n for f, n in _layout[: [f for f, _ in _layout].index("card_type")]) == TYPE_OFFSET


@dataclass
class IdCardData:
    """Everything read from one card.  Dates are :class:`datetime.date`; ``valid_to`` is
    ``None`` for a long-term (长期) card.  ``photo_wlt`` is the raw 1024-byte WLT photo
    (decoding needs a vendor library, see :mod:`devices.idcard.wlt`).

    Fields that a layout does not have stay empty (``""``/``None``).
    """

    card_type: str
    name: str
    sex_code: str
    sex_text: str
    birth_date: dt.date
    id_number: str
    valid_from: dt.date
    valid_to: dt.date | None
    ethnicity_code: str = ""
    ethnicity_text: str = ""
    address: str = ""
    issuing_authority: str = ""
    photo_wlt: bytes = b""
    # Other layouts
    name_en: str = ""  # foreign cards
    nationality_code: str = ""  # foreign cards, GB/T 2659 alpha-3
    card_version: str = ""  # foreign 2017
    authority_code: str = ""  # foreign 2017 当次申请受理机关代码
    pass_number: str = ""  # HMT: 港澳/台湾居民来往内地通行证号码
    issue_count: int | None = None  # HMT: 签发次数
    renewal_count: int | None = None  # foreign 2023: 换证次数
    previous_number_link: str = ""  # foreign 2023
    # Optional extras read with other commands
    fingerprint: bytes = b""
    new_address: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def card_type_label(self) -> str:
        return CARD_TYPE_LABELS.get(self.card_type, self.card_type)

    @property
    def display_name(self) -> str:
        return self.name or self.name_en

    @property
    def ethnicity_short(self) -> str:
        """The ethnicity as printed on the card face (汉, 蒙古, ...), "" when the card has none."""
        return ethnicity_short_name(self.ethnicity_code) if self.ethnicity_code else ""

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    def same_card_as(self, other: "IdCardData | None") -> bool:
        return other is not None and other.card_type == self.card_type and other.id_number == self.id_number

    def to_dict(self, *, include_binary: bool = True) -> dict[str, Any]:
        """JSON-friendly dict: dates as ISO text (``valid_to`` ``None`` = long-term), bytes as base64."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, dt.date):
                value = value.isoformat()
            elif isinstance(value, bytes):
                if not include_binary:
                    continue
                value = base64.b64encode(value).decode("ascii")
            elif isinstance(value, list):
                value = list(value)
            out[f.name] = value
        out["card_type_label"] = self.card_type_label
        out["valid_to_text"] = self.valid_to.isoformat() if self.valid_to else LONG_TERM
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "IdCardData":
        """Inverse of :meth:`to_dict`; also reads the hand-written sample card files
        (``sex_text``/``ethnicity_text`` may be left out, ``photo_wlt`` may be absent)."""
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        try:
            for key in ("birth_date", "valid_from"):
                kwargs[key] = dt.date.fromisoformat(kwargs[key])
            valid_to = kwargs.get("valid_to")
            kwargs["valid_to"] = None if valid_to in (None, "", LONG_TERM) else dt.date.fromisoformat(valid_to)
            for key in ("photo_wlt", "fingerprint"):
                if isinstance(kwargs.get(key), str):
                    kwargs[key] = base64.b64decode(kwargs[key], validate=True)
            kwargs["sex_code"] = str(kwargs["sex_code"])
            kwargs.setdefault("sex_text", sex_name(kwargs["sex_code"]))
            if kwargs.get("ethnicity_code"):
                kwargs.setdefault("ethnicity_text", ethnicity_name(kwargs["ethnicity_code"]))
            if kwargs["card_type"] not in CARD_TYPES:
                raise ValueError(kwargs["card_type"])
            return cls(**kwargs)
        except (KeyError, TypeError, ValueError) as exc:
            raise CardDataError(f"证件数据文件格式错误（{type(exc).__name__}: {exc}）") from exc


# ---------------------------------------------------------------------------------- parsing

def detect_card_type(text: bytes) -> str:
    if len(text) != TEXT_SIZE:
        raise CardDataError(f"身份证文字信息长度错误（{len(text)} 字节，应为 {TEXT_SIZE}），请重新放卡")
    char = text[TYPE_OFFSET : TYPE_OFFSET + 2].decode("utf-16-le", errors="replace")
    return TYPE_CHARACTERS.get(char, RESIDENT)


def split_fields(text: bytes, card_type: str) -> dict[str, str]:
    """Cut the text block into decoded, padding-stripped strings per the card type's layout."""
    out: dict[str, str] = {}
    offset = 0
    for name, size in LAYOUTS[card_type]:
        raw = text[offset : offset + size]
        offset += size
        out[name] = raw.decode("utf-16-le", errors="replace").strip(" \x00")
    return out


def _field_slice(card_type: str, name: str) -> slice:
    offset = 0
    for field_name, size in LAYOUTS[card_type]:
        if field_name == name:
            return slice(offset, offset + size)
        offset += size
    raise KeyError(name)


def _digits(value: str) -> bool:
    """ASCII digits only: str.isdigit() also accepts '³' or '１', which int() or the
    check-digit arithmetic then chokes on (found by the fuzz test)."""
    return value.isascii() and value.isdigit()


def _date(value: str, what: str) -> dt.date:
    if len(value) == 8 and _digits(value):
        try:
            return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
        except ValueError:
            pass
    raise CardDataError(f"证件上的{what}无法识别，请重新放卡；多次出现请改用人工录入")


def _valid_to(value: str) -> dt.date | None:
    if value == LONG_TERM:
        return None
    return _date(value, "有效期截止日期")


def _count(value: str) -> int | None:
    return int(value) if _digits(value) else None


def _validate_number(card_type: str, number: str, birth: dt.date, warnings: list[str]) -> None:
    """The core's ID-number rules (``counter_app.identity``), as far as the card type allows."""
    bad = CardDataError("证件号码校验失败（读卡数据可能有误），请重新放卡；多次出现请核对证件并改用人工录入")
    if card_type == RESIDENT:
        check = check_id_number(number)
        # An unknown division code does not prove the card false (tables lag behind
        # re-divisions), so it is reported to the clerk rather than blocking the read.
        if check.number != number or not (check.ok or check.code == "region"):
            raise bad
        if dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14])) != birth:
            raise CardDataError("证件号码中的出生日期与证件出生日期不一致，请重新放卡；多次出现请核对证件")
        if check.code == "region":
            warnings.append("证件号码的地区代码不在行政区划表中，请核对证件")
    elif card_type in (HMT_RESIDENCE, FOREIGN_2023):
        # 'J' numbers start with 810000/820000/830000, which are no administrative divisions,
        # so only the GB 11643 check digit is meaningful; the 2023 foreign number uses the same.
        if not check_digit_ok(number):
            raise bad
    else:  # FOREIGN_2017: 3-letter nationality + 12 digits, no published check digit
        if not (len(number) == 15 and number[:3].isascii() and number[:3].isalpha() and _digits(number[3:])):
            raise bad


def parse_card_text(text: bytes, photo_wlt: bytes = b"") -> IdCardData:
    """Decode a 256-byte text block (and keep the raw photo).  Raises :class:`CardDataError`."""
    card_type = detect_card_type(text)
    f = split_fields(text, card_type)
    warnings: list[str] = []
    sex_code = f["sex"]
    if sex_code not in SEX_NAMES:
        warnings.append("证件上的性别代码无法识别，请核对")
    birth = _date(f["birth"], "出生日期")
    number = f["id_number"].upper()
    _validate_number(card_type, number, birth, warnings)
    card = IdCardData(
        card_type=card_type,
        name=f["name"],
        sex_code=sex_code,
        sex_text=sex_name(sex_code),
        birth_date=birth,
        id_number=number,
        valid_from=_date(f["valid_from"], "有效期起始日期"),
        valid_to=_valid_to(f["valid_to"]),
        photo_wlt=bytes(photo_wlt),
        warnings=warnings,
    )
    if card_type == RESIDENT:
        card.ethnicity_code = f["ethnicity"]
        card.ethnicity_text = ethnicity_name(f["ethnicity"])
        if f["ethnicity"] not in ETHNICITY_NAMES:
            warnings.append("证件上的民族代码无法识别，请核对")
    if card_type in (RESIDENT, HMT_RESIDENCE):
        card.address = f["address"]
        card.issuing_authority = f["issuing_authority"]
    if card_type == HMT_RESIDENCE:
        card.pass_number = f["pass_number"]
        card.issue_count = _count(f["issue_count"])
    if card_type == FOREIGN_2017:
        card.name_en = f["name_en"]
        card.nationality_code = f["nationality"]
        card.card_version = f["card_version"]
        card.authority_code = f["authority_code"]
    if card_type == FOREIGN_2023:
        # The English name is split over two fields; the first is full when the name is long,
        # so join the raw fields before stripping the padding.
        raw = text[_field_slice(FOREIGN_2023, "name_en")] + text[_field_slice(FOREIGN_2023, "name_en_ext")]
        card.name_en = raw.decode("utf-16-le", errors="replace").strip(" \x00")
        card.nationality_code = f["nationality"]
        card.renewal_count = _count(f["renewal_count"])
        card.previous_number_link = f["previous_number_link"]
    return card


# ---------------------------------------------------------------------------------- encoding

def encode_text_field(value: str, size: int, name: str = "field") -> bytes:
    """UCS-2LE text padded with spaces to ``size`` bytes, as cards store it."""
    raw = value.encode("utf-16-le")
    if len(raw) > size:
        raise ValueError(f"field {name!r} is {len(raw)} bytes, at most {size}")
    return raw + " ".encode("utf-16-le") * ((size - len(raw)) // 2)


def encode_card_text(card: IdCardData) -> bytes:
    """Build the 256-byte text block a card of this type carries (used by the simulator)."""
    values = {
        "name": card.name,
        "sex": card.sex_code,
        "ethnicity": card.ethnicity_code,
        "birth": card.birth_date.strftime("%Y%m%d"),
        "address": card.address,
        "id_number": card.id_number,
        "issuing_authority": card.issuing_authority,
        "valid_from": card.valid_from.strftime("%Y%m%d"),
        "valid_to": card.valid_to.strftime("%Y%m%d") if card.valid_to else LONG_TERM,
        "pass_number": card.pass_number,
        "issue_count": "" if card.issue_count is None else f"{card.issue_count:02d}",
        "renewal_count": "" if card.renewal_count is None else f"{card.renewal_count:02d}",
        "nationality": card.nationality_code,
        "card_version": card.card_version,
        "authority_code": card.authority_code,
        "card_type": _TYPE_CHARACTER_OF.get(card.card_type, ""),
        "previous_number_link": card.previous_number_link,
        "name_en": card.name_en,
    }
    if card.card_type == FOREIGN_2023:
        values["name_en"], values["name_en_ext"] = card.name_en[:35], card.name_en[35:]
    return b"".join(encode_text_field(values.get(name, ""), size, name) for name, size in LAYOUTS[card.card_type])


# ---------------------------------------------------------------------------------- card files

def filler_photo(seed: str) -> bytes:
    """1024 deterministic bytes standing in for the WLT photo (or fingerprint) of a *sample* card.

    A real WLT image is written by the card issuer and decoded only by licensed vendor
    libraries; no decoder is pretended here, so these bytes are not an image and any real
    decoder rejects them.
    """
    out = bytearray()
    counter = 0
    while len(out) < PHOTO_SIZE:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:PHOTO_SIZE])


def load_card(path: str | Path) -> IdCardData:
    """Load a card from a JSON file (the format of :meth:`IdCardData.to_dict`)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CardDataError(f"无法读取证件数据文件：{exc.strerror or exc}") from exc
    except ValueError as exc:
        raise CardDataError(f"证件数据文件不是有效的 JSON：{exc}") from exc
    if not isinstance(data, dict):
        raise CardDataError("证件数据文件格式错误：应为一个 JSON 对象")
    card = IdCardData.from_dict(data)
    if not card.photo_wlt:
        card.photo_wlt = filler_photo(card.id_number)
    if data.get("has_fingerprint") and not card.fingerprint:
        card.fingerprint = filler_photo("fingerprint:" + card.id_number)
    # Round-trip through the card encoding so a sample that no real card could hold
    # (field too long, bad number) is refused when loaded, not when served.
    try:
        parse_card_text(encode_card_text(card))
    except ValueError as exc:
        raise CardDataError(f"证件数据文件中的字段过长：{exc}") from exc
    return card


def _sample_dir() -> Path:
    return Path(__file__).resolve().parent / "sample_cards"


def sample_card_names() -> list[str]:
    """Names of the built-in sample cards (file names without ``.json``)."""
    return sorted(p.stem for p in _sample_dir().glob("*.json"))


def sample_card(name: str) -> IdCardData:
    """A built-in synthetic sample card by name (see :func:`sample_card_names`)."""
    path = _sample_dir() / f"{name}.json"
    if not path.is_file():
        raise CardDataError(f"没有名为“{name}”的样例证件，可用：{'、'.join(sample_card_names())}")
    return load_card(path)
