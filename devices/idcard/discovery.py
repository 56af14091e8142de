"""Finding the ID-card reader: probe serial ports with the SAM status command.

Order: the configured port first (it wins when it answers), then every port pyserial lists
(``serial.tools.list_ports``), USB adapters before built-in UARTs.  Each port is tried at
115200 baud first (the GA 467 default) and then the other rates a module may be set to.
A port that cannot be opened, or whose module answers with an error status, is not tried at
other rates: the rate is not the problem there.

The configured port comes from the caller (the application's settings) or the environment
variable ``COUNTER_APP_IDCARD_PORT`` (``COUNTER_APP_IDCARD_BAUD`` for its rate).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Iterable

from devices.idcard.errors import (
    FrameError,
    IdCardError,
    ReaderBusyError,
    ReaderConnectionError,
    ReaderTimeoutError,
    SamStatusError,
)
from devices.idcard.sam import DEFAULT_BAUDRATE, SamReader

BAUD_RATES = (115200, 57600, 38400, 19200, 9600)
PROBE_TIMEOUT = 0.3
ENV_PORT = "COUNTER_APP_IDCARD_PORT"
ENV_BAUD = "COUNTER_APP_IDCARD_BAUD"


@dataclass(frozen=True)
class ReaderLocation:
    port: str
    baudrate: int
    sam_id: str


@dataclass(frozen=True)
class ProbeAttempt:
    port: str
    baudrate: int
    outcome: str  # "found", "not_found", "busy", "no_answer", "sam_error", "bad_frame"
    message: str = ""


@dataclass
class DiscoveryResult:
    location: ReaderLocation | None
    attempts: list[ProbeAttempt] = field(default_factory=list)

    @property
    def message(self) -> str:
        """Chinese summary for the clerk when no reader was found."""
        if self.location is not None:
            return f"已找到身份证读卡器：{self.location.port}（{self.location.baudrate} 波特）"
        for outcome in ("sam_error", "busy", "bad_frame"):
            for attempt in self.attempts:
                if attempt.outcome == outcome:
                    return f"{attempt.port}：{attempt.message}"
        if not self.attempts:
            return "未发现任何串口，请检查身份证读卡器是否已连接"
        return "未找到身份证读卡器，请检查读卡器电源和连接线，或在设置中指定串口"


def configured_port() -> str | None:
    return os.environ.get(ENV_PORT) or None


def configured_baudrate() -> int | None:
    value = os.environ.get(ENV_BAUD, "")
    return int(value) if value.isascii() and value.isdigit() else None


def candidate_ports() -> list[str]:
    """Serial ports pyserial reports, USB-serial adapters (where readers live) first."""
    from serial.tools import list_ports

    ports = list(list_ports.comports())
    ports.sort(key=lambda p: (p.vid is None, p.device))
    return [p.device for p in ports]


def probe_port(port: str, baudrate: int, timeout: float = PROBE_TIMEOUT) -> ReaderLocation:
    """Open ``port`` at ``baudrate`` and ask the module for its status and ID.

    Raises the driver's errors (:class:`ReaderConnectionError`, :class:`ReaderTimeoutError`,
    :class:`SamStatusError`, :class:`FrameError`).
    """
    with SamReader(port, baudrate, timeout=timeout, frame_retries=0) as reader:
        reader.sam_status()
        return ReaderLocation(port, baudrate, reader.sam_id())


def discover_reader(configured: str | None = None, *, ports: Iterable[str] | None = None,
                    bauds: Iterable[int] = BAUD_RATES, configured_baud: int | None = None,
                    timeout: float = PROBE_TIMEOUT) -> DiscoveryResult:
    """Probe ports for a SAM module; ``ports`` overrides the list from pyserial.

    ``configured`` defaults to ``COUNTER_APP_IDCARD_PORT``.  Blocks for up to
    ``timeout`` per silent (port, rate) pair: call it off the GUI thread.
    """
    if configured is None:
        configured = configured_port()
        configured_baud = configured_baud or configured_baudrate()
    order: list[str] = []
    for port in ([configured] if configured else []) + list(candidate_ports() if ports is None else ports):
        if port not in order:
            order.append(port)
    rates = list(dict.fromkeys(([configured_baud] if configured_baud else []) + list(bauds) or [DEFAULT_BAUDRATE]))
    result = DiscoveryResult(None)
    for port in order:
        for rate in rates:
            try:
                location = probe_port(port, rate, timeout)
            except ReaderBusyError as exc:
                result.attempts.append(ProbeAttempt(port, rate, "busy", exc.message))
                break
            except ReaderConnectionError as exc:
                result.attempts.append(ProbeAttempt(port, rate, "not_found", exc.message))
                break
            except ReaderTimeoutError as exc:
                result.attempts.append(ProbeAttempt(port, rate, "no_answer", exc.message))
                continue
            except SamStatusError as exc:
                result.attempts.append(ProbeAttempt(port, rate, "sam_error", exc.message))
                break
            except FrameError as exc:
                # Garbage at the wrong rate looks like a bad frame: try the next rate.
                result.attempts.append(ProbeAttempt(port, rate, "bad_frame", exc.message))
                continue
            except IdCardError as exc:
                result.attempts.append(ProbeAttempt(port, rate, "bad_frame", exc.message))
                continue
            result.attempts.append(ProbeAttempt(port, rate, "found"))
            result.location = location
            return result
    return result
