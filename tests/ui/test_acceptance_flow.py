"""One complete acceptance through the real widgets and the simulated devices.

The card is laid on the simulated reader (real GA 467 frames on a pty), the astronaut sits in
front of the simulated camera until the live check takes the picture, the applicant signs with
pointer strokes on the applicant screen, the signed form is "scanned", the case is finalized and
queued, and the applicant rates. Every step is driven with keys (F9, Space, typing) and measured
with a 5 ms GUI heartbeat.
"""
from __future__ import annotations

import io

import numpy as np
from PIL import Image
from PySide6.QtWidgets import QAbstractButton, QLabel
from pypdf import PdfReader

from counter_app.lifecycle import CaseState
from tests.ui.acceptance_fixtures import MAX_GAP_MS


def _images(pdf: bytes) -> list:
    reader = PdfReader(io.BytesIO(pdf))
    return [img for page in reader.pages for img in page.images]


def test_complete_acceptance_ends_queued_with_photo_and_signature_in_the_form(acceptance, ctx, qtbot, heartbeat,
                                                                               scan_file):
    from ui.acceptance.script import Choices, demo_application, form_values

    widget, script = acceptance()
    choices = Choices()
    app_values = demo_application()

    script.identity_from_card("resident_xinxiang")
    assert widget.session.app.applicant.name == "赵振华"          # filled by the card, no button
    assert widget.session.app.applicant.id_number == "410702198506120039"
    script.next_step("items")
    assert widget.session.case_no                                 # the draft exists from step 1
    script.choose(choices)
    script.next_step("form")
    script.fill_form(form_values(app_values, choices))
    script.next_step("materials")
    script.walk_to("rating", material_scan=str(scan_file))   # the copy first: F5 then moves on

    # The applicant rates on their screen; the clerk's screen must never show the level.
    screen = ctx.applicant_screen
    level = "基本满意"
    qtbot.waitUntil(lambda: screen.stack.currentIndex() == screen.PAGE_RATING, timeout=10000)
    rating_step = widget.step("rating")
    assert rating_step.state.text() == "等待申请人评价…"
    with qtbot.waitSignal(widget.finished, timeout=10000) as finished:
        script.rate(level, reasons=["办事效率高"])    # the applicant's rating ends the acceptance
    assert rating_step.state.text() == "已评价"
    clerk_texts = [w.text() for w in widget.findChildren(QLabel)] + [b.text() for b in widget.findChildren(QAbstractButton)]
    assert not any(level in t for t in clerk_texts)
    with qtbot.assertNotEmitted(widget.finished):
        script.key_next()                           # a late F9 does not end it twice
    case_id = finished.args[0]
    assert case_id == widget.session.case_id

    for label, gap in heartbeat.gaps.items():
        assert gap < MAX_GAP_MS, f"第“{label}”步阻塞界面 {gap:.0f} 毫秒"

    record = ctx.window.cases.get(case_id)
    assert record.state is CaseState.QUEUED
    assert record.outbox is not None and record.outbox["status"] == "waiting"
    assert record.rating == level
    roles = {a["role"] for a in record.attachments}
    assert {"form_pdf", "signed_form", "photo", "signature", "material"} <= roles
    assert any(a["role"] == "material" and a["material"] == 3 for a in record.attachments)

    # The sealed form PDF carries the photo (the very JPEG stored) and the signature image.
    form_sha = next(a["sha256"] for a in record.attachments if a["role"] == "form_pdf")
    form_pdf = ctx.window.files.get(form_sha)
    photo = ctx.window.files.get(record.application.photo)
    signature_png = ctx.window.files.get(record.application.signature)
    images = _images(form_pdf)
    photo_px = np.asarray(Image.open(io.BytesIO(photo)).convert("RGB"), dtype=np.int16)
    assert photo_px.shape == (441, 358, 3)
    embedded = [np.asarray(img.image.convert("RGB"), dtype=np.int16) for img in images]
    assert any(e.shape == photo_px.shape and np.abs(e - photo_px).mean() < 2.0 for e in embedded), "表中没有采集的照片"
    sig = Image.open(io.BytesIO(signature_png))
    assert any((img.image.width, img.image.height) == sig.size for img in images), "表中没有签名"

    import pdfplumber

    with pdfplumber.open(io.BytesIO(form_pdf)) as pdf:
        text = "".join(page.extract_text() or "" for page in pdf.pages)
    assert "赵振华" in text and record.case_no in text

    # The imported scan is stored as a PDF stamped "此件经与原件核对无误".
    scan_sha = next(a["sha256"] for a in record.attachments if a["role"] == "material" and a["material"] == 3)
    with pdfplumber.open(io.BytesIO(ctx.window.files.get(scan_sha))) as pdf:
        assert "此件经与原件核对无误" in "".join(p.extract_text() or "" for p in pdf.pages)
