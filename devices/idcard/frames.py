"""GA 467 SAM frames: building commands, and finding responses in a noisy byte stream.

Frame layout (both directions)::

    AA AA AA 96 69 | LEN_HI LEN_LO | payload ... | CHK

``LEN`` (big-endian) counts every byte after itself, checksum included; ``CHK`` is the XOR of
every byte after the preamble (the two length bytes and the payload).  A command payload is
``CMD PARA [data]``; a response payload is ``SW1 SW2 SW3 [data]``.

Readers send stray bytes (power-up noise, a half-sent frame after a reset), so the parser scans
for the preamble instead of assuming the stream starts with one, and it never trusts a length
before checking it against :data:`MAX_PAYLOAD`.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

from devices.idcard.errors import FrameChecksumError, FrameError, FrameLengthError
from devices.idcard.status import SUCCESS_CODES, status_message

PREAMBLE = b"\xAA\xAA\xAA\x96\x69"
HEADER_SIZE = len(PREAMBLE) + 2

#: Largest payload accepted.  The largest real answer is read-with-fingerprint:
#: SW(3) + three lengths (6) + text 256 + photo 1024 + fingerprint 1024 = 2313 bytes.
#: Anything much larger is line noise that happened to contain a preamble.
MAX_PAYLOAD = 4096
MIN_COMMAND_PAYLOAD = 2  # CMD PARA
MIN_RESPONSE_PAYLOAD = 3  # SW1 SW2 SW3


class Command(enum.Enum):
    """The SAM commands this driver uses, as (CMD, PARA)."""

    RESET = (0x10, 0xFF)
    SAM_STATUS = (0x11, 0xFF)
    SAM_ID = (0x12, 0xFF)
    FIND_CARD = (0x20, 0x01)
    SELECT_CARD = (0x20, 0x02)
    READ_BASE = (0x30, 0x01)
    READ_NEW_ADDRESS = (0x30, 0x03)
    READ_WITH_FINGERPRINT = (0x30, 0x10)

    @classmethod
    def lookup(cls, cmd: int, para: int) -> "Command | None":
        return _COMMANDS_BY_BYTES.get((cmd, para))


_COMMANDS_BY_BYTES = {c.value: c for c in Command}


def xor_checksum(data: bytes | bytearray | memoryview) -> int:
    """XOR of all bytes.

    Folds the bytes as one big integer (halving its width each step) instead of a Python loop
    over each byte: a 2.3 KB read answer is checked in a few microseconds.
    """
    width = len(data)
    if width == 0:
        return 0
    value = int.from_bytes(data, "little")
    while width > 1:
        half = (width + 1) // 2
        shift = 8 * half
        value = (value & ((1 << shift) - 1)) ^ (value >> shift)
        width = half
    return value


def encode_frame(payload: bytes) -> bytes:
    """Wrap a payload (``CMD PARA data`` or ``SW1 SW2 SW3 data``) into a complete frame."""
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    body = (len(payload) + 1).to_bytes(2, "big") + payload
    return PREAMBLE + body + bytes((xor_checksum(body),))


@dataclass(frozen=True)
class SamCommand:
    """A command frame sent by the terminal to the SAM module."""

    cmd: int
    para: int
    data: bytes = b""

    @classmethod
    def of(cls, command: Command, data: bytes = b"") -> "SamCommand":
        cmd, para = command.value
        return cls(cmd, para, data)

    @property
    def command(self) -> Command | None:
        return Command.lookup(self.cmd, self.para)

    def encode(self) -> bytes:
        return encode_frame(bytes((self.cmd, self.para)) + self.data)

    @classmethod
    def from_payload(cls, payload: bytes) -> "SamCommand":
        if len(payload) < MIN_COMMAND_PAYLOAD:
            raise FrameLengthError()
        return cls(payload[0], payload[1], bytes(payload[2:]))


@dataclass(frozen=True)
class SamResponse:
    """A response frame from the SAM module; ``sw3`` is the status byte."""

    sw1: int
    sw2: int
    sw3: int
    data: bytes = b""

    @property
    def ok(self) -> bool:
        return self.sw3 in SUCCESS_CODES

    @property
    def message(self) -> str:
        return status_message(self.sw3)

    def encode(self) -> bytes:
        return encode_frame(bytes((self.sw1, self.sw2, self.sw3)) + self.data)

    @classmethod
    def from_payload(cls, payload: bytes) -> "SamResponse":
        if len(payload) < MIN_RESPONSE_PAYLOAD:
            raise FrameLengthError()
        return cls(payload[0], payload[1], payload[2], bytes(payload[3:]))


class FrameParser:
    """Incremental scanner: feed bytes as they arrive, take complete frame payloads out.

    * Bytes before a preamble are skipped (counted in :attr:`discarded`).
    * A declared length outside ``[min_payload + 1, MAX_PAYLOAD + 1]`` raises
      :class:`FrameLengthError`; a bad checksum raises :class:`FrameChecksumError`.  In both
      cases the offending preamble is dropped first, so the next call resynchronises on the
      bytes that follow — a caller may keep going or give up.
    * :meth:`bytes_wanted` tells a reader how many more bytes can be read without
      overshooting the current frame, so a blocking ``read(n)`` returns as soon as the frame is
      complete instead of waiting for a timeout.

    Not thread-safe; one parser per stream.
    """

    def __init__(self, min_payload: int = MIN_RESPONSE_PAYLOAD, max_payload: int = MAX_PAYLOAD):
        self._buf = bytearray()
        self.min_payload = min_payload
        self.max_payload = max_payload
        self.discarded = 0

    def feed(self, data: bytes) -> None:
        self._buf += data

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def clear(self) -> None:
        self.discarded += len(self._buf)
        self._buf.clear()

    def _sync(self) -> bool:
        """Drop bytes before the first preamble; True when the buffer starts with one."""
        buf = self._buf
        index = buf.find(PREAMBLE)
        if index < 0:
            # Keep a tail that may be the start of a preamble split across reads.
            keep = 0
            for n in range(min(len(PREAMBLE) - 1, len(buf)), 0, -1):
                if buf.endswith(PREAMBLE[:n]):
                    keep = n
                    break
            drop = len(buf) - keep
            if drop:
                del buf[:drop]
                self.discarded += drop
            return False
        if index:
            del buf[:index]
            self.discarded += index
        return True

    def bytes_wanted(self) -> int:
        """How many more bytes are needed before :meth:`next_frame` can make progress (>= 1)."""
        buf = self._buf
        if not buf.startswith(PREAMBLE):
            if not self._sync():
                return len(PREAMBLE) - len(buf)
        if len(buf) < HEADER_SIZE:
            return HEADER_SIZE - len(buf)
        length = int.from_bytes(buf[5:7], "big")
        missing = HEADER_SIZE + length - len(buf)
        return max(missing, 1)

    def declared_length(self) -> int | None:
        """The length field of the frame being assembled, once its header has arrived."""
        buf = self._buf
        if len(buf) >= HEADER_SIZE and buf.startswith(PREAMBLE):
            return int.from_bytes(buf[5:7], "big")
        return None

    def next_frame(self) -> bytes | None:
        """Return the next complete payload, ``None`` if more bytes are needed.

        Raises :class:`FrameError` subclasses for a corrupt frame (see class docstring).
        """
        if not self._sync():
            return None
        buf = self._buf
        if len(buf) < HEADER_SIZE:
            return None
        length = int.from_bytes(buf[5:7], "big")
        if not (self.min_payload + 1 <= length <= self.max_payload + 1):
            self._drop_preamble()
            raise FrameLengthError()
        end = HEADER_SIZE + length
        if len(buf) < end:
            return None
        body = bytes(buf[5 : end - 1])
        expected = buf[end - 1]
        if xor_checksum(body) != expected:
            self._drop_preamble()
            raise FrameChecksumError()
        del buf[:end]
        return body[2:]

    def _drop_preamble(self) -> None:
        # Drop one byte only: a real preamble may start inside the bogus "frame".
        del self._buf[:1]
        self.discarded += 1


def parse_response(data: bytes) -> SamResponse:
    """Parse one response out of a complete byte string (stray bytes before it are allowed)."""
    parser = FrameParser()
    parser.feed(data)
    payload = parser.next_frame()
    if payload is None:
        raise FrameError("读卡器返回的数据不完整，请重新放卡")
    return SamResponse.from_payload(payload)
