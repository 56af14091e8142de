"""Running the reference platform: in the foreground (``serve``), or on a background thread
(``start_in_thread``) for tests, benchmarks and the demo.

uvicorn serves the FastAPI app; the socket is bound before the server starts so ``port=0`` picks a
free port and the URL is known as soon as ``start_in_thread`` returns.
"""
from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import uvicorn

from refplatform.app import create_app
from refplatform.departments import DepartmentClock
from refplatform.credentials import Enrolment
from refplatform.store import PlatformStore

DEFAULT_CLOCK_SECONDS = 30.0


def open_store(data_dir: Path, credentials: Iterable[str | Enrolment] = (), *,
               clock_seconds: float = DEFAULT_CLOCK_SECONDS, database_url: str | None = None) -> PlatformStore:
    """``credentials``: enrolments, or their spec ``TOKEN@CENTER-WINDOW`` / ``TOKEN@CENTER-supervisor-NAME``."""
    store = PlatformStore(Path(data_dir), clock=DepartmentClock(clock_seconds), database_url=database_url)
    try:
        for c in credentials:
            store.enrol(c if isinstance(c, Enrolment) else Enrolment.parse(c))
    except BaseException:
        store.close()
        raise
    return store


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must say TCP explicitly: asyncio only sets TCP_NODELAY on sockets whose proto is
    # IPPROTO_TCP, and without it every keep-alive response (headers and body written separately)
    # waits ~40 ms for the client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _config(app, *, ssl_certfile: str | None, ssl_keyfile: str | None, access_log: bool) -> uvicorn.Config:
    return uvicorn.Config(app, log_level="warning", access_log=access_log, lifespan="on", http="h11",
                          timeout_keep_alive=30, timeout_graceful_shutdown=2, ssl_certfile=ssl_certfile,
                          ssl_keyfile=ssl_keyfile,
                          server_header=False)


def _url(sock: socket.socket, host: str, tls: bool) -> str:
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    return f"{'https' if tls else 'http'}://{shown}:{port}"


def serve(port: int, data_dir: Path, credentials: Iterable[str | Enrolment] = (), clock_seconds: float = DEFAULT_CLOCK_SECONDS,
          host: str = "127.0.0.1", *, database_url: str | None = None, ssl_certfile: str | None = None, ssl_keyfile: str | None = None,
          access_log: bool = False, announce=print) -> None:
    """Serve until interrupted (SIGINT/SIGTERM). Prints the URL once listening."""
    store = open_store(data_dir, credentials, clock_seconds=clock_seconds, database_url=database_url)
    sock = _bind(host, port)
    server = uvicorn.Server(_config(create_app(store), ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile,
                                    access_log=access_log))
    announce(f"参考平台已启动：{_url(sock, host, bool(ssl_certfile))}（数据目录 {data_dir}）", flush=True)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        store.close()


@dataclass
class ServerHandle:
    url: str
    port: int
    store: PlatformStore
    server: uvicorn.Server
    thread: threading.Thread
    sock: socket.socket

    @property
    def clock(self) -> DepartmentClock:
        return self.store.clock

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)
        self.sock.close()
        self.store.close()

    def __enter__(self) -> "ServerHandle":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_in_thread(data_dir: Path, credentials: Iterable[str | Enrolment] = (), *, port: int = 0, host: str = "127.0.0.1",
                    clock_seconds: float = DEFAULT_CLOCK_SECONDS, ssl_certfile: str | None = None,
                    database_url: str | None = None, ssl_keyfile: str | None = None, startup_timeout: float = 20.0) -> ServerHandle:
    """Start the platform on a daemon thread; returns once it accepts connections."""
    store = open_store(data_dir, credentials, clock_seconds=clock_seconds, database_url=database_url)
    sock = _bind(host, port)
    server = uvicorn.Server(_config(create_app(store), ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile,
                                    access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="reference-platform", daemon=True)
    thread.start()
    # uvicorn sets ``server.started`` from its own event loop and offers nothing to wait on:
    # check it at short intervals until the deadline, giving up early if the thread died.
    deadline = time.monotonic() + startup_timeout
    pause = threading.Event()
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        pause.wait(0.01)
    if not server.started:
        server.should_exit = True
        thread.join(5)
        sock.close()
        store.close()
        raise RuntimeError("参考平台未能启动。")
    return ServerHandle(_url(sock, host, bool(ssl_certfile)), sock.getsockname()[1], store, server, thread, sock)
