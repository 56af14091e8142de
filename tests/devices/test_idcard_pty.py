"""The real driver (pyserial) against the simulated SAM module through a real pseudo-terminal:
every card type, every fault mode, every status code."""
from __future__ import annotations

import select

import pytest
import serial

from devices.idcard import status as sam_status
from devices.idcard.card_data import sample_card, sample_card_names
from devices.idcard.errors import (
    FrameChecksumError,
    ReaderBusyError,
    ReaderConnectionError,
    ReaderTimeoutError,
    SamStatusError,
)
from devices.idcard.frames import Command, SamCommand, encode_frame, parse_response
from devices.idcard.sam import SamReader, format_sam_id
from devices.idcard.simulator import DEFAULT_SAM_ID, STRAY_PREFIX

from tests.devices.conftest import has_chinese

ERROR_CODES = sorted(set(sam_status.STATUS_MESSAGES) - {sam_status.SUCCESS, sam_status.FIND_CARD_SUCCESS})
GA467_CODES = {0x90, 0x9F, 0x91, 0x10, 0x11, 0x21, 0x23, 0x24, 0x31, 0x32, 0x33, 0x40, 0x41, 0x47, 0x60, 0x66, 0x80, 0x81}


def commands_received(module):
    return [r.command for r in module.received]


@pytest.mark.parametrize("name", sample_card_names())
def test_every_card_type_is_read_through_the_pty(sam_module, name):
    card = sample_card(name)
    module = sam_module(card)
    with SamReader(module.port_path) as reader:
        reader.sam_status()
        read = reader.read_card()
    assert read is not None
    assert read.to_dict() == card.to_dict() | {"fingerprint": ""}
    assert commands_received(module) == [Command.SAM_STATUS, Command.FIND_CARD, Command.SELECT_CARD, Command.READ_BASE]


def test_read_with_fingerprint_returns_the_fingerprint_block(sam_module):
    card = sample_card("resident_longterm")
    assert len(card.fingerprint) == 1024
    module = sam_module(card)
    with SamReader(module.port_path) as reader:
        read = reader.read_card(fingerprint=True)
    assert read.fingerprint == card.fingerprint and read.photo_wlt == card.photo_wlt
    assert Command.READ_WITH_FINGERPRINT in commands_received(module)


def test_card_without_fingerprint_reads_an_empty_fingerprint(sam_module):
    module = sam_module(sample_card("resident_xinxiang"))
    with SamReader(module.port_path) as reader:
        assert reader.read_card(fingerprint=True).fingerprint == b""


def test_appended_address_is_read_for_resident_cards(sam_module):
    card = sample_card("resident_xinxiang")
    card.new_address = "河南省新乡市牧野区示例街88号"
    module = sam_module(card)
    with SamReader(module.port_path) as reader:
        assert reader.read_card(new_address=True).new_address == card.new_address
    bare = sam_module(sample_card("resident_longterm"))
    with SamReader(bare.port_path) as reader:
        assert reader.read_card(new_address=True).new_address == ""  # status 91: no content


def test_sam_id_is_formatted_like_vendor_tools(sam_module):
    module = sam_module()
    with SamReader(module.port_path) as reader:
        assert reader.sam_id() == format_sam_id(DEFAULT_SAM_ID) == "05.01-20240601-0000004101-0000000007"


def test_after_a_read_find_card_fails_until_the_card_is_lifted(sam_module):
    card = sample_card("resident_xinxiang")
    module = sam_module(card)
    with SamReader(module.port_path) as reader:
        assert reader.read_card() is not None
        assert reader.find_card() is False  # halted, though still in the field
        assert reader.read_base().id_number == card.id_number  # ...and still readable
        module.remove_card()
        module.place_card(card)
        assert reader.find_card() is True


def test_no_card(sam_module):
    module = sam_module(sample_card("resident_xinxiang"), ["no-card"])
    with SamReader(module.port_path) as reader:
        assert reader.read_card() is None


@pytest.mark.parametrize("fault,code", [("read-failure", 0x41), ("select-failure", 0x81)])
def test_module_failures_raise_with_their_message(sam_module, fault, code):
    module = sam_module(sample_card("foreign_2023"), [fault])
    with SamReader(module.port_path) as reader:
        with pytest.raises(SamStatusError) as info:
            reader.read_card()
    assert info.value.code == code
    assert info.value.message == sam_status.STATUS_MESSAGES[code]


def test_checksum_errors_are_retried_once_then_reported(sam_module):
    module = sam_module(sample_card("resident_xinxiang"), ["checksum"])
    with SamReader(module.port_path) as reader:
        with pytest.raises(FrameChecksumError) as info:
            reader.read_card()
    assert "校验" in info.value.message
    assert commands_received(module).count(Command.READ_BASE) == 2


