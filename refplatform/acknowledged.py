"""What the platform acknowledges holding from one window (``GET /acknowledged``).

The window compares this with its own store at start and after every drain: the number of case
versions received from it, a digest over their business keys, and the highest audit head it sent
with a case. A window whose store lost its newest commits sees the difference on its next sync.
A function over a ``PlatformStore`` (passed in) so the store module stays about receiving cases.
"""
from __future__ import annotations

from sqlalchemy import select

from counter_app.sync import contract as C
from refplatform.credentials import Caller
from refplatform.store import PlatformStore, iso
from refplatform.tables import PlatformCase


def acknowledged(store: PlatformStore, caller: Caller) -> dict:
    window_no = caller.require_window()
    keys: list[str] = []
    head: tuple[int, str] | None = None
    last = None
    with store.sessions() as s:
        rows = s.execute(select(PlatformCase.business_key, PlatformCase.audit_head_seq, PlatformCase.audit_head_hash,
                                PlatformCase.last_received_at)
                         .where(PlatformCase.center_code == caller.center_code,
                                PlatformCase.window_no == window_no))
        for bk, seq, h, received in rows:
            keys.append(bk)
            if seq is not None and h and (head is None or seq > head[0]):
                head = (seq, h)
            if received is not None and (last is None or received > last):
                last = received
    answer = {"center_code": caller.center_code, "window_no": window_no, "cases": len(keys),
              "business_keys_sha256": C.business_keys_digest(keys),
              "audit_head": {"seq": head[0], "hash": head[1]} if head else None}
    if last is not None:
        answer["last_received_at"] = iso(last)
    return answer
