"""GA 467 frame encoding and stream parsing, checked against byte strings from the protocol."""
from __future__ import annotations

import functools
import operator

import pytest
from hypothesis import given, strategies as st

from devices.idcard.errors import FrameChecksumError, FrameLengthError
from devices.idcard.frames import (
    MAX_PAYLOAD,
    PREAMBLE,
    Command,
    FrameParser,
    SamCommand,
    SamResponse,
    encode_frame,
    parse_response,
    xor_checksum,
)

# Command frames as printed in reader manuals (checksum = XOR of everything after the preamble).
KNOWN_COMMANDS = [
    (Command.RESET, "AAAAAA9669000310FFEC"),
    (Command.SAM_STATUS, "AAAAAA9669000311FFED"),
    (Command.SAM_ID, "AAAAAA9669000312FFEE"),
    (Command.FIND_CARD, "AAAAAA96690003200122"),
    (Command.SELECT_CARD, "AAAAAA96690003200221"),
    (Command.READ_BASE, "AAAAAA96690003300132"),
    (Command.READ_NEW_ADDRESS, "AAAAAA96690003300330"),
    (Command.READ_WITH_FINGERPRINT, "AAAAAA96690003301023"),
]
FIND_OK = bytes.fromhex("AAAAAA9669000800009F0000000097")
STATUS_OK = bytes.fromhex("AAAAAA96690004000090" "94")


@pytest.mark.parametrize("command,frame_hex", KNOWN_COMMANDS, ids=[c.name for c, _ in KNOWN_COMMANDS])
def test_command_frames_match_the_protocol_bytes(command, frame_hex):
    assert SamCommand.of(command).encode() == bytes.fromhex(frame_hex)


def test_find_card_success_response_parses():
    response = parse_response(FIND_OK)
    assert (response.sw1, response.sw2, response.sw3, response.data) == (0, 0, 0x9F, bytes(4))
    assert response.ok


def test_sam_status_response_parses_and_reencodes_identically():
    response = parse_response(STATUS_OK)
    assert response.sw3 == 0x90 and response.data == b""
    assert response.encode() == STATUS_OK


@given(st.binary(max_size=3000))
def test_xor_checksum_equals_bytewise_xor(data):
    assert xor_checksum(data) == functools.reduce(operator.xor, data, 0)


def test_stray_bytes_before_a_frame_are_skipped_and_counted():
    noise = b"\x00\xff\xaa\xaa\x96\x69\xaa\xaa\xaa\x96"
    parser = FrameParser()
    parser.feed(noise + STATUS_OK)
    assert parser.next_frame() == bytes((0, 0, 0x90))
    assert parser.discarded == len(noise)
    assert parser.buffered == 0


def test_frame_split_into_single_bytes_is_reassembled():
    parser = FrameParser()
    frames = []
    for byte in FIND_OK + STATUS_OK:
        parser.feed(bytes((byte,)))
        payload = parser.next_frame()
        if payload is not None:
            frames.append(payload)
    assert [SamResponse.from_payload(p).sw3 for p in frames] == [0x9F, 0x90]


def test_bytes_wanted_never_overshoots_the_frame():
    parser = FrameParser()
    stream = FIND_OK
    pos = 0
    while True:
        want = parser.bytes_wanted()
        assert pos + want <= len(stream)
        parser.feed(stream[pos : pos + want])
        pos += want
        if parser.next_frame() is not None:
            break
    assert pos == len(stream)


def test_bad_checksum_raises_then_parser_resynchronises():
    corrupt = FIND_OK[:-1] + bytes((FIND_OK[-1] ^ 1,))
    parser = FrameParser()
    parser.feed(corrupt + STATUS_OK)
    with pytest.raises(FrameChecksumError) as info:
        parser.next_frame()
    assert "校验" in info.value.message
    assert SamResponse.from_payload(parser.next_frame()).sw3 == 0x90


@pytest.mark.parametrize("length", [0, 1, 3, MAX_PAYLOAD + 2, 0xFFFF])
def test_impossible_lengths_are_rejected_without_waiting_for_the_bytes(length):
    parser = FrameParser()
    parser.feed(PREAMBLE + length.to_bytes(2, "big"))
    with pytest.raises(FrameLengthError) as info:
        parser.next_frame()
    assert "长度" in info.value.message


def test_incomplete_frame_waits_for_more_bytes():
    parser = FrameParser()
    parser.feed(FIND_OK[:-3])
    assert parser.next_frame() is None
    assert parser.bytes_wanted() == 3


def test_command_frames_parse_with_command_minimum():
    parser = FrameParser(min_payload=2)
    parser.feed(SamCommand.of(Command.READ_BASE).encode())
    command = SamCommand.from_payload(parser.next_frame())
    assert command.command is Command.READ_BASE


def test_encode_refuses_oversized_payload():
    with pytest.raises(ValueError):
        encode_frame(bytes(MAX_PAYLOAD + 1))
