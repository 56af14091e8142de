"""Fixtures for the device tests: a fresh data directory and simulated SAM modules on ptys."""
from __future__ import annotations

import pytest

from devices.idcard.simulator import SimulatedSamModule


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("COUNTER_APP_HOME", str(tmp_path / "counter-app-home"))
    for name in ("COUNTER_APP_IDCARD_PORT", "COUNTER_APP_IDCARD_BAUD", "COUNTER_APP_WLT_LIBRARY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def sam_module():
    """Factory: ``sam_module(card, faults, baudrate=...)`` -> a started SimulatedSamModule."""
    started: list[SimulatedSamModule] = []

    def start(card=None, faults=(), **kwargs) -> SimulatedSamModule:
        module = SimulatedSamModule(card, faults, **kwargs)
        module.start()
        started.append(module)
        return module

    yield start
    for module in started:
        module.stop()


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)
