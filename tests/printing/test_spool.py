"""Printing through a real CUPS: a private ``cupsd`` from the Debian packages with ``cups-pdf``
queues (``tests/cups_server.py``). The form is printed over IPP, the PDF cups-pdf writes is found
and read back; a disabled printer, a printer that rejects jobs, a missing printer and a stopped
print service each give a Chinese message and queue nothing.

The Windows path cannot run here; its parsing (Get-Printer's JSON, SumatraPDF's command line) is
tested on its own.
"""
from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from app.cli import main
from printing import ipp, spool
from printing.spool import PrinterError, list_printers, parse_windows_printers, print_pdf, sumatra_command
from tests.printing.conftest import page_count, plumber_text, render_gray

JOB_TIMEOUT = 60.0


@pytest.fixture(scope="module")
def form_pdf(photo_jpeg, signature_png) -> bytes:
    import json as _json

    from printing.form import render_application_form
    from tests.printing.conftest import SAMPLE

    case = _json.loads(SAMPLE.read_text(encoding="utf-8"))
    return render_application_form(case, photo_jpeg=photo_jpeg, signature_png=signature_png).pdf


def wait_for_output(cups, job) -> Path:
    """Wait until CUPS reports the job finished, then return the PDF cups-pdf wrote."""
    deadline = time.monotonic() + JOB_TIMEOUT
    state = spool.job_state(job)
    while state == "pending" and time.monotonic() < deadline:
        time.sleep(0.1)
        state = spool.job_state(job)
    assert state == "done", f"job {job.job_id}: {state}\n{cups.error_log()[-3000:]}"
    out = cups.output_of(job.job_id)
    assert out is not None, sorted(p.name for p in cups.out.iterdir())
    return out


def queued_jobs(cups, printer: str) -> str:
    return subprocess.run(["lpstat", "-o", printer], env=cups.env(), capture_output=True, text=True).stdout


def test_printers_and_their_states_come_from_the_scheduler(cups):
    printers = {p.name: p for p in list_printers()}
    assert {"Counter_PDF", "Counter_Disabled", "Counter_Rejecting"} <= set(printers)
    ready = printers["Counter_PDF"]
    assert ready.is_default and ready.ready and ready.state == "idle"
    disabled = printers["Counter_Disabled"]
    assert disabled.state == "disabled" and "paused" in disabled.reasons
    assert "toner cartridge being replaced" in disabled.reasons  # the reason IT gave, kept
    assert disabled.problem.startswith("打印机“Counter_Disabled”无法打印：")
    assert not printers["Counter_Rejecting"].accepting
    assert "不接受打印任务" in printers["Counter_Rejecting"].problem


def test_the_form_is_printed_and_comes_out_whole(cups, form_pdf):
    job = print_pdf(form_pdf, printer="Counter_PDF", title="form-test")
    assert job.printer == "Counter_PDF" and job.job_id.isdigit()
    out = wait_for_output(cups, job)
    printed = out.read_bytes()
    assert printed[:5] == b"%PDF-"
    assert page_count(printed) == page_count(form_pdf) == 2
    # cups-pdf re-distills the file (Ghostscript, glyphs a little bolder), so it is compared as the
    # clerk would: by looking. Each printed page must look like its own page of the form (another
    # page of the same form correlates at about 0.35, the right one at about 0.86).
    for page in range(2):
        before, after = render_gray(form_pdf, page, dpi=60), render_gray(printed, page, dpi=60)
        assert abs(before.shape[0] - after.shape[0]) <= 1 and abs(before.shape[1] - after.shape[1]) <= 1  # A4
        h, w = min(before.shape[0], after.shape[0]), min(before.shape[1], after.shape[1])
        similarity = np.corrcoef(before[:h, :w].ravel(), after[:h, :w].ravel())[0, 1]
        assert similarity > 0.75, f"page {page + 1} printed differs from the form (r={similarity:.2f})"
        assert (after < 128).mean() > 0.02  # and it is not a blank page
    # The case number (Latin text) survives as text too.
    assert "0003-6" in plumber_text(printed, 0)


def test_the_default_printer_is_used_when_none_is_named(cups, form_pdf):
    job = print_pdf(form_pdf, title="default-test")
    assert job.printer == "Counter_PDF"
    assert wait_for_output(cups, job).stat().st_size > 1000


@pytest.mark.parametrize("printer, words", [
    ("Counter_Disabled", "暂停"),
    ("Counter_Rejecting", "不接受打印任务"),
    ("No_Such_Printer", "找不到打印机“No_Such_Printer”"),
])
def test_a_printer_that_cannot_print_is_refused_and_nothing_is_queued(cups, form_pdf, printer, words):
    with pytest.raises(PrinterError, match=words):
        print_pdf(form_pdf, printer=printer)
    # No job waiting where it cannot come out.
    assert queued_jobs(cups, "Counter_Disabled") == "" and queued_jobs(cups, "Counter_Rejecting") == ""


def test_a_stopped_print_service_is_named(monkeypatch, form_pdf, tmp_path):
    monkeypatch.setenv("CUPS_SERVER", str(tmp_path / "no-cupsd.sock"))
    with pytest.raises(PrinterError, match="打印服务（CUPS）没有运行"):
        print_pdf(form_pdf)
    monkeypatch.setenv("CUPS_SERVER", "127.0.0.1:1")
    with pytest.raises(PrinterError, match="打印服务（CUPS）没有运行"):
        list_printers()


