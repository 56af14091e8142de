"""Administrative divisions (行政区划代码, GB/T 2260): names of counties, and the county a
placement or a police station's name points at.

The scheme serves veterans "河南省内落户安置" (服务对象): the placement county and the county of the
police station that restores the hukou must both be Henan divisions, codes 41xxxx. The table is
python-stdnum's ``cn/loc`` (already used for 公民身份号码 checks), so it is not a second copy.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

HENAN_PREFIX = "41"
_CURRENT = re.compile(r"\[(\d{4})?-\]")   # "[1983-]名" = still in use; "[-2010]名" or "[1983-1987]名" = gone


@dataclass(frozen=True)
class Division:
    code: str        # 6 digits
    province: str
    prefecture: str  # "" for a province-level city's districts (北京市朝阳区)
    county: str

    @property
    def full_name(self) -> str:
        return self.province + (self.prefecture if self.prefecture != self.province else "") + self.county

    @property
    def in_henan(self) -> bool:
        return self.code.startswith(HENAN_PREFIX)


def _current_name(raw: str) -> str:
    """'[1983-1987]金海区,[1987-]惠济区' → '惠济区'; a name without years is current; '' if none is."""
    for part in raw.split(","):
        part = part.strip()
        if not part.startswith("["):
            return part
        m = _CURRENT.match(part)
        if m:
            return part[m.end():]
    return ""


@functools.lru_cache(maxsize=1)
def _top() -> tuple[dict[str, tuple[str, list]], dict[str, str]]:
    """(province name → (2-digit code, its raw rows), prefecture name → 4-digit code). Cheap: the
    counties of a province are parsed only when a text or a code points into it (``_counties``)."""
    from stdnum import numdb

    provinces: dict[str, tuple[str, list]] = {}
    prefectures: dict[str, str] = {}
    for _, pcode, _, pinfo, children in numdb.get("cn/loc").prefixes:
        provinces[pinfo.get("province", "")] = (pcode, children)
        for _, rest, _, info, _ in children:
            if rest.endswith("00") and rest != "0000":
                name = _current_name(info.get("county", ""))
                if name and name != "市辖区":
                    prefectures[name] = pcode + rest[:2]
    return provinces, prefectures


@functools.lru_cache(maxsize=64)
def _counties(pcode: str) -> dict[str, Division]:
    """County code → Division for one province."""
    for pname, (code, children) in _top()[0].items():
        if code != pcode:
            continue
        names = {c: _current_name(info.get("county", "")) for _, c, _, info, _ in children}
        out: dict[str, Division] = {}
        for rest, name in names.items():
            if not name or rest.endswith("00") or name in ("市辖区", "郊区", "市区") or rest[2:] == "01":
                continue
            pref = names.get(rest[:2] + "00", "")
            pref = "" if pref in ("市辖区", "县", "") else pref
            out[pcode + rest] = Division(pcode + rest, pname, pref, name)
        return out
    return {}


def division(code: str) -> Division | None:
    """The county-level division with this 6-digit code, if it exists today."""
    code = (code or "").strip()
    return _counties(code[:2]).get(code) if len(code) == 6 else None


def _short(name: str) -> str:
    """'红旗区' → '红旗', '辉县市' → '辉县' (police sub-bureaus are named '红旗分局')."""
    for suffix in ("自治县", "区", "县", "市", "旗"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


@functools.lru_cache(maxsize=64)
def _within(scope: str) -> tuple[Division, ...]:
    """The counties whose code starts with ``scope`` ("" = all, "41" = Henan, "4107" = 新乡市)."""
    pcodes = [scope[:2]] if scope else [code for code, _ in _top()[0].values()]
    return tuple(d for p in pcodes for code, d in _counties(p).items() if code.startswith(scope))


@functools.lru_cache(maxsize=4096)  # pure; clerks retype the same names all day
def guess_division(text: str) -> str | None:
    """The county code a placement or police-station name points at, when exactly one fits.

    "河南省新乡市红旗区" and "新乡市公安局红旗区分局东关派出所" → 410702; "北京市公安局朝阳分局建外派出所"
    → 110105. The province or prefecture at the start narrows the search; a county name (or its
    short form followed by 分局) must then occur in the text. None when nothing or several fit."""
    text = re.sub(r"\s", "", text or "")
    if not text:
        return None
    provinces, prefectures = _top()
    scope = ""
    for pname, (pcode, _) in provinces.items():
        if text.startswith(pname):
            scope, text = pcode, text[len(pname):]
            break
    for fname, fcode in sorted(prefectures.items(), key=lambda kv: -len(kv[0])):
        if fcode.startswith(scope) and text.startswith(fname):
            scope, text = fcode, text[len(fname):]
            break
    found = set()
    for d in _within(scope):
        code = d.code
        if not scope and len(d.county) < 3:
            continue
        if (text.startswith(d.county) if not scope else d.county in text) or \
                (scope and _short(d.county) + "分局" in text):
            found.add(code)
    if len(found) == 1:
        return found.pop()
    return None


def province_of(text: str) -> str | None:
    """The 2-digit province code a text starts with (河南省…, 北京市…), or None."""
    text = (text or "").strip()
    for pname, (pcode, _) in _top()[0].items():
        if text.startswith(pname):
            return pcode
    for fname, fcode in _top()[1].items():
        if text.startswith(fname):
            return fcode[:2]
    return None


# at least two characters before 乡/镇: "新乡大道" is a road, not a 乡 called 新
_TOWN = re.compile(r"(.{2,12}?(?:街道办事处|街道|镇|乡))(?![路街道])")
_VILLAGE = re.compile(r"(.{1,12}?(?:社区居委会|社区|村委会|村))(?![路街道])")
_NOT_A_PLACE = re.compile(r"[0-9０-９号路巷弄楼室]")   # a house number or a street: not a town or a village


def place_parts(address: str) -> tuple[str, str, str, str]:
    """(市, 县（市、区）, 乡镇（街道）, 村（社区）) an address names, each "" when it does not say.

    "河南省新乡市获嘉县城关镇东街村128号" → ("新乡市", "获嘉县", "城关镇", "东街村"). The county must
    be one the division table recognises (``guess_division``); the town and the village are read
    only right after it, in that order, so a street or a housing estate is never taken for either."""
    text = re.sub(r"\s", "", address or "")
    code = guess_division(text)
    d = division(code) if code else None
    if d is None or d.county not in text:
        return "", "", "", ""
    city = d.prefecture or d.province
    rest = text[text.index(d.county) + len(d.county):]
    town = village = ""
    m = _TOWN.match(rest)
    if m and not _NOT_A_PLACE.search(m.group(1)):
        town = m.group(1)
        v = _VILLAGE.match(rest[len(town):])
        if v and not _NOT_A_PLACE.search(v.group(1)):
            village = v.group(1)
    return city, d.county, town, village
