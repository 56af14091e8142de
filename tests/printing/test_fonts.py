"""The bundled fonts: TrueType outlines, licensed, registered once, and the fallback rule."""
from __future__ import annotations

import struct
import threading

from printing import fonts


def _table_tags(path) -> list[set[str]]:
    """Table tags of every face in a .ttf/.ttc (read from the file's table directory)."""
    data = path.read_bytes()
    offsets = [0]
    if data[:4] == b"ttcf":
        n = struct.unpack(">I", data[8:12])[0]
        offsets = list(struct.unpack(f">{n}I", data[12:12 + 4 * n]))
    faces = []
    for off in offsets:
        num = struct.unpack(">H", data[off + 4:off + 6])[0]
        faces.append({data[off + 12 + 16 * i: off + 16 + 16 * i].decode("latin1") for i in range(num)})
    return faces


def test_bundled_fonts_have_truetype_outlines_not_cff():
    for path in fonts.qt_font_files():
        assert path.exists(), path
        for tags in _table_tags(path):
            assert "glyf" in tags and "loca" in tags, path
            assert "CFF " not in tags and "CFF2" not in tags, path


def test_each_font_ships_with_its_licence():
    folder = fonts.font_path().parent
    assert "GNU GENERAL PUBLIC LICENSE" in (folder / "LICENSE-wqy-zenhei.txt").read_text(encoding="utf-8")
    assert "font embedding exception" in (folder / "LICENSE-wqy-zenhei.txt").read_text(encoding="utf-8").lower()
    arphic = (folder / "LICENSE-arphic-uming.txt").read_text(encoding="utf-8")
    assert "ARPHIC PUBLIC LICENSE" in arphic and "MODIFIED" in arphic
    assert (folder / "ARPHICPL.txt").read_text(encoding="utf-8").startswith("ARPHIC PUBLIC LICENSE")


def test_font_files_stay_reasonably_small():
    for path in fonts.qt_font_files():
        assert path.stat().st_size <= 20 * 1024 * 1024, path


def test_register_fonts_is_idempotent_and_safe_from_many_threads():
    from reportlab.pdfbase import pdfmetrics

    errors = []

    def register():
        try:
            fonts.register_fonts()
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=register) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    fonts.register_fonts()
    assert errors == []
    assert pdfmetrics.getFont(fonts.FONT_NAME).face.name  # registered under our name
    assert pdfmetrics.getFont(fonts.RARE_FONT_NAME).face.name


def test_common_text_needs_no_fallback():
    text = "河南省退役军人服务“一件事”联办申请表（附件1）：刘涛、姚华，410704199802166071，√□—·"
    assert fonts.missing_glyphs(text) == set()


def test_extension_a_is_in_the_main_font():
    assert fonts.missing_glyphs("刘䶮") == set()  # 䶮 U+4DAE, a famous rare name character


def test_extension_b_falls_back_to_the_bundled_rare_font():
    assert fonts.missing_glyphs("王𠈌") == {"𠈌"}
    assert fonts.unrenderable("王𠈌") == set()
    assert fonts.font_kind("𠈌") == fonts.RARE


def test_characters_in_no_font_are_boxed_with_their_code_point():
    assert fonts.unrenderable("李𪜀") == {"𪜀"}
    assert fonts.font_kind("𪜀") == fonts.BOX
    assert fonts.code_point_label("𪜀") == "U+2A700"


def test_split_runs_keeps_every_visible_character_in_order():
    text = "张𠈌𪜀军\ufe00"
    runs = fonts.split_runs(text)
    assert [k for k, _ in runs] == [fonts.MAIN, fonts.RARE, fonts.BOX, fonts.MAIN]
    assert "".join(r for _, r in runs) == "张𠈌𪜀军"  # the variation selector is not drawn


def test_qt_font_file_is_the_main_font():
    assert fonts.qt_font_file() == fonts.font_path()
    assert fonts.qt_font_files()[0] == fonts.font_path()
