"""Driver for a GA 467 SAM module (二代身份证读卡器) on a serial port, with pyserial.

One :class:`SamReader` owns one open port.  Each command is one exchange: flush stale input,
write the command frame, then read until a complete response frame arrives, skipping stray
bytes before it.  Reads ask for exactly the bytes the current frame still needs, so an
exchange ends as soon as the last byte arrives; the per-exchange deadline grows with the
declared frame length and the baud rate, so a 2.3 KB answer at 9600 baud is not cut off.

Thread contract: a ``SamReader`` is not thread-safe.  Use it from one thread (the reader
worker); :meth:`cancel` is the only method another thread may call.
Personal data never goes to the log: only command names and status codes are logged.
"""
from __future__ import annotations

import errno
import logging
import time

import serial

from devices.idcard import status as sam_status
from devices.idcard.card_data import PHOTO_SIZE, TEXT_SIZE, IdCardData, parse_card_text
from devices.idcard.errors import (
    CardDataError,
    FrameError,
    IdCardError,
    ReaderBusyError,
    ReaderConnectionError,
    ReaderTimeoutError,
    SamStatusError,
)
from devices.idcard.frames import Command, FrameParser, SamCommand, SamResponse

log = logging.getLogger(__name__)

try:  # POSIX: pyserial lets termios.error (not an OSError) escape from flushes on a dead tty
    import termios

    _IO_ERRORS: tuple[type[BaseException], ...] = (serial.SerialException, OSError, termios.error)
except ImportError:  # pragma: no cover - Windows
    _IO_ERRORS = (serial.SerialException, OSError)

DEFAULT_BAUDRATE = 115200
DEFAULT_TIMEOUT = 1.0
#: Longest single blocking read; bounds how late a cancel or deadline is noticed.
READ_SLICE = 0.05
SAM_ID_SIZE = 16


def wire_time(n_bytes: int, baudrate: int) -> float:
    """Seconds to move ``n_bytes`` over an 8N1 line (10 bits per byte)."""
    return n_bytes * 10 / baudrate


def format_sam_id(data: bytes) -> str:
    """The SAM ID as printed by vendor tools: ``NN.NN-YYYYMMDD-NNNNNNNNNN-NNNNNNNNNN``.

    16 bytes: two little-endian 16-bit numbers, then three little-endian 32-bit numbers.
    """
    if len(data) < SAM_ID_SIZE:
        raise CardDataError("读卡器返回的安全模块编号长度错误")
    a = int.from_bytes(data[0:2], "little")
    b = int.from_bytes(data[2:4], "little")
    c = int.from_bytes(data[4:8], "little")
    d = int.from_bytes(data[8:12], "little")
    e = int.from_bytes(data[12:16], "little")
    return f"{a:02d}.{b:02d}-{c:08d}-{d:010d}-{e:010d}"


def open_serial(port: str, baudrate: int) -> serial.Serial:
    """Open ``port`` exclusively (a second program gets :class:`ReaderBusyError`)."""
    try:
        return serial.Serial(
            port=port, baudrate=baudrate, bytesize=8, parity="N", stopbits=1,
            timeout=READ_SLICE, write_timeout=2.0, exclusive=True,
        )
    except serial.SerialException as exc:
        code = getattr(exc, "errno", None)
        if code in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EBUSY) or "lock" in str(exc).lower():
            raise ReaderBusyError() from exc
        if code == errno.ENOENT:
            raise ReaderConnectionError(f"找不到串口 {port}，请检查读卡器是否插好、端口设置是否正确") from exc
        if code == errno.EACCES:
            raise ReaderConnectionError(f"没有权限打开串口 {port}，请联系维护人员（需要串口访问权限）") from exc
        raise ReaderConnectionError(f"无法打开串口 {port}，请检查读卡器连接线和端口设置") from exc
    except (*_IO_ERRORS, ValueError) as exc:  # e.g. termios.error: not a terminal
        raise ReaderConnectionError(f"无法打开串口 {port}，请检查读卡器连接线和端口设置") from exc


