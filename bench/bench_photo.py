"""Benchmarks of the card-photo pipeline, on one core (``cv2.setNumThreads(1)``), with frames
built from scikit-image's real astronaut portrait.

* ``photo.detector_full_1280x720`` (baseline): the face cascade on the full-resolution frame,
  the naive way to run a live check;
* ``photo.live_check_1280x720``: :meth:`LiveChecker.check_frame` on a stream of slightly
  moving, noisy 1280×720 frames (target ≥ 25 frames/s, i.e. ≤ 40 ms a frame);
* ``photo.live_overlay_1280x720``: drawing the preview overlay for one frame;
* ``photo.detector_full_1920x1080`` (baseline): the cascade on the full 1080p frame;
* ``photo.final_1920x1080``: :func:`make_compliant_photo` from the 1080p frame to the finished
  358×441 JPEG (target ≤ 300 ms).

Run standalone: ``python bench/bench_photo.py`` prints a table.
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # standalone: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2
import numpy as np

from devices.photo import LiveChecker, draw_overlay, make_compliant_photo
from devices.photo.detect import FaceDetector
from tests.devices import images


def _frames(width: int, height: int, count: int, face_fraction: float) -> list[np.ndarray]:
    """A person sitting still in front of a webcam: a few pixels of sway and sensor noise."""
    rng = np.random.default_rng(7)
    frames = []
    for i in range(count):
        frame = images.portrait_frame(width, height, face_fraction=face_fraction,
                                      dx=int(4 * np.sin(i / 3.0)), dy=int(3 * np.cos(i / 4.0)))
        noise = rng.normal(0, 3.0, frame.shape)
        frames.append(np.clip(frame + noise, 0, 255).astype(np.uint8))
    return frames


def _time(fn, items, repeat: int) -> list[float]:
    samples = []
    for i in range(repeat):
        item = items[i % len(items)]
        t0 = time.perf_counter()
        fn(item)
        samples.append(time.perf_counter() - t0)
    return samples


def _full_detector(det: FaceDetector, min_fraction: float):
    def detect(frame: np.ndarray):
        gray = cv2.equalizeHist(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))
        return det.face_boxes(gray, int(frame.shape[0] * min_fraction), scale_factor=1.1, min_neighbors=5)
    return detect


def run(report) -> None:
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        det = FaceDetector()
        live_frames = _frames(1280, 720, 24, face_fraction=0.24)
        report("photo.detector_full_1280x720", _time(_full_detector(det, 0.1), live_frames, 12),
               target="baseline")
        checker = LiveChecker(auto_capture=False)
        for f in live_frames[:3]:
            checker.check_frame(f)                         # warm-up: cascades loaded, track found
        verdicts = []

        def live(frame):
            verdicts.append(checker.check_frame(frame))

        samples = _time(live, live_frames, 240)
        report("photo.live_check_1280x720", samples, target="≥ 25 fps (≤ 40 ms)",
               ratio_to="photo.detector_full_1280x720")
        # throughput over the whole stream, the periodic full searches included
        fps = len(samples) / sum(samples)
        report("photo.live_check_1280x720_throughput", [fps], target="≥ 25 fps", unit="fps")
        assert sum(v.ok for v in verdicts) > 0.9 * len(verdicts), "live check lost the face"
        report("photo.live_overlay_1280x720", _time(lambda f: draw_overlay(f, verdicts[-1]), live_frames, 60))

        big_frames = _frames(1920, 1080, 4, face_fraction=0.17)
        report("photo.detector_full_1920x1080", _time(_full_detector(det, 0.1), big_frames, 6), target="baseline")
        results = []

        def final(frame):
            results.append(make_compliant_photo(frame))

        final(big_frames[0])                                # warm-up
        report("photo.final_1920x1080", _time(final, big_frames, 16), target="≤ 300 ms",
               ratio_to="photo.detector_full_1920x1080")
        assert all(r.ok for r in results), [r.reason for r in results if not r.ok]
    finally:
        cv2.setNumThreads(threads)


if __name__ == "__main__":
    def _print(name, samples, target="", ratio_to=None, unit="s", _rows={}):
        samples = list(samples)
        med = statistics.median(samples)
        p99 = sorted(samples)[min(len(samples) - 1, int(round(0.99 * (len(samples) - 1))))]
        _rows[name] = med
        ratio = f"{med / _rows[ratio_to]:.2f}× {ratio_to}" if ratio_to in _rows else ""
        scale, suffix = (1e3, "ms") if unit == "s" else (1.0, unit)
        print(f"{name:<36} n={len(samples):<4} median={med * scale:9.2f} {suffix:<4} p99={p99 * scale:9.2f} "
              f"{suffix:<4} {ratio:<40} {target}")

    run(_print)
