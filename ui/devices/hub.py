"""The window's devices as Qt signals: ID-card reader, camera with live photo guidance, device states.

``DeviceHub`` owns

* the **ID-card reader**: ``devices.idcard.CardReader`` polled by :class:`CardReaderWorker`, a plain
  ``QObject`` moved to its own ``QThread`` ("idcard-reader"). ``poll_once`` blocks (it keeps the
  ≥300 ms spacing GA 467 modules need, then talks to the module); a ``threading.Event`` stops the
  loop and ``CardReader.close`` cuts a wait short. The card photo (WLT) is decoded on the same
  thread right after a read, when a vendor decoder is installed;
* the **camera**: ``devices.camera.CaptureWorker`` (the capture thread). Its
  ``on_frame`` callback runs on the capture thread, where ``devices.photo.LiveChecker`` judges the
  frame and ``draw_overlay`` draws the guide; the hub then emits a *copied* ``QImage``. The worker
  hands out no new frame until :meth:`DeviceHub.frame_done` is called by the view that painted the
  last one, so the preview never queues stale frames;
* **device states** (``devices.base.DeviceInfo`` rows) for the status bar and the IT screen;
* whatever :class:`devices.device_set.DeviceSet` it is given: real hardware, or in demo mode the
  simulated SAM module on a pseudo-terminal (the real driver and frame parser talk to it) and a
  simulated camera replaying a portrait (:func:`devices.camera.demo_portrait`). The choice is made by the
  composition root (``app.services.open_devices``), never here.

Signals (all delivered on the GUI thread):
``card_read(IdCardData)``, ``card_photo(IdCardData, QImage | None, str message)``, ``card_removed()``,
``card_error(str)``, ``reader_status(str)``, ``frame_ready(QImage, LiveVerdict | None)``,
``photo_captured(numpy BGR array)`` (automatic capture: the sharpest frame of the good run),
``camera_status(str)``, ``states_changed(list[DeviceInfo])``.

Thread contract: create, call and destroy the hub on the GUI thread; ``frame_done`` may be
called from any thread. Nothing here blocks the GUI thread except :meth:`shutdown`, which waits
up to 2 s for the reader thread when the application closes.
"""
from __future__ import annotations

import logging
import threading

import numpy as np
from PySide6.QtCore import QObject, QThread, Qt, Signal, Slot
from PySide6.QtGui import QImage

from devices.base import DeviceInfo, DeviceState
from devices.device_set import DeviceSet
from devices.idcard import CardEvent, CardEventKind, IdCardData
from ui.devices.card_reader import CardReaderWorker
from ui.devices.images import bgr_to_qimage

log = logging.getLogger(__name__)

DEMO_CARD = "resident_xinxiang"


