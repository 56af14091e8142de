"""Fixtures: a real reference platform on loopback (thread or subprocess), a window pointed at it."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.sync.helpers import CREDENTIAL, SUPERVISOR_CREDENTIAL, TOKEN

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def platform(tmp_path):
    """The reference platform on a thread. Its department clock barely moves on its own
    (one step per hour); tests advance it explicitly with ``platform.clock.advance``."""
    from refplatform.server import start_in_thread

    handle = start_in_thread(tmp_path / "platform", [CREDENTIAL, SUPERVISOR_CREDENTIAL], clock_seconds=3600)
    yield handle
    handle.stop()


@pytest.fixture
def sync_window(window, platform, monkeypatch):
    """The test window, pointed at the platform through the environment overrides."""
    monkeypatch.setenv("COUNTER_APP_PLATFORM_URL", platform.url)
    monkeypatch.setenv("COUNTER_APP_PLATFORM_TOKEN", TOKEN)
    enrol_seal_key(platform, window)
    return window


def enrol_seal_key(platform, window) -> None:
    """IT registers the window's seal public key with its credential (never trust on first use)."""
    platform.store.enrol_seal_key(f"{window.settings.center_code}-{window.settings.window_no}",
                                  window.cases.sealer.public_key_b64)


@pytest.fixture
def fast_policy():
    import random

    from counter_app.sync.backoff import RetryPolicy

    return RetryPolicy(base=0.02, cap=0.2, rng=random.Random(7))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PlatformProcess:
    """``counter-app platform serve`` as a real process (so it can be SIGKILLed and restarted)."""

    def __init__(self, data_dir: Path, port: int, *, clock_seconds: float = 3600.0):
        self.data_dir, self.port, self.clock_seconds = data_dir, port, clock_seconds
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 30.0) -> None:
        env = dict(os.environ, PYTHONPATH=str(REPO))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app", "platform", "serve", "--port", str(self.port), "--data",
             str(self.data_dir), "--token", CREDENTIAL, "--clock-seconds", str(self.clock_seconds)],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        # The server prints one line once it listens; read it with a deadline.
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        if not line or "参考平台已启动" not in line[0]:
            self.kill()
            raise RuntimeError(f"platform did not start: {line}")
        # Keep draining its output so it never blocks on a full pipe.
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def terminate(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def platform_process(tmp_path):
    p = PlatformProcess(tmp_path / "platform-proc", free_port())
    p.start()
    yield p
    p.terminate()
