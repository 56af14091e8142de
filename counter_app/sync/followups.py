"""After acceptance: what the window still sends the platform about a case it already submitted.

- **The stamped 落户介绍信, scanned back.** 规程 五(四)1: the county VA "开具《落户介绍信》，并及时扫描上传至省一体化
  政务服务平台，推送至公安部门". The letter is printed at the counter and stamped afterwards, so its scan
  often comes back after the case was finalized. It cannot join the sealed attachments then (the
  applicant's signature and the window's seal cover them), so it travels on its own: the file is
  uploaded like any attachment and announced with the case's business key (``POST
  /settlement-letters``, role ``settlement_letter``); the platform then pushes the police items (4,
  5) it held as 待推送.
- **The completion rating through the platform's channel.** 规程 五(六): "受理及联办事项办结后…提供‘好差评’
  服务". An applicant who comes back to the window rates on the applicant screen (stage
  ``completion``); for one who does not, the window asks the platform to send its rating invitation
  (``POST /ratings/invitations``), and the rating the platform collects comes back with the
  progress answer (``ratings``), recorded here with the channel it came through.

Each request is a ``followups`` row written at once (one per case and kind) and sent by the sync
worker with a stable idempotency key, so nothing is lost offline and nothing is sent twice.

Thread contract: blocks on the database (and, in ``push_followups``, the network); call from a
worker, never the GUI thread.
"""
from __future__ import annotations

import datetime as _dt
import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import select

from counter_app import audit
from counter_app.errors import UserError
from counter_app.lifecycle import CaseState
from counter_app.police_items import LETTER_ROLE
from counter_app.statuses import FOLLOWUP_REFUSED, FollowUpKind, OutboxStatus
from counter_app.store.models import Attachment, CaseAttachment, CaseRow, FollowUp, OutboxEntry, Rating
from counter_app.sync import contract as C
from counter_app.sync.errors import RejectedError, SyncError

log = logging.getLogger(__name__)

ACKED = OutboxStatus.ACKED
LETTER_MIMES = {"application/pdf", "image/jpeg", "image/png"}
CHANNEL_TITLES = {"window": "窗口申请人屏", "sms": "省平台短信评价", "online": "省政务服务网"}
STAGE_TITLES = {"acceptance": "受理评价", "completion": "办结评价"}


class FollowUpError(UserError, ValueError):
    """The message is Chinese and says what to do (see ``counter_app.errors``)."""


@dataclass(frozen=True)
class LetterState:
    """Where the stamped 落户介绍信 of a case stands."""
    needed: bool                 # item 4 chosen: the police items wait for it
    sealed: bool = False         # scanned before finalizing: inside the sealed attachments
    sha256: str = ""             # scanned back after finalizing
    scanned_at: _dt.datetime | None = None
    sent_at: _dt.datetime | None = None
    answer: str = ""

    @property
    def text(self) -> str:
        if not self.needed:
            return "无需（未选择户口登记）"
        if self.sealed:
            return "已随办件上报"
        if not self.sha256:
            return "未回传：公安部门的户口登记、身份证申领在省平台待推送"
        if self.sent_at is None:
            return "已回传，等待上报省平台"
        return self.answer or "已上报省平台，公安事项已推送"


@dataclass(frozen=True)
class RatingView:
    stage: str
    level: str
    channel: str
    at: _dt.datetime | None

    @property
    def text(self) -> str:
        return f"{STAGE_TITLES.get(self.stage, self.stage)}：{self.level}（{CHANNEL_TITLES.get(self.channel, self.channel)}）"


@dataclass(frozen=True)
class InvitationState:
    requested_at: _dt.datetime
    requested_by: str
    sent_at: _dt.datetime | None
    answer: str = ""


