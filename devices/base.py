"""Small interfaces shared by every device kind (ID-card reader, camera, signature pad...).

Kept deliberately tiny and free of pyserial / OpenCV imports so that the UI and the
health report can describe devices without loading any driver.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from counter_app.statuses import DeviceState

__all__ = ["DeviceInfo", "DeviceState"]


@dataclass
class DeviceInfo:
    """One device as shown by ``counter-app devices list`` and the UI status panel.

    ``kind`` is a short machine name ("idcard", "camera", "signature", ...),
    ``name`` a human description, ``port_or_index`` the serial port path or camera
    index (as text; empty when unknown), ``last_error`` a Chinese message or ``""``.
    """

    kind: str
    name: str
    port_or_index: str = ""
    state: DeviceState = DeviceState.NOT_CONNECTED
    last_error: str = ""
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["state"] = self.state.value
        data["state_label"] = self.state.label
        return data
