"""The window's devices as the composition root chose them: real hardware or the simulators.

``app.services.open_devices`` is the only place that decides between a real reader and camera
and the demo's simulated ones; it hands a :class:`DeviceSet` to whoever drives the devices (the
UI's ``DeviceHub``). A simulator speaks the same bytes as the hardware (the SAM module on a
pseudo-terminal, a camera replaying a picture), so the real drivers run either way.

Thread contract: build and close on one thread; ``open_camera`` is called on the capture thread
for every (re)connection; ``camera_ready`` may be asked from any thread.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from devices.base import DeviceInfo

if TYPE_CHECKING:
    from devices.idcard.simulator import SimulatedSamModule


@dataclass
class DeviceSet:
    demo: bool
    reader_port: str | None             # shown as the reader's port; None: found among the serial ports
    open_reader: Callable[[], Any]      # a new ``devices.idcard`` reader, called on the reader's thread
    open_camera: Callable[[], Any]      # a new ``devices.camera`` camera per connection
    camera_source: int = 0
    camera_resolution: tuple[int, int] = (1280, 720)
    camera_info: DeviceInfo = field(default_factory=lambda: DeviceInfo("camera", "摄像头", "", details={"note": "拍照时自动打开"}))
    # the card photo's decoder (the SDT library's own); None: the reader's WLT decoding
    open_photo_decoder: Callable[[], Any] | None = None
    simulator: "SimulatedSamModule | None" = None  # demo: the SAM module the reader talks to
    camera_ready: Callable[[], bool] = lambda: True  # demo: the replayed picture is loaded

    def close(self) -> None:
        """Stop the simulators (idempotent); real devices are closed by their drivers."""
        if self.simulator is not None:
            self.simulator.stop()
            self.simulator = None