class DeviceHub(QObject):
    """See the module docstring. ``devices``: the device set the composition root chose
    (``app.services.open_devices``: real or simulated); the hub closes it at :meth:`shutdown`."""

    card_read = Signal(object)
    card_photo = Signal(object, object, str)
    card_removed = Signal()
    card_error = Signal(str)
    reader_status = Signal(str)
    frame_ready = Signal(QImage, object)
    photo_captured = Signal(object)
    camera_status = Signal(str)
    states_changed = Signal(list)

    # internal, emitted from the capture thread; queued to the hub's own slots
    _frame_from_camera = Signal(int, QImage, object)
    _capture_from_camera = Signal(int, object)
    _camera_state_from_camera = Signal(int, object, str)

    def __init__(self, devices: DeviceSet, *, parent: QObject | None = None):
        super().__init__(parent)
        self.devices = devices
        self.demo = devices.demo
        self._reader_thread: QThread | None = None
        self._reader_worker: CardReaderWorker | None = None
        self._capture = None            # devices.camera.CaptureWorker
        self._stopping: list = []       # capture workers told to stop, joined at shutdown
        self._capture_gen = 0
        self._live = None               # LiveChecker, created and used on the capture thread only
        self._live_wanted = True
        self._live_reset = threading.Event()
        self._analyse = True
        self._mirror = True
        self.current_card: IdCardData | None = None
        # the decoded photo of current_card, (card, image, message): an explicit read (F7) shows it
        self.current_photo: tuple | None = None
        self.reader_message = "读卡器未启动"
        self._idcard_info = DeviceInfo("idcard", "二代身份证读卡器", "", DeviceState.NOT_CONNECTED, "")
        self._camera_info = devices.camera_info
        self._frame_from_camera.connect(self._on_frame, Qt.ConnectionType.QueuedConnection)
        self._capture_from_camera.connect(self._on_capture, Qt.ConnectionType.QueuedConnection)
        self._camera_state_from_camera.connect(self._on_camera_state, Qt.ConnectionType.QueuedConnection)

    # ------------------------------------------------------------------------------ life cycle
    def start(self) -> None:
        """Start the reader thread on the device set's port."""
        if self._reader_thread is not None:
            return
        port = self.devices.reader_port
        worker = CardReaderWorker(self.devices.open_reader, self.devices.open_photo_decoder)
        self._idcard_info = DeviceInfo("idcard", "二代身份证读卡器", port or "", DeviceState.BUSY, "",
                                       {"note": "正在连接"})
        thread = QThread(self)
        thread.setObjectName("idcard-reader")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        # The worker has no event loop of its own; quit the thread straight from its signal.
        worker.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        worker.event.connect(self._on_card_event)
        worker.photo.connect(self._on_card_photo)
        self._reader_worker, self._reader_thread = worker, thread
        thread.start()
        self._emit_states()

    @property
    def sam_module(self):
        """Demo: the simulated SAM module the reader talks to; None with real hardware."""
        return self.devices.simulator

    def shutdown(self) -> None:
        """Stop everything (application exit). Waits up to 2 s for each device thread, so none is
        still running Python code while the interpreter shuts down."""
        self.stop_camera()
        for capture in self._stopping:
            if not capture.stop(timeout=2.0):
                log.warning("camera thread did not stop within 2 s")
        self._stopping = []
        worker, thread = self._reader_worker, self._reader_thread
        self._reader_worker = self._reader_thread = None
        if worker is not None:
            worker.stop()
        if thread is not None:
            thread.quit()
            if not thread.wait(2000):
                log.warning("ID-card reader thread did not stop within 2 s")
        self.devices.close()

    # ------------------------------------------------------------------------------ demo card
    def demo_card_names(self) -> list[str]:
        from devices.idcard import sample_card_names

        return sample_card_names()

    def place_demo_card(self, name: str = DEMO_CARD) -> None:
        """Demo: lay a sample card on the simulated reader (the poller reads it within ~0.3 s)."""
        if self.sam_module is None:
            self.card_error.emit("当前不是演示模式，请把证件放在读卡器上。")
            return
        from devices.idcard import sample_card
        from devices.idcard.errors import CardDataError

        try:
            card = sample_card(name)
        except CardDataError as exc:
            self.card_error.emit(exc.message)
            return
        self.sam_module.remove_card()
        self.sam_module.place_card(card)

    def place_card_data(self, card: IdCardData) -> None:
        """Demo and tests: lay an arbitrary card on the simulated reader."""
        if self.sam_module is None:
            self.card_error.emit("当前不是演示模式，请把证件放在读卡器上。")
            return
        self.sam_module.remove_card()
        self.sam_module.place_card(card)

    def remove_demo_card(self) -> None:
        if self.sam_module is not None:
            self.sam_module.remove_card()

    # ------------------------------------------------------------------------------ reader slots
    @Slot(object)
    def _on_card_event(self, event: CardEvent) -> None:
        reader = self._reader_worker.reader if self._reader_worker else None
        if reader is not None:
            self._idcard_info = reader.device_info()
        self.reader_message = event.message
        self.reader_status.emit(event.message)
        if event.kind is CardEventKind.NEW_CARD and event.card is not None:
            self.current_card = event.card
            self.current_photo = None
            self.card_read.emit(event.card)
        elif event.kind is CardEventKind.NO_CARD:
            if self.current_card is not None:
                self.current_card = None
                self.current_photo = None
                self.card_removed.emit()
        elif event.kind is CardEventKind.ERROR:
            self.card_error.emit(event.message)
        self._emit_states()

    @Slot(object, object, str)
    def _on_card_photo(self, card: IdCardData, image: QImage | None, message: str) -> None:
        if card is self.current_card:
            self.current_photo = (card, image, message)
        self.card_photo.emit(card, image, message)

    # ------------------------------------------------------------------------------ camera
    @property
    def camera_running(self) -> bool:
        return self._capture is not None

    def start_camera(self, *, analyse: bool = True, mirror: bool = True) -> None:
        """Open the camera and stream frames with live guidance (``analyse``) to ``frame_ready``."""
        if self._capture is not None:
            self.reset_live_checker()
            return
        from devices.camera import CaptureWorker

        self._analyse, self._mirror = analyse, mirror
        self._capture_gen += 1
        gen = self._capture_gen
        # The checker loads its face detector (Haar cascades, ~0.1 s): created on the capture
        # thread with the first frame, never here on the GUI thread.
        self._live = None
        self._live_wanted = analyse
        self._live_reset.clear()
        self._capture = CaptureWorker(
            self.devices.open_camera, source=self.devices.camera_source, resolution=self.devices.camera_resolution,
            on_frame=lambda frame: self._frame_on_capture_thread(gen, frame),
            on_state=lambda state, message: self._camera_state_from_camera.emit(gen, state, message),
            name="camera-capture")
        self._capture.start()

    def stop_camera(self) -> None:
        """Stop streaming. Does not wait for the capture thread (it ends on its own within a frame);
        :meth:`shutdown` joins it."""
        capture, self._capture = self._capture, None
        self._capture_gen += 1
        if capture is not None:
            capture.stop(timeout=0)
            self._stopping = [c for c in self._stopping if c.running] + [capture]

    def frame_done(self) -> None:
        """The view painted the last frame: the capture thread may hand out the next one."""
        capture = self._capture
        if capture is not None:
            capture.frame_done()

    def reset_live_checker(self) -> None:
        """Start a new automatic capture (after the clerk discarded a photo). Any thread."""
        self._live_reset.set()

    def latest_frame(self) -> np.ndarray | None:
        """The newest raw frame (for a manual capture), or None."""
        capture = self._capture
        if capture is None:
            return None
        latest = capture.latest()
        return None if latest is None else latest.image.copy()

    def _frame_on_capture_thread(self, gen: int, frame) -> None:
        """Runs on the capture thread: judge the frame, draw the guide, emit a detached image."""
        from devices.photo import draw_overlay

        if gen != self._capture_gen:
            return
        if self._live is None and self._live_wanted:
            from devices.photo import LiveChecker

            self._live = LiveChecker()
        live = self._live
        verdict = None
        image = frame.image
        if live is not None:
            if self._live_reset.is_set():
                self._live_reset.clear()
                live.reset()
            verdict = live.check_frame(image)
            shown = draw_overlay(image, verdict, mirror=self._mirror)
            if verdict.capture and live.best_frame is not None:
                self._capture_from_camera.emit(gen, live.best_frame.copy())
        else:
            import cv2

            shown = cv2.flip(image, 1) if self._mirror else image
        self._frame_from_camera.emit(gen, bgr_to_qimage(shown), verdict)

    @Slot(int, QImage, object)
    def _on_frame(self, gen: int, image: QImage, verdict) -> None:
        if gen != self._capture_gen:
            return
        self.frame_ready.emit(image, verdict)

    @Slot(int, object)
    def _on_capture(self, gen: int, frame: np.ndarray) -> None:
        if gen == self._capture_gen:
            self.photo_captured.emit(frame)

    @Slot(int, object, str)
    def _on_camera_state(self, gen: int, state: DeviceState, message: str) -> None:
        if gen == self._capture_gen:
            listed = self.devices.camera_info
            self._camera_info = DeviceInfo("camera", listed.name, listed.port_or_index, state,
                                           "" if state is DeviceState.READY else message)
            self.camera_status.emit(message)
            self._emit_states()

    # ------------------------------------------------------------------------------ states
    @property
    def states(self) -> list[DeviceInfo]:
        return [self._idcard_info, self._camera_info]

    def _emit_states(self) -> None:
        self.states_changed.emit(self.states)
