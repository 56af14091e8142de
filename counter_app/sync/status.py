"""What the status bar and the acceptance screen need to know about sync, and the stale-queue rule.

The stale-queue rule (settings ``stale_warn_minutes``, ``stale_block_days``): a case the platform
has not acknowledged must not sit on one PC for long, because the applicant's joint items only
start when the departments receive it. So the window *warns* once anything has waited longer than
``stale_warn_minutes`` and *refuses new acceptances* once the oldest unsynced case is older than
``stale_block_days``, telling the clerk why and what to do. "Unsynced" is waiting or quarantined
(a quarantined case needs a person to act); a quarantined version that a correction has superseded
no longer counts.

The worker's last view of connectivity is kept in the ``settings`` table (written only when it
changes), so ``counter-app sync status`` in another process can tell it too.

Thread contract: ``sync_status`` and ``acceptance_allowed`` are short reads (a few milliseconds,
no network; WAL readers never wait for the writer), acceptable on the GUI thread.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import func, select

from counter_app.lifecycle import CaseState
from counter_app.statuses import OutboxStatus
from counter_app.store.models import CaseRow, OutboxEntry, Setting
from counter_app.clock import CHINA_TZ

RUNTIME_KEY = "sync.runtime"


@dataclass(frozen=True)
class SyncStatus:
    online: bool | None = None            # None: not probed yet
    waiting: int = 0
    quarantined: int = 0
    acked: int = 0
    oldest_waiting_age: _dt.timedelta | None = None  # oldest unsynced (waiting or quarantined) case
    oldest_waiting_at: _dt.datetime | None = None
    oldest_case_no: str | None = None
    last_error: str = ""                  # Chinese, for the clerk
    warn_stale: bool = False
    block_new: bool = False
    block_reason: str = ""
    warn_reason: str = ""
    needs_credentials: bool = False
    last_success_at: _dt.datetime | None = None
    checked_at: _dt.datetime | None = None
    unconfirmed: tuple[str, ...] = ()     # committed but never confirmed to the clerk (first 20 case numbers)
    unconfirmed_count: int = 0
    draining: bool = False
    # When the platform's worklist and department progress were last pulled and stored: a screen
    # listing them reloads when this moves (the platform's part of the worklist has arrived).
    pulled_at: _dt.datetime | None = None
    mismatch: str = ""                    # the platform acknowledges other cases/audit head than this store holds
    as_of: _dt.datetime | None = field(default=None, compare=False)

    # Names the UI reads as well.
    @property
    def stale(self) -> bool:
        return self.warn_stale

    @property
    def blocked(self) -> bool:
        return self.block_new

    @property
    def summary(self) -> str:
        """One line for the status bar."""
        net = {True: "已连接省平台", False: "省平台未连接", None: "正在检查网络"}[self.online]
        if self.needs_credentials:
            net = "需要登记省平台凭据"
        parts = [net, f"待上报{self.waiting}件"]
        if self.quarantined:
            parts.append(f"隔离{self.quarantined}件")
        if self.mismatch:
            parts.append("与省平台核对不一致")
        return "，".join(parts)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k, v in list(d.items()):
            if isinstance(v, _dt.datetime):
                d[k] = v.astimezone(CHINA_TZ).isoformat(timespec="seconds")
            elif isinstance(v, _dt.timedelta):
                d[k] = round(v.total_seconds(), 1)
            elif isinstance(v, tuple):
                d[k] = list(v)
        d["summary"] = self.summary
        return d


def _unsynced_filter():
    return (OutboxEntry.status == OutboxStatus.WAITING) | ((OutboxEntry.status == OutboxStatus.QUARANTINED)
                                                & (CaseRow.state != CaseState.SUPERSEDED.value))


def _fmt_age(age: _dt.timedelta) -> str:
    total = int(age.total_seconds())
    days, rem = divmod(total, 86400)
    hours, rem = divmod(rem, 3600)
    minutes = rem // 60
    if days:
        return f"{days}天{hours}小时"
    if hours:
        return f"{hours}小时{minutes}分钟"
    return f"{minutes}分钟"


def read_runtime(window) -> dict:
    with window.sessions() as s:
        row = s.get(Setting, RUNTIME_KEY)
        return dict(row.value) if row is not None and isinstance(row.value, dict) else {}


def write_runtime(window, values: dict) -> None:
    with window.sessions.begin() as s:
        row = s.get(Setting, RUNTIME_KEY)
        if row is None:
            s.add(Setting(key=RUNTIME_KEY, value=values))
        else:
            row.value = values


def _time(value: Any) -> _dt.datetime | None:
    if not value:
        return None
    try:
        return _dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def sync_status(window, *, now: _dt.datetime | None = None, runtime: dict | None = None) -> SyncStatus:
    now = now or _dt.datetime.now(_dt.timezone.utc)
    settings = window.settings
    with window.sessions() as s:
        counts = dict(s.execute(select(OutboxEntry.status, func.count()).group_by(OutboxEntry.status)).all())
        oldest = s.execute(select(OutboxEntry.created_at, CaseRow.case_no, OutboxEntry.status)
                           .join(CaseRow, CaseRow.id == OutboxEntry.case_id).where(_unsynced_filter())
                           .order_by(OutboxEntry.created_at).limit(1)).first()
        unconfirmed_q = select(CaseRow.case_no).where(CaseRow.finalized_at.is_not(None), CaseRow.confirmed_at.is_(None),
                                                      CaseRow.purged_at.is_(None))
        unconfirmed = tuple(r[0] for r in s.execute(unconfirmed_q.order_by(CaseRow.finalized_at).limit(20)).all())
        unconfirmed_count = s.execute(select(func.count()).select_from(unconfirmed_q.subquery())).scalar_one()
        if runtime is None:
            row = s.get(Setting, RUNTIME_KEY)
            runtime = dict(row.value) if row is not None and isinstance(row.value, dict) else {}
    age = oldest_at = case_no = None
    warn = block = False
    block_reason = warn_reason = ""
    if oldest is not None:
        oldest_at, case_no, status = oldest
        age = max(_dt.timedelta(), now - oldest_at)
        limit_days = settings.stale_block_days
        warn_minutes = settings.stale_warn_minutes
        where = "在隔离区等待处理" if status == OutboxStatus.QUARANTINED else "尚未上报到省平台"
        if age > _dt.timedelta(minutes=warn_minutes):
            warn = True
            warn_reason = f"办件{case_no}已等待{_fmt_age(age)}，{where}。请检查网络或VPN连接。"
        if limit_days > 0 and age > _dt.timedelta(days=limit_days):
            block = True
            block_reason = (f"最早一件未上报的办件（{case_no}）已滞留{_fmt_age(age)}，{where}，超过{limit_days}天的上限。"
                            "为免办件积压在本机，暂停受理新申请。请恢复网络后点“立即上报”，"
                            "或由技术人员导出离线包交省平台导入；隔离区的办件请按提示处理。")
    return SyncStatus(
        online=runtime.get("online"), waiting=counts.get(OutboxStatus.WAITING, 0),
        quarantined=counts.get(OutboxStatus.QUARANTINED, 0), acked=counts.get(OutboxStatus.ACKED, 0), oldest_waiting_age=age, oldest_waiting_at=oldest_at, oldest_case_no=case_no,
        last_error=str(runtime.get("last_error") or ""), warn_stale=warn, block_new=block, block_reason=block_reason,
        warn_reason=warn_reason, needs_credentials=bool(runtime.get("needs_credentials")),
        last_success_at=_time(runtime.get("last_success_at")), checked_at=_time(runtime.get("checked_at")),
        unconfirmed=unconfirmed, unconfirmed_count=unconfirmed_count, draining=bool(runtime.get("draining")),
        pulled_at=_time(runtime.get("pulled_at")), mismatch=str(runtime.get("mismatch") or ""), as_of=now)


def acceptance_allowed(window, *, now: _dt.datetime | None = None) -> tuple[bool, str]:
    """``(True, "")``, ``(True, warning)`` when the queue is getting old, or ``(False, reason)``."""
    st = sync_status(window, now=now)
    if st.block_new:
        return False, st.block_reason
    return True, st.warn_reason


def recovered_cases(window) -> list:
    """Cases committed but never confirmed to the clerk (a crash between the commit and the screen):
    show them on restart as "recovered, please confirm", then call ``window.cases.confirm_shown``."""
    return window.cases.unconfirmed()
