from __future__ import annotations

import pytest

from counter_app.identity import check_id_number, check_phone, normalise_id_number
from counter_app.rules import validate
from tests.core.builders import APPLICANT_ID, TODAY, idn, valid_application


@pytest.mark.parametrize("raw", [
    APPLICANT_ID, APPLICANT_ID.lower(), " ".join([APPLICANT_ID[:6], APPLICANT_ID[6:14], APPLICANT_ID[14:]]),
    APPLICANT_ID.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")),
])
def test_normalisation_of_full_width_spaces_and_lowercase(raw):
    assert normalise_id_number(raw) == APPLICANT_ID
    assert check_id_number(raw).ok


def test_lowercase_x_check_digit_is_accepted():
    number = idn("11010519491231002")
    assert number.endswith("X")
    assert check_id_number(number.lower()).ok


@pytest.mark.parametrize("raw,code", [
    ("", "empty"),
    ("41070219980216", "length"),
    ("41070219980216607A", "format"),
    (APPLICANT_ID[:-1] + ("0" if APPLICANT_ID[-1] != "0" else "1"), "checksum"),
    (idn("41070219981316607"), "birth_date"),
    (idn("99070219980216607"), "region"),
])
def test_invalid_numbers_are_refused_with_a_reason(raw, code):
    r = check_id_number(raw)
    assert not r.ok and r.code == code and r.message


def test_future_birth_date_is_refused():
    assert check_id_number(idn("41070220300101001"), today=TODAY).code == "birth_date"


def test_old_holder_with_later_division_code_is_accepted():
    # Numbers were first issued in 1984: a holder born in 1956 carries a code "assigned" in 1983.
    assert check_id_number(idn("41072119560101001")).ok


def test_sex_and_birth_date_must_match_the_number():
    app = valid_application(applicant__sex="女")
    assert ("applicant.sex", "id_mismatch") in {(p.field, p.code) for p in validate(app, today=TODAY)}
    app = valid_application(applicant__birth_date="1998-02-17")
    assert ("applicant.birth_date", "id_mismatch") in {(p.field, p.code) for p in validate(app, today=TODAY)}


def test_seventeenth_digit_gives_the_sex():
    assert check_id_number(idn("41070219980216607")).sex == "男"
    assert check_id_number(idn("41070219980216608")).sex == "女"


@pytest.mark.parametrize("raw,ok", [
    ("13803731234", True), ("138 0373 1234", True), ("+86 138-0373-1234".replace("-", ""), True),
    ("0373-3021234", True), ("03733021234", True), ("010-12345678-123", True),
    ("1380373123", False), ("23803731234", False), ("12345", False), ("", False), ("电话", False),
])
def test_phone_numbers(raw, ok):
    assert (check_phone(raw)[1] is None) is ok


def test_a_region_code_without_a_county_is_a_region_error_not_a_crash():
    # Found by the contract fuzzer: stdnum's region table lists 130295 without a county, and its
    # look-up raised KeyError (the platform answered 500). The checksum of this number is right.
    from counter_app.identity import check_id_number

    result = check_id_number("130295922009246523")
    assert not result.ok and result.code == "region"


# ---- the card as an applicant --------------------------------------------------------------

import datetime as _dt  # noqa: E402
from dataclasses import dataclass as _dataclass  # noqa: E402

import pytest as _pytest  # noqa: E402

from counter_app.application import Applicant, IdDocument  # noqa: E402
from counter_app.identity import CardRefused, applicant_from_card, check_digit_ok  # noqa: E402


@_dataclass
class _Card:
    id_number: str = "410702198506120039"
    name: str = "张卫国"
    sex_text: str = "男"
    birth_date: _dt.date = _dt.date(1985, 6, 12)
    ethnicity_short: str = "汉"
    address: str = "河南省新乡市红旗区人民路1号"
    card_type: str = "resident"
    card_type_label: str = "居民身份证"


def test_card_fills_the_applicant_and_keeps_a_typed_address():
    typed = Applicant(name="张", phone="13803731234", current_address="新乡市平原路8号",
                      id_document=IdDocument.MILITARY_REGISTRATION)
    a = applicant_from_card(_Card(), typed)
    assert (a.name, a.sex, a.birth_date, a.ethnicity, a.id_number) == ("张卫国", "男", "1985-06-12", "汉", "410702198506120039")
    assert a.id_document is IdDocument.RESIDENT_ID_CARD
    assert a.phone == "13803731234" and a.current_address == "新乡市平原路8号"
    assert typed.name == "张"  # a copy: the draft is changed only by whoever takes the result
    assert applicant_from_card(_Card()).current_address == "河南省新乡市红旗区人民路1号"


def test_a_card_other_than_the_resident_card_is_refused_as_a_warning():
    with _pytest.raises(CardRefused) as refused:
        applicant_from_card(_Card(card_type="J", card_type_label="港澳台居民居住证"))
    assert refused.value.severity == "warning" and "港澳台居民居住证" in refused.value.message


def test_a_different_card_for_a_created_case_is_refused():
    with _pytest.raises(CardRefused) as refused:
        applicant_from_card(_Card(), Applicant(), bound_number="410702199001011237")
    assert refused.value.severity == "error" and "不一致" in refused.value.message
    assert applicant_from_card(_Card(), bound_number="410702198506120039").name == "张卫国"


def test_check_digit_alone_for_numbers_without_a_division_code():
    assert check_digit_ok("810000199408230021")
    assert not check_digit_ok("810000199408230022")
    assert not check_digit_ok("81000019940823002")
