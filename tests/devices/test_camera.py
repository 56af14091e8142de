"""The camera wrapper: the simulated camera replaying real pictures and a real video file, the
OpenCV driver on that same video file, the capture worker's frame hand-over and its recovery
when the camera is unplugged, and camera enumeration."""
from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest

from devices.base import DeviceInfo, DeviceState
from devices.camera import (CameraError, CaptureWorker, OpenCvCamera, SimulatedCamera, _list_v4l2, list_cameras,
                            open_camera)
from tests.devices import images


@pytest.fixture
def portrait_video(tmp_path):
    """A real MJPG/AVI file: 12 frames of the portrait, frame i brightened by 10·i so that
    each frame can be told apart after decoding."""
    path = tmp_path / "portrait.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 15.0, (320, 240))
    assert writer.isOpened()
    base = cv2.resize(images.astronaut(), (320, 240)).astype(np.int16)
    for i in range(12):
        writer.write(np.clip(base + 10 * i - 60, 0, 255).astype(np.uint8))
    writer.release()
    return path


def brightness_index(frame: np.ndarray, base_mean: float) -> int:
    return int(round((frame.mean() - base_mean) / 10.0))


def test_simulated_camera_replays_pictures_at_the_requested_resolution(tmp_path):
    a, c = images.astronaut(), images.chelsea()
    cv2.imwrite(str(tmp_path / "1.png"), a)
    cam = SimulatedCamera([tmp_path / "1.png", c], fps=200)
    cam.open(0, (1280, 720))
    assert cam.resolution == (1280, 720)
    frames = [cam.read() for _ in range(3)]
    assert all(f.shape == (720, 1280, 3) for f in frames)
    # fitted, not stretched: the square portrait fills the height, centred
    centre = cv2.resize(frames[0][:, 280:1000], (512, 512), interpolation=cv2.INTER_AREA)
    assert images.ncc(images.gray(centre), images.gray(a)) > 0.98
    assert images.ncc(images.gray(frames[2]), images.gray(frames[0])) > 0.999   # loops back
    assert images.ncc(images.gray(frames[1]), images.gray(frames[0])) < 0.9     # the cat in between
    frames[0][:] = 0
    assert cam.read().mean() > 0                      # callers own their frames
    cam.close()
    assert cam.read() is None


def test_simulated_camera_is_paced_not_a_busy_loop():
    cam = SimulatedCamera([images.astronaut()], fps=50)
    cam.open()
    import time

    start = time.monotonic()
    for _ in range(11):
        cam.read()
    elapsed = time.monotonic() - start
    assert elapsed >= 10 / 50 * 0.9


def test_simulated_camera_replays_a_video_file_in_order_and_loops(portrait_video):
    cam = SimulatedCamera(portrait_video, fps=500)
    cam.open()
    assert cam.resolution == (320, 240)
    frames = [cam.read() for _ in range(14)]
    means = [f.mean() for f in frames]
    # brightness rises by ~10 per frame, then the file starts again
    steps = np.diff(means[:12])
    assert all(5 < s < 15 for s in steps[1:-1])
    assert abs(means[12] - means[0]) < 2 and abs(means[13] - means[1]) < 2


def test_opencv_camera_reads_the_same_video_file(portrait_video):
    cam = OpenCvCamera()
    cam.open(portrait_video)
    assert cam.resolution == (320, 240) and cam.is_open
    frames = []
    while (f := cam.read()) is not None:
        frames.append(f)
    assert len(frames) == 12
    cam.close()
    assert not cam.is_open and cam.read() is None


def test_opening_a_missing_camera_says_so_in_chinese():
    with pytest.raises(CameraError, match="无法打开摄像头"):
        OpenCvCamera().open(57)
    with pytest.raises(CameraError, match="找不到"):
        open_camera("/nonexistent/picture.jpg")


