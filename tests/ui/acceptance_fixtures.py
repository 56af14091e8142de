"""Fixtures of the acceptance tests (imported by ``tests/ui/conftest.py``).

* ``demo_devices`` — the real :class:`ui.devices.hub.DeviceHub` in demo mode on the test's context:
  the simulated SAM module on a pseudo-terminal (real frames through the real driver) and the
  simulated camera replaying scikit-image's astronaut;
* ``acceptance`` — a factory for an :class:`ui.acceptance.AcceptanceWidget` at 1366×768 with its
  :class:`ui.acceptance.script.AcceptanceScript` driver;
* ``heartbeat`` — the GUI-thread heartbeat (longest gap of a 5 ms QTimer) the tests assert on;
* ``scan_file`` — a real scanned page (scikit-image's ``page``) as a PNG file.
"""
from __future__ import annotations

import pytest

__all__ = ["acceptance", "demo_devices", "heartbeat", "scan_file", "MAX_GAP_MS"]

# The bar: no step handler may keep the event loop from running for more than 100 ms.
MAX_GAP_MS = 100.0


@pytest.fixture
def demo_devices(ctx):
    from app.services import open_devices
    from ui.devices.hub import DeviceHub

    hub = DeviceHub(open_devices(ctx.window.settings, demo=True))
    hub.start()
    ctx.devices, ctx.demo = hub, True
    yield hub
    hub.shutdown()
    ctx.devices = None
    screen = ctx.applicant_screen
    if screen is not None:
        screen.close()
        screen.deleteLater()
        ctx.applicant_screen = None


@pytest.fixture
def heartbeat():
    from ui.acceptance.script import Heartbeat

    return Heartbeat()


@pytest.fixture
def acceptance(ctx, qtbot, demo_devices, heartbeat):
    """``make(**kwargs) -> (widget, script)``; the script measures every step with ``heartbeat``."""
    from ui.acceptance import AcceptanceWidget
    from ui.acceptance.script import AcceptanceScript

    made = []

    def make(**kwargs):
        widget = AcceptanceWidget(ctx, **kwargs)
        qtbot.addWidget(widget)
        widget.resize(1366, 768)
        widget.show()
        qtbot.waitExposed(widget)
        widget.activateWindow()
        script = AcceptanceScript(widget, before_step=heartbeat.start, after_step=lambda _label: heartbeat.stop())
        script.ready()
        made.append(widget)
        return widget, script

    yield make
    for w in made:
        w._autosave.stop()
        w.step("identity")._dup_timer.stop()   # a typed number's look-up must not outlive the test


@pytest.fixture
def scan_file(tmp_path):
    """A real scanned text page (scikit-image's ``data.page()``), as a scanner's PNG."""
    import cv2
    from skimage import data

    path = tmp_path / "退出现役证件-扫描.png"
    ok, png = cv2.imencode(".png", data.page())
    assert ok
    path.write_bytes(png.tobytes())
    return path
