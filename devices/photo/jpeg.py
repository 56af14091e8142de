"""JPEG encoding with the resolution recorded in the JFIF header and a file-size target.

OpenCV's encoder always writes a JFIF APP0 segment with "no units, 1:1"; the card maker reads
the dpi from that segment, so it is rewritten in place to units = dots per inch and the
requested density (JFIF 1.02, ISO/IEC 10918-5 §10.1). The segment keeps its length, so the
rest of the stream is untouched.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

import cv2
import numpy as np


class JpegError(ValueError):
    pass


def set_jfif_density(jpeg: bytes, dpi: int) -> bytes:
    """Return ``jpeg`` with its JFIF APP0 density set to ``dpi`` × ``dpi`` dots per inch.

    An APP0 segment is inserted right after SOI when the stream has none.
    """
    if jpeg[:2] != b"\xff\xd8":
        raise JpegError("not a JPEG stream")
    if not 1 <= dpi <= 0xFFFF:
        raise JpegError("dpi out of range")
    if jpeg[2:4] == b"\xff\xe0" and jpeg[6:11] == b"JFIF\x00":
        # FFE0 | length(2) | 'JFIF\0' | version(2) | units(1) | Xdensity(2) | Ydensity(2) | ...
        head = bytearray(jpeg[:20])
        head[13] = 1
        head[14:18] = struct.pack(">HH", dpi, dpi)
        return bytes(head) + jpeg[20:]
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00" + b"\x01\x02" + bytes([1]) + struct.pack(">HHBB", dpi, dpi, 0, 0)
    return jpeg[:2] + app0 + jpeg[2:]


def read_jfif_density(jpeg: bytes) -> tuple[int, int, int] | None:
    """(units, x_density, y_density) from the JFIF APP0 segment, or ``None``."""
    if jpeg[:2] != b"\xff\xd8" or jpeg[2:4] != b"\xff\xe0" or jpeg[6:11] != b"JFIF\x00":
        return None
    units = jpeg[13]
    x, y = struct.unpack(">HH", jpeg[14:18])
    return units, x, y


def encode(image: np.ndarray, quality: int, dpi: int | None = None) -> bytes:
    """Baseline JPEG (4:2:0 for colour) of a BGR or grey image."""
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality),
                                           cv2.IMWRITE_JPEG_OPTIMIZE, 1])
    if not ok:  # pragma: no cover - OpenCV failed on a valid array
        raise JpegError("JPEG encoding failed")
    data = buf.tobytes()
    return set_jfif_density(data, dpi) if dpi else data


@dataclass(frozen=True)
class SizedJpeg:
    data: bytes
    quality: int
    in_band: bool


def encode_in_band(image: np.ndarray, min_bytes: int, max_bytes: int, start_quality: int,
                   quality_min: int, quality_max: int, dpi: int | None = None) -> SizedJpeg:
    """Encode at ``start_quality``; when the file falls outside [min_bytes, max_bytes], search
    the quality range for the setting closest to ``start_quality`` that lands inside.

    The size grows monotonically with quality for a given image, so a bisection suffices.
    ``in_band`` is False when even the range ends miss the band (a nearly empty image is
    too small at any quality); the closest attempt is returned.
    """
    def size_at(q: int) -> bytes:
        return encode(image, q, dpi)

    first = size_at(start_quality)
    if min_bytes <= len(first) <= max_bytes:
        return SizedJpeg(first, start_quality, True)
    if len(first) > max_bytes:
        lo, hi = quality_min, start_quality - 1   # find the highest q with size <= max
        best = None
        while lo <= hi:
            mid = (lo + hi) // 2
            data = size_at(mid)
            if len(data) <= max_bytes:
                best = (mid, data)
                lo = mid + 1
            else:
                hi = mid - 1
        if best is None:
            data = size_at(quality_min)
            return SizedJpeg(data, quality_min, False)
        q, data = best
        return SizedJpeg(data, q, len(data) >= min_bytes)
    lo, hi = start_quality + 1, quality_max           # find the lowest q with size >= min
    best = None
    while lo <= hi:
        mid = (lo + hi) // 2
        data = size_at(mid)
        if len(data) >= min_bytes:
            best = (mid, data)
            hi = mid - 1
        else:
            lo = mid + 1
    if best is None:
        data = size_at(quality_max)
        return SizedJpeg(data, quality_max, False)
    q, data = best
    return SizedJpeg(data, q, len(data) <= max_bytes)
