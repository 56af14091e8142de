"""One case-JSON builder: the sealed record finalize hands back is the case JSON every export gives,
and its digest is the one stored with the seal."""
from __future__ import annotations

from counter_app.case_json import sealed_digest
from tests.core.helpers import finalized_case


def test_finalize_returns_the_sealed_case_json_export_gives(window):
    rec = finalized_case(window)
    assert rec.case_json is not None
    assert rec.case_json == window.cases.export(rec.id)  # the UI need not read it back
    assert rec.case_json["state"] == "queued" and rec.case_json["deadlines"]
    assert rec.case_json["supersedes"] is None and "correction" not in rec.case_json
    assert sealed_digest(rec.case_json) == rec.content_digest == window.cases.get(rec.id).content_digest
