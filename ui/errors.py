"""Turning an exception into a sentence for the clerk: what went wrong and what to do next.

Errors the user can cause carry a Chinese ``message`` (CaseError, ConfigError, the security
package's login errors, PrintingError...): that message is shown as it is. Anything else is
a programming or environment failure: it is logged with its traceback for the technicians
and the clerk sees a plain sentence, never the traceback.
"""
from __future__ import annotations

import logging

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where a box is shown: its type (and enums) is not built at start
    from PySide6.QtWidgets import QMessageBox, QWidget

log = logging.getLogger(__name__)


class UserFacingError(Exception):
    """A refusal raised by UI-side work (a missing optional module, a bad choice): ``message``
    is the Chinese sentence shown to the clerk."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def user_message(exc: BaseException, doing: str = "操作") -> str:
    message = getattr(exc, "message", None)
    if isinstance(message, str) and message.strip():
        return message
    # Some core refusals are plain ValueErrors worded for the clerk (HolidayTableError,
    # credentials.set_token): the core words user errors in Chinese, programming errors not.
    if isinstance(exc, ValueError) and _has_cjk(str(exc)):
        return str(exc)
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return f"{doing}失败：网络连接不上。已填写的内容都还在，请检查网络后重试。"
    if isinstance(exc, PermissionError):
        return f"{doing}失败：没有权限写入文件。请联系技术人员检查数据目录的权限。"
    if isinstance(exc, OSError):
        return f"{doing}失败：读写文件出错（{exc.strerror or type(exc).__name__}）。请检查磁盘空间或联系技术人员。"
    log.error("%s失败", doing, exc_info=(type(exc), exc, exc.__traceback__))
    return f"{doing}时出现内部错误（{type(exc).__name__}）。已填写的内容都还在；请重试，仍不行请联系技术人员。"


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def show_error(parent: QWidget | None, exc: BaseException | str, doing: str = "操作") -> QMessageBox:
    """A non-blocking warning box (``open()``, not ``exec()``): the GUI keeps running."""
    from PySide6.QtWidgets import QMessageBox

    text = exc if isinstance(exc, str) else user_message(exc, doing)
    box = QMessageBox(QMessageBox.Icon.Warning, "提示", text, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("errorBox")
    box.open()
    return box


def show_info(parent: QWidget | None, text: str, title: str = "提示") -> QMessageBox:
    from PySide6.QtWidgets import QMessageBox

    box = QMessageBox(QMessageBox.Icon.Information, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("infoBox")
    box.open()
    return box
