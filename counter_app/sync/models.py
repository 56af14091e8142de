"""The platform contract's types, defined once: the reference platform declares its routes with
them (so ``docs/openapi.yaml`` is generated from them) and the window's client validates every
answer with them (``responses.py``) before anything is written from it.

Patterns say ``[0-9]``, never ``\\d``: the JSON Schema and Python regex flavours both let ``\\d``
match any Unicode digit (``٣``), which no case number contains.

Requests are closed (``extra="forbid"``): a field the platform does not know is a mistake on the
sending side. Answers are open: a later ``v1`` may add optional fields and an older window must
keep working. Pure data, no I/O: any thread.
"""
from __future__ import annotations

import enum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from counter_app.sync import contract as C

# ---- scalars -----------------------------------------------------------------------------------
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
BusinessKey = Annotated[str, StringConstraints(pattern=C.BUSINESS_KEY_PATTERN)]
CaseNo = Annotated[str, StringConstraints(pattern=C.CASE_NO_PATTERN)]
CenterCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]
WindowNo = Annotated[str, StringConstraints(pattern=r"^(0[1-9]|[1-9][0-9])$")]
IsoDate = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
YearMonth = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-[0-9]{2}$")]
Timestamp = Annotated[str, StringConstraints(min_length=10, max_length=40)]
IdNumber = Annotated[str, StringConstraints(pattern=r"^[0-9]{17}[0-9X]$")]
PlatformId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
ShortText = Annotated[str, StringConstraints(max_length=500)]
ItemNo = Annotated[int, Field(ge=1, le=11)]

MAX_JSON_DEPTH = 24  # the case JSON is at most ~6 levels deep; anything deeper is not a case


def json_depth(value: Any) -> int:
    """Nesting depth of decoded JSON, without recursion (a hostile body must not exhaust the stack)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict):
            deepest = max(deepest, d)
            stack.extend((x, d + 1) for x in v.values())
        elif isinstance(v, list):
            deepest = max(deepest, d)
            stack.extend((x, d + 1) for x in v)
    return deepest


class Role(str, enum.Enum):
    WINDOW = "window"          # one window's PC: submits its own case numbers
    SUPERVISOR = "supervisor"  # the center's supervisor: reads the center, approves corrections


# Literals rather than enums in the models: strict validation of decoded JSON takes the values.
RoleName = Literal["window", "supervisor"]
ErrorCode = Literal[  # the contract.E_* codes (a test checks they agree)
    "invalid_case", "digest_mismatch", "idempotency_key_reused", "business_key_conflict", "attachments_missing",
    "attachment_hash_mismatch", "upload_offset_mismatch", "too_large", "unauthorized", "forbidden",
    "invalid_request", "not_found", "method_not_allowed", "claimed_elsewhere", "person_has_open_case",
    "correction_not_approved"]
DataSharingCheck = Literal["henan_hukou_before_enlistment", "hukou_cancelled", "property_record",
                           "social_security_bank_account", "veteran_file"]


# Strict: JSON "1" is not the integer 1 and 1 is not true — the same as the contract's schema says.
class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _Answer(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class ErrorBody(_Answer):
    code: ErrorCode
    message: str = Field(description="Chinese, shown to the clerk as it is")
    detail: dict[str, Any] | None = Field(None, description="e.g. `missing`, `received`, `case_no`, `window_no`")


# ---- health and identity -------------------------------------------------------------------------
class Health(_Answer):
    status: Literal["ok"]
    api: Literal["v1"]
    service: str
    time: Timestamp | None = None


class WhoAmI(_Answer):
    window: str = Field(min_length=1, description="the platform's label for this credential")
    center_code: CenterCode
    window_no: WindowNo | None = Field(None, description="null for a supervisor credential")
    role: RoleName
    operator: str | None = Field(None, description="the supervisor's name (supervisor credentials)")
    seal_key_enrolled: bool = False


# ---- worklist and claims -----------------------------------------------------------------------
class Claim(_Answer):
    platform_id: PlatformId
    window_no: WindowNo
    claimed_at: Timestamp
    expires_at: Timestamp


class WorklistEntry(_Answer):
    platform_id: PlatformId
    center_code: CenterCode | None = None
    applied_on: IsoDate | None = None
    approved_on: IsoDate
    approved_by: str | None = None
    visit_before: IsoDate | None = None
    uploaded_materials: list[int] = []
    application: dict[str, Any]
    claim: Claim | None = Field(None, description="the window accepting it now, if any (\"正在X号窗口受理\")")


class WorklistAnswer(_Answer):
    center_code: CenterCode
    date: IsoDate
    entries: list[WorklistEntry]


# ---- attachments -------------------------------------------------------------------------------
class AttachmentQuery(_Request):
    sha256: list[Sha256] = Field(max_length=2000)


class AttachmentState(_Answer):
    sha256: Sha256 | None = None
    state: Literal["complete", "partial", "absent"]
    received: int = Field(ge=0, description="bytes held (the resume offset)")
    size: int | None = Field(None, ge=0)


class AttachmentStates(_Answer):
    attachments: list[AttachmentState]


# ---- cases -------------------------------------------------------------------------------------
class AuditHead(_Request):
    seq: int | None = Field(None, ge=0, le=2**62)
    hash: Sha256 | None = None


class CaseAttachment(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    sha256: Sha256
    role: Literal["material", "photo", "signature", "form_pdf", "signed_form", "settlement_letter"]
    material: int | None = Field(None, ge=1, le=12)
    mime: str | None = None
    size: int | None = Field(None, ge=0)


class Applicant(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    name: str = Field(min_length=1, max_length=64)
    id_number: IdNumber


class CaseApplication(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    items: list[ItemNo] = Field(min_length=1, max_length=11)
    applicant: Applicant
    # "" for a walk-in, the worklist entry's platform_id for an online application
    online_application_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{0,64}$")] | None = None


class CorrectionApproval(BaseModel):
    """A correction's approval, inside the sealed part of the case: who approved, when, why."""
    model_config = ConfigDict(extra="forbid", strict=True)
    approved_by: str = Field(min_length=1, max_length=64, description="the supervisor's account name")
    approved_at: Timestamp
    reason: ShortText = ""


