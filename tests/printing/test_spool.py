"""Printing through CUPS, exercised with fake ``lp``/``lpstat`` programs on PATH (real
subprocesses speaking CUPS' output format), so the parsing and refusal paths really run."""
from __future__ import annotations

import json
import os
import stat
import textwrap
from pathlib import Path

import pytest

from app.cli import main
from printing import spool
from printing.spool import PrinterError, list_printers, print_pdf, remembered_printer

LPSTAT = r'''#!/bin/sh
# Fake lpstat: prints the canned answers the test wrote into $FAKE_CUPS.
case "$*" in
  *-d*) cat "$FAKE_CUPS/default" 2>/dev/null || echo "no system default destination" ;;
  *-a*) cat "$FAKE_CUPS/accepting" 2>/dev/null ;;
  *-o*) cat "$FAKE_CUPS/queue" 2>/dev/null ;;
  *-p*) cat "$FAKE_CUPS/printers" ;;
esac
exit 0
'''
LP = r'''#!/bin/sh
# Fake lp: records its arguments and the spooled file, answers like CUPS.
echo "$@" > "$FAKE_CUPS/lp-args"
if [ -f "$FAKE_CUPS/lp-fail" ]; then cat "$FAKE_CUPS/lp-fail" >&2; exit 1; fi
for last; do true; done
if [ -f "$last" ]; then cp "$last" "$FAKE_CUPS/spooled.pdf"; else cat > "$FAKE_CUPS/spooled.pdf"; fi
n=$(cat "$FAKE_CUPS/next-id" 2>/dev/null || echo 17)
echo "request id is $2-$n (1 file(s))"
'''

PRINTERS = textwrap.dedent("""\
    printer Office_Laser is idle.  enabled since Fri 27 Nov 2026 08:00:00 AM CST
    \tDescription: 窗口激光打印机
    \tAlerts: none
    printer Front_Desk is idle.  enabled since Fri 27 Nov 2026 08:00:00 AM CST
    \tMedia empty
    \tAlerts: media-empty-error media-needed
    printer Hall_Inkjet disabled since Fri 27 Nov 2026 08:00:00 AM CST -
    \tPaused
    \tAlerts: paused
    printer Back_Room is idle.  enabled since Fri 27 Nov 2026 08:00:00 AM CST
    \tAlerts: offline-report
    printer Low_Toner is now printing Low_Toner-3.  enabled since Fri 27 Nov 2026 08:00:00 AM CST
    \tAlerts: toner-low-warning
    """)
ACCEPTING = "Office_Laser accepting requests since Fri 27 Nov 2026\nFront_Desk accepting requests since Fri 27 Nov 2026\n" \
            "Hall_Inkjet not accepting requests since Fri 27 Nov 2026 -\n\tPaused\n" \
            "Back_Room accepting requests since Fri 27 Nov 2026\nLow_Toner accepting requests since Fri 27 Nov 2026\n"


@pytest.fixture
def cups(tmp_path, monkeypatch):
    state = tmp_path / "cups"
    state.mkdir()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in (("lpstat", LPSTAT), ("lp", LP)):
        p = bin_dir / name
        p.write_text(body)
        p.chmod(p.stat().st_mode | stat.S_IEXEC)
    (state / "printers").write_text(PRINTERS, encoding="utf-8")
    (state / "accepting").write_text(ACCEPTING)
    (state / "default").write_text("system default destination: Office_Laser\n")
    monkeypatch.setenv("FAKE_CUPS", str(state))
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin")
    return state


@pytest.fixture
def pdf(case) -> bytes:
    from printing.letters import render_reserve_reminder

    return render_reserve_reminder(case).pdf


def test_printers_are_listed_with_their_state(cups):
    printers = {p.name: p for p in list_printers()}
    assert set(printers) == {"Office_Laser", "Front_Desk", "Hall_Inkjet", "Back_Room", "Low_Toner"}
    assert printers["Office_Laser"].is_default and printers["Office_Laser"].ready
    assert printers["Office_Laser"].description == "窗口激光打印机"
    assert "缺纸" in printers["Front_Desk"].problem
    assert printers["Hall_Inkjet"].state == "disabled" and not printers["Hall_Inkjet"].accepting
    assert "暂停" in printers["Hall_Inkjet"].problem
    assert "脱机" in printers["Back_Room"].problem
    assert printers["Low_Toner"].ready  # a low-toner warning does not stop printing


