"""``counter-app form/receipt/letter render`` and the watermark command."""
from __future__ import annotations

import json

import pytest

from app.cli import main
from tests.printing.conftest import decode_codes, stream_text


@pytest.fixture
def case_file(tmp_path, case):
    p = tmp_path / "case.json"
    p.write_text(json.dumps(case, ensure_ascii=False), encoding="utf-8")
    return p


def test_form_render_with_photo_and_signature(tmp_path, case_file, photo_jpeg, signature_png, capsys):
    (tmp_path / "p.jpg").write_bytes(photo_jpeg)
    (tmp_path / "s.png").write_bytes(signature_png)
    out = tmp_path / "form.pdf"
    assert main(["form", "render", "--json", str(case_file), "-o", str(out), "--photo", str(tmp_path / "p.jpg"),
                 "--signature", str(tmp_path / "s.png")]) == 0
    assert "联办申请表" in stream_text(out.read_bytes())
    assert "2页" in capsys.readouterr().out


def test_receipt_and_letters_render(tmp_path, case_file):
    out = tmp_path / "r.pdf"
    assert main(["receipt", "render", "--json", str(case_file), "-o", str(out), "--url", "https://x.example/{case_no}"]) == 0
    assert any(c.text == "https://x.example/410702012026112700036" for c in decode_codes(out.read_bytes(), 0))
    for kind, title in (("settlement", "落户介绍信"), ("reserve", "预备役登记提醒")):
        out = tmp_path / f"{kind}.pdf"
        assert main(["letter", "render", "--json", str(case_file), "--kind", kind, "-o", str(out)]) == 0
        assert title in stream_text(out.read_bytes())


def test_rare_characters_are_listed_for_the_clerk(tmp_path, case, capsys):
    case["application"]["applicant"]["name"] = "刘𠈌𪜀"
    p = tmp_path / "rare.json"
    p.write_text(json.dumps(case, ensure_ascii=False), encoding="utf-8")
    assert main(["form", "render", "--json", str(p), "-o", str(tmp_path / "f.pdf")]) == 0
    out = capsys.readouterr().out
    assert "生僻字" in out and "𠈌" in out and "𪜀" in out


@pytest.mark.parametrize("content, message", [
    ("{not json", "不是有效的JSON"),
    ("[1, 2]", "不是办件JSON"),
    ('{"case_no": "410702-01-20261127-0003-6"}', "application"),
])
def test_bad_case_files_give_one_line_chinese_errors(tmp_path, capsys, content, message):
    p = tmp_path / "bad.json"
    p.write_text(content, encoding="utf-8")
    assert main(["form", "render", "--json", str(p), "-o", str(tmp_path / "x.pdf")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1
    assert not (tmp_path / "x.pdf").exists()


def test_missing_files_and_broken_photo(tmp_path, case_file, capsys):
    assert main(["receipt", "render", "--json", str(tmp_path / "nope.json"), "-o", str(tmp_path / "x.pdf")]) == 2
    assert "找不到办件JSON文件" in capsys.readouterr().err
    (tmp_path / "p.jpg").write_bytes(b"\xff\xd8\xff\xe0broken")
    assert main(["form", "render", "--json", str(case_file), "-o", str(tmp_path / "x.pdf"),
                 "--photo", str(tmp_path / "p.jpg")]) == 2
    assert "照片文件已损坏" in capsys.readouterr().err


def test_letter_not_applicable_is_a_user_error(tmp_path, case, capsys):
    case["application"]["items"] = [1]
    p = tmp_path / "c.json"
    p.write_text(json.dumps(case, ensure_ascii=False), encoding="utf-8")
    assert main(["letter", "render", "--json", str(p), "--kind", "reserve", "-o", str(tmp_path / "x.pdf")]) == 2
    assert "未选择“预备役登记”" in capsys.readouterr().err


def test_watermark_command(tmp_path, case_file, capsys):
    letter = tmp_path / "l.pdf"
    assert main(["letter", "render", "--json", str(case_file), "--kind", "settlement", "-o", str(letter)]) == 0
    out = tmp_path / "w.pdf"
    assert main(["watermark", "--in", str(letter), "-o", str(out), "--checker", "李晓燕"]) == 0
    assert "此件经与原件核对无误" in stream_text(out.read_bytes())