def followup_key(business_key: str, followup_id: int, kind: str) -> str:
    """A stable idempotency key (the same on every resend)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"counter-app:followup:{business_key}:{followup_id}:{kind}"))


def _finalized(s, case_id: str) -> CaseRow:
    row = s.get(CaseRow, case_id)
    if row is None:
        raise FollowUpError("找不到该办件。")
    if row.finalized_at is None:
        raise FollowUpError("办件尚未提交：盖章的落户介绍信请在受理的“打印与扫描”步骤导入。")
    return row


def _sealed_letter(s, case_id: str) -> bool:
    return s.execute(select(CaseAttachment.sha256).where(CaseAttachment.case_id == case_id,
                                                         CaseAttachment.role == LETTER_ROLE)).first() is not None


def letter_state(window, case_id: str) -> LetterState:
    with window.sessions() as s:
        row = s.get(CaseRow, case_id)
        if row is None or 4 not in {int(n) for n in (row.items or "").split(",") if n}:
            return LetterState(needed=False)
        if _sealed_letter(s, case_id):
            return LetterState(needed=True, sealed=True)
        f = s.execute(select(FollowUp).where(FollowUp.case_id == case_id,
                                             FollowUp.kind == FollowUpKind.SETTLEMENT_LETTER.value)).scalar_one_or_none()
        if f is None:
            return LetterState(needed=True)
        return LetterState(True, False, f.sha256 or "", f.requested_at, f.sent_at, f.answer or "")


def queue_settlement_letter(window, case_id: str, data: bytes, mime: str, actor) -> str:
    """Keep the stamped letter's scan (encrypted, content-addressed) and queue it for the platform.
    Returns its SHA-256. Refused with a ``FollowUpError`` when the case needs no letter, already has
    one, or is not finalized yet."""
    from counter_app.security.roles import Permission

    window.cases._require(actor, Permission.HANDLE_CASE)
    if mime not in LETTER_MIMES:
        raise FollowUpError("落户介绍信扫描件应为PDF、JPEG或PNG。")
    if not data:
        raise FollowUpError("落户介绍信扫描件是空文件，请重新扫描。")
    if len(data) > C.MAX_ATTACHMENT_BYTES:
        raise FollowUpError(f"扫描件超过{C.MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB，请降低扫描分辨率后重新导入。")
    with window.sessions() as s:
        row = _finalized(s, case_id)
        if 4 not in {int(n) for n in (row.items or "").split(",") if n}:
            raise FollowUpError("该办件未选择户口登记（事项4），无需落户介绍信。")
        if row.state in (CaseState.SUPERSEDED.value, CaseState.WITHDRAWN.value):
            raise FollowUpError("该版本已被更正或撤回，请在最新版本上回传落户介绍信。")
        if _sealed_letter(s, case_id):
            raise FollowUpError("该办件的落户介绍信已随办件上报，无需再次回传。")
    sha = window.cases.put_attachment(data, mime)
    now = window.cases.clock()
    with window.sessions.begin() as s:
        row = s.get(CaseRow, case_id)
        if s.execute(select(FollowUp.id).where(FollowUp.case_id == case_id,
                                               FollowUp.kind == FollowUpKind.SETTLEMENT_LETTER.value)).first():
            raise FollowUpError("该办件的落户介绍信已回传过；如扫描件有误，请联系省平台更正。")
        if s.get(Attachment, sha) is None:
            s.add(Attachment(sha256=sha, size=len(data), mime=mime, created_at=now))
        s.add(FollowUp(case_id=case_id, kind=FollowUpKind.SETTLEMENT_LETTER.value, sha256=sha, requested_at=now,
                       requested_by=actor.username, answer=""))
        audit.append(s, actor.username, "followup", row.case_no, {"kind": FollowUpKind.SETTLEMENT_LETTER.value})
    return sha


def start_correction_with_letter(window, case_id: str, actor, reason: str):
    """``CaseService.start_correction``, carrying a 落户介绍信 scanned back after acceptance into the
    new version's draft: the new version is sealed with it, so the police items are not held again."""
    record = window.cases.start_correction(case_id, actor, reason)
    state = letter_state(window, case_id)
    if state.sha256 and not record.application.settlement_letter_scan:
        app = record.application
        app.settlement_letter_scan = state.sha256
        record = window.cases.save_draft(record.id, app, actor)
    return record


