"""Device health: what is connected, in what state, on which port, with which last error.

Used by ``counter-app devices list`` / ``devices selftest`` and by the UI's device panel
(both get the same :class:`devices.base.DeviceInfo` rows).

* :func:`list_devices` finds devices (probes serial ports for the ID-card reader, enumerates
  cameras) without touching a card;
* :func:`selftest` goes further: SAM status and ID, a find-card exchange (reports whether a card
  lies on the reader) and the exchange round-trip time.

When the application already polls the reader, pass its :class:`CardReader` as
``idcard_reader``: its own state is reported and the port (held exclusively) is not probed.

Cameras belong to ``devices.camera``; when that module is missing or cannot load (OpenCV
absent), the camera is reported as not available instead of failing the whole report.
Both functions block (serial probing, camera enumeration): call them off the GUI thread.
"""
from __future__ import annotations

import time
from typing import Iterable

from devices.base import DeviceInfo, DeviceState
from devices.idcard.discovery import PROBE_TIMEOUT, DiscoveryResult, discover_reader
from devices.idcard.errors import IdCardError, ReaderBusyError, ReaderConnectionError
from devices.idcard.sam import SamReader

IDCARD_NAME = "二代身份证读卡器"
CAMERA_NAME = "摄像头"


def _idcard_from_discovery(result: DiscoveryResult) -> DeviceInfo:
    if result.location is not None:
        loc = result.location
        return DeviceInfo("idcard", IDCARD_NAME, loc.port, DeviceState.READY, "",
                          {"baudrate": loc.baudrate, "sam_id": loc.sam_id})
    outcomes = {a.outcome for a in result.attempts}
    state = DeviceState.NOT_CONNECTED
    port = ""
    for outcome, outcome_state in (("sam_error", DeviceState.ERROR), ("busy", DeviceState.BUSY),
                                   ("bad_frame", DeviceState.ERROR)):
        if outcome in outcomes:
            state = outcome_state
            port = next(a.port for a in result.attempts if a.outcome == outcome)
            break
    details = {"probed": sorted({a.port for a in result.attempts})}
    return DeviceInfo("idcard", IDCARD_NAME, port, state, result.message, details)


def idcard_info(*, port: str | None = None, ports: Iterable[str] | None = None,
                timeout: float = PROBE_TIMEOUT) -> DeviceInfo:
    """Find the reader (configured ``port`` first) and describe it."""
    return _idcard_from_discovery(discover_reader(port, ports=ports, timeout=timeout))


def idcard_selftest(*, port: str | None = None, ports: Iterable[str] | None = None,
                    timeout: float = PROBE_TIMEOUT) -> DeviceInfo:
    """Discovery plus SAM status, SAM ID and a find-card exchange on the reader found."""
    info = idcard_info(port=port, ports=ports, timeout=timeout)
    if info.state is not DeviceState.READY:
        return info
    try:
        with SamReader(info.port_or_index, info.details["baudrate"]) as reader:
            started = time.perf_counter()
            reader.sam_status()
            info.details["status_round_trip_ms"] = round((time.perf_counter() - started) * 1000, 2)
            info.details["sam_id"] = reader.sam_id()
            info.details["card_found"] = reader.find_card()
    except ReaderBusyError as exc:
        info.state, info.last_error = DeviceState.BUSY, exc.message
    except ReaderConnectionError as exc:
        info.state, info.last_error = DeviceState.NOT_CONNECTED, exc.message
    except IdCardError as exc:
        info.state, info.last_error = DeviceState.ERROR, exc.message
    return info


def camera_infos() -> list[DeviceInfo]:
    """Cameras from ``devices.camera.list_cameras()``, or one 'not available' row."""
    from devices.camera import list_cameras

    try:
        cameras = list(list_cameras())
    except Exception as exc:  # a broken driver must not take the health report down
        return [DeviceInfo("camera", CAMERA_NAME, "", DeviceState.ERROR, f"查询摄像头失败：{exc}")]
    if not cameras:
        return [DeviceInfo("camera", CAMERA_NAME, "", DeviceState.NOT_CONNECTED, "未发现摄像头，请检查摄像头连接")]
    return cameras


def list_devices(*, idcard_port: str | None = None, idcard_ports: Iterable[str] | None = None,
                 idcard_reader=None, probe_timeout: float = PROBE_TIMEOUT) -> list[DeviceInfo]:
    """Every device kind with its state (see module docstring)."""
    if idcard_reader is not None:
        rows = [idcard_reader.device_info()]
    else:
        rows = [idcard_info(port=idcard_port, ports=idcard_ports, timeout=probe_timeout)]
    return rows + camera_infos()


def selftest(*, idcard_port: str | None = None, idcard_ports: Iterable[str] | None = None,
             idcard_reader=None, probe_timeout: float = PROBE_TIMEOUT) -> list[DeviceInfo]:
    """Like :func:`list_devices`, with deeper checks of each device found."""
    if idcard_reader is not None:
        rows = [idcard_reader.device_info()]
    else:
        rows = [idcard_selftest(port=idcard_port, ports=idcard_ports, timeout=probe_timeout)]
    return rows + camera_infos()


def format_table(rows: list[DeviceInfo]) -> str:
    """Plain-text table for the command line (Chinese headings)."""
    header = ("设备", "状态", "端口/编号", "最近错误")
    lines = [(r.name, r.state.label, r.port_or_index or "-", r.last_error or "-") for r in rows]
    widths = [max(_width(x) for x in col) for col in zip(header, *lines)]
    out = []
    for row in [header, *lines]:
        out.append("  ".join(cell + " " * (w - _width(cell)) for cell, w in zip(row, widths)).rstrip())
    return "\n".join(out)


def _width(text: str) -> int:
    """Display width: CJK characters take two columns in a terminal."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
