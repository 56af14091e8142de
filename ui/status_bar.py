"""The status bar every screen shares: platform online/offline, the outbox (waiting and the
quarantine lane), each device's state, and the stale-queue warning.

It only displays what it is given: sync snapshots through :meth:`show_sync_status` (connected
to ``SyncBridge.status_changed``) and device rows through :meth:`show_devices` /
:meth:`set_device`. Thread contract: GUI thread only.
"""
from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any, Iterable

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from counter_app.statuses import DeviceState

if TYPE_CHECKING:  # the sync package is imported on a worker, never on the GUI thread at start
    from counter_app.sync.status import SyncStatus


def _set_state(label: QLabel, state: str) -> None:
    """Colour comes from the style sheet's ``QLabel[state=...]`` rules; re-polish to apply."""
    if label.property("state") != state:
        label.setProperty("state", state)
        label.style().unpolish(label)
        label.style().polish(label)


def waiting_minutes(oldest: Any, now: _dt.datetime | None = None) -> int | None:
    if not isinstance(oldest, _dt.datetime):
        return None
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=_dt.timezone.utc)
    now = now or _dt.datetime.now(_dt.timezone.utc)
    return max(0, int((now - oldest).total_seconds() // 60))


class CounterStatusBar(QStatusBar):
    def __init__(self, *, stale_warn_minutes: int = 60, parent: QWidget | None = None):
        super().__init__(parent)
        self.setSizeGripEnabled(False)
        self.stale_warn_minutes = stale_warn_minutes
        self.platform_label = QLabel("省平台：未知")
        self.platform_label.setObjectName("platformState")
        self.outbox_label = QLabel("待上报：–")
        self.outbox_label.setObjectName("outboxState")
        self.quarantine_label = QLabel("")
        self.quarantine_label.setObjectName("quarantineState")
        self.quarantine_label.hide()
        self.stale_label = QLabel("")
        self.stale_label.setObjectName("staleWarning")
        self.stale_label.hide()
        # The platform holds cases (or an audit head) this store lacks: never silently ignored.
        self.mismatch_label = QLabel("")
        self.mismatch_label.setObjectName("platformMismatch")
        self.mismatch_label.setWordWrap(False)
        self.mismatch_label.hide()
        self.operator_label = QLabel("")
        for w in (self.platform_label, self.outbox_label, self.quarantine_label, self.mismatch_label, self.stale_label):
            self.addWidget(w)
        self.addPermanentWidget(self.operator_label)
        self._device_labels: dict[str, QLabel] = {}
        self.last_status: SyncStatus | None = None

    # ---- sync --------------------------------------------------------------------------------
    @Slot(object)
    def show_sync_status(self, status: SyncStatus) -> None:
        self.last_status = status
        online = status.online
        if status.needs_credentials:
            self.platform_label.setText("省平台：未登记接入凭据（请系统管理员在“系统设置”中填写）")
            _set_state(self.platform_label, "bad")
        elif online is None:
            self.platform_label.setText("省平台：正在检查网络")
            _set_state(self.platform_label, "warn")
        elif online:
            self.platform_label.setText("省平台：在线")
            _set_state(self.platform_label, "ok")
        else:
            self.platform_label.setText("省平台：未连接（办件已存本机，恢复后自动上报）")
            _set_state(self.platform_label, "bad")
        self.platform_label.setToolTip(status.last_error)

        waiting = status.waiting
        self.outbox_label.setText(f"待上报：{waiting} 件")
        _set_state(self.outbox_label, "ok" if waiting == 0 else "warn")

        quarantined = status.quarantined
        if quarantined:
            self.quarantine_label.setText(f"需人工处理：{quarantined} 件")
            self.quarantine_label.setToolTip("这些办件被省平台拒收，请审核负责人在“当日概况”页查看原因并处理。")
            _set_state(self.quarantine_label, "bad")
            self.quarantine_label.show()
        else:
            self.quarantine_label.hide()

        mismatch = str(getattr(status, "mismatch", "") or "")
        if mismatch:
            self.mismatch_label.setText("与省平台核对不一致：本机可能丢失了已上报的办件，请立即联系技术人员")
            self.mismatch_label.setToolTip(mismatch)
            _set_state(self.mismatch_label, "bad")
            self.mismatch_label.show()
        else:
            self.mismatch_label.hide()

        self._show_stale(status)

    def _show_stale(self, status: SyncStatus) -> None:
        blocked = status.blocked
        minutes = waiting_minutes(status.oldest_waiting_at)
        stale = status.stale or (minutes is not None and minutes >= self.stale_warn_minutes)
        if blocked:
            reason = status.block_reason or "最早的待上报办件积压过久。"
            self.stale_label.setText("已暂停受理新办件：待上报办件积压过久，请恢复网络或联系技术人员")
            self.stale_label.setToolTip(reason)
            _set_state(self.stale_label, "bad")
            self.stale_label.show()
        elif stale:
            waited = f"已等待{_duration(minutes)}" if minutes is not None else "积压过久"
            self.stale_label.setText(f"注意：最早的待上报办件{waited}，请检查网络")
            self.stale_label.setToolTip(status.warn_reason or "请检查网络或VPN连接，或联系技术人员。")
            _set_state(self.stale_label, "warn")
            self.stale_label.show()
        else:
            self.stale_label.hide()

    # ---- devices --------------------------------------------------------------------------
    def set_device(self, kind: str, name: str, state: DeviceState, detail: str = "") -> None:
        """One device's state."""
        label = self._device_labels.get(kind)
        if label is None:
            label = QLabel()
            label.setObjectName(f"device_{kind}")
            self._device_labels[kind] = label
            # Devices go right of the operator's name, in the order they were first reported.
            self.addPermanentWidget(label)
        label.setText(f"{name}：{state.label}")
        label.setToolTip(detail)
        _set_state(label, state.level)

    @Slot(object)
    def show_devices(self, rows: Iterable[Any]) -> None:
        """``devices.base.DeviceInfo`` rows."""
        for row in rows:
            self.set_device(row.kind, row.name, DeviceState(row.state), row.last_error)

    def device_text(self, kind: str) -> str:
        label = self._device_labels.get(kind)
        return label.text() if label else ""

    def set_operator(self, text: str) -> None:
        self.operator_label.setText(text)


def _duration(minutes: int | None) -> str:
    if minutes is None:
        return ""
    if minutes < 60:
        return f"{minutes}分钟"
    hours, rest = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}小时{rest}分钟" if rest else f"{hours}小时"
    return f"{hours // 24}天"