def test_checksum_error_once_recovers_on_retry(sam_module):
    card = sample_card("hmt_residence")
    module = sam_module(card, ["checksum"])
    with SamReader(module.port_path, frame_retries=0) as reader:
        assert reader.find_card()
        reader.select_card()
        with pytest.raises(FrameChecksumError):
            reader.read_base()
        module.set_faults([])
        assert reader.read_base().id_number == card.id_number


def test_stray_bytes_are_skipped(sam_module):
    card = sample_card("foreign_2017")
    module = sam_module(card, ["stray-bytes"])
    with SamReader(module.port_path) as reader:
        reader.sam_status()
        assert reader.read_card().id_number == card.id_number
        # four answers, each preceded by the noise
        assert reader.stray_bytes == 4 * len(STRAY_PREFIX)


def test_slow_chunked_answers_are_reassembled(sam_module):
    card = sample_card("foreign_2023")
    module = sam_module(card, ["slow"])
    with SamReader(module.port_path) as reader:
        assert reader.read_card().name_en == card.name_en


def test_answer_cut_halfway_times_out_with_a_message(sam_module):
    module = sam_module(sample_card("resident_xinxiang"), ["truncate"])
    with SamReader(module.port_path, timeout=0.3) as reader:
        with pytest.raises(ReaderTimeoutError) as info:
            reader.read_card()
    assert "不完整" in info.value.message


def test_silent_module_times_out_with_a_message(sam_module):
    module = sam_module(None, ["silent"])
    with SamReader(module.port_path, timeout=0.2) as reader:
        with pytest.raises(ReaderTimeoutError) as info:
            reader.sam_status()
    assert "无响应" in info.value.message


def test_status_table_covers_every_ga467_code():
    assert set(sam_status.STATUS_MESSAGES) == GA467_CODES
    messages = [sam_status.STATUS_MESSAGES[c] for c in GA467_CODES]
    assert len(set(messages)) == len(messages)
    assert all(has_chinese(m) for m in messages)
    assert "0xEE" in sam_status.status_message(0xEE)


@pytest.mark.parametrize("code", ERROR_CODES, ids=[f"{c:02X}" for c in ERROR_CODES])
def test_every_status_code_reaches_the_clerk_with_its_message(sam_module, code):
    module = sam_module(sample_card("resident_xinxiang"), [f"status={code:02x}"])
    with SamReader(module.port_path) as reader:
        with pytest.raises(SamStatusError) as info:
            reader.sam_status()
    assert info.value.code == code
    assert info.value.message == sam_status.STATUS_MESSAGES[code]


def test_success_statuses(sam_module):
    module = sam_module(None, ["status=9f"])
    with SamReader(module.port_path) as reader:
        assert reader.find_card() is True
    module = sam_module(None, ["status=90"])
    with SamReader(module.port_path) as reader:
        reader.sam_status()
        reader.reset()


def test_module_rejects_corrupt_and_unknown_commands(sam_module):
    module = sam_module()
    with SamReader(module.port_path) as reader:
        assert reader.transact(SamCommand(0x99, 0x01)).sw3 == 0x21
    good = SamCommand.of(Command.SAM_STATUS).encode()
    with serial.Serial(module.port_path, 115200, timeout=1) as port:
        port.write(good[:-1] + bytes((good[-1] ^ 0xFF,)))
        answer = port.read(11)
    assert parse_response(answer).sw3 == 0x10
    assert answer == encode_frame(bytes((0, 0, 0x10)))


def test_second_program_on_the_same_port_is_told_it_is_busy(sam_module):
    module = sam_module()
    with SamReader(module.port_path):
        with pytest.raises(ReaderBusyError) as info:
            SamReader(module.port_path)
    assert "占用" in info.value.message


def test_missing_port(tmp_path):
    with pytest.raises(ReaderConnectionError) as info:
        SamReader(str(tmp_path / "ttyUSB9"))
    assert "找不到串口" in info.value.message


def test_a_file_that_is_no_serial_port():
    with pytest.raises(ReaderConnectionError) as info:
        SamReader("/dev/null")
    assert "无法打开串口 /dev/null" in info.value.message


def test_wrong_baud_rate_gets_no_answer(sam_module):
    module = sam_module(baudrate=38400)
    with SamReader(module.port_path, 115200, timeout=0.2) as reader:
        with pytest.raises(ReaderTimeoutError):
            reader.sam_status()
    with SamReader(module.port_path, 38400) as reader:
        reader.sam_status()


def test_stale_bytes_from_an_earlier_exchange_are_flushed(sam_module):
    card = sample_card("resident_xinxiang")
    module = sam_module(card)
    with SamReader(module.port_path) as reader:
        # A complete but stale answer (a late reply to an abandoned command) waiting in the
        # input buffer must not be taken for the answer to the next command.
        module.send_raw(encode_frame(bytes((0, 0, 0x80))))
        readable, _, _ = select.select([reader._serial.fileno()], [], [], 2.0)
        assert readable, "the stale answer never arrived"
        assert reader.find_card() is True
