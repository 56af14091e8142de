"""A simulated camera: replays pictures or a video through the same interface as a real one,
so the capture worker, the live checks and the photo pipeline run their real code in the demo
and in tests. The demo's picture (:func:`demo_portrait`) and the demo camera live here too.
"""
from __future__ import annotations

import importlib.util
import logging
import threading
import time
from pathlib import Path
from typing import Any, Sequence

import cv2
import numpy as np

from devices.camera.interface import VIDEO_SUFFIXES, Camera, CameraError, Resolution, Source

log = logging.getLogger(__name__)

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


# The astronaut's face sits at (175, 67, 96, 96) in scikit-image's 512×512 picture; this 4:3 crop
# frames her as a counter camera frames an applicant (face about a quarter of the width, eyes a
# little above the middle), which the live guidance accepts.
_ASTRONAUT_CROP = (43, 0, 360, 270)   # x, y, width, height


def demo_portrait() -> np.ndarray:
    """The demo camera's picture (BGR): scikit-image's astronaut photograph, cropped as a portrait.

    The PNG is read straight from scikit-image's bundled data with OpenCV: importing scikit-image
    itself would add ~100 MB to the GUI process for one picture.
    """
    spec = importlib.util.find_spec("skimage")
    img = None
    if spec is not None and spec.submodule_search_locations:
        path = Path(list(spec.submodule_search_locations)[0]) / "data" / "astronaut.png"
        if path.is_file():
            img = cv2.imdecode(np.fromfile(str(path), dtype=np.uint8), cv2.IMREAD_COLOR)
    if img is None:  # an unusual install layout: ask scikit-image itself
        from skimage import data

        img = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    x, y, w, h = _ASTRONAUT_CROP
    return np.ascontiguousarray(img[y:y + h, x:x + w])


class DemoCamera:
    """The demo's camera: opens a :class:`SimulatedCamera` replaying ``portrait`` (a BGR array or a
    picture file; default :func:`demo_portrait`, read in the background because its image
    library is a heavy import, so the first photo step does not wait)."""

    def __init__(self, portrait: Any = None):
        self._portrait = portrait
        if portrait is None:
            threading.Thread(target=self._load, name="demo-portrait", daemon=True).start()

    def _load(self) -> None:
        try:
            self._portrait = demo_portrait()
        except Exception:  # the camera reports it when it opens
            log.warning("demo portrait unavailable", exc_info=True)

    def ready(self) -> bool:
        return self._portrait is not None

    def open(self) -> SimulatedCamera:
        portrait = self._portrait
        if portrait is None:
            portrait = demo_portrait()
        media = [portrait] if isinstance(portrait, np.ndarray) else [Path(portrait)]
        return SimulatedCamera(media, fps=15.0)
