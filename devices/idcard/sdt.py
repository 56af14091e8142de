"""ID-card readers behind the Ministry's standard SDT API (``sdtapi.dll`` / ``libsdtapi.so``), via ctypes.

Most USB readers at Chinese counters come with a vendor library implementing this API rather than
exposing the GA 467 serial protocol. :class:`SdtReader` offers the methods of
:class:`~devices.idcard.sam.SamReader` (``sam_status``, ``sam_id``, ``find_card``, ``select_card``,
``read_base``, ``read_new_address``, ``read_card``, ``close``, ``cancel``), so
:class:`~devices.idcard.poller.CardReader` polls either at the same pace, with the same "same card
still present" logic and the same events; the 256-byte text and the 1024-byte photo the library
hands back are the very blocks the serial driver parses (:func:`parse_card_text`).

The API (cdecl on Linux, stdcall on Windows)::

    int SDT_OpenPort(int iPort);              /* 1-16 serial, 1001-1016 USB; 0x90 = success */
    int SDT_ClosePort(int iPort);
    int SDT_GetSAMStatus(int iPort, int iIfOpen);
    int SDT_StartFindIDCard(int iPort, unsigned char *pucManaInfo, int iIfOpen);   /* 0x9F found */
    int SDT_SelectIDCard(int iPort, unsigned char *pucManaMsg, int iIfOpen);
    int SDT_ReadBaseMsg(int iPort, unsigned char *pucCHMsg, unsigned int *puiCHMsgLen,
                        unsigned char *pucPHMsg, unsigned int *puiPHMsgLen, int iIfOpen);
    int SDT_ReadNewAppMsg(int iPort, unsigned char *pucAppMsg, unsigned int *puiAppMsgLen, int iIfOpen);
    int SDT_GetSAMIDToStr(int iPort, char *pcSAMID, int iIfOpen);                  /* optional */

Return codes are the SAM status bytes of :mod:`devices.idcard.status` plus the library's own
0x01 (port cannot be opened / not open), 0x02 (no answer in time) and 0x03 (transfer error).
When the library also exports a WLT photo decoder (``unpack`` or ``GetBmp``, as several vendors'
libraries do), :func:`photo_decoder` returns it.

Thread contract: like ``SamReader``, one thread owns a reader. Vendor libraries keep global state,
so every call into a library goes through one process-wide lock.
"""
from __future__ import annotations

import ctypes
import logging
import os
import threading
from pathlib import Path

from devices.idcard import status as sam_status
from devices.idcard.card_data import PHOTO_SIZE, TEXT_SIZE, IdCardData, parse_card_text
from devices.idcard.errors import (
    CardDataError,
    FrameError,
    ReaderConnectionError,
    ReaderTimeoutError,
    SamStatusError,
)
from devices.idcard.wlt import CtypesWltDecoder, UnavailableWltDecoder, WltDecoder, load_wlt_decoder

log = logging.getLogger(__name__)

PORT_OPEN_FAILED = 0x01
RECEIVE_TIMEOUT = 0x02
TRANSFER_ERROR = 0x03
USB_PORTS = tuple(range(1001, 1017))
SERIAL_PORTS = tuple(range(1, 17))
PROBE_ORDER = USB_PORTS + SERIAL_PORTS  # USB first: that is what centers buy
NEW_ADDRESS_RECORD = 70                 # bytes per appended-address record (UCS-2)
NEW_ADDRESS_MAX = NEW_ADDRESS_RECORD * 4
LIBRARY_NAMES = ("sdtapi.dll",) if os.name == "nt" else ("libsdtapi.so",)
_LOCK = threading.Lock()

_uintp = ctypes.POINTER(ctypes.c_uint)
_PROTOTYPES = {
    "SDT_OpenPort": (ctypes.c_int,),
    "SDT_ClosePort": (ctypes.c_int,),
    "SDT_GetSAMStatus": (ctypes.c_int, ctypes.c_int),
    "SDT_StartFindIDCard": (ctypes.c_int, ctypes.c_char_p, ctypes.c_int),
    "SDT_SelectIDCard": (ctypes.c_int, ctypes.c_char_p, ctypes.c_int),
    "SDT_ReadBaseMsg": (ctypes.c_int, ctypes.c_char_p, _uintp, ctypes.c_char_p, _uintp, ctypes.c_int),
    "SDT_ReadNewAppMsg": (ctypes.c_int, ctypes.c_char_p, _uintp, ctypes.c_int),
}
_OPTIONAL = {"SDT_GetSAMIDToStr": (ctypes.c_int, ctypes.c_char_p, ctypes.c_int)}


