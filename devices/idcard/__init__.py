"""The second-generation ID-card reader (二代身份证 GA 467 SAM module) over its serial protocol.

Public API (no Qt):

* :class:`IdCardData` — the fields of a card; :func:`sample_card` / :func:`load_card` for
  synthetic cards in ``sample_cards/``;
* :class:`SamReader` — the driver (one exchange per command, pyserial);
* :class:`CardReader` / :class:`CardEvent` — card life-cycle poller for a worker thread;
* :func:`discover_reader` — find the reader on the serial ports;
* :class:`SimulatedSamModule` — a byte-exact module on a pseudo-terminal;
* :func:`load_wlt_decoder` / :class:`WltDecoder` — optional vendor photo decoder;
  :class:`CardPhotoDecoder` — each card's photo as BMP bytes or the reason it is missing.
"""
from devices.idcard.card_data import (
    CARD_TYPE_LABELS,
    CARD_TYPES,
    IdCardData,
    load_card,
    parse_card_text,
    sample_card,
    sample_card_names,
)
from devices.idcard.errors import (
    CardDataError,
    FrameChecksumError,
    FrameError,
    FrameLengthError,
    IdCardError,
    ReaderBusyError,
    ReaderConnectionError,
    ReaderTimeoutError,
    SamStatusError,
)
from devices.idcard.discovery import DiscoveryResult, ReaderLocation, discover_reader
from devices.idcard.poller import CardEvent, CardEventKind, CardReader
from devices.idcard.sam import SamReader
from devices.idcard.simulator import Fault, SimulatedSamModule
from devices.idcard.wlt import CardPhoto, CardPhotoDecoder, WltDecoder, load_wlt_decoder

__all__ = [
    "CARD_TYPES",
    "CARD_TYPE_LABELS",
    "CardDataError",
    "CardEvent",
    "CardEventKind",
    "CardReader",
    "DiscoveryResult",
    "Fault",
    "FrameChecksumError",
    "FrameError",
    "FrameLengthError",
    "IdCardData",
    "IdCardError",
    "ReaderBusyError",
    "ReaderConnectionError",
    "ReaderLocation",
    "ReaderTimeoutError",
    "SamReader",
    "SamStatusError",
    "SimulatedSamModule",
    "WltDecoder",
    "discover_reader",
    "load_card",
    "load_wlt_decoder",
    "CardPhoto",
    "CardPhotoDecoder",
    "parse_card_text",
    "sample_card",
    "sample_card_names",
]
