"""An uncaught exception in the GUI: a plain Chinese message, a crash report without personal data."""
from __future__ import annotations

import sys
import threading

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from ui.crash import CrashReporter, crash_reports

ID_NUMBER = "41070219980216607X"
NAME = "刘建军"

# pytest-qt normally turns exceptions inside Qt slots into test failures through its own
# sys.excepthook; here those exceptions are the subject, and our hook must be the one to see them.
pytestmark = pytest.mark.qt_no_exception_capture


@pytest.fixture
def reporter(qapp, _fresh_home):
    r = CrashReporter(_fresh_home).install()
    yield r
    r.uninstall()
    if r.box is not None:
        r.box.close()


def finalize_case_for(applicant_name: str, id_number: str) -> None:
    raise KeyError(f"{applicant_name} {id_number}")  # the kind of message that carries personal data


def crash_box() -> QMessageBox | None:
    boxes = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.objectName() == "crashBox"]
    visible = [b for b in boxes if b.isVisible()]
    return visible[0] if visible else None


def test_exception_in_a_slot_shows_a_message_and_writes_a_clean_report(reporter, qtbot, _fresh_home, caplog):
    with qtbot.waitSignal(reporter.report_written, timeout=5000) as written:
        QTimer.singleShot(0, lambda: finalize_case_for(NAME, ID_NUMBER))
    report = crash_reports(_fresh_home)[0]
    assert written.args == [str(report)]
    text = report.read_text(encoding="utf-8")
    assert "异常类型：builtins.KeyError" in text
    assert 'File "test_crash.py"' in text and "in finalize_case_for" in text
    assert "线程：MainThread" in text and "版本：" in text
    assert NAME not in text and ID_NUMBER not in text
    assert str(_fresh_home.parent) not in text  # no user's home / install path either
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "finalize_case_for" in logged and NAME not in logged and ID_NUMBER not in logged
    qtbot.waitUntil(lambda: crash_box() is not None, timeout=5000)
    box = crash_box()
    assert "程序遇到了意外错误" in box.text() and str(report) in box.text()
    assert box.windowTitle() == "程序出错"


def test_exception_in_a_worker_thread_is_shown_on_the_gui_thread(reporter, qtbot, _fresh_home):
    shown_on = []
    reporter.report_written.connect(lambda _path: shown_on.append(threading.current_thread().name))
    worker = threading.Thread(target=finalize_case_for, args=(NAME, ID_NUMBER), name="sync-worker")
    with qtbot.waitSignal(reporter.report_written, timeout=5000):
        worker.start()
    worker.join()
    assert shown_on == ["MainThread"]
    text = crash_reports(_fresh_home)[0].read_text(encoding="utf-8")
    assert "线程：sync-worker" in text and ID_NUMBER not in text
    qtbot.waitUntil(lambda: crash_box() is not None, timeout=5000)


def test_a_burst_of_errors_gives_one_box_and_a_bounded_number_of_reports(qapp, qtbot, _fresh_home):
    r = CrashReporter(_fresh_home, max_reports=3).install()
    try:
        for _ in range(5):
            try:
                finalize_case_for(NAME, ID_NUMBER)
            except KeyError:
                r._sys_hook(*sys.exc_info())
        qtbot.waitUntil(lambda: crash_box() is not None, timeout=5000)
        boxes = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()
                 and w.objectName() == "crashBox"]
        assert len(boxes) == 1
        assert len(crash_reports(_fresh_home)) == 3
    finally:
        r.uninstall()
        if r.box is not None:
            r.box.close()


def test_uninstall_restores_the_previous_hooks(qapp, _fresh_home):
    before = (sys.excepthook, threading.excepthook)
    r = CrashReporter(_fresh_home, show_dialog=False).install()
    assert sys.excepthook == r._sys_hook
    r.uninstall()
    assert (sys.excepthook, threading.excepthook) == before


def test_chained_exceptions_are_reported_by_type(qapp, _fresh_home):
    r = CrashReporter(_fresh_home, show_dialog=False)
    try:
        try:
            finalize_case_for(NAME, ID_NUMBER)
        except KeyError as exc:
            raise RuntimeError(f"保存 {NAME} 失败") from exc
    except RuntimeError:
        path = r.handle(*sys.exc_info(), "MainThread")
    text = path.read_text(encoding="utf-8")
    assert "builtins.RuntimeError" in text and "由此引起：builtins.KeyError" in text and NAME not in text
