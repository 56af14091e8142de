"""The scheme's rules, one table row per rule (规程 五(二) for materials, 附件1 for the form)."""
from __future__ import annotations

import pytest

from counter_app.application import parse_application
from counter_app.rules import item_applicability, missing_materials, required_material_numbers, validate
from counter_app.scheme import (
    FamilyMode, HouseholdType, IdDocument, Intention, MedicalChoice, PensionChoice, RetirementType,
)
from tests.core.builders import TODAY, complete, valid_application


def codes(app, **kw):
    return {(p.field, p.code) for p in validate(app, today=TODAY, **kw) if p.blocking}


def test_the_reference_application_is_valid_and_complete():
    assert codes(complete(valid_application()), for_finalize=True) == set()


# ---- materials: (name, changes to the valid application, material, required?) -------------
MATERIAL_ROWS = [
    ("1 form always", {}, 1, True),
    ("2 ID document always", {}, 2, True),
    ("2 military registration form also material 2", {"applicant__id_document": IdDocument.MILITARY_REGISTRATION}, 2, True),
    ("3 discharge certificate always", {"items": [1]}, 3, True),
    ("4 discharge letter always", {"items": [11]}, 4, True),
    ("5 medical account transfer voucher always", {"items": [1]}, 5, True),
    ("6 not needed when Henan hukou and cancellation verified", {}, 6, False),
    ("6 needed when pre-enlistment hukou not in Henan", {"data_sharing__henan_hukou_before_enlistment": False}, 6, True),
    ("6 needed when data sharing cannot verify cancellation", {"data_sharing__hukou_cancelled": False}, 6, True),
    ("6 needed while cancellation not yet verified", {"data_sharing__hukou_cancelled": None}, 6, True),
    ("7 household register for family household", {}, 7, True),
    ("7 not for unit collective household", {"hukou__household_type": HouseholdType.COLLECTIVE, "hukou__family_mode": None}, 7, False),
    ("8 head's ID card for family household", {}, 8, True),
    ("8 not for unit collective household", {"hukou__household_type": HouseholdType.COLLECTIVE, "hukou__family_mode": None}, 8, False),
    ("9 kinship proof when restoring elsewhere into a relative's household", {"hukou__restore_elsewhere": True}, 9, True),
    ("9 not when restoring where it was cancelled", {"hukou__restore_elsewhere": False}, 9, False),
    ("9 not for a new household even elsewhere", {"hukou__restore_elsewhere": True, "hukou__family_mode": FamilyMode.NEW_HOUSEHOLD}, 9, False),
    ("10 property proof for a new household", {"hukou__family_mode": FamilyMode.NEW_HOUSEHOLD}, 10, True),
    ("10 not when joining a relative", {}, 10, False),
    ("11 unit consent for unit collective household", {"hukou__household_type": HouseholdType.COLLECTIVE, "hukou__family_mode": None}, 11, True),
    ("11 not for family household", {}, 11, False),
    ("7-11 not without hukou registration (item 4)", {"items": [1, 2, 3, 11]}, 7, False),
    ("12 photo when applying for the social security card", {}, 12, True),
    ("12 no photo without item 8", {"items": [1, 4, 6, 9]}, 12, False),
]


@pytest.mark.parametrize("name,changes,material,required", MATERIAL_ROWS, ids=[r[0] for r in MATERIAL_ROWS])
def test_required_materials(name, changes, material, required):
    app = valid_application(**changes)
    assert (material in required_material_numbers(app)) is required


def test_every_required_material_carries_a_reason():
    from counter_app.rules import required_materials

    app = valid_application(hukou__restore_elsewhere=True)
    reasons = {m.number: m.reason for m in required_materials(app)}
    assert reasons[9] == "非原户口注销地恢复户口并落直系亲属家庭户（与户主关系：父亲）"
    assert reasons[12].startswith("申领社会保障卡")
    assert all(reasons.values())


def test_military_registration_path_names_the_document_in_the_reason():
    from counter_app.rules import required_materials

    app = valid_application(applicant__id_document=IdDocument.MILITARY_REGISTRATION)
    reason = next(m.reason for m in required_materials(app) if m.number == 2)
    assert "军人公民身份号码登记表" in reason
    assert codes(complete(app), for_finalize=True) == set()


