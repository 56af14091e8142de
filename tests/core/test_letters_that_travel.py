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

# (the source's words, the application, the problem expected at finalize or None)
ROWS = [
    ("开具《落户介绍信》，并扫描上传: item 4 without the stamped scan may be sent after the case",
     {"settlement_letter_scan": None}, ("settlement_letter_scan", "send_later")),
    ("…推送至公安部门: item 4 with the scan", {}, None),
    ("no 户口登记, no letter needed", {"items": [1, 2, 3, 6, 7, 8, 9, 10, 11], "settlement_letter_scan": None}, None),
]


@pytest.mark.parametrize("words,changes,expected", ROWS, ids=[r[0] for r in ROWS])
def test_police_items_wait_for_the_stamped_letter(words, changes, expected):
    problems = [p for p in validate(app_with(changes), today=TODAY, for_finalize=True)
                if p.field == "settlement_letter_scan"]
    assert {(p.field, p.code) for p in problems} == ({expected} if expected else set())
    assert not any(p.blocking for p in problems)            # stamped after printing: it may follow the case
    assert all("办件详情中回传" in p.message for p in problems)


def app_with(changes):
    app = complete(valid_application())
    for k, v in changes.items():
        setattr(app, k, v)
    return app


def test_finalize_carries_a_letter_scanned_before_it_as_its_own_role(window):
    from app.demo.seed import complete_application
    import random

    rec = window.cases.create_draft(valid_application(), CLERK)
    app = complete_application(window, rec.application, random.Random(3))
    scan = app.settlement_letter_scan
    window.cases.finalize(rec.id, app, CLERK)
    roles = {(a["role"], a["sha256"]) for a in window.cases.export(rec.id)["attachments"]}
    assert ("settlement_letter", scan) in roles


def test_a_case_finalized_without_the_letter_takes_it_back_afterwards_outside_the_seal(window):
    from app.demo.seed import complete_application
    import random

    from counter_app.sync.followups import FollowUpError, letter_state, queue_settlement_letter

    rec = window.cases.create_draft(valid_application(), CLERK)
    app = complete_application(window, rec.application, random.Random(4))
    app.settlement_letter_scan = None
    with pytest.raises(FollowUpError, match="尚未提交"):
        queue_settlement_letter(window, rec.id, b"%PDF-1.7 stamped", "application/pdf", CLERK)
    window.cases.finalize(rec.id, app, CLERK)
    sealed = window.cases.export(rec.id)
    assert letter_state(window, rec.id).text.startswith("未回传")
    with pytest.raises(FollowUpError, match="PDF、JPEG或PNG"):
        queue_settlement_letter(window, rec.id, b"GIF89a", "image/gif", CLERK)
    sha = queue_settlement_letter(window, rec.id, b"%PDF-1.7 stamped letter", "application/pdf", CLERK)
    assert window.files.get(sha) == b"%PDF-1.7 stamped letter"
    state = letter_state(window, rec.id)
    assert (state.sha256, state.sent_at, state.text) == (sha, None, "已回传，等待上报省平台")
    # the sealed case (its digest, its attachments) is what the applicant signed: unchanged
    assert window.cases.export(rec.id)["attachments"] == sealed["attachments"]
    with pytest.raises(FollowUpError, match="已回传过"):
        queue_settlement_letter(window, rec.id, b"%PDF-1.7 again", "application/pdf", CLERK)


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


def test_a_correction_carries_the_letter_scanned_back_into_its_sealed_attachments(window):
    from app.demo.seed import complete_application
    import random

    from counter_app.sync.followups import letter_state, queue_settlement_letter, start_correction_with_letter

    rec = window.cases.create_draft(valid_application(), CLERK)
    app = complete_application(window, rec.application, random.Random(6))
    app.settlement_letter_scan = None
    window.cases.finalize(rec.id, app, CLERK)
    sha = queue_settlement_letter(window, rec.id, b"%PDF-1.7 stamped v1", "application/pdf", CLERK)
    v2 = start_correction_with_letter(window, rec.id, CLERK, "联系电话登记有误")
    assert v2.version == 2 and v2.application.settlement_letter_scan == sha
    assert window.cases.get(v2.id).application.settlement_letter_scan == sha   # saved with the draft
    assert letter_state(window, v2.id).needed
