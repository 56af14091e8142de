"""Re-checking an archived (finalized) case: is it whole and provably unaltered?

:func:`verify_case` recomputes the content digest from the stored case (decrypting it), checks
the seal over that digest and the attachment hashes against the window's own public key,
cross-checks the digest recorded in the audit trail at finalize, and opens every attachment
file (decrypts it and compares its SHA-256 and size). Each check is reported separately so IT
staff see exactly which part failed. A purged case (retention) keeps its seal and digest: the
seal is still checked, the content and files are reported as purged.

Thread contract: read-only; any thread.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import select

from counter_app.case_number import CaseNumber
from counter_app.case_json import sealed_digest
from counter_app.cases import CaseDamaged, CaseError
from counter_app.security.seal import seal_problem
from counter_app.security.vault import DecryptionError
from counter_app.store.files import AttachmentCorrupt, AttachmentMissing
from counter_app.store.models import Attachment, AuditEntry, CaseAttachment, CaseRow

if TYPE_CHECKING:  # pragma: no cover
    from counter_app.services import Window

ROLE_TITLES = {"form_pdf": "申请表PDF", "signed_form": "签字申请表扫描件", "settlement_letter": "落户介绍信（盖章扫描件）", "photo": "照片", "signature": "签名",
               "material": "材料"}


@dataclass
class Check:
    name: str
    ok: bool | None  # None = not applicable (purged)
    message: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ArchiveReport:
    case_no: str
    version: int
    purged: bool
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok is not False for c in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.ok is False]

    def to_dict(self) -> dict:
        return {"case_no": self.case_no, "version": self.version, "ok": self.ok, "purged": self.purged,
                "checks": [c.to_dict() for c in self.checks]}


def find_finalized(window: "Window", case_no: str, version: int | None = None) -> CaseRow:
    """The finalized case row (latest version unless ``version``); CaseError (Chinese) when none."""
    return _find_row(window, case_no, version)


def _find_row(window: "Window", case_no: str, version: int | None) -> CaseRow:
    try:
        canonical = str(CaseNumber.parse(case_no))
    except ValueError as exc:
        raise CaseError(str(exc)) from None
    with window.sessions() as s:
        q = select(CaseRow).where(CaseRow.case_no == canonical, CaseRow.finalized_at.is_not(None))
        q = q.where(CaseRow.version == version) if version else q.order_by(CaseRow.version.desc())
        row = s.execute(q.limit(1)).scalar_one_or_none()
    if row is None:
        raise CaseError(f"找不到已定稿的办件 {canonical}" + (f"（第{version}版）" if version else "") + "。")
    return row


def verify_case(window: "Window", case_no: str, version: int | None = None) -> ArchiveReport:
    row = _find_row(window, case_no, version)
    report = ArchiveReport(row.case_no, row.version, row.purged_at is not None)
    add = report.checks.append
    with window.sessions() as s:
        links = s.execute(select(CaseAttachment, Attachment).join(Attachment, Attachment.sha256 == CaseAttachment.sha256)
                          .where(CaseAttachment.case_id == row.id)).all()
        finalize_entries = s.execute(select(AuditEntry).where(AuditEntry.action == "finalize",
                                                              AuditEntry.subject == row.case_no)).scalars().all()
    hashes = [ca.sha256 for ca, _ in links]

    # 1. content digest, recomputed from the stored (decrypted) case
    if report.purged:
        add(Check("content", None, "个人信息已按保留期限清除，内容摘要无法重新计算（保留原摘要和签章）。"))
    else:
        try:
            exported = window.cases.export(row.id)
        except (DecryptionError, CaseDamaged):
            add(Check("content", False, "办件数据密文校验失败（被改动、被移动或密钥不符）。"))
        except (ValueError, KeyError) as exc:
            add(Check("content", False, f"办件数据无法解析：{exc}"))
        else:
            digest = sealed_digest(exported)
            if digest == row.content_digest:
                add(Check("content", True, "办件内容与定稿摘要一致。"))
            else:
                add(Check("content", False, "办件内容与定稿时的摘要不符（字段或附件清单被改动）。"))

    # 2. the digest written into the audit trail at finalize
    recorded = [e.detail.get("digest") for e in finalize_entries if (e.detail or {}).get("version") == row.version]
    if not recorded:
        add(Check("audit", None, "审计记录中没有该版本的定稿记录（可能已归档）。"))
    elif row.content_digest in recorded:
        add(Check("audit", True, "定稿摘要与审计记录一致。"))
    else:
        add(Check("audit", False, "定稿摘要与审计记录不符（摘要被改动）。"))

    # 3. the seal, pinned to this window's key
    sealer = window.cases.sealer
    if sealer is None:
        add(Check("seal", False, "本机没有签章密钥，无法核验签章。"))
    else:
        problem = seal_problem(row.seal, row.content_digest or "", hashes, trusted_keys=[sealer.public_key_b64])
        add(Check("seal", problem is None, problem or f"签章有效（{row.seal.get('alg')}，密钥 {row.seal.get('key_id')}）。"))

    # 4. every file
    roles = {ca.role for ca, _ in links}
    if "form_pdf" not in roles:
        add(Check("form_pdf", False, "办件没有申请表PDF附件。"))
    for ca, att in sorted(links, key=lambda x: (x[0].role, x[0].sha256)):
        title = ROLE_TITLES.get(ca.role, ca.role) + (f"{ca.material}" if ca.material else "")
        name = f"file:{ca.role}:{ca.sha256[:12]}"
        if att.purged_at is not None:
            add(Check(name, None, f"{title}（{ca.sha256[:12]}…）已按保留期限清除。"))
            continue
        try:
            data = window.files.get(ca.sha256)
        except (AttachmentMissing, AttachmentCorrupt) as exc:
            add(Check(name, False, f"{title}：{exc}"))
            continue
        if len(data) != att.size:
            add(Check(name, False, f"{title}（{ca.sha256[:12]}…）大小与登记不符。"))
        else:
            add(Check(name, True, f"{title}（{ca.sha256[:12]}…）完整。"))
    return report
