"""Submitting work to ``ctx.tasks`` from a widget without letting a worker thread own the widget.

``TaskRunner.run`` keeps the callbacks alive in the future's done-callback, which the worker
thread releases last. If a callback is a bound method of a widget and the widget was closed
meanwhile, that release would be the widget's last reference: PySide would then destroy a
QWidget on a worker thread, which crashes. :func:`submit` hands the runner callbacks that hold
their widget *weakly*; the strong references stay on the GUI thread. Work functions (``fn``)
passed here must likewise not be widget methods: use module functions and plain objects.

Thread contract: call from the GUI thread; callbacks run on the GUI thread (or are dropped when
their widget is gone).
"""
from __future__ import annotations

import inspect
import weakref
from concurrent.futures import Future
from typing import Any, Callable

import shiboken6


def _weak(callback: Callable[[Any], None] | None) -> Callable[[Any], None] | None:
    if callback is None or not inspect.ismethod(callback):
        return callback
    ref = weakref.WeakMethod(callback)

    def call(payload: Any) -> None:
        method = ref()
        # A widget closed and deleted by Qt (deleteLater) can outlive its C++ half in Python.
        if method is not None and shiboken6.isValid(method.__self__):
            method(payload)

    return call


def submit(runner, fn: Callable[..., Any], *args: Any, on_success: Callable[[Any], None] | None = None,
           on_failure: Callable[[BaseException], None] | None = None, **kwargs: Any) -> Future:
    """``runner.run(fn, *args, ...)`` with widget callbacks held weakly (see module docstring)."""
    return runner.run(fn, *args, on_success=_weak(on_success), on_failure=_weak(on_failure), **kwargs)