def test_broken_picture_file_is_a_camera_error(tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(CameraError, match="无法读取图像文件"):
        SimulatedCamera([bad]).open()


def test_open_camera_accepts_a_folder_of_pictures(tmp_path):
    for i, img in enumerate([images.astronaut(), images.chelsea()]):
        cv2.imwrite(str(tmp_path / f"{i}.png"), img)
    cam = open_camera(str(tmp_path), (640, 480), fps=500)
    assert isinstance(cam, SimulatedCamera) and cam.resolution == (640, 480)
    assert cam.read().shape == (480, 640, 3)


# --------------------------------------------------------------------------- the capture worker

def test_worker_hands_over_one_frame_at_a_time_on_its_own_thread():
    cam = SimulatedCamera([images.astronaut()], fps=200)
    delivered = []
    threads = set()
    got = threading.Event()

    def on_frame(frame):
        delivered.append(frame.seq)
        threads.add(threading.current_thread().name)
        got.set()

    worker = CaptureWorker(cam, resolution=(640, 480), on_frame=on_frame, name="camera-test")
    worker.start()
    try:
        assert got.wait(5)
        # the consumer has not said it is done: frames keep coming but are not handed over
        later = worker.wait_for_frame(after_seq=delivered[0] + 5, timeout=5)
        assert later is not None and later.image.shape == (480, 640, 3)
        assert delivered == [delivered[0]]
        assert worker.frames_dropped >= 5
        got.clear()
        worker.frame_done()
        assert got.wait(5)
        # the next delivery is a fresh frame, not the stale one that was waiting
        assert delivered[1] > later.seq
        assert threads == {"camera-test"}
    finally:
        assert worker.stop()
    assert not worker.running and worker.state is DeviceState.NOT_CONNECTED


def test_worker_recovers_when_the_camera_is_unplugged_and_plugged_back():
    cam = SimulatedCamera([images.astronaut()], fps=100)
    states = []
    worker = CaptureWorker(cam, resolution=(320, 240), on_state=lambda s, m: states.append((s, m)),
                           failures_before_reconnect=3, backoff_initial=0.02, backoff_max=0.1)
    worker.start()
    try:
        assert worker.wait_for_state(DeviceState.READY, 5)
        first = worker.wait_for_frame(0, timeout=5)
        assert first is not None
        cam.unplug()
        assert worker.wait_for_state(DeviceState.NOT_CONNECTED, 5)
        assert "断开" in worker.state_message or "连接" in worker.state_message
        cam.plug_in()
        assert worker.wait_for_state(DeviceState.READY, 5)
        newest = worker.latest().seq
        assert worker.wait_for_frame(newest, timeout=5) is not None    # frames flow again
        assert worker.reconnects == 1
    finally:
        assert worker.stop()
    kinds = [s for s, _ in states]
    assert kinds[:3] == [DeviceState.READY, DeviceState.NOT_CONNECTED, DeviceState.READY]
    assert all(isinstance(m, str) and m for _, m in states)


def test_worker_keeps_retrying_a_camera_that_is_not_there_and_stops_promptly():
    cam = SimulatedCamera([images.astronaut()])
    cam.unplug()
    worker = CaptureWorker(cam, backoff_initial=0.01, backoff_max=0.05)
    worker.start()
    assert worker.wait_for_frame(0, timeout=0.3) is None
    assert worker.state is DeviceState.NOT_CONNECTED and "断开" in worker.state_message
    assert worker.stop(timeout=2)


def test_a_failing_consumer_does_not_kill_the_capture_thread():
    cam = SimulatedCamera([images.astronaut()], fps=200)
    calls = []

    def broken(frame):
        calls.append(frame.seq)
        raise RuntimeError("consumer bug")

    worker = CaptureWorker(cam, resolution=(160, 120), on_frame=broken)
    worker.start()
    try:
        assert worker.wait_for_frame(20, timeout=5) is not None
        assert len(calls) >= 2 and worker.running       # frame_done was implied after the error
    finally:
        worker.stop()


# --------------------------------------------------------------------------- enumeration

def test_v4l2_enumeration_reads_sysfs_and_skips_metadata_nodes(tmp_path):
    for n, index, name in [(0, "0", "USB 2.0 Camera: HD Camera"), (1, "1", "USB 2.0 Camera: HD Camera"),
                           (2, "0", "S500L 高拍仪")]:
        node = tmp_path / f"video{n}"
        node.mkdir()
        (node / "index").write_text(index + "\n")
        (node / "name").write_text(name + "\n", encoding="utf-8")
    cams = _list_v4l2(tmp_path)
    assert [(c.port_or_index, c.name) for c in cams] == [("0", "USB 2.0 Camera: HD Camera"), ("2", "S500L 高拍仪")]
    assert all(c.kind == "camera" and c.details["device"].startswith("/dev/video") for c in cams)


def test_list_cameras_returns_device_infos():
    cams = list_cameras()
    assert isinstance(cams, list) and all(isinstance(c, DeviceInfo) and c.kind == "camera" for c in cams)
