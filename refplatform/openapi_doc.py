"""``docs/openapi.yaml``, generated: the routes of ``refplatform.app`` with the contract's models,
the statuses each route declares, and the contract's prose (``contract_text.py``).

``python tools/write_openapi.py`` writes the document; ``tests/sync/test_contract.py`` fails when
the committed copy differs from what the code generates, so the two cannot drift apart.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.openapi.utils import get_openapi

from counter_app.sync import models as M
from refplatform.contract_text import INTRO


_ERROR_TEXT = {
    400: "`invalid_request`: the request is malformed (a parameter, a header or the body does not fit the contract).",
    401: "`unauthorized`: missing or unknown credential.",
    403: "`forbidden`: the credential is bound to another center or window, or its role may not do this.",
    404: "`not_found` (another center's data is not found, never forbidden).",
    409: "A conflict with what the platform holds: `attachments_missing` (`detail.missing`), "
         "`business_key_conflict`, `upload_offset_mismatch` (`detail.received`), `claimed_elsewhere` "
         "(`detail.window_no`: \"正在X号窗口受理\"), `person_has_open_case` (`detail.case_no`).",
    413: "`too_large`: the body is over the limit (2 MB for JSON, 20 MB for an attachment); refused while it "
         "arrives, before it is read.",
    422: "The request fits the schema but not the rules a schema cannot say: `invalid_case` (business key, "
         "check digit), `digest_mismatch`, `idempotency_key_reused`, `attachment_hash_mismatch`, "
         "`correction_not_approved`, or an invalid ID number.",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` of a route for the error statuses it can answer."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {"model": M.ErrorBody, "description": _ERROR_TEXT[status]}
        if status == 401:
            entry["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
        out[status] = entry
    return out


def contract_openapi(app) -> dict:
    """The OpenAPI 3.1 document of ``app`` (cached on it, as FastAPI does)."""
    if app.openapi_schema:
        return app.openapi_schema
    doc = get_openapi(title=app.title, version=app.version, summary="The contract between a county service "
                      "center's window and the provincial platform.", description=INTRO,
                      routes=app.routes, separate_input_output_schemas=False,
                      tags=[{"name": "window", "description": "Operations the window uses (one client method each)."},
                            {"name": "platform", "description": "Platform-side views (listings, downloads)."}],
                      servers=[{"url": "https://platform.example.gov.cn",
                                "description": "省一体化政务服务平台 (government extranet)"},
                               {"url": "http://127.0.0.1:8800",
                                "description": "the reference platform (`counter-app platform serve`)"}])
    # FastAPI documents its own 422 validation body on every route; this platform answers a request
    # that does not fit the schema with the contract's Error (400, or 422 for a case body).
    for ops in doc.get("paths", {}).values():
        for op in ops.values():
            resp = op.get("responses", {})
            default = resp.get("422", {}).get("content", {}).get("application/json", {}).get("schema", {})
            if default.get("$ref", "").endswith("/HTTPValidationError"):
                del resp["422"]
                resp.setdefault("400", {"description": _ERROR_TEXT[400], "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}})
    schemas = doc.get("components", {}).get("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    app.openapi_schema = doc
    return doc


def contract_document() -> dict:
    """The OpenAPI document of the reference platform, built on a throw-away store."""
    import tempfile

    from refplatform.app import create_app
    from refplatform.server import open_store

    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp))
        try:
            return create_app(store).openapi()
        finally:
            store.close()
