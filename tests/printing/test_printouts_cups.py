"""The shell's print path end to end: the printer IT chose for a document type (counter_app.printers)
receives the job in a real cupsd; a chosen printer that is disabled is refused in Chinese."""
from __future__ import annotations

import re
import time

import pytest

from counter_app.printers import save_printer_map
from printing import spool
from printing.spool import PrinterError


def test_the_printer_chosen_for_the_receipt_gets_the_job(cups, window, case):
    from printing.receipt import render_receipt
    from ui.printouts import print_pdf

    pdf = render_receipt(case).pdf
    save_printer_map(window, {"receipt": "Counter_PDF", "form": "Counter_Disabled"})
    before = set(cups.out.iterdir())
    message = print_pdf(window, pdf, "receipt", "receipt-test")
    assert message == "已发送到打印机“Counter_PDF”：receipt-test"
    deadline = time.monotonic() + 60
    while set(cups.out.iterdir()) == before and time.monotonic() < deadline:
        time.sleep(0.1)
    new = set(cups.out.iterdir()) - before
    assert len(new) == 1
    out = new.pop()
    job_id = re.search(r"job_(\d+)", out.name).group(1)  # cups-pdf names the file after the job
    while spool.job_state(job_id) == "pending" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert spool.job_state(job_id) == "done" and out.read_bytes()[:5] == b"%PDF-"

    with pytest.raises(PrinterError, match="Counter_Disabled.*暂停"):
        print_pdf(window, pdf, "form", "form-test")
    assert spool.printer_status("Counter_Disabled").state == "disabled"
