"""A simulated GA 467 SAM module that speaks the real bytes on a pseudo-terminal.

:class:`SamModuleLogic` is the module's state machine (command payload in, response out);
:class:`SimulatedSamModule` serves it on a pty from a background thread, so the real driver
(:class:`devices.idcard.sam.SamReader`, pyserial) talks to it exactly as to a reader on
``/dev/ttyUSB0``.  Faults reproduce what real readers do wrong (see :class:`Fault`).

Card life cycle as GA 467 modules show it in the field: find card succeeds for a card that has not been read;
after a successful read the card is halted and find card answers 80 until it is lifted, while
read base message keeps answering for as long as it stays in the field.

Usage from other code (e.g. the UI demo)::

    module = SimulatedSamModule(sample_card("resident_xinxiang"))
    port = module.start()          # "/dev/pts/7"
    ...                            # open `port` with the real driver
    module.remove_card(); module.place_card(other_card)
    module.stop()

Thread contract: ``place_card``, ``remove_card``, ``set_faults`` and ``stop`` may be called from
any thread; the module's own thread does all pty I/O.
"""
from __future__ import annotations

import collections
import enum
import os
import select
import threading
import time
from dataclasses import dataclass
from typing import Iterable

try:  # pseudo-terminals are POSIX; importing this module stays safe on Windows
    import termios
    import tty
except ImportError:  # pragma: no cover - Windows
    termios = tty = None  # type: ignore[assignment]

from devices.idcard import status as sam_status
from devices.idcard.card_data import PHOTO_SIZE, RESIDENT, IdCardData, encode_card_text, encode_text_field
from devices.idcard.errors import FrameChecksumError, FrameError
from devices.idcard.faults import FAULT_HELP, Fault, FaultSet
from devices.idcard.frames import MIN_COMMAND_PAYLOAD, Command, FrameParser, SamCommand, SamResponse
from devices.idcard.sam import wire_time

__all__ = ["DEFAULT_SAM_ID", "FAULT_HELP", "Fault", "FaultSet", "SamModuleLogic", "SimulatedSamModule"]

#: 16-byte SAM ID of the simulated module (prints as 05.01-20240601-0000004101-0000000007).
DEFAULT_SAM_ID = (
    (5).to_bytes(2, "little") + (1).to_bytes(2, "little") + (20240601).to_bytes(4, "little")
    + (4101).to_bytes(4, "little") + (7).to_bytes(4, "little")
)

#: What "stray bytes" sends before each answer: line noise, a preamble one AA short, a
#: preamble with a wrong last byte, and one cut right before its last byte (so the real
#: preamble that follows overlaps it).
STRAY_PREFIX = b"\x00\xff\x13\xaa\xaa\x96\x69\x00\xaa\xaa\xaa\x96\x55\xaa\xaa\xaa\x96"

NEW_ADDRESS_SIZE = 70  # the appended-address answer carries one address field of the text block

_READ_COMMANDS = (Command.READ_BASE, Command.READ_WITH_FINGERPRINT, Command.READ_NEW_ADDRESS)


class _Phase(enum.Enum):
    FRESH = "fresh"  # in the field, not yet found
    FOUND = "found"
    SELECTED = "selected"
    READ = "read"  # halted: find card fails until the card is lifted


