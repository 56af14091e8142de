"""Valid applications to start each rule test from, changed one field at a time."""
from __future__ import annotations

import datetime as dt

from stdnum.cn import ric

from counter_app.application import (
    Applicant, Application, DataSharing, Hukou, Medical, Pension, VeteranAffairs,
)
from counter_app.scheme import (
    FamilyMode, HouseholdType, IdDocument, Intention, MedicalChoice, PensionChoice, RetirementType,
)

TODAY = dt.date(2026, 11, 30)


def idn(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


APPLICANT_ID = idn("41070219980216607")  # male (7 is odd), born 1998-02-16
HEAD_ID = idn("41070219650101002")


def valid_application(**changes) -> Application:
    app = Application(
        items=[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
        retirement_type=RetirementType.SELF_EMPLOYED,
        applicant=Applicant(
            name="刘建军", sex="男", birth_date="1998-02-16", ethnicity="汉", id_number=APPLICANT_ID,
            id_document=IdDocument.RESIDENT_ID_CARD, political_status="中共党员", education="大专",
            marital_status="未婚", phone="13803731234", backup_contact="刘国庆", backup_relation="父亲",
            backup_phone="0373-3021234", placement_place="河南省新乡市红旗区",
            current_address="河南省新乡市红旗区人民路100号3号楼2单元501", discharge_date="2026-09-05"),
        data_sharing=DataSharing(henan_hukou_before_enlistment=True, hukou_cancelled=True),
        veteran_affairs=VeteranAffairs(intention=Intention.EMPLOYMENT, settlement_letter=True),
        hukou=Hukou(pre_enlistment_address="河南省新乡市红旗区东关街道幸福社区12号",
                    household_type=HouseholdType.FAMILY, family_mode=FamilyMode.JOIN_RELATIVE,
                    relation_to_head="父亲", head_name="刘国庆", head_id_number=HEAD_ID, head_phone="13903730001",
                    target_address="河南省新乡市红旗区东关街道幸福社区12号", police_station="新乡市公安局红旗区分局东关派出所"),
        pension=Pension(choice=PensionChoice.FLEXIBLE, card_bank="中国工商银行新乡分行",
                        card_mailing_address="河南省新乡市红旗区人民路100号3号楼2单元501"),
        medical=Medical(choice=MedicalChoice.URBAN_RURAL, insured_city="新乡市", insured_county="红旗区",
                        insured_town="东关街道", insured_village="幸福社区", transfer_from="2016-09",
                        transfer_to="2026-09"),
        application_date=TODAY.isoformat(),
    )
    for path, value in changes.items():
        obj = app
        parts = path.split("__")
        for p in parts[:-1]:
            obj = getattr(obj, p)
        setattr(obj, parts[-1], value)
    return app


def complete(app: Application) -> Application:
    """Tick every original and add the photo and signature, so only the rule under test remains."""
    for n in range(2, 12):
        app.material(n).original_seen = True
    app.photo = "a" * 64
    app.signature = "b" * 64
    app.settlement_letter_scan = "c" * 64 if app.has_item(4) else None
    app.veteran_affairs.reserve_letter = "申请人已持有" if app.has_item(11) else ""
    return app
