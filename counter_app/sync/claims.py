"""Several windows, one center: who is accepting an online application, and whether a veteran
already has an open case anywhere in the province. The platform decides both (each window's own
database sees only itself).

- ``claim_entry``: opening a worklist entry claims it on the platform for this window (30 minutes,
  renewed by opening it again). Another window's claim is a ``ClaimedElsewhere`` whose message is
  "正在X号窗口受理"; ``release_entry`` gives it back when the clerk cancels.
- ``claim_note``: the line the worklist shows for an entry another window is accepting.
- ``open_case_elsewhere``: asked before an acceptance starts; the platform refuses a second open
  case for the same person at submission anyway (``person_has_open_case``).

Thread contract: the functions that take a client block on the network; call them from a worker.
"""
from __future__ import annotations

from counter_app.store.worklist_entries import claim_note  # noqa: F401 - the worklist's line, read offline too
from counter_app.sync import contract as C
from counter_app.sync.client import PlatformClient, client_for
from counter_app.sync.errors import SyncError


class ClaimedElsewhere(SyncError):
    """Another window is accepting this application now; ``window_no`` says which."""

    def __init__(self, message: str, window_no: str):
        super().__init__(message, status=409, code=C.E_CLAIMED_ELSEWHERE)
        self.window_no = window_no


def claim_entry(window, platform_id: str, *, client: PlatformClient | None = None) -> dict:
    """Claim (or renew the claim on) an online application for this window; returns the claim."""
    client = client or client_for(window)
    try:
        return client.claim(platform_id)["claim"]
    except SyncError as exc:
        if exc.code == C.E_CLAIMED_ELSEWHERE:
            other = str((exc.detail or {}).get("window_no") or "")
            raise ClaimedElsewhere(exc.message or f"正在{other}号窗口受理。", other) from None
        raise


def release_entry(window, platform_id: str, *, client: PlatformClient | None = None) -> None:
    (client or client_for(window)).release_claim(platform_id)


def open_case_elsewhere(window, id_number: str, *, client: PlatformClient | None = None) -> dict | None:
    """The veteran's open case in the province (case number, center, window), or None."""
    return (client or client_for(window)).open_case(id_number)


# ---- what the screens need: one answer, never an exception (called on a worker thread) ---------

CLAIMED, ELSEWHERE, UNCLAIMED = "claimed", "elsewhere", "unclaimed"


class ClaimOutcome:
    """``state``: ``claimed`` (this window holds it), ``elsewhere`` (another window: do not open)
    or ``unclaimed`` (the platform could not be asked: open locally and say so)."""

    __slots__ = ("state", "message")

    def __init__(self, state: str, message: str = ""):
        self.state, self.message = state, message


def try_claim(window, platform_id: str, *, client: PlatformClient | None = None) -> ClaimOutcome:
    try:
        claim_entry(window, platform_id, client=client)
    except ClaimedElsewhere as exc:
        return ClaimOutcome(ELSEWHERE, exc.message)
    except SyncError as exc:
        return ClaimOutcome(UNCLAIMED, f"未能在省平台认领该网上申请（{exc.message}）。已在本窗口打开；"
                                       "同一申请若也在其他窗口受理，上报时省平台只接收先认领的窗口。")
    return ClaimOutcome(CLAIMED, "已在省平台认领该网上申请，其他窗口将显示本窗口正在受理。")


def try_release(window, platform_id: str, *, client: PlatformClient | None = None) -> str:
    """Give the claim back after a cancel; "" when done, else the reason (it expires by itself)."""
    try:
        release_entry(window, platform_id, client=client)
    except SyncError as exc:
        return f"未能在省平台释放该网上申请的认领（{exc.message}），30分钟后自动失效。"
    return ""


def person_open_case(window, id_number: str, *, client: PlatformClient | None = None) -> tuple[dict | None, str]:
    """``(open case elsewhere or None, "")``, or ``(None, why it could not be checked)`` offline."""
    try:
        return open_case_elsewhere(window, id_number, client=client), ""
    except SyncError as exc:
        return None, (f"未能向省平台核对该退役军人在其他窗口是否已有未办结的办件（{exc.message}）。"
                      "可以继续受理；上报时省平台会再次核对。")
