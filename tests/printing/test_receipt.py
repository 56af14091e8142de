"""受理回执: codes that decode, due dates, materials, next steps, the provisional mark."""
from __future__ import annotations

import datetime as _dt

import pytest

from counter_app.case_number import CaseNumber
from counter_app.scheme import ITEMS
from printing.receipt import PROVISIONAL_MARK, render_receipt
from printing.result import PrintingError
from tests.printing.conftest import decode_codes, page_count, render_rgb, stream_text, variant

URL = "https://www.hnzwfw.gov.cn/ythj/progress?case=410702012026112700036"


@pytest.fixture
def receipt(case):
    return render_receipt(case, lookup_url=URL, printed_at=_dt.datetime(2026, 11, 27, 9, 45))


def test_barcode_and_qr_code_decode_to_case_number_and_link(case, receipt):
    codes = {c.format.name: c.text for c in decode_codes(receipt.pdf, 0)}
    assert codes.get("Code128") == CaseNumber.parse(case["case_no"]).compact
    assert codes.get("QRCode") == URL


def test_chosen_items_with_departments_and_due_dates(case, receipt):
    text = stream_text(receipt.pdf)
    for n in case["application"]["items"]:
        assert ITEMS[n].title in text
    assert "户口登记（退役军人恢复户口）公安部门10个工作日（开具介绍信后）2026年12月14日" in text
    assert "社会保险登记人社部门2个工作日（户口登记后）2026年12月16日" in text
    assert "按资金到账情况办理" in text and "另需7个工作日制卡" in text
    assert "18个工作日，预计2026年12月23日前办结" in text


def test_only_chosen_items_are_listed(case):
    c = variant(case, application__items=[1, 11])
    text = stream_text(render_receipt(c, lookup_url=URL).pdf)
    assert ITEMS[11].title in text and ITEMS[4].title not in text
    assert "携带《居民户口簿》" not in text  # no hukou step for this applicant
    assert "人民武装部" in text


def test_materials_received_and_next_steps(receipt):
    text = stream_text(receipt.pdf)
    for m in ("军人公民身份号码登记表", "退出现役证件", "退出现役行政介绍信", "军人退役医疗保险个人账户转移凭证",
              "居民户口簿", "已核验原件"):
        assert m in text
    assert "激活社会保障卡的金融功能" in text
    assert "请携带《居民户口簿》到新乡市公安局凤泉区分局北站派出所打印本人户口页" in text
    assert "前往新乡市红旗区人民武装部（县级兵役机关）办理；县级兵役机关（人民武装部）自您本人前往提出申请起1个工作日内完成预备役登记" in text
    assert "兵役登记介绍信（本中心已开具，已当面交给您）" in text


def test_personal_numbers_are_masked_on_the_receipt(case, receipt):
    text = stream_text(receipt.pdf)
    assert case["application"]["applicant"]["id_number"] not in text
    assert "410***********6071" in text and "187****2287" in text


def test_provisional_until_platform_acknowledges(case, receipt):
    assert PROVISIONAL_MARK in stream_text(receipt.pdf)
    img = render_rgb(receipt.pdf, 0, 72)
    red = (img[:, :, 0] > 150) & (img[:, :, 1] < 90) & (img[:, :, 2] < 90)
    assert red.sum() > 200  # the red mark is really painted
    acked = variant(case, platform={"acknowledged": True, "acknowledged_at": "2026-11-27T10:00:00+08:00",
                                    "receipt": "R1"})
    result = render_receipt(acked, lookup_url=URL)
    assert PROVISIONAL_MARK not in stream_text(result.pdf) and "临时回执" not in stream_text(result.pdf)


def test_page_numbers_say_page_x_of_y(receipt):
    n = page_count(receipt.pdf)
    for i in range(n):
        assert f"第{i + 1}页共{n}页" in stream_text(receipt.pdf, i)


def test_link_is_passed_in_and_printing_never_reads_the_data_directory(case, tmp_path, monkeypatch):
    from counter_app.config import DocumentDetails, Settings

    home = tmp_path / "cfg-home"
    home.mkdir()
    (home / "config.toml").write_text('lookup_url = "https://yss.example.cn/q/{case_no}"\n', encoding="utf-8")
    monkeypatch.setenv("COUNTER_APP_HOME", str(home))
    compact = CaseNumber.parse(case["case_no"]).compact
    result = render_receipt(case)  # no link given: the settings' default, not the file above
    qr = [c.text for c in decode_codes(result.pdf, 0) if c.format.name == "QRCode"]
    assert qr == [DocumentDetails().lookup_url.replace("{case_no}", compact)]
    settings = Settings()
    settings.set("lookup_url", "https://yss.example.cn/q?x=1")
    result = render_receipt(case, lookup_url=DocumentDetails.of(settings).lookup_url)
    qr = [c.text for c in decode_codes(result.pdf, 0) if c.format.name == "QRCode"]
    assert qr == [f"https://yss.example.cn/q?x=1&case_no={compact}"]


def test_receipt_needs_a_case_number_and_a_link(case):
    with pytest.raises(PrintingError, match="办件编号"):
        render_receipt(variant(case, case_no=None), lookup_url=URL)
    with pytest.raises(PrintingError, match="查询链接"):
        render_receipt(case, lookup_url="  ")



def test_the_reserve_registration_row_promises_no_date(receipt):
    """规程 五(四)2 "县级兵役机关…应在申请人提出申请1个工作日内完成": the day runs from the applicant's visit."""
    text = stream_text(receipt.pdf)
    assert "1个工作日（自您前往申请起）" in text and "您前往办理后1个工作日内" in text


def test_the_rating_promise_names_both_channels(receipt):
    """规程 五(六) "受理及联办事项办结后…好差评": the receipt promises what the window and the platform now do."""
    text = stream_text(receipt.pdf)
    assert "全部办结后欢迎对本次服务进行评价（好差评）" in text
    assert "来窗口领取证照时可在评价屏上评价" in text and "省平台将以短信邀请您评价" in text


@pytest.mark.parametrize("acknowledged", [False, True])
def test_the_next_steps_heading_never_stands_alone_at_a_page_foot(case, acknowledged):
    """The acknowledged sample receipt (no provisional mark) fills page 1 down to the 请您注意
    heading: the heading goes over with its first step."""
    if acknowledged:
        case = variant(case, platform={"acknowledged": True, "acknowledged_at": case.get("accepted_at"),
                                       "receipt": "demo"})
    pdf = render_receipt(case, lookup_url=URL, printed_at=_dt.datetime(2026, 11, 27, 9, 45)).pdf
    pages = [stream_text(pdf, i) for i in range(page_count(pdf))]
    page = next(i for i, text in enumerate(pages) if "请您注意" in text)
    after = pages[page].split("请您注意", 1)[1]
    assert after.startswith("1．"), f"page {page + 1} ends with the heading alone"
