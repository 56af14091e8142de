"""The sync errors: every failure talking to the platform ends as one of these.

They live in their own module so that the client (``client.py``) and the answer checks
(``responses.py``) can both raise them; ``counter_app.sync.client`` re-exports them, which is
where the rest of the program imports them from.

Each carries a Chinese ``message`` fit for the clerk. Messages never quote values from an
answer (an answer may carry an applicant's ID number or name); they name fields only.
"""
from __future__ import annotations

from counter_app.sync import contract as C
from counter_app.errors import UserError


class SyncError(UserError):
    def __init__(self, message: str, *, status: int | None = None, code: str = "", detail: dict | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.detail = detail or {}


class TransientError(SyncError):
    """Try again later (``retry_after`` when the server said when)."""

    def __init__(self, message: str, *, status: int | None = None, code: str = "", retry_after: float | None = None,
                 offline: bool = False, detail: dict | None = None):
        super().__init__(message, status=status, code=code, detail=detail)
        self.retry_after = retry_after
        self.offline = offline  # the platform could not be reached at all


class RejectedError(SyncError):
    """A 4xx saying the data is wrong: the case goes to the quarantine lane."""


class CredentialsError(SyncError):
    """401/403: the window must (re)enter its credential."""


class AttachmentsMissing(SyncError):
    """The platform does not hold all attachments yet: upload ``missing``, then resend."""

    def __init__(self, message: str, missing: list[str]):
        super().__init__(message, status=409, code=C.E_ATTACHMENTS_MISSING)
        self.missing = missing


RETRY_LATER = "已保留本机数据，稍后自动重试。"


class MalformedAnswer(TransientError):
    """The platform (or a gateway in front of it) answered, but not in the contract's shape.

    Transient: it is not the case's fault, and nothing was written from the answer, so the next
    round simply asks again. ``problem`` names the field and what was expected (never its value).
    """

    def __init__(self, problem: str, *, advice: str = RETRY_LATER, status: int | None = None):
        super().__init__(f"省平台返回的数据格式不正确（{problem}），{advice}", status=status)
        self.problem = problem
