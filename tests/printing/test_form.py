"""河南省退役军人服务“一件事”联办申请表 (附件1): read back from the real PDF."""
from __future__ import annotations

import io
import threading

import numpy as np
import pytest
from pypdf import PdfReader

from counter_app.case_number import CaseNumber
from counter_app.scheme import DECLARATION, FORM_ITEM_ORDER, ITEMS
from printing import fonts
from printing.form import render_application_form
from printing.result import PrintingError
from tests.printing.conftest import (
    decode_codes,
    page_chars,
    page_count,
    plumber_text,
    render_gray,
    stream_text,
    variant,
)

# Every label, option and note of the source form (seed text lines 239-273), as printed.
SOURCE_LABELS = [
    "河南省退役军人服务“一件事”联办申请表", "联办申请", "联办事项：", "退役类型：",
    *(ITEMS[n].title for n in FORM_ITEM_ORDER),
    "自主就业退役士兵", "复员军官", "逐月领取退役金退役军人",
    "申请人姓名", "性别", "照片粘贴处", "358*441", "白底", "出生日期", "民族", "公民身份号码", "政治面貌", "学历",
    "婚姻状况", "联系电话", "备用联系人（关系）", "联系人电话", "拟安置地", "现居住地址",
    "入伍前是否河南户籍", "原户籍是否注销", "(数据共享校验)", "是", "否",
    "退役军人事项", "自主就业退役士兵一次性经济补助登记", "社保卡银行账户卡号：", "开户行：", "(数据共享)",
    "学历提升或就业创业意向登记", "复学", "学历提升", "就业", "创业", "没有考虑好", "开具落户介绍信",
    "户籍事项", "原籍信息", "入伍前户籍地址", "入户信息", "户口类型", "居民家庭户", "单位集体户",
    "投靠亲属入户", "与户主关系：", "户主姓名：", "户主身份证号：", "户主联系方式：", "新立户",
    "房屋产权信息：", "（数据共享校验）", "拟申请落户地址", "拟落户地公安派出所",
    "养老保险事项", "军人退役基本养老保险关系接续（该事项依托全国统一军地养老保险转移接续平台，"
    "通过总对总传递、转移资金总对省清算的方式进行，免申即享）",
    "灵活就业养老保险参保登记", "城乡居民养老保险参保登记", "社保卡申领", "发卡银行：", "社保卡邮寄送达地址：",
    "医疗保险事项", "以灵活就业人员身份参加城镇职工基本医疗保险", "参加灵活就业", "县（市、区）",
    "（具体参保缴费标准按参保地相关规定执行）", "退役军人医疗保险关系转移接续", "缴费起止时间",
    "（军队医保个人账户金额直接划转给本人，无需进行转移）", "城乡居民医保参保登记", "参保地：",
    "乡镇（街道）", "村（社区）", "申请承诺", DECLARATION, "申请人：", "（签名）", "申请日期：",
]


@pytest.fixture
def form(case, photo_jpeg, signature_png):
    return render_application_form(case, photo_jpeg=photo_jpeg, signature_png=signature_png)


PHOTO_PLACEHOLDER = {"照片粘贴处", "358*441", "白底"}


def test_every_label_of_the_source_form_is_printed(case, form):
    # pdfplumber, as the issue asks; the other tests read the same text layer through pdfium.
    blank = plumber_text(render_application_form(case).pdf)
    assert [label for label in SOURCE_LABELS if label.replace(" ", "") not in blank] == []
    filled = plumber_text(form.pdf)  # with the photo, it covers the "paste here" note
    assert [label for label in SOURCE_LABELS
            if label.replace(" ", "") not in filled and label not in PHOTO_PLACEHOLDER] == []


