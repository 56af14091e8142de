"""The composition root: every concrete service of a running window is built here.

:func:`open_services` opens the window's data (``counter_app.services.open_window``: store,
keys, calendar, case service), its sync worker and its device set. :func:`open_devices` is the
only place that chooses real or simulated devices. The GUI gets these through
``ui.context.AppHooks`` (``ui`` never imports ``app``); the CLI and tests call them directly.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from devices.base import DeviceInfo, DeviceState
from devices.device_set import DeviceSet

if TYPE_CHECKING:
    # Imported where used: the GUI takes these functions as hooks before its window shows, and
    # the store and the sync client are heavy imports it makes on a worker thread.
    from counter_app.config import Settings
    from counter_app.services import Window
    from counter_app.sync import SyncWorker

log = logging.getLogger(__name__)

CAMERA_RESOLUTION = (1280, 720)
DEMO_CAMERA_RESOLUTION = (640, 480)


@dataclass
class Services:
    window: "Window"
    sync: "SyncWorker"
    devices: DeviceSet

    def close(self) -> None:
        self.sync.stop()
        self.devices.close()
        self.window.close()


def open_services(home: Path | None = None, *, demo: bool = False, migrate: bool = True) -> Services:
    """The window's services, its sync worker (not started) and its devices (simulated when
    ``demo`` or the window's ``demo_mode`` says so)."""
    from counter_app.services import open_window

    window = open_window(home, migrate=migrate)
    try:
        demo = demo or bool(window.settings.demo_mode)
        return Services(window, open_sync(window), open_devices(window.settings, demo=demo))
    except BaseException:
        window.close()
        raise


def open_sync(window: "Window") -> "SyncWorker":
    """The sync worker of ``window`` (not started: the caller starts it when it is ready)."""
    from counter_app.sync import SyncWorker

    return SyncWorker(window)


def open_devices(settings: "Settings | None", *, demo: bool, portrait: Any = None) -> DeviceSet:
    """Real devices as configured, or in demo mode the simulated SAM module on a pseudo-terminal
    and a camera replaying ``portrait`` (a BGR array or a picture file; default the demo portrait)."""
    if not demo:
        from devices.camera import OpenCvCamera

        from counter_app.config import Settings

        settings = settings or Settings()
        source = int(settings.camera_index or 0)
        port, open_reader, open_photo_decoder = _reader(settings)
        return DeviceSet(demo=False, reader_port=port, open_reader=open_reader,
                         open_photo_decoder=open_photo_decoder, open_camera=OpenCvCamera,
                         camera_resolution=CAMERA_RESOLUTION, camera_source=source,
                         camera_info=DeviceInfo("camera", "摄像头", str(source), DeviceState.NOT_CONNECTED, "",
                                                {"note": "拍照时自动打开"}))
    from devices.camera import DemoCamera
    from devices.idcard import CardReader, SimulatedSamModule

    camera = DemoCamera(portrait)
    simulator = SimulatedSamModule(None)
    port = simulator.start()
    return DeviceSet(demo=True, reader_port=port, open_reader=lambda: CardReader(port=port), open_camera=camera.open, camera_ready=camera.ready,
                     camera_resolution=DEMO_CAMERA_RESOLUTION, simulator=simulator,
                     camera_info=DeviceInfo("camera", "模拟摄像头（演示）", "demo", DeviceState.READY, "",
                                            {"note": "拍照时自动打开"}))


def _reader(settings: "Settings") -> tuple[str | None, Callable[[], Any], Callable[[], Any] | None]:
    """The configured reader: through the vendor's standard SDT library (a USB reader, with the
    library's own photo decoder) when one is set, else the SAM module on a serial port."""
    library = settings.reader_sdt_library
    if library:
        sdt_port = int(settings.reader_sdt_port or 0) or None

        def open_sdt() -> Any:
            from devices.idcard.sdt import sdt_card_reader

            return sdt_card_reader(library, sdt_port)

        def open_decoder() -> Any:
            from devices.idcard.sdt import library_photo_decoder

            return library_photo_decoder(library)

        return f"SDT {sdt_port or '自动查找'}", open_sdt, open_decoder
    port = settings.reader_port or None

    def open_serial() -> Any:
        from devices.idcard import CardReader

        return CardReader(port=port)

    return port, open_serial, None


