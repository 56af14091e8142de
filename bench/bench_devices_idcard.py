"""Benchmarks of the ID-card reader driver.

* ``idcard.frame_parse``: finding and checking one read-base-message answer (1 295 bytes) in a
  byte stream, as the driver receives it;
* ``idcard.card_text_parse``: decoding the 256-byte text block of a resident card;
* ``idcard.pty_bare_exchange`` (baseline): the three exchanges of a card read (find, select,
  read) with bare ``os.write``/``os.read`` on a pty against a responder that replays canned
  answers — the cost of moving the bytes and nothing else;
* ``idcard.read_cycle_driver``: the same three exchanges through the real driver (pyserial,
  frame scanning, checksum, card parsing) against the same responder; its ratio to the
  baseline is the driver's software overhead beyond the bytes;
* ``idcard.driver_overhead_vs_wire``: driver time minus the bare-exchange median, as a
  percentage of the wire time of the same bytes at 115 200 baud (computed from frame sizes);
* ``idcard.read_cycle_simulator``: the full cycle against the simulated SAM module.

For scale, the table also gives the wire time of the same bytes at 115 200 baud: a real reader
spends that long on the line alone, so the software overhead should be a small fraction of it.

Run standalone: ``python bench/bench_devices_idcard.py`` prints a table.
"""
from __future__ import annotations

import os
import statistics
import sys
import threading
import time
import tty
from pathlib import Path

if __package__ in (None, ""):  # standalone: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devices.idcard.card_data import PHOTO_SIZE, TEXT_SIZE, encode_card_text, parse_card_text, sample_card
from devices.idcard.frames import Command, FrameParser, SamCommand, SamResponse
from devices.idcard.sam import SamReader, wire_time
from devices.idcard.simulator import SimulatedSamModule

BAUD = 115200


def _canned_exchange() -> dict[bytes, bytes]:
    card = sample_card("resident_xinxiang")
    text = encode_card_text(card)
    read_data = TEXT_SIZE.to_bytes(2, "big") + PHOTO_SIZE.to_bytes(2, "big") + text + card.photo_wlt
    return {
        SamCommand.of(Command.FIND_CARD).encode(): SamResponse(0, 0, 0x9F, bytes(4)).encode(),
        SamCommand.of(Command.SELECT_CARD).encode(): SamResponse(0, 0, 0x90, bytes(8)).encode(),
        SamCommand.of(Command.READ_BASE).encode(): SamResponse(0, 0, 0x90, read_data).encode(),
    }


class ReplayResponder:
    """Answers each 10-byte command on a pty with a canned frame (no parsing, no encoding)."""

    def __init__(self, answers: dict[bytes, bytes]):
        self.answers = answers
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        buf = b""
        while True:
            try:
                chunk = os.read(self.master, 64)
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            while len(buf) >= 10:
                command, buf = buf[:10], buf[10:]
                answer = self.answers.get(command)
                if answer is None:
                    return
                os.write(self.master, answer)

    def close(self) -> None:
        os.close(self.master)
        os.close(self.slave)
        self._thread.join(timeout=2)


def _bare_cycle(fd: int, answers: dict[bytes, bytes]) -> None:
    for command, answer in answers.items():
        os.write(fd, command)
        remaining = len(answer)
        while remaining:
            remaining -= len(os.read(fd, remaining))


def _timed(fn, n: int) -> list[float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def run(report) -> None:
    answers = _canned_exchange()
    read_frame = answers[SamCommand.of(Command.READ_BASE).encode()]
    wire = wire_time(sum(len(c) + len(a) for c, a in answers.items()), BAUD)

    def parse_frame():
        parser = FrameParser()
        parser.feed(b"\x00\xff" + read_frame)
        SamResponse.from_payload(parser.next_frame())

    report("idcard.frame_parse", _timed(parse_frame, 3000), target="< 50 µs per 1 295-byte frame")
    text = encode_card_text(sample_card("resident_xinxiang"))
    report("idcard.card_text_parse", _timed(lambda: parse_card_text(text), 3000), target="< 200 µs")

    responder = ReplayResponder(answers)
    try:
        fd = os.open(responder.path, os.O_RDWR | os.O_NOCTTY)
        try:
            _timed(lambda: _bare_cycle(fd, answers), 20)  # warm-up
            report("idcard.pty_bare_exchange", _timed(lambda: _bare_cycle(fd, answers), 300),
                   target="baseline: bytes only")
            bare_median = statistics.median(_timed(lambda: _bare_cycle(fd, answers), 300))
        finally:
            os.close(fd)
        with SamReader(responder.path, BAUD) as reader:
            _timed(reader.read_card, 20)
            driver = _timed(reader.read_card, 300)
            report("idcard.read_cycle_driver", driver,
                   target=f"software overhead ≪ wire time {wire * 1000:.1f} ms at {BAUD} baud",
                   ratio_to="idcard.pty_bare_exchange")
        # What the driver adds beyond moving the bytes, as a share of the time those bytes
        # take on a real 115200-baud line (computed from the frame sizes, not measured).
        report("idcard.driver_overhead_vs_wire", [(d - bare_median) / wire * 100 for d in driver],
               target=f"< 5 % of the {wire * 1000:.1f} ms wire time", unit="%")
    finally:
        responder.close()

    with SimulatedSamModule(sample_card("resident_xinxiang")) as module, SamReader(module.port_path, BAUD) as reader:
        def simulated_cycle():
            module.place_card(module.logic.card)  # lift and put down: find card succeeds again
            reader.read_card()

        _timed(simulated_cycle, 20)
        report("idcard.read_cycle_simulator", _timed(simulated_cycle, 200),
               target=f"wire time at {BAUD} baud would be {wire * 1000:.1f} ms",
               ratio_to="idcard.pty_bare_exchange")


class _TableReport:
    def __init__(self):
        self.rows: dict[str, tuple[float, float, str, str | None]] = {}

    """Stand-in for bench/run.py's ``report`` when this file runs on its own."""

    def __init__(self):
        self.rows: dict[str, tuple[float, float, str, str | None, str]] = {}

    def __call__(self, name, samples, target="", ratio_to=None, unit="s"):
        ordered = sorted(samples)
        median = statistics.median(ordered)
        p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
        self.rows[name] = (median, p99, target, ratio_to, unit)

    def print(self) -> None:
        print(f"{'benchmark':32} {'median':>11} {'p99':>11} {'ratio':>8}  target")
        for name, (median, p99, target, ratio_to, unit) in self.rows.items():
            ratio = f"{median / self.rows[ratio_to][0]:.2f}x" if ratio_to in self.rows else ""
            print(f"{name:32} {_fmt(median, unit):>11} {_fmt(p99, unit):>11} {ratio:>8}  {target}")


def _fmt(value: float, unit: str) -> str:
    if unit != "s":
        return f"{value:.2f} {unit}"
    return f"{value * 1e6:.1f} µs" if value < 1e-3 else f"{value * 1e3:.3f} ms"


if __name__ == "__main__":
    table = _TableReport()
    run(table)
    table.print()
