"""Decoding the card photo (WLT, 1024 bytes) through a vendor library, when one is installed.

The WLT format is proprietary: only licensed vendor libraries decode it into a 102×126
24-bit bitmap.  This module binds the two calling conventions those libraries use, through
ctypes, and reports "not available" when no library is configured or found — it never
pretends to decode.  The application then uses the photo taken with the camera.

* buffer API (``libwlt.so`` and similar): ``int unpack(char *wlt, char *bmp, int save_bmp)``
  fills a 38862-byte buffer with a complete BMP file (54-byte header + 126 rows of 308 bytes)
  and returns 1 on success;
* file API (``WltRS.dll``): ``int GetBmp(char *wlt_path, int port_type)`` reads ``x.wlt`` and
  writes ``x.bmp`` next to it, returning 1 on success.

Configure the library with ``COUNTER_APP_WLT_LIBRARY=/path/to/libwlt.so`` or pass the path.
Thread contract: decoders hold no state between calls, but vendor libraries are not known to
be thread-safe, so calls are serialised with a lock.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import tempfile
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol, runtime_checkable

from devices.idcard.card_data import PHOTO_SIZE
from devices.threads import OneThread

log = logging.getLogger(__name__)

ENV_LIBRARY = "COUNTER_APP_WLT_LIBRARY"
BMP_SIZE = 38862  # 54 + 126 * 308
KNOWN_LIBRARIES = ("libwlt.so", "libwlt2bmp.so", "WltRS.dll", "termb.dll")
DECODE_FAILED = "证件照片解码失败，请使用现场拍照"


@runtime_checkable
class WltDecoder(Protocol):
    """Turns the raw card photo into an image file's bytes (BMP), or ``None`` when it cannot."""

    name: str

    @property
    def available(self) -> bool: ...

    @property
    def status_message(self) -> str: ...

    def decode(self, wlt: bytes) -> bytes | None: ...


class UnavailableWltDecoder:
    """No vendor library: every decode answers ``None`` and the message says why."""

    name = "none"

    def __init__(self, reason: str = ""):
        self._reason = reason or "未安装身份证照片解码库，证件照片无法显示，请使用现场拍照"

    @property
    def available(self) -> bool:
        return False

    @property
    def status_message(self) -> str:
        return self._reason

    def decode(self, wlt: bytes) -> bytes | None:
        return None


class CtypesWltDecoder:
    """Calls a vendor library loaded with ctypes (``library`` is a ``ctypes.CDLL``-like object)."""

    def __init__(self, library: Any, name: str = ""):
        self._lib = library
        self.name = name or getattr(library, "_name", "wlt")
        self._lock = threading.Lock()
        self._unpack = _function(library, "unpack")
        self._get_bmp = None if self._unpack is not None else _function(library, "GetBmp")
        if self._unpack is not None:
            self._unpack.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int)
            self._unpack.restype = ctypes.c_int
        elif self._get_bmp is not None:
            self._get_bmp.argtypes = (ctypes.c_char_p, ctypes.c_int)
            self._get_bmp.restype = ctypes.c_int

    @property
    def available(self) -> bool:
        return self._unpack is not None or self._get_bmp is not None

    @property
    def status_message(self) -> str:
        if self.available:
            return f"照片解码库已加载：{self.name}"
        return f"照片解码库 {self.name} 中没有可用的解码函数（unpack 或 GetBmp），请使用现场拍照"

    def decode(self, wlt: bytes) -> bytes | None:
        """BMP file bytes, or ``None`` when the library refuses the data or is unusable."""
        if len(wlt) != PHOTO_SIZE or not self.available:
            return None
        with self._lock:
            if self._unpack is not None:
                out = ctypes.create_string_buffer(BMP_SIZE)
                if self._unpack(bytes(wlt), out, 1) != 1:
                    return None
                bmp = out.raw
                return bmp if bmp[:2] == b"BM" else None
            return self._decode_via_files(wlt)

    def _decode_via_files(self, wlt: bytes) -> bytes | None:
        with tempfile.TemporaryDirectory(prefix="wlt-") as tmp:
            source = Path(tmp) / "photo.wlt"
            source.write_bytes(wlt)
            # Port type 2 = USB in the vendor API; it only matters for licence checks.
            if self._get_bmp(os.fsencode(source), 2) != 1:
                return None
            target = source.with_suffix(".bmp")
            if not target.is_file():
                return None
            bmp = target.read_bytes()
            return bmp if bmp[:2] == b"BM" else None


def _function(library: Any, name: str):
    try:
        return getattr(library, name)
    except AttributeError:
        return None


def _find_library() -> str | None:
    found = ctypes.util.find_library("wlt")
    if found:
        return found
    for name in KNOWN_LIBRARIES:
        for folder in (Path.cwd(), Path(__file__).resolve().parent):
            candidate = folder / name
            if candidate.is_file():
                return str(candidate)
    return None


def load_wlt_decoder(path: str | os.PathLike | None = None) -> WltDecoder:
    """The decoder for the configured (or found) vendor library, or an unavailable one."""
    configured = path is not None or bool(os.environ.get(ENV_LIBRARY))
    target = str(path) if path is not None else (os.environ.get(ENV_LIBRARY) or _find_library())
    if not target:
        return UnavailableWltDecoder()
    if configured and not Path(target).exists():
        return UnavailableWltDecoder(f"找不到配置的照片解码库 {target}，请检查设置；现在使用现场拍照")
    loader = getattr(ctypes, "WinDLL", ctypes.CDLL) if os.name == "nt" else ctypes.CDLL
    try:
        library = loader(target)
    except OSError as exc:
        return UnavailableWltDecoder(f"无法加载照片解码库 {target}（{exc}），请使用现场拍照")
    decoder = CtypesWltDecoder(library, name=Path(target).name)
    if not decoder.available:
        return UnavailableWltDecoder(decoder.status_message)
    return decoder


@dataclass(frozen=True)
class CardPhoto:
    """A card's photo as an image file's bytes (BMP), or None with the reason for the clerk."""

    bmp: bytes | None
    message: str = ""


class CardPhotoDecoder:
    """Decodes the photo of each card read, with the vendor library loaded on first use.

    Thread contract: one per reader thread, used from that thread only (vendor libraries are not
    known to be thread-safe; the first call loads the library on the thread that will use it).
    """

    def __init__(self, load: Callable[[], WltDecoder] | None = None):
        self._load = load or load_wlt_decoder  # e.g. the SDT library's own decoder
        self._decoder: WltDecoder | None = None
        self._thread = OneThread("CardPhotoDecoder")

    def decode(self, photo_wlt: bytes) -> CardPhoto:
        self._thread.check()
        if self._decoder is None:
            self._decoder = self._load()
        if not self._decoder.available:
            return CardPhoto(None, self._decoder.status_message)
        if not photo_wlt:
            return CardPhoto(None, "")
        try:
            bmp = self._decoder.decode(photo_wlt)
        except Exception:  # a vendor library failing must not take the reader down
            log.exception("WLT decoder failed")
            bmp = None
        return CardPhoto(bmp, "" if bmp else DECODE_FAILED)
