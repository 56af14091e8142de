"""The WLT photo decoder binding: 'not available' without a vendor library, and the ctypes
calling conventions exercised through real C function pointers standing in for the vendor
library (the test checks our marshalling, not any decoding)."""
from __future__ import annotations

import ctypes
import ctypes.util
import struct
from pathlib import Path

import pytest

from devices.idcard.card_data import sample_card
from devices.idcard.wlt import BMP_SIZE, CtypesWltDecoder, UnavailableWltDecoder, WltDecoder, load_wlt_decoder

from tests.devices.conftest import has_chinese


def bmp_header() -> bytes:
    # BITMAPFILEHEADER + BITMAPINFOHEADER for 102 x 126, 24-bit, rows padded to 308 bytes
    return (b"BM" + struct.pack("<IHHI", BMP_SIZE, 0, 0, 54)
            + struct.pack("<IiiHHIIiiII", 40, 102, 126, 1, 24, 0, BMP_SIZE - 54, 0, 0, 0, 0))


class VendorStandIn:
    """Exposes C function pointers under the vendor symbol names."""


def test_without_a_library_decoding_is_not_available():
    decoder = load_wlt_decoder()
    assert isinstance(decoder, WltDecoder)
    assert decoder.available is False
    assert decoder.decode(sample_card("resident_xinxiang").photo_wlt) is None
    assert "现场拍照" in decoder.status_message


def test_configured_library_that_does_not_exist(tmp_path, monkeypatch):
    monkeypatch.setenv("COUNTER_APP_WLT_LIBRARY", str(tmp_path / "libwlt.so"))
    decoder = load_wlt_decoder()
    assert not decoder.available and "找不到" in decoder.status_message and "libwlt.so" in decoder.status_message


def test_library_without_decode_functions_is_refused():
    libm = ctypes.util.find_library("m") or "libm.so.6"
    decoder = load_wlt_decoder(libm if Path(libm).exists() else _resolve(libm))
    assert isinstance(decoder, UnavailableWltDecoder)
    assert "没有可用的解码函数" in decoder.status_message


def _resolve(name: str) -> str:
    for folder in ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"):
        if (Path(folder) / name).exists():
            return str(Path(folder) / name)
    pytest.fail(f"{name} not found on this system")


def test_file_that_is_not_a_library(tmp_path):
    bogus = tmp_path / "libwlt.so"
    bogus.write_bytes(b"not an ELF file")
    decoder = load_wlt_decoder(bogus)
    assert not decoder.available and "无法加载" in decoder.status_message and has_chinese(decoder.status_message)


def test_buffer_api_passes_the_photo_and_returns_the_bitmap():
    seen = {}

    @ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int)
    def unpack(src, dst, save_bmp):
        seen["src"], seen["save_bmp"] = ctypes.string_at(src, 1024), save_bmp
        image = bmp_header() + bytes(BMP_SIZE - 54)
        ctypes.memmove(dst, image, len(image))
        return 1

    lib = VendorStandIn()
    lib.unpack = unpack
    photo = sample_card("resident_xinxiang").photo_wlt
    decoder = CtypesWltDecoder(lib, "libwlt.so")
    bmp = decoder.decode(photo)
    assert seen == {"src": photo, "save_bmp": 1}
    assert len(bmp) == BMP_SIZE and bmp.startswith(bmp_header())
    assert decoder.available and "libwlt.so" in decoder.status_message


def test_buffer_api_failure_gives_none():
    @ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int)
    def unpack(src, dst, save_bmp):
        return -1

    lib = VendorStandIn()
    lib.unpack = unpack
    decoder = CtypesWltDecoder(lib)
    assert decoder.decode(bytes(1024)) is None
    assert decoder.decode(bytes(1000)) is None  # not a WLT photo at all


def test_file_api_writes_next_to_the_wlt_file():
    seen = {}

    @ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_char_p, ctypes.c_int)
    def get_bmp(path, port_type):
        source = Path(path.decode())
        seen["wlt"], seen["port_type"] = source.read_bytes(), port_type
        source.with_suffix(".bmp").write_bytes(bmp_header() + bytes(BMP_SIZE - 54))
        return 1

    lib = VendorStandIn()
    lib.GetBmp = get_bmp
    photo = sample_card("hmt_residence").photo_wlt
    bmp = CtypesWltDecoder(lib, "WltRS.dll").decode(photo)
    assert seen == {"wlt": photo, "port_type": 2}
    assert bmp is not None and bmp.startswith(b"BM") and len(bmp) == BMP_SIZE


def test_card_photo_decoder_gives_bmp_bytes_or_the_reason(monkeypatch):
    from devices.idcard.wlt import DECODE_FAILED, CardPhotoDecoder

    monkeypatch.delenv("COUNTER_APP_WLT_LIBRARY", raising=False)
    monkeypatch.setattr("devices.idcard.wlt._find_library", lambda: None)
    missing = CardPhotoDecoder().decode(sample_card("resident_xinxiang").photo_wlt)
    assert missing.bmp is None and has_chinese(missing.message)

    @ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int)
    def failing(src, dst, save_bmp):
        return 0

    lib = VendorStandIn()
    lib.unpack = failing
    photos = CardPhotoDecoder()
    photos._decoder = CtypesWltDecoder(lib, "libwlt.so")
    assert photos.decode(sample_card("resident_xinxiang").photo_wlt).message == DECODE_FAILED


def test_card_photo_decoder_refuses_a_second_thread():
    import threading

    from devices.idcard.wlt import CardPhotoDecoder

    photos = CardPhotoDecoder()
    photos._decoder = UnavailableWltDecoder()
    photos.decode(b"")
    errors = []
    t = threading.Thread(target=lambda: errors.append(pytest.raises(RuntimeError, photos.decode, b"")))
    t.start()
    t.join()
    assert errors and "one thread" in str(errors[0].value)
