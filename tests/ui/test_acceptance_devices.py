"""The device-facing pieces of the acceptance: signature pad, applicant screen, reader errors,
camera pacing, printing without a printer, the photo import path."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QInputDevice, QPointingDevice, QTabletEvent
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QApplication
from pypdf import PdfReader

SAMPLE_CASE = Path(__file__).resolve().parents[1] / "data" / "sample_case.json"


@pytest.fixture(scope="module")
def form_pdf() -> bytes:
    from ui.acceptance.render_pool import render

    return render("printing.form", "render_application_form", json.loads(SAMPLE_CASE.read_text("utf-8"))).pdf


def _pen() -> QPointingDevice:
    caps = QInputDevice.Capability.Position | QInputDevice.Capability.Pressure
    return QPointingDevice("test pen", 7, QInputDevice.DeviceType.Stylus, QPointingDevice.PointerType.Pen, caps, 1, 2)


def test_signature_pad_records_mouse_strokes_and_tablet_pressure(app, qtbot):
    from ui.acceptance.script import draw_on, signature_strokes
    from ui.signature_pad import SignaturePad

    pad = SignaturePad()
    qtbot.addWidget(pad)
    pad.resize(720, 240)
    pad.show()
    strokes = signature_strokes()
    draw_on(pad, strokes)
    sig = pad.signature()
    assert sig.source == "mouse" and len(sig.strokes) == 3
    assert sig.point_count == sum(len(s) for s in strokes)
    assert {p.pressure for s in sig.strokes for p in s.points} == {0.5}   # a mouse has no pressure
    assert sig.is_acceptable()

    pad.clear()
    assert pad.is_blank()
    pen = _pen()
    rect = pad.canvas_rect()
    k = rect.width() / 900.0
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    for stroke in strokes:
        for i, (x, y, p) in enumerate(stroke):
            kind = QTabletEvent.Type.TabletPress if i == 0 else QTabletEvent.Type.TabletMove
            pos = QPointF(rect.left() + x * k, rect.top() + y * k)
            QApplication.sendEvent(pad, QTabletEvent(kind, pen, pos, pad.mapToGlobal(pos), p, 0, 0, 0, 0, 0,
                                                     Qt.KeyboardModifier.NoModifier, left if i == 0 else none, left))
        QApplication.sendEvent(pad, QTabletEvent(QTabletEvent.Type.TabletRelease, pen, pos, pad.mapToGlobal(pos), 0,
                                                 0, 0, 0, 0, 0, Qt.KeyboardModifier.NoModifier, left, none))
    sig = pad.signature()
    assert sig.source == "tablet" and len(sig.strokes) == 3
    pressures = [p.pressure for p in sig.strokes[0].points]
    assert min(pressures) < 0.4 < 0.7 < max(pressures)                    # the pen's pressure is kept
    assert sig.to_png()[:8] == b"\x89PNG\r\n\x1a\n"


def test_applicant_screen_refuses_blank_and_implausible_signatures(ctx, qtbot, form_pdf):
    from ui.acceptance.script import draw_on, signature_strokes
    from ui.applicant_screen import ApplicantScreen

    screen = ApplicantScreen(ctx)
    qtbot.addWidget(screen)
    screen.place()
    with qtbot.waitSignal(screen.form_shown, timeout=15000) as shown:
        screen.show_form(form_pdf, sign=True)
    assert shown.args == [2]
    # It must never take the clerk's keyboard: shown without activation, refusing focus (window
    # managers honour these; the offscreen test platform activates every new window regardless).
    assert screen.windowFlags() & Qt.WindowType.WindowDoesNotAcceptFocus
    assert screen.testAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)

    refused = []
    screen.signature_refused.connect(refused.append)
    screen.confirm_button.click()
    assert "签名为空" in screen.sign_error.text() and refused
    draw_on(screen.pad, [[(450, 150, 0.5)]])                     # a single tap
    screen.confirm_button.click()
    assert "只检测到一个点" in screen.sign_error.text()
    screen.clear_button.click()
    draw_on(screen.pad, [signature_strokes()[0]])                # one quick squiggle
    screen.confirm_button.click()
    assert "笔画过少" in screen.sign_error.text()
    assert len(refused) == 3

    screen.clear_button.click()
    with qtbot.waitSignal(screen.signature_accepted, timeout=5000) as accepted:
        draw_on(screen.pad, signature_strokes())
        screen.confirm_button.click()
    assert accepted.args[0].is_acceptable()
    assert not screen.pad.isEnabled()            # signed: the pad is closed for this form


def test_reader_failure_is_reported_in_chinese_and_the_next_read_works(acceptance, demo_devices, qtbot):
    widget, script = acceptance()
    step = widget.step("identity")
    demo_devices.sam_module.set_faults(["read-failure"])
    with qtbot.waitSignal(demo_devices.card_error, timeout=10000) as error:
        demo_devices.place_demo_card("resident_xinxiang")
    message = error.args[0]
    assert message and all(word not in message for word in ("Traceback", "Error", "Exception"))
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message)
    qtbot.waitUntil(lambda: step.reader_state.text() == message, timeout=5000)
    assert widget.session.app.applicant.id_number == ""       # nothing half-read was filled in

    demo_devices.sam_module.set_faults([])
    demo_devices.remove_demo_card()
    script.identity_from_card("resident_xinxiang")
    assert widget.session.app.applicant.name == "赵振华"


def test_camera_preview_drops_frames_rather_than_queueing_them(ctx, demo_devices, qtbot):
    from ui.devices.camera_view import CameraView

    view = CameraView(demo_devices)
    qtbot.addWidget(view)
    view.resize(640, 480)
    view.show()
    view.start()
    qtbot.waitUntil(lambda: view.frames_painted >= 3, timeout=15000)
    capture = demo_devices._capture
    # The GUI is busy (here: blocked on the capture worker's own condition) while the camera
    # produces five more frames; afterwards only the newest one is painted, none are queued.
    painted = view.frames_painted
    latest = capture.latest().seq
    assert capture.wait_for_frame(after_seq=latest + 5, timeout=10) is not None
    dropped = capture.frames_dropped
    qtbot.waitUntil(lambda: view.frames_painted >= painted + 1, timeout=5000)
    assert dropped >= 3
    assert view.frames_painted <= painted + 2
    assert view.last_verdict is not None and view.hint.text()   # the live guidance is shown
    view.stop()
    assert not demo_devices.camera_running


def test_printing_without_a_printer_says_what_to_do_and_qprinter_pages_are_complete(ctx, qtbot, form_pdf, tmp_path):
    from ui.print_preview import Document, DocumentPreview, PreviewError, print_pdf, print_pdf_with_qprinter

    with pytest.raises(PreviewError) as exc:
        print_pdf(form_pdf, None, title="联办申请表")
    assert "打印" in exc.value.message and "Traceback" not in exc.value.message

    preview = DocumentPreview(ctx)
    qtbot.addWidget(preview)
    preview.resize(900, 700)
    preview.show()
    with qtbot.waitSignal(preview.rendered, timeout=15000) as rendered:
        preview.set_document(Document("form", "联办申请表", form_pdf))
    assert rendered.args == [2] and len(preview.pages) == 2
    with qtbot.waitSignal(preview.notice, timeout=15000) as notice:
        preview.print_document()
    assert notice.args[1] == "error" and "打印" in notice.args[0]

    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setResolution(150)
    out = tmp_path / "printed.pdf"
    printer.setOutputFileName(str(out))
    assert print_pdf_with_qprinter(form_pdf, printer, title="联办申请表") == 2
    assert len(PdfReader(io.BytesIO(out.read_bytes())).pages) == 2


def test_photo_import_refuses_a_broken_file_and_accepts_a_portrait(tmp_path):
    import cv2

    from ui.acceptance.photo_step import PhotoError, process_file
    from devices.camera import demo_portrait

    broken = tmp_path / "照片.jpg"
    broken.write_bytes(b"\xff\xd8\xff not really a jpeg")
    with pytest.raises(PhotoError) as exc:
        process_file(str(broken))
    assert "照片.jpg" in exc.value.message and "JPG" in exc.value.message
    good = tmp_path / "申请人照片.png"
    good.write_bytes(cv2.imencode(".png", demo_portrait())[1].tobytes())
    result = process_file(str(good))
    assert result.ok and result.jpeg[:3] == b"\xff\xd8\xff"