class SamModuleLogic:
    """The module's state machine, independent of any transport.  Thread-safe."""

    def __init__(self, card: IdCardData | None = None, faults: FaultSet | Iterable[str] = (),
                 sam_id: bytes = DEFAULT_SAM_ID):
        self._lock = threading.Lock()
        self._card = card
        self._phase = _Phase.FRESH
        self.faults = faults if isinstance(faults, FaultSet) else FaultSet.parse(faults)
        self.sam_id = sam_id

    # -- what a test or the demo does with its hand
    def place_card(self, card: IdCardData) -> None:
        with self._lock:
            self._card = card
            self._phase = _Phase.FRESH

    def remove_card(self) -> None:
        with self._lock:
            self._card = None
            self._phase = _Phase.FRESH

    @property
    def card(self) -> IdCardData | None:
        return self._card

    # -- protocol
    def handle(self, command: SamCommand) -> SamResponse:
        with self._lock:
            return self._handle_locked(command)

    def handle_bad_frame(self, error: FrameError) -> SamResponse:
        """A corrupt command frame: the module reports a checksum (10) or length (11) error."""
        code = 0x10 if isinstance(error, FrameChecksumError) else 0x11
        return SamResponse(0, 0, code)

    def _handle_locked(self, command: SamCommand) -> SamResponse:
        faults = self.faults
        if faults.forced_status is not None:
            return SamResponse(0, 0, faults.forced_status)
        kind = command.command
        card = None if Fault.NO_CARD in faults else self._card
        ok = sam_status.SUCCESS
        if kind is None:
            return SamResponse(0, 0, 0x21)
        if kind is Command.RESET:
            self._phase = _Phase.FRESH
            return SamResponse(0, 0, ok)
        if kind is Command.SAM_STATUS:
            return SamResponse(0, 0, ok)
        if kind is Command.SAM_ID:
            return SamResponse(0, 0, ok, self.sam_id)
        if kind is Command.FIND_CARD:
            if card is None or self._phase is _Phase.READ:
                return SamResponse(0, 0, sam_status.FIND_CARD_FAILED)
            if self._phase is _Phase.FRESH:
                self._phase = _Phase.FOUND
            return SamResponse(0, 0, sam_status.FIND_CARD_SUCCESS, bytes(4))
        if kind is Command.SELECT_CARD:
            if card is None or self._phase not in (_Phase.FOUND, _Phase.SELECTED) or Fault.SELECT_FAILURE in faults:
                return SamResponse(0, 0, sam_status.SELECT_CARD_FAILED)
            self._phase = _Phase.SELECTED
            return SamResponse(0, 0, ok, bytes(8))
        # read commands need a selected (or already read, still present) card
        if card is None or self._phase not in (_Phase.SELECTED, _Phase.READ) or Fault.READ_FAILURE in faults:
            return SamResponse(0, 0, 0x41)
        if kind is Command.READ_NEW_ADDRESS:
            if card.card_type != RESIDENT or not card.new_address:
                return SamResponse(0, 0, sam_status.NO_CONTENT)
            return SamResponse(0, 0, ok, encode_text_field(card.new_address, NEW_ADDRESS_SIZE))
        text = encode_card_text(card)
        photo = card.photo_wlt.ljust(PHOTO_SIZE, b"\x00")[:PHOTO_SIZE]
        self._phase = _Phase.READ
        if kind is Command.READ_BASE:
            data = len(text).to_bytes(2, "big") + len(photo).to_bytes(2, "big") + text + photo
        else:
            fp = card.fingerprint
            data = (len(text).to_bytes(2, "big") + len(photo).to_bytes(2, "big") + len(fp).to_bytes(2, "big")
                    + text + photo + fp)
        return SamResponse(0, 0, ok, data)

    def wire_bytes(self, command: SamCommand | None, response: SamResponse) -> bytes:
        """The bytes actually sent for ``response``, with the byte-level faults applied."""
        faults = self.faults
        frame = response.encode()
        carries_card = command is not None and command.command in _READ_COMMANDS and len(response.data) > 0
        if Fault.CHECKSUM in faults and carries_card:
            frame = frame[:-1] + bytes((frame[-1] ^ 0x5A,))
        if Fault.TRUNCATE in faults and carries_card:
            frame = frame[: len(frame) // 2]
        if Fault.STRAY_BYTES in faults:
            frame = STRAY_PREFIX + frame
        return frame


_BAUD_CONSTANTS = {
    rate: getattr(termios, f"B{rate}") for rate in (9600, 19200, 38400, 57600, 115200, 230400)
    if termios is not None and hasattr(termios, f"B{rate}")
}


@dataclass
class ReceivedCommand:
    at: float  # time.monotonic()
    command: Command | None


class SimulatedSamModule:
    """Serve :class:`SamModuleLogic` on a new pseudo-terminal from a background thread.

    ``baudrate``: when set, commands arriving while the client's line speed differs are
    ignored, as a real UART would only see garbage — this lets discovery tests find the rate.
    """

    def __init__(self, card: IdCardData | None = None, faults: FaultSet | Iterable[str] = (), *,
                 baudrate: int | None = None, sam_id: bytes = DEFAULT_SAM_ID):
        self.logic = SamModuleLogic(card, faults, sam_id)
        self.baudrate = baudrate
        self._master: int | None = None
        self._slave: int | None = None
        self._wake_r: int | None = None
        self._wake_w: int | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        # A demo serves for hours at ~3 commands a second: keep the recent history only, and
        # count the total for wait_for_commands().
        self._received: collections.deque[ReceivedCommand] = collections.deque(maxlen=2000)
        self._received_total = 0
        self._received_cond = threading.Condition()
        self.port_path: str | None = None

    # ---------------------------------------------------------------- control
    def start(self) -> str:
        """Open the pty, start serving, return the port path a driver should open."""
        if self._thread is not None:
            raise RuntimeError("simulator already started")
        if tty is None or not hasattr(os, "openpty"):
            raise OSError("身份证读卡器模拟器需要伪终端，只能在 Linux 或 macOS 上运行")
        master, slave = os.openpty()
        # Raw mode on our side too, so CR/LF translation or echo can never touch a frame even
        # before a client has configured the port.
        tty.setraw(slave)
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self._wake_r, self._wake_w = os.pipe()
        self.port_path = os.ttyname(slave)
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, name="sam-simulator", daemon=True)
        self._thread.start()
        return self.port_path

    def stop(self) -> None:
        """Stop serving and close the pty (idempotent)."""
        self._stop.set()
        if self._wake_w is not None:
            try:
                os.write(self._wake_w, b"x")
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        for name in ("_master", "_slave", "_wake_r", "_wake_w"):
            fd = getattr(self, name)
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
                setattr(self, name, None)

    def __enter__(self) -> "SimulatedSamModule":
        if self._thread is None:
            self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def place_card(self, card: IdCardData) -> None:
        self.logic.place_card(card)

    def remove_card(self) -> None:
        self.logic.remove_card()

    def set_faults(self, faults: FaultSet | Iterable[str]) -> None:
        self.logic.faults = faults if isinstance(faults, FaultSet) else FaultSet.parse(faults)

    def send_raw(self, data: bytes) -> None:
        """Put bytes on the line now, outside any exchange (a glitch, a late answer).
        Call it while no exchange is in progress."""
        self._write_all(data)

    # ---------------------------------------------------------------- observation (tests)
    @property
    def received(self) -> list[ReceivedCommand]:
        with self._received_cond:
            return list(self._received)

    def wait_for_commands(self, count: int, timeout: float = 5.0) -> bool:
        """Block until at least ``count`` commands have been received (or the timeout)."""
        with self._received_cond:
            return self._received_cond.wait_for(lambda: self._received_total >= count, timeout)

    # ---------------------------------------------------------------- serving thread
    def _line_speed_matches(self) -> bool:
        if self.baudrate is None:
            return True
        try:
            attrs = termios.tcgetattr(self._master)
        except termios.error:
            return True
        return attrs[4] == _BAUD_CONSTANTS.get(self.baudrate)

    def _serve(self) -> None:
        parser = FrameParser(min_payload=MIN_COMMAND_PAYLOAD)
        master = self._master
        while not self._stop.is_set():
            readable, _, _ = select.select([master, self._wake_r], [], [])
            if self._wake_r in readable:
                return
            try:
                data = os.read(master, 4096)
            except BlockingIOError:
                continue
            except OSError:
                return
            if not self._line_speed_matches():
                parser.clear()
                continue
            parser.feed(data)
            while not self._stop.is_set():
                command: SamCommand | None = None
                try:
                    payload = parser.next_frame()
                    if payload is None:
                        break
                    command = SamCommand.from_payload(payload)
                    response = self.logic.handle(command)
                except FrameError as exc:
                    response = self.logic.handle_bad_frame(exc)
                with self._received_cond:
                    self._received.append(ReceivedCommand(time.monotonic(), command.command if command else None))
                    self._received_total += 1
                    self._received_cond.notify_all()
                if Fault.SILENT in self.logic.faults:
                    continue
                self._send(self.logic.wire_bytes(command, response))

    def _send(self, frame: bytes) -> None:
        if Fault.SLOW in self.logic.faults:
            # Dribble at wire speed in uneven chunks, as a USB-serial bridge delivers them.
            sizes = (1, 7, 64, 3, 29, 128, 16)
            pos = i = 0
            while pos < len(frame) and not self._stop.is_set():
                chunk = frame[pos : pos + sizes[i % len(sizes)]]
                self._write_all(chunk)
                pos += len(chunk)
                i += 1
                self._stop.wait(wire_time(len(chunk), self.baudrate or 115200) * 1.5)
        else:
            self._write_all(frame)

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        give_up = time.monotonic() + 2.0  # nobody is reading: drop rather than hang
        while view and not self._stop.is_set() and time.monotonic() < give_up:
            try:
                n = os.write(self._master, view)
                view = view[n:]
            except BlockingIOError:
                select.select([], [self._master], [], 0.05)
            except OSError:
                return