class SdtLibrary:
    """A vendor library loaded with its prototypes declared; :meth:`call` returns the status byte."""

    def __init__(self, path: str | os.PathLike):
        self.path = str(path)
        self.name = Path(self.path).name
        if not Path(self.path).is_file():
            raise ReaderConnectionError(f"找不到身份证读卡器驱动库 {self.path}，请检查设置中的驱动库路径或重新安装读卡器驱动")
        loader = ctypes.WinDLL if os.name == "nt" else ctypes.CDLL  # type: ignore[attr-defined]
        try:
            self._lib = loader(self.path)
        except OSError as exc:
            raise ReaderConnectionError(f"无法加载身份证读卡器驱动库 {self.name}（{exc}），"
                                        "请重新安装读卡器驱动（注意 32/64 位须与本程序一致）") from exc
        missing = [name for name in _PROTOTYPES if not hasattr(self._lib, name)]
        if missing:
            raise ReaderConnectionError(f"{self.name} 不是标准的身份证读卡器接口库（缺少 {'、'.join(missing)}），"
                                        "请确认驱动库文件")
        self._functions = {}
        for name, args in {**_PROTOTYPES, **_OPTIONAL}.items():
            fn = getattr(self._lib, name, None)
            if fn is not None:
                fn.argtypes, fn.restype = args, ctypes.c_int
                self._functions[name] = fn

    def has(self, name: str) -> bool:
        return name in self._functions

    def call(self, name: str, *args) -> int:
        with _LOCK:
            return self._functions[name](*args) & 0xFF

    @property
    def handle(self):
        """The ctypes library object (for the optional photo decoder)."""
        return self._lib


def raise_for_status(code: int, port: int) -> None:
    """The library's return code as the driver's exception (never returns)."""
    if code == PORT_OPEN_FAILED:
        kind = "USB" if port >= 1001 else "串口"
        raise ReaderConnectionError(f"无法打开身份证读卡器（{kind}端口 {port}），请检查读卡器是否插好、驱动是否安装；"
                                    "端口号可在设置中指定（留空自动查找）")
    if code == RECEIVE_TIMEOUT:
        raise ReaderTimeoutError()
    if code == TRANSFER_ERROR:
        raise FrameError("与身份证读卡器之间的数据传输错误，请重新放卡；多次出现请检查连接线")
    raise SamStatusError(code)


