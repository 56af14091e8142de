"""The platform contract shared by the window's client and the reference platform server.

The authoritative description is ``docs/openapi.yaml`` (OpenAPI 3.1, ``/api/v1``). This module
holds the few rules both sides must compute identically, so they cannot drift apart:

- the case's *content digest*: SHA-256 of the canonical JSON of the sealed parts of the case
  (what cannot change after the applicant signed). The platform recomputes it on receipt, and it
  is the payload identity used for deduplication: a resend carries the same digest even when the
  informational parts of the case JSON (its current state, deadlines computed with a newer holiday
  table, the center's display name) have changed meanwhile;
- the business key ``case_no/vN`` and the header names;
- the error codes a server returns, and which of them mean "this case's data is wrong".
"""
from __future__ import annotations

import hashlib
import json
import re
from typing import Any

API_PREFIX = "/api/v1"
SERVICE_NAME = "henan-veteran-one-thing-platform"
CASE_SCHEMA = "counter-app/case/v1"
CONTRACT_VERSION = "1.3.0"  # docs/openapi.yaml info.version

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
UPLOAD_OFFSET_HEADER = "Upload-Offset"
UPLOAD_LENGTH_HEADER = "Upload-Length"

# The parts of the case JSON the seal and the content digest cover (they never change after
# signing). Must match the window core's sealing rule; tests/sync checks they agree.
SEALED_KEYS: tuple[str, ...] = ("schema", "case_no", "version", "supersedes", "center_code", "window_no",
                                "operator", "finalized_at", "application", "attachments")
# Parts of the exported case JSON that describe the window's local view and change over time;
# they are not sent.
LOCAL_ONLY_KEYS: tuple[str, ...] = ("state", "items_progress", "platform")

# Error codes (the ``code`` field of an error body). Those in DATA_ERRORS mean the submission
# itself is wrong: the window puts the case in its quarantine lane and goes on with the others.
E_INVALID_CASE = "invalid_case"
E_DIGEST_MISMATCH = "digest_mismatch"
E_KEY_REUSED = "idempotency_key_reused"
E_BUSINESS_KEY_CONFLICT = "business_key_conflict"
E_ATTACHMENTS_MISSING = "attachments_missing"
E_ATTACHMENT_HASH = "attachment_hash_mismatch"
E_UPLOAD_OFFSET = "upload_offset_mismatch"
E_TOO_LARGE = "too_large"
E_UNAUTHORIZED = "unauthorized"
E_INVALID_REQUEST = "invalid_request"
E_NOT_FOUND = "not_found"
E_FORBIDDEN = "forbidden"                      # 403: the credential may not act on that center/window
E_METHOD_NOT_ALLOWED = "method_not_allowed"    # 405 (with an ``Allow`` header)
E_CLAIMED_ELSEWHERE = "claimed_elsewhere"      # 409: another window is accepting that online application
E_PERSON_OPEN_CASE = "person_has_open_case"    # 409: the veteran already has an open case (detail.case_no)
E_CORRECTION_NOT_APPROVED = "correction_not_approved"  # 422: vN>1 without a named, sealed supervisor approval
DATA_ERRORS = frozenset({E_INVALID_CASE, E_DIGEST_MISMATCH, E_KEY_REUSED, E_BUSINESS_KEY_CONFLICT,
                         E_ATTACHMENT_HASH, E_TOO_LARGE, E_INVALID_REQUEST, E_PERSON_OPEN_CASE,
                         E_CORRECTION_NOT_APPROVED})

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
UPLOAD_CHUNK_BYTES = 1024 * 1024

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# ``[0-9]``, not ``\d`` (which matches any Unicode digit), and ``fullmatch`` (``$`` lets a trailing
# newline through): the same text as the OpenAPI patterns generated from ``models``.
CASE_NO_PATTERN = r"^[0-9]{6}-[0-9]{2}-[0-9]{8}-[0-9]{4}-[0-9X]$"
BUSINESS_KEY_PATTERN = r"^([0-9]{6}-[0-9]{2}-[0-9]{8}-[0-9]{4}-[0-9X])/v([1-9][0-9]{0,2})$"
BUSINESS_KEY_RE = re.compile(BUSINESS_KEY_PATTERN.rstrip("$").lstrip("^") + r"\Z")

DATA_SHARING_CHECKS: tuple[str, ...] = ("henan_hukou_before_enlistment", "hukou_cancelled", "property_record",
                                        "social_security_bank_account", "veteran_file")
# What ``veteran_file`` (the 档案 the county center received and checked before notifying the
# veteran, scheme flow step 1) supplies to the form: the answer's key → the form field it fills.
VETERAN_FILE_FIELDS: dict[str, str] = {
    "political_status": "applicant.political_status", "education": "applicant.education",
    "discharge_date": "applicant.discharge_date", "placement_place": "applicant.placement_place",
    "pre_enlistment_address": "hukou.pre_enlistment_address", "enlisted_on": "medical.transfer_from"}
RATING_STAGES: tuple[str, ...] = ("acceptance", "completion")
# Messages the platform sends the applicant and reports back (progress answer ``notifications``).
NOTIFICATION_CHANNELS: tuple[str, ...] = ("sms",)
NOTIFICATION_KINDS: tuple[str, ...] = ("result", "hukou_result", "card_result", "rating_invite")
# Where a rating came from: the window's applicant screen, or the platform's own channel.
RATING_CHANNELS: tuple[str, ...] = ("window", "sms", "online")
# Attachment roles (``Case.attachments[].role``); settlement_letter = the stamped 落户介绍信 scanned
# back, without which the platform does not push items 4 and 5 to the police.
ATTACHMENT_ROLES: tuple[str, ...] = ("material", "photo", "signature", "form_pdf", "signed_form", "settlement_letter")


def canonical_json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def business_key(case_no: str, version: int) -> str:
    return f"{case_no}/v{version}"


def sealed_part(case: dict) -> dict:
    """The sealed keys; a correction's approval (``correction``, vN>1 only) is sealed too. It is
    left out when absent so that first versions keep the digest they always had."""
    part = {k: case.get(k) for k in SEALED_KEYS}
    if case.get("correction") is not None:
        part["correction"] = case["correction"]
    return part


def content_digest(case: dict) -> str:
    return hashlib.sha256(canonical_json(sealed_part(case))).hexdigest()


def submission_case(exported: dict) -> dict:
    """The case JSON as sent: the window's export without its local-only parts."""
    return {k: v for k, v in exported.items() if k not in LOCAL_ONLY_KEYS}


def attachment_hashes(case: dict) -> list[str]:
    return sorted({a["sha256"] for a in case.get("attachments") or [] if isinstance(a, dict) and "sha256" in a})


def business_keys_digest(keys: Any) -> str:
    """The SHA-256 of a set of business keys (sorted, one per line): the platform's
    ``GET /acknowledged`` says it over what it holds from a window, the window over what it holds as
    acknowledged, so equal sets cost one request to confirm."""
    return hashlib.sha256("\n".join(sorted(set(keys))).encode("ascii")).hexdigest()


def error_body(code: str, message: str, **detail: Any) -> dict:
    body: dict[str, Any] = {"code": code, "message": message}
    if detail:
        body["detail"] = detail
    return body
