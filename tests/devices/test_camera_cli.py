"""``counter-app photo`` and ``counter-app scan`` through the real command-line entry point."""
from __future__ import annotations

import io
import json

import cv2
import numpy as np
from PIL import Image
from pypdf import PdfReader

from app.cli import main
from tests.devices import images


def test_photo_command_writes_the_compliant_file_and_reports_every_check(tmp_path, capsys):
    src = tmp_path / "申请人.png"
    cv2.imencode(".png", images.astronaut())[1].tofile(str(src))   # a Chinese file name
    out = tmp_path / "out" / "photo.jpg"
    assert main(["photo", str(src), "-o", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["output"] == str(out)
    assert {c["name"] for c in report["checks"]} >= {"face_found", "face_width", "crown_position", "file_size"}
    pil = Image.open(out)
    assert pil.size == (358, 441) and round(pil.info["dpi"][0]) == 350
    assert report["size_bytes"] == out.stat().st_size


def test_photo_command_refuses_a_cat_and_says_why(tmp_path, capsys):
    src = tmp_path / "cat.jpg"
    cv2.imwrite(str(src), images.chelsea())
    out = tmp_path / "photo.jpg"
    assert main(["photo", str(src), "-o", str(out)]) == 1
    captured = capsys.readouterr()
    assert "未检测到人脸" in captured.err and "不通过" in captured.out
    assert not out.exists()


def test_photo_command_on_a_broken_file_is_a_one_line_error(tmp_path, capsys):
    src = tmp_path / "broken.jpg"
    src.write_bytes(b"not a picture")
    assert main(["photo", str(src), "-o", str(tmp_path / "x.jpg")]) == 2
    err = capsys.readouterr().err
    assert "无法读取图片" in err and "Traceback" not in err


def test_scan_command_makes_one_pdf_from_several_pages(tmp_path, capsys):
    corners = images.camera_view_corners(1600, 1200)
    photo = images.photographed_document(images.document_sheet(1000), 1600, 1200, corners)
    first, second = tmp_path / "p1.jpg", tmp_path / "p2.png"
    cv2.imwrite(str(first), photo)
    cv2.imwrite(str(second), images.document_sheet(800))
    out = tmp_path / "材料.pdf"
    assert main(["scan", str(first), str(second), "-o", str(out), "--bw", "--watermark", "--max-kb", "300"]) == 0
    text = capsys.readouterr().out
    assert "第 1 页：已找到纸张边缘并校正" in text and "第 2 页：未找到纸张边缘" in text
    reader = PdfReader(io.BytesIO(out.read_bytes()))
    assert len(reader.pages) == 2
    for page in reader.pages:
        xobject = next(iter(page["/Resources"]["/XObject"].values())).get_object()
        assert xobject["/ColorSpace"] == "/DeviceGray" and len(xobject.get_data()) <= 300 * 1024


def test_photo_command_reports_every_rule_the_clerk_ticks_and_writes_the_explanation(tmp_path, capsys):
    from tests.devices import portraits

    src = tmp_path / "officer.png"
    cv2.imencode(".png", portraits._grace())[1].tofile(str(src))
    explain = tmp_path / "说明.png"
    out = tmp_path / "photo.jpg"
    assert main(["photo", str(src), "-o", str(out), "--explain", str(explain)]) == 1
    captured = capsys.readouterr()
    assert "头上戴有帽子" in captured.err                     # the cause, named
    for label in ("双眼睁开", "嘴巴闭合", "未侧脸", "未仰头低头", "眼镜无反光", "免冠", "脸部无遮挡"):
        assert label in captured.out
    assert "不着制式服装" in captured.out and "需人工确认" in captured.out
    assert not out.exists()
    # the annotated picture: source panel with landmarks and mask outline beside the output
    picture = cv2.imdecode(np.fromfile(str(explain), np.uint8), cv2.IMREAD_COLOR)
    assert picture.shape[0] > 560 and picture.shape[1] > 700
    panel = picture[:560]
    green = (np.abs(panel.astype(int) - (60, 170, 60)).sum(axis=2) < 30).sum()
    blue = (np.abs(panel.astype(int) - (200, 120, 40)).sum(axis=2) < 30).sum()
    assert green > 300 and blue > 300                       # mesh points and the person outline are drawn


def test_photo_command_can_be_asked_for_the_haar_fallback(tmp_path, capsys):
    src = tmp_path / "a.png"
    cv2.imencode(".png", images.astronaut())[1].tofile(str(src))
    assert main(["photo", str(src), "-o", str(tmp_path / "p.jpg"), "--json", "--engine", "haar"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["engine"] == "haar"
    assert "face_rules_unmeasured" in {c["name"] for c in report["clerk_checks"]}
