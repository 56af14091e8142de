"""Document camera pages: a sheet carrying real scanned text (scikit-image's ``page`` and
``text``) photographed by a simulated pinhole camera at an angle on a textured desk must come
out flat, cropped and with its true proportions; grey/black-and-white, the size limit, the
PDF and the watermark are checked on the real bytes."""
from __future__ import annotations

import io
from functools import lru_cache

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader

from devices.scanner.pages import (WATERMARK_TEXT, ColorMode, DocumentError, DocumentOptions, estimate_skew,
                                   find_page, process_page, stamp_watermark, with_watermark)
from devices.scanner.pdf import ScanError, images_to_pdf
from devices.photo.cjk_font import default_painter
from tests.devices import images

W, H = 1600, 1200
POSES = {
    "tilted_towards_camera": dict(),
    "tilted_away_and_left": dict(tilt_x_deg=-25, tilt_y_deg=12, roll_deg=-4),
    "nearly_frontal_rolled": dict(tilt_x_deg=5, tilt_y_deg=0, roll_deg=2, fill=0.9),
    "off_centre": dict(tilt_x_deg=12, tilt_y_deg=8, roll_deg=10, fill=0.65, shift=(0.12, 0.05)),
}


@lru_cache(maxsize=None)
def sheet() -> np.ndarray:
    return images.document_sheet(1000)


@lru_cache(maxsize=None)
def photographed(pose: str):
    corners = images.camera_view_corners(W, H, **POSES[pose])
    return images.photographed_document(sheet(), W, H, corners), corners


def decode(jpeg: bytes, flags=cv2.IMREAD_UNCHANGED) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(jpeg, np.uint8), flags)


def reference_after_crop(margin: float) -> np.ndarray:
    ref = images.gray(sheet())
    h, w = ref.shape
    mx, my = int(round(w * margin)), int(round(h * margin))
    return ref[my:h - my, mx:w - mx]


@pytest.mark.parametrize("pose", sorted(POSES))
def test_photographed_page_comes_out_flat_and_cropped(pose):
    photo, truth = photographed(pose)
    page = process_page(photo)
    assert page.page_found
    # the sheet's corners were found where the camera put them
    diag = np.hypot(W, H)
    assert np.abs(page.corners - truth).max() < 0.006 * diag
    # its true proportions (A4, 1:√2) are restored, not the keystoned ones of the photograph
    assert page.width / page.height == pytest.approx(2 ** -0.5, rel=0.04)
    # and the content matches the original sheet pixel for pixel
    out = images.gray(decode(page.jpeg))
    ref = reference_after_crop(DocumentOptions().crop_margin)
    resized = cv2.resize(out, (ref.shape[1], ref.shape[0]), interpolation=cv2.INTER_AREA)
    assert images.ncc(resized, ref) > 0.88
    # (a plain crop of the photograph's bounding box does not: the test would notice no rectification)
    x0, y0 = truth.min(axis=0).astype(int)
    x1, y1 = truth.max(axis=0).astype(int)
    naive = cv2.resize(images.gray(photo)[y0:y1, x0:x1], (ref.shape[1], ref.shape[0]))
    assert images.ncc(naive, ref) < 0.6
    # cropped: no desk left along the edges (the desk is much darker than paper)
    for strip in (out[:4], out[-4:], out[:, :4], out[:, -4:]):
        assert np.median(strip) > 150


