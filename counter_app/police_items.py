"""The police items and the stamped 落户介绍信 (规程 五(四)1).

Items 4 (户口登记) and 5 (居民身份证申领) reach the police with the county office's stamped
落户介绍信 or not at all. A case submitted without the letter's scan is received by the platform
with these two items held 待推送; they are pushed when the letter scanned back after acceptance
(``sync.followups``) has been accepted. The window's own item states follow the same rule, so
the case detail, the worklist and the reports never call a held item 已推送.
"""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import and_, exists, not_, select

from counter_app.statuses import FOLLOWUP_REFUSED, FollowUpKind
from counter_app.store.models import CaseAttachment, CaseRow, FollowUp

POLICE_ITEMS = (4, 5)
LETTER_ROLE = "settlement_letter"   # the sealed attachment's role (sync.contract.ATTACHMENT_ROLES)


def held_for_letter(conn, case_ids: Iterable[str]) -> set[str]:
    """The cases among ``case_ids`` whose police items wait for the stamped letter: item 4 chosen,
    no letter among the sealed attachments, and no scanned-back letter the platform accepted."""
    ids = list(case_ids)
    if not ids:
        return set()
    ct = CaseRow.__table__
    sealed = exists().where(CaseAttachment.case_id == ct.c.id, CaseAttachment.role == LETTER_ROLE)
    accepted = exists().where(FollowUp.case_id == ct.c.id, FollowUp.kind == FollowUpKind.SETTLEMENT_LETTER,
                              FollowUp.sent_at.is_not(None), not_(FollowUp.answer.like(f"{FOLLOWUP_REFUSED}%")))
    rows = conn.execute(select(ct.c.id, ct.c["items"]).where(and_(ct.c.id.in_(ids), not_(sealed), not_(accepted)))).all()
    return {r[0] for r in rows if 4 in {int(n) for n in (r[1] or "").split(",") if n}}
