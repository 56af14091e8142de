"""The composition root: one place builds the window's services and chooses the devices."""
from __future__ import annotations

from app.services import open_devices, open_services
from counter_app.config import Settings
from devices.camera import OpenCvCamera


def test_demo_devices_are_the_simulators_speaking_real_bytes(tmp_path):
    devices = open_devices(Settings(), demo=True)
    try:
        assert devices.demo and devices.simulator is not None
        assert devices.reader_port == devices.simulator.port_path  # the real driver opens this pty
        assert devices.camera_info.port_or_index == "demo"
    finally:
        devices.close()
    assert devices.simulator is None
    devices.close()  # idempotent


def test_real_devices_follow_the_settings():
    settings = Settings()
    settings.set("reader_port", "/dev/ttyUSB3")
    settings.set("camera_index", 2)
    devices = open_devices(settings, demo=False)
    assert not devices.demo and devices.simulator is None
    assert (devices.reader_port, devices.camera_source, devices.open_camera) == ("/dev/ttyUSB3", 2, OpenCvCamera)
    assert open_devices(Settings(), demo=False).reader_port is None  # empty: find the reader


def test_open_services_builds_window_sync_worker_and_devices(tmp_path, monkeypatch):
    monkeypatch.setenv("COUNTER_APP_KEYSTORE", "file")
    services = open_services(tmp_path / "home", demo=True)
    try:
        assert services.sync.window is services.window
        assert services.devices.demo and services.devices.simulator is not None
        assert services.window.cases.count() == 0
    finally:
        services.close()
    assert services.devices.simulator is None
