"""Building real finalized cases for the security tests: a demo applicant, a real photo
(scikit-image's astronaut, JPEG-encoded), a signature PNG, a scanned material and a real
uncompressed form PDF whose text carries the applicant's name (so an unencrypted store
would show it byte for byte)."""
from __future__ import annotations

import io
import random

import cv2
import numpy as np
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas
from skimage import data as skdata

from counter_app.application import Application
from counter_app.cases import Actor
from counter_app.samples import make_application
from counter_app.rules import required_materials

pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
_PHOTO = None


def photo_jpeg() -> bytes:
    global _PHOTO
    if _PHOTO is None:
        img = cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2BGR)
        img = cv2.resize(img, (358, 441))
        _PHOTO = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()
    return _PHOTO


def signature_png(seed: int) -> bytes:
    img = np.full((120, 360), 255, np.uint8)
    rng = np.random.default_rng(seed)
    pts = np.cumsum(rng.integers(-6, 7, size=(60, 2)), axis=0) + [60, 60]
    cv2.polylines(img, [pts.astype(np.int32).reshape(-1, 1, 2)], False, 0, 3)
    return cv2.imencode(".png", img)[1].tobytes()


def form_pdf(app: Application, case_hint: str = "") -> bytes:
    """A real PDF, uncompressed, with the personal fields as text (as the printed form has them)."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, pageCompression=0)
    c.setFont("STSong-Light", 12)
    a = app.applicant
    y = 800
    for line in ("退役军人服务“一件事”联办申请表 " + case_hint, f"姓名：{a.name}", f"公民身份号码：{a.id_number}",
                 f"联系电话：{a.phone}", f"现居住地址：{a.current_address}",
                 f"社保卡银行账户：{app.veteran_affairs.bank_account}"):
        c.drawString(60, y, line)
        y -= 24
    c.showPage()
    c.save()
    return buf.getvalue()


def material_text(app: Application) -> bytes:
    """A structured material (as exported by another office) holding the personal values in clear,
    in UTF-8 and UTF-16: if the store did not encrypt, a byte search of it would find them."""
    a = app.applicant
    text = f"材料 {a.name} {a.id_number} {a.phone} {a.current_address} {app.veteran_affairs.bank_account}\n"
    return text.encode("utf-8") + text.encode("utf-16-le") + text.encode("utf-16-be")


def finalizable(window, seed: int, *, bank_account: str | None = None) -> Application:
    """A complete application whose files are already in the window's store."""
    rng = random.Random(seed)
    app = make_application(rng)
    if bank_account is None:
        bank_account = "6222" + "".join(str(rng.randrange(10)) for _ in range(15))
    app.veteran_affairs.bank_account = bank_account
    app.photo = window.cases.put_attachment(photo_jpeg(), "image/jpeg")
    app.signature = window.cases.put_attachment(signature_png(seed), "image/png")
    for req in required_materials(app):
        app.material(req.number).original_seen = True
    app.material(3).attachments = [window.cases.put_attachment(material_text(app), "text/plain")]
    if app.has_item(11):
        app.veteran_affairs.reserve_letter = "申请人已持有"
    if app.has_item(4):  # the stamped 落户介绍信, scanned back
        app.settlement_letter_scan = window.cases.put_attachment(b"%PDF-1.7 letter " + app.applicant.id_number.encode(),
                                                                 "application/pdf")
    return app


def finalize_case(window, seed: int, actor: Actor = Actor("clerk1", "clerk"), **kw):
    """Create and finalize one case; returns (record, application, form pdf bytes)."""
    app = finalizable(window, seed, **kw)
    rec = window.cases.create_draft(app, actor)
    pdf = form_pdf(app, rec.case_no)
    rec = window.cases.finalize(rec.id, app, actor, form_pdf=pdf)
    return rec, app, pdf
