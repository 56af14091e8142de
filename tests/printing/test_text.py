"""Line breaking for Chinese text: never wider than the line, never losing a character."""
from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from printing.text import NO_LINE_END, NO_LINE_START, text_width, wrap_text

ADDRESS = "河南省新乡市凤泉区金穗大道49号16号楼1单元1697室（东门进，电话13812345678），邮编453000"


def test_text_that_fits_stays_on_one_line():
    assert wrap_text("新乡市公安局凤泉区分局北站派出所", 10, 400) == ["新乡市公安局凤泉区分局北站派出所"]


def test_long_address_wraps_within_the_width():
    lines = wrap_text(ADDRESS, 10, 150)
    assert len(lines) > 1
    assert all(text_width(ln, 10) <= 150 + 1e-6 for ln in lines)
    assert "".join(lines) == ADDRESS


def test_digit_strings_are_not_split_when_they_fit_on_a_line():
    lines = wrap_text("户主身份证号：410704195804199557", 10, 130)
    assert "410704195804199557" in lines


def test_closing_punctuation_never_starts_a_line():
    text = "本人确认上述申报事项为自主选择，申报信息、内容真实有效，若存在隐瞒事实、提供虚假材料等行为。"
    for width in range(60, 300, 7):
        lines = wrap_text(text, 10, width)
        assert all(ln[:1] not in NO_LINE_START for ln in lines[1:]), (width, lines)
        assert all(ln[-1:] not in NO_LINE_END for ln in lines), (width, lines)
        assert "".join(lines) == text


def test_explicit_newline_breaks():
    assert wrap_text("第一行\n第二行", 10, 500) == ["第一行", "第二行"]


def test_rare_characters_are_measured_and_kept():
    lines = wrap_text("申请人𠈌𪜀军" * 5, 10, 60)
    assert "".join(lines) == "申请人𠈌𪜀军" * 5
    assert all(text_width(ln, 10) <= 60 + 1e-6 for ln in lines)


@example("00000“0000", 24.0)  # an opening quote carried down made the next line overflow
@settings(max_examples=120, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("河南省新乡市凤泉区金穗大道号楼单元，。、（）“”0123456789ABCxyz-𠈌䶮")),
               min_size=0, max_size=80),
       st.floats(min_value=20, max_value=300))
def test_wrapping_loses_nothing_and_never_overflows(text, width):
    lines = wrap_text(text, 10, width)
    assert "".join(lines) == text.replace(" ", "")
    assert all(text_width(ln, 10) <= width + 1e-6 for ln in lines)
