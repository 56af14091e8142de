"""Finding the reader among serial ports and baud rates (ptys standing in for ports)."""
from __future__ import annotations

from devices.idcard.discovery import discover_reader

FAST = 0.1  # probe timeout per (port, rate); silent ports cost this much per rate


def test_reader_at_a_non_default_rate_is_found_after_a_silent_port(sam_module):
    silent = sam_module(None, ["silent"])
    reader = sam_module(baudrate=38400)
    result = discover_reader(ports=[silent.port_path, reader.port_path], timeout=FAST)
    assert result.location is not None
    assert (result.location.port, result.location.baudrate) == (reader.port_path, 38400)
    assert result.location.sam_id == "05.01-20240601-0000004101-0000000007"
    tried = [(a.port, a.baudrate, a.outcome) for a in result.attempts]
    assert tried[:5] == [(silent.port_path, rate, "no_answer") for rate in (115200, 57600, 38400, 19200, 9600)]
    assert tried[5:] == [(reader.port_path, 115200, "no_answer"), (reader.port_path, 57600, "no_answer"),
                         (reader.port_path, 38400, "found")]


def test_configured_port_wins_over_listed_ports(sam_module):
    listed, configured = sam_module(), sam_module()
    result = discover_reader(configured.port_path, ports=[listed.port_path], timeout=FAST)
    assert result.location.port == configured.port_path
    assert len(result.attempts) == 1


def test_configured_port_from_the_environment(sam_module, monkeypatch):
    listed, configured = sam_module(), sam_module(baudrate=19200)
    monkeypatch.setenv("COUNTER_APP_IDCARD_PORT", configured.port_path)
    monkeypatch.setenv("COUNTER_APP_IDCARD_BAUD", "19200")
    result = discover_reader(ports=[listed.port_path], timeout=FAST)
    assert (result.location.port, result.location.baudrate) == (configured.port_path, 19200)
    assert len(result.attempts) == 1  # the configured rate is tried first


def test_missing_configured_port_falls_back_to_the_listed_ones(sam_module, tmp_path):
    listed = sam_module()
    missing = str(tmp_path / "ttyUSB3")
    result = discover_reader(missing, ports=[listed.port_path], timeout=FAST)
    assert result.location.port == listed.port_path
    assert result.attempts[0].port == missing and result.attempts[0].outcome == "not_found"


def test_module_reporting_a_fault_is_not_retried_at_other_rates(sam_module):
    broken = sam_module(None, ["status=60"])
    result = discover_reader(ports=[broken.port_path], timeout=FAST)
    assert result.location is None
    assert [a.outcome for a in result.attempts] == ["sam_error"]
    assert "自检失败" in result.message and broken.port_path in result.message


def test_nothing_found_says_what_to_check(sam_module):
    assert "未发现任何串口" in discover_reader(ports=[], timeout=FAST).message
    silent = sam_module(None, ["silent"])
    result = discover_reader(ports=[silent.port_path], bauds=[115200], timeout=FAST)
    assert result.location is None and "未找到身份证读卡器" in result.message
