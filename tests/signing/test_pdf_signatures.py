"""The center's PDF signature, checked by two independent implementations (pyHanko, poppler's pdfsig)."""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from app.signing.keys import KeyConfig, SigningKeys
from printing import pdf_verify, pdfa
from printing.form import FORM_SEAL_PLACE, render_application_form
from printing.pdf_signing import FIELD_NAME, SignatureRequest, sign_pdf
from tests.signing.conftest import CENTER, P12_PASSWORD


SAMPLE_CASE = Path(__file__).resolve().parent.parent / "data" / "sample_case.json"


@pytest.fixture(scope="module")
def form_pdf() -> bytes:
    return render_application_form(json.loads(SAMPLE_CASE.read_text(encoding="utf-8"))).pdf


def _keys(pki, **kw) -> SigningKeys:
    cfg = KeyConfig(kind="pkcs12", pkcs12_path=str(pki.p12_path), trust_root=str(pki.root_pem_path), **kw)
    keys = SigningKeys(cfg)
    keys.unlock(P12_PASSWORD)
    return keys


def _token_keys(token, pki) -> SigningKeys:
    keys = SigningKeys(KeyConfig(kind="pkcs11", pkcs11_library=token.library, token_label=token.label,
                                 key_label="center", trust_root=str(pki.root_pem_path)))
    keys.unlock(token.pin)
    return keys


def _sign(keys: SigningKeys, pdf: bytes, tsa_url: str | None = None) -> bytes:
    archival = pdfa.archival_copy(pdf, title="联办申请表", author=CENTER, attachment=b'{"case_no":"x"}')
    with keys.signer() as signer:
        return sign_pdf(archival, signer, SignatureRequest(CENTER, FORM_SEAL_PLACE, timestamp_url=tsa_url))


def _flip(data: bytes, at: int) -> bytes:
    b = bytearray(data)
    b[at] ^= 0x01
    return bytes(b)


