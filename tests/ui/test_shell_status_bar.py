"""The status bar follows the sync worker (through the bridge, across threads) and the devices."""
from __future__ import annotations

import datetime as _dt
import socket
import threading

from PySide6.QtCore import QThread

from counter_app.sync import SyncStatus, SyncWorker
from devices.base import DeviceInfo, DeviceState
from ui.status_bar import CounterStatusBar
from ui.sync_bridge import SyncBridge


def _bar(qtbot) -> CounterStatusBar:
    bar = CounterStatusBar(stale_warn_minutes=60)
    qtbot.addWidget(bar)
    bar.resize(1366, 32)
    bar.show()
    return bar


def test_a_snapshot_published_on_a_worker_thread_reaches_the_bar_on_the_gui_thread(qtbot):
    bridge = SyncBridge()
    bar = _bar(qtbot)
    bridge.status_changed.connect(bar.show_sync_status)
    seen_on = []
    bridge.status_changed.connect(lambda _s: seen_on.append(QThread.currentThread()))  # GUI-side receiver
    status = SyncStatus(online=False, waiting=3, quarantined=1, warn_stale=True,
                        oldest_waiting_at=_dt.datetime.now(_dt.timezone.utc) - _dt.timedelta(minutes=95),
                        warn_reason="办件已等待1小时35分钟，尚未上报到省平台。请检查网络或VPN连接。",
                        last_error="连接省平台超时")
    worker = threading.Thread(target=bridge.publish, args=(status,), name="fake-sync")
    with qtbot.waitSignal(bridge.status_changed, timeout=5000):
        worker.start()
        worker.join()
    assert seen_on == [bar.thread()]
    assert bridge.last_status is status
    assert bar.platform_label.text().startswith("省平台：未连接")
    assert bar.platform_label.property("state") == "bad"
    assert bar.platform_label.toolTip() == "连接省平台超时"
    assert bar.outbox_label.text() == "待上报：3 件"
    assert bar.quarantine_label.isVisible() and bar.quarantine_label.text() == "需人工处理：1 件"
    assert bar.stale_label.isVisible() and "1小时35分钟" in bar.stale_label.text()

    with qtbot.waitSignal(bridge.status_changed, timeout=5000):
        bridge.publish(SyncStatus(online=True, waiting=0, quarantined=0))
    assert bar.platform_label.text() == "省平台：在线" and bar.platform_label.property("state") == "ok"
    assert bar.outbox_label.text() == "待上报：0 件"
    assert not bar.quarantine_label.isVisible() and not bar.stale_label.isVisible()


def test_blocked_acceptance_and_missing_credential_are_spelled_out(qtbot):
    bar = _bar(qtbot)
    bar.show_sync_status(SyncStatus(online=None, needs_credentials=True, waiting=2, block_new=True,
                                    block_reason="最早一件未上报的办件已滞留4天"))
    assert "未登记接入凭据" in bar.platform_label.text()
    assert bar.stale_label.text().startswith("已暂停受理新办件")
    assert bar.stale_label.toolTip() == "最早一件未上报的办件已滞留4天"


def test_the_real_sync_worker_reports_an_unreachable_platform(window, qtbot, monkeypatch):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("COUNTER_APP_PLATFORM_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("COUNTER_APP_PLATFORM_TOKEN", "test-token")
    bridge = SyncBridge(SyncWorker(window))
    bar = _bar(qtbot)
    bridge.status_changed.connect(bar.show_sync_status)
    bridge.start()
    try:
        qtbot.waitUntil(lambda: bridge.last_status is not None and bridge.last_status.online is False, timeout=20000)
    finally:
        bridge.stop()
    assert bar.platform_label.text().startswith("省平台：未连接")
    assert bar.outbox_label.text() == "待上报：0 件"


def test_each_device_state_is_shown(qtbot):
    bar = _bar(qtbot)
    bar.show_devices([DeviceInfo("idcard", "二代身份证读卡器", "COM3", DeviceState.READY, ""),
                      DeviceInfo("camera", "摄像头", "", DeviceState.NOT_CONNECTED, "未发现摄像头，请检查摄像头连接")])
    assert bar.device_text("idcard") == "二代身份证读卡器：就绪"
    assert bar.device_text("camera") == "摄像头：未连接"
    bar.show_devices([DeviceInfo("idcard", "二代身份证读卡器", "COM3", DeviceState.ERROR, "读卡器无响应")])
    assert bar.device_text("idcard") == "二代身份证读卡器：故障"
    assert bar.findChild(type(bar.platform_label), "device_idcard").toolTip() == "读卡器无响应"
