"""The camera interface every camera speaks (``open`` / ``read`` / ``close``), and its error.

A camera is **not** thread-safe: one thread owns it, normally the capture worker's
(``devices.camera.capture``).
"""
from __future__ import annotations

import abc
from pathlib import Path

import numpy as np


Resolution = tuple[int, int]
Source = int | str | Path

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}
VIDEO_SUFFIXES = {".avi", ".mp4", ".mkv", ".mov", ".m4v", ".webm", ".mjpg", ".mjpeg"}


class CameraError(Exception):
    """A camera problem the clerk can act on; ``message`` is Chinese."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Camera(abc.ABC):
    """One video source. Not thread-safe: open, read and close it from one thread."""

    name: str = "摄像头"

    @abc.abstractmethod
    def open(self, source: Source, resolution: Resolution | None = None) -> None:
        """Open ``source`` (a device index, a device path or a file), asking for
        ``resolution`` (width, height). Raises :class:`CameraError` when it cannot."""

    @abc.abstractmethod
    def read(self) -> np.ndarray | None:
        """The next frame as a BGR ``uint8`` array the caller owns, or ``None`` when the
        camera gave none (timeout, unplugged, end of a non-looping file)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the device; safe to call twice."""

    @property
    @abc.abstractmethod
    def is_open(self) -> bool: ...

    @property
    @abc.abstractmethod
    def resolution(self) -> Resolution | None:
        """The negotiated (width, height), known after ``open``."""

    def __enter__(self) -> "Camera":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
