"""Alias of :mod:`printing.spool` under the name ``ui.printouts`` imports (``list_printers``,
``print_pdf``); one implementation, two names."""
from printing.spool import (  # noqa: F401
    PrinterError,
    PrinterInfo,
    PrintJob,
    default_printer,
    job_state,
    list_printers,
    print_pdf,
    printer_status,
    remember_printer,
    remembered_printer,
)
