"""The reference platform's refusals: an HTTP status, a contract error code and a Chinese message."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from counter_app.sync import contract as C


class PlatformError(Exception):
    """A refusal with an HTTP status, a contract error code and a Chinese message."""

    def __init__(self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None, **detail: Any):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.detail = detail

    def body(self) -> dict:
        return C.error_body(self.code, self.message, **self.detail)


@dataclass
class Received:
    status: int  # 201 new, 200 replay
    body: dict
    replayed: bool