class SdtReader:
    """One open port of a reader behind the SDT API (see the module docstring)."""

    def __init__(self, library: SdtLibrary | str | os.PathLike, port: int = USB_PORTS[0]):
        self.lib = library if isinstance(library, SdtLibrary) else SdtLibrary(library)
        self.port = int(port)
        self.port_name = f"SDT {self.port}"
        self._open = False
        code = self.lib.call("SDT_OpenPort", self.port)
        if code != sam_status.SUCCESS:
            raise_for_status(code, self.port)
        self._open = True

    # -------------------------------------------------------------- life cycle
    def close(self) -> None:
        if self._open:
            self._open = False
            self.lib.call("SDT_ClosePort", self.port)

    def cancel(self) -> None:
        """A call into the library cannot be interrupted; it returns within the library's own timeout."""

    @property
    def is_open(self) -> bool:
        return self._open

    def __enter__(self) -> "SdtReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -------------------------------------------------------------- commands
    def _check(self, code: int, ok: tuple[int, ...] = (sam_status.SUCCESS,)) -> int:
        if not self._open:
            raise ReaderConnectionError("身份证读卡器未打开")
        if code not in ok:
            raise_for_status(code, self.port)
        return code

    def reset(self) -> None:
        """The standard API resets the module when the port is opened; nothing to send."""

    def sam_status(self) -> None:
        self._check(self.lib.call("SDT_GetSAMStatus", self.port, 0))

    def sam_id(self) -> str:
        if not self.lib.has("SDT_GetSAMIDToStr"):
            return ""
        buf = ctypes.create_string_buffer(128)
        self._check(self.lib.call("SDT_GetSAMIDToStr", self.port, buf, 0))
        return buf.value.decode("ascii", errors="replace")

    def find_card(self) -> bool:
        buf = ctypes.create_string_buffer(8)
        code = self._check(self.lib.call("SDT_StartFindIDCard", self.port, buf, 0),
                           ok=(sam_status.FIND_CARD_SUCCESS, sam_status.FIND_CARD_FAILED))
        return code == sam_status.FIND_CARD_SUCCESS

    def select_card(self) -> None:
        buf = ctypes.create_string_buffer(16)
        self._check(self.lib.call("SDT_SelectIDCard", self.port, buf, 0))

    def read_base(self) -> IdCardData:
        # Buffers larger than the API's 256/1024 bytes: a library writing a little past them must
        # not corrupt the interpreter's memory.
        text, photo = ctypes.create_string_buffer(TEXT_SIZE * 2), ctypes.create_string_buffer(PHOTO_SIZE * 2)
        text_len, photo_len = ctypes.c_uint(0), ctypes.c_uint(0)
        self._check(self.lib.call("SDT_ReadBaseMsg", self.port, text, ctypes.byref(text_len), photo,
                                  ctypes.byref(photo_len), 0))
        if text_len.value != TEXT_SIZE or photo_len.value not in (0, PHOTO_SIZE):
            raise CardDataError("读卡器返回的身份证数据长度错误，请重新放卡")
        return parse_card_text(text.raw[:TEXT_SIZE], photo.raw[: photo_len.value])

    def read_with_fingerprint(self) -> IdCardData:
        """The standard API reads fingerprints with a separate licence; the base message is what it gives."""
        return self.read_base()

    def read_new_address(self) -> str:
        """The appended address (住址变更), ``""`` when the card has none (0x91)."""
        buf = ctypes.create_string_buffer(NEW_ADDRESS_MAX)
        length = ctypes.c_uint(0)
        code = self._check(self.lib.call("SDT_ReadNewAppMsg", self.port, buf, ctypes.byref(length), 0),
                           ok=(sam_status.SUCCESS, sam_status.NO_CONTENT))
        if code == sam_status.NO_CONTENT:
            return ""
        return buf.raw[: min(length.value, NEW_ADDRESS_MAX)].decode("utf-16-le", errors="replace").strip(" \x00")

    def read_card(self, *, fingerprint: bool = False, new_address: bool = False) -> IdCardData | None:
        """One full cycle: find, select, read. ``None`` when no card is on the reader."""
        if not self.find_card():
            return None
        self.select_card()
        card = self.read_base()
        if new_address and card.card_type == "resident":
            card.new_address = self.read_new_address()
        return card


def probe_port(library: SdtLibrary, ports: tuple[int, ...] = PROBE_ORDER) -> int | None:
    """The first port (USB 1001–1016, then serial 1–16) the library opens, or None."""
    for port in ports:
        if library.call("SDT_OpenPort", port) == sam_status.SUCCESS:
            library.call("SDT_ClosePort", port)
            return port
    return None


def photo_decoder(library: SdtLibrary) -> WltDecoder:
    """The library's own WLT decoder when it has one (``unpack`` / ``GetBmp``), else an unavailable one."""
    decoder = CtypesWltDecoder(library.handle, name=library.name)
    return decoder if decoder.available else UnavailableWltDecoder()


def library_photo_decoder(library_path: str | os.PathLike) -> WltDecoder:
    """The SDT library's own photo decoder, else the configured WLT library's (:func:`load_wlt_decoder`)."""
    try:
        decoder = photo_decoder(SdtLibrary(library_path))
    except ReaderConnectionError:
        decoder = UnavailableWltDecoder()
    return decoder if decoder.available else load_wlt_decoder()


def open_sdt_reader(library_path: str | os.PathLike, port: int | None = None) -> SdtReader:
    """Load the library and open ``port`` (None: probe for it). Raises :class:`ReaderConnectionError`."""
    library = SdtLibrary(library_path)
    if port is None:
        port = probe_port(library)
        if port is None:
            raise ReaderConnectionError(f"通过 {library.name} 未找到身份证读卡器（已尝试 USB 端口 1001–1016 和串口 1–16），"
                                        "请检查读卡器是否插好、驱动是否安装")
    return SdtReader(library, port)


def sdt_card_reader(library_path: str | os.PathLike, port: int | None = None, **kwargs):
    """A :class:`~devices.idcard.poller.CardReader` polling a reader through the SDT library
    (same pace, events and messages as the serial reader). The library is loaded and the port
    opened (or probed) on the first poll and again after the reader was unplugged."""
    from devices.idcard.poller import CardReader

    label = f"SDT {port}" if port else "SDT 自动查找"
    return CardReader(port=label, reader_factory=lambda _port, _baud: open_sdt_reader(library_path, port), **kwargs)
