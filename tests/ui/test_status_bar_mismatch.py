"""The platform acknowledges cases this store lacks: the status bar says so in red, with the
whole finding (which cases, what to do) in the tooltip, and clears only when a comparison agrees."""
from __future__ import annotations

from counter_app.sync.status import SyncStatus
from ui.status_bar import CounterStatusBar


def test_a_mismatch_with_the_platform_is_shown_until_it_clears(qtbot):
    bar = CounterStatusBar()
    qtbot.addWidget(bar)
    bar.show()
    finding = "与省平台核对不一致：省平台已收到的1件本窗口办件在本机缺失：410702-01-20261207-0003-6 第1版。请技术人员…"
    bar.show_sync_status(SyncStatus(online=True, acked=2, mismatch=finding))
    assert bar.mismatch_label.isVisible()
    assert "与省平台核对不一致" in bar.mismatch_label.text() and "技术人员" in bar.mismatch_label.text()
    assert bar.mismatch_label.toolTip() == finding
    assert bar.mismatch_label.property("state") == "bad"
    bar.show_sync_status(SyncStatus(online=True, acked=3))
    assert not bar.mismatch_label.isVisible()