class Case(BaseModel):
    """The case JSON (``counter-app/case/v1``; ``docs/case-schema.json`` describes ``application``).
    Fields other than the sealed ones are informational."""
    model_config = ConfigDict(extra="allow", strict=True)
    schema_: Literal["counter-app/case/v1"] = Field(alias="schema")
    case_no: CaseNo
    version: int = Field(ge=1, le=999)
    supersedes: BusinessKey | None = Field(None, description="business key of the version this one corrects")
    correction: CorrectionApproval | None = Field(None, description="required when version > 1")
    center_code: CenterCode
    window_no: WindowNo
    operator: str = Field(min_length=1, max_length=64)
    finalized_at: Timestamp
    application: CaseApplication
    attachments: list[CaseAttachment] = Field(max_length=200)
    content_digest: Sha256
    seal: dict[str, Any] | None = Field(None, description="the window's seal over the content digest and attachments")

    @field_validator("application", mode="before")
    @classmethod
    def _not_too_deep(cls, v: Any) -> Any:
        if json_depth(v) > MAX_JSON_DEPTH:
            raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels")
        return v


class Submission(_Request):
    business_key: BusinessKey
    case: Case
    audit_head: AuditHead | None = None


class AcknowledgedHead(_Answer):
    seq: int = Field(ge=0, le=2**62)
    hash: Sha256


class Acknowledged(_Answer):
    """What the platform holds from the caller's window, for the window to compare with its store
    at start and after every drain: a store that lost its newest commits (a damaged WAL, an older
    backup restored) holds fewer cases or a shorter audit chain than the platform acknowledged."""
    center_code: CenterCode
    window_no: WindowNo
    cases: int = Field(ge=0, description="case versions received from this window (every source)")
    business_keys_sha256: Sha256 = Field(description="SHA-256 of those business keys, sorted, one per line")
    audit_head: AcknowledgedHead | None = Field(
        None, description="the highest audit head this window sent with a case (null before the first)")
    last_received_at: Timestamp | None = None


