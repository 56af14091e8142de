"""SAM status codes (SW3) of GA 467 and the Chinese message a clerk sees for each.

The meanings follow the GA 467 SAM interface; the wording adds what the clerk should do.
"""
from __future__ import annotations

SUCCESS = 0x90
"""Operation succeeded."""
NO_CONTENT = 0x91
"""The card has no content for this item (e.g. no fingerprint, no appended address)."""
FIND_CARD_SUCCESS = 0x9F
"""Find card succeeded (a card is in the field)."""
FIND_CARD_FAILED = 0x80
"""No card found — the normal answer when nothing lies on the reader."""
SELECT_CARD_FAILED = 0x81

#: SW3 -> message for the clerk.  Every code listed by GA 467 is here; unknown codes get
#: a generic message with the hex value (see :func:`status_message`).
STATUS_MESSAGES: dict[int, str] = {
    0x90: "操作成功",
    0x91: "身份证中没有此项内容",
    0x9F: "已找到身份证",
    0x10: "读卡器收到的命令校验和错误（通讯受到干扰），请重试；多次出现请检查连接线",
    0x11: "读卡器收到的命令长度错误（通讯受到干扰），请重试；多次出现请检查连接线",
    0x21: "读卡器不支持收到的命令（命令或参数错误），请确认读卡器型号与设置",
    0x23: "读卡器拒绝执行：越权操作",
    0x24: "读卡器发生无法识别的错误，请重新插拔读卡器后重试",
    0x31: "身份证认证读卡器安全模块失败，请重新放卡；多次出现请检查证件是否损坏",
    0x32: "读卡器安全模块认证身份证失败，请重新放卡；多次出现证件可能无效",
    0x33: "身份证信息验证错误，请重新放卡",
    0x40: "无法识别的卡片类型，请放置居民身份证、港澳台居民居住证或外国人永久居留身份证",
    0x41: "读取身份证失败，请将证件平放在读卡区，不要移动，然后重试",
    0x47: "读卡器取随机数失败，请重新放卡",
    0x60: "读卡器安全模块自检失败，无法工作，请重新插拔读卡器；仍不行请联系维护人员",
    0x66: "读卡器安全模块未经授权，无法使用，请联系读卡器供应商",
    0x80: "未检测到身份证，请将证件放在读卡区",
    0x81: "选取身份证失败，请将证件平放在读卡区，不要移动",
}

SUCCESS_CODES = frozenset({SUCCESS, FIND_CARD_SUCCESS})


def status_message(code: int) -> str:
    """Chinese message for a SW3 status byte (generic text for codes GA 467 does not list)."""
    try:
        return STATUS_MESSAGES[code]
    except KeyError:
        return f"读卡器返回未知状态（0x{code:02X}），请重新放卡；多次出现请联系维护人员"
