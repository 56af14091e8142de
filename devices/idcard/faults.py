"""Fault modes of the simulated SAM module (no I/O here, so the CLI can list them anywhere)."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Iterable


class Fault(str, enum.Enum):
    """Fault modes, named as on the command line (``--fault read-failure``)."""

    NO_CARD = "no-card"  # the module never sees a card
    READ_FAILURE = "read-failure"  # read base message answers 41
    SELECT_FAILURE = "select-failure"  # select card answers 81
    CHECKSUM = "checksum"  # answers carrying card data have a wrong checksum
    STRAY_BYTES = "stray-bytes"  # noise and partial preambles before every answer
    SLOW = "slow"  # answers dribble out in small chunks at wire speed
    TRUNCATE = "truncate"  # answers carrying card data stop halfway
    SILENT = "silent"  # the module never answers
    # "status=XX" (hex) answers every command with SW3 = XX; see FaultSet.forced_status


FAULT_HELP = {
    Fault.NO_CARD: "读卡区无证件",
    Fault.READ_FAILURE: "读卡失败（41）",
    Fault.SELECT_FAILURE: "选卡失败（81）",
    Fault.CHECKSUM: "读卡应答校验和错误",
    Fault.STRAY_BYTES: "应答前夹杂干扰字节",
    Fault.SLOW: "应答按线路速度分小块缓慢发送",
    Fault.TRUNCATE: "读卡应答传输到一半中断",
    Fault.SILENT: "模块不应答",
}


@dataclass(frozen=True)
class FaultSet:
    flags: frozenset[Fault] = frozenset()
    forced_status: int | None = None

    @classmethod
    def parse(cls, specs: Iterable[str | Fault] = ()) -> "FaultSet":
        """Parse names such as ``"checksum"``, ``"status=60"``; ValueError (Chinese) otherwise."""
        flags: set[Fault] = set()
        forced: int | None = None
        for spec in specs:
            if isinstance(spec, Fault):
                flags.add(spec)
                continue
            spec = spec.strip().lower()
            if spec.startswith("status="):
                try:
                    forced = int(spec.split("=", 1)[1], 16)
                except ValueError:
                    forced = -1
                if not 0 <= forced <= 0xFF:
                    raise ValueError(f"故障参数“{spec}”无效：status= 后应为两位十六进制状态码，例如 status=41")
                continue
            try:
                flags.add(Fault(spec))
            except ValueError:
                names = "、".join([f.value for f in Fault] + ["status=XX"])
                raise ValueError(f"未知的故障类型“{spec}”，可用：{names}") from None
        return cls(frozenset(flags), forced)

    def __contains__(self, fault: Fault) -> bool:
        return fault in self.flags