class Receipt(_Answer):
    platform_case_id: str = Field(min_length=1, max_length=64)
    business_key: BusinessKey
    content_digest: Sha256
    received_at: Timestamp
    items: list[ItemNo]
    seal_verified: bool | None = None
    message: str | None = None


class SubmissionAnswer(_Answer):
    receipt: Receipt
    replayed: bool
    received_count: int = Field(ge=1)


class CaseListItem(_Answer):
    platform_case_id: str
    business_key: BusinessKey
    idempotency_key: str | None = Field(None, description="only for the caller's own window's cases")
    case_no: CaseNo
    version: int
    center_code: CenterCode
    window_no: WindowNo
    content_digest: Sha256
    received_count: int = Field(ge=1)
    first_received_at: Timestamp
    last_received_at: Timestamp
    source: Literal["http", "bundle"]
    seal_verified: bool | None = None
    attachments_held: bool


class CaseListing(_Answer):
    page: int = Field(ge=1)
    page_size: int = Field(ge=1)
    total: int = Field(ge=0)
    items: list[CaseListItem]


class CaseDetail(_Answer):
    receipt: Receipt
    received_count: int = Field(ge=1)
    case: dict[str, Any]
    seal_verified: bool | None = None
    seal_note: str = ""
    audit_head: dict[str, Any] | None = None


# ---- progress ----------------------------------------------------------------------------------
class ProgressQuery(_Request):
    business_keys: list[BusinessKey] = Field(max_length=500)


class ProgressEvent(_Answer):
    status: str = Field(min_length=1)
    at: Timestamp
    note: str | None = None


class ItemProgress(_Answer):
    item: ItemNo
    department: Literal["VA", "PS", "HRSS", "MI", "PAFD"] | None = None
    # A status this window does not know is skipped when applied, not a reason to refuse the rest.
    status: str = Field(min_length=1)
    updated_at: Timestamp
    note: str | None = None
    history: list[ProgressEvent]


class Notification(_Answer):
    """A message the platform sent the applicant ("平台发送短信通知申请人": 审核结果, 户口登记结果, 社保卡);
    the window shows what was sent, it never sends messages itself."""
    at: Timestamp
    channel: Literal["sms"]
    item: ItemNo | None = None
    kind: Literal["result", "hukou_result", "card_result", "rating_invite"]
    text: str = Field(min_length=1, max_length=500)


class CaseProgress(_Answer):
    business_key: BusinessKey
    platform_case_id: str
    items: list[ItemProgress]
    notifications: list[Notification] = Field(default_factory=list,
                                              description="What the platform sent the applicant, oldest first.")
    ratings: list["ChannelRating"] = Field(default_factory=list,
                                           description="好差评 the platform collected through its own channel "
                                                       "(not the window's), oldest first.")


class ProgressAnswer(_Answer):
    cases: list[CaseProgress]
    unknown: list[BusinessKey]
    as_of: Timestamp | None = None


# ---- data sharing ------------------------------------------------------------------------------
class LookupRequest(_Request):
    id_number: IdNumber = Field(description="公民身份号码 (in the body, never in a URL)")
    checks: list[DataSharingCheck] | None = Field(None, max_length=5)


class LookupResult(_Answer):
    verified: bool | None = None
    value: bool | None = None
    found: bool | None = None
    certificate_no: str | None = None
    bank_name: str | None = None
    account: str | None = None
    note: str | None = None
    source: str | None = None
    checked_at: str | None = None
    # veteran_file (退役军人档案, received by the county center before the veteran comes): what it
    # supplies to the form (contract.VETERAN_FILE_FIELDS); each may be missing from a file.
    retirement_type: Literal["self_employed", "demobilized_officer", "monthly_pension"] | None = Field(
        None, description="退役类型 (scheme.RetirementType)")
    enlisted_on: YearMonth | None = Field(None, description="入伍年月 (the start of the military medical insurance)")
    discharge_date: IsoDate | None = Field(None, description="退出现役时间")
    political_status: Annotated[str, StringConstraints(max_length=20)] | None = None
    education: Annotated[str, StringConstraints(max_length=20)] | None = None
    placement_place: Annotated[str, StringConstraints(max_length=100)] | None = None
    pre_enlistment_address: Annotated[str, StringConstraints(max_length=200)] | None = None


