"""Rotating log files in the data directory, with no personal numbers written to disk."""
from __future__ import annotations

import logging

import pytest

from counter_app import logs
from counter_app.logs import log_files, setup_logging
from counter_app.masking import mask_text
from counter_app.security.log_filter import PersonalDataFilter

ID_NUMBER = "41070219980216607X"
PHONE = "13803731234"
CARD = "6222021702001234567"


@pytest.fixture
def attached(_fresh_home):
    """setup_logging for the test's data dir; the handler is taken off the root logger afterwards."""
    made = []

    def attach(**kwargs):
        path = setup_logging(_fresh_home, **kwargs)
        made.append(path)
        return path

    yield attach
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_counter_app_log", None) is not None:
            root.removeHandler(handler)
            handler.close()


def test_log_file_in_the_data_directory_holds_no_personal_numbers(attached, _fresh_home):
    path = attached()
    assert path == _fresh_home / "logs" / "counter-app.log"
    log = logging.getLogger("counter_app.cases")
    log.info("读卡成功：%s，电话 %s，社保卡 %s", ID_NUMBER, PHONE, CARD)
    try:
        raise ValueError(f"公民身份号码 {ID_NUMBER} 校验失败")
    except ValueError:
        log.exception("保存失败")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text(encoding="utf-8")
    assert "读卡成功" in text and "保存失败" in text and "ValueError" in text
    for secret in (ID_NUMBER, PHONE, CARD, "6222 0217"):
        assert secret not in text


def test_the_one_redaction_filter_masks_as_lists_do(attached, _fresh_home):
    path = attached()
    logging.getLogger("x").warning("号码 %s / %s", ID_NUMBER, PHONE)
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "_counter_app_log", None))
    assert [type(f) for f in handler.filters] == [PersonalDataFilter]
    handler.flush()
    text = path.read_text(encoding="utf-8")
    # The same masked forms a list shows (the one masking function), never the number itself.
    assert ID_NUMBER not in text and PHONE not in text
    assert "410***********607X" in text and "138****1234" in text


def test_logs_rotate_and_setup_twice_does_not_double_lines(attached, _fresh_home):
    attached(max_bytes=2000, backup_count=3)
    path = attached(max_bytes=2000, backup_count=3)
    ours = [h for h in logging.getLogger().handlers if getattr(h, "_counter_app_log", None)]
    assert len(ours) == 1
    log = logging.getLogger("counter_app.sync")
    for i in range(200):
        log.info("同步第 %04d 轮完成", i)
    files = log_files(_fresh_home)
    assert files[0] == path and [f.name for f in files[1:]] == ["counter-app.log.1", "counter-app.log.2",
                                                                "counter-app.log.3"]
    assert all(f.stat().st_size <= 2000 for f in files)
    assert path.read_text(encoding="utf-8").count("第 0199 轮") == 1


@pytest.mark.parametrize("text, gone", [
    (f"id={ID_NUMBER}", ID_NUMBER),
    ("旧证 410702800216607 ", "410702800216607"),
    (f"tel:+86 {PHONE}", PHONE),
    ("卡号 6222 0217 0200 1234 567", "0200 1234"),
])
def test_masked_patterns(text, gone):
    assert gone not in mask_text(text)


def test_masking_leaves_case_numbers_and_hashes_readable():
    text = "办件 410702-03-20261130-0007-5 已上报，摘要 3f2a9c0d11"
    assert mask_text(text) == text
