from __future__ import annotations

import random

from counter_app.cases import Actor
from app.demo.seed import complete_application
from tests.core.builders import valid_application

CLERK = Actor("clerk01", "clerk")


def finalized_case(window, app=None, *, seed=1):
    app = app or valid_application()
    rec = window.cases.create_draft(app, CLERK)
    app = complete_application(window, rec.application, random.Random(seed), scans=True)
    return window.cases.finalize(rec.id, app, CLERK, form_pdf=b"%PDF-1.7 form " + bytes([seed % 256]))
