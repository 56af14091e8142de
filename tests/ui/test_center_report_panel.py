"""The supervisor's whole-center panel: figures from the platform, then the cached ones under a
stamp that says the platform could not be reached."""
from __future__ import annotations

import random

import requests

from counter_app.clock import CHINA_TZ
from counter_app.sync.client import PlatformClient
from counter_app.sync.outbox import OutboxDrainer
from ui.center_report_panel import CenterReportPanel

TOKEN = "center-panel-window-01"


def test_panel_shows_the_center_then_the_cache_offline(ctx, qtbot, tmp_path, monkeypatch):
    from refplatform.server import start_in_thread
    from counter_app.sync.backoff import RetryPolicy
    from tests.sync.helpers import finalized_case

    window = ctx.window
    platform = start_in_thread(tmp_path / "platform", [f"{TOKEN}@410702-01"], clock_seconds=3600)
    try:
        monkeypatch.setenv("COUNTER_APP_PLATFORM_URL", platform.url)
        monkeypatch.setenv("COUNTER_APP_PLATFORM_TOKEN", TOKEN)
        for seed in (61, 62):
            finalized_case(window, random.Random(seed))
        OutboxDrainer(window, PlatformClient(platform.url, TOKEN, requests.Session()),
                      policy=RetryPolicy(0.02, 0.2, rng=random.Random(1))).drain()
        day = platform.clock.now().astimezone(CHINA_TZ).date()
        panel = CenterReportPanel(ctx)
        qtbot.addWidget(panel)
        panel.resize(900, 320)
        panel.show()
        with qtbot.waitSignal(panel.loaded, timeout=20000):
            panel.refresh(day)
        assert panel.table.rowCount() == 1 and panel.table.item(0, 0).text() == "01"
        assert panel.table.item(0, 2).text() == "2"
        assert "当日受理 2 件" in panel.totals.text()
        assert panel.stamp.text().startswith("截至") and "无法连接" not in panel.stamp.text()
        panel.grab().save(str(tmp_path / "center-panel.png"))
    finally:
        platform.stop()
    with qtbot.waitSignal(panel.loaded, timeout=20000):
        panel.refresh(day)
    assert panel.figures.offline and "当日受理 2 件" in panel.totals.text()
    assert "截至" in panel.stamp.text() and "无法连接" in panel.stamp.text()
