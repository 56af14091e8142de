"""Benchmarks of document-camera page processing on a 12-megapixel picture (4000×3000), one
core: a sheet of real scanned text (scikit-image ``page``/``text``) photographed at an angle.

* ``document.jpeg_encode_12mp`` (baseline): encoding the raw 12 MP picture once as JPEG,
  the least any processing that stores the page must pay;
* ``document.process_page_12mp_colour`` / ``_gray`` / ``_bw``: :func:`process_page` — find
  the sheet, flatten, deskew, crop, convert, compress under 1 MB;
* ``document.pages_to_pdf_10_pages``: ten processed pages into one PDF.

Run standalone: ``python bench/bench_document.py`` prints a table.
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # standalone: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2

from devices.scanner.pages import ColorMode, DocumentOptions, process_page
from devices.scanner.pdf import images_to_pdf
from tests.devices import images

WIDTH, HEIGHT = 4000, 3000


def _time(fn, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return samples


def run(report) -> None:
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        corners = images.camera_view_corners(WIDTH, HEIGHT, fill=0.85)
        photo = images.photographed_document(images.document_sheet(2600), WIDTH, HEIGHT, corners)
        report("document.jpeg_encode_12mp", _time(lambda: cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, 85]), 5),
               target="baseline")
        pages = []
        for mode in ColorMode:
            options = DocumentOptions(color_mode=mode)
            samples = _time(lambda: pages.append(process_page(photo, options)), 5)
            report(f"document.process_page_12mp_{mode.value}", samples, target="≤ 1 s a page (own target)",
                   ratio_to="document.jpeg_encode_12mp")
        assert all(p.page_found and p.size_bytes <= 1024 * 1024 for p in pages)
        report("document.pages_to_pdf_10_pages", _time(lambda: images_to_pdf([p.jpeg for p in pages[:10]]), 10))
    finally:
        cv2.setNumThreads(threads)


if __name__ == "__main__":
    def _print(name, samples, target="", ratio_to=None, unit="s", _rows={}):
        samples = list(samples)
        med = statistics.median(samples)
        _rows[name] = med
        ratio = f"{med / _rows[ratio_to]:.2f}× {ratio_to}" if ratio_to in _rows else ""
        print(f"{name:<40} n={len(samples):<3} median={med * 1e3:9.1f} ms  max={max(samples) * 1e3:9.1f} ms  "
              f"{ratio:<36} {target}")

    run(_print)