def test_page_filling_the_view_is_deskewed_without_losing_corners():
    flat = sheet()
    skewed = images.rotated(cv2.copyMakeBorder(flat, 40, 40, 40, 40, cv2.BORDER_CONSTANT, value=(250, 250, 250)), 4.0)
    assert estimate_skew(skewed) == pytest.approx(-4.0, abs=0.3)
    page = process_page(skewed, DocumentOptions(find_page=False))
    assert not page.page_found and page.skew_deg == pytest.approx(-4.0, abs=0.3)
    out = images.gray(decode(page.jpeg))
    # undo only the known padding growth: the centre of the page lines up with the original again
    h, w = out.shape
    cy, cx = h // 2, w // 2
    fh, fw = flat.shape[:2]
    centre = out[cy - fh // 4:cy + fh // 4, cx - fw // 4:cx + fw // 4]
    ref = images.gray(flat)[fh // 2 - fh // 4:fh // 2 + fh // 4, fw // 2 - fw // 4:fw // 2 + fw // 4]
    assert images.ncc(centre, ref) > 0.85
    # the corners brought in by the rotation are paper-coloured, not black
    assert out[:5, :5].mean() > 200


def test_a_page_on_a_white_sheet_is_not_mistaken_for_a_smaller_box():
    # the sheet itself fills the picture: the printed text blocks must not be taken for the page
    assert find_page(sheet()) is None


def test_grey_and_black_and_white():
    photo, _ = photographed("tilted_towards_camera")
    grey = process_page(photo, DocumentOptions(color_mode=ColorMode.GRAY))
    bw = process_page(photo, DocumentOptions(color_mode=ColorMode.BW))
    colour = process_page(photo)
    assert decode(grey.jpeg).ndim == 2 and decode(bw.jpeg).ndim == 2 and decode(colour.jpeg).ndim == 3
    px = decode(bw.jpeg).astype(int)
    assert ((px < 40) | (px > 215)).mean() > 0.95            # two levels, up to JPEG ringing
    assert (px > 215).mean() > 0.6                           # mostly white paper, the light fall-off removed
    assert images.ncc(decode(grey.jpeg), images.gray(decode(colour.jpeg))) > 0.97


def test_size_limit_lowers_quality_then_shrinks():
    big_sheet = images.document_sheet(2400)
    photo = images.photographed_document(big_sheet, 4000, 3000, images.camera_view_corners(4000, 3000, fill=0.95))
    default = process_page(photo)
    assert default.size_bytes <= 1024 * 1024
    limited = process_page(photo, DocumentOptions(max_bytes=150 * 1024))
    assert limited.size_bytes <= 150 * 1024
    assert limited.quality < default.quality or limited.scale < 1.0
    tiny = process_page(photo, DocumentOptions(max_bytes=40 * 1024))
    assert tiny.size_bytes <= 40 * 1024 and tiny.scale < 1.0
    assert decode(tiny.jpeg).shape[1] == tiny.width


def test_scanned_pages_go_through_the_one_scan_to_pdf_path_unchanged_on_a4():
    photo, _ = photographed("tilted_towards_camera")
    pages = [process_page(photo), process_page(photo, DocumentOptions(color_mode=ColorMode.GRAY)),
             process_page(images.astronaut(), DocumentOptions(find_page=False, deskew=False))]
    pdf = images_to_pdf([p.jpeg for p in pages], title="退役军人服务材料")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 3
    assert reader.metadata.title == "退役军人服务材料"
    for page, pdf_page in zip(pages, reader.pages):
        (name,) = pdf_page["/Resources"]["/XObject"].keys()
        xobject = pdf_page["/Resources"]["/XObject"][name].get_object()
        assert xobject["/Filter"] == ["/DCTDecode"]             # binary, not inflated by ASCII85
        assert xobject.get_data() == page.jpeg                # byte for byte, never recompressed
        box = pdf_page.mediabox
        assert (float(box.width), float(box.height)) == pytest.approx((595.28, 841.89), abs=0.1)  # A4
    # an independent renderer draws the page as the picture, scaled to fit and centred
    doc = pdfium.PdfDocument(pdf)
    rendered = doc[0].render(scale=1.0).to_numpy()[..., :3][..., ::-1]
    ph, pw = rendered.shape[:2]
    k = min(pw / pages[0].width, ph / pages[0].height)
    w, h = int(pages[0].width * k), int(pages[0].height * k)
    x, y = (pw - w) // 2, (ph - h) // 2
    drawn = rendered[y + 2:y + h - 2, x + 2:x + w - 2]
    ref = decode(pages[0].jpeg, cv2.IMREAD_COLOR)
    ref = cv2.resize(ref, (w, h), interpolation=cv2.INTER_AREA)[2:h - 2, 2:w - 2]
    assert images.ncc(images.gray(drawn), images.gray(ref)) > 0.95
    doc.close()


def _stamp_score(image: np.ndarray) -> float:
    """How well the lower half of the page matches the watermark text rendered on its own."""
    painter = default_painter()
    h, w = image.shape[:2]
    size_px = max(14, int(min(w, h * 0.75) / 22))
    colour, alpha = painter.render(WATERMARK_TEXT, size_px, (0, 0, 0))
    template = (255 - alpha * 255).astype(np.uint8)
    lower = images.gray(image)[h // 2:, :]
    return float(cv2.matchTemplate(lower, template, cv2.TM_CCOEFF_NORMED).max())


def test_watermark_text_is_stamped_in_the_corner():
    photo, _ = photographed("tilted_towards_camera")
    plain = process_page(photo)
    stamped = process_page(photo, DocumentOptions(watermark=True))
    assert stamped.watermarked and not plain.watermarked
    assert _stamp_score(decode(stamped.jpeg, cv2.IMREAD_COLOR)) > 0.7
    assert _stamp_score(decode(plain.jpeg, cv2.IMREAD_COLOR)) < 0.4
    # red on colour pages
    out = decode(stamped.jpeg, cv2.IMREAD_COLOR).astype(int)
    red = (out[..., 2] > 150) & (out[..., 1] < 90) & (out[..., 0] < 90)
    assert red[out.shape[0] * 3 // 4:, out.shape[1] // 3:].sum() > 200 and red[:out.shape[0] // 2].sum() == 0
    # stamping later, after the clerk ticked "checked", gives the same stamp
    later = with_watermark(plain)
    assert later.watermarked and _stamp_score(decode(later.jpeg, cv2.IMREAD_COLOR)) > 0.7
    grey = stamp_watermark(images.gray(decode(plain.jpeg, cv2.IMREAD_COLOR)))
    assert grey.ndim == 2 and _stamp_score(grey) > 0.7


@pytest.mark.parametrize("bad", [None, np.zeros((0, 0, 3), np.uint8), np.zeros((50, 50), np.float64)])
def test_unusable_picture_is_a_clear_error(bad):
    with pytest.raises(DocumentError, match="无法读取扫描图像"):
        process_page(bad)


def test_empty_pdf_is_refused():
    with pytest.raises(ScanError, match="没有可生成 PDF 的页面"):
        images_to_pdf([])
