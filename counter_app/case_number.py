"""办件编号: unique across the province with no coordination between windows.

Layout (22 characters plus separators): ``CCCCCC-WW-YYYYMMDD-NNNN-K``
- CCCCCC: the service center's 6-digit administrative division code (county), e.g. 410702
- WW: the window number within the center (01–99)
- YYYYMMDD: acceptance date
- NNNN: per-window, per-day sequence (0001–9999), allocated in the window's own database
- K: ISO 7064 MOD 11-2 check character over the 20 digits (the same check as 公民身份号码)

Two windows never share (center, window), so the number is unique without talking to each
other; the check character catches a mistyped digit when a clerk searches by number.
Code128 prints it compactly (Code 128 set C packs the digits in pairs).
"""
from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass

from stdnum.iso7064 import mod_11_2

_PATTERN = re.compile(r"^(\d{6})-?(\d{2})-?(\d{8})-?(\d{4})-?([0-9X])$")


class CaseNumberError(ValueError):
    pass


@dataclass(frozen=True, order=True)
class CaseNumber:
    center: str
    window: str
    date: _dt.date
    sequence: int

    def __post_init__(self) -> None:
        if not re.fullmatch(r"\d{6}", self.center):
            raise CaseNumberError("中心代码应为6位行政区划代码。")
        if not re.fullmatch(r"\d{2}", self.window) or self.window == "00":
            raise CaseNumberError("窗口号应为01至99。")
        if not 1 <= self.sequence <= 9999:
            raise CaseNumberError("当日流水号超出范围（1–9999）。")

    @property
    def digits(self) -> str:
        return f"{self.center}{self.window}{self.date:%Y%m%d}{self.sequence:04d}"

    @property
    def check(self) -> str:
        return mod_11_2.calc_check_digit(self.digits)

    def __str__(self) -> str:
        return f"{self.center}-{self.window}-{self.date:%Y%m%d}-{self.sequence:04d}-{self.check}"

    @property
    def compact(self) -> str:
        """Without separators, for barcodes and search."""
        return self.digits + self.check

    @classmethod
    def parse(cls, text: str) -> "CaseNumber":
        m = _PATTERN.match((text or "").strip().upper())
        if not m:
            raise CaseNumberError(f"办件编号格式不正确：{text!r}（应如 410702-01-20261129-0001-5）。")
        center, window, ymd, seq, check = m.groups()
        try:
            date = _dt.datetime.strptime(ymd, "%Y%m%d").date()
        except ValueError:
            raise CaseNumberError("办件编号中的日期无效。") from None
        number = cls(center, window, date, int(seq))
        if number.check != check:
            raise CaseNumberError("办件编号校验位不符，可能有数字输错，请核对。")
        return number


def looks_like_case_number(text: str) -> bool:
    return bool(_PATTERN.match((text or "").strip().upper()))