def request_rating_invitation(window, case_id: str, actor) -> None:
    """Ask the platform to invite the applicant to rate the completed case through its own channel
    (the applicant is not at the window). Refused when the case is not 已办结 or is rated already."""
    from counter_app.security.roles import Permission
    from counter_app.sync.ratings import rating_offer

    window.cases._require(actor, Permission.HANDLE_CASE)
    if rating_offer(window, case_id) != "completion":
        with window.sessions() as s:
            row = _finalized(s, case_id)
            rated = s.execute(select(Rating.id).where(Rating.case_id == case_id, Rating.stage == "completion")).first()
        if rated is not None:
            raise FollowUpError("申请人已对办结服务评价，无需再邀请。")
        raise FollowUpError(f"办件目前为“{CaseState(row.state).title}”：办结评价在联办事项全部办结后才能邀请。")
    with window.sessions.begin() as s:
        row = s.get(CaseRow, case_id)
        if s.execute(select(FollowUp.id).where(FollowUp.case_id == case_id,
                                               FollowUp.kind == FollowUpKind.RATING_INVITATION.value)).first():
            raise FollowUpError("已请省平台发送过评价邀请，请等待申请人评价。")
        s.add(FollowUp(case_id=case_id, kind=FollowUpKind.RATING_INVITATION.value, requested_at=window.cases.clock(),
                       requested_by=actor.username, answer=""))
        audit.append(s, actor.username, "followup", row.case_no, {"kind": FollowUpKind.RATING_INVITATION.value})


def invitation_state(window, case_id: str) -> InvitationState | None:
    with window.sessions() as s:
        f = s.execute(select(FollowUp).where(FollowUp.case_id == case_id,
                                             FollowUp.kind == FollowUpKind.RATING_INVITATION.value)).scalar_one_or_none()
        return None if f is None else InvitationState(f.requested_at, f.requested_by, f.sent_at, f.answer or "")


def ratings_of(window, case_id: str) -> list[RatingView]:
    with window.sessions() as s:
        return [RatingView(r.stage, r.level, r.channel or "window", r.at)
                for r in s.execute(select(Rating).where(Rating.case_id == case_id).order_by(Rating.at, Rating.id))
                .scalars()]


def store_channel_ratings(window, case_id: str, ratings: list[dict]) -> int:
    """Keep the ratings the platform collected through its own channel (already checked by
    ``responses``). One rating per case and stage, whichever channel came first; returns how many were new."""
    if not ratings:
        return 0
    new = 0
    with window.sessions.begin() as s:
        row = s.get(CaseRow, case_id)
        if row is None:
            return 0
        rated = set(s.execute(select(Rating.stage).where(Rating.case_id == case_id)).scalars())
        for r in ratings:
            if r["stage"] in rated or r["channel"] not in C.RATING_CHANNELS:
                continue
            at = _dt.datetime.fromisoformat(r["rated_at"])
            at = at if at.tzinfo else at.replace(tzinfo=_dt.timezone.utc)
            s.add(Rating(case_id=case_id, stage=r["stage"], level=r["level"], reason=(r.get("reason") or "")[:500],
                         at=at, synced=True, channel=r["channel"]))
            row.rating = r["level"]
            rated.add(r["stage"])
            audit.append(s, "platform", "rating", row.case_no, {"stage": r["stage"], "channel": r["channel"]})
            new += 1
    return new


# How long after completion the window keeps asking about a rating given through the platform's
# channel on the applicant's own initiative (an invited one is asked about until it comes).
RATING_WINDOW_DAYS = 30


