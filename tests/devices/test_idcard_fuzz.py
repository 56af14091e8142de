"""Property-based tests: random and mutated byte streams never crash or hang the parser or the
driver; they end in a frame, a card, or an IdCardError with a Chinese message."""
from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings, strategies as st

from devices.idcard.card_data import PHOTO_SIZE, TEXT_SIZE, encode_card_text, parse_card_text, sample_card
from devices.idcard.errors import CardDataError, FrameError, IdCardError
from devices.idcard.frames import FrameParser, SamResponse, encode_frame
from devices.idcard.sam import SamReader

from tests.devices.conftest import has_chinese

FUZZ = settings(max_examples=150, deadline=1000, suppress_health_check=[HealthCheck.too_slow])


class StreamSerial:
    """A serial port whose module 'sends' a fixed byte stream; an exhausted stream behaves like a
    silent line (each read waits for its timeout and returns nothing)."""

    timeout = 0.002

    def __init__(self, stream: bytes, chunk: int = 1 << 30):
        self._data = bytearray(stream)
        self._chunk = chunk
        self.written = bytearray()

    def reset_input_buffer(self):
        pass  # the stream stands for bytes arriving after the command

    def write(self, data):
        self.written += data
        return len(data)

    def read(self, n):
        if not self._data:
            time.sleep(self.timeout)
            return b""
        n = min(n, self._chunk)
        out = bytes(self._data[:n])
        del self._data[:n]
        return out

    def close(self):
        pass


def _read_base_frame() -> bytes:
    card = sample_card("resident_xinxiang")
    text = encode_card_text(card)
    data = TEXT_SIZE.to_bytes(2, "big") + PHOTO_SIZE.to_bytes(2, "big") + text + card.photo_wlt
    return SamResponse(0, 0, 0x90, data).encode()


VALID_FRAMES = [
    _read_base_frame(),
    SamResponse(0, 0, 0x9F, bytes(4)).encode(),
    SamResponse(0, 0, 0x90).encode(),
    SamResponse(0, 0, 0x41).encode(),
]

mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 4000), st.integers(1, 255)),
    st.tuples(st.just("delete"), st.integers(0, 4000), st.integers(1, 40)),
    st.tuples(st.just("insert"), st.integers(0, 4000), st.binary(min_size=1, max_size=20)),
    st.tuples(st.just("truncate"), st.integers(0, 4000), st.none()),
    st.tuples(st.just("duplicate"), st.integers(0, 4000), st.integers(1, 200)),
)


def _mutate(frame: bytes, ops) -> bytes:
    data = bytearray(frame)
    for op, pos, arg in ops:
        if not data:
            break
        pos %= len(data)
        if op == "flip":
            data[pos] ^= arg
        elif op == "delete":
            del data[pos : pos + arg]
        elif op == "insert":
            data[pos:pos] = arg
        elif op == "truncate":
            del data[pos:]
        elif op == "duplicate":
            data[pos:pos] = data[pos : pos + arg]
    return bytes(data)


streams = st.one_of(
    st.binary(max_size=3000),
    st.builds(_mutate, st.sampled_from(VALID_FRAMES), st.lists(mutation, min_size=1, max_size=4)),
    st.builds(lambda noise, frame: noise + frame, st.binary(max_size=64), st.sampled_from(VALID_FRAMES)),
)


@FUZZ
@given(stream=streams, chunk=st.integers(1, 700))
def test_parser_terminates_and_never_invents_frames(stream, chunk):
    parser = FrameParser()
    steps = 0
    for start in range(0, len(stream), chunk):
        parser.feed(stream[start : start + chunk])
        while True:
            steps += 1
            assert steps <= 2 * len(stream) + 10, "parser made no progress"
            try:
                payload = parser.next_frame()
            except FrameError as exc:
                assert has_chinese(exc.message)
                continue
            if payload is None:
                break
            # Whatever the parser returns was really on the line, checksum and all.
            assert encode_frame(payload) in stream
            assert parser.bytes_wanted() >= 1


@FUZZ
@given(stream=streams, chunk=st.integers(1, 700))
def test_driver_read_gives_a_card_or_a_clear_error(stream, chunk):
    # In-memory line: a fast nominal rate keeps the wire-time allowance for long frames tiny.
    reader = SamReader(StreamSerial(stream, chunk), 4_000_000, timeout=0.01)
    try:
        card = reader.read_base()
    except IdCardError as exc:
        assert has_chinese(exc.message)
    else:
        assert card.id_number == "410702198506120039"


@FUZZ
@given(st.binary(min_size=TEXT_SIZE, max_size=TEXT_SIZE))
def test_random_text_blocks_parse_or_fail_with_a_message(text):
    try:
        card = parse_card_text(text)
    except CardDataError as exc:
        assert has_chinese(exc.message)
    else:
        assert card.birth_date.year >= 1


@FUZZ
@given(st.integers(0, TEXT_SIZE - 1), st.integers(1, 255))
def test_a_flipped_byte_in_a_sample_card_never_crashes(position, flip):
    text = bytearray(encode_card_text(sample_card("hmt_residence")))
    text[position] ^= flip
    try:
        parse_card_text(bytes(text))
    except CardDataError as exc:
        assert has_chinese(exc.message)
