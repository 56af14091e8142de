"""Helpers every command module shares: open the window's store, read input files, print JSON."""
from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Any

from counter_app.errors import UserError


def open_window_or_fail():
    """The window's core services, or a one-line Chinese message when keys or settings are wrong."""
    from counter_app.config import ConfigError
    from counter_app.security.keystore import KeyStoreError
    from counter_app.services import open_window

    try:
        return open_window()
    except (KeyStoreError, ConfigError) as exc:
        raise UserError(exc.message) from None


def read_json(path: str) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"找不到文件：{path}") from None
    except UnicodeDecodeError:
        raise UserError(f"文件不是UTF-8编码的文本：{path}") from None
    except OSError as exc:
        raise UserError(f"无法读取文件 {path}：{exc.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"文件不是有效的JSON（第{exc.lineno}行第{exc.colno}列）：{path}") from None


def parse_date(text: str, what: str) -> _dt.date:
    try:
        return _dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        raise UserError(f"{what}格式不正确：{text!r}（应为 YYYY-MM-DD，如 2026-11-30）") from None


def print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def case_error(exc: Exception) -> UserError:
    return UserError(getattr(exc, "message", str(exc)))
