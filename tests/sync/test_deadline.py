"""A platform that trickles one byte at a time must not hang the window: every request has an
overall deadline, and ``sync run --once`` ends with the stall shown to the clerk. A real TCP
server on loopback sends a valid status line and headers one byte every 0.3 s, for ever."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from counter_app.sync.client import PlatformClient, TransientError
from tests.sync.helpers import TOKEN, make_cases

ROOT = Path(__file__).resolve().parents[2]


class TricklingServer:
    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.stop = threading.Event()
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn):
        conn.recv(65536)
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Padding: " + b"a" * 10_000
        try:
            for byte in head:
                if self.stop.wait(0.3):
                    break
                conn.sendall(bytes([byte]))
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        self.stop.set()
        self.sock.close()


@pytest.fixture
def trickle():
    server = TricklingServer()
    yield server
    server.close()


def test_a_request_to_a_trickling_server_ends_at_its_deadline(trickle):
    client = PlatformClient(trickle.url, TOKEN, deadline=2.0)
    started = time.monotonic()
    with pytest.raises(TransientError, match="省平台响应过慢") as exc:
        client.whoami()
    assert exc.value.offline
    assert time.monotonic() - started < 10  # per-read timeouts alone would never end (30 s per byte)


def test_sync_run_once_shows_the_stall_instead_of_hanging(window, trickle, tmp_path):
    make_cases(window, 1)
    home = window.home
    window.settings.set("request_deadline_seconds", 5)
    window.settings.save(home / "config.toml")
    window.close()
    env = dict(os.environ, COUNTER_APP_HOME=str(home), COUNTER_APP_KEYSTORE="file", PYTHONPATH=str(ROOT),
               COUNTER_APP_PLATFORM_URL=trickle.url, COUNTER_APP_PLATFORM_TOKEN=TOKEN)
    r = subprocess.run([sys.executable, "-m", "app", "sync", "run", "--once"], env=env, capture_output=True,
                       text=True, timeout=90, cwd=ROOT)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "省平台响应过慢" in r.stdout and "Traceback" not in r.stderr
    assert "待上报：1" in r.stdout
    assert trickle.connections >= 1
