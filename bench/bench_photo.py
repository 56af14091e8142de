"""Benchmarks of the card-photo pipeline, on one core (``cv2.setNumThreads(1)``), with frames
built from real portraits (scikit-image's astronaut; the portrait set of ``tests/devices/portraits.py``).

* ``photo.detector_full_1280x720`` (baseline): the face cascade on the full-resolution frame,
  the naive way to run a live check;
* ``photo.live_check_1280x720``: :meth:`LiveChecker.check_frame` with the CNN (BlazeFace, face
  mesh tracked from frame to frame, segmentation for the cap every 5th frame) on a stream of
  slightly moving, noisy 1280×720 frames (target ≥ 25 frames/s, i.e. ≤ 40 ms a frame), and
  ``photo.live_check_haar_1280x720`` the Haar fallback on the same stream;
* ``photo.live_overlay_1280x720``: drawing the preview overlay for one frame;
* ``photo.detector_full_1920x1080`` (baseline): the cascade on the full 1080p frame;
* ``photo.final_1920x1080``: :func:`make_compliant_photo` (CNN) from the 1080p frame to the
  finished 358×441 JPEG (target ≤ 300 ms), and ``photo.final_haar_1920x1080`` the Haar pipeline;
* ``photo.accuracy_{cnn,haar}_{made,fair,wrong}``: the real-portrait set through both pipelines
  in the same run — pictures made into a compliant photo, refused with a fair reason, and refused
  for a wrong cause or made when they should not be (target: wrong = 0, made ≥ 95 % of the
  pictures that should be made); a per-picture table is printed too.

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
from tests.devices import images, portraits


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
        for engine, name in (("haar", "photo.live_check_haar_1280x720"), ("cnn", "photo.live_check_1280x720")):
            checker = LiveChecker(auto_capture=False, engine=engine)
            for f in live_frames[:3]:
                checker.check_frame(f)                     # warm-up: models loaded, track found
            verdicts = []

            def live(frame, checker=checker, verdicts=verdicts):
                verdicts.append(checker.check_frame(frame))

            samples = _time(live, live_frames, 240)
            report(name, samples, target="≥ 25 fps (≤ 40 ms)", ratio_to="photo.detector_full_1280x720")
            # throughput over the whole stream, the periodic full searches included
            report(name + "_throughput", [len(samples) / sum(samples)], target="≥ 25 fps", unit="fps")
            assert sum(v.ok for v in verdicts) > 0.9 * len(verdicts), f"live check ({engine}) lost the face"
        report("photo.live_overlay_1280x720", _time(lambda f: draw_overlay(f, verdicts[-1]), live_frames, 60))

        big_frames = _frames(1920, 1080, 4, face_fraction=0.17)
        report("photo.detector_full_1920x1080", _time(_full_detector(det, 0.1), big_frames, 6), target="baseline")
        for engine, name in (("haar", "photo.final_haar_1920x1080"), ("cnn", "photo.final_1920x1080")):
            results = []

            def final(frame, engine=engine, results=results):
                results.append(make_compliant_photo(frame, engine=engine))

            final(big_frames[0])                            # warm-up
            report(name, _time(final, big_frames, 16), target="≤ 300 ms", ratio_to="photo.detector_full_1920x1080")
            assert all(r.ok for r in results), [r.reason for r in results if not r.ok]
        accuracy(report)
    finally:
        cv2.setNumThreads(threads)


def accuracy(report, out=print) -> None:
    """The real-portrait set through the CNN and the Haar pipeline, graded made / fair / wrong."""
    counts = {e: {portraits.MADE: 0, portraits.FAIR: 0, portraits.WRONG: 0} for e in ("cnn", "haar")}
    should = 0
    made_of_should = {"cnn": 0, "haar": 0}
    out(f"    {'picture':<46} {'expected':<9} {'CNN':<26} {'Haar (before)':<26}")
    for sample in portraits.samples():
        picture = sample.make()
        cells = []
        if sample.expect == portraits.MADE:
            should += 1
        for engine in ("cnn", "haar"):
            result = make_compliant_photo(picture, engine=engine)
            grade = portraits.grade(sample, result)
            counts[engine][grade] += 1
            if sample.expect == portraits.MADE and grade == portraits.MADE:
                made_of_should[engine] += 1
            cells.append(f"{grade} {result.failures[0].name if result.failures else ''}")
        out(f"    {sample.name:<46} {sample.expect:<9} {cells[0]:<26} {cells[1]:<26}")
    for engine in ("cnn", "haar"):
        for grade in (portraits.MADE, portraits.FAIR, portraits.WRONG):
            report(f"photo.accuracy_{engine}_{grade}", [counts[engine][grade]], unit="pictures",
                   target="0" if grade == portraits.WRONG else "")
        report(f"photo.accuracy_{engine}_made_of_should", [100.0 * made_of_should[engine] / max(1, should)],
               unit="%", target="≥ 95 %")


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
