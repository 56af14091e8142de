"""PDF rendering in a separate process, so reportlab never starves the GUI thread.

Why a process and not just a worker thread: the printing package renders with reportlab, whose
font subsetting and stream compression hold the GIL for tens of milliseconds at a time (measured:
gaps of up to ~280 ms in a 5 ms GUI heartbeat while a form rendered on a worker thread). A Qt slot
needs the GIL too, so the window would stutter for as long as a document renders. The printing
functions are pure (case JSON and image bytes in, ``RenderResult`` out), so they run unchanged in
one long-lived child process; only picklable data crosses.

The child is ``python ui/acceptance/render_child.py`` (no Qt, no database): requests and answers
are length-prefixed pickles on its stdin / stdout. A plain subprocess rather than
``multiprocessing``: spawn re-imports the parent's ``__main__``, which breaks scripts and frozen
builds. When the child cannot be started or dies, :func:`render` runs the function in the calling
thread instead — slower for the GUI, never wrong.

Thread contract: ``render``, ``warm_up`` and ``shutdown`` may be called from any thread (never the
GUI thread: they block); one child serves requests one at a time.
"""
from __future__ import annotations

import atexit
import importlib
import logging
import os
import pickle
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

ENV_DISABLE = "COUNTER_APP_RENDER_IN_THREAD"   # "1": render in the calling thread (debugging)
_HEADER = struct.Struct("!Q")


def write_message(stream, obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)))
    stream.write(data)
    stream.flush()


def read_message(stream) -> Any:
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        raise EOFError("render process closed its pipe")
    (size,) = _HEADER.unpack(head)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("render process closed its pipe")
    return pickle.loads(data)


def call(module: str, function: str, args: tuple, kwargs: dict) -> Any:
    return getattr(importlib.import_module(module), function)(*args, **kwargs)


class RenderProcess:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        # A frozen build (PyInstaller) has no interpreter to run ``-m``: render in threads there
        # until the packaging grows a render entry point.
        self.broken = os.environ.get(ENV_DISABLE) == "1" or bool(getattr(sys, "frozen", False))

    def _start(self) -> subprocess.Popen:
        root = Path(__file__).resolve().parents[2]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(root), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        env.pop("QT_QPA_PLATFORM", None)
        child = Path(__file__).with_name("render_child.py")   # run as a script: no ``ui`` package import
        return subprocess.Popen([sys.executable, str(child)], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=None, env=env, cwd=str(root))

    def render(self, module: str, function: str, args: tuple, kwargs: dict) -> Any:
        if not self.broken:
            with self._lock:
                for attempt in (1, 2):   # one restart if the child died since the last request
                    try:
                        if self._proc is None or self._proc.poll() is not None:
                            self._proc = self._start()
                        write_message(self._proc.stdin, (module, function, args, kwargs))
                        ok, value = read_message(self._proc.stdout)
                    except (OSError, EOFError, pickle.PickleError) as exc:
                        log.warning("render process failed (%s), attempt %d", type(exc).__name__, attempt)
                        self._kill()
                        continue
                    if ok:
                        return value
                    raise value
                self.broken = True
                log.warning("render process unavailable: rendering in worker threads from now on")
        return call(module, function, args, kwargs)

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                proc.kill()
                proc.wait(5)
            except OSError:
                pass

    def close(self) -> None:
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is not None:
            try:
                proc.stdin.close()   # the child ends when its input ends
                proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()


_process = RenderProcess()
atexit.register(_process.close)


def render(module: str, function: str, *args: Any, **kwargs: Any) -> Any:
    """``module.function(*args, **kwargs)`` in the render process (blocking; call off the GUI thread).

    Exceptions raised by the function (``PrintingError`` with its Chinese message) come back as
    they were raised.
    """
    return _process.render(module, function, args, kwargs)


def child_pid() -> int | None:
    """The render process's pid while it runs (for memory figures), else None."""
    proc = _process._proc
    return proc.pid if proc is not None and proc.poll() is None else None


def warm_up() -> None:
    """Start the render process and load printing and its fonts (call early, off the GUI thread)."""
    try:
        render("printing.fonts", "register_fonts")
    except Exception:
        log.warning("render process warm-up failed", exc_info=True)


def shutdown() -> None:
    _process.close()
