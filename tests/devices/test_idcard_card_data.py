"""The 256-byte text block of each card type, built here field by field in card order (not with
the module's own layout table), and the code tables."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from stdnum.cn import ric

from devices.idcard.card_data import (
    FOREIGN_2017,
    FOREIGN_2023,
    HMT_RESIDENCE,
    RESIDENT,
    IdCardData,
    encode_card_text,
    load_card,
    parse_card_text,
    sample_card,
    sample_card_names,
)
from devices.idcard.codes import ETHNICITY_NAMES
from devices.idcard.errors import CardDataError

from tests.devices.conftest import has_chinese


def f(value: str, size: int) -> bytes:
    raw = value.encode("utf-16-le")
    assert len(raw) <= size
    return raw + b" \x00" * ((size - len(raw)) // 2)


def resident_block(*, name="赵振华", sex="1", nation="01", birth="19850612",
                   address="河南省新乡市红旗区胜利路示例小区3号楼2单元101室", number="410702198506120039",
                   authority="新乡市公安局红旗分局", start="20160420", end="20360420") -> bytes:
    block = (f(name, 30) + f(sex, 2) + f(nation, 4) + f(birth, 16) + f(address, 70) + f(number, 36)
             + f(authority, 30) + f(start, 16) + f(end, 16) + f("", 36))
    assert len(block) == 256
    return block


def hmt_block(number="810000199508180041") -> bytes:
    block = (f("陈嘉欣", 30) + f("2", 2) + f("", 4) + f("19950818", 16) + f("河南省郑州市金水区花园路示例大厦1201室", 70)
             + f(number, 36) + f("郑州市公安局金水分局", 30) + f("20230901", 16) + f("20280901", 16)
             + f("H60123456", 18) + f("01", 4) + f("", 6) + f("J", 2) + f("", 6))
    assert len(block) == 256
    return block


def foreign_2017_block() -> bytes:
    block = (f("SAMPLE, JOHN ALEXANDER", 120) + f("1", 2) + f("CAN410178020312", 30) + f("CAN", 6) + f("山姆", 30)
             + f("20180510", 16) + f("20280510", 16) + f("19780203", 16) + f("17", 4) + f("4100", 8)
             + f("I", 2) + f("", 6))
    assert len(block) == 256
    return block


def foreign_2023_block(english="EXAMPLE-SAMPLE, MARIA ELIZABETH CATHERINE") -> bytes:
    block = (f("玛丽", 30) + f("2", 2) + f("00", 4) + f("19900721", 16) + f(english[:35], 70)
             + f("914182619900721020", 36) + f("", 30) + f("20240115", 16) + f("20340115", 16)
             + f(english[35:], 22) + f("GBR", 6) + f("Y", 2) + f("", 6))
    assert len(block) == 256
    return block


def test_resident_card_fields():
    card = parse_card_text(resident_block(), b"\x01" * 1024)
    assert card.card_type == RESIDENT
    assert (card.name, card.sex_code, card.sex_text) == ("赵振华", "1", "男")
    assert (card.ethnicity_code, card.ethnicity_text) == ("01", "汉族")
    assert card.birth_date == dt.date(1985, 6, 12)
    assert card.address == "河南省新乡市红旗区胜利路示例小区3号楼2单元101室"
    assert card.id_number == "410702198506120039"
    assert card.issuing_authority == "新乡市公安局红旗分局"
    assert (card.valid_from, card.valid_to) == (dt.date(2016, 4, 20), dt.date(2036, 4, 20))
    assert card.photo_wlt == b"\x01" * 1024
    assert card.warnings == []


def test_long_term_card_has_no_end_date():
    card = parse_card_text(resident_block(end="长期"))
    assert card.valid_to is None
    assert card.to_dict()["valid_to_text"] == "长期"


def test_hmt_residence_permit_fields():
    card = parse_card_text(hmt_block())
    assert card.card_type == HMT_RESIDENCE
    assert (card.name, card.sex_text, card.pass_number, card.issue_count) == ("陈嘉欣", "女", "H60123456", 1)
    assert card.issuing_authority == "郑州市公安局金水分局"
    assert card.ethnicity_code == ""


def test_hmt_number_is_checked_by_its_check_digit_only():
    # 810000 is no administrative division, so a full RIC validation would refuse the card.
    assert not ric.is_valid("810000199508180041")
    parse_card_text(hmt_block("810000199508180041"))
    with pytest.raises(CardDataError):
        parse_card_text(hmt_block("810000199508180042"))


def test_foreign_2017_card_fields():
    card = parse_card_text(foreign_2017_block())
    assert card.card_type == FOREIGN_2017
    assert (card.name_en, card.name, card.nationality_code) == ("SAMPLE, JOHN ALEXANDER", "山姆", "CAN")
    assert card.id_number == "CAN410178020312"
    assert card.birth_date == dt.date(1978, 2, 3)
    assert (card.card_version, card.authority_code) == ("17", "4100")
    assert card.valid_to == dt.date(2028, 5, 10)


def test_foreign_2023_card_joins_the_split_english_name():
    name = "EXAMPLE-SAMPLE, MARIA ELIZABETH CATHERINE"
    assert len(name) > 35
    card = parse_card_text(foreign_2023_block(name))
    assert card.card_type == FOREIGN_2023
    assert card.name_en == name
    assert (card.name, card.nationality_code, card.renewal_count) == ("玛丽", "GBR", 0)
    assert card.id_number == "914182619900721020"


def test_exactly_35_character_english_name_is_not_cut():
    name = "A" * 35
    assert parse_card_text(foreign_2023_block(name)).name_en == name


@pytest.mark.parametrize("code,text", [("0", "未知的性别"), ("1", "男"), ("2", "女"), ("9", "未说明的性别")])
def test_sex_codes(code, text):
    assert parse_card_text(resident_block(sex=code)).sex_text == text


@pytest.mark.parametrize("code", sorted(ETHNICITY_NAMES))
def test_every_ethnicity_code_reads_back(code):
    card = parse_card_text(resident_block(nation=code))
    assert card.ethnicity_text == ETHNICITY_NAMES[code]
    assert card.warnings == []


def test_ethnicity_table_is_complete():
    assert sorted(ETHNICITY_NAMES) == [f"{i:02d}" for i in range(1, 57)] + ["97", "98"]
    assert (ETHNICITY_NAMES["01"], ETHNICITY_NAMES["56"], ETHNICITY_NAMES["98"]) == ("汉族", "基诺族", "外国血统中国籍人士")
    assert len(set(ETHNICITY_NAMES.values())) == 58


def test_unknown_codes_are_flagged_not_guessed():
    card = parse_card_text(resident_block(nation="77", sex="5"))
    assert "未知" in card.ethnicity_text and "未知" in card.sex_text
    assert len(card.warnings) == 2


@pytest.mark.parametrize("kwargs,expected", [
    ({"number": "410702198506120038"}, "校验"),  # wrong check digit
    ({"number": "41070219850612003"}, "校验"),  # too short
    ({"number": "4107021985061200³9"}, "校验"),  # a Unicode digit that int() refuses
    ({"birth": "1985061²"}, "出生日期"),
    ({"birth": "19850613"}, "出生日期"),  # number and card disagree
    ({"birth": "19851332"}, "出生日期"),  # no such date
    ({"start": "2016042"}, "有效期起始"),
    ({"end": "20361331"}, "有效期截止"),
])
def test_damaged_resident_fields_give_a_clear_error(kwargs, expected):
    with pytest.raises(CardDataError) as info:
        parse_card_text(resident_block(**kwargs))
    assert expected in info.value.message


def test_unknown_division_is_a_warning_not_a_refusal():
    body = "99070219850612003"
    number = body + ric.calc_check_digit(body + "0")
    card = parse_card_text(resident_block(number=number))
    assert card.warnings and "地区代码" in card.warnings[0]


def test_wrong_block_size_is_refused():
    with pytest.raises(CardDataError):
        parse_card_text(resident_block()[:200])


@pytest.mark.parametrize("name", sample_card_names())
def test_sample_cards_encode_to_the_card_layout_and_back(name):
    card = sample_card(name)
    decoded = parse_card_text(encode_card_text(card), card.photo_wlt)
    decoded.fingerprint = card.fingerprint  # read with another command, not in the text block
    assert decoded == card


def test_sample_cards_cover_every_type_with_valid_numbers():
    cards = [sample_card(n) for n in sample_card_names()]
    assert {c.card_type for c in cards} == {RESIDENT, FOREIGN_2017, HMT_RESIDENCE, FOREIGN_2023}
    residents = [c for c in cards if c.card_type == RESIDENT]
    assert len(residents) >= 2
    for card in residents:
        number = card.id_number
        assert number.startswith("41")  # Henan
        assert ric.calc_check_digit(number) == number[-1]
        assert ric.get_birth_date(number) == card.birth_date
    assert any(c.valid_to is None for c in residents)


def test_sample_card_encoding_matches_the_hand_built_block():
    assert encode_card_text(sample_card("resident_xinxiang")) == resident_block()
    assert encode_card_text(sample_card("hmt_residence")) == hmt_block()
    assert encode_card_text(sample_card("foreign_2017")) == foreign_2017_block()


def test_to_dict_is_json_and_round_trips():
    card = sample_card("resident_longterm")
    data = json.loads(json.dumps(card.to_dict()))
    assert data["birth_date"] == "1962-03-15" and data["valid_to"] is None
    assert IdCardData.from_dict(data) == card
    assert "photo_wlt" not in card.to_dict(include_binary=False)


def test_masked_number_hides_the_middle():
    # The core's one masking function (lists, logs, reports): first 3 and last 4.
    assert sample_card("resident_xinxiang").masked_id_number == "410***********0039"


@pytest.mark.parametrize("content,expected", [
    ("{not json", "JSON"),
    ("[1, 2]", "格式"),
    ('{"card_type": "resident"}', "格式"),
    ('{"card_type": "passport", "name": "x", "sex_code": "1", "birth_date": "2000-01-01",'
     ' "id_number": "1", "valid_from": "2020-01-01", "valid_to": null}', "格式"),
])
def test_malformed_card_files_give_a_chinese_message(tmp_path, content, expected):
    path = tmp_path / "card.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CardDataError) as info:
        load_card(path)
    assert expected in info.value.message and has_chinese(info.value.message)


def test_missing_card_file_and_unknown_sample(tmp_path):
    with pytest.raises(CardDataError) as info:
        load_card(tmp_path / "absent.json")
    assert has_chinese(info.value.message)
    with pytest.raises(CardDataError) as info:
        sample_card("no_such_card")
    assert "resident_xinxiang" in info.value.message


def test_card_file_with_a_field_too_long_for_the_card_is_refused(tmp_path):
    data = sample_card("resident_xinxiang").to_dict()
    data["name"] = "长" * 16  # the name field holds 15 characters
    path = tmp_path / "card.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CardDataError) as info:
        load_card(path)
    assert "过长" in info.value.message


def test_a_read_card_becomes_the_applicant_through_the_core():
    from counter_app.identity import applicant_from_card

    card = sample_card("resident_xinxiang")
    a = applicant_from_card(card)
    assert (a.name, a.id_number, a.birth_date) == (card.name, card.id_number, card.birth_date.isoformat())
    assert a.ethnicity == card.ethnicity_short and not a.ethnicity.endswith("族")
