"""The supervisor's view of the whole center: figures from the platform, cached for offline use.

A center has several windows, each its own PC; only the platform sees all of them. The figures
(per window and clerk, items, statuses, overdue items, ratings) come masked from the platform
(``GET /center/report``). Each answer is kept encrypted (the window's vault, associated data bound
to the day) in a private file, so a supervisor whose network is down still sees the last figures
with a clear "截至…" stamp saying how old they are — never a silent stand-in for fresh ones.

Thread contract: ``center_figures`` blocks on the network; call it from a worker.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
from dataclasses import dataclass
from pathlib import Path

from counter_app.clock import CHINA_TZ
from counter_app.security.vault import Vault
from counter_app.sync import contract as C
from counter_app.sync.client import PlatformClient, client_for
from counter_app.sync.errors import SyncError

CACHE_DIR = "center-report"


@dataclass(frozen=True)
class CenterFigures:
    report: dict             # the platform's CenterReport (masked)
    fetched_at: _dt.datetime  # when this window received it
    offline: bool            # True: the platform could not be reached; these are cached figures
    problem: str = ""        # why the platform could not answer (Chinese), when offline

    @property
    def stamp(self) -> str:
        at = self.fetched_at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")
        if self.offline:
            return f"截至{at}（省平台暂时无法连接，显示的是上次获取的全中心数据）"
        return f"截至{at}（省平台全中心数据）"


def _ad(day: _dt.date) -> bytes:
    return Vault.associated_data("center_report", "payload", day.isoformat())


def _cache_file(window, day: _dt.date) -> Path:
    return Path(window.home) / CACHE_DIR / f"{day.isoformat()}.bin"


def _store(window, day: _dt.date, report: dict, fetched_at: _dt.datetime) -> None:
    path = _cache_file(window, day)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    blob = window.vault.encrypt(C.canonical_json({"fetched_at": fetched_at.isoformat(), "report": report}), _ad(day))
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(blob)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def cached_figures(window, day: _dt.date) -> tuple[dict, _dt.datetime] | None:
    try:
        blob = _cache_file(window, day).read_bytes()
    except FileNotFoundError:
        return None
    data = json.loads(window.vault.decrypt(blob, _ad(day)))
    return data["report"], _dt.datetime.fromisoformat(data["fetched_at"])


def center_figures(window, day: _dt.date, *, client: PlatformClient | None = None,
                   now: _dt.datetime | None = None) -> CenterFigures:
    """Fresh figures from the platform (and cached), or the cached ones marked offline. Raises
    ``SyncError`` (Chinese message) when the platform cannot answer and nothing is cached."""
    try:
        report = (client or client_for(window)).center_report(day)
    except SyncError as exc:
        cached = cached_figures(window, day)
        if cached is None:
            raise
        return CenterFigures(cached[0], cached[1], True, exc.message)
    fetched = now or _dt.datetime.now(_dt.timezone.utc)
    _store(window, day, report, fetched)
    return CenterFigures(report, fetched, False)


def center_report_data(figures: CenterFigures, *, center: str, operator: str, printed_at: _dt.datetime):
    """The daily report for the whole center (``printing.report`` draws it), from the platform's
    masked figures: every window's cases, not only this PC's."""
    from counter_app.lifecycle import CaseState
    from counter_app.report_data import DailyReportData, ReportCase

    r = figures.report
    rows = [ReportCase(case_no=c["case_no"], masked_name=c["applicant"], clerk=c["operator"], items=list(c["items"]),
                       retirement_type=c.get("retirement_type"),
                       state=(CaseState.COMPLETED if c["status"] == "completed" else CaseState.IN_PROGRESS).value,
                       synced=True, sla="overdue" if c["status"] == "overdue" else None, rating=c.get("rating"),
                       window_no=c["window_no"]) for c in r["cases"]]
    return DailyReportData(day=_dt.date.fromisoformat(r["date"]), center=center, operator=operator,
                           printed_at=printed_at, cases=rows, window_no=None, center_code=r["center_code"])
