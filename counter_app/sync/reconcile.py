"""Comparing the window's store with what the platform acknowledges holding from this window.

A store that lost its latest commits (a damaged WAL, a restored older backup) may have lost
cases the platform already received. The platform's case listing (``GET /cases`` for this
center) says which business keys it holds from this window; every one of them must exist here.
A key the platform holds and this window does not is a signed case missing locally: reported,
never silently forgotten. Paging through the listing costs one request per 100 cases, so this
runs on demand (``counter-app sync verify``, after a restore), not on every sync round.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from counter_app.statuses import OutboxStatus
from counter_app.store.models import OutboxEntry


@dataclass
class Reconciliation:
    platform_holds: int = 0
    local_acked: int = 0
    missing_locally: list[str] = field(default_factory=list)   # business keys
    not_on_platform: list[str] = field(default_factory=list)   # acked here, unknown there

    @property
    def ok(self) -> bool:
        return not self.missing_locally and not self.not_on_platform

    def to_dict(self) -> dict:
        return {"platform_holds": self.platform_holds, "local_acked": self.local_acked, "ok": self.ok,
                "missing_locally": self.missing_locally, "not_on_platform": self.not_on_platform}


def reconcile(window, client, *, page_size: int = 100) -> Reconciliation:  # noqa: ANN001
    settings = window.settings
    held: set[str] = set()
    page = 1
    while True:
        listing = client.list_cases(page=page, page_size=page_size, center_code=settings.center_code)
        for item in listing["items"]:
            if item.get("window_no") in (None, settings.window_no):
                held.add(item["business_key"])
        if page * page_size >= listing["total"] or not listing["items"]:
            break
        page += 1
    with window.sessions() as s:
        local = {bk: status for bk, status in s.execute(select(OutboxEntry.business_key, OutboxEntry.status))}
    acked = {bk for bk, status in local.items() if status == OutboxStatus.ACKED}
    return Reconciliation(platform_holds=len(held), local_acked=len(acked),
                          missing_locally=sorted(held - set(local)), not_on_platform=sorted(acked - held))