def awaiting_channel_rating(window) -> list[tuple[str, str]]:
    """(case id, business key) of completed cases without a completion rating that the platform
    may still collect: invited, or completed within ``RATING_WINDOW_DAYS``. They are no longer
    open, so progress would not ask about them otherwise."""
    from sqlalchemy import or_

    since = window.cases.clock() - _dt.timedelta(days=RATING_WINDOW_DAYS)
    with window.sessions() as s:
        rated = select(Rating.case_id).where(Rating.stage == "completion")
        invited = select(FollowUp.case_id).where(FollowUp.kind == FollowUpKind.RATING_INVITATION.value,
                                                 FollowUp.sent_at.is_not(None), FollowUp.answer.not_like(f"{FOLLOWUP_REFUSED}%"))
        rows = s.execute(select(CaseRow.id, OutboxEntry.business_key)
                         .join(OutboxEntry, OutboxEntry.case_id == CaseRow.id)
                         .where(CaseRow.state == CaseState.COMPLETED.value, OutboxEntry.status == ACKED,
                                CaseRow.id.not_in(rated), or_(CaseRow.id.in_(invited), CaseRow.updated_at >= since))
                         ).all()
        return [(r[0], r[1]) for r in rows]


def push_followups(window, client) -> int:
    """Send the follow-ups of cases the platform has acknowledged. Returns how many were confirmed.
    Stops at the first transient error (the next round retries); a refusal is kept as the answer."""
    with window.sessions() as s:
        rows = s.execute(select(FollowUp, OutboxEntry.business_key)
                         .join(OutboxEntry, OutboxEntry.case_id == FollowUp.case_id)
                         .where(FollowUp.sent_at.is_(None), OutboxEntry.status == ACKED).order_by(FollowUp.id)).all()
        todo = [(f.id, f.case_id, f.kind, f.sha256, f.requested_at, bk) for f, bk in rows]
        mimes = {a.sha256: a.mime for a in s.execute(select(Attachment).where(
            Attachment.sha256.in_([t[3] for t in todo if t[3]]))).scalars()}
    sent = 0
    for fid, _case_id, kind, sha, requested_at, bk in todo:
        key = followup_key(bk, fid, kind)
        try:
            if kind == FollowUpKind.SETTLEMENT_LETTER.value:
                data = window.files.get(sha)
                state = client.attachment_states([sha]).get(sha) or {"state": "absent", "received": 0}
                if state.get("state") != "complete":
                    client.upload_attachment(sha, data, offset=int(state.get("received") or 0))
                answer = client.submit_settlement_letter(key, business_key=bk, sha256=sha,
                                                         mime=mimes.get(sha, "application/pdf"),
                                                         scanned_at=requested_at.isoformat())
                note = answer.get("message") or ""
            else:
                answer = client.request_rating_invitation(key, business_key=bk, stage="completion", channel="sms")
                note = ""
        except RejectedError as exc:
            # Final: resending the same request gets the same refusal. Kept with its reason for the clerk.
            log.warning("回传事项 %s 被平台拒收：%s", fid, exc.code)
            with window.sessions.begin() as s:
                f = s.get(FollowUp, fid)
                if f is not None:
                    f.sent_at, f.answer = window.cases.clock(), f"{FOLLOWUP_REFUSED}：{exc.message}"
            continue
        except SyncError:
            break
        with window.sessions.begin() as s:
            f = s.get(FollowUp, fid)
            if f is not None:
                f.sent_at, f.answer = window.cases.clock(), note
        if kind == FollowUpKind.SETTLEMENT_LETTER.value:
            _police_items_pushed(window, _case_id, answer.get("pushed_items") or ())
        sent += 1
    return sent


def _police_items_pushed(window, case_id: str, items) -> None:
    """The platform pushed the held police items with the letter: they leave 待推送 here too."""
    from counter_app.lifecycle import ItemStatus
    from counter_app.police_items import POLICE_ITEMS

    for n in items:
        if n not in POLICE_ITEMS:
            continue
        try:
            window.cases.record_item_status(case_id, n, ItemStatus.PUSHED, source="platform",
                                            note="已随盖章的落户介绍信推送公安部门")
        except UserError as exc:  # the department already reported further: keep what it said
            log.warning("事项%s推送状态未更新：%s", n, exc.message)