# ---- items --------------------------------------------------------------------------------
@pytest.mark.parametrize("rtype", [RetirementType.DEMOBILIZED_OFFICER, RetirementType.MONTHLY_PENSION])
@pytest.mark.parametrize("item", [2, 3])
def test_items_2_and_3_only_for_self_employed_soldiers(rtype, item):
    app = valid_application(retirement_type=rtype, items=[1, item])
    assert ("items", "item_not_applicable") in codes(app)
    applic = {i.number: i for i in item_applicability(app)}
    assert not applic[item].applicable and "自主就业退役士兵" in applic[item].reason
    assert applic[1].applicable


def test_items_2_and_3_applicable_for_self_employed():
    app = valid_application()
    assert all(i.applicable for i in item_applicability(app))


ITEM_FIELD_ROWS = [
    ("item 8 needs the issuing bank", {"pension__card_bank": ""}, ("pension.card_bank", "required")),
    ("item 8 needs the mailing address", {"pension__card_mailing_address": ""}, ("pension.card_mailing_address", "required")),
    ("item 4 needs the settlement letter ticked", {"veteran_affairs__settlement_letter": False}, ("veteran_affairs.settlement_letter", "required")),
    ("item 4 needs the target address", {"hukou__target_address": ""}, ("hukou.target_address", "required")),
    ("item 4 needs the police station", {"hukou__police_station": ""}, ("hukou.police_station", "required")),
    ("item 4 needs a household type", {"hukou__household_type": None}, ("hukou.household_type", "required")),
    ("family household needs join or new", {"hukou__family_mode": None}, ("hukou.family_mode", "required")),
    ("joining a relative needs the head's name", {"hukou__head_name": ""}, ("hukou.head_name", "required")),
    ("joining a relative needs a valid head ID", {"hukou__head_id_number": "410702196501010021"}, ("hukou.head_id_number", "id_checksum")),
    ("new household needs property info", {"hukou__family_mode": FamilyMode.NEW_HOUSEHOLD, "hukou__property_info": ""}, ("hukou.property_info", "required")),
    ("collective household excludes join/new", {"hukou__household_type": HouseholdType.COLLECTIVE}, ("hukou.family_mode", "exclusive")),
    ("item 3 needs an intention", {"veteran_affairs__intention": None}, ("veteran_affairs.intention", "required")),
    ("item 6 needs a pension choice", {"pension__choice": None}, ("pension.choice", "required")),
    ("item 9 needs a medical choice", {"medical__choice": None}, ("medical.choice", "required")),
    ("城镇职工 needs the city", {"medical__choice": MedicalChoice.EMPLOYEE_FLEXIBLE}, ("medical.flexible_city", "required")),
    ("城乡居民 needs the village", {"medical__insured_village": ""}, ("medical.insured_village", "required")),
    ("item 10 needs the contribution period", {"medical__transfer_from": ""}, ("medical.transfer_from", "required")),
    ("item 10 period must be year-month", {"medical__transfer_from": "2016/9"}, ("medical.transfer_from", "month_format")),
    ("item 10 period must not run backwards", {"medical__transfer_from": "2026-10", "medical__transfer_to": "2020-01"}, ("medical.transfer_to", "range")),
    ("at least one item", {"items": []}, ("items", "required")),
    ("retirement type required", {"retirement_type": None}, ("retirement_type", "required")),
]


@pytest.mark.parametrize("name,changes,expected", ITEM_FIELD_ROWS, ids=[r[0] for r in ITEM_FIELD_ROWS])
def test_item_field_rules(name, changes, expected):
    assert expected in codes(valid_application(**changes))


def test_new_household_property_verified_by_data_sharing_needs_no_text():
    app = valid_application(hukou__family_mode=FamilyMode.NEW_HOUSEHOLD, hukou__property_info="",
                            data_sharing__property_verified=True)
    assert ("hukou.property_info", "required") not in codes(app)


def test_fields_of_unchosen_items_are_not_required():
    app = valid_application(items=[1, 11], hukou__target_address="", pension__card_bank="", medical__choice=None,
                            veteran_affairs__intention=None, veteran_affairs__settlement_letter=False)
    assert codes(app) == set()


