"""The written contract (docs/openapi.yaml) and the code agree: the same paths and methods on the
reference server, and a client method for every operation the window uses."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from counter_app.sync.client import PlatformClient

DOC = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
METHODS = ("get", "post", "put", "head", "delete", "patch")


def _operations() -> list[dict]:
    """(path, method, operationId, tags) from the document's ``paths`` block. Block-style YAML with
    two-space indentation is all the document uses, so reading it line by line is exact enough."""
    text = DOC.read_text(encoding="utf-8")
    assert text.startswith("openapi: 3.1.0\n")
    block = text.split("\npaths:\n", 1)[1].split("\ncomponents:\n", 1)[0]
    ops: list[dict] = []
    path = None
    for line in block.splitlines():
        m = re.match(r"^  (/\S+):$", line)
        if m:
            path = m.group(1)
            continue
        m = re.match(r"^    (\w+):$", line)
        if m and m.group(1) in METHODS:
            ops.append({"path": path, "method": m.group(1).upper(), "id": None, "tags": []})
            continue
        m = re.match(r"^      operationId: (\w+)$", line)
        if m:
            ops[-1]["id"] = m.group(1)
        m = re.match(r"^      tags: \[(.*)\]$", line)
        if m:
            ops[-1]["tags"] = [t.strip() for t in m.group(1).split(",")]
    return ops


def test_document_lists_every_operation_once_with_an_id():
    ops = _operations()
    assert len(ops) >= 12
    assert all(o["id"] and o["tags"] for o in ops)
    assert len({o["id"] for o in ops}) == len(ops)
    assert all(o["path"].startswith("/api/v1/") for o in ops)


def test_reference_server_serves_exactly_the_documented_operations(tmp_path):
    from fastapi.routing import APIRoute

    from refplatform.app import create_app
    from refplatform.server import open_store

    store = open_store(tmp_path / "p")
    try:
        app = create_app(store)
        served = {(m, r.path) for r in app.routes if isinstance(r, APIRoute) for m in r.methods}
    finally:
        store.close()
    documented = {(o["method"], o["path"]) for o in _operations()}
    assert served == documented


@pytest.mark.parametrize("op", [o for o in _operations() if "window" in o["tags"]], ids=lambda o: o["id"])
def test_window_operations_have_a_client_method(op):
    assert callable(getattr(PlatformClient, op["id"], None)), f"PlatformClient.{op['id']} missing"


def test_documented_error_codes_are_the_contracts():
    from counter_app.sync import contract as C

    text = DOC.read_text(encoding="utf-8")
    enum = re.search(r"code:\n\s+type: string\n\s+enum: \[([^\]]+)\]", text, re.S).group(1)
    documented = {c.strip() for c in enum.replace("\n", " ").split(",")}
    codes = {v for k, v in vars(C).items() if k.startswith("E_")}
    assert documented == codes
