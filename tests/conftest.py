"""Every test gets a fresh data directory and an explicit file key store, never the user's."""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["COUNTER_APP_KEYSTORE"] = "file"


@pytest.fixture(autouse=True)
def _fresh_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("COUNTER_APP_HOME", str(home))
    monkeypatch.setenv("COUNTER_APP_KEYSTORE", "file")
    monkeypatch.delenv("COUNTER_APP_PLATFORM_URL", raising=False)
    monkeypatch.delenv("COUNTER_APP_PLATFORM_TOKEN", raising=False)
    yield home


@pytest.fixture
def window(_fresh_home):
    from counter_app.services import open_window

    w = open_window(_fresh_home)
    yield w
    w.close()
