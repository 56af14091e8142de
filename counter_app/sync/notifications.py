"""What the platform told the applicant: the scheme's SMS ("平台发送短信通知申请人": 审核结果, 户口登记
结果, 社会保障卡), carried back in the progress answer (``notifications``) and kept with the case so
the window can show what was sent, also offline. The window never sends messages itself.

The texts are encrypted at rest (a platform may name the applicant); a message pulled twice is stored once.

Thread contract: blocks on the database; sync worker thread, CLI, or a GUI db worker.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import select

from counter_app.security.vault import Vault
from counter_app.store.models import Notification

CHANNEL_TITLES = {"sms": "短信"}
KIND_TITLES = {"result": "办理结果", "hukou_result": "户口登记结果", "card_result": "社会保障卡",
               "rating_invite": "办结评价邀请"}


@dataclass(frozen=True)
class SentMessage:
    at: _dt.datetime
    channel: str
    item: int | None
    kind: str
    text: str


def _digest(case_id: str, n: dict) -> str:
    key = f"{case_id}|{n['at']}|{n.get('item')}|{n['kind']}|{n['text']}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def store_notifications(window, case_id: str, notifications: list[dict]) -> int:
    """Keep the messages of one case's progress answer (already checked by ``responses``); returns how many were new."""
    if not notifications:
        return 0
    new = 0
    with window.sessions.begin() as s:
        known = set(s.execute(select(Notification.digest).where(Notification.case_id == case_id)).scalars())
        for n in notifications:
            digest = _digest(case_id, n)
            if digest in known:
                continue
            at = _dt.datetime.fromisoformat(n["at"])
            at = at if at.tzinfo else at.replace(tzinfo=_dt.timezone.utc)
            row = Notification(case_id=case_id, at=at, channel=n["channel"], item=n.get("item"), kind=n["kind"],
                               digest=digest)
            s.add(row)
            s.flush()
            row.text_enc = window.vault.encrypt(n["text"].encode("utf-8"),
                                                Vault.associated_data("notifications", "text_enc", str(row.id)))
            known.add(digest)
            new += 1
    return new


def sent_messages(window, case_id: str) -> list[SentMessage]:
    """The case's messages, oldest first, decrypted (a purged case has none)."""
    out = []
    with window.sessions() as s:
        for r in s.execute(select(Notification).where(Notification.case_id == case_id)
                           .order_by(Notification.at, Notification.id)).scalars():
            text = ""
            if r.text_enc is not None:
                text = window.vault.decrypt(r.text_enc, Vault.associated_data("notifications", "text_enc",
                                                                             str(r.id))).decode("utf-8")
            out.append(SentMessage(r.at, r.channel, r.item, r.kind, text))
    return out