def test_token_signed_form_validates_in_pyhanko_and_pdfsig_and_a_changed_byte_fails_both(form_pdf, token, pki):
    keys = _token_keys(token, pki)
    signed = _sign(keys, form_pdf)
    roots = keys.trust_roots()
    [mine] = pdf_verify.check_with_pyhanko(signed, roots)
    theirs = pdf_verify.check_with_pdfsig(signed, roots)
    assert mine.ok and mine.covers_whole_file and mine.signer == CENTER, mine.message
    assert theirs.ok and theirs.covers_whole_file, theirs.details
    # one byte inside the page content (first signed range), one inside the appended update
    for at in (len(form_pdf) // 2, len(signed) - 200):
        bad = _flip(signed, at)
        assert not pdf_verify.check_with_pyhanko(bad, roots)[0].ok
        assert not pdf_verify.check_with_pdfsig(bad, roots).ok


def test_pkcs12_signature_is_untrusted_against_another_root(form_pdf, pki):
    from app.pki import LocalCA

    signed = _sign(_keys(pki), form_pdf)
    other = pdf_verify.load_certificates(LocalCA.create().root_pem)
    assert pdf_verify.check_with_pyhanko(signed, pdf_verify.load_certificates(pki.ca.root_pem))[0].ok
    assert not pdf_verify.check_with_pyhanko(signed, other)[0].ok
    result = pdf_verify.check_with_pdfsig(signed, other)
    assert not result.ok and "不受信任" in result.message


def test_signed_file_keeps_the_rendered_bytes_as_its_first_revision(form_pdf, pki):
    signed = _sign(_keys(pki), form_pdf)
    assert signed.startswith(form_pdf)
    reader = PdfFileReader(io.BytesIO(signed))
    [sig] = reader.embedded_signatures
    assert sig.field_name == FIELD_NAME
    assert sig.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES baseline


def _box_pixels(pdf: bytes, box, scale: int = 2) -> np.ndarray:
    doc = pdfium.PdfDocument(pdf)
    doc.init_forms()  # so the signature widget's appearance is drawn
    img = np.asarray(doc[0].render(scale=scale, may_draw_forms=True).to_pil().convert("RGB")).astype(int)
    x1, y1, x2, y2 = box
    h = img.shape[0]
    return img[int(h - y2 * scale):int(h - y1 * scale), int(x1 * scale):int(x2 * scale)]


def test_visible_signature_is_drawn_in_red_on_the_first_page(form_pdf, pki):
    signed = _sign(_keys(pki), form_pdf)
    before, after = _box_pixels(form_pdf, FORM_SEAL_PLACE.box), _box_pixels(signed, FORM_SEAL_PLACE.box)
    assert (before.min(axis=2) > 240).all()  # nothing printed where the signature goes
    r, g, b = after[..., 0], after[..., 1], after[..., 2]
    assert ((r > 150) & (g < 100) & (b < 100)).sum() > 300  # the frame and the center's name in stamp red


@pytest.mark.parametrize("kind", ["form", "receipt", "settlement_letter"])
def test_each_document_keeps_its_signature_box_free_and_gets_the_visible_signature(kind, pki):
    from printing.letters import LETTER_SEAL_PLACE, render_settlement_letter
    from printing.receipt import RECEIPT_SEAL_PLACE, render_receipt

    case = json.loads(SAMPLE_CASE.read_text(encoding="utf-8"))
    render, place = {"form": (render_application_form, FORM_SEAL_PLACE),
                     "receipt": (render_receipt, RECEIPT_SEAL_PLACE),
                     "settlement_letter": (render_settlement_letter, LETTER_SEAL_PLACE)}[kind]
    pdf = render(case).pdf
    keys = _keys(pki)
    with keys.signer() as signer:
        signed = sign_pdf(pdfa.archival_copy(pdf, title=kind, author=CENTER), signer, SignatureRequest(CENTER, place))
    before, after = _box_pixels(pdf, place.box), _box_pixels(signed, place.box)
    assert (before.min(axis=2) > 240).all(), kind
    assert ((after[..., 0] > 150) & (after[..., 1] < 100) & (after[..., 2] < 100)).sum() > 300, kind
    assert pdfa.pdfa_problems(signed) == [], kind
    assert pdf_verify.check_with_pyhanko(signed, keys.trust_roots())[0].ok


def test_with_a_time_stamp_authority_the_signature_is_b_t(form_pdf, pki, tsa):
    signed = _sign(_keys(pki), form_pdf, tsa_url=tsa.url)
    [check] = pdf_verify.check_with_pyhanko(signed, pdf_verify.load_certificates(pki.ca.root_pem))
    assert check.ok and check.timestamped, check.message
    assert tsa.requests >= 1  # (pyHanko asks once more to size the token)
    assert pdf_verify.check_with_pdfsig(signed, pdf_verify.load_certificates(pki.ca.root_pem)).ok


def test_time_stamp_authority_down_is_a_chinese_message_not_a_traceback(form_pdf, pki, tsa):
    from printing.pdf_signing import SigningError

    url = tsa.url
    tsa.close()
    with pytest.raises(SigningError, match="时间戳服务"):
        _sign(_keys(pki), form_pdf, tsa_url=url)


def test_archival_copy_is_pdfa3_with_the_case_json_attached(form_pdf):
    case = json.dumps({"case_no": "410702-01-20261127-0003-6"}, ensure_ascii=False).encode()
    copy = pdfa.archival_copy(form_pdf, title="联办申请表", author=CENTER, attachment=case)
    assert pdfa.pdfa_problems(form_pdf)  # reportlab's output alone is not PDF/A
    assert pdfa.pdfa_problems(copy) == []
    assert pdfa.embedded_attachment(copy) == case
    reader = PdfFileReader(io.BytesIO(copy))
    spec = reader.root["/AF"][0]
    assert spec["/AFRelationship"] == "/Data" and spec["/EF"]["/F"]["/Subtype"] == "/application/json"
    xmp = reader.root["/Metadata"].data.decode()
    assert 'pdfaid:part="3"' in xmp and CENTER in xmp
    assert "/Encrypt" not in reader.trailer


def test_pdfa_check_finds_an_unembedded_font():
    from reportlab.pdfgen.canvas import Canvas

    buf = io.BytesIO()
    c = Canvas(buf)
    c.drawString(100, 100, "Helvetica is not embedded")
    c.save()
    copy = pdfa.archival_copy(buf.getvalue(), title="t", author="a")
    assert any("Helvetica" in p for p in pdfa.pdfa_problems(copy))
