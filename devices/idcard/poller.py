"""Card life cycle on top of the driver: one poll gives one :class:`CardEvent`.

The UI runs :class:`CardReader` in a worker thread (no Qt here)::

    reader = CardReader(port=None)            # None: discover the reader on the serial ports
    while not stop.is_set():
        event = reader.poll_once()           # blocks: keeps polls >= 300 ms apart
        if event.changed: emit(event)
    reader.close()

Why the presence check re-reads the card: after a successful read the SAM module halts the
card and *find card* fails (80) until the card is lifted, so "find failed" alone cannot tell
"same card still lying there" from "card lifted".  While a card is known to be present the
poller therefore re-reads the base message (the card stays selected while it is in the field):
success with the same number means the same card is still there; any module error means it
was lifted.  A different card put down in between is found by *find card* and reported as new.
The re-read costs about 0.1 s of line time at 115200 baud per poll, only while a card lies on
the reader.

Thread contract: :meth:`CardReader.poll_once` from one thread only (the worker);
:meth:`CardReader.close` and :meth:`CardReader.device_info` from any thread.
"""
from __future__ import annotations

import dataclasses
import enum
import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

from devices.base import DeviceInfo, DeviceState
from devices.idcard.card_data import IdCardData
from devices.idcard.errors import IdCardError, ReaderBusyError, ReaderConnectionError, SamStatusError
from devices.idcard.sam import DEFAULT_BAUDRATE, DEFAULT_TIMEOUT, SamReader
from devices.threads import OneThread

log = logging.getLogger(__name__)

MIN_POLL_INTERVAL = 0.3  # seconds; GA 467 modules misbehave when polled faster


class CardEventKind(str, enum.Enum):
    NEW_CARD = "new_card"  # a card was read (``event.card``)
    SAME_CARD = "same_card"  # the card read before is still on the reader
    NO_CARD = "no_card"
    ERROR = "error"  # ``event.message`` says what to do


@dataclass(frozen=True)
class CardEvent:
    kind: CardEventKind
    card: IdCardData | None = None
    message: str = ""  # Chinese, for the status line
    changed: bool = True  # False when the previous poll gave the same kind (and card)
    status_code: int | None = None  # SW3 when the module reported an error status

    @property
    def ok(self) -> bool:
        return self.kind is not CardEventKind.ERROR


_MESSAGES = {
    CardEventKind.NEW_CARD: "已读取证件",
    CardEventKind.SAME_CARD: "证件仍在读卡区",
    CardEventKind.NO_CARD: "请将证件放在读卡区",
}