def test_the_case_values_are_printed(case, form):
    text = stream_text(form.pdf)
    a = case["application"]
    values = [a["applicant"][k] for k in ("name", "sex", "birth_date", "ethnicity", "id_number", "political_status",
                                         "education", "marital_status", "phone", "backup_phone",
                                         "placement_place", "current_address")]
    values += ["姚华（姐妹）", a["hukou"]["pre_enlistment_address"], a["hukou"]["target_address"],
               a["hukou"]["police_station"], a["hukou"]["head_name"], a["hukou"]["head_id_number"],
               a["hukou"]["head_phone"], a["pension"]["card_bank"], a["pension"]["card_mailing_address"],
               "2016年09月—2026年09月", "新乡市红旗县（市、区）东关乡镇（街道）幸福村（社区）",
               "2026年11月27日", case["case_no"]]
    assert [v for v in values if v not in text] == []


def _ticked(text: str, label: str) -> bool:
    i = text.index(label)
    return text[i - 1] == "√"


def test_chosen_items_and_options_are_ticked_and_others_not(case):
    app = case["application"]
    app["items"] = [1, 4, 8, 11]
    app["retirement_type"] = "demobilized_officer"
    app["pension"]["choice"] = "urban_rural"
    app["medical"]["choice"] = "employee_flexible"
    app["medical"]["flexible_city"], app["medical"]["flexible_county"] = "新乡市", "卫滨区"
    app["data_sharing"]["hukou_cancelled"] = False
    text = stream_text(render_application_form(case).pdf)
    for n in FORM_ITEM_ORDER:
        assert _ticked(text, ITEMS[n].title) == (n in app["items"]), ITEMS[n].title
    assert _ticked(text, "复员军官") and not _ticked(text, "自主就业退役士兵")
    app["items"] = [1, 4, 6, 8, 9, 11]
    text = stream_text(render_application_form(case).pdf)
    assert _ticked(text, "城乡居民养老保险参保登记") and not _ticked(text, "灵活就业养老保险参保登记")
    assert _ticked(text, "以灵活就业人员身份参加城镇职工基本医疗保险")
    assert not _ticked(text, "城乡居民医保参保登记")
    assert "参加灵活就业新乡市卫滨县（市、区）" in text
    assert _ticked(text, "社保卡申领")                     # item 8 chosen
    assert not _ticked(text, "退役军人医疗保险关系转移接续")  # item 10 not chosen
    assert "原户籍是否注销是√否" in text                     # 否 ticked, 是 not


def test_items_are_in_the_form_order_card_before_pension_transfer(form):
    text = stream_text(form.pdf)
    positions = [text.index(ITEMS[n].title) for n in FORM_ITEM_ORDER]
    assert positions == sorted(positions)
    assert text.index(ITEMS[8].title) < text.index(ITEMS[7].title)


def test_fonts_are_embedded_as_subsets(form):
    reader = PdfReader(io.BytesIO(form.pdf))
    seen = 0
    for page in reader.pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            descendants = font.get("/DescendantFonts")
            desc = (descendants[0].get_object() if descendants else font)["/FontDescriptor"].get_object()
            assert "/FontFile2" in desc, font["/BaseFont"]          # TrueType program embedded
            assert "+" in str(font["/BaseFont"]), font["/BaseFont"]  # ...as a subset
            seen += 1
    assert seen >= 2


def test_no_empty_glyph_boxes(form):
    """Every character the PDF claims to draw has ink where it is drawn, and the font has it."""
    text = stream_text(form.pdf)
    assert fonts.missing_glyphs(text) == set()
    dpi = 100
    for page in range(page_count(form.pdf)):
        img = render_gray(form.pdf, page, dpi)
        chars, _, _ = page_chars(form.pdf, page)
        empty = []
        for c in chars:
            if c["text"].isspace():
                continue
            k = dpi / 72
            box = img[int(c["top"] * k):int(np.ceil(c["bottom"] * k)), int(c["x0"] * k):int(np.ceil(c["x1"] * k))]
            if box.size == 0 or box.min() > 160:
                empty.append(c["text"])
        assert empty == [], f"page {page + 1}: no ink for {empty[:20]}"


