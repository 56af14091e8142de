"""The capture worker: runs one camera on its own named thread and keeps the newest frame flowing.

It delivers the newest frame to ``on_frame`` *on that thread*, and never more than one frame at a
time: after a delivery it waits for :meth:`CaptureWorker.frame_done` (callable from any thread)
before delivering again, replacing the pending frame with each newer one, so a slow consumer sees
fresh frames, never a queue of stale ones. Consumers that prefer to pull use
:meth:`CaptureWorker.latest` or :meth:`CaptureWorker.wait_for_frame` from any thread. When the
camera stops giving frames (unplugged USB cable), the worker closes it, reports ``NOT_CONNECTED``
through ``on_state`` (also on the worker thread) and reopens it with exponential backoff.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from devices.base import DeviceState
from devices.camera.interface import Camera, CameraError, Resolution, Source

log = logging.getLogger(__name__)

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
