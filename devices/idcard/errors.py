"""Errors of the ID-card reader, each carrying a Chinese message a clerk can act on.

Every exception here has ``message`` (Chinese, shown to the clerk as is) and never contains
personal data (no names, no ID numbers), so it may be logged.
"""
from __future__ import annotations


class IdCardError(Exception):
    """Base class: something went wrong talking to the reader or reading the card."""

    default_message = "读卡器发生错误，请重试"

    def __init__(self, message: str | None = None):
        self.message = message or self.default_message
        super().__init__(self.message)


class ReaderConnectionError(IdCardError):
    """The serial port cannot be opened or has gone away (cable pulled, wrong port)."""

    default_message = "无法打开身份证读卡器所在的串口，请检查读卡器连接线和端口设置"


class ReaderBusyError(ReaderConnectionError):
    """The port is held by another program (the driver opens ports exclusively)."""

    default_message = "身份证读卡器正被其他程序占用，请关闭其他读卡程序后重试"


class ReaderTimeoutError(IdCardError):
    """The module did not answer, or stopped in the middle of a frame."""

    default_message = "身份证读卡器无响应，请检查读卡器电源、连接线和波特率设置"


class FrameError(IdCardError):
    """A frame from the module is malformed (noise on the line, wrong device on the port)."""

    default_message = "读卡器返回的数据格式错误，请重新放卡；多次出现请检查连接线"


class FrameChecksumError(FrameError):
    default_message = "读卡器返回的数据校验错误（通讯受到干扰），请重新放卡；多次出现请检查连接线"


class FrameLengthError(FrameError):
    default_message = "读卡器返回的数据长度错误（通讯受到干扰），请重新放卡；多次出现请检查连接线"


class SamStatusError(IdCardError):
    """The SAM module answered with a status other than success.

    ``code`` is the SW3 byte; the message comes from :mod:`devices.idcard.status`.
    """

    def __init__(self, code: int, message: str | None = None):
        from devices.idcard.status import status_message

        self.code = code
        super().__init__(message or status_message(code))


class CardDataError(IdCardError):
    """The card answered but its text block cannot be understood (damaged card or bad read)."""

    default_message = "身份证信息无法识别，请重新放卡；多次出现请改用人工录入"