def test_a_scheduler_without_printers(form_pdf, monkeypatch):
    from tests.cups_server import CupsServer

    empty = CupsServer().start()
    try:
        monkeypatch.setenv("CUPS_SERVER", str(empty.socket))
        assert list_printers() == []
        with pytest.raises(PrinterError, match="没有可用的打印机"):
            print_pdf(form_pdf)
    finally:
        empty.stop()


def test_ipp_over_tcp_sees_the_same_printers(cups):
    client = ipp.IppClient(cups.address)
    names = {str(a["printer-name"][0]) for a in client.printers()}
    assert {"Counter_PDF", "Counter_Disabled", "Counter_Rejecting"} <= names
    assert client.default_printer() == "Counter_PDF"


def test_bad_input_is_refused_before_the_printer_is_asked(cups, tmp_path):
    with pytest.raises(PrinterError, match="不是PDF"):
        print_pdf(b"hello")
    with pytest.raises(PrinterError, match="份数"):
        print_pdf(b"%PDF-1.4", copies=0)
    with pytest.raises(PrinterError, match="找不到要打印的文件"):
        print_pdf(tmp_path / "missing.pdf")


def test_the_spooler_remembers_nothing(cups, form_pdf):
    home = Path(os.environ["COUNTER_APP_HOME"])
    job = print_pdf(form_pdf, printer="Counter_PDF", title="no-memory")
    wait_for_output(cups, job)
    assert not home.exists() or not any(home.rglob("*.json"))  # no printers.json any more


def test_cli_lists_printers_and_refuses_a_disabled_one(cups, form_pdf, tmp_path, capsys):
    assert main(["printers", "list", "--json"]) == 0
    listed = {p["name"]: p for p in json.loads(capsys.readouterr().out)}
    assert listed["Counter_PDF"]["default"] and listed["Counter_PDF"]["problem"] == ""
    assert "暂停" in listed["Counter_Disabled"]["problem"]
    pdf = tmp_path / "form.pdf"
    pdf.write_bytes(form_pdf)
    assert main(["print", str(pdf), "--printer", "Counter_Disabled"]) != 0
    err = capsys.readouterr().err
    assert "Counter_Disabled" in err and "Traceback" not in err
    assert main(["print", str(pdf), "--printer", "Counter_PDF"]) == 0
    assert "已发送到打印机“Counter_PDF”，作业号" in capsys.readouterr().out


def test_ipp_decoder_refuses_truncated_answers():
    body = ipp.encode_request(ipp.CUPS_GET_PRINTERS, [(ipp.KEYWORD, "requested-attributes", ["printer-name", "printer-state"])],
                              request_id=7)
    # A request is a well-formed message too: its attributes read back.
    decoded = ipp.decode_response(body)
    assert decoded.request_id == 7
    assert decoded.first(ipp.OPERATION_GROUP)["requested-attributes"] == ["printer-name", "printer-state"]
    for cut in (5, 20, len(body) - 3):
        with pytest.raises(ipp.IppError):
            ipp.decode_response(body[:cut] + b"\x44\x00\x05ab")


# ------------------------------------------------------------------------------ Windows parsing

GET_PRINTER_JSON = json.dumps([
    {"Name": "HP LaserJet M1136", "PrinterStatus": "Normal", "WorkOffline": False, "Default": True},
    {"Name": "GP-58 热敏", "PrinterStatus": 5, "WorkOffline": False, "Default": False},
    {"Name": "Kyocera", "PrinterStatus": "Offline", "WorkOffline": True, "Default": False},
    {"Name": "Canon", "PrinterStatus": "Paused", "WorkOffline": False, "Default": False},
], ensure_ascii=False)


def test_windows_printer_list_is_parsed_with_states():
    printers = {p.name: p for p in parse_windows_printers(GET_PRINTER_JSON)}
    assert printers["HP LaserJet M1136"].is_default and printers["HP LaserJet M1136"].ready
    assert "缺纸" in printers["GP-58 热敏"].problem
    assert printers["Kyocera"].reasons == ["offline"] and "脱机" in printers["Kyocera"].problem
    assert printers["Canon"].state == "disabled" and "暂停" in printers["Canon"].problem
    single = parse_windows_printers(json.dumps({"Name": "Only", "PrinterStatus": 0, "Default": True}))
    assert [p.name for p in single] == ["Only"] and single[0].ready
    assert parse_windows_printers("") == []
    with pytest.raises(PrinterError, match="Print Spooler"):
        parse_windows_printers("Get-Printer : 后台打印程序服务没有运行。")


def test_sumatra_command_line():
    cmd = sumatra_command(r"C:\SumatraPDF\SumatraPDF.exe", Path("form.pdf"), "HP LaserJet M1136", 2)
    assert cmd == [r"C:\SumatraPDF\SumatraPDF.exe", "-silent", "-print-settings", "2x,fit",
                   "-print-to", "HP LaserJet M1136", "form.pdf"]
    assert sumatra_command("s.exe", Path("a.pdf"), None, 1)[4] == "-print-to-default"
