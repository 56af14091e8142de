"""The case JSON (schema ``counter-app/case/v1``): one builder behind the sealed record that
``finalize`` returns and every ``export`` (printing, the platform, the archival package, reveal).

The seal covers :func:`sealable_content`: what cannot change after the applicant signed. Thread
contract: pure functions; the two lookups take the caller's session or connection.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
from typing import Any

from sqlalchemy import select

from counter_app.clock import CHINA_TZ
from counter_app.store.models import CaseRow, Operator

SCHEMA = "counter-app/case/v1"
SEALED_KEYS = ("schema", "case_no", "version", "supersedes", "center_code", "window_no", "operator", "finalized_at",
               "application", "attachments")


def canonical_json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def build_case_json(*, case_no: str, version: int, supersedes: str | None, state: str, center_code: str,
                    center_name: str, window_no: str, operator: str, operator_name: str,
                    created_at: _dt.datetime | None, finalized_at: _dt.datetime | None, application: dict,
                    correction: dict | None, items_progress: list[dict], deadlines: list[dict],
                    attachments: list[dict], platform: dict, content_digest: str | None,
                    seal: dict | None) -> dict:
    """The case JSON from its parts (times as stored; they are written in Beijing time)."""
    return {
        "schema": SCHEMA,
        "case_no": case_no,
        "version": version,
        "supersedes": supersedes,
        "state": state,
        "center_code": center_code,
        "center_name": center_name,
        "window_no": window_no,
        "operator": operator,
        "operator_name": operator_name,
        "created_at": iso(created_at),
        "accepted_at": iso(finalized_at),
        "finalized_at": iso(finalized_at),
        "application": application,
        **({"correction": correction} if correction else {}),
        "items_progress": items_progress,
        "deadlines": deadlines,
        "attachments": sorted(attachments, key=lambda a: (a["role"], a["sha256"])),
        "platform": platform,
        "content_digest": content_digest,
        "seal": seal,
    }


def sealable_content(case_json: dict) -> dict:
    """The parts of the case JSON the seal covers: everything that cannot change after signing
    (to compute its digest here, or to recompute it elsewhere)."""
    part = {k: case_json[k] for k in SEALED_KEYS}
    if case_json.get("correction") is not None:  # a correction's approval is sealed too (vN>1 only)
        part["correction"] = case_json["correction"]
    return part


def sealed_digest(case_json: dict) -> str:
    return hashlib.sha256(canonical_json(sealable_content(case_json))).hexdigest()


def supersedes_no(db: Any, supersedes_id: str | None) -> str | None:
    """``"<case_no>/v<version>"`` of the version a correction replaces (``db``: session or connection)."""
    if not supersedes_id:
        return None
    t = CaseRow.__table__
    old = db.execute(select(t.c.case_no, t.c.version).where(t.c.id == supersedes_id)).one_or_none()
    return f"{old.case_no}/v{old.version}" if old else None


def operator_name(db: Any, username: str | None) -> str:
    """The name printed as 受理人: the operator's display name, else the account name."""
    if not username:
        return ""
    t = Operator.__table__
    name = db.execute(select(t.c.display_name).where(t.c.username == username)).scalar_one_or_none()
    return name or username


def as_utc(value: _dt.datetime) -> _dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc)


def iso(value: _dt.datetime | None) -> str | None:
    if value is None:
        return None
    return as_utc(value).astimezone(CHINA_TZ).isoformat(timespec="seconds")
