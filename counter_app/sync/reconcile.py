"""Comparing the window's store with what the platform acknowledges holding from this window.

A store that lost its latest commits (a damaged WAL, a restored older backup) may have lost
cases the platform already received. Two checks, one owner:

- :func:`check_acknowledged` runs at the worker's start and after every drain: one request
  (``GET /acknowledged``) gives the platform's count of this window's case versions, a digest over
  their business keys and the highest audit head the window sent with a case. Equal to the
  acknowledged cases here and an audit head the local chain still holds: done. Otherwise the
  listing is paged (:func:`reconcile`) to name every case the platform holds and this store lacks.
- :func:`reconcile` pages through the platform's listing (``GET /cases``, one request per 100
  cases): every business key it holds from this window must exist here (``counter-app sync
  verify`` runs it on demand, e.g. after a restore).

A mismatch is recorded in the audit (once per distinct finding, and again when it clears), kept
in the sync status for the status bar and ``sync status``, and never silently dropped. Blocks on
the network: call it from the sync worker's thread or a CLI command, never the GUI thread.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field

from sqlalchemy import func, select

from counter_app import audit
from counter_app.masking import mask_id_number, mask_name
from counter_app.statuses import OutboxStatus
from counter_app.store.models import AuditEntry, OutboxEntry
from counter_app.sync import contract as C
from counter_app.sync.errors import SyncError

log = logging.getLogger(__name__)
NAMED_AT_MOST = 5  # missing cases named with their (masked) applicant; the rest by case number
WHAT_TO_DO = ("请技术人员暂停使用本机受理，从最近的备份恢复（counter-app db restore）后再核对"
              "（counter-app sync verify）；恢复前不要清理或重新安装。")


@dataclass
class Reconciliation:
    platform_holds: int = 0
    local_acked: int = 0
    missing_locally: list[str] = field(default_factory=list)   # business keys
    not_on_platform: list[str] = field(default_factory=list)   # acked here, unknown there
    platform_ids: dict[str, str] = field(default_factory=dict)  # business key -> platform_case_id

    @property
    def ok(self) -> bool:
        return not self.missing_locally and not self.not_on_platform

    def to_dict(self) -> dict:
        return {"platform_holds": self.platform_holds, "local_acked": self.local_acked, "ok": self.ok,
                "missing_locally": self.missing_locally, "not_on_platform": self.not_on_platform}


def _local_outbox(window) -> dict[str, str]:  # noqa: ANN001
    with window.sessions() as s:
        return {bk: status for bk, status in s.execute(select(OutboxEntry.business_key, OutboxEntry.status))}


def reconcile(window, client, *, page_size: int = 100) -> Reconciliation:  # noqa: ANN001
    settings = window.settings
    held: dict[str, str] = {}
    page = 1
    while True:
        listing = client.list_cases(page=page, page_size=page_size, center_code=settings.center_code)
        for item in listing["items"]:
            if item.get("window_no") in (None, settings.window_no):
                held[item["business_key"]] = item.get("platform_case_id") or ""
        if page * page_size >= listing["total"] or not listing["items"]:
            break
        page += 1
    local = _local_outbox(window)
    acked = {bk for bk, status in local.items() if status == OutboxStatus.ACKED}
    return Reconciliation(platform_holds=len(held), local_acked=len(acked),
                          missing_locally=sorted(set(held) - set(local)), not_on_platform=sorted(acked - set(held)),
                          platform_ids=held)


@dataclass(frozen=True)
class AcknowledgedCheck:
    platform_cases: int
    local_acked: int
    platform_head_seq: int | None = None
    local_head_seq: int = 0
    head_problem: str = ""                     # Chinese, "" when the chain holds the platform's head
    missing_locally: tuple[str, ...] = ()      # business keys the platform holds and this store lacks
    missing_named: tuple[str, ...] = ()        # the same, for people: case number and masked applicant
    not_on_platform: tuple[str, ...] = ()      # acknowledged here, unknown to the platform

    @property
    def ok(self) -> bool:
        return not (self.head_problem or self.missing_locally or self.not_on_platform)

    @property
    def message(self) -> str:
        """For the clerk and IT: what differs and what to do ("" when consistent)."""
        if self.ok:
            return ""
        parts = []
        if self.missing_locally:
            names = "、".join(self.missing_named or self.missing_locally)
            more = len(self.missing_locally) - len(self.missing_named or self.missing_locally)
            parts.append(f"省平台已收到的{len(self.missing_locally)}件本窗口办件在本机缺失：{names}"
                         + (f"等（另有{more}件）" if more > 0 else ""))
        if self.not_on_platform:
            parts.append(f"本机记为已上报的{len(self.not_on_platform)}件办件省平台没有："
                         + "、".join(self.not_on_platform[:NAMED_AT_MOST]))
        if self.head_problem:
            parts.append(self.head_problem)
        return "与省平台核对不一致：" + "；".join(parts) + "。" + WHAT_TO_DO

    @property
    def signature(self) -> str:
        """Equal for the same finding, so the audit records each finding once."""
        if self.ok:
            return ""
        # Not the message: it names the local head, which the audit entry itself moves on.
        text = "\n".join([*sorted(self.missing_locally), *sorted(f"+{k}" for k in self.not_on_platform),
                          f"head:{self.platform_head_seq if self.head_problem else ''}"])
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def audit_detail(self) -> dict:
        # Business keys only: no applicant data in the audit trail.
        return {"platform_cases": self.platform_cases, "local_acked": self.local_acked,
                "missing_locally": list(self.missing_locally[:50]), "not_on_platform": list(self.not_on_platform[:50]),
                "platform_head_seq": self.platform_head_seq, "local_head_seq": self.local_head_seq,
                "head_differs": bool(self.head_problem)}

    def to_dict(self) -> dict:
        return {"ok": self.ok, "message": self.message, **self.audit_detail(),
                "missing_named": list(self.missing_named)}


def _head_problem(window, head: dict | None) -> tuple[str, int]:  # noqa: ANN001
    """Whether the local chain still holds the audit head the platform acknowledged; one indexed
    read, not a walk of the chain (``audit verify`` walks it)."""
    with window.sessions() as s:
        local_seq, _ = audit.head(s)
        if not head:
            return "", local_seq
        seq, h = int(head["seq"]), str(head["hash"])
        first = s.execute(select(func.min(AuditEntry.seq))).scalar_one_or_none() or 0
        if seq > local_seq:
            return (f"本机审计记录只到第{local_seq}条，省平台已确认到第{seq}条（本机丢失了最近的记录）", local_seq)
        if seq < first:  # archived here; the archive's checkpoint vouches for it
            return "", local_seq
        mine = s.execute(select(AuditEntry.hash).where(AuditEntry.seq == seq)).scalar_one_or_none()
    if mine != h:
        return f"本机第{seq}条审计记录与省平台确认的不一致（记录被改动或替换）", local_seq
    return "", local_seq


def _named(client, rec: Reconciliation, keys: list[str]) -> tuple[str, ...]:  # noqa: ANN001
    """Case number with the applicant masked (张*军 410***…123X), from the platform's copy."""
    out = []
    for bk in keys[:NAMED_AT_MOST]:
        label = bk.replace("/v", " 第") + "版"
        pid = rec.platform_ids.get(bk)
        if pid:
            try:
                applicant = (client.get_case(pid).get("case") or {}).get("application", {}).get("applicant") or {}
                label += f"（申请人{mask_name(applicant.get('name'))}，{mask_id_number(applicant.get('id_number'))}）"
            except (SyncError, AttributeError, TypeError):
                pass  # the case number alone still names it
        out.append(label)
    return tuple(out)


