"""Card life cycle through the poller, against the simulated module on a pty."""
from __future__ import annotations

import threading

import pytest

from devices.base import DeviceState
from devices.idcard.card_data import sample_card
from devices.idcard.frames import Command
from devices.idcard.poller import MIN_POLL_INTERVAL, CardEventKind, CardReader
from devices.idcard.sam import SamReader

NEW, SAME, NONE, ERROR = CardEventKind.NEW_CARD, CardEventKind.SAME_CARD, CardEventKind.NO_CARD, CardEventKind.ERROR


@pytest.fixture
def reader_for():
    readers: list[CardReader] = []

    def make(port, **kwargs) -> CardReader:
        reader = CardReader(port, **kwargs)
        readers.append(reader)
        return reader

    yield make
    for reader in readers:
        reader.close()


def test_card_life_cycle(sam_module, reader_for):
    first, second = sample_card("resident_xinxiang"), sample_card("hmt_residence")
    module = sam_module()
    reader = reader_for(module.port_path)

    event = reader.poll_once()
    assert (event.kind, event.changed) == (NONE, True)
    assert reader.poll_once().changed is False

    module.place_card(first)
    event = reader.poll_once()
    assert event.kind is NEW and event.card.id_number == first.id_number

    # Find card now fails (the card is halted) but this is the same card, not an error.
    for expected_changed in (True, False):
        event = reader.poll_once()
        assert (event.kind, event.changed) == (SAME, expected_changed)
        assert event.card.id_number == first.id_number

    # Swap cards between two polls: the new one is noticed.
    module.remove_card()
    module.place_card(second)
    event = reader.poll_once()
    assert event.kind is NEW and event.card.id_number == second.id_number
    assert reader.poll_once().kind is SAME

    module.remove_card()
    event = reader.poll_once()
    assert (event.kind, event.changed) == (NONE, True)
    assert reader.current_card is None

    # Putting the same card down again is a new read.
    module.place_card(second)
    assert reader.poll_once().kind is NEW


def test_polls_are_at_least_300_ms_apart(sam_module, reader_for):
    module = sam_module()
    reader = reader_for(module.port_path, min_interval=0.05)  # raised to the 300 ms floor
    assert reader.min_interval == MIN_POLL_INTERVAL
    for _ in range(4):
        reader.poll_once()
    finds = [r.at for r in module.received if r.command is Command.FIND_CARD]
    assert len(finds) == 4
    gaps = [b - a for a, b in zip(finds, finds[1:])]
    assert min(gaps) >= MIN_POLL_INTERVAL - 0.005, gaps


@pytest.mark.parametrize("fault,code", [("read-failure", 0x41), ("select-failure", 0x81)])
def test_module_failure_is_an_error_event_then_recovers(sam_module, reader_for, fault, code):
    card = sample_card("foreign_2017")
    module = sam_module(card, [fault])
    reader = reader_for(module.port_path)
    error = reader.poll_once()
    assert error.kind is ERROR and error.status_code == code
    assert "不要移动" in error.message
    assert reader.device_info().state is DeviceState.ERROR
    module.set_faults([])
    event = reader.poll_once()
    assert event.kind is NEW and event.card.id_number == card.id_number
    info = reader.device_info()
    assert info.state is DeviceState.READY
    assert info.last_error == error.message  # the last error stays visible for the health list


def test_checksum_fault_is_an_error_event(sam_module, reader_for):
    module = sam_module(sample_card("resident_xinxiang"), ["checksum"])
    event = reader_for(module.port_path).poll_once()
    assert event.kind is ERROR and "校验" in event.message


def test_missing_port_is_not_connected(tmp_path, reader_for):
    reader = reader_for(str(tmp_path / "ttyUSB7"))
    event = reader.poll_once()
    assert event.kind is ERROR and "找不到串口" in event.message
    info = reader.device_info()
    assert info.state is DeviceState.NOT_CONNECTED and info.last_error == event.message


def test_port_held_by_another_program_is_busy(sam_module, reader_for):
    module = sam_module()
    with SamReader(module.port_path):
        reader = reader_for(module.port_path)
        event = reader.poll_once()
        assert event.kind is ERROR and "占用" in event.message
        assert reader.device_info().state is DeviceState.BUSY
    assert reader.poll_once().kind is NONE  # released: the poller reconnects by itself
    assert reader.device_info().state is DeviceState.READY


def test_reader_found_by_discovery_from_the_configured_port(sam_module, reader_for, monkeypatch):
    card = sample_card("foreign_2023")
    module = sam_module(card)
    monkeypatch.setenv("COUNTER_APP_IDCARD_PORT", module.port_path)
    reader = reader_for(None)
    event = reader.poll_once()
    assert event.kind is NEW and event.card.name_en == card.name_en
    info = reader.device_info()
    assert info.port_or_index == module.port_path and info.details["sam_id"].startswith("05.01-")


def test_discovered_reader_that_disappears_is_found_again_on_its_new_port(sam_module, reader_for, monkeypatch):
    card = sample_card("resident_xinxiang")
    first = sam_module(card)
    monkeypatch.setenv("COUNTER_APP_IDCARD_PORT", first.port_path)
    reader = reader_for(None)
    assert reader.poll_once().kind is NEW
    first.stop()  # USB cable pulled
    event = reader.poll_once()
    assert event.kind is ERROR and "连接中断" in event.message
    assert reader.device_info().state is DeviceState.NOT_CONNECTED
    second = sam_module(card)  # plugged back in, on another port
    monkeypatch.setenv("COUNTER_APP_IDCARD_PORT", second.port_path)
    event = reader.poll_once()
    assert event.kind is NEW and reader.device_info().port_or_index == second.port_path


def test_close_from_another_thread_ends_a_waiting_poll(sam_module, reader_for):
    module = sam_module()
    reader = reader_for(module.port_path)
    result = {}
    started = threading.Event()

    def worker():  # the reader's one thread: both polls here
        reader.poll_once()
        started.set()
        result["event"] = reader.poll_once()

    thread = threading.Thread(target=worker)
    thread.start()
    started.wait()
    reader.close()
    thread.join(timeout=2)
    assert not thread.is_alive()
    assert result["event"].kind is ERROR and "停止" in result["event"].message
    # The port was released: another program can open it now.
    with SamReader(module.port_path):
        pass


def test_close_aborts_an_exchange_in_progress(sam_module, reader_for):
    module = sam_module(None, ["silent"])
    reader = reader_for(module.port_path, timeout=5.0)  # the module never answers
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("event", reader.poll_once()))
    thread.start()
    assert module.wait_for_commands(1)  # the worker is now waiting for an answer
    reader.close()
    thread.join(timeout=2)  # far less than the 5 s exchange timeout
    assert not thread.is_alive()
    assert result["event"].kind is ERROR and "停止" in result["event"].message


def test_polling_from_a_second_thread_is_refused_at_once(sam_module, reader_for):
    import threading

    reader = reader_for(sam_module().port_path)
    reader.poll_once()
    raised: list[BaseException] = []

    def other() -> None:
        try:
            reader.poll_once()
        except RuntimeError as exc:
            raised.append(exc)

    t = threading.Thread(target=other)
    t.start()
    t.join(5)
    assert raised and "one thread" in str(raised[0])
    assert reader.poll_once().kind is not None  # the owning thread goes on
