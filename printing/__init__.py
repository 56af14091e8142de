"""Printed documents: PDF bytes from case data (reportlab), and the system print spooler.

- :mod:`printing.form` 联办申请表 · :mod:`printing.letters` 落户介绍信 / 预备役登记提醒 ·
  :mod:`printing.receipt` 受理回执 · :mod:`printing.report` 每日受理报表 ·
  :mod:`printing.watermark` 核对无误 stamp · :mod:`printing.spool` printers and jobs ·
  :mod:`printing.fonts` the bundled CJK fonts (also for Qt).

Never reads the database or the attachment store: binary inputs (photo, signature) are
arguments. Every render function is re-entrant and may run on any worker thread.
"""
