"""Device health rows for `devices list` / `devices selftest` and the UI."""
from __future__ import annotations

import sys
import types

import pytest

from devices import health
from devices.base import DeviceInfo, DeviceState
from devices.idcard.card_data import sample_card
from devices.idcard.poller import CardReader
from devices.idcard.sam import SamReader

FAST = 0.1


@pytest.fixture
def no_camera_module(monkeypatch):
    """A camera driver that finds no camera (the test machine has none to rely on)."""
    module = types.ModuleType("devices.camera")
    module.list_cameras = lambda: []
    monkeypatch.setitem(sys.modules, "devices.camera", module)


@pytest.fixture
def camera_module(monkeypatch):
    module = types.ModuleType("devices.camera")
    module.cameras = [DeviceInfo("camera", "USB 摄像头", "0", DeviceState.READY)]

    def list_cameras():
        if isinstance(module.cameras, Exception):
            raise module.cameras
        return module.cameras

    module.list_cameras = list_cameras
    monkeypatch.setitem(sys.modules, "devices.camera", module)
    return module


def test_ready_reader_and_no_camera(sam_module, no_camera_module):
    module = sam_module()
    rows = health.list_devices(idcard_ports=[module.port_path], probe_timeout=FAST)
    idcard, camera = rows
    assert (idcard.kind, idcard.state, idcard.port_or_index) == ("idcard", DeviceState.READY, module.port_path)
    assert idcard.details["sam_id"].startswith("05.01-")
    assert (camera.kind, camera.state) == ("camera", DeviceState.NOT_CONNECTED)
    assert "未发现摄像头" in camera.last_error


def test_camera_rows_come_from_the_camera_module(sam_module, camera_module):
    module = sam_module()
    rows = health.list_devices(idcard_ports=[module.port_path], probe_timeout=FAST)
    assert rows[1:] == camera_module.cameras
    camera_module.cameras = []
    assert "未发现摄像头" in health.camera_infos()[0].last_error
    camera_module.cameras = RuntimeError("driver crashed")
    row = health.camera_infos()[0]
    assert row.state is DeviceState.ERROR and "driver crashed" in row.last_error


def test_no_reader_is_not_connected(sam_module, no_camera_module):
    silent = sam_module(None, ["silent"])
    row = health.idcard_info(ports=[silent.port_path], timeout=FAST)
    assert row.state is DeviceState.NOT_CONNECTED and "未找到身份证读卡器" in row.last_error


def test_faulty_module_is_an_error_with_its_port(sam_module):
    broken = sam_module(None, ["status=66"])
    row = health.idcard_info(ports=[broken.port_path], timeout=FAST)
    assert (row.state, row.port_or_index) == (DeviceState.ERROR, broken.port_path)
    assert "未经授权" in row.last_error


def test_port_in_use_is_busy(sam_module):
    module = sam_module()
    with SamReader(module.port_path):
        row = health.idcard_info(ports=[module.port_path], timeout=FAST)
    assert (row.state, row.port_or_index) == (DeviceState.BUSY, module.port_path)


def test_selftest_reports_card_presence_and_round_trip(sam_module, no_camera_module):
    module = sam_module(sample_card("resident_xinxiang"))
    idcard = health.selftest(idcard_ports=[module.port_path], probe_timeout=FAST)[0]
    assert idcard.state is DeviceState.READY
    assert idcard.details["card_found"] is True
    assert idcard.details["status_round_trip_ms"] > 0
    module.remove_card()
    assert health.idcard_selftest(ports=[module.port_path], timeout=FAST).details["card_found"] is False


def test_running_poller_is_reported_without_probing_its_port(sam_module, no_camera_module):
    module = sam_module()
    with CardReader(module.port_path) as reader:
        reader.poll_once()
        before = len(module.received)
        row = health.list_devices(idcard_reader=reader)[0]
        assert len(module.received) == before  # no probe on a port the poller holds
    assert (row.state, row.port_or_index) == (DeviceState.READY, module.port_path)


def test_table_and_dict_forms():
    rows = [DeviceInfo("idcard", "二代身份证读卡器", "/dev/ttyUSB0", DeviceState.READY),
            DeviceInfo("camera", "摄像头", "", DeviceState.NOT_CONNECTED, "未发现摄像头")]
    lines = health.format_table(rows).splitlines()
    assert lines[0].split() == ["设备", "状态", "端口/编号", "最近错误"]
    assert lines[1].split() == ["二代身份证读卡器", "就绪", "/dev/ttyUSB0", "-"]
    assert lines[2].split() == ["摄像头", "未连接", "-", "未发现摄像头"]
    # columns line up in a terminal (CJK characters are two columns wide)
    assert len({health._width(line[: line.index(word)]) for line, word in zip(lines, ["状态", "就绪", "未连接"])}) == 1
    assert rows[1].to_dict() == {"kind": "camera", "name": "摄像头", "port_or_index": "", "state": "not_connected",
                                 "last_error": "未发现摄像头", "details": {}, "state_label": "未连接"}