@pytest.mark.parametrize("field,values", [
    ("household_type", ["family", "collective"]),
    ("family_mode", ["join_relative", "new_household"]),
])
def test_mutually_exclusive_hukou_choices_are_refused(field, values):
    from counter_app.application import application_to_dict

    data = application_to_dict(valid_application())
    data["hukou"][field] = values
    assert (f"hukou.{field}", "exclusive") in {(p.field, p.code) for p in validate(data, today=TODAY)}


@pytest.mark.parametrize("section,field,values", [
    ("pension", "choice", ["flexible", "urban_rural"]),
    ("medical", "choice", ["employee_flexible", "urban_rural"]),
    ("veteran_affairs", "intention", ["employment", "entrepreneurship"]),
])
def test_mutually_exclusive_insurance_and_intention_choices_are_refused(section, field, values):
    from counter_app.application import application_to_dict

    data = application_to_dict(valid_application())
    data[section][field] = values
    assert (f"{section}.{field}", "exclusive") in {(p.field, p.code) for p in validate(data, today=TODAY)}


def test_two_retirement_types_are_refused():
    from counter_app.application import application_to_dict

    data = application_to_dict(valid_application())
    data["retirement_type"] = ["self_employed", "demobilized_officer"]
    assert ("retirement_type", "exclusive") in {(p.field, p.code) for p in validate(data, today=TODAY)}


# ---- dependencies between items are warnings, not blocks --------------------------------------
@pytest.mark.parametrize("item", [5, 6, 8, 9, 10])
def test_items_after_hukou_warn_when_hukou_not_chosen(item):
    app = valid_application(items=[1, item])
    problems = validate(app, today=TODAY)
    warn = [p for p in problems if p.code == "needs_hukou"]
    assert warn and warn[0].severity == "warning"


def test_pension_transfer_without_registration_warns():
    problems = validate(valid_application(items=[1, 7]), today=TODAY)
    assert any(p.code == "pension_target" and p.severity == "warning" for p in problems)


# ---- finalize-time completeness ------------------------------------------------------------
@pytest.mark.parametrize("material", [2, 3, 4, 5, 7, 8])
def test_finalize_blocked_by_each_missing_original(material):
    app = complete(valid_application())
    app.materials[material].original_seen = False
    assert (f"materials.{material}", "material_missing") in codes(app, for_finalize=True)
    assert [m.number for m in missing_materials(app)] == [material]


def test_finalize_blocked_without_photo_when_card_chosen():
    app = complete(valid_application())
    app.photo = None
    assert ("photo", "required") in codes(app, for_finalize=True)


def test_finalize_blocked_without_signature():
    app = complete(valid_application())
    app.signature = None
    assert ("signature", "required") in codes(app, for_finalize=True)


def test_missing_material_message_says_what_and_why():
    app = complete(valid_application(data_sharing__henan_hukou_before_enlistment=False))
    app.materials[6].original_seen = False
    msg = next(p.message for p in validate(app, today=TODAY, for_finalize=True) if p.field == "materials.6")
    assert "户口注销证明" in msg and "入伍前非河南户籍" in msg


# ---- bad input never raises ---------------------------------------------------------------
@pytest.mark.parametrize("bad", [None, 3, "text", [], {"items": "1,2"}, {"items": [99, "x"]},
                                 {"applicant": "nope"}, {"applicant": {"name": ["x"]}},
                                 {"materials": [{"number": 40}]}, {"photo": "not-a-hash"},
                                 {"hukou": {"household_type": "castle"}}])
def test_validate_never_raises_on_bad_input(bad):
    problems = validate(bad, today=TODAY)
    assert problems and all(p.message for p in problems)


def test_parse_keeps_good_fields_when_others_are_bad():
    app, problems = parse_application({"items": [1, 99], "applicant": {"name": "王芳", "phone": ["bad"]}})
    assert app.items == [1] and app.applicant.name == "王芳"
    assert {p.code for p in problems} >= {"unknown_item", "type"}


def test_choice_values_round_trip_through_json():
    from counter_app.application import application_from_dict, application_to_dict

    app = valid_application(hukou__restore_elsewhere=True)
    again = application_from_dict(application_to_dict(app))
    assert application_to_dict(again) == application_to_dict(app)
    assert again.pension.choice is PensionChoice.FLEXIBLE and again.veteran_affairs.intention is Intention.EMPLOYMENT