def test_case_number_barcode_on_every_page_decodes(case, form):
    expected = CaseNumber.parse(case["case_no"]).compact
    for page in range(form.pages):
        codes = [c for c in decode_codes(form.pdf, page) if c.format.name == "Code128"]
        assert [c.text for c in codes] == [expected]


def test_draft_without_case_number_prints_without_barcode(case):
    result = render_application_form(variant(case, case_no=None))
    assert [c for c in decode_codes(result.pdf, 0) if c.format.name == "Code128"] == []
    assert "申请人姓名" in stream_text(result.pdf)


def test_photo_is_embedded_unchanged_and_signature_drawn(form, photo_jpeg):
    reader = PdfReader(io.BytesIO(form.pdf))
    xobjects = [x.get_object() for x in reader.pages[0]["/Resources"]["/XObject"].values()]
    # Passed through as the same JPEG stream (DCTDecode), not re-encoded.
    assert any(x.get("/Filter") == ["/DCTDecode"] and x.get_data() == photo_jpeg for x in xobjects)
    assert len(reader.pages[1].images) >= 1  # the signature on the 申请承诺 page


def test_without_photo_the_box_says_where_to_paste_one(case):
    text = stream_text(render_application_form(case).pdf)
    assert "照片粘贴处" in text


def test_long_address_wraps_inside_the_table(case):
    long = "河南省新乡市凤泉区潞王坟乡金穗大道与和平路交叉口向东三百米路北幸福家园小区南区" * 3 + "16号楼1单元1697室"
    result = render_application_form(variant(case, application__applicant__current_address=long,
                                              application__hukou__target_address=long))
    assert long in stream_text(result.pdf)
    for page in range(result.pages):
        chars, width, height = page_chars(result.pdf, page)
        assert all(c["x1"] <= width - 41 and c["x0"] >= 41 for c in chars)    # inside the 42 pt margins
        assert all(c["bottom"] <= height - 12 and c["top"] >= 12 for c in chars)


def test_rare_name_characters_fall_back_visibly_and_are_reported(case):
    result = render_application_form(variant(case, application__applicant__name="刘𠈌𪜀"))
    assert result.fallback_chars == {"𠈌", "𪜀"}
    assert result.boxed_chars == {"𪜀"}
    text = stream_text(result.pdf, 0)
    assert "刘𠈌U+2A700" in text  # 𠈌 from the Ext B font; 𪜀 as a box with its code point
    reader = PdfReader(io.BytesIO(result.pdf))
    names = {str(f.get_object()["/BaseFont"]) for f in reader.pages[0]["/Resources"]["/Font"].values()}
    assert any(n.endswith("+CounterAppRareHan") for n in names)  # the bundled Ext B font, embedded
    # The rare glyph has ink where pdfplumber says it is.
    chars, _, _ = page_chars(result.pdf, 0)
    c = next(c for c in chars if c["text"] == "𠈌")
    img = render_gray(result.pdf, 0, 100)
    k = 100 / 72
    assert img[int(c["top"] * k):int(c["bottom"] * k) + 1, int(c["x0"] * k):int(c["x1"] * k) + 1].min() < 128


def test_broken_photo_is_a_clear_error(case, photo_jpeg):
    with pytest.raises(PrintingError, match="照片"):
        render_application_form(case, photo_jpeg=b"not a jpeg")
    with pytest.raises(PrintingError, match="损坏"):
        render_application_form(case, photo_jpeg=photo_jpeg[:200])


def test_broken_signature_is_a_clear_error(case, signature_png):
    with pytest.raises(PrintingError, match="签名"):
        render_application_form(case, signature_png=signature_png[:60])


def test_malformed_case_is_a_clear_error(case):
    with pytest.raises(PrintingError, match="办件数据"):
        render_application_form(["not", "a", "case"])
    with pytest.raises(PrintingError, match="application"):
        render_application_form({"case_no": case["case_no"]})
    with pytest.raises(PrintingError, match="校验位"):
        render_application_form(variant(case, case_no="410702-01-20261127-0003-5"))


