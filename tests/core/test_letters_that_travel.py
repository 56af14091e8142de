"""The letters that travel, point by point (规程 五(四)1): "需要办理户口登记（退役军人恢复户口）的，县级退役军人事务部门
开具《落户介绍信》，并及时扫描上传至省一体化政务服务平台，推送至公安部门"."""
from __future__ import annotations

from pathlib import Path

import pytest

from counter_app.cases import CaseError
from counter_app.rules import validate
from counter_app.sync.contract import ATTACHMENT_ROLES
from tests.core.builders import TODAY, complete, valid_application
from tests.core.helpers import CLERK, finalized_case

# (the source's words, the application, the blocking problem expected at finalize or None)
ROWS = [
    ("开具《落户介绍信》，并扫描上传: item 4 without the stamped scan",
     {"settlement_letter_scan": None}, ("settlement_letter_scan", "required")),
    ("…推送至公安部门: item 4 with the scan", {}, None),
    ("no 户口登记, no letter needed", {"items": [1, 2, 3, 6, 7, 8, 9, 10, 11], "settlement_letter_scan": None}, None),
]


@pytest.mark.parametrize("words,changes,expected", ROWS, ids=[r[0] for r in ROWS])
def test_police_items_need_the_stamped_letter(words, changes, expected):
    app = complete(valid_application())
    for k, v in changes.items():
        setattr(app, k, v)
    found = {(p.field, p.code) for p in validate(app, today=TODAY, for_finalize=True)
             if p.blocking and p.field == "settlement_letter_scan"}
    assert found == ({expected} if expected else set())


def test_finalize_refuses_item_4_without_the_scan_and_carries_it_as_its_own_role(window):
    from app.demo.seed import complete_application
    import random

    rec = window.cases.create_draft(valid_application(), CLERK)
    app = complete_application(window, rec.application, random.Random(3))
    scan = app.settlement_letter_scan
    app.settlement_letter_scan = None
    with pytest.raises(CaseError, match="落户介绍信"):
        window.cases.finalize(rec.id, app, CLERK)
    app.settlement_letter_scan = scan
    window.cases.finalize(rec.id, app, CLERK)
    roles = {(a["role"], a["sha256"]) for a in window.cases.export(rec.id)["attachments"]}
    assert ("settlement_letter", scan) in roles


def test_the_contract_names_the_role_in_code_and_in_the_document():
    import typing

    from counter_app.sync.models import CaseAttachment

    assert "settlement_letter" in ATTACHMENT_ROLES
    assert typing.get_args(CaseAttachment.model_fields["role"].annotation) == ATTACHMENT_ROLES
    doc = (Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml").read_text("utf-8")
    assert "- settlement_letter" in doc


def test_archive_names_the_letter_scan(window):
    from counter_app.security.archive import ROLE_TITLES

    rec = finalized_case(window)
    assert any(a["role"] == "settlement_letter" for a in window.cases.export(rec.id)["attachments"])
    assert ROLE_TITLES["settlement_letter"] == "落户介绍信（盖章扫描件）"
