"""方案 四: "根据退役军人实际需求，结合我省实际，适时扩大…联办范围": a refusal of the 服务对象 tests is not a dead
end; a supervisor serves the applicant with a recorded reason, checked again when the case is finalized."""
from __future__ import annotations

import pytest

from counter_app.application import EligibilityOverride
from counter_app.cases import AccessDenied, CaseError
from counter_app.eligibility_override import grant_override
from tests.security.casework import finalizable, form_pdf


def _earlier_year_draft(window, staff):
    app = finalizable(window, 7)
    app.applicant.discharge_date = "2024-12-20"
    rec = window.cases.create_draft(app, staff["clerk1"])
    return rec, app


def test_an_earlier_year_discharge_cannot_be_finalized_without_an_override(staffed_window, staff):
    rec, app = _earlier_year_draft(staffed_window, staff)
    with pytest.raises(CaseError, match="不属于“一件事”服务对象"):
        staffed_window.cases.finalize(rec.id, app, staff["clerk1"], form_pdf=form_pdf(app))


def test_a_supervisor_override_with_a_reason_lets_the_case_through_and_is_recorded(staffed_window, staff):
    rec, _ = _earlier_year_draft(staffed_window, staff)
    with pytest.raises(AccessDenied):
        grant_override(staffed_window.cases, rec.id, staff["clerk1"], "申请人档案本年才转到")
    with pytest.raises(CaseError, match="特批理由"):
        grant_override(staffed_window.cases, rec.id, staff["sup1"], " ")
    rec = grant_override(staffed_window.cases, rec.id, staff["sup1"], "申请人档案本年才转到")
    ov = rec.application.eligibility_override
    assert (ov.supervisor, ov.reason) == ("sup1", "申请人档案本年才转到")
    app = rec.application
    done = staffed_window.cases.finalize(rec.id, app, staff["clerk1"], form_pdf=form_pdf(app))
    assert done.state == "queued"
    exported = staffed_window.cases.export(done.id)
    assert exported["application"]["eligibility_override"]["reason"] == "申请人档案本年才转到"


def test_an_override_typed_into_the_data_without_the_supervisor_does_not_count(staffed_window, staff):
    rec, app = _earlier_year_draft(staffed_window, staff)
    app.eligibility_override = EligibilityOverride("sup1", "自己写的理由", "2026-11-30T10:00:00+08:00")
    with pytest.raises(CaseError, match="没有对应的审核负责人记录"):
        staffed_window.cases.finalize(rec.id, app, staff["clerk1"], form_pdf=form_pdf(app))


def test_nothing_to_override_for_an_applicant_inside_the_service_object(staffed_window, staff):
    app = finalizable(staffed_window, 8)
    rec = staffed_window.cases.create_draft(app, staff["clerk1"])
    with pytest.raises(CaseError, match="无需特批"):
        grant_override(staffed_window.cases, rec.id, staff["sup1"], "无理由的特批")