class CardReader:
    """Polls a SAM module for cards.

    ``port``: serial port path; ``None`` discovers the reader on first use (and again after
    the connection is lost).  ``reader_factory(port, baudrate)`` opens the driver (tests and
    alternative transports).  ``min_interval`` below 0.3 s is raised to 0.3 s.
    """

    def __init__(self, port: str | None = None, baudrate: int = DEFAULT_BAUDRATE, *,
                 min_interval: float = MIN_POLL_INTERVAL, timeout: float = DEFAULT_TIMEOUT,
                 fingerprint: bool = False, new_address: bool = False,
                 reader_factory: Callable[[str, int], SamReader] | None = None):
        self.port = port
        self.baudrate = baudrate
        self._discovers = port is None  # a USB reader re-plugged may come back on another port
        self.min_interval = max(min_interval, MIN_POLL_INTERVAL)
        self.timeout = timeout
        self.fingerprint = fingerprint
        self.new_address = new_address
        self._factory = reader_factory or (lambda p, b: SamReader(p, b, timeout=self.timeout))
        self._reader: SamReader | None = None
        self._current: IdCardData | None = None
        self._last_poll: float | None = None
        self._last_event: CardEvent | None = None
        self._closed = threading.Event()
        self._io_lock = threading.Lock()
        self._state = DeviceState.NOT_CONNECTED
        self._last_error = ""
        self.sam_id = ""
        self._polling_thread = OneThread("CardReader.poll_once")

    # ---------------------------------------------------------------- public
    @property
    def current_card(self) -> IdCardData | None:
        return self._current

    def poll_once(self) -> CardEvent:
        """Wait out the poll interval, talk to the module once, and report what it saw."""
        self._polling_thread.check()
        if self._last_poll is not None:
            remaining = self._last_poll + self.min_interval - time.monotonic()
            if remaining > 0:
                self._closed.wait(remaining)  # close() ends the wait early
        if self._closed.is_set():
            return self._finish(CardEvent(CardEventKind.ERROR, message="读卡已停止"))
        with self._io_lock:
            if self._closed.is_set():  # closed while we waited for the lock
                return self._finish(CardEvent(CardEventKind.ERROR, message="读卡已停止"))
            try:
                event = self._poll_locked()
            except ReaderConnectionError as exc:
                self._drop_reader()
                if self._discovers:
                    self.port, self.sam_id = None, ""
                self._state = DeviceState.BUSY if isinstance(exc, ReaderBusyError) else DeviceState.NOT_CONNECTED
                event = CardEvent(CardEventKind.ERROR, message=exc.message)
            except SamStatusError as exc:
                self._state = DeviceState.ERROR
                event = CardEvent(CardEventKind.ERROR, message=exc.message, status_code=exc.code)
            except IdCardError as exc:
                self._state = DeviceState.ERROR
                event = CardEvent(CardEventKind.ERROR, message=exc.message)
            if self._closed.is_set():
                self._drop_reader()
        # The pause is counted from the end of this exchange: a module that answered late (a busy
        # machine, a slow USB-serial bridge) still gets its full rest before the next command.
        self._last_poll = time.monotonic()
        return self._finish(event)

    def close(self) -> None:
        """Stop polling and release the port.  Safe from any thread, idempotent; returns at once.

        A poll waiting out its interval or an answer ends at once; an exchange that had not
        started its read yet may still take up to its timeout before the port is released.
        """
        self._closed.set()
        reader = self._reader
        if reader is not None:
            reader.cancel()
        # If the worker is inside an exchange it closes the port itself when it returns.
        if self._io_lock.acquire(blocking=False):
            try:
                self._drop_reader()
            finally:
                self._io_lock.release()

    def __enter__(self) -> "CardReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def device_info(self) -> DeviceInfo:
        """The reader as the health list shows it (state, port, last error)."""
        details = {"baudrate": self.baudrate}
        if self.sam_id:
            details["sam_id"] = self.sam_id
        return DeviceInfo(kind="idcard", name="二代身份证读卡器", port_or_index=self.port or "",
                          state=self._state, last_error=self._last_error, details=details)

    # ---------------------------------------------------------------- internals
    def _finish(self, event: CardEvent) -> CardEvent:
        previous = self._last_event
        if (event.kind is not CardEventKind.NEW_CARD and previous is not None
                and previous.kind is event.kind and previous.message == event.message):
            event = dataclasses.replace(event, changed=False)
        self._last_event = event
        if event.kind is CardEventKind.ERROR:
            self._last_error = event.message
        else:
            self._state = DeviceState.READY
        return event

    def _open(self) -> SamReader:
        if self._reader is not None:
            return self._reader
        if self.port is None:
            from devices.idcard.discovery import discover_reader

            found = discover_reader()
            if found.location is None:
                raise ReaderConnectionError(found.message)
            self.port, self.baudrate = found.location.port, found.location.baudrate
            self.sam_id = found.location.sam_id
        reader = self._reader = self._factory(self.port, self.baudrate)  # visible to close() at once
        try:
            reader.sam_status()
            if not self.sam_id:
                self.sam_id = reader.sam_id()
        except Exception:
            self._drop_reader()
            raise
        return reader

    def _drop_reader(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.close()

    def _read(self, reader: SamReader) -> IdCardData:
        card = reader.read_with_fingerprint() if self.fingerprint else reader.read_base()
        if self.new_address and card.card_type == "resident":
            card.new_address = reader.read_new_address()
        return card

    def _poll_locked(self) -> CardEvent:
        reader = self._open()
        if reader.find_card():
            reader.select_card()
            card = self._read(reader)
            self._current = card
            return CardEvent(CardEventKind.NEW_CARD, card, _MESSAGES[CardEventKind.NEW_CARD])
        if self._current is not None:
            try:
                card = self._read(reader)
            except SamStatusError:
                self._current = None  # lifted
            else:
                if card.same_card_as(self._current):
                    return CardEvent(CardEventKind.SAME_CARD, self._current, _MESSAGES[CardEventKind.SAME_CARD])
                self._current = card
                return CardEvent(CardEventKind.NEW_CARD, card, _MESSAGES[CardEventKind.NEW_CARD])
        return CardEvent(CardEventKind.NO_CARD, None, _MESSAGES[CardEventKind.NO_CARD])
