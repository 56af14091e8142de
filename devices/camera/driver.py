"""Real cameras through OpenCV (``cv2.VideoCapture``), and finding the cameras attached.

:func:`list_cameras` enumerates cameras without opening them where the OS allows it; it may
block for a second on Windows, so call it off the GUI thread.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import cv2
import numpy as np

from devices.base import DeviceInfo, DeviceState
from devices.camera.interface import Camera, CameraError, Resolution, Source

def _default_backend() -> int:
    # Media Foundation (OpenCV's Windows default) takes seconds to open some UVC document
    # cameras and ignores MJPG; DirectShow opens them at once and honours the FOURCC.
    if sys.platform.startswith("win"):
        return cv2.CAP_DSHOW
    if sys.platform.startswith("linux"):
        return cv2.CAP_V4L2
    return cv2.CAP_ANY


class OpenCvCamera(Camera):
    """A real camera through ``cv2.VideoCapture``.

    Resolution negotiation: MJPG is requested first because USB 2.0 cameras deliver 1080p
    only compressed (raw YUYV tops out near 5 fps there); then the size is requested and the
    size of the first real frame is taken as the truth, since drivers silently pick the
    nearest mode they support.
    """

    def __init__(self, backend: int | None = None) -> None:
        self._backend = _default_backend() if backend is None else backend
        self._cap: cv2.VideoCapture | None = None
        self._resolution: Resolution | None = None
        self._first: np.ndarray | None = None
        self.name = "摄像头"

    def open(self, source: Source, resolution: Resolution | None = None) -> None:
        self.close()
        if isinstance(source, Path):
            source = str(source)
        cap = cv2.VideoCapture(source, self._backend) if isinstance(source, int) else cv2.VideoCapture(source)
        if not cap.isOpened():
            cap.release()
            raise CameraError(f"无法打开摄像头 {source}：请检查摄像头连接，或关闭占用摄像头的其他程序")
        if isinstance(source, int):
            cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*"MJPG"))
            cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # newest frame, not one queued seconds ago
        if resolution:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, int(resolution[0]))
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, int(resolution[1]))
        ok, frame = cap.read()
        if not ok or frame is None:
            cap.release()
            raise CameraError(f"摄像头 {source} 没有画面：请检查连接后重试")
        self._cap = cap
        self._first = frame
        self._resolution = (frame.shape[1], frame.shape[0])
        self.name = f"摄像头 {source}"

    def read(self) -> np.ndarray | None:
        if self._cap is None:
            return None
        if self._first is not None:
            frame, self._first = self._first, None
            return frame
        ok, frame = self._cap.read()
        return frame if ok and frame is not None else None

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
        self._cap = None
        self._first = None

    @property
    def is_open(self) -> bool:
        return self._cap is not None

    @property
    def resolution(self) -> Resolution | None:
        return self._resolution


def list_cameras(max_probe: int = 4) -> list[DeviceInfo]:
    """The cameras attached to this computer.

    On Linux the V4L2 nodes are read from sysfs, without opening them (a camera in use by
    the preview stays undisturbed); UVC metadata nodes are skipped. Elsewhere the indices
    0..``max_probe``-1 are probed with a short open. Blocks; call off the GUI thread.
    """
    if sys.platform.startswith("linux"):
        return _list_v4l2(Path("/sys/class/video4linux"))
    found = []
    for index in range(max_probe):
        cap = cv2.VideoCapture(index, _default_backend())
        try:
            if cap.isOpened():
                w = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
                h = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
                found.append(DeviceInfo("camera", f"摄像头 {index}", str(index), DeviceState.READY, "",
                                        {"resolution": f"{w}x{h}"}))
        finally:
            cap.release()
    return found


def _list_v4l2(sysfs: Path) -> list[DeviceInfo]:
    cameras = []
    if not sysfs.is_dir():
        return cameras
    for node in sorted(sysfs.glob("video*"), key=lambda p: int(p.name[5:]) if p.name[5:].isdigit() else 0):
        number = node.name[5:]
        if not number.isdigit():
            continue
        # UVC registers two nodes per camera; the one with index 0 carries the picture
        index_file = node / "index"
        try:
            if index_file.exists() and index_file.read_text().strip() not in ("", "0"):
                continue
            name = (node / "name").read_text(encoding="utf-8", errors="replace").strip() or node.name
        except OSError:
            continue
        dev = Path("/dev") / node.name
        state = DeviceState.READY if os.access(dev, os.R_OK) else DeviceState.ERROR
        error = "" if state is DeviceState.READY else f"没有权限访问 {dev}：请把当前用户加入 video 组"
        cameras.append(DeviceInfo("camera", name, number, state, error, {"device": str(dev)}))
    return cameras
