"""The one masking function and the log filter built on it."""
from __future__ import annotations

import logging
import random

import pytest
from hypothesis import given, settings, strategies as st

from counter_app.samples import make_id_number, make_phone
from counter_app.masking import (
    PERSONAL_FIELDS, mask_address, mask_application, mask_bank_account, mask_id_number, mask_name, mask_phone,
    mask_text,
)
from counter_app.security.log_filter import PersonalDataFilter


@pytest.mark.parametrize("value, masked", [("张建军", "张*军"), ("李明", "李*"), ("欧阳振华", "欧**华"), ("王", "*"), ("", "")])
def test_names(value, masked):
    assert mask_name(value) == masked


@pytest.mark.parametrize("value, masked", [
    ("41070219900101123X", "410***********123X"), ("410702900101123", "410********1123"), ("12345", "*****")])
def test_id_numbers_keep_first_three_and_last_four(value, masked):
    assert mask_id_number(value) == masked


@pytest.mark.parametrize("value, masked", [("13812345678", "138****5678"), ("+86 138 1234 5678", "138****5678"),
                                           ("0373-5551234", "0373-*****34")])
def test_phones(value, masked):
    assert mask_phone(value) == masked


def test_bank_cards_and_addresses():
    assert mask_bank_account("6222 0212 3456 7890 123") == "6222" + "*" * 11 + "0123"
    assert mask_address("河南省新乡市红旗区人民路100号") == "河南省新乡市****"


def test_application_masking_covers_every_personal_field():
    from counter_app.application import application_to_dict
    from counter_app.samples import make_application

    app = make_application(random.Random(7))
    app.veteran_affairs.bank_account = "6222021234567890123"
    app.hukou.head_name, app.hukou.head_id_number, app.hukou.head_phone = "张建国", "410702196501011234", "13900001111"
    app.hukou.property_info = "不动产权第1234567号"
    full = application_to_dict(app)
    masked = mask_application(full)
    for (section, name) in PERSONAL_FIELDS:
        if full[section][name]:
            assert masked[section][name] != full[section][name], (section, name)
    text = str(masked)
    for value in (app.applicant.name, app.applicant.id_number, app.applicant.phone, app.applicant.current_address,
                  "6222021234567890123", "张建国", "410702196501011234", "13900001111"):
        assert value not in text
    assert masked["items"] == full["items"] and full["applicant"]["name"] == app.applicant.name  # input untouched


@pytest.mark.parametrize("text", [
    "sha256 1cf149db3e88a1e20a9398a40d31469e411e726e07faede50f85a323d7988fdb ok",
    "办件 410702-01-20261130-0001-5 已上报", "2026-11-30 10:15:00.123456", "重试 3 次，等待 120 秒",
])
def test_text_without_personal_numbers_is_left_alone(text):
    assert mask_text(text) == text


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 10**6), before=st.text(max_size=8), after=st.text(max_size=8),
       kind=st.sampled_from(["id", "phone", "phone86", "card", "card_grouped"]))
def test_personal_numbers_in_free_text_are_masked(seed, before, after, kind):
    import datetime as _dt

    rng = random.Random(seed)
    if kind == "id":
        value = make_id_number(rng, "410702", _dt.date(1980 + rng.randrange(25), 1 + rng.randrange(12), 1), True)
    elif kind.startswith("phone"):
        value = make_phone(rng)
    else:
        value = "62" + "".join(str(rng.randrange(10)) for _ in range(14 + rng.randrange(4)))
    shown = {"phone86": "+86 " + value, "card_grouped": " ".join(value[i:i + 4] for i in range(0, len(value), 4))}
    text = f"{before}:{shown.get(kind, value)}:{after}"
    out = mask_text(text)
    assert value not in out.replace(" ", "")
    assert out.startswith(before + ":") and out.endswith(":" + after)


def _record(msg, *args, exc=None):
    return logging.LogRecord("counter_app.x", logging.ERROR, __file__, 1, msg, args, exc)


def test_log_filter_masks_message_arguments_and_tracebacks():
    try:
        raise ValueError("bad number 410702199001011234")
    except ValueError:
        import sys

        exc = sys.exc_info()
    rec = _record("lookup %s phone %s card %s", "410702199001011234", "13812345678", "6222021234567890123", exc=exc)
    assert PersonalDataFilter().filter(rec) is True
    out = logging.Formatter("%(message)s").format(rec)
    assert "410702199001011234" not in out and "13812345678" not in out and "6222021234567890123" not in out
    assert "410***********1234" in out and "138****5678" in out and "Traceback" in out


def test_log_filter_survives_a_broken_format_string():
    rec = _record("value %d", "not a number 13812345678")
    assert PersonalDataFilter().filter(rec)
    assert "13812345678" not in rec.getMessage() and "138****5678" in rec.getMessage()


def test_log_setup_uses_the_one_redaction_filter(tmp_path):
    import logging

    from counter_app import logs

    logs.setup_logging(tmp_path)
    root = logging.getLogger()
    try:
        ours = [h for h in root.handlers if getattr(h, "_counter_app_log", None)]
        assert [type(f) for f in ours[0].filters] == [PersonalDataFilter]
    finally:
        for h in ours:
            root.removeHandler(h)
            h.close()

