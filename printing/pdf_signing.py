"""The center's PDF signature (PAdES baseline B-B, B-T with a time-stamp authority).

A signed document is the archival copy (:func:`printing.pdfa.archival_copy`) of the document as
rendered, plus one incremental update holding a visible signature field with the center's
name, the signing time and the certificate serial. The bytes rendered (and sealed by the
window at finalize) stay a byte-for-byte prefix of the signed file, so anyone can check that
what was signed is what was sealed.

The key is never touched here: ``signer`` is a pyHanko ``Signer`` the caller opened (a PKCS#12
file or a PKCS#11 token session; see the application's key configuration). A time-stamp URL,
when given, makes the signature B-T (RFC 3161 over HTTP).

Thread contract: :func:`sign_pdf` is re-entrant; the signer must not be used by two threads at
once (a PKCS#11 session is not thread-safe), which the caller's single signing worker ensures.
"""
from __future__ import annotations

import binascii
import datetime as _dt
import io
import uuid
from dataclasses import dataclass

from pyhanko.pdf_utils.content import PdfContent
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.layout import BoxConstraints
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.general import SigningError as _HankoSigningError
from pyhanko.sign.timestamps import TimestampRequestError
from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper
from pyhanko.stamp.static import StaticStampStyle
from reportlab.pdfgen.canvas import Canvas

from counter_app.clock import CHINA_TZ
from printing import fonts
from printing.page import SealPlace
from printing.text import Pen

FIELD_NAME = "中心电子签章"
STAMP_RED = (0.75, 0.05, 0.05)


class SigningError(Exception):
    """The document could not be signed; ``message`` is Chinese and says what to do."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class SignatureRequest:
    """What the visible signature says. ``signer_name`` is the center (the certificate's holder)."""

    signer_name: str
    place: SealPlace
    reason: str = "受理确认"
    location: str = ""
    timestamp_url: str | None = None


def _appearance_pdf(name: str, when: _dt.datetime, serial_hex: str, width: float, height: float,
                    timestamped: bool) -> bytes:
    fonts.register_fonts()
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=(width, height), invariant=1, initialFontName=fonts.FONT_NAME)
    pen = Pen(c)
    c.setStrokeColorRGB(*STAMP_RED)
    c.setLineWidth(1.2)
    c.roundRect(1, 1, width - 2, height - 2, 6, stroke=1, fill=0)
    size = 11.0
    while size > 7 and pen.width(name, size) > width - 14:
        size -= 0.5
    name_y = height - 8 - size
    pen.draw(8, name_y, name, size, color=STAMP_RED)
    pen.draw(8, name_y - 15, "电子签名 " + when.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S"), 8,
             color=STAMP_RED)
    pen.draw(8, 6, f"证书 {serial_hex[:24]}" + ("  含时间戳" if timestamped else ""), 7, color=STAMP_RED)
    c.showPage()
    c.save()
    return buf.getvalue()


class _ImportedPage(PdfContent):
    """A one-page PDF (made by reportlab, fonts embedded) as the signature's appearance."""

    def __init__(self, pdf: bytes):
        super().__init__()
        self._pdf = pdf

    def render(self) -> bytes:
        xobj = self._ensure_writer.import_page_as_xobject(PdfFileReader(io.BytesIO(self._pdf)), page_ix=0)
        name = b"/Stamp" + binascii.hexlify(uuid.uuid4().bytes)
        self.resources.xobject[name.decode("ascii")] = xobj
        x1, y1, x2, y2 = xobj.get_object()["/BBox"]
        self.box = BoxConstraints(width=abs(x2 - x1), height=abs(y2 - y1))
        return name + b" Do"


def sign_pdf(pdf: bytes, signer: signers.Signer, request: SignatureRequest, *,
             at: _dt.datetime | None = None) -> bytes:
    """``pdf`` (normally an archival copy) with the center's visible PAdES signature appended.

    Raises :class:`SigningError` (Chinese) when the time-stamp authority does not answer or the
    token refuses to sign; the caller keeps the job queued.
    """
    at = (at or _dt.datetime.now().astimezone()).replace(microsecond=0)
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    except Exception as exc:  # pyHanko raises several parser errors; all mean "not a PDF we can update"
        raise SigningError(f"待签文件不是有效的PDF，无法签名：{exc}") from None
    pages = int(writer.root["/Pages"]["/Count"])
    page = request.place.page if request.place.page >= 0 else pages + request.place.page
    if not 0 <= page < pages:
        raise SigningError(f"签章位置第{page + 1}页不存在（文件共{pages}页）。")
    x1, y1, x2, y2 = request.place.box
    fields.append_signature_field(writer, fields.SigFieldSpec(FIELD_NAME, on_page=page, box=(x1, y1, x2, y2)))
    cert = signer.signing_cert
    serial = format(cert.serial_number, "x")
    stamp = StaticStampStyle(background=_ImportedPage(_appearance_pdf(
        request.signer_name, at, serial, x2 - x1, y2 - y1, request.timestamp_url is not None)), border_width=0)
    meta = signers.PdfSignatureMetadata(field_name=FIELD_NAME, md_algorithm="sha256",
                                        subfilter=SigSeedSubFilter.PADES, reason=request.reason,
                                        location=request.location or None, name=request.signer_name)
    timestamper = RequestsHTTPTimeStamper(request.timestamp_url, timeout=10) if request.timestamp_url else None
    out = io.BytesIO()
    try:
        signers.PdfSigner(meta, signer, stamp_style=stamp, timestamper=timestamper).sign_pdf(writer, output=out)
    except TimestampRequestError as exc:
        raise SigningError(f"时间戳服务无应答或应答无效（{request.timestamp_url}）：{exc}。"
                           "请IT检查网络和时间戳服务地址；签章已排队，恢复后自动补签。") from None
    except _HankoSigningError as exc:
        raise SigningError(f"签名失败：{exc}") from None
    return out.getvalue()


def self_test_document(center_name: str, at: _dt.datetime) -> bytes:
    """A one-page sample the key self-test signs (no personal data)."""
    from printing import page as pg

    buf = io.BytesIO()
    c = pg.new_canvas(buf, "签章自检", "签章自检")
    pen = Pen(c)
    pen.draw(pg.MARGIN_X, pg.PAGE_H - 120, "电子签章自检样张", 18, bold=True)
    pen.draw(pg.MARGIN_X, pg.PAGE_H - 150, f"{center_name}  {at:%Y-%m-%d %H:%M:%S}", 11)
    pen.draw(pg.MARGIN_X, pg.PAGE_H - 170, "本页不含个人信息，仅用于检验签章密钥、信任根和时间戳服务是否可用。", 11)
    c.showPage()
    c.save()
    return buf.getvalue()
