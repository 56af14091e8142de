"""Render every printed document to PDF and PNG, for a visual check.

    .venv/bin/python tools/render_documents.py [--case CASE.json] [--out DIR] [--dpi 110]

Writes, for the sample case (or the one given): the application form (with a real photo and a
drawn signature, and once blank for a draft), the settlement letter, the reserve-registration
reminder, the receipt (provisional and acknowledged), the daily report for 40 synthetic cases,
a watermarked copy of the letter, and a form with rare name characters (𠈌 via the bundled
Extension B font, 𪜀 as a code-point box). PNGs come from pypdfium2, or from ``pdftoppm`` when
``--pdftoppm`` is given and it is installed. Open the PNGs and look: overlaps, text running out
of its cell, clipped characters and empty boxes are what to look for.
"""
from __future__ import annotations

import argparse
import copy
import datetime as _dt
import io
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _photo() -> bytes:
    from PIL import Image

    try:
        from skimage import data

        img = Image.fromarray(data.astronaut()).crop((100, 0, 458, 441))
    except ImportError:  # scikit-image is a test dependency; a plain placeholder will do
        img = Image.new("RGB", (358, 441), (235, 235, 235))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _signature() -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (400, 120), (255, 255, 255, 0))
    ImageDraw.Draw(img).line([(20, 90), (80, 20), (120, 100), (170, 30), (230, 95), (300, 25), (380, 80)],
                             fill=(10, 10, 60, 255), width=7)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def to_png(pdf_path: Path, dpi: int, use_pdftoppm: bool) -> list[Path]:
    stem = pdf_path.with_suffix("")
    if use_pdftoppm and shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", str(dpi), str(pdf_path), str(stem)], check=True)
        return sorted(pdf_path.parent.glob(stem.name + "-*.png"))
    import pypdfium2 as pdfium

    out = []
    doc = pdfium.PdfDocument(pdf_path.read_bytes())
    for i in range(len(doc)):
        p = Path(f"{stem}-{i + 1}.png")
        doc[i].render(scale=dpi / 72).to_pil().save(p)
        out.append(p)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="把所有打印文书生成PDF和PNG，供目视检查")
    ap.add_argument("--case", type=Path, default=ROOT / "tests" / "data" / "sample_case.json")
    ap.add_argument("--out", type=Path, default=ROOT / "var" / "rendered")
    ap.add_argument("--dpi", type=int, default=110)
    ap.add_argument("--pdftoppm", action="store_true", help="用 pdftoppm（poppler）而不是 pdfium 转PNG")
    args = ap.parse_args(argv)

    # Never touch the window's real data directory (the receipt reads config defaults from it).
    import os

    os.environ.setdefault("COUNTER_APP_HOME", tempfile.mkdtemp(prefix="render-documents-"))

    from printing.form import render_application_form
    from printing.letters import render_reserve_reminder, render_settlement_letter
    from printing.receipt import render_receipt
    from printing.report import render_daily_report
    from printing.samples import daily_report_data
    from printing.watermark import watermark_pdf

    case = json.loads(args.case.read_text(encoding="utf-8"))
    acked = copy.deepcopy(case)
    acked["platform"] = {"acknowledged": True, "acknowledged_at": case.get("accepted_at"), "receipt": "demo"}
    draft = copy.deepcopy(case)
    draft["case_no"] = None
    rare = copy.deepcopy(case)
    rare["application"]["applicant"]["name"] = "刘𠈌𪜀"
    url = "https://www.hnzwfw.gov.cn/?case_no={case_no}"
    printed = _dt.datetime(2026, 11, 27, 9, 45)

    docs = {
        "form": render_application_form(case, photo_jpeg=_photo(), signature_png=_signature()),
        "form-draft": render_application_form(draft),
        "form-rare-name": render_application_form(rare),
        "settlement-letter": render_settlement_letter(case),
        "reserve-reminder": render_reserve_reminder(case),
        "receipt-provisional": render_receipt(case, lookup_url=url, printed_at=printed),
        "receipt": render_receipt(acked, lookup_url=url, printed_at=printed),
        "daily-report": render_daily_report(daily_report_data(40)),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    for name, result in docs.items():
        path = args.out / f"{name}.pdf"
        path.write_bytes(result.pdf)
        pngs = to_png(path, args.dpi, args.pdftoppm)
        note = f"  生僻字：{''.join(sorted(result.fallback_chars))}" if result.fallback_chars else ""
        print(f"{path}  {result.pages}页 → {', '.join(p.name for p in pngs)}{note}")
    stamped = args.out / "settlement-letter-watermarked.pdf"
    stamped.write_bytes(watermark_pdf(docs["settlement-letter"].pdf, checker="李晓燕", day=_dt.date(2026, 11, 27)))
    print(f"{stamped} → {', '.join(p.name for p in to_png(stamped, args.dpi, args.pdftoppm))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
