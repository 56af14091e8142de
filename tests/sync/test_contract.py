"""The written contract (docs/openapi.yaml) is generated from the code and the code agrees with it:
the committed document is what the models and routes generate, every window operation has a client
method, the error codes are the contract's, and the client validates answers with the same models."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from counter_app.sync import contract as C
from counter_app.sync import models as M
from counter_app.sync import responses as R
from counter_app.sync.client import PlatformClient
from counter_app.sync.errors import MalformedAnswer
from refplatform.openapi_doc import contract_document

DOC = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
METHODS = ("get", "post", "put", "head", "delete", "patch")


@pytest.fixture(scope="module")
def generated() -> dict:
    return json.loads(json.dumps(contract_document()))


@pytest.fixture(scope="module")
def committed() -> dict:
    return yaml.safe_load(DOC.read_text(encoding="utf-8"))


def _operations(doc: dict) -> list[dict]:
    return [{"path": path, "method": m.upper(), "id": op.get("operationId"), "tags": op.get("tags", []), "op": op}
            for path, ops in doc["paths"].items() for m, op in ops.items() if m in METHODS]


def test_committed_document_is_the_generated_one(generated, committed):
    # Fails when a model or a route changed without `python tools/write_openapi.py`.
    assert committed == generated


def test_document_lists_every_operation_once_with_an_id(committed):
    ops = _operations(committed)
    assert len(ops) >= 17
    assert all(o["id"] and o["tags"] for o in ops)
    assert len({o["id"] for o in ops}) == len(ops)
    assert all(o["path"].startswith("/api/v1/") for o in ops)


@pytest.mark.parametrize("status", ["400", "401"])
def test_every_authenticated_operation_documents_its_refusals(committed, status):
    for o in _operations(committed):
        if o["id"] == "health" or (status == "400" and not (o["op"].get("parameters") or "requestBody" in o["op"])):
            continue  # open, or nothing a caller could send malformed
        assert status in o["op"]["responses"], f"{o['method']} {o['path']} does not document {status}"


def test_every_operation_with_a_body_documents_413(committed):
    for o in _operations(committed):
        if "requestBody" in o["op"]:
            assert "413" in o["op"]["responses"], f"{o['method']} {o['path']}"


def test_documented_error_codes_are_the_contracts(committed):
    documented = set(committed["components"]["schemas"]["ErrorBody"]["properties"]["code"]["enum"])
    codes = {v for k, v in vars(C).items() if k.startswith("E_")}
    assert documented == codes


def test_reference_server_serves_exactly_the_documented_operations(committed, tmp_path):
    from fastapi.routing import APIRoute

    from refplatform.app import create_app
    from refplatform.server import open_store

    store = open_store(tmp_path / "p")
    try:
        app = create_app(store)
        served = {(m, r.path_format) for r in app.routes if isinstance(r, APIRoute) for m in r.methods}
    finally:
        store.close()
    assert served == {(o["method"], o["path"]) for o in _operations(committed)}


def _window_ops():
    return [o for o in _operations(yaml.safe_load(DOC.read_text(encoding="utf-8"))) if "window" in o["tags"]]


@pytest.mark.parametrize("op", _window_ops(), ids=lambda o: o["id"])
def test_window_operations_have_a_client_method(op):
    assert callable(getattr(PlatformClient, op["id"], None)), f"PlatformClient.{op['id']} missing"


# ---- the client's validation is the contract's models ----------------------------------------
RECEIPT = {"platform_case_id": "HN410702202603020000001", "business_key": "410702-01-20260302-0007-3/v1",
           "content_digest": "a" * 64, "received_at": "2026-03-02T10:00:00+08:00", "items": [1, 4]}


def test_a_receipt_missing_what_the_model_requires_is_refused():
    good = {"receipt": RECEIPT, "replayed": False, "received_count": 1}
    assert R.parse_submission_answer(good, RECEIPT["business_key"]) is good
    M.SubmissionAnswer.model_validate(good)
    for key in ("content_digest", "received_at", "items"):
        bad = {**good, "receipt": {k: v for k, v in RECEIPT.items() if k != key}}
        with pytest.raises(MalformedAnswer) as exc:
            R.parse_submission_answer(bad, RECEIPT["business_key"])
        assert key in exc.value.message


def test_strict_types_as_in_the_schema():
    # "1" is not the integer 1, 1 is not true: the client refuses what the schema refuses.
    with pytest.raises(MalformedAnswer):
        R.parse_rating_answer({"rating_id": 1, "replayed": 1})
    with pytest.raises(MalformedAnswer):
        R.parse_submission_answer({"receipt": RECEIPT, "replayed": False, "received_count": "1"},
                                  RECEIPT["business_key"])


def test_whoami_carries_the_binding():
    ok = {"window": "410702-01", "center_code": "410702", "window_no": "01", "role": "window"}
    assert R.parse_whoami(ok) == ok
    with pytest.raises(MalformedAnswer):
        R.parse_whoami({"window": "410702-01"})  # no binding: not this contract
    with pytest.raises(MalformedAnswer):
        R.parse_whoami({**ok, "role": "admin"})


def test_business_key_pattern_is_exact():
    assert C.BUSINESS_KEY_RE.match("410702-01-20260302-0007-3/v1")
    for bad in ("410702-01-20260302-0007-3/v1\n", "٤10702-01-20260302-0007-3/v1", "410702-01-20260302-0007-3/v0"):
        assert not C.BUSINESS_KEY_RE.match(bad)
        with pytest.raises(ValueError):
            M.ProgressQuery.model_validate({"business_keys": [bad]})
