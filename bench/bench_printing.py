"""Printing figures: the application form (warm) against a bare reportlab rendering of the same
text and photo measured in the same run, the daily report for 1,000 cases, and the other
documents. Run standalone (``python bench/bench_printing.py``) or through ``bench/run.py``.

Targets (issue): form ≤ 100 ms per form and ≤ 2× the bare page; daily report (1,000 cases) ≤ 1.5 s.
"""
from __future__ import annotations

import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("COUNTER_APP_HOME", tempfile.mkdtemp(prefix="bench-printing-"))


def _timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def _photo() -> bytes:
    from PIL import Image
    from skimage import data

    buf = io.BytesIO()
    Image.fromarray(data.astronaut()).crop((100, 0, 458, 441)).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _bare_renderer(form_pdf: bytes, photo: bytes):
    """A baseline with no layout logic: the form's own text lines (as pdfplumber reads them,
    with their positions) drawn with plain ``drawString`` in the same font, plus the photo."""
    import pdfplumber
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    from printing import fonts

    fonts.register_fonts()
    pages = []
    with pdfplumber.open(io.BytesIO(form_pdf)) as doc:
        for p in doc.pages:
            lines = [(w["x0"], p.height - w["bottom"], w["text"], w["bottom"] - w["top"])
                     for w in p.extract_words(keep_blank_chars=True, use_text_flow=True)]
            pages.append(lines)

    def render() -> bytes:
        buf = io.BytesIO()
        c = Canvas(buf, pagesize=A4, invariant=1, pageCompression=1)
        for i, lines in enumerate(pages):
            for x, y, text, h in lines:
                c.setFont(fonts.FONT_NAME, max(6.0, h * 0.9))
                c.drawString(x, y + h * 0.12, text)
            if i == 0:
                c.drawImage(ImageReader(io.BytesIO(photo)), 440, 560, 72, 88.7)
            c.showPage()
        c.save()
        return buf.getvalue()

    return render


def run(report) -> None:
    from printing.form import render_application_form
    from printing.letters import render_settlement_letter
    from printing.receipt import render_receipt
    from printing.report import render_daily_report
    from printing.samples import daily_report_data
    from printing.watermark import watermark_pdf

    case = json.loads((ROOT / "tests" / "data" / "sample_case.json").read_text(encoding="utf-8"))
    photo = _photo()

    def form():
        return render_application_form(case, photo_jpeg=photo)

    first = _timed(form, 1)
    report("printing: application form, first render (cold fonts)", first)
    bare = _bare_renderer(form().pdf, photo)
    bare()
    # Interleave the two so machine noise hits both alike.
    s_bare, s_form = [], []
    for _ in range(30):
        s_bare += _timed(bare, 1)
        s_form += _timed(form, 1)
    report("printing: bare reportlab, same text + photo (baseline)", s_bare)
    report("printing: application form, warm", s_form, target="≤100 ms, ≤2× baseline",
           ratio_to="printing: bare reportlab, same text + photo (baseline)")

    report("printing: acceptance receipt (barcode + QR)",
           _timed(lambda: render_receipt(case, lookup_url="https://www.hnzwfw.gov.cn/?case_no=1"), 15))
    report("printing: settlement letter", _timed(lambda: render_settlement_letter(case), 15))
    letter = render_settlement_letter(case).pdf
    report("printing: watermark a 1-page PDF", _timed(lambda: watermark_pdf(letter), 10))

    data = daily_report_data(1000)
    render_daily_report(data)
    report("printing: daily report, 1,000 cases", _timed(lambda: render_daily_report(data), 7), target="≤1.5 s")


if __name__ == "__main__":
    rows: list[tuple] = []
    medians: dict[str, float] = {}

    def _report(name, samples, target="", ratio_to=None, unit="s"):
        samples = list(samples)
        med = statistics.median(samples)
        medians[name] = med
        p99 = sorted(samples)[min(len(samples) - 1, int(round(0.99 * (len(samples) - 1))))]
        ratio = f"{med / medians[ratio_to]:.2f}×" if ratio_to in medians and medians[ratio_to] else ""
        rows.append((name, len(samples), med * 1e3, p99 * 1e3, ratio, target))
        print(f"{name:<56} n={len(samples):<3} median={med * 1e3:9.2f} ms  p99={p99 * 1e3:9.2f} ms  {ratio:<7} {target}",
              flush=True)

    run(_report)
