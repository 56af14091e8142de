"""Building finalized cases the way the counter does: a complete application from the demo
generator, originals ticked, photo / signature / scans stored as attachments, then finalize."""
from __future__ import annotations

import os
import random
import threading
import time
from typing import Callable

from counter_app.cases import Actor
from counter_app.samples import make_application

CLERK = Actor("clerk01")
TOKEN = "test-window-token-0001"
# The credential as IT enrols it: bound to the test window's center and window (the defaults).
CREDENTIAL = f"{TOKEN}@410702-01"
SUPERVISOR_TOKEN = "test-supervisor-token-0001"
SUPERVISOR_CREDENTIAL = f"{SUPERVISOR_TOKEN}@410702-supervisor-supervisor01"


def finalized_case(window, rng: random.Random, *, scan_bytes: int = 2048, scans: int = 1, mutate=None):
    """Create and finalize one case; returns the CaseRecord (state QUEUED, outbox waiting)."""
    app = make_application(rng)
    rec = window.cases.create_draft(app, CLERK)
    for n in range(2, 12):
        app.material(n).original_seen = True
    for _ in range(scans):
        app.material(3).attachments.append(window.cases.put_attachment(os.urandom(scan_bytes), "image/jpeg"))
    app.photo = window.cases.put_attachment(os.urandom(1500), "image/jpeg")
    app.signature = window.cases.put_attachment(os.urandom(800), "image/png")
    if 11 in app.items:
        app.veteran_affairs.reserve_letter = "申请人已持有"
    if 4 in app.items:  # the stamped 落户介绍信, scanned back
        app.settlement_letter_scan = window.cases.put_attachment(os.urandom(900), "image/jpeg")
    if mutate is not None:
        mutate(app)
    return window.cases.finalize(rec.id, app, CLERK)


def make_cases(window, count: int, seed: int = 1, **kw) -> list:
    rng = random.Random(seed)
    return [finalized_case(window, rng, **kw) for _ in range(count)]


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0, what: str = "condition",
               event: threading.Event | None = None) -> None:
    """Wait for ``predicate`` with a deadline. With ``event`` (set by whoever changes the state),
    waits on it between checks; otherwise re-checks at short intervals."""
    deadline = time.monotonic() + timeout
    ev = event or threading.Event()
    while not predicate():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"timed out waiting for {what}")
        ev.wait(min(0.02, remaining))
        if event is not None:
            event.clear()


def outbox_counts(window) -> dict[str, int]:
    from sqlalchemy import func, select

    from counter_app.store.models import OutboxEntry

    with window.sessions() as s:
        return dict(s.execute(select(OutboxEntry.status, func.count()).group_by(OutboxEntry.status)).all())
