"""The ID-card reader's Qt worker: ``devices.idcard.CardReader`` polled on its own ``QThread``
("idcard-reader"), each change emitted as a ``CardEvent``, the card photo (WLT) decoded on the same
thread by ``devices.idcard`` (only the BMP → QImage step is Qt's).

Thread contract: construct on the GUI thread, ``run`` on the reader thread, ``stop`` from any thread.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QImage

from devices.idcard import CardEvent, CardEventKind, CardReader, IdCardData, WltDecoder

log = logging.getLogger(__name__)


class CardReaderWorker(QObject):
    """Polls the reader on its QThread until :meth:`stop`. No event loop runs there: control is by
    the thread-safe :meth:`stop`, not by queued signals."""

    event = Signal(object)               # CardEvent, only when something changed
    photo = Signal(object, object, str)  # card, QImage | None, message
    finished = Signal()

    def __init__(self, make_reader: Callable[[], CardReader], make_decoder: Callable[[], WltDecoder] | None = None):
        super().__init__()
        self._make_reader = make_reader
        self._make_decoder = make_decoder
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._reader: CardReader | None = None
        self._photos = None  # devices.idcard.CardPhotoDecoder, made on the reader thread

    @property
    def reader(self) -> CardReader | None:
        return self._reader

    @Slot()
    def run(self) -> None:
        try:
            reader = self._make_reader()
            with self._lock:
                self._reader = reader
            if self._stop.is_set():
                reader.close()
            while not self._stop.is_set():
                event = reader.poll_once()   # blocks ≥ 300 ms between polls
                if self._stop.is_set():
                    break
                if event.changed:
                    self.event.emit(event)
                if event.kind is CardEventKind.NEW_CARD and event.card is not None:
                    self._decode_photo(event.card)
        except Exception:  # a driver bug must not kill the thread silently: tell the clerk
            log.exception("ID-card reader loop failed")
            self.event.emit(CardEvent(CardEventKind.ERROR, message="读卡器程序出错，请重新启动程序；仍不行请改用人工录入。"))
        finally:
            reader = self._reader
            if reader is not None:
                reader.close()
            self.finished.emit()

    def _decode_photo(self, card: IdCardData) -> None:
        """On the reader thread: the card photo through ``devices.idcard`` (vendor WLT library);
        only the BMP → QImage step is Qt's."""
        from devices.idcard import CardPhotoDecoder
        from devices.idcard.wlt import DECODE_FAILED

        if self._photos is None:
            self._photos = CardPhotoDecoder(self._make_decoder)
        photo = self._photos.decode(card.photo_wlt)
        image, message = None, photo.message
        if photo.bmp:
            image = QImage.fromData(photo.bmp)
            if image.isNull():
                image, message = None, DECODE_FAILED
        self.photo.emit(card, image, message)

    def stop(self) -> None:
        """Ask the loop to end (any thread); cuts the poll wait and any exchange short."""
        self._stop.set()
        with self._lock:
            reader = self._reader
        if reader is not None:
            reader.close()