def test_print_to_a_ready_printer_spools_the_exact_bytes(cups, pdf):
    job = print_pdf(pdf, printer="Office_Laser", title="预备役登记提醒", copies=2)
    assert job.job_id == "Office_Laser-17" and job.printer == "Office_Laser"
    assert (cups / "spooled.pdf").read_bytes() == pdf
    args = (cups / "lp-args").read_text()
    assert "-d Office_Laser" in args and "-n 2" in args and "media=A4" in args
    # The bytes went to lp's standard input: no temporary copy with personal data ever existed
    # (a killed print used to leave /tmp/counter-print-*.pdf behind).
    assert not args.split()[-1].endswith(".pdf")


@pytest.mark.parametrize("printer, words", [
    ("Front_Desk", "缺纸"), ("Hall_Inkjet", "暂停"), ("Back_Room", "脱机"), ("No_Such", "找不到打印机"),
])
def test_a_printer_that_cannot_print_is_refused_with_a_clear_message(cups, pdf, printer, words):
    with pytest.raises(PrinterError, match=words):
        print_pdf(pdf, printer=printer)
    assert not (cups / "spooled.pdf").exists()  # nothing was queued to vanish


def test_no_printer_at_all(cups, pdf):
    (cups / "printers").write_text("")
    with pytest.raises(PrinterError, match="没有可用的打印机"):
        print_pdf(pdf)


def test_no_print_service_installed(pdf, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    with pytest.raises(PrinterError, match="未安装打印服务"):
        print_pdf(pdf)


def test_lp_failure_is_reported_not_lost(cups, pdf):
    (cups / "lp-fail").write_text("lp: Unable to connect to printer; will retry in 30 seconds.\n")
    with pytest.raises(PrinterError, match="未能提交.*Unable to connect"):
        print_pdf(pdf, printer="Office_Laser")


def test_printer_is_remembered_per_document_type(cups, pdf):
    print_pdf(pdf, printer="Low_Toner", doc_type="receipt")
    assert remembered_printer("receipt") == "Low_Toner"
    assert remembered_printer("form") is None
    saved = json.loads((Path(os.environ["COUNTER_APP_HOME"]) / "printers.json").read_text(encoding="utf-8"))
    assert saved == {"receipt": "Low_Toner"}
    job = print_pdf(pdf, doc_type="receipt")           # no printer given: the remembered one
    assert job.printer == "Low_Toner"
    job = print_pdf(pdf, doc_type="form")              # nothing remembered: the system default
    assert job.printer == "Office_Laser"


def test_job_state_follows_the_queue(cups, pdf):
    job = print_pdf(pdf, printer="Office_Laser")
    (cups / "queue").write_text(f"{job.job_id}  clerk  12345  Fri 27 Nov 2026 09:45:00 AM CST\n")
    assert spool.job_state(job) == "pending"
    (cups / "queue").write_text("")
    assert spool.job_state(job) == "done"


def test_not_a_pdf_is_refused(cups):
    with pytest.raises(PrinterError, match="不是PDF"):
        print_pdf(b"hello", printer="Office_Laser")


def test_cli_print_and_printers_list(cups, pdf, tmp_path, capsys):
    f = tmp_path / "letter.pdf"
    f.write_bytes(pdf)
    assert main(["print", str(f), "--printer", "Office_Laser", "--doc-type", "letter"]) == 0
    assert "Office_Laser-17" in capsys.readouterr().out
    assert main(["print", str(f), "--printer", "Front_Desk"]) == 2
    assert "缺纸" in capsys.readouterr().err
    assert main(["printers", "list"]) == 0
    out = capsys.readouterr().out
    assert "Office_Laser（默认）：就绪" in out and "Front_Desk：打印机“Front_Desk”无法打印" in out
    assert main(["print", str(tmp_path / "missing.pdf")]) == 2
    assert "找不到要打印的文件" in capsys.readouterr().err
