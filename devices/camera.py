"""Cameras: a webcam or document camera through OpenCV, a simulated camera that replays
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

import abc
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

import cv2
import numpy as np

from devices.base import DeviceInfo, DeviceState

log = logging.getLogger(__name__)

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


# --------------------------------------------------------------------------- OpenCV camera

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


# --------------------------------------------------------------------------- simulated camera

class SimulatedCamera(Camera):
    """Replays pictures or a video file as a camera, paced at ``fps``.

    ``media`` is a video file path, or a sequence of image paths and/or BGR arrays (shown in
    turn, looping). Frames are fitted into the requested resolution without distortion, the
    rest filled with a wall grey, as a camera pointed at a printed portrait would show.

    :meth:`unplug` and :meth:`plug_in` simulate the USB cable: while unplugged, ``read``
    returns ``None`` and ``open`` raises :class:`CameraError`, exactly what
    :class:`CaptureWorker` sees from a real camera. They may be called from any thread.
    """

    def __init__(self, media: str | Path | Sequence[str | Path | np.ndarray], fps: float = 15.0,
                 loop: bool = True, fill_bgr: tuple[int, int, int] = (150, 150, 150)) -> None:
        self._media = media
        self.fps = float(fps)
        self.loop = loop
        self.fill = fill_bgr
        self.name = "模拟摄像头"
        self._plugged = threading.Event()
        self._plugged.set()
        self._frames: list[np.ndarray] = []
        self._video: cv2.VideoCapture | None = None
        self._index = 0
        self._resolution: Resolution | None = None
        self._next_due = 0.0
        self._open = False
        self.frames_served = 0

    # the cable ---------------------------------------------------------------------------
    def unplug(self) -> None:
        self._plugged.clear()

    def plug_in(self) -> None:
        self._plugged.set()

    @property
    def plugged(self) -> bool:
        return self._plugged.is_set()

    # Camera -------------------------------------------------------------------------------
    def open(self, source: Source = 0, resolution: Resolution | None = None) -> None:
        self.close()
        if not self._plugged.is_set():
            raise CameraError("模拟摄像头已断开：请检查摄像头连接")
        media = self._media
        if isinstance(media, (str, Path)) and Path(media).suffix.lower() in VIDEO_SUFFIXES:
            video = cv2.VideoCapture(str(media))
            ok, first = video.read() if video.isOpened() else (False, None)
            if not ok:
                video.release()
                raise CameraError(f"无法播放视频文件 {Path(media).name}：文件损坏或格式不支持")
            video.set(cv2.CAP_PROP_POS_FRAMES, 0)
            self._video = video
            native = (first.shape[1], first.shape[0])
        else:
            items = [media] if isinstance(media, (str, Path, np.ndarray)) else list(media)
            frames = []
            for item in items:
                img = item if isinstance(item, np.ndarray) else _read_image(Path(item))
                if img.ndim == 2:
                    img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
                frames.append(img)
            if not frames:
                raise CameraError("模拟摄像头没有可播放的图像")
            native = (frames[0].shape[1], frames[0].shape[0])
            self._frames = frames
        self._resolution = (int(resolution[0]), int(resolution[1])) if resolution else native
        if resolution:
            self._frames = [self._fit(f) for f in self._frames]
        self._index = 0
        self._next_due = time.monotonic()
        self._open = True

    def read(self) -> np.ndarray | None:
        if not self._open or not self._plugged.is_set():
            return None
        # pace like a real sensor: a frame every 1/fps seconds, never a busy loop
        now = time.monotonic()
        if self._next_due > now:
            time.sleep(self._next_due - now)
        self._next_due = max(self._next_due + 1.0 / self.fps, time.monotonic() - 1.0 / self.fps)
        if not self._plugged.is_set():
            return None
        if self._video is not None:
            ok, frame = self._video.read()
            if not ok and self.loop:
                self._video.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, frame = self._video.read()
            if not ok:
                return None
            frame = self._fit(frame)
        else:
            if self._index >= len(self._frames):
                if not self.loop:
                    return None
                self._index = 0
            frame = self._frames[self._index].copy()
            self._index += 1
        self.frames_served += 1
        return frame

    def close(self) -> None:
        if self._video is not None:
            self._video.release()
        self._video = None
        self._open = False

    @property
    def is_open(self) -> bool:
        return self._open

    @property
    def resolution(self) -> Resolution | None:
        return self._resolution

    def _fit(self, img: np.ndarray) -> np.ndarray:
        if self._resolution is None:
            return img
        W, H = self._resolution
        h, w = img.shape[:2]
        if (w, h) == (W, H):
            return img
        k = min(W / w, H / h)
        nw, nh = max(1, int(round(w * k))), max(1, int(round(h * k)))
        small = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)
        out = np.empty((H, W, 3), np.uint8)
        out[:] = self.fill
        x0, y0 = (W - nw) // 2, (H - nh) // 2
        out[y0:y0 + nh, x0:x0 + nw] = small
        return out


def _read_image(path: Path) -> np.ndarray:
    # cv2.imread cannot open non-ASCII paths on Windows; decoding the bytes can.
    try:
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError:
        raise CameraError(f"找不到图像文件 {path.name}") from None
    img = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if img is None:
        raise CameraError(f"无法读取图像文件 {path.name}：文件损坏或不是图片")
    return img


# --------------------------------------------------------------------------- enumeration

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


# --------------------------------------------------------------------------- capture worker

@dataclass(frozen=True)
class CapturedFrame:
    image: np.ndarray
    seq: int            # 1, 2, 3 … per worker
    timestamp: float    # time.monotonic() when read


class CaptureWorker:
    """Grabs frames on its own thread; see the module docstring for the thread contract.

    ``camera_factory`` is called (on the worker thread) for every (re)connection attempt, so
    a fresh driver object replaces one that died with the device. Passing a :class:`Camera`
    instance reuses it.
    """

    def __init__(self, camera: Camera | Callable[[], Camera], source: Source = 0,
                 resolution: Resolution | None = (1280, 720),
                 on_frame: Callable[[CapturedFrame], None] | None = None,
                 on_state: Callable[[DeviceState, str], None] | None = None,
                 failures_before_reconnect: int = 5, backoff_initial: float = 0.25,
                 backoff_max: float = 5.0, name: str = "camera-capture") -> None:
        self._factory = camera if callable(camera) and not isinstance(camera, Camera) else (lambda: camera)
        self.source = source
        self.resolution_request = resolution
        self._on_frame = on_frame
        self._on_state = on_state
        self.failures_before_reconnect = failures_before_reconnect
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self._name = name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._cond = threading.Condition()
        self._latest: CapturedFrame | None = None
        self._consumer_ready = True
        self._state = DeviceState.NOT_CONNECTED
        self._state_message = "摄像头未启动"
        self._camera: Camera | None = None
        self.resolution: Resolution | None = None
        self.frames_read = 0
        self.frames_delivered = 0
        self.frames_dropped = 0
        self.reconnects = 0

    # --- control (any thread) ------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> bool:
        """Ask the thread to end and wait; True when it ended within ``timeout``."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        thread = self._thread
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def state(self) -> DeviceState:
        return self._state

    @property
    def state_message(self) -> str:
        return self._state_message

    def frame_done(self) -> None:
        """The consumer has finished with the last frame handed to ``on_frame``."""
        with self._cond:
            self._consumer_ready = True

    def latest(self) -> CapturedFrame | None:
        with self._cond:
            return self._latest

    def wait_for_frame(self, after_seq: int = 0, timeout: float | None = None) -> CapturedFrame | None:
        """Block until a frame newer than ``after_seq`` exists (or timeout / stop)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self._stop.is_set() and (self._latest is None or self._latest.seq <= after_seq):
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    break
                self._cond.wait(remaining)
            latest = self._latest
        return latest if latest is not None and latest.seq > after_seq else None

    def wait_for_state(self, state: DeviceState, timeout: float) -> bool:
        """Block until the worker reports ``state`` (for tests and the CLI)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._state is not state:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._stop.is_set():
                    return self._state is state
                self._cond.wait(remaining)
        return True

    # --- the worker thread ------------------------------------------------------------------
    def _set_state(self, state: DeviceState, message: str) -> None:
        with self._cond:
            changed = state is not self._state
            self._state, self._state_message = state, message
            self._cond.notify_all()
        if changed and self._on_state is not None:
            try:
                self._on_state(state, message)
            except Exception:  # a consumer bug must not kill the capture thread
                log.exception("camera on_state callback failed")

    def _run(self) -> None:
        backoff = self.backoff_initial
        try:
            while not self._stop.is_set():
                camera = self._connect()
                if camera is None:
                    self._stop.wait(backoff)
                    backoff = min(self.backoff_max, backoff * 2)
                    continue
                backoff = self.backoff_initial
                self._stream(camera)
                camera.close()
                self._camera = None
        finally:
            if self._camera is not None:
                self._camera.close()
                self._camera = None
            self._set_state(DeviceState.NOT_CONNECTED, "摄像头已停止")

    def _connect(self) -> Camera | None:
        try:
            camera = self._factory()
            camera.open(self.source, self.resolution_request)
        except CameraError as exc:
            self._set_state(DeviceState.NOT_CONNECTED, exc.message)
            return None
        except Exception as exc:  # a driver raising something unexpected: report, keep retrying
            log.warning("camera open failed: %s", type(exc).__name__)
            self._set_state(DeviceState.ERROR, f"摄像头故障：{exc}")
            return None
        self._camera = camera
        self.resolution = camera.resolution
        if self.frames_read:
            self.reconnects += 1
        w, h = self.resolution or (0, 0)
        self._set_state(DeviceState.READY, f"{camera.name} 已连接（{w}×{h}）")
        return camera

    def _stream(self, camera: Camera) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                image = camera.read()
            except Exception as exc:
                log.warning("camera read failed: %s", type(exc).__name__)
                image = None
            if image is None:
                failures += 1
                if failures >= self.failures_before_reconnect:
                    self._set_state(DeviceState.NOT_CONNECTED, "摄像头已断开，正在重新连接……")
                    return
                self._stop.wait(0.02)  # a failed read can return at once; don't spin
                continue
            failures = 0
            self.frames_read += 1
            frame = CapturedFrame(image, self.frames_read, time.monotonic())
            deliver = None
            with self._cond:
                self._latest = frame
                if self._on_frame is not None:
                    if self._consumer_ready:
                        self._consumer_ready = False
                        deliver = frame
                    else:
                        # the consumer is still busy with an older frame: this one is only
                        # kept as `latest` and the next fresh frame goes out instead
                        self.frames_dropped += 1
                self._cond.notify_all()
            if deliver is not None:
                self.frames_delivered += 1
                try:
                    self._on_frame(deliver)
                except Exception:
                    log.exception("camera on_frame callback failed")
                    self.frame_done()


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
