"""Cameras, one shape per device kind: ``interface`` (the Camera every camera speaks),
``driver`` (OpenCV, enumeration), ``simulator`` (replayed pictures, the demo portrait),
``capture`` (the capture worker thread), ``cli`` (``counter-app camera …``).

Cameras: a webcam or document camera through OpenCV, a simulated camera that replays
pictures or a video, and a capture worker thread that keeps the newest frame flowing.

The three pieces and their thread contracts:

- :class:`Camera` (``open`` / ``read`` / ``close``) is **not** thread-safe: one thread owns it,
  normally the :class:`CaptureWorker`'s.
- :class:`CaptureWorker` runs the camera on its own named thread. It delivers the newest frame
  to ``on_frame`` *on that thread*, and never more than one frame at a time: after a delivery it
  waits for :meth:`CaptureWorker.frame_done` (callable from any thread) before delivering again,
  replacing the pending frame with each newer one, so a slow consumer sees fresh frames, never
  a queue of stale ones. Consumers that prefer to pull use :meth:`CaptureWorker.latest` or
  :meth:`CaptureWorker.wait_for_frame` from any thread. When the camera stops giving frames
  (unplugged USB cable), the worker closes it, reports ``NOT_CONNECTED`` through ``on_state``
  (also on the worker thread) and reopens it with exponential backoff until it is back.
- :func:`list_cameras` enumerates cameras without opening them where the OS allows it; it
  may block for a second on Windows, so call it off the GUI thread.

A Qt UI wraps ``on_frame`` to emit a signal with a copied ``QImage`` and calls ``frame_done``
from the slot that painted it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from devices.camera.capture import CapturedFrame, CaptureWorker
from devices.camera.driver import OpenCvCamera, _list_v4l2, list_cameras
from devices.camera.interface import IMAGE_SUFFIXES, VIDEO_SUFFIXES, Camera, CameraError, Resolution, Source
from devices.camera.simulator import DemoCamera, SimulatedCamera, demo_portrait

__all__ = [
    "IMAGE_SUFFIXES", "VIDEO_SUFFIXES", "Camera", "CameraError", "CapturedFrame", "CaptureWorker", "DemoCamera",
    "OpenCvCamera", "Resolution", "SimulatedCamera", "Source", "_list_v4l2", "demo_portrait", "list_cameras",
    "open_camera",
]


def open_camera(source: Source, resolution: Resolution | None = None, fps: float = 15.0) -> Camera:
    """Open a source given as the user typed it: a digit is a device index, a video or
    picture file is simulated, a folder replays its pictures in name order."""
    if isinstance(source, str) and source.isdigit():
        source = int(source)
    if isinstance(source, int):
        cam: Camera = OpenCvCamera()
        cam.open(source, resolution)
        return cam
    path = Path(source)
    if path.is_dir():
        files: Iterable[Path] = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        cam = SimulatedCamera(list(files), fps=fps)
    elif path.exists():
        cam = SimulatedCamera(path if path.suffix.lower() in VIDEO_SUFFIXES else [path], fps=fps)
    else:
        raise CameraError(f"找不到摄像头或文件：{source}")
    cam.open(0, resolution)
    return cam