class SamReader:
    """A GA 467 SAM module on an open serial port.

    ``port`` is a path (``/dev/ttyUSB0``, ``COM3``, a pty) or an already open
    :class:`serial.Serial`-like object (``read``, ``write``, ``reset_input_buffer``, ``close``).
    """

    def __init__(self, port: "str | serial.Serial", baudrate: int = DEFAULT_BAUDRATE, *,
                 timeout: float = DEFAULT_TIMEOUT, frame_retries: int = 1):
        self.baudrate = baudrate
        self.timeout = timeout
        self.frame_retries = frame_retries
        if isinstance(port, str):
            self.port_name = port
            self._serial = open_serial(port, baudrate)
        else:
            self.port_name = getattr(port, "port", None) or repr(port)
            self._serial = port
        self.stray_bytes = 0  # bytes skipped before frames since opening; for diagnostics
        self._cancelled = False

    # -------------------------------------------------------------- life cycle
    def close(self) -> None:
        ser, self._serial = self._serial, None
        if ser is not None:
            try:
                ser.close()
            except Exception:  # closing a vanished device must not mask the real error
                log.debug("error closing %s", self.port_name, exc_info=True)

    @property
    def is_open(self) -> bool:
        return self._serial is not None

    def cancel(self) -> None:
        """Abort the exchange in progress and any later one (callable from another thread);
        the owner thread then closes the reader."""
        self._cancelled = True
        ser = self._serial
        cancel_read = getattr(ser, "cancel_read", None)
        if cancel_read is not None:
            try:
                cancel_read()
            except Exception:
                pass

    def __enter__(self) -> "SamReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -------------------------------------------------------------- exchange
    def transact(self, command: SamCommand, *, timeout: float | None = None) -> SamResponse:
        """Send one command and return its response (any status).

        Raises :class:`ReaderTimeoutError`, :class:`FrameError` or :class:`ReaderConnectionError`.
        """
        ser = self._serial
        if ser is None:
            raise ReaderConnectionError("身份证读卡器未打开")
        name = command.command.name if command.command else f"{command.cmd:02X}{command.para:02X}"
        try:
            # Stale bytes (a late answer to a command that timed out) would be taken for the
            # answer to this one.
            ser.reset_input_buffer()
            ser.write(command.encode())
            response = self._read_response(ser, self.timeout if timeout is None else timeout)
        except _IO_ERRORS as exc:
            raise ReaderConnectionError("与身份证读卡器的连接中断，请检查读卡器连接线") from exc
        log.debug("SAM %s -> SW3 %02X", name, response.sw3)
        return response

    def _read_response(self, ser, timeout: float) -> SamResponse:
        parser = FrameParser()
        deadline = time.monotonic() + timeout
        length_seen = False
        try:
            while True:
                payload = parser.next_frame()
                if payload is not None:
                    return SamResponse.from_payload(payload)
                want = parser.bytes_wanted()
                if not length_seen and parser.declared_length() is not None:
                    length_seen = True
                    # Give a long frame the time its bytes need on the wire, twice over.
                    deadline = max(deadline, time.monotonic() + 2 * wire_time(want, self.baudrate) + 0.1)
                if time.monotonic() >= deadline:
                    if length_seen:
                        raise ReaderTimeoutError("读卡器返回的数据不完整（传输中断），请重新放卡；多次出现请检查连接线")
                    raise ReaderTimeoutError()
                if self._cancelled:
                    raise ReaderConnectionError("读卡已停止")
                chunk = ser.read(want)
                if chunk:
                    parser.feed(chunk)
        finally:
            self.stray_bytes += parser.discarded

    def _command(self, command: Command, *, ok=(sam_status.SUCCESS,)) -> SamResponse:
        """Run a command, retrying on a corrupt frame (``frame_retries`` times; repeating any of
        these commands is harmless), and raise :class:`SamStatusError` unless SW3 is in ``ok``."""
        attempts = 1 + self.frame_retries
        for attempt in range(attempts):
            try:
                response = self.transact(SamCommand.of(command))
                break
            except FrameError:
                if attempt + 1 >= attempts:
                    raise
                log.info("SAM %s: corrupt frame, retrying", command.name)
        if response.sw3 not in ok:
            raise SamStatusError(response.sw3)
        return response

    # -------------------------------------------------------------- commands
    def reset(self) -> None:
        """Reset the SAM module (10 FF)."""
        self._command(Command.RESET)

    def sam_status(self) -> None:
        """Check the SAM module (11 FF); raises :class:`SamStatusError` when not working."""
        self._command(Command.SAM_STATUS)

    def sam_id(self) -> str:
        """The SAM module's ID (12 FF) as vendor tools print it."""
        return format_sam_id(self._command(Command.SAM_ID).data)

    def find_card(self) -> bool:
        """Find card (20 01): True when a card is in the field (9F), False when none (80)."""
        response = self._command(Command.FIND_CARD, ok=(sam_status.FIND_CARD_SUCCESS, sam_status.FIND_CARD_FAILED))
        return response.sw3 == sam_status.FIND_CARD_SUCCESS

    def select_card(self) -> None:
        """Select card (20 02); raises :class:`SamStatusError` (81) when it fails."""
        self._command(Command.SELECT_CARD)

    def read_base(self) -> IdCardData:
        """Read base message (30 01): text and photo."""
        data = self._command(Command.READ_BASE).data
        return _parse_read_data(data, with_fingerprint=False)

    def read_with_fingerprint(self) -> IdCardData:
        """Read base message with fingerprint (30 10)."""
        data = self._command(Command.READ_WITH_FINGERPRINT).data
        return _parse_read_data(data, with_fingerprint=True)

    def read_new_address(self) -> str:
        """Read the appended address (30 03); ``""`` when the card has none (91)."""
        response = self._command(Command.READ_NEW_ADDRESS, ok=(sam_status.SUCCESS, sam_status.NO_CONTENT))
        if response.sw3 == sam_status.NO_CONTENT:
            return ""
        return response.data.decode("utf-16-le", errors="replace").strip(" \x00")

    def read_card(self, *, fingerprint: bool = False, new_address: bool = False) -> IdCardData | None:
        """One full cycle: find, select, read.  ``None`` when no card is on the reader."""
        if not self.find_card():
            return None
        self.select_card()
        card = self.read_with_fingerprint() if fingerprint else self.read_base()
        if new_address and card.card_type == "resident":
            card.new_address = self.read_new_address()
        return card


def _parse_read_data(data: bytes, *, with_fingerprint: bool) -> IdCardData:
    """Split a read answer: text length, photo length [, fingerprint length], then the blocks."""
    header = 6 if with_fingerprint else 4
    if len(data) < header:
        raise CardDataError("读卡器返回的身份证数据不完整，请重新放卡")
    text_len = int.from_bytes(data[0:2], "big")
    photo_len = int.from_bytes(data[2:4], "big")
    fp_len = int.from_bytes(data[4:6], "big") if with_fingerprint else 0
    if text_len != TEXT_SIZE or photo_len not in (0, PHOTO_SIZE):
        raise CardDataError("读卡器返回的身份证数据长度错误，请重新放卡")
    if len(data) != header + text_len + photo_len + fp_len:
        raise CardDataError("读卡器返回的身份证数据不完整，请重新放卡")
    text = data[header : header + text_len]
    photo = data[header + text_len : header + text_len + photo_len]
    card = parse_card_text(text, photo)
    card.fingerprint = bytes(data[header + text_len + photo_len :])
    return card


__all__ = [
    "DEFAULT_BAUDRATE",
    "IdCardError",
    "SamReader",
    "format_sam_id",
    "open_serial",
    "wire_time",
]