def check_acknowledged(window, client, *, full: bool = False) -> AcknowledgedCheck:  # noqa: ANN001
    """Compare the platform's acknowledged state with this store (network; raises ``SyncError``).
    ``full``: page through the listing even when count and digest agree (``sync verify``)."""
    ack = client.acknowledged()
    local = _local_outbox(window)
    acked = [bk for bk, status in local.items() if status == OutboxStatus.ACKED]
    head_problem, local_seq = _head_problem(window, ack.get("audit_head"))
    platform_head = (ack.get("audit_head") or {}).get("seq")
    same = ack["cases"] == len(acked) and ack.get("business_keys_sha256") == C.business_keys_digest(acked)
    if same and not full:
        return AcknowledgedCheck(ack["cases"], len(acked), platform_head, local_seq, head_problem)
    # Counts differ: cases in flight (received, receipt not yet committed) explain some of it; the
    # listing says exactly which cases each side lacks.
    rec = reconcile(window, client)
    return AcknowledgedCheck(ack["cases"], len(acked), platform_head, local_seq, head_problem,
                             tuple(rec.missing_locally), _named(client, rec, rec.missing_locally),
                             tuple(rec.not_on_platform))


def record_finding(window, check: AcknowledgedCheck, previous_signature: str) -> str:  # noqa: ANN001
    """Audit a new finding (or its clearing); returns the signature now recorded. A store that
    refuses writes (damaged, read-only) still shows the finding; the audit entry waits."""
    signature = check.signature
    if signature == previous_signature:
        return signature
    try:
        with window.sessions.begin() as s:
            if check.ok:
                audit.append(s, "system", "sync_mismatch_cleared", "", {"platform_cases": check.platform_cases})
            else:
                audit.append(s, "system", "sync_mismatch", "", check.audit_detail())
    except Exception as exc:  # noqa: BLE001 - a read-only store: the status still shows it; retried next round
        log.warning("无法把与省平台核对不一致的结果写入审计记录（本机数据库只读或损坏）：%s", type(exc).__name__)
        return previous_signature
    return signature