def test_same_case_renders_identical_bytes(case):
    assert render_application_form(case).pdf == render_application_form(case).pdf


def test_concurrent_renders_match_sequential_ones(case, photo_jpeg):
    names = ["刘涛", "张𠈌军", "欧阳明华", "李䶮"]
    cases = [variant(case, application__applicant__name=n) for n in names]
    expected = [render_application_form(c, photo_jpeg=photo_jpeg).pdf for c in cases]
    results: dict[int, bytes] = {}

    def work(i):
        results[i] = render_application_form(cases[i], photo_jpeg=photo_jpeg).pdf

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(cases)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [results[i] for i in range(len(cases))] == expected


# Only chosen items' choices print (issue: items 1, 2, 3, 11 chosen, yet 居民家庭户, 投靠亲属入户,
# 灵活就业养老保险 and 城乡居民医保 printed ticked). (option on the form, the item it belongs to)
UNCHOSEN_ROWS = [
    ("居民家庭户", 4), ("投靠亲属入户", 4), ("灵活就业养老保险参保登记", 6), ("城乡居民医保参保登记", 9),
]


@pytest.mark.parametrize("label,item", UNCHOSEN_ROWS, ids=[r[0] for r in UNCHOSEN_ROWS])
def test_choices_of_items_not_chosen_do_not_print_ticked(case, label, item):
    case["application"]["items"] = [1, 2, 3, 11]
    text = stream_text(render_application_form(case).pdf)
    assert not _ticked(text, label)
    assert case["application"]["hukou"]["head_name"] not in text  # nor their values
    case["application"]["items"] = [1, 2, 3, 4, 6, 9, 11]
    assert _ticked(stream_text(render_application_form(case).pdf), label)


def test_every_field_at_its_validation_limit_fits_the_form(case, photo_jpeg, signature_png):
    """The limits rules.validate enforces (counter_app/form_limits.py) are what the form holds:
    an application at every limit renders (a longer one is refused by validation, not here)."""
    from counter_app.form_limits import FIELD_LIMITS

    changes = {}
    for path, (_, most) in FIELD_LIMITS.items():
        changes["application__" + path.replace(".", "__")] = ("河南省新乡市红旗区东关街道幸福社区" * 10)[:most]
    case["application"]["medical"]["choice"] = "urban_rural"
    result = render_application_form(variant(case, **changes), photo_jpeg=photo_jpeg, signature_png=signature_png)
    assert result.pages == 2
    text = stream_text(result.pdf)
    assert ("河南省新乡市红旗区东关街道幸福社区" * 10)[:80] in text


# Small texts as the source prints them: (the source's words, page, must stay on one line)
ONE_LINE_ROWS = [("备用联系人（关系）", 0), ("（数据共享校验）", 1), ("联办事项：", 0), ("退役类型：", 0)]


def _lines_of(pdf: bytes, word: str, page: int) -> list[set[int]]:
    chars, _, _ = page_chars(pdf, page)
    text = "".join(c["text"] for c in chars)
    out, i = [], text.find(word)
    while i >= 0:
        out.append({round(c["top"]) for c in chars[i:i + len(word)]})
        i = text.find(word, i + 1)
    return out


@pytest.mark.parametrize("word,page", ONE_LINE_ROWS, ids=[r[0] for r in ONE_LINE_ROWS])
def test_labels_keep_their_colons_and_never_break_mid_word(case, word, page):
    pdf = render_application_form(case).pdf
    found = _lines_of(pdf, word, page)
    assert found and all(len(tops) == 1 for tops in found), found


def test_the_photo_note_keeps_the_sources_spacing(case):
    chars, _, _ = page_chars(render_application_form(case).pdf, 0)
    text = "".join(c["text"] for c in chars)
    assert "(电子版： 358 * 441，" in text and "白底)" in text   # source: "(电子版： 358 * 441， 白底)"
    assert "（电子版：358*441，" not in text