class LookupAnswer(_Answer):
    results: dict[str, LookupResult | None]


# ---- ratings -----------------------------------------------------------------------------------
class RatingRequest(_Request):
    business_key: BusinessKey
    stage: Literal["acceptance", "completion"]
    level: Literal["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
    reason: ShortText = Field("", description="required for 不满意 and 非常不满意")
    rated_at: Annotated[str, StringConstraints(max_length=40)] = ""


class RatingAnswer(_Answer):
    rating_id: int
    replayed: bool


# ---- one open case per person ------------------------------------------------------------------
class PersonQuery(_Request):
    id_number: IdNumber


class OpenCase(_Answer):
    case_no: CaseNo
    center_code: CenterCode
    center_name: str | None = None
    window_no: WindowNo
    accepted_at: Timestamp | None = None


class PersonAnswer(_Answer):
    open_case: OpenCase | None


# ---- the center's figures (masked) -------------------------------------------------------------
class CenterCaseRow(_Answer):
    case_no: CaseNo
    version: int
    window_no: WindowNo
    operator: str
    applicant: str = Field(description="masked name")
    id_number: str = Field(description="masked ID number")
    items: list[ItemNo]
    status: Literal["open", "completed", "overdue"]
    overdue_items: list[ItemNo] = []
    accepted_at: Timestamp
    retirement_type: str | None = None
    rating: str | None = Field(None, description="the applicant's rating at acceptance, if given")


class WindowFigures(_Answer):
    window_no: WindowNo
    operator: str
    accepted: int = Field(ge=0)
    open: int = Field(ge=0)
    completed: int = Field(ge=0)
    overdue: int = Field(ge=0)


class CenterReport(_Answer):
    center_code: CenterCode
    date: IsoDate
    as_of: Timestamp
    accepted: int = Field(ge=0)
    open: int = Field(ge=0)
    completed: int = Field(ge=0)
    overdue: int = Field(ge=0)
    by_window: list[WindowFigures]
    items: dict[str, int] = Field(description="item number → how many cases chose it")
    statuses: dict[str, int] = Field(description="department status → how many items are in it")
    ratings: dict[str, int] = Field(description="rating level → how many")
    cases: list[CenterCaseRow]


class ClaimAnswer(_Answer):
    platform_id: PlatformId
    claim: Claim | None = Field(description="null after a release")


# ---- after acceptance: what the window sends about a case it already submitted -------------------
# 规程 五(四)1: the 落户介绍信 is stamped after it is printed; scanned back later, it releases the
# police items the platform held (4, 5). 规程 五(六): "受理及联办事项办结后" the applicant rates again;
# one who does not come back to the window is asked through the platform's own channel.
LetterMime = Literal["application/pdf", "image/jpeg", "image/png"]
RatingLevel = Literal["非常满意", "满意", "基本满意", "不满意", "非常不满意"]


class SettlementLetterSubmission(_Request):
    """The stamped 落户介绍信 of a received case, scanned back after acceptance (attachment role
    ``settlement_letter``; the file itself is uploaded first, ``PUT /attachments/{sha256}``)."""
    business_key: BusinessKey
    sha256: Sha256
    mime: LetterMime
    scanned_at: Timestamp


class SettlementLetterAnswer(_Answer):
    business_key: BusinessKey
    sha256: Sha256
    pushed_items: list[ItemNo] = Field(description="the items this letter released to the police (4, 5)")
    replayed: bool
    message: str | None = None


class RatingInvitationRequest(_Request):
    """The window asks the platform to invite the applicant to rate the completed case."""
    business_key: BusinessKey
    stage: Literal["completion"]
    channel: Literal["sms"]


class RatingInvitationAnswer(_Answer):
    invitation_id: int = Field(ge=1)
    sent_at: Timestamp
    replayed: bool


class ChannelRating(_Answer):
    """A rating the applicant gave through the platform's channel (the SMS link, the online hall)."""
    stage: Literal["acceptance", "completion"]
    level: RatingLevel
    reason: str | None = Field(None, max_length=500)
    channel: Literal["sms", "online"]
    rated_at: Timestamp


CaseProgress.model_rebuild()
