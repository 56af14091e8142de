"""好差评 (service ratings): recorded locally at once, sent to the platform by the sync worker.

A rating is written with the case (``ratings`` row + the case's latest level + an audit entry) in
one transaction and sent later (``outbox.push_ratings``) with a stable idempotency key, so an
applicant's rating is never lost to a network failure nor counted twice.

Thread contract: blocks on the database only (short); call from a worker in the GUI.
"""
from __future__ import annotations

import datetime as _dt

from sqlalchemy import select

from counter_app import audit
from counter_app.scheme import RATINGS
from counter_app.store.models import CaseRow, Rating
from counter_app.sync import contract as C
from counter_app.errors import UserError


class RatingError(UserError, ValueError):
    """The message is Chinese and says what to do (see ``counter_app.errors``)."""


def record_rating(window, case_id: str, level: str, reason: str = "", *, stage: str = "acceptance",
                  operator: str = "applicant") -> int:
    """Store a rating; returns its id. One rating per case and stage."""
    if stage not in C.RATING_STAGES:
        raise RatingError("评价环节应为受理（acceptance）或办结（completion）。")
    if level not in RATINGS:
        raise RatingError("请选择评价等级：" + "、".join(RATINGS) + "。")
    if level in RATINGS[3:] and not reason.strip():
        raise RatingError("选择“不满意”或“非常不满意”时请说明原因，便于改进。")
    with window.sessions.begin() as s:
        row = s.get(CaseRow, case_id)
        if row is None:
            raise RatingError("找不到该办件，评价未保存。")
        if row.finalized_at is None:
            raise RatingError("办件尚未提交，暂不能评价。")
        if s.execute(select(Rating.id).where(Rating.case_id == case_id, Rating.stage == stage)).first() is not None:
            raise RatingError("该环节已经评价过，感谢您的反馈。")
        rating = Rating(case_id=case_id, stage=stage, level=level, reason=reason.strip()[:500],
                        at=_dt.datetime.now(_dt.timezone.utc), synced=False)
        s.add(rating)
        row.rating = level
        s.flush()
        audit.append(s, operator, "rating", row.case_no, {"stage": stage})
        return rating.id


def rating_offer(window, case_id: str) -> str | None:
    """The stage the applicant can rate now, or None.

    规程 五(六): "受理及联办事项办结后，…应向申请人提供‘好差评’服务": a second rating, for completion, is
    offered once the platform reports the case 已办结 (all joint items finished); the acceptance
    rating is offered from finalizing on. Each stage is rated at most once."""
    from counter_app.lifecycle import CaseState

    with window.sessions() as s:
        row = s.get(CaseRow, case_id)
        if row is None or row.finalized_at is None:
            return None
        rated = set(s.execute(select(Rating.stage).where(Rating.case_id == case_id)).scalars())
        if row.state == CaseState.COMPLETED.value:
            return "completion" if "completion" not in rated else None
        return "acceptance" if "acceptance" not in rated else None
