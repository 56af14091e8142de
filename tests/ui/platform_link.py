"""The window connected to a real reference platform (``refplatform``, real HTTP on loopback) as on
a normal day at the counter: the sync worker running behind the shell's bridge, the window's seal
key enrolled. Used by the UI tests and by ``make bench`` (a walk-in's navigation actions with the
platform reachable: the veteran's file and the data-sharing answers fill what they know).

Thread contract: GUI thread only (waits on the Qt event loop for the first status).
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any, Iterator

TOKEN = "acceptance-window-token-02"


@contextlib.contextmanager
def connected(ctx: Any, data: Path) -> Iterator[Any]:
    """Start the platform (its data in ``data``), point the window at it and attach a running sync
    bridge to ``ctx``; yields the platform handle. Everything is undone on exit."""
    from counter_app.sync import SyncWorker
    from refplatform.server import start_in_thread
    from ui.acceptance.script import wait_until
    from ui.sync_bridge import SyncBridge

    settings = ctx.window.settings
    binding = f"{settings.center_code}-{settings.window_no}"
    platform = start_in_thread(data, [f"{TOKEN}@{binding}"], clock_seconds=3600)
    saved = {k: os.environ.get(k) for k in ("COUNTER_APP_PLATFORM_URL", "COUNTER_APP_PLATFORM_TOKEN")}
    os.environ["COUNTER_APP_PLATFORM_URL"], os.environ["COUNTER_APP_PLATFORM_TOKEN"] = platform.url, TOKEN
    platform.store.enrol_seal_key(binding, ctx.window.cases.sealer.public_key_b64)
    bridge = SyncBridge(SyncWorker(ctx.window, pull_interval=3600))
    previous, ctx.sync = ctx.sync, bridge
    bridge.start()
    try:
        wait_until(lambda: bridge.last_status is not None and bridge.last_status.online is True, 20, "连接省平台")
        yield platform
    finally:
        bridge.stop()
        ctx.sync = previous
        platform.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
